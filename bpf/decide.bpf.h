/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one decision path every hook goes through:
 *
 *   1. classify the subject: one id per dimension the policy uses
 *      (program class, parent's program class, cgroup class, euid, egid)
 *   2. identify the object (here: a file, by (dev, ino) and its ancestors)
 *   3. look up the rule chain, most specific object first:
 *        exact file -> nearest ancestor tree -> the op's default
 *      and at each candidate the subject masks, most specific first
 *   4. turn the verdict into an action under the policy's mode
 *   5. count it, and report it through the ring buffer if the rule asks
 *   6. return 0 or -EPERM
 *
 * Hooks differ only in how they name the op and the object; the lookup
 * logic exists once. Every lookup is a hash lookup: no rule is ever scanned.
 */
#ifndef BULWARK_DECIDE_BPF_H
#define BULWARK_DECIDE_BPF_H

#include "abi.h"

#define EPERM 1

/*
 * Bound of the ancestor walk (dentries plus mount hops). A path deeper than
 * this cannot be proven to be outside every tree rule, so the decision fails
 * closed (see bw_match_tree).
 */
#define BW_WALK_MAX 96

/* Sizes, not types: the template is only ever referenced by pointer. */
struct bw_inner_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct bw_rule_key));
	__uint(value_size, sizeof(struct bw_rule_val));
};

/*
 * The active policy is the single slot of this array of maps. User space
 * builds a complete new rule map beside it and swaps the slot in one update:
 * a decision sees either the whole old policy or the whole new one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct bw_inner_map);
} bw_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_policy_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_policy_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_COUNTERS_LEN);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_task_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_task_state SEC(".maps");


/*
 * Who is asking, as the policy sees it: one id per dimension, and the set
 * of subject masks to try (bit m = mask m). Only masks the policy uses and
 * the task can satisfy are in it, so a policy without `from` costs one
 * lookup per candidate object.
 */
struct bw_subject {
	__u32 ids[BW_DIM_COUNT];
	__u32 masks;
};

/* The key of the policy's META entry: read-only data, not stack. */
static const struct bw_rule_key bw_meta_key = { .op = BW_OP_NONE, .kind = BW_OBJ_META };

/* For each dimension, the set of masks that name it (bit m = mask m). */
static const __u32 bw_masks_naming[BW_DIM_COUNT] = {
	0xAAAAAAAAu, 0xCCCCCCCCu, 0xF0F0F0F0u, 0xFF00FF00u, 0xFFFF0000u,
};

static __always_inline void bw_count(__u32 op, __u32 counter)
{
	__u32 idx = op * BW_CNT_COUNT + counter;
	__u64 *c = bpf_map_lookup_elem(&bw_counters, &idx);

	if (c)
		*c += 1;
}

static __always_inline struct bw_task_state *bw_current_state(void)
{
	return bpf_task_storage_get(&bw_task_state, bpf_get_current_task_btf(), 0, 0);
}

/*
 * One candidate object: try the subject's masks in precedence order. The
 * caller's key names the op and the object; its subj and ids are filled
 * here (in place: the BPF stack is small).
 */
static __noinline struct bw_rule_val *bw_lookup(void *policy, const struct bw_subject *s,
						struct bw_rule_key *key, __u32 *subj)
{
	struct bw_rule_val *v;
	int i, dim;

	/*
	 * Highest mask first. Written so that every path through one iteration
	 * leaves the same live state, or the verifier would explore 2^32 paths.
	 * Unrolled: a loop whose latch is a helper call is refused by 6.1.
	 */
#pragma unroll
	for (i = 0; i < BW_SUBJ_COMBOS; i++) {
		__u32 m = BW_SUBJ_COMBOS - 1 - i;

		if (!(s->masks & (1u << m)))
			continue;
		key->subj = m;
#pragma unroll
		for (dim = 0; dim < BW_DIM_COUNT; dim++)
			key->ids[dim] = m & (1u << dim) ? s->ids[dim] : 0;
		v = bpf_map_lookup_elem(policy, key);
		if (v) {
			*subj = m;
			return v;
		}
	}
	return NULL;
}

