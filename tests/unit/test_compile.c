// SPDX-License-Identifier: MIT
/* Compiler: paths to inodes, map entries, precedence, errors. */
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
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/lib/compile.h"
#include "../../src/lib/internal.h"

static char dir[64];

static int make_tree(void **state)
{
	char p[128];
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/bw-compile-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/tree", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/file", dir);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fclose(f);
	snprintf(p, sizeof(p), "%s/hard", dir);
	{
		char src[128];

		snprintf(src, sizeof(src), "%s/file", dir);
		if (link(src, p) < 0)
			return -1;
		snprintf(p, sizeof(p), "%s/sym", dir);
		if (symlink(src, p) < 0)
			return -1;
	}
	return 0;
}

static int remove_tree(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Compile text where "@" stands for the temporary directory. */
static struct bw_policy *compile(const char *tmpl, struct bw_compiled *c, int *ret)
{
	char text[2048] = "";
	struct bw_policy *p = bw_policy_new();

	for (const char *s = tmpl; *s; s++) {
		if (*s == '@')
			strcat(text, dir);
		else
			strncat(text, s, 1);
	}
	bw_policy_load_buffer(p, "c.rules", text, strlen(text));
	bw_policy_finish(p);
	*ret = bw_compile(p, c);
	return p;
}

static const struct bw_rule_entry *find(const struct bw_compiled *c, unsigned kind)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.kind == kind)
			return &c->entries[i];
	return NULL;
}

static void stat_id(const char *rel, uint64_t *dev, uint64_t *ino)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(stat(p, &st), 0);
	*dev = bw_kernel_dev(st.st_dev);
	*ino = st.st_ino;
}

static void test_entries(void **state)
{
	struct bw_compiled c;
	const struct bw_rule_entry *e;
	uint64_t dev, ino;
	int r;
	struct bw_policy *p = compile("mode audit\ndeny exec @/file\nallow exec @/tree/** with log\n"
				      "deny exec any with quiet\n", &c, &r);

	(void)state;
	assert_int_equal(r, 0);
	assert_int_equal(c.n, 4);
	e = find(&c, BW_OBJ_META);
	assert_non_null(e);
	assert_int_equal(e->key.op, BW_OP_NONE);
	assert_int_equal(e->val.flags, BW_POLICY_AUDIT);
	assert_int_equal(e->val.rule_id, 1);
	/* A tree rule for exec: exec searches walk the file's ancestors. */
	assert_int_equal(e->val.tree_ops, 1u << BW_OP_EXEC);

	e = find(&c, BW_OBJ_FILE);
	stat_id("file", &dev, &ino);
	assert_int_equal(e->key.op, BW_OP_EXEC);
	assert_int_equal(e->key.dev, dev);
	assert_int_equal(e->key.ino, ino);
	assert_int_equal(e->key.subj, BW_SUBJ_ANY);
	assert_int_equal(e->val.verdict, BW_VERDICT_DENY);
	assert_int_equal(e->val.rule_id, 2);
	assert_int_equal(strncmp(p->rules[e->val.rule_id - 1].text, "deny exec /tmp/", 15), 0);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

static void test_tree_and_default(void **state)
{
	struct bw_compiled c;
	const struct bw_rule_entry *e;
	uint64_t dev, ino;
	int r;
	struct bw_policy *p = compile("allow exec @/tree/** with log\ndeny exec any with quiet\n", &c, &r);

	(void)state;
	assert_int_equal(r, 0);
	e = find(&c, BW_OBJ_TREE);
	stat_id("tree", &dev, &ino);
	assert_int_equal(e->key.dev, dev);
	assert_int_equal(e->key.ino, ino);
	assert_int_equal(e->val.verdict, BW_VERDICT_ALLOW);
	assert_int_equal(e->val.flags, BW_RULE_LOG);
	e = find(&c, BW_OBJ_DEFAULT);
	assert_int_equal(e->key.dev, 0);
	assert_int_equal(e->key.ino, 0);
	assert_int_equal(e->val.verdict, BW_VERDICT_DENY);
	assert_int_equal(e->val.flags, BW_RULE_QUIET);
	assert_int_equal(p->rules[e->val.rule_id - 1].loc.line, 2);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* Identity is the inode: a symlink and a hardlink resolve to the file. */
static void test_links_resolve_to_inode(void **state)
{
	struct bw_compiled c;
	int r;
	struct bw_policy *p = compile("deny exec @/sym\n", &c, &r);
	uint64_t dev, ino;

	(void)state;
	stat_id("file", &dev, &ino);
	assert_int_equal(r, 0);
	assert_int_equal(find(&c, BW_OBJ_FILE)->key.ino, ino);
	bw_compiled_free(&c);
	bw_policy_free(p);
	p = compile("deny exec @/hard\n", &c, &r);
	assert_int_equal(find(&c, BW_OBJ_FILE)->key.ino, ino);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* Same object twice: one entry, the stronger rule, a warning with both places. */
static void test_shadowing(void **state)
{
	static const char *const orders[] = {
		"allow exec @/file\ndeny exec @/hard\n",
		"deny exec @/hard\nallow exec @/file\n",
	};

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct bw_compiled c;
		int r;
		struct bw_policy *p = compile(orders[i], &c, &r);
		const struct bw_rule_entry *e;
		const struct bw_diag *d;

		assert_int_equal(r, 0);
		assert_int_equal(c.n, 2);
		e = find(&c, BW_OBJ_FILE);
		assert_int_equal(e->val.verdict, BW_VERDICT_DENY);
		assert_int_equal(p->n_warnings, 1);
		d = &p->diags[0];
		assert_string_equal(d->msg, "rule is shadowed: another rule decides everywhere this one applies");
		assert_int_equal(d->loc.line, i == 0 ? 1 : 2); /* the allow loses */
		assert_non_null(strstr(d->hint, i == 0 ? "c.rules:2: deny exec" : "c.rules:1: deny exec"));
		bw_compiled_free(&c);
		bw_policy_free(p);
	}
}

/* An enforced deny beats an audit-only deny, whatever the order. */
static void test_enforced_deny_beats_audit_deny(void **state)
{
	struct bw_compiled c;
	int r;
	struct bw_policy *p = compile("deny exec @/file with audit\ndeny exec @/file\n", &c, &r);

	(void)state;
	assert_int_equal(find(&c, BW_OBJ_FILE)->val.flags & BW_RULE_AUDIT, 0);
	assert_int_equal(find(&c, BW_OBJ_FILE)->val.rule_id, 2);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* The TASK entry of op for signal sig (0 for other ops), or NULL. */
static const struct bw_rule_entry *find_task(const struct bw_compiled *c, unsigned op, unsigned sig)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.kind == BW_OBJ_TASK && c->entries[i].key.op == op &&
		    c->entries[i].key.arg == sig)
			return &c->entries[i];
	return NULL;
}

static size_t count_op(const struct bw_compiled *c, unsigned op)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->entries[i].key.op == op;
	return n;
}

