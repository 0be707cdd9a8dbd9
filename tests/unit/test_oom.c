// SPDX-License-Identifier: MIT
/*
 * Out of memory at every allocation in turn. The library's own calls to
 * malloc, calloc, realloc, strdup, strndup and asprintf are wrapped
 * (-Wl,--wrap, see the Makefile); the N-th one fails, for N = 1, 2, ...
 * until a run needs fewer than N. Every run must return -ENOMEM (never
 * abort, never crash, never a silently different answer), and under
 * `make unit-test-asan` LeakSanitizer checks that none of the error
 * paths leaked.
 *
 * Allocations inside shared libraries (json-c, glibc's own realpath or
 * open_memstream) are not wrapped: those stay untested here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bulwark/bulwark.h>

#include "oom.h"

static char dir[64];
static char policy[128];

static void put(const char *rel, const char *text)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char path[192], text[2048];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/bw-test-oom.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/bin", dir);
	if (mkdir(path, 0755) < 0)
		return -1;
	put("bin/tool", "");
	put("bin/agent", "");
	/*
	 * Something of everything the parser and compiler allocate for:
	 * files, trees, selectors, classes, signals, reasons, tags, an
	 * include, a warning (a shadowed rule) and protection.
	 */
	snprintf(text, sizeof(text),
		 "mode enforce\n"
		 "deny exec %1$s/bin/**\n"
		 "allow exec %1$s/bin/tool from exe=%1$s/bin/agent uid=0 with tag=ok\n"
		 "audit exec /usr/bin/true from exe=%1$s/bin/** gid=root\n"
		 "deny exec /usr/bin/true\n"
		 "deny exec /usr/bin/true\n"
		 "deny signal exe=%1$s/bin/agent with signals=HUP,KILL\n"
		 "deny lockdown integrity from uid=1000\n"
		 "notify exec exit\n"
		 "protect %1$s/bin/** level=antimalware\n"
		 "include \"more.rules\"\n",
		 dir);
	put("main.rules", text);
	snprintf(text, sizeof(text), "deny write exe=%s/bin/tool from parent=%s/bin/agent\n", dir, dir);
	put("more.rules", text);
	snprintf(policy, sizeof(policy), "%s/main.rules", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int run_check(void *arg)
{
	char *diag = NULL;
	unsigned warnings = 0;
	int r = bw_policy_check(arg, &diag, &warnings);

	if (r == 0 && warnings != 1)
		r = -EPROTO; /* the shadowed rule's warning went missing */
	free(diag);
	return r;
}

static void test_check(void **state)
{
	unsigned long runs = 0;

	(void)state;
	every_allocation(run_check, policy, &runs);
	/* The policy above really exercises the allocator. */
	assert_true(runs > 50);
}

static int run_explain(void *arg)
{
	char query[256], *json = NULL, *diag = NULL;
	int r;

	snprintf(query, sizeof(query), "exec %s/bin/tool as exe=%s/bin/agent uid=0", dir, dir);
	r = bw_policy_explain(arg, query, &json, &diag);
	if (r == 0 && (!json || !strstr(json, "\"allow\"")))
		r = -EPROTO;
	free(json);
	free(diag);
	return r;
}

static void test_explain(void **state)
{
	unsigned long runs = 0;

	(void)state;
	every_allocation(run_explain, policy, &runs);
	assert_true(runs > 50);
}

static char key_pub[128], key_sec[128];

static int run_sign(void *arg)
{
	char *payload = NULL, *hex = NULL;
	int r = bw_sign(key_sec, "policy", 7, arg, &payload);

	if (r == 0 && (!payload || !strstr(payload, "version 7")))
		r = -EPROTO;
	free(payload);
	if (r == 0)
		r = bw_key_read_public(key_pub, &hex);
	free(hex);
	return r;
}

static void test_sign(void **state)
{
	unsigned long runs = 0;

	(void)state;
	snprintf(key_pub, sizeof(key_pub), "%s/admin.pub", dir);
	snprintf(key_sec, sizeof(key_sec), "%s/admin.key", dir);
	assert_int_equal(bw_key_generate(key_pub, key_sec), 0);
	every_allocation(run_sign, policy, &runs);
	assert_true(runs > 10); /* the policy is parsed for its hash */
}

static int run_client_new(void *arg)
{
	struct bw_client_opts o = { .sz = sizeof(o), .socket_path = arg };
	struct bw_client *c = NULL;
	int r = bw_client_new(&c, &o);

	bw_client_free(c);
	return r == -ENOENT ? 0 : r;
}

static void test_client_new(void **state)
{
	unsigned long runs = 0;

	(void)state;
	every_allocation(run_client_new, "/nonexistent-bulwark-test/sock", &runs);
	assert_true(runs >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_client_new),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