static __always_inline void bw_inode_id(struct dentry *dentry, __u64 *dev, __u64 *ino)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);

	*dev = BPF_CORE_READ(inode, i_sb, s_dev);
	*ino = BPF_CORE_READ(inode, i_ino);
}

/*
 * The state of one search, shared with bpf_loop callbacks. The BPF stack
 * is 512 bytes for the whole call chain, so a decision owns exactly one of
 * these and every step (the subject's classes, then the object) reuses it.
 */
struct bw_search {
	void *policy;
	const struct bw_subject *s;   /* whose masks to try */
	const struct bw_subject *t;   /* process objects: the target's */
	struct dentry *dentry;        /* walk position */
	struct mount *mnt;
	struct bw_rule_key key;       /* op and kind set by the caller */
	__u32 top;                    /* target scan: the highest target mask to try */
	struct bw_rule_val *v;        /* result: the entry found, or NULL */
	__u32 subj, tsubj;            /* result: the masks it was found under */
	int done;                     /* walk: 1 found, 2 reached the root */
};

struct bw_decision {
	__u32 op;
	__u32 hook;         /* enum bw_hook */
	__u32 verdict;      /* enum bw_verdict */
	__u32 action;       /* enum bw_action */
	__u32 rule_id;
	__u32 rule_flags;
	__u32 policy_flags;
	__u32 subj;         /* subject mask of the deciding rule */
	__u32 event_flags;
	__u64 dev;          /* file objects */
	__u64 ino;
	__u32 arg;          /* signal: the signal */
	__u32 tsubj;        /* target mask of the deciding rule */
	__u32 target_pid;   /* process objects */
	__u32 target_tgid;
};

/*
 * One step up. Ancestry is the directory's real place in its filesystem,
 * not the path used to reach it: the walk follows d_parent up to the
 * filesystem's root, even past the root of a bind mount, so bind-mounting
 * a denied directory elsewhere does not escape its rule. From a
 * filesystem's root it continues at the mountpoint in the parent mount, so
 * a tree rule on /usr also covers a filesystem mounted below /usr.
 */
static long bw_walk_step(__u32 i, void *ctx)
{
	struct bw_search *w = ctx;
	/* Locals, not w->...: CO-RE relocations only apply to kernel types. */
	struct dentry *dentry = w->dentry, *parent;
	struct mount *mnt = w->mnt, *up;

	bw_inode_id(dentry, &w->key.dev, &w->key.ino);
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v) {
		w->done = 1;
		return 1;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent != dentry) {
		w->dentry = parent;
		return 0;
	}
	up = BPF_CORE_READ(mnt, mnt_parent);
	if (up == mnt || !up) {
		w->done = 2; /* the namespace's root mount: walk done */
		return 1;
	}
	w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
	w->mnt = up;
	return 0;
}

/*
 * The entry of a file: its exact entry (key.kind), else the nearest
 * ancestor directory's (tree_kind). Returns 1 when found (w->v), 0 when
 * none applies, -1 when the path is too deep to tell.
 */
static __always_inline int bw_find_file(struct bw_search *w, struct file *file, __u32 tree_kind)
{
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);

	bw_inode_id(dentry, &w->key.dev, &w->key.ino);
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v)
		return 1;
	w->key.kind = tree_kind;
	w->dentry = dentry;
	w->mnt = container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt);
	w->done = 0;
	bpf_loop(BW_WALK_MAX, bw_walk_step, w, 0);
	if (w->done == 1)
		return 1;
	return w->done == 2 ? 0 : -1;
}

/* The subject used to resolve class entries: "any", nothing else. */
static const struct bw_subject bw_no_subject = { .masks = 1u << BW_SUBJ_ANY };

/*
 * The program class of a file, using w as scratch: its exact entry, else
 * the nearest ancestor directory's. 0 when it has none (or its path is too
 * deep to tell, which only ever loses subject-specific rules' matches).
 */