static void test_process_rules(void **state)
{
	struct bw_compiled c;
	int r;
	struct bw_policy *p = compile("deny signal uid=7 from exe=@/file\n"
				      "allow signal uid=7 from exe=@/file with signals=HUP,USR1\n"
				      "deny fork any from uid=5 with sticky\n"
				      "deny write any\n", &c, &r);
	const struct bw_rule_entry *e;

	(void)state;
	assert_int_equal(r, 0);
	/* the default set is 1..64: one entry per signal, never signal 0 */
	assert_int_equal(count_op(&c, BW_OP_SIGNAL), 64);
	assert_null(find_task(&c, BW_OP_SIGNAL, 0));
	/* the listed set carves HUP (1) and USR1 (10) out, in either order */
	assert_int_equal(find_task(&c, BW_OP_SIGNAL, 1)->val.verdict, BW_VERDICT_ALLOW);
	assert_int_equal(find_task(&c, BW_OP_SIGNAL, 10)->val.verdict, BW_VERDICT_ALLOW);
	e = find_task(&c, BW_OP_SIGNAL, 9);
	assert_int_equal(e->val.verdict, BW_VERDICT_DENY);
	assert_int_equal(e->key.tsubj, 1u << BW_DIM_UID);
	assert_int_equal(e->key.tids[BW_DIM_UID], 7);
	assert_int_equal(e->key.subj, 1u << BW_DIM_EXE);
	/* sticky marks the policy, so exec pays for marking only when needed */
	e = find_task(&c, BW_OP_FORK, 0);
	assert_true(e->val.flags & BW_RULE_STICKY);
	assert_true(find(&c, BW_OBJ_META)->val.flags & BW_POLICY_STICKY);
	assert_int_equal(find(&c, BW_OBJ_META)->val.tdims, 1u << BW_DIM_UID);
	assert_true(find(&c, BW_OBJ_META)->val.tcombos & (1u << (1u << BW_DIM_UID)));
	assert_int_equal(find_task(&c, BW_OP_WRITE, 0)->key.tsubj, 0);
	bw_compiled_free(&c);
	bw_policy_free(p);

	/* the same two signal rules in the other order decide the same */
	p = compile("allow signal uid=7 from exe=@/file with signals=HUP,USR1\n"
		    "deny signal uid=7 from exe=@/file\n", &c, &r);
	assert_int_equal(r, 0);
	assert_int_equal(find_task(&c, BW_OP_SIGNAL, 1)->val.verdict, BW_VERDICT_ALLOW);
	assert_int_equal(find_task(&c, BW_OP_SIGNAL, 15)->val.verdict, BW_VERDICT_DENY);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* The DEFAULT entry of op with argument arg (a lockdown reason), any subject. */
static const struct bw_rule_entry *find_default(const struct bw_compiled *c, unsigned op, unsigned arg)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.kind == BW_OBJ_DEFAULT && c->entries[i].key.op == op &&
		    c->entries[i].key.arg == arg && c->entries[i].key.subj == 0)
			return &c->entries[i];
	return NULL;
}

static unsigned reason(const char *name)
{
	uint64_t set = bw_lockdown_set(name);

	assert_int_equal(__builtin_popcountll(set), 1);
	return (unsigned)__builtin_ctzll(set);
}

static unsigned sysctl_id(const char *name)
{
	uint64_t set = bw_sysctl_set(name);

	assert_int_equal(__builtin_popcountll(set), 1);
	return (unsigned)__builtin_ctzll(set);
}

/* `sysctl` rules: one sysctl beats its group, a group beats `any`, in both orders. */
static void test_sysctl_rules(void **state)
{
	static const char *const orders[2] = {
		"allow sysctl any\n"
		"deny sysctl helper\n"
		"allow sysctl kernel.core_pattern\n",
		"allow sysctl kernel.core_pattern\n"
		"deny sysctl helper\n"
		"allow sysctl any\n",
	};

	(void)state;
	for (int o = 0; o < 2; o++) {
		struct bw_compiled c;
		int r;
		struct bw_policy *p = compile(orders[o], &c, &r);

		print_message("order %d\n", o);
		assert_int_equal(r, 0);
		assert_int_equal(find_default(&c, BW_OP_SYSCTL, sysctl_id("kernel.core_pattern"))->val.verdict,
				 BW_VERDICT_ALLOW);
		assert_int_equal(find_default(&c, BW_OP_SYSCTL, sysctl_id("kernel.modprobe"))->val.verdict,
				 BW_VERDICT_DENY);
		assert_int_equal(find_default(&c, BW_OP_SYSCTL, sysctl_id("kernel.ftrace_enabled"))->val.verdict,
				 BW_VERDICT_ALLOW);
		assert_null(find_default(&c, BW_OP_SYSCTL, 0));
		assert_int_equal(bw_sysctl_def(sysctl_id("kernel.ftrace_enabled"))->gate, BW_GATE_TAMPER);
		bw_compiled_free(&c);
		bw_policy_free(p);
	}
	/* every id has a name, a /proc/sys place and a gate */
	for (unsigned id = 1; id < BW_SYSCTL_IDS; id++) {
		const struct bw_sysctl_def *d = bw_sysctl_def(id);

		if (!d)
			continue;
		assert_true(strlen(d->dir) < BW_SYSCTL_DIR_LEN && strlen(d->leaf) < BW_SYSCTL_NAME_LEN);
		assert_true(d->gate == BW_GATE_TAMPER || d->gate == BW_GATE_HELPER);
		assert_string_equal(d->name + strlen(d->name) - strlen(d->leaf), d->leaf);
	}
	assert_null(bw_gate_name(7));
	assert_string_equal(bw_gate_name(BW_GATE_TAMPER), "tamper");
}

