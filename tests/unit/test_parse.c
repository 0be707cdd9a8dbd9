// SPDX-License-Identifier: MIT
/* Parser: valid fixtures, and bad inputs with their exact diagnostics. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/policy/policy.h"

static struct bw_policy *parse(const char *text, size_t len)
{
	struct bw_policy *p = bw_policy_new();

	assert_non_null(p);
	bw_policy_load_buffer(p, "t.rules", text, len);
	bw_policy_finish(p);
	return p;
}

static void test_valid_fixture(void **state)
{
	static const char text[] =
		"# a comment line\n"
		"\n"
		"mode audit   # trailing comment\n"
		"allow exec /usr/** with log tag=sys\n"
		"deny exec \"/opt/my app/tool\" with audit\n"
		"  audit exec any with quiet\n"
		"deny exec /bin/sh from exe=/usr/sbin/nginx uid=33\n"
		"deny exec /**\n"
		"deny exec \"/q\\\"uote\\\\\"\n";
	struct bw_policy *p = parse(text, sizeof(text) - 1);
	struct bw_rule *r;

	(void)state;
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_warnings, 0);
	assert_int_equal(p->flags, BW_POLICY_AUDIT);
	assert_int_equal(p->n_rules, 7); /* the mode statement has an entry too */
	assert_int_equal(p->mode_rule, 1);
	assert_int_equal(p->mode_loc.line, 3);

	r = &p->rules[1];
	assert_int_equal(r->id, 2);
	assert_int_equal(r->decision, BW_VERDICT_ALLOW);
	assert_int_equal(r->op, BW_OP_EXEC);
	assert_int_equal(r->obj, BW_OBJ_TYPE_TREE);
	assert_string_equal(r->path, "/usr");
	assert_int_equal(r->flags, BW_RULE_LOG);
	assert_string_equal(r->tag, "sys");
	assert_int_equal(r->loc.line, 4);
	assert_int_equal(r->loc.col, 1);
	assert_string_equal(r->text, "allow exec /usr/** with log tag=sys");

	r = &p->rules[2];
	assert_int_equal(r->obj, BW_OBJ_TYPE_PATH);
	assert_string_equal(r->path, "/opt/my app/tool");
	assert_int_equal(r->flags, BW_RULE_AUDIT);
	assert_int_equal(r->obj_loc.col, 11);
	assert_string_equal(r->text, "deny exec \"/opt/my app/tool\" with audit");

	r = &p->rules[3];
	assert_int_equal(r->decision, BW_VERDICT_AUDIT);
	assert_int_equal(r->obj, BW_OBJ_TYPE_ANY);
	assert_int_equal(r->flags, BW_RULE_QUIET);
	assert_int_equal(r->loc.col, 3);

	r = &p->rules[4];
	assert_int_equal(r->n_subjects, 2);
	assert_int_equal(r->subjects[0].type, BW_SEL_EXE);
	assert_string_equal(r->subjects[0].value, "/usr/sbin/nginx");
	assert_int_equal(r->subjects[0].loc.col, 24);
	assert_int_equal(r->subjects[1].type, BW_SEL_UID);
	assert_string_equal(r->subjects[1].value, "33");

	r = &p->rules[5];
	assert_int_equal(r->obj, BW_OBJ_TYPE_TREE);
	assert_string_equal(r->path, "/");

	r = &p->rules[6];
	assert_string_equal(r->path, "/q\"uote\\");
	bw_policy_free(p);
}

#define SHA_HINT "a SHA-256 is 64 hex digits, as `sha256sum FILE` or `bulwark trust list` prints it"
#define TRUST_HINT "e.g. `deny exec untrusted` or `deny load sha256:<64 hex digits>`"