static __always_inline __u32 bw_exe_class(struct bw_search *w, struct file *file)
{
	if (!file || !BPF_CORE_READ(file, f_path.dentry))
		return 0;
	w->s = &bw_no_subject;
	__builtin_memset(&w->key, 0, sizeof(w->key));
	w->key.kind = BW_OBJ_EXE_FILE;
	if (bw_find_file(w, file, BW_OBJ_EXE_TREE) == 1 && w->v)
		return w->v->class_id;
	return 0;
}

/*
 * The deepest cgroup class among a task's cgroup (v2) and its ancestors.
 * The ancestors array is indexed by level, so this is one read and one
 * lookup per level, and only levels that can hold a class are looked at.
 */
static __noinline __u32 bw_cgroup_class(struct bw_search *w, struct task_struct *task,
					__u32 levels)
{
	struct cgroup *cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp), *anc;
	struct bw_rule_val *v;
	int level, i;

	if (!cgrp)
		return 0;
	__builtin_memset(&w->key, 0, sizeof(w->key));
	w->key.kind = BW_OBJ_CGROUP;
	level = BPF_CORE_READ(cgrp, level);
	if (level > (int)levels - 1)
		level = (int)levels - 1;
	for (i = 0; i < BW_CGROUP_LEVEL_MAX + 1; i++) {
		if (level - i < 0)
			break;
		anc = NULL;
		bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[(level - i) & 63]);
		if (!anc)
			break;
		w->key.ino = BPF_CORE_READ(anc, kn, id);
		v = bpf_map_lookup_elem(w->policy, &w->key);
		if (v)
			return v->class_id;
	}
	return 0;
}

/*
 * Step 1: who a task is, as the policy sees it. Used for the acting task
 * (the subject) and for the process acted on (the target). Only the
 * dimensions the policy uses are computed. A task's own program class is
 * cached in its task storage under the policy's serial, so it is walked
 * once per exec or policy load, not per decision.
 *
 * The subject's ids are its effective (subjective) credentials; a target's
 * are its objective ones, as the kernel's own permission checks use them.
 */
static __always_inline void bw_classify(struct bw_search *w, const struct bw_rule_val *meta,
					struct task_struct *task, bool as_target,
					struct bw_subject *s)
{
	__u32 used, masks;

	s->masks = 1u << BW_SUBJ_ANY;
	if (!meta)
		return;
	used = as_target ? meta->tdims : meta->dims;
	masks = as_target ? meta->tcombos : meta->combos;
	if (used & (1u << BW_DIM_EXE)) {
		struct bw_task_state *ts = bpf_task_storage_get(&bw_task_state, task, 0,
								 BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (ts && ts->serial == meta->serial && meta->serial) {
			s->ids[BW_DIM_EXE] = ts->exe_class;
		} else {
			s->ids[BW_DIM_EXE] = bw_exe_class(w, BPF_CORE_READ(task, mm, exe_file));
			if (ts) {
				ts->exe_class = s->ids[BW_DIM_EXE];
				ts->serial = meta->serial;
			}
		}
	}
	if (used & (1u << BW_DIM_PARENT))
		s->ids[BW_DIM_PARENT] = bw_exe_class(w, BPF_CORE_READ(task, real_parent, mm, exe_file));
	if (used & (1u << BW_DIM_CGROUP))
		s->ids[BW_DIM_CGROUP] = bw_cgroup_class(w, task, meta->cgroup_levels);
	if (as_target) {
		s->ids[BW_DIM_UID] = BPF_CORE_READ(task, real_cred, euid.val);
		s->ids[BW_DIM_GID] = BPF_CORE_READ(task, real_cred, egid.val);
	} else {
		s->ids[BW_DIM_UID] = BPF_CORE_READ(task, cred, euid.val);
		s->ids[BW_DIM_GID] = BPF_CORE_READ(task, cred, egid.val);
	}

	/* A task without a class in a dimension cannot match rules naming it. */
	masks |= 1u << BW_SUBJ_ANY;
	if (!s->ids[BW_DIM_EXE])
		masks &= ~bw_masks_naming[BW_DIM_EXE];
	if (!s->ids[BW_DIM_PARENT])
		masks &= ~bw_masks_naming[BW_DIM_PARENT];
	if (!s->ids[BW_DIM_CGROUP])
		masks &= ~bw_masks_naming[BW_DIM_CGROUP];
	s->masks = masks;
}

static __always_inline void bw_take(struct bw_decision *d, const struct bw_search *w)
{
	d->verdict = w->v->verdict;
	d->rule_id = w->v->rule_id;
	d->rule_flags = w->v->flags;
	d->subj = w->subj;
	d->tsubj = w->tsubj;
}

/*
 * The active policy and its META entry; NULL when none is installed or
 * when no rule of the policy decides op (the decision is then "none").
 */
static __always_inline void *bw_policy_begin(struct bw_decision *d, __u32 op, __u32 hook,
					     struct bw_rule_val **meta)
{
	__u32 zero = 0;
	void *policy;