static void test_kernel_rules(void **state)
{
	/* Both file orders: a reason beats its group, a group beats `any`. */
	static const char *const orders[2] = {
		"deny lockdown any\n"
		"allow lockdown confidentiality\n"
		"deny lockdown kcore\n"
		"deny module @/tree/**\n"
		"allow bpf any from uid=0\n",
		"deny lockdown kcore\n"
		"allow bpf any from uid=0\n"
		"deny module @/tree/**\n"
		"allow lockdown confidentiality\n"
		"deny lockdown any\n",
	};

	(void)state;
	for (int o = 0; o < 2; o++) {
		struct bw_compiled c;
		int r;
		struct bw_policy *p = compile(orders[o], &c, &r);
		const struct bw_rule_entry *e;

		print_message("order %d\n", o);
		assert_int_equal(r, 0);
		assert_int_equal(find_default(&c, BW_OP_LOCKDOWN, reason("kcore"))->val.verdict, BW_VERDICT_DENY);
		assert_int_equal(find_default(&c, BW_OP_LOCKDOWN, reason("perf"))->val.verdict, BW_VERDICT_ALLOW);
		assert_int_equal(find_default(&c, BW_OP_LOCKDOWN, BW_LOCKDOWN_OTHER_CONFIDENTIALITY)->val.verdict,
				 BW_VERDICT_ALLOW);
		assert_int_equal(find_default(&c, BW_OP_LOCKDOWN, reason("dev-mem"))->val.verdict, BW_VERDICT_DENY);
		assert_int_equal(find_default(&c, BW_OP_LOCKDOWN, BW_LOCKDOWN_OTHER_INTEGRITY)->val.verdict,
				 BW_VERDICT_DENY);
		/* no entry for reason 0 or for ids without a name */
		assert_null(find_default(&c, BW_OP_LOCKDOWN, 0));
		assert_null(find_default(&c, BW_OP_LOCKDOWN, 40));
		/* 28 named reasons and the two catch-alls */
		assert_int_equal(count_op(&c, BW_OP_LOCKDOWN), 30);
		/* bpf: one entry, for the uid */
		assert_int_equal(count_op(&c, BW_OP_BPF), 1);
		/* module: a tree entry, like exec's */
		e = find(&c, BW_OBJ_TREE);
		assert_non_null(e);
		assert_int_equal(e->key.op, BW_OP_MODULE);
		assert_true(find(&c, BW_OBJ_META)->val.ops & (1u << BW_OP_LOCKDOWN));
		assert_true(find(&c, BW_OBJ_META)->val.ops & (1u << BW_OP_MODULE));
		assert_false(find(&c, BW_OBJ_META)->val.ops & (1u << BW_OP_KEXEC));
		bw_compiled_free(&c);
		bw_policy_free(p);
	}
	/* kernel names map to bulwark's ids, unknown ones to their group's catch-all */
	assert_int_equal(bw_lockdown_from_kernel("LOCKDOWN_KCORE", true), reason("kcore"));
	assert_int_equal(bw_lockdown_from_kernel("LOCKDOWN_DEV_MEM", false), reason("dev-mem"));
	assert_int_equal(bw_lockdown_from_kernel("LOCKDOWN_NEW_THING", false), BW_LOCKDOWN_OTHER_INTEGRITY);
	assert_int_equal(bw_lockdown_from_kernel("LOCKDOWN_NEW_THING", true), BW_LOCKDOWN_OTHER_CONFIDENTIALITY);
	assert_string_equal(bw_lockdown_name(reason("bpf-read-kernel")), "bpf-read-kernel");
}

struct bad {
	const char *text;
	unsigned line, col;
	const char *msg_fragment;
};

static void test_errors(void **state)
{
	static const struct bad cases[] = {
		{ "deny exec @/missing", 1, 11, "/missing: No such file or directory" },
		{ "deny exec @/file/**", 1, 11, "/file/** is not a directory" },
		{ "deny exec @/tree", 1, 11, "/tree is a directory" },
		{ "protect @/missing level=vendor", 1, 9, "/missing: No such file or directory" },
		{ "deny exec any from level=1", 1, 20, "selector 'level' is not enforced by this build yet" },
		{ "deny exec any from trusted", 1, 20, "selector 'trusted' is not enforced by this build yet" },
		{ "deny exec any from exe=@/missing", 1, 24, "/missing: No such file or directory" },
		{ "deny exec any from exe=@/file/**", 1, 24, "/file/** is not a directory" },
		{ "deny exec any from parent=@/tree", 1, 27, "/tree is a directory" },
		{ "deny exec any from uid=no-such-user-here", 1, 24, "unknown user 'no-such-user-here'" },
		{ "deny exec any from gid=no-such-group-here", 1, 24, "unknown group 'no-such-group-here'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bw_compiled c;
		int r;
		struct bw_policy *p = compile(cases[i].text, &c, &r);

		print_message("case %zu\n", i);
		assert_int_equal(r, -22);
		assert_int_equal(c.n, 0);
		assert_int_equal(p->n_errors, 1);
		assert_non_null(strstr(p->diags[0].msg, cases[i].msg_fragment));
		assert_int_equal(p->diags[0].loc.line, cases[i].line);
		assert_int_equal(p->diags[0].loc.col, cases[i].col);
		assert_non_null(p->diags[0].hint);
		bw_policy_free(p);
	}
}

static const struct bw_rule_entry *find_op(const struct bw_compiled *c, unsigned op, unsigned kind)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.op == op && c->entries[i].key.kind == kind)
			return &c->entries[i];
	return NULL;
}

