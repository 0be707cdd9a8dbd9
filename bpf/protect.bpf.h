/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Self-protection: protected processes and files with levels, as the
 * gate stage (step 0) of the decision path. Built on decide.bpf.h.
 *
 * A process has the level of the program it exec'd, if the policy
 * protects that program (`protect FILE level=L`), and keeps it until it
 * execs another program or exits; its threads share it, its children do
 * not (they are new processes, as with Windows' protected processes).
 * bulwarkd is at `system`. A subject below a target's level cannot signal
 * it (but for a harmless set), trace it, read or write its memory, change
 * its scheduling or limits, or write its /proc files; a subject below a
 * file's level cannot change the file, its name, its attributes, or what
 * is mounted over it or above it.
 */
#ifndef BULWARK_PROTECT_BPF_H
#define BULWARK_PROTECT_BPF_H

#include "decide.bpf.h"

#define BW_PROTECTED_MAX 4096

/* Protected processes by process id (struct bw_protected_proc). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BW_PROTECTED_MAX);
	__type(key, __u32);
	__type(value, struct bw_protected_proc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_protected SEC(".maps");

/* Which process is bulwarkd: only one may hold level `system`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_guard);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_guard SEC(".maps");

/* Locked mode's key and version: read and written by bulwarkd only (struct bw_lock). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_lock);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_lock SEC(".maps");

/*
 * The level of a task's process. The start time guards against a
 * recycled pid: an entry left behind (its exit missed while the programs
 * were being replaced) never protects a newcomer.
 */
static __always_inline __u32 bw_level_of(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct bw_protected_proc *pp = bpf_map_lookup_elem(&bw_protected, &tgid);

	if (!pp)
		return BW_LEVEL_NONE;
	if (pp->start_time && pp->start_time != BPF_CORE_READ(task, group_leader, start_time))
		return BW_LEVEL_NONE;
	return pp->level;
}

static __always_inline __u32 bw_current_level(void)
{
	return bw_level_of(bpf_get_current_task_btf());
}

/* A gate refusal by protection: the two levels compared travel in subj. */
static __always_inline void bw_protect_deny(struct bw_decision *d, __u32 op, __u32 hook,
					    __u32 need, __u32 have)
{
	bw_gate_deny(d, op, hook, BW_GATE_PROTECT);
	d->subj = need << 8 | have;
}

/*
 * Step 0 for an act on a process: true (and d decided) when the target is
 * protected above the subject. d->arg is the signal for `signal`.
 */
static __always_inline bool bw_protect_task(struct bw_decision *d, __u32 op, __u32 hook,
					    struct task_struct *target)
{
	__u32 need = bw_level_of(target), have;

	if (!need)
		return false;
	have = bw_current_level();
	if (have >= need)
		return false;
	if (op == BW_OP_SIGNAL && d->arg < 64 && (BW_PROTECT_SIGNALS_OK & (1ull << d->arg)))
		return false;
	bw_protect_deny(d, op, hook, need, have);
	d->target_pid = BPF_CORE_READ(target, pid);
	d->target_tgid = BPF_CORE_READ(target, tgid);
	return true;
}

/* The policy's META entry when it protects anything, else NULL. */
static __always_inline struct bw_rule_val *bw_protect_meta(void **policy)
{
	struct bw_rule_val *meta;
	__u32 zero = 0;

	*policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (!*policy)
		return NULL;
	meta = bpf_map_lookup_elem(*policy, &bw_meta_key);
	if (!meta || !(meta->ops & (1u << BW_OP_PROTECT)))
		return NULL;
	return meta;
}

/*
 * The protection of a file or directory: its own `protect` entry, else
 * (unless exact_only) the nearest protected directory above it, walking
 * d_parent within its filesystem: where the file really is, whatever path
 * or bind mount reached it. Returns the level (0 = none) and the rule.
 * An inode bulwark cannot place (btrfs before its layout is known) or a
 * walk past the bound is treated as unprotected: refusing every file
 * operation on the host would be worse than the gap, and no protected
 * tree is that deep.
 */
static __noinline __u32 bw_protected_file(struct dentry *dentry, bool exact_only, __u32 *rule_id)
{
	struct bw_search ws = {}, *w = &ws;

	*rule_id = 0;
	if (!dentry || !bw_protect_meta(&w->policy))
		return BW_LEVEL_NONE;
	if (!BPF_CORE_READ(dentry, d_inode))
		return BW_LEVEL_NONE; /* a name not yet created: the caller asks its directory */
	w->s = &bw_no_subject;
	w->key.op = BW_OP_PROTECT;
	w->key.kind = BW_OBJ_FILE;
	if (!bw_inode_id(dentry, &w->key.dev, &w->key.ino))
		return BW_LEVEL_NONE;
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (!w->v && !exact_only) {
		w->key.kind = BW_OBJ_TREE;
		w->dentry = dentry;
		w->mnt = NULL; /* the real place: d_parent up to the filesystem's root */
		w->done = 0;
		bpf_loop(BW_WALK_MAX, bw_walk_step, w, 0);
		if (w->done != 1)
			w->v = NULL;
	}
	if (!w->v)
		return BW_LEVEL_NONE;
	*rule_id = w->v->rule_id;
	return w->v->class_id;
}

/*
 * Is dentry a directory above a protected file or tree (a mountpoint that
 * would hide it)? One lookup: the compiler listed every such directory.
 */
static __noinline __u32 bw_protected_above(struct dentry *dentry, __u32 *rule_id)
{
	struct bw_rule_key key = { .op = BW_OP_PROTECT, .kind = BW_OBJ_ANCESTOR };
	struct bw_rule_val *v;
	void *policy;

	*rule_id = 0;
	if (!dentry || !bw_protect_meta(&policy) || !BPF_CORE_READ(dentry, d_inode))
		return BW_LEVEL_NONE;
	if (!bw_inode_id(dentry, &key.dev, &key.ino))
		return BW_LEVEL_NONE;
	v = bpf_map_lookup_elem(policy, &key);
	if (!v)
		return BW_LEVEL_NONE;
	*rule_id = v->rule_id;
	return v->class_id;
}

/*
 * Step 0 for a change to a file: refused below its level. need and
 * rule_id come from bw_protected_file or bw_protected_above; the event
 * names the file (path where the hook allows bpf_d_path) and, in arg, the
 * `protect` rule. Not inlined: its decision must not share a stack frame
 * with the walk's search state (512 bytes for the whole call chain).
 */
static __noinline int bw_protect_file_gate(struct dentry *dentry, struct path *path, __u32 hook,
					  __u32 need, __u32 rule_id)
{
	struct bw_decision d = {};
	__u32 have;

	if (!need)
		return 0;
	have = bw_current_level();
	if (have >= need)
		return 0;
	bw_protect_deny(&d, BW_OP_PROTECT, hook, need, have);
	d.arg = rule_id;
	bw_inode_id(dentry, &d.dev, &d.ino);
	if (!path)
		d.event_flags |= BW_EVF_PATH_ERR;
	return bw_conclude(&d, path, NULL);
}


/* A dentry's name is exactly `name` (len counts the NUL). */
static __always_inline bool bw_name_is(struct dentry *dentry, const char *name, int len)
{
	char buf[16] = {};

	if (len > (int)sizeof(buf))
		return false;
	bpf_probe_read_kernel_str(buf, sizeof(buf), BPF_CORE_READ(dentry, d_name.name));
	for (int i = 0; i < len && i < (int)sizeof(buf); i++)
		if (buf[i] != name[i])
			return false;
	return true;
}

/*
 * Something only bulwarkd may do while `protect self` is in force (a
 * cgroup v1 file, sysrq, a terminal's input): refused below `system`.
 * Returns the hook's answer.
 */
static __noinline int bw_protect_self_only(struct dentry *dentry, struct path *path, __u32 hook)
{
	if (!bw_policy_has(BW_POLICY_PROTECT_SELF))
		return 0;
	return bw_protect_file_gate(dentry, path, hook, BW_LEVEL_SYSTEM, 0);
}

/*
 * Is the task in the host's mount namespace with the host's root directory
 * (bulwarkd's, recorded in the guard), not in a chroot of root's making?
 */
static __noinline bool bw_host_view(struct task_struct *task)
{
	struct bw_guard *g = bpf_map_lookup_elem(&bw_guard, &bw_zero_key);
	__u64 dev = 0, ino = 0;

	if (!g)
		return false;
	if (g->mnt_ns && BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum) != g->mnt_ns)
		return false;
	/* the same root directory as bulwarkd's (a boot's switch_root is a chroot too) */
	if (g->root_ino && (!bw_inode_id(BPF_CORE_READ(task, fs, root.dentry), &dev, &ino) ||
			    dev != g->root_dev || ino != g->root_ino))
		return false;
	return true;
}


