// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * explain: what would the kernel decide, and why.
 *
 * This walks the same candidates in the same order as bpf/decide.bpf.h,
 * over the same map entries: the compiler's output offline, or the entries
 * read back from the kernel's map when the daemon answers live. It does
 * not re-derive precedence from the rules, so it cannot disagree with the
 * kernel about which entry decides.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "trust.h"


struct explain {
	const struct bw_rule_entry *entries;
	size_t n;
	const struct bw_rule_table *rules;
	const struct bw_rule_val *meta;
	uint32_t layer; /* whose rules: 0 the administrator's, else a client layer */
	struct bw_rule_key key;
	/* process objects: the target's part of every key */
	uint32_t tsubj, tids[BW_DIM_COUNT], arg;
	/* Out of memory: a class could not be computed, or the answer not built. */
	struct bw_jb jb;
};

static const struct bw_rule_val *lookup(struct explain *x, uint32_t op, uint32_t kind, uint32_t subj,
					const uint32_t ids[BW_DIM_COUNT], uint64_t dev, uint64_t ino)
{
	memset(&x->key, 0, sizeof(x->key));
	x->key.op = op;
	x->key.kind = kind;
	x->key.subj = subj;
	for (int d = 0; d < BW_DIM_COUNT; d++)
		if (subj & (1u << d))
			x->key.ids[d] = ids[d];
	if (kind == BW_OBJ_TASK || kind == BW_OBJ_DEFAULT)
		x->key.arg = x->arg; /* the signal, or the lockdown reason */
	if (kind == BW_OBJ_TASK) {
		x->key.tsubj = x->tsubj;
		for (int d = 0; d < BW_DIM_COUNT; d++)
			if (x->tsubj & (1u << d))
				x->key.tids[d] = x->tids[d];
	}
	x->key.dev = dev;
	x->key.ino = ino;
	/* Program and cgroup classes and the policy's META are shared by every layer. */
	if (kind != BW_OBJ_META && kind != BW_OBJ_EXE_FILE && kind != BW_OBJ_EXE_TREE &&
	    kind != BW_OBJ_CGROUP)
		x->key.layer = x->layer;
	return bw_compiled_lookup(x->entries, x->n, &x->key);
}

/*
 * A program's class, as the kernel finds it (bw_exe_class): in each view
 * of the file (bw_file_views), its exact entry, else its nearest
 * directory's; an exact program in any view beats a directory, else the
 * first view that has one.
 */
static uint32_t program_class(struct explain *x, const char *path)
{
	static const uint32_t none[BW_DIM_COUNT];
	struct bw_view *views = NULL;
	size_t n_views = 0;
	uint32_t cls = 0;
	bool exact = false;

	int r = bw_file_views(path, &views, &n_views);

	if (r < 0) {
		x->jb.oom |= r == -ENOMEM;
		return 0;
	}
	for (size_t vi = 0; vi < n_views && !exact; vi++)
		for (size_t c = 0; c < views[vi].n; c++) {
			const struct bw_rule_val *v =
				lookup(x, BW_OP_NONE, c ? BW_OBJ_EXE_TREE : BW_OBJ_EXE_FILE, 0, none,
				       views[vi].v[c].dev, views[vi].v[c].ino);

			if (!v)
				continue;
			if (!cls || !c) {
				cls = v->class_id;
				exact = !c;
			}
			break;
		}
	bw_file_views_free(views, n_views);
	return cls;
}

/* A cgroup's class: its own or its nearest ancestor's. */
static uint32_t cgroup_class(struct explain *x, const char *path)
{
	static const uint32_t none[BW_DIM_COUNT];
	char *p = strdup(path);
	uint32_t cls = 0;

	if (!p) {
		x->jb.oom = true;
		return 0;
	}
	for (;;) {
		const struct bw_rule_val *v;
		uint64_t id;
		char *slash;

		if (bw_cgroup_path_id(p, &id) == 0) {
			v = lookup(x, BW_OP_NONE, BW_OBJ_CGROUP, 0, none, 0, id);
			if (v) {
				cls = v->class_id;
				break;
			}
		}
		if (strcmp(p, "/") == 0)
			break;
		slash = strrchr(p, '/');
		if (slash == p)
			p[1] = 0;
		else
			*slash = 0;
	}
	free(p);
	return cls;
}

