// SPDX-License-Identifier: MIT
/* Event records to JSON: every field, escaping, bounds, rule tables. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/lib/internal.h"

/* Freed by the test (bw_rule_table_free). */
static struct bw_rule_table table(void)
{
	struct bw_rule_table t = { 0 };

	assert_int_equal(bw_rule_table_add(&t, "/etc/bulwark/a.rules", 3, 1, "mode audit"), 0);
	assert_int_equal(bw_rule_table_add(&t, "/etc/bulwark/a.rules", 7, 1, "deny exec /opt/**"), 0);
	strcpy(t.sha256, "ab");
	return t;
}

static struct bw_event sample(void)
{
	struct bw_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = 1500000000ull; /* 1.5 s after boot */
	e.type = BW_EV_DECISION;
	e.op = BW_OP_EXEC;
	e.verdict = BW_VERDICT_DENY;
	e.action = BW_ACTION_BLOCKED;
	e.rule_id = 2;
	e.pid = 101;
	e.tgid = 100;
	e.ppid = 1;
	e.uid = 1000;
	e.gid = 1001;
	e.hook = BW_HOOK_EXEC;
	e.policy_gen = 4;
	e.target_dev = (8ull << 20) | 1;
	e.target_ino = 4242;
	strcpy(e.comm, "bash");
	strcpy(e.exe, "/usr/bin/bash");
	strcpy(e.path, "/opt/x/tool");
	return e;
}

static const char *get(struct json_object *o, const char *path)
{
	char buf[128], *save = NULL, *k;
	struct json_object *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(v, k, &v))
			return NULL;
	return json_object_is_type(v, json_type_null) ? "null" : json_object_get_string(v);
}

static void test_fields(void **state)
{
	struct bw_rule_table t = table();
	struct bw_event e = sample();
	/* boot + 1.5 s = 2026-11-24T00:00:01.5Z */
	struct json_object *o = bw_event_to_json(&e, &t, 1795478400ll * 1000000000ll);

	(void)state;
	assert_string_equal(get(o, "time"), "2026-11-24T00:00:01.500000000Z");
	assert_string_equal(get(o, "type"), "decision");
	assert_string_equal(get(o, "op"), "exec");
	assert_string_equal(get(o, "via"), "execve");
	assert_string_equal(get(o, "decision"), "deny");
	assert_string_equal(get(o, "action"), "blocked");
	assert_string_equal(get(o, "mode"), "enforce");
	assert_string_equal(get(o, "process.pid"), "100");
	assert_string_equal(get(o, "process.tid"), "101");
	assert_string_equal(get(o, "process.ppid"), "1");
	assert_string_equal(get(o, "process.uid"), "1000");
	assert_string_equal(get(o, "process.gid"), "1001");
	assert_string_equal(get(o, "process.comm"), "bash");
	assert_string_equal(get(o, "process.exe"), "/usr/bin/bash");
	assert_string_equal(get(o, "target.path"), "/opt/x/tool");
	assert_string_equal(get(o, "target.dev"), "8:1");
	assert_string_equal(get(o, "target.ino"), "4242");
	assert_string_equal(get(o, "rule.id"), "2");
	assert_string_equal(get(o, "rule.file"), "/etc/bulwark/a.rules");
	assert_string_equal(get(o, "rule.line"), "7");
	assert_string_equal(get(o, "rule.text"), "deny exec /opt/**");
	assert_string_equal(get(o, "policy_generation"), "4");
	assert_int_equal(json_object_array_length(json_object_object_get(o, "flags")), 0);
	json_object_put(o);
	bw_rule_table_free(&t);
}

static void test_audit_and_flags(void **state)
{
	struct bw_rule_table t = table();
	struct bw_event e = sample();
	struct json_object *o, *flags;

	(void)state;
	e.action = BW_ACTION_WOULD_BLOCK;
	e.hook = BW_HOOK_MPROTECT;
	e.rule_id = 0;
	e.flags = BW_EVF_PATH_ERR | BW_EVF_EXE_UNKNOWN | BW_EVF_WALK_LIMIT;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "action"), "would-deny");
	assert_string_equal(get(o, "mode"), "audit");
	assert_string_equal(get(o, "via"), "mprotect");
	assert_string_equal(get(o, "rule"), "null");
	assert_string_equal(get(o, "target.path"), "null");
	assert_string_equal(get(o, "process.exe"), "null");
	flags = json_object_object_get(o, "flags");
	assert_int_equal(json_object_array_length(flags), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(flags, 0)), "path-unresolved");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(flags, 1)), "exe-unknown");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(flags, 2)), "walk-limit");
	json_object_put(o);

	/* A rule id the table does not know: the id, nothing invented. */
	e = sample();
	e.rule_id = 99;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "rule.id"), "99");
	assert_null(get(o, "rule.file"));
	json_object_put(o);
	bw_rule_table_free(&t);
}