/* Image-load control's objects: trusted, untrusted, and content by hash. */
static void test_trust_objects(void **state)
{
	static const char text[] =
		"deny exec untrusted\n"
		"allow load trusted from uid=1000\n"
		"audit exec sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff with log\n"
		"deny load /usr/lib/**\n";
	static const uint8_t want[32] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
					  0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
					  0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	struct bw_policy *p = parse(text, sizeof(text) - 1);

	(void)state;
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_rules, 4);
	assert_int_equal(p->rules[0].op, BW_OP_EXEC);
	assert_int_equal(p->rules[0].obj, BW_OBJ_TYPE_UNTRUSTED);
	assert_int_equal(p->rules[0].obj_loc.col, 11);
	assert_int_equal(p->rules[1].op, BW_OP_LOAD);
	assert_int_equal(p->rules[1].obj, BW_OBJ_TYPE_TRUSTED);
	assert_int_equal(p->rules[1].n_subjects, 1);
	assert_int_equal(p->rules[2].obj, BW_OBJ_TYPE_HASH);
	assert_memory_equal(p->rules[2].sha256, want, 32);
	/* written as given, in lower case: what events and explain quote */
	assert_string_equal(p->rules[2].path,
			    "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_int_equal(p->rules[2].flags, BW_RULE_LOG);
	assert_int_equal(p->rules[3].op, BW_OP_LOAD);
	assert_int_equal(p->rules[3].obj, BW_OBJ_TYPE_TREE);
	bw_policy_free(p);
}

/* notify image: the two logged allows it stands for, at the statement's place. */
static void test_notify_image(void **state)
{
	static const char text[] = "deny exec /tmp/**\nnotify exec image\n";
	struct bw_policy *p = parse(text, sizeof(text) - 1);

	(void)state;
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_rules, 3);
	assert_true(p->flags & BW_POLICY_NOTIFY_EXEC);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(p->rules[i].op, i == 1 ? BW_OP_EXEC : BW_OP_LOAD);
		assert_int_equal(p->rules[i].decision, BW_VERDICT_ALLOW);
		assert_int_equal(p->rules[i].obj, BW_OBJ_TYPE_ANY);
		assert_int_equal(p->rules[i].flags, BW_RULE_LOG);
		assert_int_equal(p->rules[i].loc.line, 2);
		assert_int_equal(p->rules[i].obj_loc.col, 13);
		assert_string_equal(p->rules[i].text, "notify exec image");
	}
	bw_policy_free(p);
}

struct bad {
	const char *text;
	unsigned line, col;
	const char *msg;
	const char *hint; /* NULL: the diagnostic must have no hint */
};