static const char *shadow_why(unsigned why)
{
	switch (why) {
	case BW_SHADOW_SELECTOR:
		return "same object and subject class; the winner names a more specific program, cgroup, signal list or lockdown reason";
	case BW_SHADOW_VERDICT:
		return "same object and subject; the stronger decision wins";
	default:
		return "same object, subject and decision; the earlier rule wins";
	}
}

static struct json_object *rule_json(struct bw_jb *b, const struct bw_rule_table *t, uint32_t id)
{
	struct json_object *o = bw_jb_obj(b);
	struct bw_rule_ref r;

	bw_jb_add(b, o, "id", json_object_new_int64(id));
	if (bw_rule_table_get(t, id, &r) == -ENOMEM)
		b->oom = true;
	if (bw_gate_name(id)) {
		bw_jb_add(b, o, "gate", json_object_new_string(bw_gate_name(id)));
		bw_jb_add(b, o, "text", json_object_new_string(bw_gate_text(id)));
	} else if (r.text) {
		bw_jb_add(b, o, "file", json_object_new_string(r.file));
		bw_jb_add(b, o, "line", json_object_new_int(r.line));
		bw_jb_add(b, o, "text", json_object_new_string(r.text));
	}
	bw_rule_ref_clear(&r);
	return o;
}

static void add_beaten(struct bw_jb *b, struct json_object *arr, const struct bw_rule_table *t,
		       uint32_t id, const char *why)
{
	struct json_object *o = rule_json(b, t, id);

	bw_jb_add(b, o, "why", json_object_new_string(why));
	bw_jb_push(b, arr, o);
}

static void add_shadows(struct explain *x, struct json_object *arr, const struct bw_rule_key *key)
{
	for (size_t i = 0; x->rules && i < x->rules->n_shadows; i++)
		if (memcmp(&x->rules->shadows[i].key, key, sizeof(*key)) == 0)
			add_beaten(&x->jb, arr, x->rules, x->rules->shadows[i].rule_id,
				   shadow_why(x->rules->shadows[i].why));
}

static const char *dim_names[BW_DIM_COUNT] = { "gid", "uid", "cgroup", "parent", "exe" };

/*
 * Who a query's selectors describe, as bw_classify sees a task: one id per
 * dimension named, and the masks the kernel would try (*masks) out of
 * `combos`, the masks the policy uses.
 */
static int classify(struct explain *x, struct bw_policy *q, struct bw_selector *list, size_t n,
		    uint32_t combos, uint32_t ids[BW_DIM_COUNT], uint32_t *masks,
		    struct json_object *out)
{
	struct bw_jb *b = &x->jb;
	uint32_t known = 0;

	for (size_t i = 0; i < n; i++) {
		struct bw_selector *s = &list[i];
		int dim = -1;

		switch (s->type) {
		case BW_SEL_EXE:
		case BW_SEL_PARENT:
			dim = s->type == BW_SEL_EXE ? BW_DIM_EXE : BW_DIM_PARENT;
			if (s->tree) {
				bw_policy_diag(q, BW_SEV_ERROR, &s->loc, NULL,
					       "name the program itself, e.g. exe=/usr/sbin/nginx",
					       "a query's %s is one program", dim_names[dim]);
				return -1;
			}
			ids[dim] = program_class(x, s->value);
			break;
		case BW_SEL_CGROUP:
			dim = BW_DIM_CGROUP;
			ids[dim] = cgroup_class(x, s->value);
			break;
		case BW_SEL_UID:
		case BW_SEL_GID:
			dim = s->type == BW_SEL_UID ? BW_DIM_UID : BW_DIM_GID;
			if (bw_selector_resolve_id(q, s) < 0)
				return -1;
			ids[dim] = s->id;
			break;
		case BW_SEL_LEVEL:
		case BW_SEL_TRUSTED:
			bw_policy_diag(q, BW_SEV_ERROR, &s->loc, NULL, NULL,
				       "this build does not enforce '%s'", s->type == BW_SEL_LEVEL ? "level" : "trusted");
			return -1;
		}
		known |= 1u << dim;
		bw_jb_add(b, out, dim_names[dim], json_object_new_string(s->value));
		if (dim >= BW_DIM_CGROUP)
			bw_jb_add(b, out,
				  dim == BW_DIM_EXE    ? "exe_class" :
				  dim == BW_DIM_PARENT ? "parent_class" :
							 "cgroup_class",
				  json_object_new_int64(ids[dim]));
	}

