// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>

#include "compile.h"

/*
 * Operations whose hooks this build enforces. The parser accepts every
 * operation; compiling one the kernel side cannot enforce yet is an error,
 * never a rule that silently does nothing.
 */
static const unsigned char op_enforced[BW_OP_COUNT] = {
	[BW_OP_EXEC] = 1,
};

#define OVERLAYFS_MAGIC 0x794c7630ul

unsigned long long bw_kernel_dev(unsigned long long st_dev)
{
	/* The kernel's s_dev is MAJOR << 20 | MINOR (MINORBITS = 20). */
	return ((unsigned long long)major(st_dev) << 20) | minor(st_dev);
}

static void rule_error(struct bw_policy *p, const struct bw_loc *loc, const char *hint,
		       const char *fmt, const char *arg)
{
	bw_policy_diag(p, BW_SEV_ERROR, loc, NULL, hint, fmt, arg);
}

static int resolve(struct bw_policy *p, struct bw_rule *r)
{
	struct stat st;

	if (stat(r->path, &st) < 0) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%%s: %s", strerror(errno));
		rule_error(p, &r->obj_loc,
			   "rules name existing files: identity is the inode, resolved when the policy loads",
			   msg, r->path);
		return -1;
	}
	if (r->obj == BW_OBJ_TYPE_TREE && !S_ISDIR(st.st_mode)) {
		rule_error(p, &r->obj_loc, "drop the /** to name a single file",
			   "%s/** is not a directory", r->path);
		return -1;
	}
	if (r->obj == BW_OBJ_TYPE_PATH && S_ISDIR(st.st_mode)) {
		rule_error(p, &r->obj_loc, "write /dir/** to cover everything below it",
			   "%s is a directory", r->path);
		return -1;
	}
	if (r->obj == BW_OBJ_TYPE_PATH) {
		struct statfs sf;

		/*
		 * stat() on an overlayfs file reports the backing file's inode,
		 * but the LSM hooks see the overlay inode: an exact rule there
		 * would never match. Directories report the overlay identity,
		 * so tree rules work.
		 */
		if (statfs(r->path, &sf) == 0 && (unsigned long)sf.f_type == OVERLAYFS_MAGIC) {
			rule_error(p, &r->obj_loc,
				   "use a tree rule on its directory (/dir/**); exact rules need the file's own filesystem",
				   "%s is on overlayfs, where exact-file rules cannot match yet", r->path);
			return -1;
		}
	}
	r->dev = bw_kernel_dev(st.st_dev);
	r->ino = st.st_ino;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct bw_rule_entry *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	/* Same key: keep source order so the outcome is deterministic. */
	return x->val.rule_id < y->val.rule_id ? -1 : x->val.rule_id > y->val.rule_id;
}

/*
 * For the same object and subject the stronger rule decides: an enforced
 * deny, then an audit-only deny, then audit, then allow. Never file order.
 */
static int verdict_rank(const struct bw_rule_val *v)
{
	switch (v->verdict) {
	case BW_VERDICT_DENY:
		return v->flags & BW_RULE_AUDIT ? 3 : 4;
	case BW_VERDICT_AUDIT:
		return 2;
	case BW_VERDICT_ALLOW:
		return 1;
	}
	return 0;
}

int bw_compile(struct bw_policy *p, struct bw_compiled *out)
{
	struct bw_rule_entry *e = NULL;
	size_t n = 0;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (p->n_errors)
		goto out;
	/* One entry per rule, plus the META entry. */
	e = calloc(p->n_rules + 1, sizeof(*e));
	if (!e) {
		r = -ENOMEM;
		goto out;
	}
	e[n].key.op = BW_OP_NONE;
	e[n].key.kind = BW_OBJ_META;
	e[n].val.flags = p->flags;
	e[n].val.rule_id = p->mode_rule;
	n++;

	for (size_t i = 0; i < p->n_rules; i++) {
		struct bw_rule *rule = &p->rules[i];
		struct bw_rule_entry *x;

		if (rule->op == BW_OP_NONE)
			continue; /* the mode statement: only in the rule table */
		if (!op_enforced[rule->op]) {
			rule_error(p, &rule->loc, "this build enforces: exec",
				   "operation '%s' is not enforced by this build yet", bw_op_name(rule->op));
			continue;
		}
		if (rule->n_subjects) {
			bw_policy_diag(p, BW_SEV_ERROR, &rule->subjects[0].loc, NULL,
				       "drop the `from` clause; subject classes are not compiled by this build yet",
				       "subject selectors (`from ...`) are not enforced by this build yet");
			continue;
		}
		if (rule->obj != BW_OBJ_TYPE_ANY && resolve(p, rule) < 0)
			continue;
		x = &e[n++];
		x->key.op = rule->op;
		x->key.subj = BW_SUBJ_ANY;
		switch (rule->obj) {
		case BW_OBJ_TYPE_PATH:
			x->key.kind = BW_OBJ_FILE;
			break;
		case BW_OBJ_TYPE_TREE:
			x->key.kind = BW_OBJ_TREE;
			break;
		case BW_OBJ_TYPE_ANY:
			x->key.kind = BW_OBJ_DEFAULT;
			break;
		}
		x->key.dev = rule->dev;
		x->key.ino = rule->ino;
		x->val.verdict = rule->decision;
		x->val.flags = rule->flags;
		x->val.rule_id = rule->id;
	}
	if (p->n_errors)
		goto out;

	/* Collapse entries with the same key: exactly one rule decides. */
	qsort(e, n, sizeof(*e), key_cmp);
	{
		size_t w = 0;

		for (size_t i = 0; i < n; i++) {
			if (w && memcmp(&e[w - 1].key, &e[i].key, sizeof(e[i].key)) == 0) {
				struct bw_rule_entry *keep = &e[w - 1], *drop = &e[i];
				const struct bw_rule *kr, *dr;
				char where[PATH_MAX + 64];

				if (verdict_rank(&drop->val) > verdict_rank(&keep->val)) {
					struct bw_rule_entry tmp = *keep;

					*keep = *drop;
					*drop = tmp;
				}
				kr = &p->rules[keep->val.rule_id - 1];
				dr = &p->rules[drop->val.rule_id - 1];
				snprintf(where, sizeof(where), "it is decided by %s:%u: %s", kr->loc.file,
					 kr->loc.line, kr->text);
				bw_policy_diag(p, BW_SEV_WARNING, &dr->loc, NULL, where,
					       "rule is shadowed: same operation, object and subject as another rule");
				continue;
			}
			e[w++] = e[i];
		}
		n = w;
	}
	out->entries = e;
	out->n = n;
	e = NULL;
	r = 0;
out:
	free(e);
	return r;
}

void bw_compiled_free(struct bw_compiled *c)
{
	if (!c)
		return;
	free(c->entries);
	c->entries = NULL;
	c->n = 0;
}
