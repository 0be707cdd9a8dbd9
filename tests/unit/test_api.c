// SPDX-License-Identifier: MIT
/*
 * The public API's contract, as a vendor relies on it (docs/api.md,
 * "Stability and quality"): options structs are read no further than the
 * caller's sz, unknown non-zero tails are refused, failures leave ret_
 * out-parameters alone, and the library's version is what its header says.
 *
 * An "old caller" is simulated honestly: its struct ends at the end of a
 * page and the next page is inaccessible, so a library that read one byte
 * past sz would crash here instead of passing by luck.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bulwark/bulwark.h>

#define NO_SOCKET "/nonexistent-bulwark-test/bulwarkd.sock"

static long page;
static char *guard; /* two pages: the first read-write, the second PROT_NONE */

static int setup(void **state)
{
	(void)state;
	page = sysconf(_SC_PAGESIZE);
	guard = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED)
		return -1;
	return mprotect(guard + page, page, PROT_NONE);
}

static int teardown(void **state)
{
	(void)state;
	return munmap(guard, 2 * page);
}

/* A copy of the first sz bytes of *opts that ends exactly where readable memory ends. */
static void *at_page_end(const void *opts, size_t sz)
{
	char *p = guard + page - sz;

	memset(guard, 0xa5, page); /* garbage before it, as on a real stack */
	memcpy(p, opts, sz);
	return p;
}

struct logged {
	unsigned calls;
	char last[512];
};

static void on_log(void *ud, enum bw_log_level level, const char *msg)
{
	struct logged *l = ud;

	(void)level;
	l->calls++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
}

static void test_version(void **state)
{
	char want[32];

	(void)state;
	assert_int_equal(bw_version_major(), BULWARK_VERSION_MAJOR);
	assert_int_equal(bw_version_minor(), BULWARK_VERSION_MINOR);
	snprintf(want, sizeof(want), "%d.%d.%d", BULWARK_VERSION_MAJOR, BULWARK_VERSION_MINOR,
		 BULWARK_VERSION_PATCH);
	assert_string_equal(bw_version_string(), want);
}

/* A caller that knew only sz and socket_path: log and timeout are not read. */
static void test_client_opts_old_caller(void **state)
{
	struct bw_client_opts full = { .sz = offsetof(struct bw_client_opts, log),
				       .socket_path = NO_SOCKET };
	struct bw_client *c = (struct bw_client *)&full; /* a sentinel: must stay */
	struct bw_client_opts *old = at_page_end(&full, full.sz);

	(void)state;
	assert_int_equal(bw_client_new(&c, old), -ENOENT);
	assert_ptr_equal(c, (struct bw_client *)&full);
}

/* sz covering log: it is read and used; timeout_ms past sz is not. */
static void test_client_opts_log_read_when_covered(void **state)
{
	struct logged l = { 0 };
	struct bw_client_opts full = { .sz = offsetof(struct bw_client_opts, timeout_ms),
				       .socket_path = NO_SOCKET,
				       .log = on_log,
				       .log_userdata = &l };
	struct bw_client *c = NULL;

	(void)state;
	assert_int_equal(bw_client_new(&c, at_page_end(&full, full.sz)), -ENOENT);
	assert_null(c);
	assert_int_equal(l.calls, 1);
	assert_non_null(strstr(l.last, NO_SOCKET));
}

/* The same log fields, but sz stops before them: the callback is never called. */
static void test_client_opts_log_not_read_past_sz(void **state)
{
	struct logged l = { 0 };
	struct bw_client_opts full = { .sz = offsetof(struct bw_client_opts, log),
				       .socket_path = NO_SOCKET,
				       .log = on_log,
				       .log_userdata = &l };
	struct bw_client *c = NULL;

	(void)state;
	/* Here the fields are in readable memory: only sz keeps them out. */
	assert_int_equal(bw_client_new(&c, &full), -ENOENT);
	assert_int_equal(l.calls, 0);
}

/* A newer caller: a longer struct is fine while what we do not know is zero. */
static void test_client_opts_newer_caller(void **state)
{
	struct {
		struct bw_client_opts o;
		uint64_t future[2];
	} newer;
	struct bw_client *c = NULL;

	(void)state;
	memset(&newer, 0, sizeof(newer));
	newer.o.sz = sizeof(newer);
	newer.o.socket_path = NO_SOCKET;
	assert_int_equal(bw_client_new(&c, at_page_end(&newer, sizeof(newer))), -ENOENT);

	newer.future[1] = 1; /* a field this library does not know, set: refused */
	assert_int_equal(bw_client_new(&c, at_page_end(&newer, sizeof(newer))), -EINVAL);
	assert_null(c);
}

static void test_client_opts_too_small(void **state)
{
	struct bw_client_opts o = { .sz = sizeof(size_t) - 1, .socket_path = NO_SOCKET };
	struct bw_client *c = NULL;

	(void)state;
	assert_int_equal(bw_client_new(&c, &o), -EINVAL);
	o.sz = 0;
	assert_int_equal(bw_client_new(&c, &o), -EINVAL);
	assert_null(c);
	assert_int_equal(bw_client_new(NULL, NULL), -EINVAL);
	bw_client_free(NULL);
}