	*masks = combos | 1u << BW_SUBJ_ANY;
	for (int d = 0; d < BW_DIM_COUNT; d++) {
		bool has = (known & (1u << d)) && (d < BW_DIM_CGROUP || ids[d]);

		if (!has)
			for (uint32_t m = 0; m < BW_SUBJ_COMBOS; m++)
				if (m & (1u << d))
					*masks &= ~(1u << m);
	}
	return 0;
}

/* Across views of a file the kernel keeps the stronger verdict (bw_view_found). */
static int verdict_rank(uint32_t verdict)
{
	return verdict == BW_VERDICT_DENY ? 3 : verdict == BW_VERDICT_AUDIT ? 2 : verdict ? 1 : 0;
}

/* The deciding entry: what it says, what the kernel does with it, where it is. */
static void add_decision(struct bw_jb *b, struct json_object *o, const struct bw_rule_val *meta,
			 const struct bw_rule_val *v, const struct bw_rule_table *rules,
			 const char *matched)
{
	bool audit_mode = (meta && (meta->flags & BW_POLICY_AUDIT)) || (v->flags & BW_RULE_AUDIT);
	const char *action = v->verdict == BW_VERDICT_DENY ? (audit_mode ? "would-deny" : "blocked") :
							     "allowed";

	bw_jb_add(b, o, "decision", json_object_new_string(bw_verdict_name(v->verdict)));
	bw_jb_add(b, o, "action", json_object_new_string(action));
	bw_jb_add(b, o, "rule", rule_json(b, rules, v->rule_id));
	bw_jb_add(b, o, "matched", json_object_new_string(matched));
	/* protect: the entry's class_id is the level a subject needs to change the file */
	if (v->rule_id && v->class_id && v->verdict == BW_VERDICT_DENY && v->class_id <= BW_LEVEL_MAX &&
	    json_object_object_get_ex(o, "op", NULL) &&
	    strcmp(json_object_get_string(json_object_object_get(o, "op")), "protect") == 0)
		bw_jb_add(b, o, "required_level", json_object_new_string(bw_level_name(v->class_id)));
}

static void finish(struct bw_jb *b, struct json_object *o, const struct bw_rule_val *meta,
		   bool decided, struct json_object *beaten)
{
	if (!decided) {
		bw_jb_add(b, o, "decision", json_object_new_string("none"));
		bw_jb_add(b, o, "action", json_object_new_string("allowed"));
		bw_jb_add_null(b, o, "rule");
		bw_jb_add_null(b, o, "matched");
	}
	bw_jb_add(b, o, "beaten", beaten);
	bw_jb_add(b, o, "mode",
		  json_object_new_string(meta && (meta->flags & BW_POLICY_AUDIT) ? "audit" : "enforce"));
}

/* "exe+uid", "any": the dimensions a mask names, for the output. */
static void mask_label(uint32_t m, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int d = BW_DIM_COUNT - 1; d >= 0; d--)
		if (m & (1u << d))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "+" : "", dim_names[d]);
	if (!m)
		snprintf(buf, len, "any");
}

/*
 * A process operation: the target is the object. Its masks highest first,
 * then the subject's, as bw_decide_task does.
 */