/* Hostile strings survive a round trip; fixed arrays are never overrun. */
static void test_escaping_and_bounds(void **state)
{
	struct bw_event e = sample();
	struct json_object *o, *back;
	const char *text;

	(void)state;
	memset(e.comm, 'C', sizeof(e.comm)); /* no terminator */
	strcpy(e.path, "/tmp/\"quoted\"\n\\back\x01\xc3\xa9");
	memset(e.exe, 'x', sizeof(e.exe)); /* no terminator */
	o = bw_event_to_json(&e, NULL, 0);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	back = json_tokener_parse(text);
	assert_non_null(back);
	assert_string_equal(get(back, "target.path"), "/tmp/\"quoted\"\n\\back\x01\xc3\xa9");
	assert_int_equal(strlen(get(back, "process.comm")), BW_COMM_LEN);
	assert_int_equal(strlen(get(back, "process.exe")), BW_PATH_LEN);
	json_object_put(back);
	json_object_put(o);
}

static void test_rule_table_round_trip(void **state)
{
	struct bw_rule_table t = table(), u;
	struct json_object *o = bw_rule_table_to_json(&t);
	struct bw_rule_ref ref;

	(void)state;
	assert_int_equal(bw_rule_table_from_json(o, &u), 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.sha256, "ab");
	assert_int_equal(bw_rule_table_get(&u, 2, &ref), 0);
	assert_string_equal(ref.text, "deny exec /opt/**");
	assert_string_equal(ref.file, "/etc/bulwark/a.rules");
	assert_int_equal(ref.line, 7);
	bw_rule_ref_clear(&ref);
	assert_int_equal(bw_rule_table_get(&u, 0, &ref), -ENOENT);
	assert_null(ref.text);
	assert_int_equal(bw_rule_table_get(&u, 3, &ref), -ENOENT);
	assert_int_equal(u.n_files, 1); /* one copy a file, not a rule */
	bw_rule_table_free(&u);
	bw_rule_table_free(&t);
	json_object_put(o);
	o = json_tokener_parse("{\"rules\":[]}");
	assert_int_equal(bw_rule_table_from_json(o, &u), -74); /* -EBADMSG: no sha256 */
	json_object_put(o);
}

/* Rule i's text: empty, a process rule, or one of neighbouring files (shared prefixes). */
static void coding_text(unsigned i, char *text, size_t len)
{
	if (i % 7 == 3)
		text[0] = 0;
	else if (i % 11 == 5)
		snprintf(text, len, "allow fork any from uid=%u", i);
	else
		snprintf(text, len, "deny exec /tmp/files/f%u", i * 37 % 1000);
}

/*
 * Texts are kept front-coded, whole again every BW_FCODE_RESTART
 * rules: every rule reads back as it was added, across restarts, files,
 * empty texts and texts that share nothing, and through the state file.
 */
static void test_rule_table_coding(void **state)
{
	struct bw_rule_table t = { 0 }, u;
	char text[64], *printed = NULL, *doc = NULL;
	struct json_object *o;
	struct bw_rule_ref ref;
	size_t len = 0;
	FILE *f;

	(void)state;
	for (unsigned i = 0; i < 5 * BW_FCODE_RESTART + 3; i++) {
		coding_text(i, text, sizeof(text));
		assert_int_equal(bw_rule_table_add(&t, i < 40 ? "/a.rules" : "/b.rules", i + 1, 2, text), 0);
	}
	assert_int_equal(t.n_files, 2);
	f = open_memstream(&printed, &len);
	assert_int_equal(bw_rule_table_print_members(&t, f), 0);
	fclose(f);
	assert_true(asprintf(&doc, "{%s}", printed) > 0);
	o = json_tokener_parse(doc);
	assert_int_equal(bw_rule_table_from_json(o, &u), 0);
	for (unsigned i = 0; i < t.n; i++) {
		coding_text(i, text, sizeof(text));
		for (int k = 0; k < 2; k++) {
			assert_int_equal(bw_rule_table_get(k ? &u : &t, i + 1, &ref), 0);
			assert_string_equal(ref.text, text);
			assert_string_equal(ref.file, i < 40 ? "/a.rules" : "/b.rules");
			assert_int_equal(ref.line, i + 1);
			assert_int_equal(ref.col, 2);
			bw_rule_ref_clear(&ref);
		}
	}
	json_object_put(o);
	free(doc);
	free(printed);
	bw_rule_table_free(&u);
	bw_rule_table_free(&t);
}

