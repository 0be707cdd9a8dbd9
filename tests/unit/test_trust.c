// SPDX-License-Identifier: MIT
/* The trust database: paths, what -r records, remove ranges, verify, dpkg import. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nettle/md5.h>
#include <sodium.h>
#include <sqlite3.h>

#include "../../src/lib/trust.h"

static char dir[64];

/* What a run reported, one "path: reason" per line; notes marked. */
struct seen {
	char text[8192];
	unsigned failures, notes;
};

static void on_problem(void *ud, const char *path, const char *reason, bool is_failure)
{
	struct seen *s = ud;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s%s: %s\n", is_failure ? "" : "note ",
		 path, reason);
	if (is_failure)
		s->failures++;
	else
		s->notes++;
}

static void put(const char *rel, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

/* Every at() path, freed by teardown: the sanitized run checks for leaks. */
static char *kept[512];
static size_t n_kept;

/* dir/rel, kept for the whole run: tests hold several at once. */
static char *at(const char *rel)
{
	char *b = NULL;

	assert_true(n_kept < sizeof(kept) / sizeof(kept[0]));
	assert_true(asprintf(&b, "%s/%s", dir, rel) > 0);
	kept[n_kept++] = b;
	return b;
}

static struct bw_trust *open_db(const char *name)
{
	struct bw_trust *t = NULL;
	char err[256];

	assert_int_equal(bw_trust_open(&t, at(name), BW_TRUST_WRITE, err, sizeof(err)), 0);
	return t;
}

static int count_cb(void *ud, const struct bw_trust_record *r)
{
	(void)r;
	(*(size_t *)ud)++;
	return 0;
}

static size_t count(struct bw_trust *t)
{
	size_t n = 0;

	assert_int_equal(bw_trust_foreach(t, count_cb, &n), 0);
	return n;
}

static int first_cb(void *ud, const struct bw_trust_record *r)
{
	struct bw_trust_record *out = ud;
	static char path[PATH_MAX], source[256];

	*out = *r;
	snprintf(path, sizeof(path), "%s", r->path);
	snprintf(source, sizeof(source), "%s", r->source);
	out->path = path;
	out->source = source;
	return 1;
}

/* The entry for a path, found by the file's inode as the daemon will. */
static bool lookup(struct bw_trust *t, const char *path, struct bw_trust_record *out)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	return bw_trust_find_inode(t, st.st_dev, st.st_ino, first_cb, out) == 1;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/bw-trust-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	while (n_kept)
		free(kept[--n_kept]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_abspath(void **state)
{
	char *p = NULL, cwd[PATH_MAX], want[PATH_MAX + 8], *longp;

	(void)state;
	assert_int_equal(bw_trust_abspath("/a//b/./c/", &p), 0);
	assert_string_equal(p, "/a/b/c");
	free(p);
	assert_int_equal(bw_trust_abspath("/a/b/../../../c", &p), 0);
	assert_string_equal(p, "/c");
	free(p);
	assert_int_equal(bw_trust_abspath("/..", &p), 0);
	assert_string_equal(p, "/");
	free(p);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(bw_trust_abspath("x/y", &p), 0);
	snprintf(want, sizeof(want), "%s/x/y", strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(p, want);
	free(p);
	assert_int_equal(bw_trust_abspath("", &p), -EINVAL);
	/* Too long is an error, never a shorter path. */
	longp = malloc(PATH_MAX + 2);
	memset(longp, 'a', PATH_MAX + 1);
	longp[0] = '/';
	longp[PATH_MAX + 1] = '\0';
	assert_int_equal(bw_trust_abspath(longp, &p), -ENAMETOOLONG);
	free(longp);
}

static void test_add_tree_records_code_only(void **state)
{
	struct bw_trust *t = open_db("a.db");
	struct bw_trust_stats st = {0};
	struct seen seen = {0};
	struct bw_trust_run run = {.problem = on_problem, .ud = &seen, .threads = 2};
	struct bw_trust_record rec;
	char *paths[] = {at("tree")};
	uint8_t want[32];
	size_t n_same;
	const char *script = "#!/bin/sh\necho hi\n";

	(void)state;
	assert_int_equal(mkdir(at("tree"), 0755), 0);
	assert_int_equal(mkdir(at("tree/sub"), 0755), 0);
	put("tree/run.sh", script, 0755);
	put("tree/sub/lib.so", "\177ELF fake shared object", 0644);
	put("tree/noexec-script", "#!/usr/bin/python3\n", 0644);
	put("tree/notes.txt", "just text\n", 0644);
	assert_int_equal(symlink("/bin/sh", at("tree/link-out")), 0);
	assert_int_equal(mkfifo(at("tree/fifo"), 0600), 0);

	assert_int_equal(bw_trust_add(t, paths, 1, true, &run, &st), 0);
	assert_int_equal(st.trusted, 3);
	assert_int_equal(st.failed, 0);
	assert_true(st.skipped >= 3); /* text, symlink, fifo */
	assert_int_equal(count(t), 3);

	assert_true(lookup(t, at("tree/run.sh"), &rec));
	assert_string_equal(rec.path, at("tree/run.sh"));
	assert_string_equal(rec.source, "manual");
	assert_int_equal(rec.size, strlen(script));
	crypto_hash_sha256(want, (const unsigned char *)script, strlen(script));
	assert_memory_equal(rec.sha256, want, 32);
	/* The other lookup the daemon needs: by content. */
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(bw_trust_find_sha256(t, want, first_cb, &rec), 1);
	assert_string_equal(rec.path, at("tree/run.sh"));
	assert_true(lookup(t, at("tree/sub/lib.so"), &rec));
	assert_true(lookup(t, at("tree/noexec-script"), &rec));
	assert_false(lookup(t, at("tree/notes.txt"), &rec));
	assert_int_equal(bw_trust_check(t), 0);

	/* A symlinked directory named with -r is walked, under the name given (/bin -> usr/bin). */
	assert_int_equal(symlink("tree", at("tree-link")), 0);
	paths[0] = at("tree-link");
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_add(t, paths, 1, true, &run, &st), 0);
	assert_int_equal(st.trusted, 3);
	assert_int_equal(count(t), 6);
	/* One content under two names: the lookup by hash returns both. */
	n_same = 0;
	assert_int_equal(bw_trust_find_sha256(t, want, count_cb, &n_same), 0);
	assert_int_equal(n_same, 2);
	bw_trust_close(t);
}

static void test_add_named(void **state)
{
	struct bw_trust *t = open_db("b.db");
	struct bw_trust_stats st = {0};
	struct seen seen = {0};
	struct bw_trust_run run = {.problem = on_problem, .ud = &seen};
	struct bw_trust_record rec;
	char *longp = malloc(PATH_MAX + 16);
	char *paths[] = {at("named/text"), at("named/link"), at("named"),
			 at("named/none"), at("named/fifo"), longp};
	struct stat target;

	(void)state;
	assert_int_equal(mkdir(at("named"), 0755), 0);
	put("named/text", "a named file is trusted whatever it holds\n", 0644);
	put("named/target", "#!/bin/sh\n", 0755);
	assert_int_equal(symlink("target", at("named/link")), 0);
	assert_int_equal(mkfifo(at("named/fifo"), 0600), 0);
	memset(longp, 'x', PATH_MAX + 8);
	longp[0] = '/';
	longp[PATH_MAX + 8] = '\0';

	assert_int_equal(bw_trust_add(t, paths, 6, false, &run, &st), 0);
	assert_int_equal(st.trusted, 2);
	assert_int_equal(st.failed, 4);
	assert_non_null(strstr(seen.text, "/named: is a directory (use -r)\n"));
	assert_non_null(strstr(seen.text, "/named/none: No such file or directory\n"));
	assert_non_null(strstr(seen.text, "/named/fifo: not a regular file\n"));
	assert_non_null(strstr(seen.text, ": path longer than PATH_MAX\n"));
	/* A symlink: the path given, the target's inode and content. */
	assert_int_equal(stat(at("named/target"), &target), 0);
	assert_true(lookup(t, at("named/target"), &rec));
	assert_string_equal(rec.path, at("named/link"));
	assert_int_equal(rec.ino, target.st_ino);
	free(longp);
	bw_trust_close(t);
}

static void test_remove_ranges(void **state)
{
	struct bw_trust *t = open_db("c.db");
	struct bw_trust_stats st = {0};
	struct seen seen = {0};
	struct bw_trust_run run = {.problem = on_problem, .ud = &seen};
	char *add[] = {at("rm/a/x"), at("rm/a/deep/y"), at("rm/ab/z"), at("rm/a0")};
	char *below_a[] = {at("rm/a")};
	char *one[] = {at("rm/ab/z")};
	char *absent[] = {at("rm/nothing")};

	(void)state;
	assert_int_equal(mkdir(at("rm"), 0755), 0);
	assert_int_equal(mkdir(at("rm/a"), 0755), 0);
	assert_int_equal(mkdir(at("rm/a/deep"), 0755), 0);
	assert_int_equal(mkdir(at("rm/ab"), 0755), 0);
	put("rm/a/x", "x", 0755);
	put("rm/a/deep/y", "y", 0755);
	put("rm/ab/z", "z", 0755);
	put("rm/a0", "0", 0755);
	assert_int_equal(bw_trust_add(t, add, 4, false, &run, &st), 0);
	assert_int_equal(count(t), 4);

	/* Below rm/a only: not rm/ab/..., not rm/a0. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_remove(t, below_a, 1, true, &run, &st), 0);
	assert_int_equal(st.removed, 2);
	assert_int_equal(count(t), 2);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_remove(t, one, 1, false, &run, &st), 0);
	assert_int_equal(st.removed, 1);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_remove(t, absent, 1, false, &run, &st), 0);
	assert_int_equal(st.failed, 1);
	assert_non_null(strstr(seen.text, "/rm/nothing: not in the trust database\n"));
	assert_int_equal(count(t), 1);
	bw_trust_close(t);
}

static void test_verify(void **state)
{
	struct bw_trust *t = open_db("d.db");
	struct bw_trust_stats st = {0};
	struct seen seen = {0};
	struct bw_trust_run run = {.problem = on_problem, .ud = &seen};
	char *paths[] = {at("v/same"), at("v/changed"), at("v/gone"), at("v/copied")};

	(void)state;
	assert_int_equal(mkdir(at("v"), 0755), 0);
	put("v/same", "same", 0755);
	put("v/changed", "before", 0755);
	put("v/gone", "gone", 0755);
	put("v/copied", "copied", 0755);
	assert_int_equal(bw_trust_add(t, paths, 4, false, &run, &st), 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_verify(t, &run, &st), 0);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.examined, 4);

	put("v/changed", "after", 0755);
	assert_int_equal(unlink(at("v/gone")), 0);
	/* Same bytes in a new inode, as an upgrade that did not change the file leaves it. */
	assert_int_equal(rename(at("v/copied"), at("v/old")), 0);
	put("v/copied", "copied", 0755);
	memset(&st, 0, sizeof(st));
	seen.text[0] = '\0';
	assert_int_equal(bw_trust_verify(t, &run, &st), 0);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.missing, 1);
	assert_int_equal(st.notes, 1);
	assert_non_null(strstr(seen.text, "/v/changed: changed: sha256 is now "));
	assert_non_null(strstr(seen.text, "/v/gone: missing\n"));
	assert_non_null(strstr(seen.text, "note "));
	bw_trust_close(t);
}

static void test_open_errors(void **state)
{
	struct bw_trust *t = NULL;
	char err[256];
	sqlite3 *db;

	(void)state;
	/* Reading never creates. */
	assert_int_equal(bw_trust_open(&t, at("absent.db"), BW_TRUST_READ, err, sizeof(err)),
			 -ENOENT);
	assert_null(t);
	assert_int_equal(access(at("absent.db"), F_OK), -1);
	/* Someone else's SQLite file is not ours to write into. */
	assert_int_equal(sqlite3_open(at("other.db"), &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "CREATE TABLE x (y); PRAGMA application_id = 7", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(bw_trust_open(&t, at("other.db"), BW_TRUST_WRITE, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a bulwark trust database"));
	put("garbage.db", "this is not a database, it is text of some length to be sure......",
	    0644);
	assert_true(bw_trust_open(&t, at("garbage.db"), BW_TRUST_WRITE, err, sizeof(err)) < 0);
	/* The directory is made on a first run. */
	assert_int_equal(bw_trust_open(&t, at("newdir/trust.db"), BW_TRUST_WRITE, err, sizeof(err)),
			 0);
	bw_trust_close(t);
}

static void md5_hex(const char *s, char out[33])
{
	struct md5_ctx c;
	uint8_t d[16];

	md5_init(&c);
	md5_update(&c, strlen(s), (const uint8_t *)s);
	md5_digest(&c, 16, d);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A fake dpkg admindir whose packages own files in the test directory. */
static void write_md5sums(const char *pkgkey, const char *const *files, const char *const *contents,
			  size_t n)
{
	char p[PATH_MAX], hex[33];
	FILE *f;

	snprintf(p, sizeof(p), "%s/dpkg/info/%s.md5sums", dir, pkgkey);
	f = fopen(p, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		md5_hex(contents[i], hex);
		/* dpkg writes paths relative to / */
		fprintf(f, "%s  %s\n", hex, at(files[i]) + 1);
	}
	fclose(f);
}

static void write_status(bool with_beta)
{
	char p[PATH_MAX], hex_ok[33], hex_conf[33];
	FILE *f;

	md5_hex("#!/bin/sh\n# conffile as shipped\n", hex_ok);
	md5_hex("#!/bin/sh\n# edited conffile as shipped\n", hex_conf);
	snprintf(p, sizeof(p), "%s/dpkg/status", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "Package: alpha\nStatus: install ok installed\nPriority: optional\n"
	    "Architecture: amd64\nMulti-Arch: same\nVersion: 1.0\nDescription: a\n two lines\n\n");
	if (with_beta)
		fprintf(
		    f,
		    "Package: beta\nStatus: install ok installed\nArchitecture: all\nVersion: 2\n"
		    "Conffiles:\n %s %s\n %s %s\n %s 0123456789abcdef0123456789abcdef obsolete\n"
		    "Description: b\n\n",
		    at("pkg/etc-ok"), hex_ok, at("pkg/etc-edited"), hex_conf, at("pkg/etc-old"));
	fprintf(f, "Package: gamma\nStatus: deinstall ok config-files\nArchitecture: "
		   "amd64\nVersion: 3\n\n");
	fclose(f);
}

static void test_import_dpkg(void **state)
{
	struct bw_trust *t = open_db("e.db");
	struct bw_trust_stats st = {0};
	struct seen seen = {0};
	struct bw_trust_run run = {.problem = on_problem, .ud = &seen};
	struct bw_trust_record rec;
	const char *alpha_files[] = {"pkg/bin-a", "pkg/lib-a.so", "pkg/doc-a", "pkg/tampered",
				     "pkg/absent"};
	const char *alpha_data[] = {"#!/bin/sh\na\n", "\177ELF a", "docs", "#!/bin/sh\nshipped\n",
				    "x"};
	const char *beta_files[] = {"pkg/bin-b"};
	const char *beta_data[] = {"#!/bin/sh\nb\n"};
	const char *only_beta[] = {"beta"}, *only_alpha[] = {"alpha"}, *only_nope[] = {"delta"};
	char admindir[PATH_MAX];
	struct timeval later[2] = {{1000000000, 0}, {1000000000, 0}};

	(void)state;
	snprintf(admindir, sizeof(admindir), "%s/dpkg", dir);
	assert_int_equal(mkdir(at("pkg"), 0755), 0);
	assert_int_equal(mkdir(at("dpkg"), 0755), 0);
	assert_int_equal(mkdir(at("dpkg/info"), 0755), 0);
	put("pkg/bin-a", alpha_data[0], 0755);
	put("pkg/lib-a.so", alpha_data[1], 0644);
	put("pkg/doc-a", alpha_data[2], 0644);
	put("pkg/tampered", "#!/bin/sh\nhand-modified\n", 0755);
	put("pkg/bin-b", beta_data[0], 0755);
	put("pkg/etc-ok", "#!/bin/sh\n# conffile as shipped\n", 0755);
	put("pkg/etc-edited", "#!/bin/sh\n# edited by the admin\n", 0755);
	write_md5sums("alpha:amd64", alpha_files, alpha_data, 5);
	write_md5sums("beta", beta_files, beta_data, 1);
	write_status(true);

	assert_int_equal(bw_trust_import_dpkg(t, admindir, false, NULL, 0, &run, &st), 0);
	assert_int_equal(st.packages, 2); /* gamma left only its config files */
	assert_int_equal(st.trusted, 4);  /* bin-a, lib-a.so, bin-b, etc-ok */
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.notes, 1);
	assert_int_equal(st.missing, 1);
	assert_non_null(
	    strstr(seen.text,
		   "/pkg/tampered: does not match dpkg's md5sum for alpha:amd64; not trusted\n"));
	assert_non_null(strstr(seen.text, "note "));
	assert_non_null(
	    strstr(seen.text, "/pkg/etc-edited: conffile changed since beta installed it"));
	assert_true(lookup(t, at("pkg/bin-a"), &rec));
	assert_string_equal(rec.source, "dpkg:alpha:amd64");
	assert_true(lookup(t, at("pkg/etc-ok"), &rec));
	assert_string_equal(rec.source, "dpkg:beta");
	assert_false(lookup(t, at("pkg/tampered"), &rec));
	assert_false(lookup(t, at("pkg/doc-a"), &rec));

	/* --changed: beta is unchanged; alpha had a rejected file, so it is checked again. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, true, NULL, 0, &run, &st), 0);
	assert_int_equal(st.packages, 1);
	assert_int_equal(st.failed, 1);
	/* Repaired (a reinstall), it passes, and then nothing is checked again. */
	put("pkg/tampered", alpha_data[3], 0755);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, true, NULL, 0, &run, &st), 0);
	assert_int_equal(st.packages, 1);
	assert_int_equal(st.failed, 0);
	assert_true(lookup(t, at("pkg/tampered"), &rec));
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, true, NULL, 0, &run, &st), 0);
	assert_int_equal(st.packages, 0);
	assert_int_equal(st.examined, 0);

	/* --package: only the packages named (name, or name:arch); others' entries stay. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, false, only_nope, 1, &run, &st),
			 -ENOENT);
	assert_int_equal(st.examined, 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, false, only_beta, 1, &run, &st), 0);
	assert_int_equal(st.packages, 1);
	assert_int_equal(st.trusted, 2); /* bin-b, etc-ok */
	assert_true(lookup(t, at("pkg/bin-a"), &rec));
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, false, only_alpha, 1, &run, &st), 0);
	assert_int_equal(st.packages, 1);
	assert_int_equal(st.trusted, 3); /* bin-a, lib-a.so, tampered (repaired) */
	assert_true(lookup(t, at("pkg/etc-ok"), &rec));

	/* An upgrade of alpha that drops lib-a.so: its entry goes, bin-a is kept. */
	write_md5sums("alpha:amd64", alpha_files, alpha_data, 1);
	assert_int_equal(utimes(at("dpkg/info/alpha:amd64.md5sums"), later), 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, true, NULL, 0, &run, &st), 0);
	assert_int_equal(st.packages, 1);
	assert_int_equal(st.trusted, 1);
	assert_true(lookup(t, at("pkg/bin-a"), &rec));
	assert_false(lookup(t, at("pkg/lib-a.so"), &rec));

	/* beta removed: its files are forgotten. */
	write_status(false);
	memset(&st, 0, sizeof(st));
	assert_int_equal(bw_trust_import_dpkg(t, admindir, true, NULL, 0, &run, &st), 0);
	assert_false(lookup(t, at("pkg/bin-b"), &rec));
	assert_false(lookup(t, at("pkg/etc-ok"), &rec));
	assert_int_equal(count(t), 1);
	assert_int_equal(bw_trust_check(t), 0);
	bw_trust_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_abspath),	cmocka_unit_test(test_add_tree_records_code_only),
	    cmocka_unit_test(test_add_named),	cmocka_unit_test(test_remove_ranges),
	    cmocka_unit_test(test_verify),	cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_import_dpkg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