/*
 * Trust objects become one key each: TRUSTED and UNTRUSTED with no file,
 * HASH keyed by the content's first 16 bytes (as the kernel copies them
 * out of a trust entry); the META entry says the policy uses trust, so
 * the kernel consults the trust map only then. load is a decision of its own.
 */
static void test_trust_entries(void **state)
{
	static const uint8_t h[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				       17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	struct bw_compiled c;
	const struct bw_rule_entry *e;
	__u64 dev, ino;
	int r;
	struct bw_policy *p = compile("deny exec untrusted\n"
				      "allow load trusted from uid=1000\n"
				      "deny exec sha256:0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20\n"
				      "deny load @/tree/**\n", &c, &r);

	(void)state;
	assert_int_equal(r, 0);
	assert_int_equal(p->n_errors, 0);
	e = find(&c, BW_OBJ_META);
	assert_non_null(e);
	assert_true(e->val.flags & BW_POLICY_TRUST);
	assert_true(e->val.ops & (1u << BW_OP_EXEC));
	assert_true(e->val.ops & (1u << BW_OP_LOAD));
	assert_true(e->val.combos & (1u << (1u << BW_DIM_UID)));

	e = find_op(&c, BW_OP_EXEC, BW_OBJ_UNTRUSTED);
	assert_non_null(e);
	assert_int_equal(e->val.verdict, BW_VERDICT_DENY);
	assert_int_equal(e->val.rule_id, 1);
	assert_int_equal(e->key.dev, 0);
	assert_int_equal(e->key.ino, 0);
	assert_int_equal(e->key.subj, 0);

	e = find_op(&c, BW_OP_LOAD, BW_OBJ_TRUSTED);
	assert_non_null(e);
	assert_int_equal(e->val.verdict, BW_VERDICT_ALLOW);
	assert_int_equal(e->key.subj, 1u << BW_DIM_UID);
	assert_int_equal(e->key.ids[BW_DIM_UID], 1000);

	e = find_op(&c, BW_OP_EXEC, BW_OBJ_HASH);
	assert_non_null(e);
	bw_hash_key(h, &dev, &ino);
	assert_int_equal(e->key.dev, dev);
	assert_int_equal(e->key.ino, ino);
	assert_memory_equal(&e->key.dev, h, 8);
	assert_memory_equal(&e->key.ino, h + 8, 8);
	assert_int_equal(e->val.rule_id, 3);

	assert_non_null(find_op(&c, BW_OP_LOAD, BW_OBJ_TREE));
	assert_null(find_op(&c, BW_OP_LOAD, BW_OBJ_UNTRUSTED));
	bw_compiled_free(&c);
	bw_policy_free(p);

	/* A policy without trust objects leaves the trust map alone. */
	p = compile("deny exec @/tree/**\ndeny load any\n", &c, &r);
	assert_int_equal(r, 0);
	e = find(&c, BW_OBJ_META);
	assert_non_null(e);
	assert_false(e->val.flags & BW_POLICY_TRUST);
	assert_non_null(find_op(&c, BW_OP_LOAD, BW_OBJ_DEFAULT));
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* Compile text as a re-resolution does, keeping c's record. */
static struct bw_policy *recompile_keeping(const struct bw_compiled *c, const char *text,
					   struct bw_compiled *out)
{
	struct bw_policy *p = bw_policy_new();

	p->keep = c->resolved;
	p->n_keep = c->n_resolved;
	bw_policy_load_buffer(p, "c.rules", text, strlen(text));
	bw_policy_finish(p);
	assert_int_equal(bw_compile(p, out), 0);
	return p;
}

/*
 * The record of what paths resolved to: one entry per (kind, path), the
 * first rule naming it, and kept file identities winning over the disk.
 */
static void test_resolution_record(void **state)
{
	struct bw_compiled c, c2;
	struct bw_policy *p, *p2;
	const struct bw_resolved *r;
	char path[128];
	uint64_t dev, ino;
	int ret;

	(void)state;
	p = compile("deny exec @/file\n"
		    "deny exec @/tree/**\n"
		    "audit exec @/file from exe=@/hard\n"
		    "deny exec @/tree/** from exe=@/tree/**\n", &c, &ret);
	assert_int_equal(ret, 0);
	/* file and hard (one inode, two paths), tree as a directory once. */
	assert_int_equal(c.n_resolved, 3);
	snprintf(path, sizeof(path), "%s/file", dir);
	r = bw_resolved_find(c.resolved, c.n_resolved, BW_RESOLVED_FILE, path);
	assert_non_null(r);
	assert_string_equal(r->file, "c.rules");
	assert_int_equal(r->line, 1);
	stat_id("file", &dev, &ino);
	assert_int_equal(r->dev, dev);
	assert_int_equal(r->ino, ino);
	assert_int_equal(bw_resolved_now(r, &dev, &ino), 0);
	assert_int_equal(r->ino, ino);
	snprintf(path, sizeof(path), "%s/tree", dir);
	r = bw_resolved_find(c.resolved, c.n_resolved, BW_RESOLVED_DIR, path);
	assert_non_null(r);
	assert_string_equal(r->file, "c.rules");
	assert_int_equal(r->line, 2);
	assert_null(bw_resolved_find(c.resolved, c.n_resolved, BW_RESOLVED_FILE, path));

	/* Recompiled with the record kept, a file keeps its old identity. */
	c.resolved[0].ino ^= 1;
	snprintf(path, sizeof(path), "deny exec %s/file\n", dir);
	p2 = recompile_keeping(&c, path, &c2);
	assert_int_equal(c2.n_resolved, 1);
	assert_int_equal(c2.resolved[0].ino, c.resolved[0].ino);
	assert_int_equal(p2->rules[0].ino, c.resolved[0].ino);
	bw_compiled_free(&c2);
	bw_policy_free(p2);

	/*
	 * A directory follows its path only where only root could have
	 * replaced it: /usr is root's, the test's directory sits in /tmp,
	 * which everyone may write, so its recorded identity is kept.
	 */
	assert_true(bw_root_controlled("/usr/bin"));
	snprintf(path, sizeof(path), "%s/tree", dir);
	assert_false(bw_root_controlled(path));
	r = bw_resolved_find(c.resolved, c.n_resolved, BW_RESOLVED_DIR, path);
	((struct bw_resolved *)r)->ino ^= 1;
	{
		char text[256];

		snprintf(text, sizeof(text), "deny exec %s/**\n", path);
		p2 = recompile_keeping(&c, text, &c2);
	}
	assert_int_equal(p2->rules[0].ino, r->ino);
	/* ... and recorded as the directory it is, for the next re-resolution. */
	assert_non_null(bw_resolved_find(c2.resolved, c2.n_resolved, BW_RESOLVED_DIR, path));
	assert_int_equal(bw_resolved_find(c2.resolved, c2.n_resolved, BW_RESOLVED_DIR, path)->ino, r->ino);
	bw_compiled_free(&c2);
	bw_policy_free(p2);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* Does c hold a TREE entry for op exec at (dev, ino) by rule id? */
static bool has_tree(const struct bw_compiled *c, uint64_t dev, uint64_t ino, uint32_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.kind == BW_OBJ_TREE && c->entries[i].key.dev == dev &&
		    c->entries[i].key.ino == ino && c->entries[i].val.rule_id == id)
			return true;
	return false;
}

/*
 * A directory followed to a replacement keeps its old identities
 * (retired): deny and audit rules are emitted for them too, allows are
 * not, and the record carries them to the next re-resolution.
 */
static void test_retired_identities(void **state)
{
	struct bw_compiled c, c2;
	struct bw_policy *p, *p2;
	struct bw_resolved *r;
	uint64_t old[1][2] = { { 7, 4242 } };
	char path[128], text[512];
	int ret;

	(void)state;
	p = compile("deny exec @/tree/**\n", &c, &ret);
	assert_int_equal(ret, 0);
	snprintf(path, sizeof(path), "%s/tree", dir);
	r = (struct bw_resolved *)bw_resolved_find(c.resolved, c.n_resolved, BW_RESOLVED_DIR, path);
	assert_non_null(r);
	assert_int_equal(r->n_retired, 0);
	r->retired = malloc(sizeof(old));
	memcpy(r->retired, old, sizeof(old));
	r->n_retired = 1;
	snprintf(text, sizeof(text),
		 "deny exec %s/**\naudit exec %s/** from uid=0\nallow exec %s/** from uid=1\n", path,
		 path, path);
	p2 = recompile_keeping(&c, text, &c2);
	assert_true(has_tree(&c2, r->dev, r->ino, 1));
	assert_true(has_tree(&c2, 7, 4242, 1));
	assert_true(has_tree(&c2, 7, 4242, 2));
	assert_false(has_tree(&c2, 7, 4242, 3));
	assert_true(has_tree(&c2, r->dev, r->ino, 3));
	r = (struct bw_resolved *)bw_resolved_find(c2.resolved, c2.n_resolved, BW_RESOLVED_DIR, path);
	assert_non_null(r);
	assert_int_equal(r->n_retired, 1);
	assert_int_equal(r->retired[0][1], 4242);
	bw_compiled_free(&c2);
	bw_policy_free(p2);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* Does c hold an exact-file entry for op exec at (dev, ino) by rule id? */
static bool has_file(const struct bw_compiled *c, uint64_t dev, uint64_t ino, uint32_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.op == BW_OP_EXEC && c->entries[i].key.kind == BW_OBJ_FILE &&
		    c->entries[i].key.dev == dev && c->entries[i].key.ino == ino &&
		    c->entries[i].val.rule_id == id)
			return true;
	return false;
}

/*
 * A package upgrade renames a new file over the one a rule named: where
 * only root could have done it, a re-resolution follows the path, and
 * deny and audit rules keep the old file too; allows do not.
 */
static void test_replaced_file_followed(void **state)
{
	char base[64] = "/run/bw-up-XXXXXX", f[128], tmp[160], text[512];
	struct bw_compiled c, c2;
	struct bw_policy *p, *p2;
	const struct bw_resolved *r;
	uint64_t dev, ino_old, ino_new;
	struct stat st;
	FILE *out;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs a directory only root can write */
	assert_non_null(mkdtemp(base));
	chmod(base, 0755);
	snprintf(f, sizeof(f), "%s/tool", base);
	assert_non_null(out = fopen(f, "w"));
	fclose(out);
	snprintf(text, sizeof(text), "deny exec %s\naudit exec %s from uid=0\nallow exec %s from uid=1\n", f, f, f);
	p = bw_policy_new();
	bw_policy_load_buffer(p, "c.rules", text, strlen(text));
	bw_policy_finish(p);
	assert_int_equal(bw_compile(p, &c), 0);
	assert_int_equal(stat(f, &st), 0);
	dev = bw_kernel_dev(st.st_dev);
	ino_old = st.st_ino;
	/* the upgrade: a new file renamed over the old one; a hard link keeps the old alive */
	snprintf(tmp, sizeof(tmp), "%s.old", f);
	assert_int_equal(link(f, tmp), 0);
	snprintf(tmp, sizeof(tmp), "%s.dpkg-new", f);
	assert_non_null(out = fopen(tmp, "w"));
	fclose(out);
	assert_int_equal(rename(tmp, f), 0);
	assert_int_equal(stat(f, &st), 0);
	ino_new = st.st_ino;
	assert_true(ino_new != ino_old);
	r = bw_resolved_find(c.resolved, c.n_resolved, BW_RESOLVED_FILE, f);
	assert_non_null(r);
	assert_true(bw_resolved_followable(r));

	p2 = recompile_keeping(&c, text, &c2);
	assert_true(has_file(&c2, dev, ino_new, 1));
	assert_true(has_file(&c2, dev, ino_old, 1));
	assert_true(has_file(&c2, dev, ino_new, 2));
	assert_true(has_file(&c2, dev, ino_old, 2));
	assert_true(has_file(&c2, dev, ino_new, 3));
	assert_false(has_file(&c2, dev, ino_old, 3));
	r = bw_resolved_find(c2.resolved, c2.n_resolved, BW_RESOLVED_FILE, f);
	assert_non_null(r);
	assert_int_equal(r->ino, ino_new);
	assert_int_equal(r->n_retired, 1);
	assert_int_equal(r->retired[0][1], ino_old);
	bw_compiled_free(&c2);
	bw_policy_free(p2);
	bw_compiled_free(&c);
	bw_policy_free(p);
	unlink(f);
	snprintf(tmp, sizeof(tmp), "%s.old", f);
	unlink(tmp);
	rmdir(base);
}

/*
 * Who could have replaced a path: walked a component at a time, so a
 * symlink hop through a directory someone else owns does not pass.
 */
static void test_root_controlled(void **state)
{
	char base[64] = "/run/bw-rc-XXXXXX", p[256], q[256];

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root-owned and user-owned directories */
	assert_non_null(mkdtemp(base));
	chmod(base, 0755);
	snprintf(p, sizeof(p), "%s/app", base);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_true(bw_root_controlled(p));
	assert_true(bw_root_controlled("/usr/bin"));
	assert_true(bw_root_controlled("/"));
	/* Below a directory everyone may write. */
	snprintf(p, sizeof(p), "%s/tree", dir);
	assert_false(bw_root_controlled(p));
	/* A root symlink into such a directory. */
	snprintf(p, sizeof(p), "%s/link", base);
	assert_int_equal(symlink(dir, p), 0);
	snprintf(q, sizeof(q), "%s/link/tree", base);
	assert_false(bw_root_controlled(q));
	/* The deploy layout: root's link to a user's link to anywhere. */
	snprintf(p, sizeof(p), "%s/u", base);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(q, sizeof(q), "%s/u/current", base);
	assert_int_equal(symlink("/", q), 0);
	assert_int_equal(lchown(q, 1000, 1000), 0);
	assert_int_equal(chown(p, 1000, 1000), 0);
	snprintf(p, sizeof(p), "%s/www", base);
	assert_int_equal(symlink(q, p), 0);
	assert_false(bw_root_controlled(p));
	/* The same chain, all root's, passes. */
	snprintf(p, sizeof(p), "%s/u", base);
	assert_int_equal(chown(p, 0, 0), 0);
	assert_int_equal(lchown(q, 0, 0), 0);
	snprintf(p, sizeof(p), "%s/www", base);
	assert_true(bw_root_controlled(p));
	snprintf(p, sizeof(p), "rm -rf %s", base);
	assert_int_equal(system(p), 0);
}

static const struct bw_rule_entry *find_protect(const struct bw_compiled *c, unsigned kind,
						 uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].key.op == BW_OP_PROTECT && c->entries[i].key.kind == kind &&
		    c->entries[i].key.dev == dev && c->entries[i].key.ino == ino)
			return &c->entries[i];
	return NULL;
}