	d->op = op;
	d->hook = hook;
	d->verdict = BW_VERDICT_NONE;
	*meta = NULL;
	policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (!policy) {
		bw_count(op, BW_CNT_NO_POLICY);
		return NULL;
	}
	*meta = bpf_map_lookup_elem(policy, &bw_meta_key);
	if (!*meta)
		return policy;
	d->policy_flags = (*meta)->flags;
	/* No rule decides this op: nothing to classify or look up. */
	if (!((*meta)->ops & (1u << op)))
		return NULL;
	return policy;
}

/*
 * The program class of a file under the active policy, for callers that
 * are not deciding anything (exec's commit).
 */
static __noinline __u32 bw_exe_class_now(void *policy, struct file *file)
{
	struct bw_search w = { .policy = policy };

	return bw_exe_class(&w, file);
}

/*
 * The policy, and who is asking (step 1). False when there is nothing to
 * decide: no policy, or no rule for op.
 */
static __always_inline bool bw_search_begin(struct bw_decision *d, struct bw_search *w,
					    struct bw_subject *s, __u32 op, __u32 hook,
					    struct bw_rule_val **meta)
{
	w->policy = bw_policy_begin(d, op, hook, meta);
	if (!w->policy)
		return false;
	bw_classify(w, *meta, bpf_get_current_task_btf(), false, s);
	return true;
}

/* Step 3's first key. After every classification: they use w->key as scratch. */
static __always_inline void bw_search_key(struct bw_search *w, const struct bw_subject *s,
					  __u32 op, __u32 kind)
{
	__builtin_memset(&w->key, 0, sizeof(w->key));
	w->key.op = op;
	w->key.kind = kind;
	w->s = s;
}

/* Steps 1-3 for an operation on a file. */
static __noinline void bw_decide_file(struct bw_decision *d, __u32 op, __u32 hook,
				      struct file *file)
{
	struct bw_subject s = {};
	struct bw_search ws = {}, *w = &ws;
	struct bw_rule_val *meta;
	struct dentry *dentry;
	int r;

	dentry = BPF_CORE_READ(file, f_path.dentry);
	bw_inode_id(dentry, &d->dev, &d->ino);
	if (!bw_search_begin(d, w, &s, op, hook, &meta))
		return;
	bw_search_key(w, &s, op, BW_OBJ_FILE);
	r = bw_find_file(w, file, BW_OBJ_TREE);
	if (r == 1 && w->v) {
		bw_take(d, w);
		return;
	}
	if (r < 0) {
		/* Too deep to prove that no tree rule applies: fail closed. */
		d->verdict = BW_VERDICT_DENY;
		d->rule_id = 0;
		d->rule_flags = 0;
		d->event_flags |= BW_EVF_WALK_LIMIT;
		bw_count(op, BW_CNT_HELPER_ERR);
		return;
	}
	w->key.kind = BW_OBJ_DEFAULT;
	w->key.dev = w->key.ino = 0;
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v)
		bw_take(d, w);
}

/*
 * Steps 1-3 for an operation whose only object is its default entry:
 * kernel operations without a file (init_module, kexec_load, bpf), and
 * lockdown, whose key names the reason (arg).
 */