static int explain_process(struct explain *x, struct bw_policy *q, const struct bw_rule *qr,
			   const char *query, struct json_object **ret)
{
	struct bw_jb *b = &x->jb;
	static const uint32_t none[BW_DIM_COUNT];
	const struct bw_rule_val *meta = lookup(x, BW_OP_NONE, BW_OBJ_META, 0, none, 0, 0);
	struct json_object *o, *subject = bw_jb_obj(b), *target = bw_jb_obj(b);
	struct json_object *beaten;
	uint32_t ids[BW_DIM_COUNT] = { 0 }, tids[BW_DIM_COUNT] = { 0 }, masks, tmasks, won_tm = 0;
	bool decided = false;
	int sig = -1;

	if (qr->op == BW_OP_SIGNAL) {
		for (int i = 0; i <= BW_SIGNAL_MAX; i++)
			if ((qr->signals[i / 64] >> (i % 64)) & 1)
				sig = sig < 0 ? i : -2;
		if (sig < 0) {
			bw_policy_diag(q, BW_SEV_ERROR, &qr->loc, NULL, "e.g. signal exe=/opt/agent/bin/agent with signals=KILL",
				       "a signal query names exactly one signal");
			goto fail;
		}
	}
	if (classify(x, q, qr->subjects, qr->n_subjects, meta ? meta->combos : 0, ids, &masks,
		     subject) < 0 ||
	    classify(x, q, qr->targets, qr->n_targets, meta ? meta->tcombos : 0, tids, &tmasks,
		     target) < 0)
		goto fail;
	x->arg = sig < 0 ? 0 : (uint32_t)sig;
	o = bw_jb_obj(b);
	bw_jb_add(b, o, "query", json_object_new_string(query));
	bw_jb_add(b, o, "op", json_object_new_string(bw_op_name(qr->op)));
	bw_jb_add(b, o, "object", target);
	if (sig >= 0)
		bw_jb_add(b, o, "signal", json_object_new_int(sig));
	bw_jb_add(b, o, "subject", subject);
	beaten = bw_jb_arr(b);
	for (int tm = BW_SUBJ_COMBOS - 1; tm >= 0; tm--) {
		if (!(tmasks & (1u << tm)))
			continue;
		x->tsubj = (uint32_t)tm;
		memcpy(x->tids, tids, sizeof(tids));
		for (int m = BW_SUBJ_COMBOS - 1; m >= 0; m--) {
			const struct bw_rule_val *v;
			char label[64];

			if (!(masks & (1u << m)))
				continue;
			v = lookup(x, qr->op, BW_OBJ_TASK, (uint32_t)m, ids, 0, 0);
			if (!v)
				continue;
			if (!decided) {
				decided = true;
				won_tm = (uint32_t)tm;
				memcpy(label, "target ", 7);
				mask_label((uint32_t)tm, label + 7, sizeof(label) - 7);
				add_decision(b, o, meta, v, x->rules, label);
			} else {
				add_beaten(b, beaten, x->rules, v->rule_id,
					   (uint32_t)tm == won_tm ? "same target, less specific subject" :
								    "less specific target");
			}
			add_shadows(x, beaten, &x->key);
		}
	}
	finish(b, o, meta, decided, beaten);
	*ret = o;
	return 0;
fail:
	json_object_put(subject);
	json_object_put(target);
	return -EINVAL;
}

/*
 * An operation decided by its default entry alone, as bw_decide_default
 * does: a lockdown reason (one per query), bpf, the memory controls, or a
 * module or kexec image from memory (init_module, kexec_load: `any`).
 */