static const struct bad bad_inputs[] = {
	{ "notify imag", 1, 8, "unknown notification 'imag'", "did you mean 'image'?" },
	{ "dney exec /x", 1, 1, "unknown statement 'dney'", "did you mean 'deny'?" },
	{ "alow exec /x", 1, 1, "unknown statement 'alow'", "did you mean 'allow'?" },
	{ "mdoe audit", 1, 1, "unknown statement 'mdoe'", "did you mean 'mode'?" },
	{ "frobnicate", 1, 1, "unknown statement 'frobnicate'",
	  "statements start with allow, deny, audit, mode, include, notify, protect or grant" },
	{ "grant status,unload from uid=998", 1, 14, "'unload' is root's alone and cannot be granted",
	  "they change what the administrator enforces; a grant gives status, explain, events, layer, trust-sync or all" },
	{ "grant statsu from uid=1", 1, 7, "unknown operation 'statsu'", "did you mean 'status'?" },
	{ "grant status,,events from uid=1", 1, 7, "empty operation in the list", "separate operations with one comma" },
	{ "grant status from exe=/bin/true", 1, 19, "a grant needs uid=",
	  "the kernel vouches for a client's uid: name it, e.g. uid=998" },
	{ "grant status from uid=1 cgroup=/x", 1, 25, "a grant's client is named by uid= and exe= only",
	  "a client is a uid, and optionally one program file: uid=998 exe=/opt/acme/agent" },
	{ "grant status", 1, 14, "'grant' needs `from uid=<user>`", "e.g. `grant status,events from uid=998`" },
	{ "grant from uid=1", 1, 7, "'grant' needs the operations it gives",
	  "e.g. `grant status,events,layer from uid=998 exe=/opt/acme/agent`" },
	{ "protect /x level=system", 1, 18, "level 'system' is bulwarkd's own",
	  "use `protect self` for bulwark's own files" },
	{ "protect /x level=vendr", 1, 18, "unknown level 'vendr'", "did you mean 'vendor'?" },
	{ "protect /x", 1, 12, "'protect' needs a level=",
	  "levels are vendor and antimalware, e.g. `protect /opt/agent/** level=antimalware`" },
	{ "protect self now", 1, 14, "'protect self' takes nothing after it",
	  "bulwarkd always runs at level system" },
	{ "protect any level=vendor", 1, 9, "the object of 'protect' is a file, a tree or `self`",
	  "name a file or a tree `/dir/**`, or `self`" },
	{ "deny protect /x", 1, 1, "protection is its own statement: protect <object> level=<level>",
	  "e.g. `protect /opt/agent/** level=antimalware`" },
	{ "   dney exec /x", 1, 4, "unknown statement 'dney'", "did you mean 'deny'?" },
	{ "\tdney exec /x", 1, 2, "unknown statement 'dney'", "did you mean 'deny'?" },
	{ "\"deny\" exec /x", 1, 1, "unknown statement 'deny'", "did you mean 'deny'?" },
	{ "deny", 1, 5, "expected an operation after 'deny'", "e.g. `deny exec /usr/bin/nc`" },
	{ "deny exce /x", 1, 6, "unknown operation 'exce'", "did you mean 'exec'?" },
	{ "allow frk /x", 1, 7, "unknown operation 'frk'", "did you mean 'fork'?" },
	{ "deny zzzzzz /x", 1, 6, "unknown operation 'zzzzzz'",
	  "see docs/policy.md for the list of operations" },
	{ "deny \"exec\" /x", 1, 6, "unknown operation 'exec'", "did you mean 'exec'?" },
	{ "deny exec", 1, 10, "expected an object after 'exec'",
	  "name a file, a tree `/dir/**`, or `any`" },
	{ "deny exec usr/bin/x", 1, 11,
	  "expected an absolute path, a tree `/dir/**` or `any`, got 'usr/bin/x'",
	  "paths are absolute, e.g. /usr/bin/curl or /opt/app/**" },
	{ "deny exec \"any\"", 1, 11, "expected an absolute path, a tree `/dir/**` or `any`, got 'any'",
	  "paths are absolute, e.g. /usr/bin/curl or /opt/app/**" },
	{ "deny exec /usr/*/x", 1, 16, "wildcard in path",
	  "only a trailing /** is supported: write /dir/** for a whole tree" },
	{ "deny exec \"/a/b?\"", 1, 16, "wildcard in path",
	  "only a trailing /** is supported: write /dir/** for a whole tree" },
	{ "deny exec /a/**/b", 1, 14, "wildcard in path",
	  "only a trailing /** is supported: write /dir/** for a whole tree" },
	{ "deny exec /a/b/**/", 1, 16, "wildcard in path",
	  "only a trailing /** is supported: write /dir/** for a whole tree" },
	{ "deny exec /a/[bc]", 1, 14, "wildcard in path",
	  "only a trailing /** is supported: write /dir/** for a whole tree" },
	{ "deny exec /usr/bin/", 1, 19, "trailing '/' in path",
	  "a rule names one file; for a whole directory write /dir/**" },
	{ "deny exec /usr//bin", 1, 11, "path is not canonical",
	  "write the path without '//', '.' or '..' components" },
	{ "deny exec /usr/./bin", 1, 11, "path is not canonical",
	  "write the path without '//', '.' or '..' components" },
	{ "deny exec /usr/../bin", 1, 11, "path is not canonical",
	  "write the path without '//', '.' or '..' components" },
	{ "deny exec /usr/bin/..", 1, 11, "path is not canonical",
	  "write the path without '//', '.' or '..' components" },
	{ "deny exec /usr/.", 1, 11, "path is not canonical",
	  "write the path without '//', '.' or '..' components" },
	{ "deny exec /a//**", 1, 13, "trailing '/' in path",
	  "a rule names one file; for a whole directory write /dir/**" },
	{ "deny exec \"/unterminated", 1, 11, "unterminated string", "add the closing '\"'" },
	{ "deny exec \"/a\"b", 1, 15, "unexpected character after string",
	  "put a space after the closing quote" },
	{ "deny exec /x from", 1, 14, "'from' needs at least one selector",
	  "e.g. `from exe=/usr/sbin/nginx`" },
	{ "deny exec /x from with log", 1, 14, "'from' needs at least one selector",
	  "e.g. `from exe=/usr/sbin/nginx`" },
	{ "deny exec /x from ex=/a", 1, 19, "unknown selector 'ex'", "did you mean 'exe'?" },
	{ "deny exec /x from zzzzzz=1", 1, 19, "unknown selector 'zzzzzz'",
	  "selectors are exe=, uid=, gid=, cgroup=, parent=, level= and trusted" },
	{ "deny exec /x from exe", 1, 19, "selector 'exe' needs a value",
	  "write it as key=value, e.g. exe=/usr/sbin/nginx" },
	{ "deny exec /x from uid=", 1, 19, "selector 'uid' needs a value",
	  "write it as key=value, e.g. exe=/usr/sbin/nginx" },
	{ "deny exec /x from trusted=yes", 1, 19, "selector 'trusted' takes no value", NULL },
	{ "deny exec /x from exe=usr/bin/x", 1, 23, "program path must be absolute",
	  "name the program by its absolute path, e.g. exe=/usr/sbin/nginx" },
	{ "deny exec /x from exe=/usr//x", 1, 23, "path is not canonical",
	  "write the path without '//', '.' or '..' components" },
	{ "deny exec /x from parent=/a/*/b", 1, 29, "wildcard in path",
	  "only a trailing /** is supported: write /dir/** for a whole tree" },
	{ "deny exec /x from exe=/a exe=/b", 1, 26, "selector 'exe' given twice",
	  "a rule's subject names each selector once, and all must match; write one rule per alternative" },
	{ "deny exec /x from uid=0 uid=1", 1, 25, "selector 'uid' given twice",
	  "a rule's subject names each selector once, and all must match; write one rule per alternative" },
	{ "deny exec /x from cgroup=/a/**", 1, 28, "'/**' is implied for cgroups",
	  "cgroup=PATH already covers every cgroup below PATH" },
	{ "deny exec /x from cgroup=system.slice", 1, 26, "cgroup path must start with '/'",
	  "write the path below the cgroup2 mount, e.g. cgroup=/system.slice/nginx.service" },
	{ "deny exec /x from uid=-1", 1, 23, "invalid user '-1'",
	  "write a number or a name, e.g. uid=33 or uid=www-data" },
	{ "deny exec /x from uid=4294967295", 1, 23, "invalid user '4294967295'",
	  "write a number or a name, e.g. uid=33 or uid=www-data" },
	{ "deny exec /x from gid=a:b", 1, 23, "invalid group 'a:b'",
	  "write a number or a name, e.g. uid=33 or uid=www-data" },

	{ "deny exec /x with", 1, 14, "'with' needs at least one option",
	  "e.g. `with log` or `with audit`" },
	{ "deny exec /x with lg", 1, 19, "unknown option 'lg'", "did you mean 'log'?" },
	{ "deny exec /x with qiet", 1, 19, "unknown option 'qiet'", "did you mean 'quiet'?" },
	{ "deny exec /x with zzzzzz", 1, 19, "unknown option 'zzzzzz'",
	  "options are log, quiet, audit, enforce, tag=NAME, sticky and signals=LIST" },
	{ "deny exec /x with log quiet", 1, 23, "'log' and 'quiet' contradict each other",
	  "keep one of them" },
	{ "deny exec /x with quiet log", 1, 25, "'log' and 'quiet' contradict each other",
	  "keep one of them" },
	{ "deny exec /x with audit enforce", 1, 25, "'audit' and 'enforce' contradict each other",
	  "keep one of them" },
	{ "deny exec /x with tag=", 1, 19, "tag needs a name", "e.g. tag=webserver" },
	{ "deny exec /x extra", 1, 14, "unexpected 'extra'",
	  "subject selectors follow `from`, options follow `with`; quote paths with spaces" },
	{ "deny exec /my file", 1, 15, "unexpected 'file'",
	  "subject selectors follow `from`, options follow `with`; quote paths with spaces" },
	{ "deny exec /x with log from uid=0", 1, 23, "unknown option 'from'",
	  "options are log, quiet, audit, enforce, tag=NAME, sticky and signals=LIST" },
	{ "mode loud", 1, 6, "mode must be 'enforce' or 'audit'", "write `mode enforce` or `mode audit`" },
	{ "mode", 1, 5, "mode must be 'enforce' or 'audit'", "write `mode enforce` or `mode audit`" },
	{ "mode audit extra", 1, 6, "mode must be 'enforce' or 'audit'",
	  "write `mode enforce` or `mode audit`" },
	{ "mode audit\nmode enforce", 2, 1, "mode is set twice", "the first is at t.rules:1" },
	{ "include", 1, 8, "include takes exactly one path",
	  "write `include \"file.rules\"` or `include /etc/bulwark/policy.d`" },
	{ "include a b", 1, 11, "include takes exactly one path",
	  "write `include \"file.rules\"` or `include /etc/bulwark/policy.d`" },
	{ "include \"/nonexistent/x.rules\"", 1, 9,
	  "cannot read '/nonexistent/x.rules': No such file or directory", NULL },
	/* Device files and FIFOs would hang or exhaust the daemon. */
	{ "include /dev/zero", 1, 9, "cannot read '/dev/zero': is not a regular file",
	  "include policy text files or directories of *.rules" },
	{ "include /dev/null", 1, 9, "cannot read '/dev/null': is not a regular file",
	  "include policy text files or directories of *.rules" },
	{ "# fine\n\ndeny exec /x\ndney exec /y", 4, 1, "unknown statement 'dney'",
	  "did you mean 'deny'?" },
	{ "deny lockdown kcor", 1, 15, "unknown lockdown reason 'kcor'", "did you mean 'kcore'?" },
	{ "deny lockdown integrty", 1, 15, "unknown lockdown reason 'integrty'",
	  "did you mean 'integrity'?" },
	{ "deny lockdown /dev/mem", 1, 15, "unknown lockdown reason '/dev/mem'", "did you mean 'dev-mem'?" },
	{ "deny lockdown everything", 1, 15, "unknown lockdown reason 'everything'",
	  "a reason such as dev-mem or kcore, `integrity`, `confidentiality` or `any`" },
	{ "deny lockdown other-integrity", 1, 15, "unknown lockdown reason 'other-integrity'",
	  "a reason such as dev-mem or kcore, `integrity`, `confidentiality` or `any`" },
	{ "deny lockdown \"kcore\"", 1, 15, "a lockdown reason is a word, not a quoted string",
	  "write the name as a bare word, without quotes" },
	{ "deny sysctl kernel.core_patern", 1, 13, "unknown sysctl 'kernel.core_patern'",
	  "did you mean 'kernel.core_pattern'?" },
	{ "deny sysctl /proc/sys/kernel/modprobe", 1, 13, "unknown sysctl '/proc/sys/kernel/modprobe'",
	  "a guarded sysctl such as kernel.core_pattern, `tamper`, `helper` or `any`" },
	{ "deny sysctl helpr", 1, 13, "unknown sysctl 'helpr'", "did you mean 'helper'?" },
	{ "deny sysctl \"kernel.modprobe\"", 1, 13, "a sysctl is a word, not a quoted string",
	  "write the name as a bare word, without quotes" },
	{ "deny bpf /usr/sbin/bpftool", 1, 10, "the object of 'bpf' is `any`: rules say who may load programs",
	  "e.g. `allow bpf any from exe=/usr/lib/systemd/systemd`" },
	{ "deny lockdown kcore with signals=KILL", 1, 26, "'signals=' needs the signal operation",
	  "signal sets belong to `signal` rules" },
	{ "deny wx /usr/bin/node", 1, 9, "the object of 'wx' is `any`: rules say which programs may",
	  "e.g. `allow anon-exec any from exe=/usr/bin/node` for a JIT" },
	{ "allow anon-exec /usr/**", 1, 17, "the object of 'anon-exec' is `any`: rules say which programs may",
	  "e.g. `allow anon-exec any from exe=/usr/bin/node` for a JIT" },
	{ "deny memfd-exe any", 1, 6, "unknown operation 'memfd-exe'", "did you mean 'memfd-exec'?" },
	/* image-load control: trust objects belong to exec and load; hashes are 64 hex digits */
	{ "deny exec sha256:abc", 1, 21, "sha256 is too short: 3 hex digits, expected 64", SHA_HINT },
	{ "deny exec sha256:", 1, 18, "sha256 is too short: 0 hex digits, expected 64", SHA_HINT },
	{ "deny exec sha256:g000000000000000000000000000000000000000000000000000000000000000", 1, 18, "invalid hex digit 'g' in sha256", SHA_HINT },
	{ "deny load sha256:00000000000000000000000000000000000000000000000000000000000000-0", 1, 80, "invalid hex digit '-' in sha256", SHA_HINT },
	{ "deny exec sha256:00000000000000000000000000000000000000000000000000000000000000000", 1, 82, "sha256 is too long: expected 64 hex digits", SHA_HINT },
	{ "deny module untrusted", 1, 13, "'untrusted' is an object of exec and load only", TRUST_HINT },
	{ "allow kexec trusted", 1, 13, "'trusted' is an object of exec and load only", TRUST_HINT },
	{ "protect trusted level=vendor", 1, 9, "'trusted' is an object of exec and load only", TRUST_HINT },
	{ "deny wx sha256:0000000000000000000000000000000000000000000000000000000000000000", 1, 9, "'sha256:' is an object of exec and load only", TRUST_HINT },
	{ "deny exec \"untrusted\"", 1, 11, "expected an absolute path, a tree `/dir/**` or `any`, got 'untrusted'",
	  "paths are absolute, e.g. /usr/bin/curl or /opt/app/**" },
};