static __noinline void bw_decide_default(struct bw_decision *d, __u32 op, __u32 hook, __u32 arg)
{
	struct bw_subject s = {};
	struct bw_search ws = {}, *w = &ws;
	struct bw_rule_val *meta;

	if (!bw_search_begin(d, w, &s, op, hook, &meta))
		return;
	bw_search_key(w, &s, op, BW_OBJ_DEFAULT);
	w->key.arg = arg;
	w->v = bw_lookup(w->policy, &s, &w->key, &w->subj);
	if (w->v)
		bw_take(d, w);
}

/*
 * One target mask, highest first: the target is the object, and the more
 * of it a rule names the more specific the rule. Within it, the subject's
 * masks in their own order.
 */
static long bw_target_step(__u32 i, void *ctx)
{
	struct bw_search *w = ctx;
	__u32 m = (w->top - i) & (BW_SUBJ_COMBOS - 1);
	int dim;

	if (!(w->t->masks & (1u << m)))
		return 0;
	w->key.tsubj = m;
#pragma unroll
	for (dim = 0; dim < BW_DIM_COUNT; dim++)
		w->key.tids[dim] = m & (1u << dim) ? w->t->ids[dim] : 0;
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v) {
		w->tsubj = m;
		return 1;
	}
	return 0;
}

/*
 * Steps 1-3 for an operation on a process (target NULL: the op has no
 * target, as fork and thread); d->arg is the signal for `signal`.
 */
static __noinline void bw_decide_task(struct bw_decision *d, __u32 op, __u32 hook,
				      struct task_struct *target)
{
	struct bw_subject s = {}, t = {};
	struct bw_search ws = {}, *w = &ws;
	struct bw_rule_val *meta;
	__u32 arg = d->arg;

	if (target) {
		d->target_pid = BPF_CORE_READ(target, pid);
		d->target_tgid = BPF_CORE_READ(target, tgid);
	}
	if (!bw_search_begin(d, w, &s, op, hook, &meta))
		return;
	t.masks = 1u << BW_SUBJ_ANY;
	if (target)
		bw_classify(w, meta, target, true, &t);
	bw_search_key(w, &s, op, BW_OBJ_TASK);
	w->key.arg = arg;
	w->t = &t;
	w->v = NULL;
	/* From the highest mask the target could match down: few steps, often one. */
	w->top = BW_SUBJ_COMBOS - 1;
	while (w->top && !(t.masks & (1u << w->top)))
		w->top--;
	if (w->top == BW_SUBJ_ANY)
		bw_target_step(0, w);
	else
		bpf_loop(w->top + 1, bw_target_step, w, 0);
	if (w->v)
		bw_take(d, w);
}

/* Step 4 and the counting half of step 5. Returns the hook's return value. */
static __always_inline int bw_enforce(struct bw_decision *d)
{
	bool audit_mode = (d->policy_flags & BW_POLICY_AUDIT) || (d->rule_flags & BW_RULE_AUDIT);

	bw_count(d->op, BW_CNT_DECISIONS);
	if (d->verdict == BW_VERDICT_DENY) {
		if (audit_mode) {
			d->action = BW_ACTION_WOULD_BLOCK;
			bw_count(d->op, BW_CNT_WOULD_DENY);
			return 0;
		}
		d->action = BW_ACTION_BLOCKED;
		bw_count(d->op, BW_CNT_DENIED);
		return -EPERM;
	}
	d->action = BW_ACTION_ALLOWED;
	bw_count(d->op, BW_CNT_ALLOWED);
	if (d->verdict == BW_VERDICT_AUDIT)
		bw_count(d->op, BW_CNT_AUDITED);
	return 0;
}

static __always_inline bool bw_should_report(const struct bw_decision *d)
{
	if (d->rule_flags & BW_RULE_QUIET)
		return false;
	return d->verdict == BW_VERDICT_DENY || d->verdict == BW_VERDICT_AUDIT ||
	       (d->rule_flags & BW_RULE_LOG);
}