#define DCACHE_DISCONNECTED 0x20

/*
 * A change to an existing file or directory (or, exact_only, to its
 * entries). A dentry cut off from its directory (open_by_handle_at) has
 * no ancestors to prove it lies outside every protected tree: while the
 * policy protects files, only bulwarkd changes it. A file named
 * ld.so.preload is code injected into every program: bulwarkd's alone
 * under `protect self`.
 */
static __always_inline int bw_protect_change(struct dentry *dentry, struct path *path, __u32 hook,
					     bool exact_only)
{
	__u32 rule_id, need = bw_protected_file(dentry, exact_only, &rule_id);
	void *policy;

	if (!need && (BPF_CORE_READ(dentry, d_flags) & DCACHE_DISCONNECTED) && bw_protect_meta(&policy))
		need = BW_LEVEL_SYSTEM;
	if (!need && bw_name_is(dentry, "ld.so.preload", 14))
		return bw_protect_self_only(dentry, path, hook);
	return bw_protect_file_gate(dentry, path, hook, need, rule_id);
}

/* A name added to a directory: the directory's own entry and its trees. */
static __always_inline int bw_protect_entry(struct dentry *dentry, __u32 hook)
{
	if (bw_name_is(dentry, "ld.so.preload", 14)) {
		int r = bw_protect_self_only(dentry, NULL, hook);

		if (r)
			return r;
	}
	return bw_protect_change(BPF_CORE_READ(dentry, d_parent), NULL, hook, false);
}

