/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one decision path every hook goes through:
 *
 *   1. classify the subject (task storage, set at exec, inherited at fork)
 *   2. identify the object (here: a file, by (dev, ino) and its ancestors)
 *   3. look up the rule chain, most specific first:
 *        exact file -> nearest ancestor tree -> the op's default
 *      each step tries the subject's class, then "any subject"
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
	__u32 subject;
	__u32 event_flags;
	__u64 dev;
	__u64 ino;
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

/* One candidate of the chain: the subject's class first, then "any". */
static __always_inline bool bw_lookup(void *policy, struct bw_decision *d, __u32 kind,
				      __u64 dev, __u64 ino)
{
	struct bw_rule_key key = { .op = d->op, .kind = kind, .dev = dev, .ino = ino };
	struct bw_rule_val *v = NULL;

	if (d->subject != BW_SUBJECT_ANY) {
		key.subject = d->subject;
		v = bpf_map_lookup_elem(policy, &key);
	}
	if (!v) {
		key.subject = BW_SUBJECT_ANY;
		v = bpf_map_lookup_elem(policy, &key);
	}
	if (!v)
		return false;
	d->verdict = v->verdict;
	d->rule_id = v->rule_id;
	d->rule_flags = v->flags;
	return true;
}

static __always_inline void bw_inode_id(struct dentry *dentry, __u64 *dev, __u64 *ino)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);

	*dev = BPF_CORE_READ(inode, i_sb, s_dev);
	*ino = BPF_CORE_READ(inode, i_ino);
}

/*
 * Nearest ancestor directory with a tree rule wins. Ancestry is the
 * directory's real place in its filesystem, not the path used to reach it:
 * the walk follows d_parent up to the filesystem's root, even past the root
 * of a bind mount, so bind-mounting a denied directory elsewhere does not
 * escape its rule. From a filesystem's root it continues at the mountpoint
 * in the parent mount, so a tree rule on /usr also covers a filesystem
 * mounted below /usr.
 */
static __always_inline bool bw_match_tree(void *policy, struct bw_decision *d,
					  struct dentry *dentry, struct vfsmount *vfsmnt)
{
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	__u64 dev, ino;
	int i;

	for (i = 0; i < BW_WALK_MAX; i++) {
		struct dentry *parent;
		struct mount *up;

		bw_inode_id(dentry, &dev, &ino);
		if (bw_lookup(policy, d, BW_OBJ_TREE, dev, ino))
			return true;
		parent = BPF_CORE_READ(dentry, d_parent);
		if (parent != dentry) {
			dentry = parent;
			continue;
		}
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt)
			return false; /* the namespace's root mount: walk done */
		dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		mnt = up;
	}
	/* Too deep to prove that no tree rule applies: fail closed. */
	d->verdict = BW_VERDICT_DENY;
	d->rule_id = 0;
	d->rule_flags = 0;
	d->event_flags |= BW_EVF_WALK_LIMIT;
	bw_count(d->op, BW_CNT_HELPER_ERR);
	return true;
}

/* Steps 1-3 for an operation on a file. */
static __always_inline void bw_decide_file(struct bw_decision *d, __u32 op, __u32 hook,
					   struct file *file)
{
	struct bw_task_state *ts = bw_current_state();
	struct bw_rule_key meta = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	__u32 zero = 0;
	struct bw_rule_val *mv;
	struct dentry *dentry;
	void *policy;

	d->op = op;
	d->hook = hook;
	d->verdict = BW_VERDICT_NONE;
	d->subject = ts ? ts->subject : BW_SUBJECT_ANY;
	dentry = BPF_CORE_READ(file, f_path.dentry);
	bw_inode_id(dentry, &d->dev, &d->ino);

	policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (!policy) {
		bw_count(op, BW_CNT_NO_POLICY);
		return;
	}
	mv = bpf_map_lookup_elem(policy, &meta);
	if (mv)
		d->policy_flags = mv->flags;

	if (bw_lookup(policy, d, BW_OBJ_FILE, d->dev, d->ino))
		return;
	if (bw_match_tree(policy, d, dentry, BPF_CORE_READ(file, f_path.mnt)))
		return;
	bw_lookup(policy, d, BW_OBJ_DEFAULT, 0, 0);
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
	e->subject = d->subject;
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