/*
 * protect: the file or tree at its level (class_id), every directory above
 * it as an ANCESTOR entry (mounts), the highest level where statements
 * overlap; `protect self` sets the policy flag and covers self_paths.
 */
static void test_protect(void **state)
{
	struct bw_compiled c;
	const struct bw_rule_entry *e;
	uint64_t dev, ino, tdev, tino;
	struct stat st;
	int r;
	struct bw_policy *p = compile("protect @/tree/** level=vendor\n"
				      "protect @/file level=vendor\n"
				      "protect @/hard level=antimalware\n"
				      "protect self\n", &c, &r);

	(void)state;
	assert_int_equal(r, 0);
	stat_id("tree", &tdev, &tino);
	e = find_protect(&c, BW_OBJ_TREE, tdev, tino);
	assert_non_null(e);
	assert_int_equal(e->val.class_id, BW_LEVEL_VENDOR);
	assert_int_equal(e->val.rule_id, 1);
	/* file and hard are one inode: the higher level wins */
	stat_id("file", &dev, &ino);
	e = find_protect(&c, BW_OBJ_FILE, dev, ino);
	assert_non_null(e);
	assert_int_equal(e->val.class_id, BW_LEVEL_ANTIMALWARE);
	assert_int_equal(e->val.rule_id, 3);
	/* the directory holding them, and /, are mountpoints no one may cover */
	assert_int_equal(stat(dir, &st), 0);
	assert_non_null(find_protect(&c, BW_OBJ_ANCESTOR, bw_kernel_dev(st.st_dev), st.st_ino));
	assert_int_equal(stat("/", &st), 0);
	assert_non_null(find_protect(&c, BW_OBJ_ANCESTOR, bw_kernel_dev(st.st_dev), st.st_ino));
	e = find(&c, BW_OBJ_META);
	assert_true(e->val.flags & BW_POLICY_PROTECT_SELF);
	assert_true(e->val.ops & (1u << BW_OP_PROTECT));
	bw_compiled_free(&c);
	bw_policy_free(p);

	/* self_paths: what bulwarkd names (a missing one is an error, as any path) */
	{
		char self_tree[128], self_file[128];
		const char *paths[] = { self_tree, self_file };
		struct bw_policy *q = bw_policy_new();

		snprintf(self_tree, sizeof(self_tree), "%s/tree/**", dir);
		snprintf(self_file, sizeof(self_file), "%s/file", dir);
		bw_policy_load_buffer(q, "s.rules", "protect self\n", 13);
		bw_policy_finish(q);
		q->self_paths = paths;
		q->n_self_paths = 2;
		assert_int_equal(bw_compile(q, &c), 0);
		e = find_protect(&c, BW_OBJ_TREE, tdev, tino);
		assert_non_null(e);
		assert_int_equal(e->val.class_id, BW_LEVEL_SYSTEM);
		e = find_protect(&c, BW_OBJ_FILE, dev, ino);
		assert_non_null(e);
		assert_int_equal(e->val.class_id, BW_LEVEL_SYSTEM);
		bw_compiled_free(&c);
		bw_policy_free(q);
	}
}