#define BW_CGROUP1_MAGIC 0x27e0eb

/*
 * cgroups: a protected process is stopped or starved through its cgroup or
 * any cgroup above it (cgroup.kill, cgroup.freeze, memory.max, pids.max,
 * cpu.max, ...). A write-open of such a file is refused below the level of
 * the most protected process inside, wherever that process is now (the
 * cgroup it was moved to included). Files named cgroup.* other than kill
 * and freeze (procs, threads, subtree_control, ...) stay writable: they
 * neither stop nor starve, and service managers write them constantly.
 */
#define BW_CGROUP2_MAGIC 0x63677270

struct bw_cgroup_scan {
	struct cgroup *target; /* the cgroup whose file is opened */
	int level;             /* its level */
	__u32 need, rule_id;   /* the highest level found inside it */
};

/* One protected process: is it in s->target or below? */
static long bw_cgroup_scan_step(struct bpf_map *map, __u32 *tgid, struct bw_protected_proc *pp,
				struct bw_cgroup_scan *s)
{
	struct task_struct *task = (void *)pp->task;
	struct cgroup *cgrp, *anc = NULL;
	int level = s->level & 63; /* a local: CO-RE relocates kernel types only */

	if (!task || pp->level <= s->need || BPF_CORE_READ(task, tgid) != *tgid ||
	    BPF_CORE_READ(task, start_time) != pp->start_time)
		return 0;
	cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!cgrp || BPF_CORE_READ(cgrp, level) < level)
		return 0;
	bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[level]);
	if (anc == s->target) {
		s->need = pp->level;
		s->rule_id = pp->rule_id;
	}
	return 0;
}

/* Does a write to this cgroup file stop or starve what is inside? */
static __always_inline bool bw_cgroup_file_guarded(struct kernfs_node *kn)
{
	char name[16] = {};

	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(kn, name));
	if (name[0] != 'c' || name[1] != 'g' || name[2] != 'r' || name[3] != 'o' || name[4] != 'u' ||
	    name[5] != 'p' || name[6] != '.')
		return true; /* a controller's file: memory.max, pids.max, cpu.max, io.max, ... */
	return (name[7] == 'k' && name[8] == 'i' && name[9] == 'l' && name[10] == 'l' && !name[11]) ||
	       (name[7] == 'f' && name[8] == 'r' && name[9] == 'e' && name[10] == 'e' && name[11] == 'z' &&
		name[12] == 'e' && !name[13]);
}

/* A write-open of a cgroup v2 file: refused below the level of a protected process inside. */
static __noinline int bw_protect_cgroup_file(struct file *file)
{
	struct kernfs_node *kn = BPF_CORE_READ(file, f_inode, i_private), *dir;
	struct bw_cgroup_scan s = {};
	struct cgroup *target; /* a local: CO-RE relocates kernel types only */

	if (!kn || !bw_cgroup_file_guarded(kn))
		return 0;
	dir = BPF_CORE_READ(kn, parent);
	target = dir ? BPF_CORE_READ(dir, priv) : NULL;
	if (!target)
		return 0;
	s.target = target;
	s.level = BPF_CORE_READ(target, level);
	bpf_for_each_map_elem(&bw_protected, bw_cgroup_scan_step, &s, 0);
	if (!s.need)
		return 0;
	return bw_protect_file_gate(BPF_CORE_READ(file, f_path.dentry), &file->f_path, BW_HOOK_CGROUP,
				    s.need, s.rule_id);
}

/*
 * Moving a protected process to another cgroup (cgroup v2 `cgroup.procs`
 * or `cgroup.threads`): into one frozen or limited beforehand, that stops
 * or starves it as surely as cgroup.freeze. No LSM hook sees a migration,
 * but the kernel asks inode_permission(MAY_WRITE) on the common
 * ancestor's cgroup.procs before it moves anything, in the writer's
 * context, after it found the process. The writer's thread notes the
 * process here when it is protected (cgroup_procs_write_start's exit);
 * the permission check refuses below its level; the write's end
 * (cgroup_procs_write_finish) clears the note.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* the writer's thread id */
	__type(value, __u64); /* the process being moved (task_struct), held by the kernel */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_cgroup_moving SEC(".maps");

static __noinline int bw_protect_cgroup_move(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *moving = bpf_map_lookup_elem(&bw_cgroup_moving, &tid);
	struct task_struct *task;
	struct bw_decision d = {};

	if (!moving)
		return 0;
	task = (struct task_struct *)*moving;
	bpf_map_delete_elem(&bw_cgroup_moving, &tid);
	if (!bw_protect_task(&d, BW_OP_CONTROL, BW_HOOK_CGROUP_MOVE, task))
		return 0;
	return bw_conclude(&d, NULL, NULL);
}

#endif /* BULWARK_PROTECT_BPF_H */