/* Explain queries share the rule grammar: `<op> <file> [as <selector>...]`. */
static const struct bad bad_queries[] = {
	{ "exce /x", 1, 1, "unknown operation 'exce'", "did you mean 'exec'?" },
	{ "exec", 1, 5, "expected an object after 'exec'", "name a file, a tree `/dir/**`, or `any`" },
	{ "exec /x as", 1, 9, "'as' needs at least one selector", "e.g. `as exe=/usr/sbin/nginx uid=33`" },
	{ "exec /x as exe=/a exe=/b", 1, 19, "selector 'exe' given twice",
	  "a rule's subject names each selector once, and all must match; write one rule per alternative" },
	{ "exec /x with log", 1, 9, "unexpected 'with'",
	  "e.g. exec /usr/bin/curl as exe=/usr/sbin/nginx uid=33" },
	{ "exec /x from uid=0", 1, 9, "unexpected 'from'",
	  "e.g. exec /usr/bin/curl as exe=/usr/sbin/nginx uid=33" },
	/* fuzz finding: the words before a bad one leaked (ASan, tests/fuzz/corpus) */
	{ "lockdown kcore as uid=0 \"", 1, 25, "unterminated string", "add the closing '\"'" },
};

static void test_bad_queries(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]); i++) {
		const struct bad *b = &bad_queries[i];
		struct bw_policy *p = bw_policy_new();
		const struct bw_diag *d;

		print_message("query %zu: %s\n", i, b->text);
		assert_int_equal(bw_policy_parse_query(p, b->text), -EINVAL);
		assert_int_equal(p->n_errors, 1);
		d = &p->diags[0];
		assert_string_equal(d->msg, b->msg);
		assert_string_equal(d->loc.file, "query");
		assert_int_equal(d->loc.col, b->col);
		assert_string_equal(d->hint, b->hint);
		bw_policy_free(p);
	}
	/* And a good one. */
	{
		struct bw_policy *p = bw_policy_new();

		assert_int_equal(bw_policy_parse_query(p, "exec /usr/bin/true as exe=/bin/sh uid=0"), 0);
		assert_int_equal(p->n_rules, 1);
		assert_int_equal(p->rules[0].op, BW_OP_EXEC);
		assert_int_equal(p->rules[0].n_subjects, 2);
		bw_policy_free(p);
	}
}