static void count_tick(void *ctx)
{
	(*(unsigned *)ctx)++;
}

/* A long compile calls back now and then: bulwarkd drains its events there. */
static void test_compile_ticks(void **state)
{
	struct bw_policy *p = bw_policy_new();
	struct bw_compiled c;
	unsigned ticks = 0;
	size_t cap = 5000 * 64, len = 0;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, cap - len, "deny signal any from uid=%d\n", i);
	bw_policy_load_buffer(p, "big.rules", text, len);
	bw_policy_finish(p);
	p->tick = count_tick;
	p->tick_ctx = &ticks;
	assert_int_equal(bw_compile(p, &c), 0);
	assert_true(ticks >= 8); /* twice per 1024 rules: resolving, then expanding */
	bw_compiled_free(&c);
	bw_policy_free(p);
	free(text);
}

static void test_kernel_dev(void **state)
{
	(void)state;
	assert_int_equal(bw_kernel_dev(makedev(8, 1)), (8ull << 20) | 1);
	assert_int_equal(bw_kernel_dev(makedev(259, 70000)), (259ull << 20) | 70000);
}

/* Layers (decision 81): the policy's and clients' rules in one map, keyed by layer. */
/*
 * Which ops have directory rules (tree_ops), in any layer: the kernel
 * walks a file's ancestors only for those (a policy of exact files looks
 * up one entry per view).
 */
