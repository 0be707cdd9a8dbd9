// SPDX-License-Identifier: MIT
/*
 * bulwarkd's path record (drift.c), kept compact (front-coded paths, the
 * rule as a file and a line): it reads back what the compiler recorded,
 * prints the same state file it reads, and reports a drift once, across
 * a new record of the same policy too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/daemon/drift.h"
#include "../../src/daemon/log.h"
#include "../../src/lib/internal.h"

#define FILES 100

static char dir[] = "/tmp/bw-test-drift.XXXXXX";

static void compile(struct bw_policy **p, struct bw_compiled *c)
{
	char *text = NULL, *path = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (int i = 0; i < FILES; i++)
		fprintf(f, "deny exec %s/files/f%d\n", dir, i);
	fprintf(f, "audit exec %s/files/**\n", dir);
	fclose(f);
	assert_true(asprintf(&path, "%s/a.rules", dir) > 0);
	*p = bw_policy_new();
	bw_policy_load_buffer(*p, path, text, len);
	bw_policy_finish(*p);
	assert_int_equal(bw_compile(*p, c), 0);
	free(path);
	free(text);
}

static char *printed(const struct drift *dr)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(drift_print(dr, f), 0);
	fclose(f);
	return text;
}

static void test_record(void **state)
{
	struct drift dr, back;
	struct bw_policy *p;
	struct bw_compiled c;
	struct bw_resolved *v;
	struct bw_strpool strings;
	struct json_object *o, *ret;
	char *text, *again, where[PATH_MAX + 16], was[PATH_MAX + 16];

	(void)state;
	drift_init(&dr);
	drift_init(&back);
	compile(&p, &c);
	assert_int_equal(c.n_resolved, FILES + 1);
	/* a followed directory's earlier identity */
	c.resolved[0].retired = calloc(1, sizeof(*c.resolved[0].retired));
	c.resolved[0].retired[0][0] = 7;
	c.resolved[0].retired[0][1] = 4242;
	c.resolved[0].n_retired = 1;
	drift_set(&dr, c.resolved, c.n_resolved);
	assert_int_equal(dr.n, c.n_resolved);
	assert_null(dr.seen);

	/* What a compile that keeps identities reads: the compiler's record. */
	assert_int_equal(drift_resolved(&dr, &v, &strings), 0);
	for (size_t i = 0; i < dr.n; i++) {
		assert_string_equal(v[i].path, c.resolved[i].path);
		assert_string_equal(drift_where(&v[i], where, sizeof(where)),
				    drift_where(&c.resolved[i], was, sizeof(was)));
		assert_int_equal(v[i].kind, c.resolved[i].kind);
		assert_int_equal(v[i].dev, c.resolved[i].dev);
		assert_int_equal(v[i].ino, c.resolved[i].ino);
		assert_ptr_equal(bw_resolved_find(v, dr.n, v[i].kind, v[i].path), &v[i]);
	}
	assert_int_equal(v[0].n_retired, 1);
	assert_int_equal(v[0].retired[0][1], 4242);
	free(v);
	bw_strpool_free(&strings);
	ret = drift_retired_json(&dr);
	assert_int_equal(json_object_array_length(ret), 1);
	json_object_put(ret);

	/* The state file reads back as it was printed. */
	text = printed(&dr);
	assert_non_null(strstr(text, "a.rules:1\""));
	o = json_tokener_parse(text);
	assert_non_null(o);
	drift_from_json(&back, o);
	again = printed(&back);
	assert_string_equal(again, text);
	json_object_put(o);
	free(again);
	free(text);
	drift_free(&back);
	drift_free(&dr);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

static void test_reported_once(void **state)
{
	struct json_object *fresh = json_object_new_array();
	struct drift_report rep;
	struct bw_policy *p;
	struct bw_compiled c;
	struct drift dr;
	char path[PATH_MAX];

	(void)state;
	drift_init(&dr);
	compile(&p, &c);
	drift_set(&dr, c.resolved, c.n_resolved);
	rep = drift_scan(&dr, NULL, 0, fresh);
	assert_int_equal(rep.missing + rep.changed, 0);
	assert_null(dr.seen);

	snprintf(path, sizeof(path), "%s/files/f42", dir);
	assert_int_equal(unlink(path), 0);
	rep = drift_scan(&dr, NULL, 0, fresh);
	assert_int_equal(rep.missing, 1);
	assert_int_equal(json_object_array_length(fresh), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(fresh, 0), "path")), path);
	rep = drift_scan(&dr, NULL, 0, fresh);
	assert_int_equal(json_object_array_length(fresh), 1); /* once */

	/* A new record of the same identities: still reported. */
	drift_set(&dr, c.resolved, c.n_resolved);
	rep = drift_scan(&dr, NULL, 0, fresh);
	assert_int_equal(rep.missing, 1);
	assert_int_equal(json_object_array_length(fresh), 1);

	json_object_put(fresh);
	drift_free(&dr);
	bw_compiled_free(&c);
	bw_policy_free(p);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

/*
 * A policy spread over many files: each path keeps its own file, however
 * the files interleave in the record's path order, and each name is kept
 * once.
 */
static void test_many_files(void **state)
{
	struct bw_resolved in[FILES], *v;
	char paths[FILES][PATH_MAX], files[7][32];
	struct bw_strpool strings;
	struct drift dr;

	(void)state;
	drift_init(&dr);
	for (int f = 0; f < 7; f++)
		snprintf(files[f], sizeof(files[f]), "/etc/bulwark/r%d.rules", 6 - f);
	for (int i = 0; i < FILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/files/f%03d", dir, i);
		in[i] = (struct bw_resolved){ .path = paths[i], .file = files[(i * 3) % 7], .line = i + 1,
					      .dev = 1, .ino = (uint64_t)i + 10 };
	}
	drift_set(&dr, in, FILES);
	assert_int_equal(dr.n_files, 7);
	assert_int_equal(drift_resolved(&dr, &v, &strings), 0);
	for (int i = 0; i < FILES; i++) {
		assert_string_equal(v[i].path, paths[i]);
		assert_string_equal(v[i].file, files[(i * 3) % 7]);
		assert_int_equal(v[i].line, i + 1);
	}
	free(v);
	bw_strpool_free(&strings);
	drift_free(&dr);
}

static int setup(void **state)
{
	char path[PATH_MAX];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/files", dir);
	if (mkdir(path, 0755) < 0)
		return -1;
	for (int i = 0; i < FILES; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/files/f%d", dir, i);
		f = fopen(path, "w");
		if (!f)
			return -1;
		fclose(f);
	}
	return 0;
}

static int teardown(void **state)
{
	char *cmd = NULL;

	(void)state;
	if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_reported_once),
		cmocka_unit_test(test_many_files),
	};

	bw_log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