/* The state file's printed table is the same JSON as the tree, shadows and layers too. */
static void test_rule_table_print_members(void **state)
{
	struct bw_rule_table t = table();
	struct bw_shadow sh[2] = { { .rule_id = 2, .by_rule_id = 1, .why = 3 }, { .rule_id = 1, .by_rule_id = 2, .why = 1 } };
	char name[] = "edr \"x\"", *text = NULL, *doc = NULL;
	struct json_object *tree, *printed;
	size_t len = 0;
	FILE *f;

	(void)state;
	sh[1].key.ino = 42;
	t.shadows = sh;
	t.n_shadows = 2;
	t.layer_names[3] = name;
	t.layer_altitude[3] = 300;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(bw_rule_table_print_members(&t, f), 0);
	fclose(f);
	assert_true(asprintf(&doc, "{%s}", text) > 0);
	printed = json_tokener_parse(doc);
	assert_non_null(printed);
	tree = bw_rule_table_to_json(&t);
	assert_true(json_object_equal(printed, tree));
	json_object_put(printed);
	json_object_put(tree);
	free(doc);
	free(text);
	/* the test's own */
	t.shadows = NULL;
	t.n_shadows = 0;
	t.layer_names[3] = NULL;
	bw_rule_table_free(&t);
	/* An empty table too. */
	memset(&t, 0, sizeof(t));
	text = NULL;
	f = open_memstream(&text, &len);
	assert_int_equal(bw_rule_table_print_members(&t, f), 0);
	fclose(f);
	assert_string_equal(text, "\"sha256\":\"\",\"rules\":[],\"shadows\":[]");
	free(text);
}

/* True if the event's flags list name. */
static bool has_flag(struct json_object *o, const char *name)
{
	struct json_object *flags = json_object_object_get(o, "flags");

	for (size_t i = 0; i < json_object_array_length(flags); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(flags, i)), name) == 0)
			return true;
	return false;
}

/*
 * A program bulwark never saw exec'd has one form everywhere
 * (docs/events.md): "exe": null and the flag exe-unknown. Never "", and
 * never path-unresolved, which is about files.
 */
static void test_exe_unknown_one_form(void **state)
{
	struct bw_rule_table t = table();
	struct bw_event e = sample();
	struct json_object *o;

	(void)state;
	/* Task storage without an exe (a child of a process older than bulwark). */
	e.exe[0] = 0;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "process.exe"), "null");
	assert_true(has_flag(o, "exe-unknown"));
	json_object_put(o);

	/* No task storage at all: the kernel's own flag. */
	e.flags = BW_EVF_EXE_UNKNOWN;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "process.exe"), "null");
	assert_true(has_flag(o, "exe-unknown"));
	assert_int_equal(json_object_array_length(json_object_object_get(o, "flags")), 1);
	json_object_put(o);

	/* A process target older than bulwark: the same form. */
	e = sample();
	e.op = BW_OP_SIGNAL;
	e.hook = BW_HOOK_KILL;
	e.target_tgid = 300;
	e.target_pid = 300;
	e.arg = 9;
	e.path[0] = 0;
	e.flags = BW_EVF_PATH_ERR;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "target.exe"), "null");
	assert_string_equal(get(o, "process.exe"), "/usr/bin/bash");
	assert_true(has_flag(o, "exe-unknown"));
	assert_false(has_flag(o, "path-unresolved"));
	json_object_put(o);

	/* A known target keeps its exe and has no flag. */
	strcpy(e.path, "/usr/bin/sleep");
	e.flags = 0;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "target.exe"), "/usr/bin/sleep");
	assert_int_equal(json_object_array_length(json_object_object_get(o, "flags")), 0);
	json_object_put(o);

	/* Notifications too. */
	e = sample();
	e.type = BW_EV_PROCESS;
	e.what = BW_PROC_FORK;
	e.exe[0] = 0;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "process.exe"), "null");
	assert_true(has_flag(o, "exe-unknown"));
	json_object_put(o);

	/* A file that cannot be named is still path-unresolved. */
	e = sample();
	e.path[0] = 0;
	e.flags = BW_EVF_PATH_ERR;
	o = bw_event_to_json(&e, &t, 0);
	assert_string_equal(get(o, "target.path"), "null");
	assert_true(has_flag(o, "path-unresolved"));
	assert_false(has_flag(o, "exe-unknown"));
	json_object_put(o);
	bw_rule_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_audit_and_flags),
		cmocka_unit_test(test_exe_unknown_one_form),
		cmocka_unit_test(test_escaping_and_bounds),
		cmocka_unit_test(test_rule_table_round_trip),
		cmocka_unit_test(test_rule_table_print_members),
		cmocka_unit_test(test_rule_table_coding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