static void test_tree_ops(void **state)
{
	struct bw_policy *p = bw_policy_new();
	struct bw_rule_key key = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	const struct bw_rule_val *meta;
	struct bw_compiled c;
	char admin[256], la[256];

	(void)state;
	snprintf(admin, sizeof(admin), "deny exec %s/file\ndeny load %s/file\ndeny fork any from uid=7\n",
		 dir, dir);
	snprintf(la, sizeof(la), "deny load %s/tree/**\n", dir);
	bw_policy_load_buffer(p, "admin.rules", admin, strlen(admin));
	bw_policy_finish(p);
	assert_int_equal(bw_compile(p, &c), 0);
	meta = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(meta);
	assert_int_equal(meta->tree_ops, 0);
	bw_compiled_free(&c);
	/* A client layer's tree counts too: layer 0's META speaks for all. */
	assert_int_equal(bw_policy_load_layer(p, 1, "vendorA", la, strlen(la)), 0);
	assert_int_equal(bw_compile(p, &c), 0);
	meta = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(meta);
	assert_int_equal(meta->tree_ops, 1u << BW_OP_LOAD);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

static void test_layers(void **state)
{
	char admin[256], la[256], lb[256], q[256];
	struct bw_policy *p = bw_policy_new();
	struct bw_compiled c;
	struct bw_rule_table t;
	struct bw_rule_key key = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	const struct bw_rule_val *meta, *v;
	struct json_object *o = NULL;
	struct stat st;
	char *diag = NULL;

	(void)state;
	snprintf(admin, sizeof(admin), "deny exec %s/tree/**\n", dir);
	snprintf(la, sizeof(la), "allow exec %s/file\n", dir);
	snprintf(lb, sizeof(lb), "# B\ndeny exec %s/file\n", dir);
	bw_policy_load_buffer(p, "admin.rules", admin, strlen(admin));
	bw_policy_finish(p);
	assert_int_equal(bw_policy_load_layer(p, 1, "vendorA", la, strlen(la)), 0);
	assert_int_equal(bw_policy_load_layer(p, 2, "vendorB", lb, strlen(lb)), 0);
	assert_int_equal(bw_compile(p, &c), 0);
	/* Layer 0's META says which client layers exist; each has its own META with its ops. */
	meta = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(meta);
	assert_int_equal(meta->layers, (1u << 1) | (1u << 2));
	assert_int_equal(meta->ops, 1u << BW_OP_EXEC);
	key.layer = 2;
	v = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(v);
	assert_int_equal(v->ops, 1u << BW_OP_EXEC);
	/* The same file in two layers: two entries, not one winner (no shadowing across layers). */
	snprintf(q, sizeof(q), "%s/file", dir);
	assert_int_equal(stat(q, &st), 0);
	memset(&key, 0, sizeof(key));
	key.op = BW_OP_EXEC;
	key.kind = BW_OBJ_FILE;
	key.dev = bw_kernel_dev(st.st_dev);
	key.ino = st.st_ino;
	key.layer = 1;
	v = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(v);
	assert_int_equal(v->verdict, BW_VERDICT_ALLOW);
	key.layer = 2;
	v = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(v);
	assert_int_equal(v->verdict, BW_VERDICT_DENY);
	key.layer = 0;
	assert_null(bw_compiled_lookup(c.entries, c.n, &key));
	assert_int_equal(c.n_shadows, 0);
	/* explain: deny-wins across layers, each layer's answer listed */
	assert_int_equal(bw_rule_table_from_policy(p, &c, &t), 0);
	t.layer_names[1] = strdup("vendorA");
	t.layer_names[2] = strdup("vendorB");
	snprintf(q, sizeof(q), "exec %s/file", dir);
	assert_int_equal(bw_explain(c.entries, c.n, &t, q, &o, &diag), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "action")), "blocked");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "layer")), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(o, "rule"), "file")), "vendorB");
	assert_int_equal(json_object_get_int(json_object_object_get(json_object_object_get(o, "rule"), "line")), 2);
	assert_int_equal(json_object_array_length(json_object_object_get(o, "layers")), 3);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(json_object_object_get(o, "layers"), 1), "decision")),
			    "allow");
	json_object_put(o);
	bw_rule_table_free(&t);
	bw_compiled_free(&c);
	bw_policy_free(p);

	/* Without B, A's allow decides; without any layer, the answer has no layer fields. */
	p = bw_policy_new();
	bw_policy_load_buffer(p, "admin.rules", admin, strlen(admin));
	bw_policy_finish(p);
	assert_int_equal(bw_policy_load_layer(p, 1, "vendorA", la, strlen(la)), 0);
	assert_int_equal(bw_compile(p, &c), 0);
	assert_int_equal(bw_rule_table_from_policy(p, &c, &t), 0);
	assert_int_equal(bw_explain(c.entries, c.n, &t, q, &o, &diag), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "decision")), "allow");
	assert_int_equal(json_object_get_int(json_object_object_get(o, "layer")), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(o, "rule"), "file")), "vendorA");
	json_object_put(o);
	bw_rule_table_free(&t);
	bw_compiled_free(&c);
	bw_policy_free(p);

	p = bw_policy_new();
	bw_policy_load_buffer(p, "admin.rules", admin, strlen(admin));
	bw_policy_finish(p);
	assert_int_equal(bw_compile(p, &c), 0);
	key.op = BW_OP_NONE;
	key.kind = BW_OBJ_META;
	key.dev = key.ino = 0;
	key.layer = 0;
	assert_int_equal(bw_compiled_lookup(c.entries, c.n, &key)->layers, 0);
	assert_int_equal(bw_rule_table_from_policy(p, &c, &t), 0);
	assert_int_equal(bw_explain(c.entries, c.n, &t, q, &o, &diag), 0);
	assert_null(json_object_object_get(o, "layers"));
	json_object_put(o);
	bw_rule_table_free(&t);
	bw_compiled_free(&c);
	bw_policy_free(p);
	free(diag);
}