/*
 * Reserve an event and fill what every event says about the acting task.
 * A full ring buffer is counted against op, never silent.
 */
static __always_inline struct bw_event *bw_event_reserve(__u32 type, __u32 op)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_policy_info *info;
	struct bw_task_state *ts;
	struct bw_event *e;
	__u32 zero = 0;
	__u64 id;

	e = bpf_ringbuf_reserve(&bw_events, sizeof(*e), 0);
	if (!e) {
		bw_count(op, BW_CNT_RB_DROPS);
		return NULL;
	}
	__builtin_memset(e, 0, __builtin_offsetof(struct bw_event, comm));
	id = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = type;
	e->op = op;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	id = bpf_get_current_uid_gid();
	e->uid = (__u32)id;
	e->gid = id >> 32;
	info = bpf_map_lookup_elem(&bw_policy_info, &zero);
	e->policy_gen = info ? info->generation : 0;
	e->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->exe[0] = 0;
	e->path[0] = 0;
	ts = bw_current_state();
	if (ts) {
		bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), ts->exe);
		e->flags |= ts->flags;
	} else {
		e->flags |= BW_EVF_EXE_UNKNOWN;
	}
	return e;
}

/*
 * The event of a decision, if its rule asks for one. The caller fills the
 * object's path (only it knows which helper its hook allows) and submits.
 */
static __always_inline struct bw_event *bw_event_begin(const struct bw_decision *d)
{
	struct bw_event *e;

	if (!bw_should_report(d))
		return NULL;
	e = bw_event_reserve(BW_EV_DECISION, d->op);
	if (!e)
		return NULL;
	e->verdict = d->verdict;
	e->action = d->action;
	e->rule_id = d->rule_id;
	e->flags |= d->event_flags;
	e->subj = d->subj;
	e->hook = d->hook;
	e->target_dev = d->dev;
	e->target_ino = d->ino;
	e->arg = d->arg;
	e->target_pid = d->target_pid;
	e->target_tgid = d->target_tgid;
	return e;
}

/* Fill the object's path with bpf_d_path, recording failure honestly. */
static __always_inline void bw_event_path(struct bw_event *e, struct path *path)
{
	long n = bpf_d_path(path, e->path, sizeof(e->path));

	if (n < 0) {
		e->flags |= n == -36 /* ENAMETOOLONG */ ? BW_EVF_PATH_TRUNC : BW_EVF_PATH_ERR;
		e->path[0] = 0;
		bw_count(e->op, BW_CNT_HELPER_ERR);
	}
}

/*
 * A process target is named by its program, as remembered at its exec:
 * path helpers are not allowed in the task hooks. A target that started
 * before bulwark has none (the daemon may fill it in from /proc).
 */
static __always_inline void bw_event_task_exe(struct bw_event *e, struct task_struct *task)
{
	struct bw_task_state *ts = bpf_task_storage_get(&bw_task_state, task, 0, 0);

	e->path[0] = 0;
	if (!ts || !ts->exe[0]) {
		e->flags |= BW_EVF_PATH_ERR;
		return;
	}
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), ts->exe);
}

static __always_inline void bw_event_submit(struct bw_event *e)
{
	bw_count(e->op, BW_CNT_EVENTS);
	bpf_ringbuf_submit(e, 0);
}

/*
 * Steps 4 to 6 in one: enforce, report, return the hook's answer. The event
 * names the object by its path (hooks where bpf_d_path is allowed), by the
 * target's program (process hooks), or by neither (d->event_flags says why,
 * and dev and ino still name a file).
 */
static __always_inline int bw_conclude(struct bw_decision *d, struct path *path,
				       struct task_struct *target)
{
	int rc = bw_enforce(d);
	struct bw_event *e = bw_event_begin(d);

	if (e) {
		if (path)
			bw_event_path(e, path);
		else if (target)
			bw_event_task_exe(e, target);
		bw_event_submit(e);
	}
	return rc;
}

#endif /* BULWARK_DECIDE_BPF_H */
