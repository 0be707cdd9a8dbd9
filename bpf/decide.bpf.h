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
	__u64 dev;
	__u64 ino;
};

/*
 * Who is asking, as the policy sees it: one id per dimension, and the set
 * of subject masks to try (bit m = mask m). Only masks the policy uses and
 * the task can satisfy are in it, so a policy without `from` costs one
 * lookup per candidate object.
 */
struct bw_subject {
	__u32 ids[BW_DIM_COUNT];
	__u32 todo;
};

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

/* One candidate object: try the subject's masks in precedence order. */
static __always_inline struct bw_rule_val *bw_lookup(void *policy, const struct bw_subject *s,
						     __u32 op, __u32 kind, __u64 dev, __u64 ino,
						     __u32 *subj)
{
	struct bw_rule_key key;
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

		if (!(s->todo & (1u << m)))
			continue;
		__builtin_memset(&key, 0, sizeof(key));
		key.op = op;
		key.kind = kind;
		key.subj = m;
		key.dev = dev;
		key.ino = ino;
#pragma unroll
		for (dim = 0; dim < BW_DIM_COUNT; dim++)
			if (m & (1u << dim))
				key.ids[dim] = s->ids[dim];
		v = bpf_map_lookup_elem(policy, &key);
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

/* State of one ancestor walk, shared with the bpf_loop callback. */
struct bw_walk {
	void *policy;
	const struct bw_subject *s;
	struct dentry *dentry;
	struct mount *mnt;
	__u32 op, kind;
	/* result */
	int done;     /* 1: found a rule, 2: reached the namespace's root */
	__u32 verdict, flags, rule_id, class_id, subj;
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
	struct bw_walk *w = ctx;
	/* Locals, not w->...: CO-RE relocations only apply to kernel types. */
	struct dentry *dentry = w->dentry, *parent;
	struct mount *mnt = w->mnt, *up;
	struct bw_rule_val *v;
	__u64 dev, ino;

	bw_inode_id(dentry, &dev, &ino);
	v = bw_lookup(w->policy, w->s, w->op, w->kind, dev, ino, &w->subj);
	if (v) {
		w->verdict = v->verdict;
		w->flags = v->flags;
		w->rule_id = v->rule_id;
		w->class_id = v->class_id;
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
 * Nearest ancestor directory with an entry of `kind` wins. Returns 1 when
 * found (w holds it), 0 when no ancestor has one, -1 when the path is too
 * deep to tell.
 */
static __always_inline int bw_walk_tree(struct bw_walk *w, struct dentry *dentry,
					struct vfsmount *vfsmnt)
{
	w->dentry = dentry;
	w->mnt = container_of(vfsmnt, struct mount, mnt);
	w->done = 0;
	bpf_loop(BW_WALK_MAX, bw_walk_step, w, 0);
	if (w->done == 1)
		return 1;
	return w->done == 2 ? 0 : -1;
}

/* The subject used to resolve class entries: "any", nothing else. */
static const struct bw_subject bw_no_subject = { .todo = 1u << BW_SUBJ_ANY };

/*
 * The program class of a file: its exact entry, else the nearest ancestor
 * directory's. 0 when it has none (or its path is too deep to tell, which
 * only ever loses subject-specific rules' matches for that program).
 */
static __always_inline __u32 bw_exe_class(void *policy, struct file *file)
{
	struct bw_walk w = { .policy = policy, .s = &bw_no_subject, .op = BW_OP_NONE };
	struct dentry *dentry;
	struct bw_rule_val *v;
	__u64 dev, ino;
	__u32 subj;

	if (!file)
		return 0;
	dentry = BPF_CORE_READ(file, f_path.dentry);
	if (!dentry)
		return 0;
	bw_inode_id(dentry, &dev, &ino);
	v = bw_lookup(policy, &bw_no_subject, BW_OP_NONE, BW_OBJ_EXE_FILE, dev, ino, &subj);
	if (v)
		return v->class_id;
	w.kind = BW_OBJ_EXE_TREE;
	if (bw_walk_tree(&w, dentry, BPF_CORE_READ(file, f_path.mnt)) == 1)
		return w.class_id;
	return 0;
}

/* The deepest cgroup class among the current task's cgroup and ancestors. */
static __always_inline __u32 bw_cgroup_class(void *policy, __u32 levels)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int level = BPF_CORE_READ(task, cgroups, dfl_cgrp, level);
	struct bw_rule_key key = { .op = BW_OP_NONE, .kind = BW_OBJ_CGROUP };
	struct bw_rule_val *v;
	int i;

	/* Only levels that can hold a class are looked at. */
	if (level > (int)levels - 1)
		level = (int)levels - 1;
	for (i = 0; i < BW_CGROUP_LEVEL_MAX + 1; i++) {
		if (level - i < 0)
			break;
		key.ino = bpf_get_current_ancestor_cgroup_id(level - i);
		v = bpf_map_lookup_elem(policy, &key);
		if (v)
			return v->class_id;
	}
	return 0;
}

/*
 * Step 1: the subject. Only the dimensions the policy uses are computed.
 * The task's own program class is cached in task storage under the
 * policy's serial, so it is walked once per exec or policy load, not per
 * decision.
 */
static __always_inline void bw_classify(void *policy, const struct bw_rule_val *meta,
					struct bw_subject *s)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 used, todo;

	s->todo = 1u << BW_SUBJ_ANY;
	if (!meta)
		return;
	used = meta->dims;
	if (used & (1u << BW_DIM_EXE)) {
		struct bw_task_state *ts = bpf_task_storage_get(&bw_task_state, task, 0,
								 BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (ts && ts->serial == meta->serial && meta->serial) {
			s->ids[BW_DIM_EXE] = ts->exe_class;
		} else {
			s->ids[BW_DIM_EXE] = bw_exe_class(policy, BPF_CORE_READ(task, mm, exe_file));
			if (ts) {
				ts->exe_class = s->ids[BW_DIM_EXE];
				ts->serial = meta->serial;
			}
		}
	}
	if (used & (1u << BW_DIM_PARENT))
		s->ids[BW_DIM_PARENT] =
			bw_exe_class(policy, BPF_CORE_READ(task, real_parent, mm, exe_file));
	if (used & (1u << BW_DIM_CGROUP))
		s->ids[BW_DIM_CGROUP] = bw_cgroup_class(policy, meta->cgroup_levels);
	s->ids[BW_DIM_UID] = BPF_CORE_READ(task, cred, euid.val);
	s->ids[BW_DIM_GID] = BPF_CORE_READ(task, cred, egid.val);

	/* A task without a class in a dimension cannot match rules naming it. */
	todo = meta->combos | (1u << BW_SUBJ_ANY);
	if (!s->ids[BW_DIM_EXE])
		todo &= ~bw_masks_naming[BW_DIM_EXE];
	if (!s->ids[BW_DIM_PARENT])
		todo &= ~bw_masks_naming[BW_DIM_PARENT];
	if (!s->ids[BW_DIM_CGROUP])
		todo &= ~bw_masks_naming[BW_DIM_CGROUP];
	s->todo = todo;
}

static __always_inline void bw_take(struct bw_decision *d, const struct bw_rule_val *v, __u32 subj)
{
	d->verdict = v->verdict;
	d->rule_id = v->rule_id;
	d->rule_flags = v->flags;
	d->subj = subj;
}

/* Steps 1-3 for an operation on a file. */
static __always_inline void bw_decide_file(struct bw_decision *d, __u32 op, __u32 hook,
					   struct file *file)
{
	struct bw_rule_key mkey = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	struct bw_subject s = {};
	struct bw_walk w = { .op = op, .kind = BW_OBJ_TREE, .s = &s };
	struct bw_rule_val *meta, *v;
	struct dentry *dentry;
	__u32 zero = 0, subj = 0;
	void *policy;
	int r;

	d->op = op;
	d->hook = hook;
	d->verdict = BW_VERDICT_NONE;
	dentry = BPF_CORE_READ(file, f_path.dentry);
	bw_inode_id(dentry, &d->dev, &d->ino);

	policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (!policy) {
		bw_count(op, BW_CNT_NO_POLICY);
		return;
	}
	meta = bpf_map_lookup_elem(policy, &mkey);
	if (meta)
		d->policy_flags = meta->flags;
	bw_classify(policy, meta, &s);

	v = bw_lookup(policy, &s, op, BW_OBJ_FILE, d->dev, d->ino, &subj);
	if (v) {
		bw_take(d, v, subj);
		return;
	}
	w.policy = policy;
	r = bw_walk_tree(&w, dentry, BPF_CORE_READ(file, f_path.mnt));
	if (r == 1) {
		d->verdict = w.verdict;
		d->rule_id = w.rule_id;
		d->rule_flags = w.flags;
		d->subj = w.subj;
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
	v = bw_lookup(policy, &s, op, BW_OBJ_DEFAULT, 0, 0, &subj);
	if (v)
		bw_take(d, v, subj);
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
 * Reserve and fill the subject half of an event. The caller fills the
 * object's path (only it knows which helper its hook allows) and submits.
 * A full ring buffer is counted, never silent.
 */
static __always_inline struct bw_event *bw_event_begin(const struct bw_decision *d)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_policy_info *info;
	struct bw_task_state *ts;
	struct bw_event *e;
	__u32 zero = 0;
	__u64 id;

	if (!bw_should_report(d))
		return NULL;
	e = bpf_ringbuf_reserve(&bw_events, sizeof(*e), 0);
	if (!e) {
		bw_count(d->op, BW_CNT_RB_DROPS);
		return NULL;
	}
	id = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->type = BW_EV_DECISION;
	e->op = d->op;
	e->verdict = d->verdict;
	e->action = d->action;
	e->rule_id = d->rule_id;
	e->flags = d->event_flags;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	id = bpf_get_current_uid_gid();
	e->uid = (__u32)id;
	e->gid = id >> 32;
	e->subj = d->subj;
	e->hook = d->hook;
	info = bpf_map_lookup_elem(&bw_policy_info, &zero);
	e->policy_gen = info ? info->generation : 0;
	e->target_dev = d->dev;
	e->target_ino = d->ino;
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

static __always_inline void bw_event_submit(struct bw_event *e)
{
	bw_count(e->op, BW_CNT_EVENTS);
	bpf_ringbuf_submit(e, 0);
}

#endif /* BULWARK_DECIDE_BPF_H */