/*
 * Process operations and sysctls in a client layer: entries keyed by the
 * layer, the layer's META ops, and explain deny-wins across layers.
 */
static void test_layer_task_ops(void **state)
{
	static const char admin[] = "allow signal any from uid=5\nallow sysctl any\n";
	static const char la[] = "deny signal uid=7 from uid=5\ndeny fork any from uid=9\n"
				 "deny sysctl kernel.core_pattern\n";
	static const struct {
		const char *query, *decision;
		int layer;
	} cases[] = {
		{ "signal uid=7 as uid=5 with signals=TERM", "deny", 1 },
		{ "signal uid=8 as uid=5 with signals=TERM", "allow", 0 },
		{ "fork any as uid=9", "deny", 1 },
		{ "fork any as uid=8", "none", 0 },
		{ "sysctl kernel.core_pattern", "deny", 1 },
		{ "sysctl kernel.modprobe", "allow", 0 },
	};
	struct bw_policy *p = bw_policy_new();
	struct bw_rule_key key = { .op = BW_OP_NONE, .kind = BW_OBJ_META, .layer = 1 };
	struct bw_compiled c;
	struct bw_rule_table t;
	const struct bw_rule_val *v;

	(void)state;
	assert_int_equal(bw_policy_load_buffer(p, "admin.rules", admin, strlen(admin)), 0);
	bw_policy_finish(p);
	assert_int_equal(bw_policy_load_layer(p, 1, "vendorA", la, strlen(la)), 0);
	assert_int_equal(bw_compile(p, &c), 0);
	v = bw_compiled_lookup(c.entries, c.n, &key);
	assert_non_null(v);
	assert_int_equal(v->ops, (1u << BW_OP_SIGNAL) | (1u << BW_OP_FORK) | (1u << BW_OP_SYSCTL));
	assert_int_equal(bw_rule_table_from_policy(p, &c, &t), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct json_object *o = NULL, *l;
		char *diag = NULL;

		if (bw_explain(c.entries, c.n, &t, cases[i].query, &o, &diag) != 0)
			fail_msg("%s: %s", cases[i].query, diag ? diag : "?");
		if (strcmp(json_object_get_string(json_object_object_get(o, "decision")), cases[i].decision))
			fail_msg("%s: %s", cases[i].query, json_object_to_json_string(o));
		l = json_object_object_get(o, "layer");
		assert_int_equal(l ? json_object_get_int(l) : 0, cases[i].layer);
		json_object_put(o);
	}
	bw_rule_table_free(&t);
	bw_compiled_free(&c);
	bw_policy_free(p);
}

/* A layer holds rules only, in any category: statements are a diagnostic at them. */
static void test_layer_statements(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "mode audit\n", "vendorA:1:1: error: a client layer holds allow, deny and audit rules only" },
		{ "allow exec any\n  protect /usr/bin/true\n", "vendorA:2:3: error: a client layer holds" },
		{ "include \"/etc/passwd\"\n", "vendorA:1:1: error: a client layer holds" },
		{ "deny exce /usr/bin/true\n", "vendorA:1:6: error: unknown operation 'exce'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct bw_policy *p = bw_policy_new();
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		bw_policy_finish(p);
		assert_int_equal(bw_policy_load_layer(p, 1, "vendorA", cases[i].text, strlen(cases[i].text)),
				 -EINVAL);
		assert_int_equal(p->flags, 0);
		bw_policy_print_diags(p, f);
		fclose(f);
		if (!strstr(out, cases[i].want))
			fail_msg("case %zu: wanted '%s' in:\n%s", i, cases[i].want, out);
		free(out);
		bw_policy_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_trust_entries),
		cmocka_unit_test(test_tree_and_default),
		cmocka_unit_test(test_links_resolve_to_inode),
		cmocka_unit_test(test_shadowing),
		cmocka_unit_test(test_enforced_deny_beats_audit_deny),
		cmocka_unit_test(test_process_rules),
		cmocka_unit_test(test_kernel_rules), cmocka_unit_test(test_sysctl_rules),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_kernel_dev),
		cmocka_unit_test(test_protect),
		cmocka_unit_test(test_compile_ticks),
		cmocka_unit_test(test_resolution_record),
		cmocka_unit_test(test_retired_identities),
		cmocka_unit_test(test_replaced_file_followed),
		cmocka_unit_test(test_root_controlled),
		cmocka_unit_test(test_tree_ops),
		cmocka_unit_test(test_layers),
		cmocka_unit_test(test_layer_task_ops),
		cmocka_unit_test(test_layer_statements),
	};

	return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