/*
 * bw_policy_check_ext: a rule naming a file that exists only inside an
 * image root. With the root read, the policy checks clean; when sz stops
 * before `root`, the host is checked and the rule's file is missing.
 */
static char img[64];
static char policy[96];

static int setup_image(void **state)
{
	char path[160];
	FILE *f;

	(void)state;
	snprintf(img, sizeof(img), "/tmp/bw-test-api.XXXXXX");
	if (!mkdtemp(img))
		return -1;
	snprintf(path, sizeof(path), "%s/only-in-image", img);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fclose(f);
	snprintf(policy, sizeof(policy), "%s/image.rules", img);
	f = fopen(policy, "w");
	if (!f)
		return -1;
	fputs("deny exec /only-in-image\n", f);
	fclose(f);
	return 0;
}

static int teardown_image(void **state)
{
	char path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/only-in-image", img);
	unlink(path);
	unlink(policy);
	return rmdir(img);
}

static void test_check_opts(void **state)
{
	struct bw_policy_check_opts o = { .sz = sizeof(o), .root = img };
	char *diag = NULL;
	unsigned warnings = 99;

	(void)state;
	assert_int_equal(bw_policy_check_ext(policy, &o, &diag, &warnings), 0);
	assert_int_equal(warnings, 0);
	free(diag);
	diag = NULL;

	/* The same through the 0.2 entry point and through an old caller's struct. */
	assert_int_equal(bw_policy_check_root(policy, img, NULL, NULL), 0);
	o.sz = sizeof(size_t);
	assert_int_equal(bw_policy_check_ext(policy, at_page_end(&o, o.sz), &diag, NULL), -EINVAL);
	assert_non_null(diag);
	assert_non_null(strstr(diag, "/only-in-image"));
	free(diag);
	diag = NULL;

	/* NULL opts: this host, as bw_policy_check. */
	assert_int_equal(bw_policy_check_ext(policy, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(bw_policy_check(policy, NULL, NULL), -EINVAL);
}

static void test_check_opts_unknown_tail(void **state)
{
	struct {
		struct bw_policy_check_opts o;
		char future[8];
	} newer;
	char *diag = (char *)&newer; /* a sentinel: must stay */

	(void)state;
	memset(&newer, 0, sizeof(newer));
	newer.o.sz = sizeof(newer);
	newer.o.root = img;
	assert_int_equal(bw_policy_check_ext(policy, at_page_end(&newer, sizeof(newer)), &diag, NULL),
			 0);
	free(diag);
	diag = (char *)&newer;
	newer.future[7] = 'x';
	assert_int_equal(bw_policy_check_ext(policy, at_page_end(&newer, sizeof(newer)), &diag, NULL),
			 -EINVAL);
	assert_ptr_equal(diag, (char *)&newer);
	newer.o.sz = 4;
	assert_int_equal(bw_policy_check_ext(policy, &newer.o, &diag, NULL), -EINVAL);
	assert_ptr_equal(diag, (char *)&newer);
}

/*
 * The offline calls are documented thread-safe: the same policy checked,
 * explained and hashed for signing from several threads at once, each
 * answer as a single thread gets it. (Names are looked up with
 * getpwnam_r: getpwnam's static buffer would be shared.)
 */
static char threads_policy[128];

static void *offline_loop(void *arg)
{
	struct bw_policy_check_opts o = { .sz = sizeof(o), .root = img };
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 20; i++) {
		char *json = NULL, *diag = NULL;

		if (bw_policy_check(threads_policy, NULL, NULL) != 0 ||
		    bw_policy_check_ext(policy, &o, NULL, NULL) != 0)
			bad++;
		if (bw_policy_explain(threads_policy, "exec /bin/sh as uid=0 gid=0", &json, &diag) != 0 ||
		    !strstr(json, "\"deny\""))
			bad++;
		free(json);
		free(diag);
	}
	return (void *)bad;
}

static void test_offline_threads(void **state)
{
	pthread_t t[4];
	void *r;
	FILE *f;

	(void)state;
	snprintf(threads_policy, sizeof(threads_policy), "%s/threads.rules", img);
	f = fopen(threads_policy, "w");
	assert_non_null(f);
	fputs("deny exec /bin/sh from uid=root gid=root\nallow exec /bin/sh from uid=nobody\n", f);
	fclose(f);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, offline_loop, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	unlink(threads_policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_client_opts_old_caller),
		cmocka_unit_test(test_client_opts_log_read_when_covered),
		cmocka_unit_test(test_client_opts_log_not_read_past_sz),
		cmocka_unit_test(test_client_opts_newer_caller),
		cmocka_unit_test(test_client_opts_too_small),
		cmocka_unit_test_setup_teardown(test_check_opts, setup_image, teardown_image),
		cmocka_unit_test_setup_teardown(test_check_opts_unknown_tail, setup_image, teardown_image),
		cmocka_unit_test_setup_teardown(test_offline_threads, setup_image, teardown_image),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