/* grant: the operations as bits, the client as uid= and exe= subjects. */
static void test_grant(void **state)
{
	static const char text[] = "grant status,events layer from uid=998 exe=/bin/true\ngrant all from uid=7\n";
	struct bw_policy *p = parse(text, strlen(text));

	(void)state;
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_rules, 2);
	assert_int_equal(p->rules[0].op, BW_OP_NONE);
	assert_int_equal(p->rules[0].obj, BW_OBJ_TYPE_CLIENT);
	assert_int_equal(p->rules[0].reasons, BW_GRANT_STATUS | BW_GRANT_EVENTS | BW_GRANT_LAYER);
	assert_int_equal(p->rules[0].n_subjects, 2);
	assert_int_equal(p->rules[1].reasons, BW_GRANT_ALL);
	assert_string_equal(bw_grant_name(BW_GRANT_TRUST_SYNC), "trust-sync");
	bw_policy_free(p);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const struct bad *b = &bad_inputs[i];
		struct bw_policy *p = parse(b->text, strlen(b->text));
		const struct bw_diag *d;

		print_message("case %zu: %s\n", i, b->text);
		assert_int_equal(p->n_errors, 1);
		assert_int_equal(p->n_diags, 1);
		d = &p->diags[0];
		assert_int_equal(d->sev, BW_SEV_ERROR);
		assert_string_equal(d->msg, b->msg);
		assert_string_equal(d->loc.file, "t.rules");
		assert_int_equal(d->loc.line, b->line);
		assert_int_equal(d->loc.col, b->col);
		if (b->hint)
			assert_string_equal(d->hint, b->hint);
		else
			assert_null(d->hint);
		bw_policy_free(p);
	}
}