static int explain_default(struct explain *x, struct bw_policy *q, const struct bw_rule *qr,
			   const char *query, struct json_object **ret)
{
	struct bw_jb *b = &x->jb;
	static const uint32_t none[BW_DIM_COUNT];
	const struct bw_rule_val *meta = lookup(x, BW_OP_NONE, BW_OBJ_META, 0, none, 0, 0);
	struct json_object *o, *subject = bw_jb_obj(b), *object = bw_jb_obj(b);
	struct json_object *beaten;
	uint32_t ids[BW_DIM_COUNT] = { 0 }, masks, gate = 0;
	bool decided = false;

	if (qr->op == BW_OP_SYSCTL) {
		if (__builtin_popcountll(qr->reasons) != 1) {
			bw_policy_diag(q, BW_SEV_ERROR, &qr->obj_loc, NULL,
				       "e.g. sysctl kernel.core_pattern as uid=0",
				       "a sysctl query names exactly one sysctl");
			goto fail;
		}
		x->arg = (uint32_t)__builtin_ctzll(qr->reasons);
		gate = bw_sysctl_def(x->arg)->gate;
		bw_jb_add(b, object, "sysctl", json_object_new_string(bw_sysctl_def(x->arg)->name));
	} else if (qr->op == BW_OP_LOCKDOWN) {
		if (__builtin_popcountll(qr->reasons) != 1) {
			bw_policy_diag(q, BW_SEV_ERROR, &qr->obj_loc, NULL, "e.g. lockdown dev-mem as uid=0",
				       "a lockdown query names exactly one reason");
			goto fail;
		}
		x->arg = (uint32_t)__builtin_ctzll(qr->reasons);
		bw_jb_add(b, object, "reason", json_object_new_string(bw_lockdown_name(x->arg)));
	} else {
		x->arg = 0;
		if (qr->op == BW_OP_MODULE || qr->op == BW_OP_KEXEC)
			bw_jb_add(b, object, "image", json_object_new_string("from memory"));
	}
	if (classify(x, q, qr->subjects, qr->n_subjects, meta ? meta->combos : 0, ids, &masks,
		     subject) < 0)
		goto fail;
	o = bw_jb_obj(b);
	bw_jb_add(b, o, "query", json_object_new_string(query));
	bw_jb_add(b, o, "op", json_object_new_string(bw_op_name(qr->op)));
	bw_jb_add(b, o, "object", object);
	bw_jb_add(b, o, "subject", subject);
	beaten = bw_jb_arr(b);
	/* The gate decides before any rule (bpf/bulwark.bpf.c bw_file_open). */
	if (gate == BW_GATE_TAMPER && meta) {
		const struct bw_rule_val gv = { .verdict = BW_VERDICT_DENY, .rule_id = BW_GATE_TAMPER };

		decided = true;
		add_decision(b, o, meta, &gv, x->rules, "gate");
	} else if (gate == BW_GATE_HELPER) {
		bw_jb_add(b, o, "gate", rule_json(b, x->rules, BW_GATE_HELPER));
	}
	for (int m = BW_SUBJ_COMBOS - 1; m >= 0; m--) {
		const struct bw_rule_val *v;

		if (!(masks & (1u << m)))
			continue;
		v = lookup(x, qr->op, BW_OBJ_DEFAULT, (uint32_t)m, ids, 0, 0);
		if (!v)
			continue;
		if (!decided) {
			char label[64];

			decided = true;
			mask_label((uint32_t)m, label, sizeof(label));
			add_decision(b, o, meta, v, x->rules, label);
		} else {
			add_beaten(b, beaten, x->rules, v->rule_id,
				   gate == BW_GATE_TAMPER ? "the gate decides first" :
							    "less specific subject");
		}
		add_shadows(x, beaten, &x->key);
	}
	finish(b, o, meta, decided, beaten);
	*ret = o;
	return 0;
fail:
	json_object_put(subject);
	json_object_put(object);
	return -EINVAL;
}

/* A trust database row that still describes the file as it is now. */
struct trust_probe {
	const struct stat *st;
	bool trusted;
	uint8_t sha256[32];
};