/* Limits are errors with a position, never truncation. */
static void test_limits(void **state)
{
	char *line = malloc(5000), words[200] = "";
	struct bw_policy *p;
	static const char nul[] = "deny\0exec /x";

	(void)state;
	memset(line, 'a', 4097);
	line[4097] = 0;
	p = parse(line, 4097);
	assert_int_equal(p->n_errors, 1);
	assert_string_equal(p->diags[0].msg, "line is longer than 4096 bytes");
	assert_int_equal(p->diags[0].loc.col, 4097);
	assert_string_equal(p->diags[0].hint, "split the statement");
	bw_policy_free(p);
	free(line);

	p = parse(nul, sizeof(nul) - 1);
	assert_int_equal(p->n_errors, 1);
	assert_string_equal(p->diags[0].msg, "NUL byte in policy");
	assert_int_equal(p->diags[0].loc.col, 5);
	bw_policy_free(p);

	for (int i = 0; i < 65; i++)
		strcat(words, "a ");
	p = parse(words, strlen(words));
	assert_int_equal(p->n_errors, 1);
	assert_string_equal(p->diags[0].msg, "too many words (at most 64)");
	assert_int_equal(p->diags[0].loc.col, 129);
	bw_policy_free(p);
}

/* Each bad line is reported on its own line; good lines still parse. */
static void test_multiple_errors(void **state)
{
	static const char text[] = "dney exec /x\ndeny exec /y\nmode loud\n";
	struct bw_policy *p = parse(text, sizeof(text) - 1);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(p->n_errors, 2);
	assert_int_equal(p->diags[0].loc.line, 1);
	assert_int_equal(p->diags[1].loc.line, 3);
	assert_int_equal(p->diags[1].loc.col, 6);
	assert_int_equal(p->n_rules, 1);
	assert_string_equal(p->rules[0].path, "/y");

	f = open_memstream(&out, &len);
	bw_policy_print_diags(p, f);
	fclose(f);
	assert_non_null(strstr(out, "t.rules:1:1: error: unknown statement 'dney'\n"
				    "    1 | dney exec /x\n"
				    "      | ^\n"
				    "hint: did you mean 'deny'?\n"));
	assert_non_null(strstr(out, "t.rules:3:6: error: mode must be 'enforce' or 'audit'\n"
				    "    3 | mode loud\n"
				    "      |      ^\n"));
	free(out);
	bw_policy_free(p);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_includes_and_dirs(void **state)
{
	char dir[] = "/tmp/bw-unit-XXXXXX", path[256], sub[256];
	struct bw_policy *p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/d", dir);
	mkdir(sub, 0700);
	/* Relative includes resolve against the including file's directory. */
	snprintf(path, sizeof(path), "%s/main.rules", dir);
	write_file(path, "include \"d/inc.rules\"\ndeny exec /main\n");
	snprintf(path, sizeof(path), "%s/d/inc.rules", dir);
	write_file(path, "deny exec /included\n");
	/* Natural order: 2 before 10; other files ignored. */
	snprintf(path, sizeof(path), "%s/d/10-b.rules", dir);
	write_file(path, "deny exec /ten\n");
	snprintf(path, sizeof(path), "%s/d/2-a.rules", dir);
	write_file(path, "deny exec /two\n");
	snprintf(path, sizeof(path), "%s/d/notes.txt", dir);
	write_file(path, "this is not a policy\n");

	p = bw_policy_new();
	snprintf(path, sizeof(path), "%s/main.rules", dir);
	bw_policy_load_path(p, path);
	bw_policy_finish(p);
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_rules, 2);
	assert_string_equal(p->rules[0].path, "/included");
	assert_string_equal(p->rules[1].path, "/main");
	bw_policy_free(p);

	p = bw_policy_new();
	bw_policy_load_path(p, sub);
	bw_policy_finish(p);
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_rules, 3);
	assert_string_equal(p->rules[0].path, "/two"); /* 2-a.rules */
	assert_string_equal(p->rules[1].path, "/ten"); /* 10-b.rules */
	assert_string_equal(p->rules[2].path, "/included");
	bw_policy_free(p);

	/* A cycle ends at the depth limit with a hint. */
	snprintf(path, sizeof(path), "%s/loop.rules", dir);
	write_file(path, "include \"loop.rules\"\n");
	p = bw_policy_new();
	bw_policy_load_path(p, path);
	bw_policy_finish(p);
	assert_int_equal(p->n_errors, 1);
	assert_string_equal(p->diags[0].msg, "includes nested deeper than 16");
	assert_string_equal(p->diags[0].hint, "is there an include cycle?");
	bw_policy_free(p);

	/* An empty drop-in directory is a warning, not silence. */
	snprintf(path, sizeof(path), "%s/empty", dir);
	mkdir(path, 0700);
	p = bw_policy_new();
	bw_policy_load_path(p, path);
	bw_policy_finish(p);
	assert_int_equal(p->n_errors, 0);
	assert_int_equal(p->n_warnings, 1);
	assert_string_equal(p->diags[0].msg, "no *.rules files in directory");
	bw_policy_free(p);

	/* A missing top-level policy is an error naming it. */
	snprintf(path, sizeof(path), "%s/missing.rules", dir);
	p = bw_policy_new();
	assert_int_equal(bw_policy_load_path(p, path), -2);
	assert_int_equal(p->n_errors, 1);
	assert_string_equal(p->diags[0].msg, "cannot read policy: No such file or directory");
	bw_policy_free(p);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_hash(void **state)
{
	struct bw_policy *a = parse("deny exec /x\n", 13), *b = parse("deny exec /x\n", 13);
	struct bw_policy *c = parse("deny exec /y\n", 13);

	(void)state;
	assert_memory_equal(a->sha256, b->sha256, 32);
	assert_memory_not_equal(a->sha256, c->sha256, 32);
	bw_policy_free(a);
	bw_policy_free(b);
	bw_policy_free(c);
}

static void test_names(void **state)
{
	(void)state;
	for (int op = 1; op < BW_OP_COUNT; op++)
		assert_int_equal(bw_op_from_name(bw_op_name(op)), op);
	assert_int_equal(bw_op_from_name("nope"), -1);
	assert_string_equal(bw_action_name(BW_ACTION_WOULD_BLOCK), "would-deny");
	assert_string_equal(bw_verdict_name(BW_VERDICT_AUDIT), "audit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_fixture),   cmocka_unit_test(test_trust_objects),   cmocka_unit_test(test_bad_inputs), cmocka_unit_test(test_grant),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_limits),          cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_includes_and_dirs), cmocka_unit_test(test_hash),
		cmocka_unit_test(test_names),           cmocka_unit_test(test_notify_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