static int trust_row(void *ud, const struct bw_trust_record *r)
{
	struct trust_probe *t = ud;
	const struct stat *st = t->st;

	if (r->size != (uint64_t)st->st_size ||
	    r->ctime_ns != (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec ||
	    r->mtime_ns != (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec)
		return 0;
	t->trusted = true;
	memcpy(t->sha256, r->sha256, 32);
	return 1;
}

/*
 * Is the file trusted, as bulwarkd would install it from the trust
 * database ($BULWARK_TRUST_DB, else the default)? A row for its inode
 * whose size, ctime and mtime are still the file's. Adds "trust" to o.
 */
static bool explain_trust(struct json_object *o, const struct stat *st, uint8_t sha256[32])
{
	struct trust_probe t = { .st = st };
	struct json_object *j = json_object_new_object();
	struct bw_trust *db = NULL;
	char err[256] = "", hex[65];

	if (bw_trust_open(&db, NULL, BW_TRUST_READ, err, sizeof(err)) == 0) {
		bw_trust_find_inode(db, st->st_dev, st->st_ino, trust_row, &t);
		json_object_object_add(j, "db", json_object_new_string(bw_trust_path(db)));
		bw_trust_close(db);
	} else {
		json_object_object_add(j, "db", NULL);
		json_object_object_add(j, "error", json_object_new_string(err[0] ? err : "no trust database"));
	}
	json_object_object_add(j, "trusted", json_object_new_boolean(t.trusted));
	if (t.trusted)
		bw_hex(t.sha256, 32, hex);
	json_object_object_add(j, "sha256", t.trusted ? json_object_new_string(hex) : NULL);
	json_object_object_add(o, "trust", j);
	memcpy(sha256, t.sha256, 32);
	return t.trusted;
}

static int explain_layer(const struct bw_rule_entry *entries, size_t n, const struct bw_rule_table *rules,
			 const char *query, uint32_t layer, struct json_object **ret, char **ret_diag)
{
	static const uint32_t none[BW_DIM_COUNT];
	struct explain x = { .entries = entries, .n = n, .rules = rules, .layer = layer };
	struct bw_jb *b = &x.jb;
	struct bw_policy *q = bw_policy_new();
	struct bw_view *views = NULL;
	size_t n_views = 0;
	struct json_object *o = NULL, *subject, *beaten;
	const struct bw_rule_val *meta;
	uint32_t ids[BW_DIM_COUNT] = { 0 }, masks;
	const struct bw_rule *qr;
	char real[PATH_MAX];
	bool decided = false;
	struct stat st;
	int r = -EINVAL;

	*ret = NULL;
	if (!q)
		return -ENOMEM;
	if (bw_policy_parse_query(q, query) < 0)
		goto diag;
	qr = &q->rules[q->n_rules - 1];
	if (bw_op_targets_process(qr->op)) {
		r = explain_process(&x, q, qr, query, ret);
		if (r < 0)
			goto diag;
		goto out;
	}
	if ((qr->obj == BW_OBJ_TYPE_ANY && qr->op != BW_OP_EXEC) || qr->obj == BW_OBJ_TYPE_REASON) {
		r = explain_default(&x, q, qr, query, ret);
		if (r < 0)
			goto diag;
		goto out;
	}
	if (qr->obj != BW_OBJ_TYPE_PATH) {
		bw_policy_diag(q, BW_SEV_ERROR, &qr->obj_loc, NULL,
			       "explain asks about one file, e.g. /usr/bin/curl",
			       "a query names one existing file, not a tree or `any`");
		goto diag;
	}
	if (stat(qr->path, &st) < 0 || !realpath(qr->path, real)) {
		bw_policy_diag(q, BW_SEV_ERROR, &qr->obj_loc, NULL, NULL, "%s: %s", qr->path,
			       strerror(errno));
		goto diag;
	}

	meta = lookup(&x, BW_OP_NONE, BW_OBJ_META, 0, none, 0, 0);
	subject = bw_jb_obj(b);
	if (classify(&x, q, qr->subjects, qr->n_subjects, meta ? meta->combos : 0, ids, &masks,
		     subject) < 0)
		goto diag_subject;

	/*
	 * The object's candidates, per view as the kernel walks them (the
	 * path used, across mounts as d_parent goes; then the real file below
	 * an overlay): exact, each real ancestor directory. In each view the
	 * first entry decides; across views the stronger verdict (deny, audit,
	 * allow), the earlier view on a tie; with none, the default.
	 */
	r = bw_file_views(real, &views, &n_views);
	if (r == -ENOMEM) {
		json_object_put(subject);
		goto out;
	}
	r = -EINVAL;
	if (!n_views) {
		bw_policy_diag(q, BW_SEV_ERROR, &qr->obj_loc, NULL, NULL,
			       "%s: cannot place it among the mounts", qr->path);
		goto diag_subject;
	}

	o = bw_jb_obj(b);
	bw_jb_add(b, o, "query", json_object_new_string(query));
	bw_jb_add(b, o, "op", json_object_new_string(bw_op_name(qr->op)));
	{
		struct json_object *obj = bw_jb_obj(b);
		char dev[32];

		bw_dev_string(bw_kernel_dev(st.st_dev), dev, sizeof(dev));
		bw_jb_add(b, obj, "path", json_object_new_string(real));
		bw_jb_add(b, obj, "dev", json_object_new_string(dev));
		bw_jb_add(b, obj, "ino", json_object_new_uint64(st.st_ino));
		bw_jb_add(b, o, "object", obj);
	}
	bw_jb_add(b, o, "subject", subject);
	beaten = bw_jb_arr(b);
	{
		const struct bw_rule_val *best = NULL;
		const char *best_label = NULL;
		size_t best_view = 0;
		bool best_exact = false;

		for (size_t vi = 0; vi < n_views; vi++) {
			const struct bw_rule_val *first = NULL;
			size_t won_at = 0;

			for (size_t c = 0; c < views[vi].n; c++) {
				for (int m = BW_SUBJ_COMBOS - 1; m >= 0; m--) {
					const struct bw_rule_val *v;

					if (!(masks & (1u << m)))
						continue;
					v = lookup(&x, qr->op, c ? BW_OBJ_TREE : BW_OBJ_FILE, (uint32_t)m, ids,
						   views[vi].v[c].dev, views[vi].v[c].ino);
					if (!v)
						continue;
					if (!first) {
						first = v;
						won_at = c;
						add_shadows(&x, beaten, &x.key);
						if (!best || verdict_rank(v->verdict) > verdict_rank(best->verdict)) {
							if (best)
								add_beaten(b, beaten, rules, best->rule_id,
									   "another view of the file decides: weaker verdict");
							best = v;
							best_label = views[vi].v[c].label;
							best_view = vi;
							best_exact = c == 0;
						} else {
							add_beaten(b, beaten, rules, v->rule_id,
								   "another view of the file decides: weaker or equal verdict");
						}
						continue;
					}
					add_beaten(b, beaten, rules, v->rule_id,
						   c == won_at ? "same object, less specific subject" :
								 "less specific object");
					add_shadows(&x, beaten, &x.key);
				}
			}
		}
		/*
		 * Trust objects (bw_decide_trust): after an exact file, before
		 * trees: the content's hash, then trusted or untrusted.
		 */
		if (meta && (meta->flags & (BW_POLICY_TRUST | BW_POLICY_LAYER_TRUST)) &&
		    (qr->op == BW_OP_EXEC || qr->op == BW_OP_LOAD) &&
		    !(best && best_exact)) {
			uint8_t sha[32];
			bool trusted = explain_trust(o, &st, sha);
			const struct bw_rule_val *tv = NULL;
			const char *label = trusted ? "trusted" : "untrusted";
			__u64 h0 = 0, h1 = 0;

			bw_hash_key(sha, &h0, &h1);
			for (int pass = trusted ? 0 : 1; pass < 2 && !tv; pass++) {
				for (int m = BW_SUBJ_COMBOS - 1; m >= 0 && !tv; m--) {
					if (!(masks & (1u << m)))
						continue;
					tv = pass == 0 ? lookup(&x, qr->op, BW_OBJ_HASH, (uint32_t)m, ids, h0, h1) :
							 lookup(&x, qr->op, trusted ? BW_OBJ_TRUSTED : BW_OBJ_UNTRUSTED,
								(uint32_t)m, ids, 0, 0);
					if (tv && pass == 0)
						label = "sha256";
				}
			}
			if (tv) {
				if (best)
					add_beaten(b, beaten, rules, best->rule_id,
						   "less specific object (a tree, below the file's trust)");
				best = tv;
				best_label = label;
				best_view = 0;
				add_shadows(&x, beaten, &x.key);
			}
		}
		if (best) {
			decided = true;
			add_decision(b, o, meta, best, rules, best_label);
			if (best_view)
				bw_jb_add(b, o, "real_file", json_object_new_boolean(true));
		}
		for (int m = BW_SUBJ_COMBOS - 1; m >= 0; m--) {
			const struct bw_rule_val *v;

			if (!(masks & (1u << m)))
				continue;
			v = lookup(&x, qr->op, BW_OBJ_DEFAULT, (uint32_t)m, ids, 0, 0);
			if (!v)
				continue;
			if (!decided) {
				decided = true;
				add_decision(b, o, meta, v, rules, "any");
			} else {
				add_beaten(b, beaten, rules, v->rule_id,
					   best ? "less specific object" : "same object, less specific subject");
			}
			add_shadows(&x, beaten, &x.key);
		}
	}
	finish(b, o, meta, decided, beaten);
	*ret = o;
	r = 0;
	goto out;

diag_subject:
	json_object_put(subject);
diag:
	if (q->oom)
		r = -ENOMEM;
	else if (ret_diag) {
		size_t len = 0;
		FILE *f = open_memstream(ret_diag, &len);

		if (f) {
			bw_policy_print_diags(q, f);
			fclose(f);
		}
	}
out:
	if (r == 0 && (x.jb.oom || q->oom)) {
		json_object_put(*ret);
		*ret = NULL;
		r = -ENOMEM;
	}
	bw_file_views_free(views, n_views);
	bw_policy_free(q);
	return r;
}

/* Deny-wins across layers, as the kernel's bw_layer_rank: from an answer's action and decision. */
static int layer_rank(struct json_object *o)
{
	const char *dec = json_object_get_string(json_object_object_get(o, "decision"));
	const char *act = json_object_get_string(json_object_object_get(o, "action"));

	if (!dec)
		return 0;
	if (strcmp(dec, "deny") == 0)
		return act && strcmp(act, "blocked") == 0 ? 4 : 3;
	return strcmp(dec, "audit") == 0 ? 2 : strcmp(dec, "allow") == 0 ? 1 : 0;
}

static const char *const layer_keys[] = { "decision", "action", "rule", "matched", "real_file",
					  "required_level" };

/*
 * Every layer's answer (docs/policy.md, "Layers"): the administrator's,
 * then each client layer's, by altitude; the strongest decides, the first
 * on a tie, as in the kernel. A policy without client layers answers
 * exactly as before; with them, "layer" names the deciding layer and
 * "layers" holds each layer's own answer.
 */
int bw_explain(const struct bw_rule_entry *entries, size_t n, const struct bw_rule_table *rules,
	       const char *query, struct json_object **ret, char **ret_diag)
{
	static const struct bw_rule_key meta_key = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	const struct bw_rule_val *meta = bw_compiled_lookup(entries, n, &meta_key);
	struct bw_jb jb = { 0 }, *b = &jb;
	struct json_object *top, *arr;
	int r = explain_layer(entries, n, rules, query, 0, ret, ret_diag);

	if (r < 0 || !meta || !meta->layers)
		return r;
	top = *ret;
	arr = bw_jb_arr(b);
	for (uint32_t l = 0; l < BW_LAYERS; l++) {
		struct json_object *lo = NULL, *one;
		const char *name = rules && l < BW_LAYERS && rules->layer_names[l] ? rules->layer_names[l] :
				   l ? "client" : "policy";

		if (l && !(meta->layers & (1u << l)))
			continue;
		if (l) {
			r = explain_layer(entries, n, rules, query, l, &lo, NULL);
			if (r < 0) {
				json_object_put(arr);
				json_object_put(*ret);
				*ret = NULL;
				return r;
			}
		} else {
			lo = json_object_get(top);
		}
		one = bw_jb_obj(b);
		bw_jb_add(b, one, "layer", json_object_new_int(l));
		bw_jb_add(b, one, "name", json_object_new_string(name));
		if (rules && l && rules->layer_altitude[l])
			bw_jb_add(b, one, "altitude", json_object_new_int64(rules->layer_altitude[l]));
		for (size_t k = 0; k < 3; k++) {
			struct json_object *v = json_object_object_get(lo, layer_keys[k]);

			if (v)
				bw_jb_add(b, one, layer_keys[k], json_object_get(v));
			else
				bw_jb_add_null(b, one, layer_keys[k]);
		}
		bw_jb_push(b, arr, one);
		if (l && layer_rank(lo) > layer_rank(top)) {
			for (size_t k = 0; k < sizeof(layer_keys) / sizeof(*layer_keys); k++) {
				struct json_object *v;

				if (json_object_object_get_ex(lo, layer_keys[k], &v) && v)
					bw_jb_add(b, top, layer_keys[k], json_object_get(v));
				else if (json_object_object_get_ex(lo, layer_keys[k], NULL))
					bw_jb_add_null(b, top, layer_keys[k]);
				else
					json_object_object_del(top, layer_keys[k]);
			}
			json_object_object_del(top, "layer");
			bw_jb_add(b, top, "layer", json_object_new_int(l));
		} else if (!l) {
			bw_jb_add(b, top, "layer", json_object_new_int(0));
		}
		json_object_put(lo);
	}
	bw_jb_add(b, top, "layers", arr);
	if (b->oom) {
		json_object_put(top);
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}
