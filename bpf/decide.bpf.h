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

/* The ops and flags that may be in force, whether marks may exist, undecided forks (struct bw_live). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_LIVE_ENTRIES);
	__type(key, __u32);
	__type(value, struct bw_live);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_live SEC(".maps");

/* Which (op, uid) pairs some rule in force names: a superset, as bw_live (BW_UID_FILTER_BIT). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_UID_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_uid_filter SEC(".maps");

/* Which exact files some rule in force names: a superset, as bw_uid_filter (BW_FILE_FILTER_WORD, _MASK). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_FILE_FILTER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_file_filter SEC(".maps");

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
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_fs_layout);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_fs_layout SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bw_task_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_task_state SEC(".maps");

/* Per thread: the f_mode (| BW_OPEN_MODE_SET) of its last /proc open, for ptrace. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} bw_open_mode SEC(".maps");

/*
 * The sysctls the gate guards, by (directory, name): filled by the daemon
 * from the policy library's table when the programs are first loaded, then
 * frozen, so nothing in user space can change which knobs are guarded.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32);
	__type(key, struct bw_sysctl_key);
	__type(value, struct bw_sysctl_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_sysctls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_canary);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_canary SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_build);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_build SEC(".maps");

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

/*
 * Can no rule of op, in any layer, match the acting task (decisions 101
 * and 104)? True when a policy is installed and no layer decides op, or
 * when every rule of op names a uid (each subject mask in op's combos
 * names it) and none names the task's effective uid: the uid is what a
 * rule's `from uid=` matches (bw_classify; bw_uid_filter holds the uids
 * the rules name). Then the op is undecided, as
 * the full path would find it, without the policy's META hash, the
 * subject's classification or a lookup per mask. The masks naming the
 * uid are bw_masks_naming[BW_DIM_UID], written out: a page of .rodata less.
 */
static __always_inline bool bw_live_skips(const struct bw_live *live, __u32 op, struct task_struct *task)
{
	__u32 bit, word_key;
	__u64 *word;

	if (!live || !live->installed || op >= BW_OP_COUNT)
		return false;
	if (!(live->ops & (1u << op)))
		return true;
	if (live->combos[op] & ~0xCCCCCCCCu)
		return false;
	bit = BW_UID_FILTER_BIT(op, task->cred->euid.val); /* plain loads: a BTF pointer */
	word_key = bit >> 6;
	word = bpf_map_lookup_elem(&bw_uid_filter, &word_key);
	return word && !(*word & (1ull << (bit & 63)));
}

/*
 * bw_live_skips for the acting task, from a decision. A frame of its own:
 * a leaf beside the decision's deepest chain costs no stack there
 * (bw_bprm_check's chain is at the 512 bytes on 6.1).
 */
static __noinline bool bw_live_skips_now(__u32 op)
{
	__u32 key = BW_LIVE_SUPERSET; /* on the stack, not in .rodata: a page less (decision 102) */

	return bw_live_skips(bpf_map_lookup_elem(&bw_live, &key), op, bpf_get_current_task_btf());
}


static __always_inline void bw_count(__u32 op, __u32 counter)
{
	__u32 idx = op * BW_CNT_COUNT + counter;
	__u64 *c = bpf_map_lookup_elem(&bw_counters, &idx);

	if (c)
		*c += 1;
}

/* The process's own state, created if it has none: its mark, class cache and exit. */
static __always_inline struct bw_task_state *bw_state_own(struct task_struct *task)
{
	return bpf_task_storage_get(&bw_task_state, task->group_leader, 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* The process's own state only: what marks are read from (a child never reads its parent's). */
static __always_inline struct bw_task_state *bw_state_mine(struct task_struct *task)
{
	return bpf_task_storage_get(&bw_task_state, task->group_leader, 0, 0);
}

/*
 * One candidate object: try the subject's masks in precedence order. The
 * caller's key names the op and the object; its subj and ids are filled
 * here (in place: the BPF stack is small).
 */
static __noinline struct bw_rule_val *bw_lookup(void *policy, const struct bw_subject *s,
						struct bw_rule_key *key, __u32 *subj)
{
	__u32 masks = s->masks, live_key = BW_LIVE_SUPERSET;
	struct bw_live *live = bpf_map_lookup_elem(&bw_live, &live_key);
	struct bw_rule_val *v;
	int i, dim;

	/*
	 * Only the masks some rule of the op uses (decision 104): one lookup
	 * per object where a policy-wide set of masks would try every mask
	 * any op's rules use. Class entries (the subject's own) have no op.
	 * Nothing more here: each branch before the unrolled loop below is
	 * verified at every call (skipping defaults no layer has, one more
	 * branch, took the programs' verification on 6.1 from 35 to 83 s).
	 */
	if (live && live->installed && key->op < BW_OP_COUNT && key->kind != BW_OBJ_EXE_FILE &&
	    key->kind != BW_OBJ_EXE_TREE && key->kind != BW_OBJ_CGROUP)
		masks &= live->combos[key->op];

	/*
	 * Highest mask first. Written so that every path through one iteration
	 * leaves the same live state, or the verifier would explore 2^32 paths.
	 * Unrolled: a loop whose latch is a helper call is refused by 6.1.
	 */
#pragma unroll
	for (i = 0; i < BW_SUBJ_COMBOS; i++) {
		__u32 m = BW_SUBJ_COMBOS - 1 - i;

		if (!(masks & (1u << m)))
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

#define BW_BTRFS_MAGIC 0x9123683E

/*
 * A file's identity as the compiler resolves it: (dev, ino) as stat
 * reports them. That is the superblock's device, except on btrfs, where
 * each subvolume has its own (anonymous) device and inode numbers repeat
 * across subvolumes: there it is the subvolume's, found with the offsets
 * bulwarkd read from the btrfs module's BTF. Returns false when it cannot
 * be told (a btrfs inode before bulwarkd knew the layout): callers that
 * decide fail closed.
 */
static const __u32 bw_zero_key;

/* btrfs: the subvolume's device, then the inode's number. */
static __always_inline bool bw_inode_id_btrfs(struct inode *inode, struct super_block *sb, __u64 *dev,
					      __u64 *ino)
{
	struct bw_fs_layout *l;
	void *root;

	/* dev and ino are the scratch: the walk step's stack has no room. */
	l = bpf_map_lookup_elem(&bw_fs_layout, &bw_zero_key);
	if (!l || !l->valid ||
	    bpf_probe_read_kernel(ino, sizeof(*ino), (void *)inode - l->btrfs_vfs_inode + l->btrfs_root))
		return false;
	root = (void *)*ino;
	*dev = 0;
	if (!root || bpf_probe_read_kernel(dev, sizeof(__u32), root + l->btrfs_anon_dev))
		return false;
	*ino = BPF_CORE_READ(inode, i_ino);
	return true;
}

static __noinline bool bw_inode_id(struct dentry *dentry, __u64 *dev, __u64 *ino)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);

	*dev = BPF_CORE_READ(sb, s_dev);
	if (BPF_CORE_READ(sb, s_magic) == BW_BTRFS_MAGIC)
		return bw_inode_id_btrfs(inode, sb, dev, ino);
	*ino = BPF_CORE_READ(inode, i_ino);
	return true;
}

/*
 * Two fields of one kernel object read with one probe read, where both lie
 * in BW_WINDOW bytes (decision 107): under emulation a hook pays per helper
 * call, and a file below an overlay is a number, not a BTF pointer, on 6.1.
 * Field a comes first in the object. The offsets and sizes are CO-RE
 * constants, so the verifier knows every one; where a kernel lays the two
 * out otherwise, two reads. The window starts 8-aligned, so each field
 * keeps its natural alignment. Returns false if a read fails.
 */
#define BW_WINDOW 96
static __always_inline bool bw_read_two(const void *obj, __u64 off_a, __u64 size_a, __u64 *a,
					__u64 off_b, __u64 size_b, __u64 *b)
{
	__u64 win[BW_WINDOW / 8];
	__u64 lo = off_a & ~7ull, span = off_b + size_b - lo;

	*a = *b = 0;
	/* Only 4- and 8-byte fields: a kernel that made one another size cannot be placed. */
	if ((size_a != 4 && size_a != 8) || (size_b != 4 && size_b != 8))
		return false;
	if (off_b < off_a || span > BW_WINDOW)
		return !bpf_probe_read_kernel(a, size_a & 15, obj + off_a) &&
		       !bpf_probe_read_kernel(b, size_b & 15, obj + off_b);
	if (bpf_probe_read_kernel(win, span, obj + lo))
		return false;
	off_a -= lo;
	off_b -= lo;
	/* Or clang adds off_a to the aligned window with |=, which 6.1's verifier refuses on a pointer. */
	barrier_var(off_a);
	barrier_var(off_b);
	*a = size_a == 8 ? *(__u64 *)((void *)win + off_a) : *(__u32 *)((void *)win + off_a);
	*b = size_b == 8 ? *(__u64 *)((void *)win + off_b) : *(__u32 *)((void *)win + off_b);
	return true;
}

#define bw_read_fields(obj, type, fa, a, fb, b)                                                     \
	({                                                                                           \
		_Static_assert((sizeof(((type *)0)->fa) == 4 || sizeof(((type *)0)->fa) == 8) &&     \
				       (sizeof(((type *)0)->fb) == 4 || sizeof(((type *)0)->fb) == 8), \
			       "bw_read_two reads 4- and 8-byte fields");                            \
		bw_read_two(obj, bpf_core_field_offset(type, fa), bpf_core_field_size(type, fa), a, \
			    bpf_core_field_offset(type, fb), bpf_core_field_size(type, fb), b);     \
	})

/*
 * bw_inode_ident with two probe reads where it takes four (decision 107),
 * for an inode that is only a number: the inode's superblock and number,
 * then the superblock's device and magic, which the caller keeps (an
 * overlay's real file may be an overlay's file again). btrfs' device is
 * its subvolume's: bw_inode_ident's reads. Returns false when the file
 * cannot be placed.
 */
static __always_inline bool bw_inode_key(__u64 inode, __u64 *dev, __u64 *ino, __u64 *magic)
{
	__u64 sb;

	if (!bw_read_fields((void *)inode, struct inode, i_sb, &sb, i_ino, ino) || !sb ||
	    !bw_read_fields((void *)sb, struct super_block, s_dev, dev, s_magic, magic))
		return false;
	if (*magic == BW_BTRFS_MAGIC)
		return bw_inode_id_btrfs((void *)inode, (void *)sb, dev, ino);
	return true;
}

/*
 * overlayfs (containers): a file seen through an overlay is an overlay
 * inode with overlay ancestors; the file whose code runs is the real one
 * below. Both views are judged (see bw_walk_step). Its stacking depth is
 * at most 2 (FILESYSTEM_MAX_STACK_DEPTH), so a file has at most the path
 * used, a fake-path real file's inode (6.1 mappings) and two real files.
 */
#define BW_OVERLAYFS_MAGIC 0x794c7630
#define BW_VIEWS_MAX 4

/*
 * Decision 110: the real file below an overlay, recorded by its own open.
 * On 6.1 an overlay file's real file (private_data) is a number to the
 * verifier, reached only by probe reads, and under emulation the first
 * helper call after a context switch is most of what an exec decision
 * costs. An overlay opens its real file with the overlay's path (6.1), so
 * file_open sees that file as a BTF pointer whose path's inode is the
 * overlay inode: bw_real_file_opened reads its identity there with plain
 * loads and leaves it, with the file's address and the overlay inode's
 * identity, in a slot chosen by the overlay inode. A record is taken only
 * while its address is the overlay file's private_data and it names the
 * same overlay inode: every such open writes its slot, so a slot holding
 * that address was written by that file's own open (a file freed before
 * it at the same address wrote earlier). Writers take the slot with a
 * compare-and-swap of its sequence (odd while written) and skip it when
 * another holds it, since that one's record replaces whatever was there;
 * readers take a record only if the sequence was even and unchanged
 * around it (x86 keeps stores in order and loads in order). A missing
 * record, another file's, a nested overlay or btrfs (whose device is its
 * subvolume's) take the probe reads. 6.12 opens the real file with its
 * own path (a backing file): no record, the probe reads as before.
 */
#define BW_REAL_FILES 4096 /* 224 KiB; a record lives from an open to its exec or mapping */
struct bw_real_file {
	__u64 seq;  /* odd while a writer holds the slot */
	__u64 file; /* the real file's address */
	__u64 above_dev, above_ino; /* the overlay inode it was opened for */
	__u64 dev, ino, magic;      /* the real inode */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BW_REAL_FILES);
	__type(key, __u32);
	__type(value, struct bw_real_file);
	/* one map for every load: a program reloaded alone (a repair) writes what the others read */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_real_files SEC(".maps");

#define BW_ONCE(x) (*(volatile __typeof__(x) *)&(x))

/* The slot of the overlay inode (dev, ino), as the exact-file path's first view keys it. */
static __always_inline __u32 bw_real_file_slot(__u64 dev, __u64 ino)
{
	return (__u32)(((ino ^ (dev << 32)) * 0x9E3779B97F4A7C15ull) >> 52) & (BW_REAL_FILES - 1);
}

/* file_open: record a real file opened with an overlay's path (6.1). */
static __always_inline void bw_real_file_opened(struct file *file)
{
	struct inode *above = file->f_path.dentry->d_inode, *real = file->f_inode;
	struct super_block *sb;
	struct bw_real_file *r;
	__u64 seq, above_dev;
	__u32 slot;

	if (above == real || above->i_sb->s_magic != BW_OVERLAYFS_MAGIC)
		return;
	above_dev = above->i_sb->s_dev;
	slot = bw_real_file_slot(above_dev, above->i_ino);
	r = bpf_map_lookup_elem(&bw_real_files, &slot);
	if (!r)
		return;
	seq = BW_ONCE(r->seq);
	if ((seq & 1) || __sync_val_compare_and_swap(&r->seq, seq, seq + 1) != seq)
		return; /* another open holds the slot: its record replaces the one there */
	sb = real->i_sb;
	BW_ONCE(r->file) = (__u64)file; /* a number in a map: bulwarkd loads with CAP_PERFMON */
	BW_ONCE(r->above_dev) = above_dev;
	BW_ONCE(r->above_ino) = above->i_ino;
	BW_ONCE(r->dev) = sb->s_dev;
	BW_ONCE(r->ino) = real->i_ino;
	BW_ONCE(r->magic) = sb->s_magic;
	BW_ONCE(r->seq) = seq + 2;
}

/*
 * The real file below the overlay inode key names, from its record: into
 * key, true when found (not an overlay's or btrfs' file again).
 */
static __always_inline bool bw_real_file_known(struct bw_rule_key *key, __u64 real)
{
	__u32 slot = bw_real_file_slot(key->dev, key->ino);
	struct bw_real_file *r = bpf_map_lookup_elem(&bw_real_files, &slot);
	__u64 seq, dev, ino, magic;

	if (!r || !real)
		return false;
	seq = BW_ONCE(r->seq);
	if ((seq & 1) || BW_ONCE(r->file) != real || BW_ONCE(r->above_dev) != key->dev ||
	    BW_ONCE(r->above_ino) != key->ino)
		return false;
	dev = BW_ONCE(r->dev);
	ino = BW_ONCE(r->ino);
	magic = BW_ONCE(r->magic);
	if (BW_ONCE(r->seq) != seq || magic == BW_OVERLAYFS_MAGIC || magic == BW_BTRFS_MAGIC)
		return false;
	key->dev = dev;
	key->ino = ino;
	return true;
}

/*
 * The state of one search, shared with bpf_loop callbacks. The BPF stack
 * is 512 bytes for the whole call chain, so a decision owns exactly one of
 * these and every step (the subject's classes, then the object) reuses it.
 * File searches and process searches never overlap in time, so the view
 * state of a file search shares fields with the target scan's.
 */
struct bw_search {
	void *policy;
	const struct bw_subject *s;   /* whose masks to try */
	union {
		const struct bw_subject *t;   /* process objects: the target's */
		struct bw_rule_val *best;     /* file objects: the best entry of the views so far */
		struct cgroup *cgrp;          /* cgroup class: the task's cgroup (top: its level) */
	};
	struct dentry *dentry;        /* walk position */
	struct mount *mnt;            /* NULL: a real view, which ends at its filesystem's root */
	struct file *next;            /* file objects: whose real file is the next view */
	struct bw_rule_key key;       /* op and kind set by the caller */
	struct bw_rule_val *v;        /* result: the entry found, or NULL */
	union {
		__u32 top;            /* target scan: the highest target mask to try */
		struct {
			__u16 vstart; /* walk step at which this view began */
			__u8 view;    /* 0: the path used; then real files below overlays */
			__u8 vflags;  /* BW_VIEW_* */
		};
	};
	__u32 subj;                   /* result: the subject mask it was found under */
	union {
		__u32 tsubj;          /* result: the target mask it was found under */
		__u32 best_subj;      /* file objects: best's subject mask */
	};
	int done;                     /* walk: 1 found, 2 nothing found, 3 too deep to tell */
};

enum {
	BW_VIEW_REAL = 1,    /* best came from a real file below an overlay */
	BW_VIEW_EXACT = 2,   /* best is an exact entry (file, not tree) */
	BW_VIEW_CLASS = 4,   /* a class search: views combine by specificity, not verdict */
	BW_VIEW_NO_TREES = 8, /* the policy has no directory entry for the op: exact entries only */
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
	__u32 policy_serial; /* META serial of the map that decided: its generation's low bits */
	__u64 dev;          /* file objects */
	__u64 ino;
	__u32 arg;          /* signal: the signal */
	__u32 tsubj;        /* target mask of the deciding rule */
	__u32 target_pid;   /* process objects */
	__u32 target_tgid;
};

/*
 * The layer whose rule decided rides above the rule's flags in
 * rule_flags (enum bw_rule_flag uses the low bits): a field of its own
 * would grow every hook's frame, and bw_bprm_check's chain is within a
 * few bytes of the 512-byte stack on 6.1.
 */
#define BW_DECISION_LAYER_SHIFT 24
#define BW_DECISION_FLAGS_MASK ((1u << BW_DECISION_LAYER_SHIFT) - 1)
/*
 * Likewise the client layers the policy holds (layer 0's META) ride above
 * the policy's flags in policy_flags, from the layer 0 search to the next.
 */
#define BW_DECISION_LAYERS_SHIFT 16 /* bits 1..BW_CLIENT_LAYERS of the mask: 16 + 9 < 32 */
#define BW_DECISION_POLICY_MASK ((1u << BW_DECISION_LAYERS_SHIFT) - 1)

/* Stronger verdicts win across views: deny, then audit, then allow. */
static __always_inline __u32 bw_verdict_rank(__u32 verdict)
{
	return verdict == BW_VERDICT_DENY ? 3 : verdict == BW_VERDICT_AUDIT ? 2 : verdict ? 1 : 0;
}

/*
 * A view found w->v: keep it if it beats the best of the views before.
 * Decisions: the stronger verdict (deny if either view denies; the most
 * specific entry within each view was already chosen by the walk). Program
 * classes: an exact program beats a directory, else the first view. Returns
 * true when no later view can do better.
 */
static __always_inline bool bw_view_found(struct bw_search *w)
{
	bool exact = w->key.kind == BW_OBJ_FILE || w->key.kind == BW_OBJ_EXE_FILE;
	bool better;

	if (w->vflags & BW_VIEW_CLASS)
		better = !w->best || (exact && !(w->vflags & BW_VIEW_EXACT));
	else
		better = !w->best || bw_verdict_rank(w->v->verdict) > bw_verdict_rank(w->best->verdict);
	if (better) {
		w->best = w->v;
		/*
		 * Copied by a helper: the verifier then knows neither mask, and
		 * the walk's states converge instead of multiplying by every
		 * mask each view could have found (BPF program too large).
		 */
		bpf_probe_read_kernel(&w->best_subj, sizeof(w->best_subj), &w->subj);
		w->vflags &= ~(BW_VIEW_REAL | BW_VIEW_EXACT);
		w->vflags |= (w->view ? BW_VIEW_REAL : 0) | (exact ? BW_VIEW_EXACT : 0);
	}
	bpf_probe_read_kernel(&w->subj, sizeof(w->subj), &w->subj);
	if (w->vflags & BW_VIEW_CLASS)
		return w->vflags & BW_VIEW_EXACT;
	return w->best->verdict == BW_VERDICT_DENY;
}

/* The dentry of a real inode: its first alias (it has one: the overlay holds it). */
static __always_inline struct dentry *bw_inode_alias(struct inode *inode)
{
	struct hlist_node *n = BPF_CORE_READ(inode, i_dentry.first);

	if (!n)
		return NULL;
	return (struct dentry *)((void *)n - bpf_core_field_offset(struct dentry, d_u.d_alias));
}

/*
 * The next view of w->next once the current one is done: the inode behind
 * a fake path (6.1 maps an overlay file's real file under the overlay's
 * path), else the real file an overlay file opened (ovl_open stores it in
 * private_data, on 6.1 and 6.12). Returns 0 to walk on, 1 when every view
 * is done (w->done set). bw_exact_none walks the same views for the
 * exact-file path: a view added here must be added there too, or that
 * path would miss its entries (t_identity's exact-path checks).
 */
static __always_inline long bw_next_view(struct bw_search *w, __u32 i)
{
	struct file *file = w->next;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct dentry *alias;

	if (w->view == 0 && inode != BPF_CORE_READ(file, f_path.dentry, d_inode)) {
		/* the real inode of a fake path: judge it, then look below it */
	} else if (BPF_CORE_READ(inode, i_sb, s_magic) == BW_OVERLAYFS_MAGIC) {
		file = BPF_CORE_READ(file, private_data);
		inode = file ? BPF_CORE_READ(file, f_inode) : NULL;
		w->next = file;
	} else {
		w->done = 2; /* no real file below: every view judged */
		return 1;
	}
	alias = inode ? bw_inode_alias(inode) : NULL;
	if (!alias || w->view >= BW_VIEWS_MAX - 1) {
		w->done = 3; /* a real file we cannot place, or stacked too deep: fail closed */
		return 1;
	}
	w->view++;
	w->vstart = i + 1;
	w->dentry = alias;
	w->mnt = NULL;
	w->key.kind -= 1; /* tree kind -> exact kind: the new view starts at its file */
	/*
	 * Forget the view number and flags (a helper's copy), so that views
	 * cannot multiply the states of a callback the verifier checks until
	 * its states repeat. Measured: no change on 6.1 or 6.12 today.
	 */
	bpf_probe_read_kernel(&w->top, sizeof(w->top), &w->top);
	return 0;
}

/*
 * One step of a file's search. A view starts at the file (its exact
 * entry) and goes up its ancestors (tree entries) until one has an entry
 * or the root is reached; then the next view (bw_next_view) starts, until
 * a view makes the rest moot or none is left.
 *
 * Ancestry is the directory's real place in its filesystem, not the path
 * used to reach it: the walk follows d_parent up to the filesystem's root,
 * even past the root of a bind mount, so bind-mounting a denied directory
 * elsewhere does not escape its rule. From a filesystem's root it
 * continues at the mountpoint in the parent mount, so a tree rule on /usr
 * also covers a filesystem mounted below /usr. A real view has no mount
 * (overlayfs' private layer mounts are attached nowhere): it ends at the
 * root of the real file's filesystem.
 */
static long bw_view_step(__u32 i, void *ctx)
{
	struct bw_search *w = ctx;
	/* Locals, not w->...: CO-RE relocations only apply to kernel types. */
	struct dentry *dentry = w->dentry, *parent;
	struct mount *mnt = w->mnt, *up;

	if (i - w->vstart >= BW_WALK_MAX || !bw_inode_id(dentry, &w->key.dev, &w->key.ino)) {
		w->done = 3; /* too deep, or a btrfs file bulwarkd cannot place yet: fail closed */
		return 1;
	}
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v) {
		if (bw_view_found(w)) {
			w->done = 1;
			return 1;
		}
		if (w->key.kind == BW_OBJ_FILE || w->key.kind == BW_OBJ_EXE_FILE)
			w->key.kind += 1;
		return bw_next_view(w, i);
	}
	if (w->key.kind == BW_OBJ_FILE || w->key.kind == BW_OBJ_EXE_FILE) {
		/* No exact entry: its directories next (a file is never a tree). */
		w->key.kind += 1;
		/* ... unless no rule names a directory: then no ancestor has an entry. */
		if (w->vflags & BW_VIEW_NO_TREES)
			return bw_next_view(w, i);
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent != dentry) {
		w->dentry = parent;
		return 0;
	}
	up = mnt ? BPF_CORE_READ(mnt, mnt_parent) : NULL;
	if (up == mnt || !up)
		return bw_next_view(w, i); /* the namespace's (or a real view's) root */
	w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
	w->mnt = up;
	return 0;
}

/*
 * The entry of a file: in each of its views (the path used, then the real
 * files below overlays), its exact entry (key.kind, an exact kind), else
 * its nearest ancestor directory's (the tree kind, key.kind + 1), and the
 * best of the views (bw_view_found). Returns 1 when found (w->v, w->subj;
 * w->vflags says whether a real file decided), 0 when none applies, -1
 * when the path is too deep (or the overlay too strange) to tell.
 */
static __always_inline int bw_find_file_views(struct bw_search *w, struct file *file, bool class,
					      bool trees)
{
	w->best = NULL;
	w->best_subj = 0;
	w->view = 0;
	w->vstart = 0;
	w->vflags = (class ? BW_VIEW_CLASS : 0) | (trees ? 0 : BW_VIEW_NO_TREES);
	w->next = file;
	w->dentry = BPF_CORE_READ(file, f_path.dentry);
	w->mnt = container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt);
	w->done = 0;
	bpf_loop(BW_WALK_MAX * BW_VIEWS_MAX, bw_view_step, w, 0);
	if (w->done == 0 || w->done == 3)
		return -1;
	w->v = w->best;
	w->subj = w->best_subj;
	return w->v ? 1 : 0;
}

/*
 * The walk of one view only, the path used: what program classes use.
 * The views walk (bw_view_step) carries more state, and a decision
 * classifies subjects and targets at a dozen places per program: with it
 * there, the verifier exceeded its million instructions on the task
 * hooks. So `exe=` and `parent=` judge the program by the path it was
 * run from (docs/decisions.md, 36).
 */
static long bw_walk_step(__u32 i, void *ctx)
{
	struct bw_search *w = ctx;
	/* Locals, not w->...: CO-RE relocations only apply to kernel types. */
	struct dentry *dentry = w->dentry, *parent;
	struct mount *mnt = w->mnt, *up;

	if (!bw_inode_id(dentry, &w->key.dev, &w->key.ino)) {
		w->done = 3;
		return 1;
	}
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

/* The entry of a file in the path used: exact (key.kind), else its nearest tree (tree_kind). */
static __always_inline int bw_find_file(struct bw_search *w, struct file *file, __u32 tree_kind)
{
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);

	if (!bw_inode_id(dentry, &w->key.dev, &w->key.ino))
		return -1;
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
 * One level of bw_cgroup_class, deepest first: the ancestor of w->cgrp at
 * level w->top - i. Returns 1 when its class is found (w->v) or there is
 * no level left.
 */
static long bw_cgroup_step(__u32 i, void *ctx)
{
	struct bw_search *w = ctx;
	/* A local, not w->...: CO-RE relocations only apply to kernel types. */
	struct cgroup *cgrp = w->cgrp, *anc = NULL;
	int level = (int)w->top - (int)i;

	if (level < 0)
		return 1;
	bpf_core_read(&anc, sizeof(anc), &cgrp->ancestors[level & 63]);
	if (!anc)
		return 1;
	w->key.ino = BPF_CORE_READ(anc, kn, id);
	w->v = bpf_map_lookup_elem(w->policy, &w->key);
	return w->v ? 1 : 0;
}

/*
 * The deepest cgroup class among a task's cgroup (v2) and its ancestors.
 * The ancestors array is indexed by level, so this is one read and one
 * lookup per level, and only levels that can hold a class are looked at.
 * A bpf_loop, not a bounded loop: the verifier walked each of the 33
 * iterations of that, twice per process decision (a third of a task
 * hook's verification on 6.1).
 */
static __noinline __u32 bw_cgroup_class(struct bw_search *w, struct task_struct *task,
					__u32 levels)
{
	struct cgroup *cgrp = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	int level;

	if (!cgrp)
		return 0;
	__builtin_memset(&w->key, 0, sizeof(w->key));
	w->key.kind = BW_OBJ_CGROUP;
	level = BPF_CORE_READ(cgrp, level);
	if (level > (int)levels - 1)
		level = (int)levels - 1;
	if (level < 0)
		return 0;
	w->cgrp = cgrp;
	w->top = level;
	w->v = NULL;
	bpf_loop(BW_CGROUP_LEVEL_MAX + 1, bw_cgroup_step, w, 0);
	return w->v ? w->v->class_id : 0;
}

/* A task's cached program class, tagged with the policy serial it belongs to. */
static __always_inline __u64 bw_class_cache(__u32 class_id, __u32 serial)
{
	return (__u64)class_id << 32 | serial;
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
		struct bw_task_state *ts = bw_state_own(task);
		__u64 cached = ts ? ts->class_serial : 0;

		if (meta->serial && (__u32)cached == meta->serial) {
			s->ids[BW_DIM_EXE] = cached >> 32;
		} else {
			s->ids[BW_DIM_EXE] = bw_exe_class(w, BPF_CORE_READ(task, mm, exe_file));
			/* Looked up again, not kept across the walk: 6.1's stack is that tight. */
			ts = bw_state_own(task);
			if (ts)
				ts->class_serial = bw_class_cache(s->ids[BW_DIM_EXE], meta->serial);
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
	/*
	 * Stored by a helper, as are the ids: the verifier then knows none of
	 * their bits. Else each path through here (dimension used or not,
	 * class found or not) leaves a subject it can tell apart, and the rest
	 * of the decision is verified once per path: for a process target,
	 * that is the subject's paths times the target's (465,000
	 * instructions processed per task hook on 6.1, 100 s per start).
	 */
	bpf_probe_read_kernel(&s->masks, sizeof(s->masks), &masks);
	bpf_probe_read_kernel(s->ids, sizeof(s->ids), s->ids);
}

/*
 * Deny-wins across layers: an enforced deny, then a deny under its rule's
 * `with audit`, then audit, then allow. Equal ranks keep the layer searched
 * first (the administrator's, then clients from the highest altitude).
 */
static __always_inline __u32 bw_layer_rank(__u32 verdict, __u32 flags)
{
	if (verdict == BW_VERDICT_DENY)
		return flags & BW_RULE_AUDIT ? 3 : 4;
	return verdict == BW_VERDICT_AUDIT ? 2 : verdict ? 1 : 0;
}

static __always_inline void bw_take(struct bw_decision *d, const struct bw_search *w)
{
	__u32 layer = w->key.layer;

	if (layer && bw_layer_rank(w->v->verdict, w->v->flags) <=
		     bw_layer_rank(d->verdict, d->rule_flags))
		return;
	d->verdict = w->v->verdict;
	d->rule_id = w->v->rule_id;
	d->rule_flags = (w->v->flags & BW_DECISION_FLAGS_MASK) | layer << BW_DECISION_LAYER_SHIFT;
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
	void *policy;

	d->op = op;
	d->hook = hook;
	d->verdict = BW_VERDICT_NONE;
	*meta = NULL;
	policy = bpf_map_lookup_elem(&bw_policy, &bw_zero_key);
	if (!policy) {
		bw_count(op, BW_CNT_NO_POLICY);
		return NULL;
	}
	*meta = bpf_map_lookup_elem(policy, &bw_meta_key);
	if (!*meta)
		return policy;
	/* The client layers ride above the policy's flags (BW_DECISION_LAYERS_SHIFT). */
	d->policy_flags = ((*meta)->flags & BW_DECISION_POLICY_MASK) |
			  (*meta)->layers << BW_DECISION_LAYERS_SHIFT;
	d->policy_serial = (*meta)->serial;
	/* No rule decides this op: nothing to classify or look up. */
	if (!((*meta)->ops & (1u << op)))
		return NULL;
	return policy;
}

/*
 * A client layer's search (layer > 0), after layer 0's filled d: the same
 * map, layer 0's META for the subject's classification, and the layer's
 * own META entry for whether it decides op at all. d is left as layer 0
 * (and the layers before) left it.
 */
static __always_inline void *bw_policy_begin_layer(struct bw_search *w, __u32 op, __u32 layer,
						   struct bw_rule_val **meta)
{
	struct bw_rule_val *lm;
	void *policy;

	*meta = NULL;
	policy = bpf_map_lookup_elem(&bw_policy, &bw_zero_key); /* read-only data: no stack */
	if (!policy)
		return NULL;
	*meta = bpf_map_lookup_elem(policy, &bw_meta_key);
	if (!*meta)
		return NULL;
	__builtin_memset(&w->key, 0, sizeof(w->key));
	w->key.kind = BW_OBJ_META;
	w->key.layer = layer;
	lm = bpf_map_lookup_elem(policy, &w->key);
	if (!lm || !(lm->ops & (1u << op)))
		return NULL;
	return policy;
}

/*
 * The gate (step 0): a built-in decision, taken before any rule is looked
 * up, so no policy can reorder or lift it. It denies under the reserved
 * rule id `gate`; the policy's mode still applies, so a policy in audit
 * mode reports what the gate would have refused.
 */
static __always_inline void bw_gate_deny(struct bw_decision *d, __u32 op, __u32 hook, __u32 gate)
{
	struct bw_rule_val *meta;

	bw_policy_begin(d, op, hook, &meta);
	d->verdict = BW_VERDICT_DENY;
	d->rule_id = gate;
	d->rule_flags = 0;
}

/* Does the policy in force carry this flag (enum bw_policy_flag)? */
static __always_inline bool bw_policy_has(__u32 flag)
{
	struct bw_rule_val *meta;
	struct bw_live *live;
	__u32 zero = 0;
	void *policy;

	/*
	 * Clear in the superset: not in force, and no hash of META needed
	 * (decision 101). The key on the stack, not in .rodata: one page less
	 * to touch (decision 102).
	 */
	live = bpf_map_lookup_elem(&bw_live, &zero);
	if (live && !(live->flags & flag))
		return false;
	policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (!policy)
		return false;
	meta = bpf_map_lookup_elem(policy, &bw_meta_key);
	return meta && (meta->flags & flag);
}

/* Is a policy in force? The tamper gate guards enforcement only while there is some. */
static __always_inline bool bw_policy_installed(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bw_policy, &zero) != NULL;
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
					    struct bw_rule_val **meta, __u32 layer)
{
	if (layer)
		w->policy = bw_policy_begin_layer(w, op, layer, meta);
	else
		w->policy = bw_policy_begin(d, op, hook, meta);
	if (!w->policy)
		return false;
	bw_classify(w, *meta, bpf_get_current_task_btf(), false, s);
	return true;
}

/* Step 3's first key. After every classification: they use w->key as scratch. */
static __always_inline void bw_search_key(struct bw_search *w, const struct bw_subject *s,
					  __u32 op, __u32 kind, __u32 layer)
{
	__builtin_memset(&w->key, 0, sizeof(w->key));
	w->key.op = op;
	w->key.kind = kind;
	w->key.layer = layer;
	w->s = s;
	w->tsubj = 0; /* shared with a file search's view state */
}

/*
 * A kernel pointer as a plain number, for a global function's argument:
 * 6.1 takes only scalars and pointers to memory there, and refuses to see
 * a BTF pointer as a number unless a helper copies it.
 */
static __always_inline __u64 bw_addr(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

#include "trust.bpf.h"

/*
 * Trust objects, between an exact file and a tree (docs/policy.md): the
 * file's content by hash (`sha256:`), then `trusted`/`untrusted`. Returns
 * true when one of them decided. The tree the walk found, if any, stays
 * in w->v/w->subj otherwise. An untrusted file's hash is IMA's, cached by
 * the sleepable program that ran first (decision 90): it is matched by
 * deny and audit rules, never by allow rules (an allow by hash vouches
 * for a trusted file only, as before).
 */
static __always_inline bool bw_decide_trust(struct bw_decision *d, struct bw_search *w,
					    __u64 file_addr)
{
	struct bw_rule_val *tree = w->v;
	__u32 tree_subj = w->subj;
	int trusted;

	/* The hash lands in the key itself: no room on the stack for a copy. */
	w->key.dev = 0;
	w->key.ino = 0;
	trusted = bw_trust_of(file_addr, (struct bw_trust_out *)&w->key.dev,
			      d->policy_flags & BW_POLICY_HASH);
	if (trusted == BW_TRUST_NONE) {
		w->key.dev = 0;
		w->key.ino = 0;
		if (d->policy_flags & BW_POLICY_HASH) {
			d->event_flags |= BW_EVF_HASH_UNKNOWN;
			bw_hash_count(BW_HASH_UNKNOWN);
		}
	}
	d->event_flags |= trusted == BW_TRUST_YES ? BW_EVF_TRUSTED : BW_EVF_UNTRUSTED;
	if (trusted == BW_TRUST_HASHED)
		d->event_flags |= BW_EVF_HASHED;
	w->tsubj = 0; /* shared with the view state */
	if (trusted != BW_TRUST_NONE) {
		w->key.kind = BW_OBJ_HASH;
		w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
		if (w->v && (trusted == BW_TRUST_YES || w->v->verdict != BW_VERDICT_ALLOW)) {
			bw_take(d, w);
			return true;
		}
		w->key.dev = 0;
		w->key.ino = 0;
	}
	w->key.kind = trusted == BW_TRUST_YES ? BW_OBJ_TRUSTED : BW_OBJ_UNTRUSTED;
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v) {
		bw_take(d, w);
		return true;
	}
	w->v = tree;
	w->subj = tree_subj;
	return false;
}

/*
 * Steps 1-3 for an operation on a file (file_addr: its struct file).
 * Global, not static: the verifier checks a global function once per
 * program, not once per call and caller's state, and this one holds the
 * views walk. It reads the file with CO-RE reads only, which take a
 * plain address. Returns 0.
 */
static __always_inline void bw_file_layer(struct bw_decision *d, __u32 op, __u32 hook, __u64 file_addr,
					  __u32 layer, struct bw_search *w, struct bw_rule_val **meta)
{
	struct file *file = (struct file *)file_addr;
	struct bw_subject s = {};
	struct dentry *dentry;
	int r;

	dentry = BPF_CORE_READ(file, f_path.dentry);
	bw_inode_id(dentry, &d->dev, &d->ino);
	if (!bw_search_begin(d, w, &s, op, hook, meta, layer))
		return;
	bw_search_key(w, &s, op, BW_OBJ_FILE, layer);
	r = bw_find_file_views(w, file, false, *meta && ((*meta)->tree_ops & (1u << op)));
	if (r == 1 && w->v && (w->vflags & BW_VIEW_EXACT)) {
		w->tsubj = 0; /* shared with the view state */
		bw_take(d, w);
		if (w->vflags & BW_VIEW_REAL)
			d->event_flags |= BW_EVF_REAL_FILE;
		return;
	}
	/* From here on op and layer are read from the key: fewer live registers, a smaller frame. */
	if (r >= 0 && (w->key.op == BW_OP_EXEC || w->key.op == BW_OP_LOAD) && *meta &&
	    ((*meta)->flags & (BW_POLICY_TRUST | BW_POLICY_LAYER_TRUST)) && bw_decide_trust(d, w, file_addr))
		return;
	if (r == 1 && w->v) {
		w->tsubj = 0; /* shared with the view state */
		bw_take(d, w);
		if (w->vflags & BW_VIEW_REAL)
			d->event_flags |= BW_EVF_REAL_FILE;
		return;
	}
	if (r < 0) {
		/* Too deep to prove that no tree rule applies: fail closed. */
		if (w->key.layer && d->verdict == BW_VERDICT_DENY && !(d->rule_flags & BW_RULE_AUDIT))
			return;
		d->verdict = BW_VERDICT_DENY;
		d->rule_id = 0;
		d->rule_flags = w->key.layer << BW_DECISION_LAYER_SHIFT;
		d->event_flags |= BW_EVF_WALK_LIMIT;
		bw_count(w->key.op, BW_CNT_HELPER_ERR);
		return;
	}
	w->key.kind = BW_OBJ_DEFAULT;
	w->key.dev = w->key.ino = 0;
	w->v = bw_lookup(w->policy, w->s, &w->key, &w->subj);
	if (w->v)
		bw_take(d, w);
}

/* No rule decides op here: what the full path concludes when nothing matches. Returns 0. */
static __always_inline int bw_undecided(struct bw_decision *d, __u32 op, __u32 hook)
{
	d->op = op;
	d->hook = hook;
	d->verdict = BW_VERDICT_NONE;
	return 0;
}

/* Kernel-internal, in rule_flags: the op was counted in bw_live, bw_enforce counts nothing. */
#define BW_DECISION_COUNTED (1u << 23)

/*
 * A memory or image-load op (BW_OP_WX to BW_OP_LOAD) that no layer in
 * force decides (bw_live's superset, decision 101): left undecided and
 * counted in bw_live, with no META hash and no per-CPU counter (decision
 * 103). A library's executable mapping is an exec decision and a load
 * decision, and most policies have no load rule. The op is a constant at
 * almost every caller: for other ops this is no code.
 */
static __always_inline bool bw_undecided_memory(struct bw_decision *d, __u32 op, __u32 hook)
{
	__u32 key = BW_LIVE_SUPERSET;
	struct bw_live *live;

	if (op < BW_OP_WX || op > BW_OP_LOAD)
		return false;
	live = bpf_map_lookup_elem(&bw_live, &key);
	if (!live || !live->installed || (live->ops & (1u << op)))
		return false;
	key = BW_LIVE_UNDECIDED;
	live = bpf_map_lookup_elem(&bw_live, &key);
	if (!live)
		return false;
	__sync_fetch_and_add(&live->undecided_memory[(op - BW_OP_WX) & 3], 1);
	bw_undecided(d, op, hook);
	d->rule_flags |= BW_DECISION_COUNTED;
	return true;
}

/*
 * One layer's search for a file, into d (deny-wins, bw_take). Global, not
 * static: the verifier checks a global function once per program, not
 * once per call and caller's state, and this one holds the views walk. It
 * reads the file with CO-RE reads only, which take a plain address.
 * Layer 0's search leaves the client layers the policy holds in
 * d->policy_flags (BW_DECISION_LAYERS_SHIFT). Returns 0.
 */
__noinline int bw_decide_file_layer(struct bw_decision *d, __u32 op, __u32 hook, __u64 file_addr,
				    __u32 layer)
{
	struct bw_search ws = {};
	struct bw_rule_val *meta = NULL;

	if (!d)
		return 0;
	if (!layer && bw_live_skips_now(op))
		return bw_undecided(d, op, hook);
	bw_file_layer(d, op, hook, file_addr, layer, &ws, &meta);
	return 0;
}

/*
 * Does the rule map in force hold key, an exact file's entry? Not when
 * its bit in bw_file_filter is clear (decision 106): one word of an
 * array, read inline, where the map is a hash lookup and a call. The
 * filter is read before the map is taken, so most files never reach the
 * map's page (decision 108): bulwarkd widens the filter to both policies'
 * files before a swap, waits for the hooks that read it earlier, and
 * narrows it only after the swap's grace period, so a clear bit means
 * no entry in the map in force, whichever that is, when it was read.
 */
static __always_inline bool bw_exact_entry(const struct bw_rule_key *key, void **policy)
{
	__u32 word = BW_FILE_FILTER_WORD(key->op, key->ino), zero = 0;
	__u64 mask = BW_FILE_FILTER_MASK(key->op, key->dev, key->ino);
	__u64 *w = bpf_map_lookup_elem(&bw_file_filter, &word);

	if (w && (*w & mask) != mask)
		return false;
	/* One map for every view of a decision, or a swap between two views would mix policies. */
	if (!*policy)
		*policy = bpf_map_lookup_elem(&bw_policy, &zero);
	return !*policy || bpf_map_lookup_elem(*policy, key); /* no map: the search's to decide */
}

/*
 * One view of the exact-file path, an inode the hook reached by BTF
 * pointers: its identity with plain loads (decision 106; btrfs needs its
 * subvolume's device). Returns false when the view has an entry, or when
 * it cannot be placed: the search's to decide.
 */
static __always_inline bool bw_exact_view(struct bw_rule_key *key, void **policy, struct inode *inode)
{
	struct super_block *sb = inode->i_sb;

	if (sb->s_magic == BW_BTRFS_MAGIC) {
		/* a number: the subvolume's offsets are bulwarkd's, not BTF's */
		if (!bw_inode_id_btrfs((struct inode *)bw_addr(inode), sb, &key->dev, &key->ino))
			return false;
	} else {
		key->dev = sb->s_dev;
		key->ino = inode->i_ino;
	}
	return !bw_exact_entry(key, policy);
}

/*
 * Decision 105, the exact-file path: while every rule of op in force, in
 * every layer, names an exact file and no subject (bw_live's inexact_ops
 * clear, no trust object), the search's answer for a file is whether one
 * of its views has an entry. This finds that with one lookup per view, in
 * a frame of its own: no META hash, no classification, no walk, no
 * default, and far less code to run (under emulation the cost is the code
 * and pages a hook reaches). True when no view has an entry: op is
 * undecided, as the search would conclude. An entry, or a view it cannot
 * place, is the search's to decide. The views are bw_next_view's.
 * Returns 0 for the search, 1 for undecided, 2 for undecided and
 * counted: an exec is counted in bw_live, whose page the path has
 * reached already, not in the per-CPU counters (decision 102's reason).
 */
static __noinline int bw_exact_none(struct file *file, __u32 op)
{
	struct bw_rule_key key = {};
	struct bw_live *live;
	struct inode *inode;
	__u64 below = 0, magic;
	void *policy = NULL;
	__u32 zero = 0;
	int view = 1;

	live = bpf_map_lookup_elem(&bw_live, &zero);
	if (!live || !live->installed || op >= BW_OP_COUNT || (live->inexact_ops & (1u << op)) ||
	    (live->flags & (BW_POLICY_TRUST | BW_POLICY_LAYER_TRUST | BW_POLICY_HASH)))
		return 0;
	if (!(live->ops & (1u << op)))
		goto none;
	key.op = op;
	key.kind = BW_OBJ_FILE;
	/*
	 * The path used, read with plain loads: file is the hook's BTF
	 * pointer, and under emulation every helper call (a probe read) is
	 * the cost (decision 106).
	 */
	inode = file->f_path.dentry->d_inode;
	if (!bw_exact_view(&key, &policy, inode))
		return 0;
	/*
	 * The next view: a fake path's real inode, or the real file below an
	 * overlay. The search places a view by a dentry of its inode, for the
	 * walk up its directories; an exact entry needs only the inode's
	 * identity, read from the inode itself (decision 107).
	 */
	if (file->f_inode != inode) {
		inode = file->f_inode;
		if (!bw_exact_view(&key, &policy, inode))
			return 0;
		if (inode->i_sb->s_magic != BW_OVERLAYFS_MAGIC)
			goto none;
		below = (__u64)file->private_data; /* none: the loop fails closed */
		view = 2;
	} else if (inode->i_sb->s_magic == BW_OVERLAYFS_MAGIC) {
		below = (__u64)file->private_data;
		/* Its record, if its open left one: no probe read (decision 110). */
		if (bw_real_file_known(&key, below)) {
			if (bw_exact_entry(&key, &policy))
				return 0;
			goto none;
		}
	} else {
		goto none; /* one view: the common case */
	}
	/*
	 * Real files below overlays: a number, not a BTF pointer, on 6.1, so
	 * probe reads, two fields to a read (bw_inode_key).
	 */
	for (; view < BW_VIEWS_MAX; view++) {
		inode = below ? (struct inode *)BPF_CORE_READ((struct file *)below, f_inode) : NULL;
		if (!inode || !bw_inode_key((__u64)inode, &key.dev, &key.ino, &magic))
			return 0;
		if (bw_exact_entry(&key, &policy))
			return 0;
		if (magic != BW_OVERLAYFS_MAGIC)
			goto none;
		below = (__u64)BPF_CORE_READ((struct file *)below, private_data);
	}
	return 0; /* stacked deeper than the search goes: it fails closed */
none:
	if (op != BW_OP_EXEC)
		return 1;
	zero = BW_LIVE_UNDECIDED;
	live = bpf_map_lookup_elem(&bw_live, &zero);
	if (!live)
		return 1;
	__sync_fetch_and_add(&live->undecided_exec, 1);
	return 2;
}

/*
 * Every layer's answer for a file, deny-wins: the administrator's (layer
 * 0, exactly the single-policy decision), then each client layer the
 * policy holds. O(layers): each layer is one search of the same map, with
 * its number in the key; a layer without a rule for op costs one lookup
 * (its META entry). Inline: a frame of its own between the hooks and the
 * global search would pass the 512-byte stack (bw_bprm_check on 6.1).
 */
static __always_inline void bw_decide_file(struct bw_decision *d, __u32 op, __u32 hook,
					   struct file *file)
{
	__u32 l, layers;
	__u64 file_addr;

	if (bw_undecided_memory(d, op, hook))
		return;
	l = bw_exact_none(file, op);
	if (l) {
		bw_undecided(d, op, hook);
		if (l == 2)
			d->rule_flags |= BW_DECISION_COUNTED;
		return;
	}
	file_addr = bw_addr(file); /* the search is global: a number, not a BTF pointer */
	bw_decide_file_layer(d, op, hook, file_addr, 0);
	layers = d->policy_flags >> BW_DECISION_LAYERS_SHIFT;
	if (!layers)
		return;
	for (l = 1; l <= BW_CLIENT_LAYERS; l++)
		if (layers & (1u << l))
			bw_decide_file_layer(d, op, hook, file_addr, l);
}

/*
 * Steps 1-3 for an operation whose only object is its default entry:
 * kernel operations without a file (init_module, kexec_load, bpf), and
 * lockdown, whose key names the reason (arg). Global, as bw_decide_file:
 * the memory controls call it up to four times per hook. Returns 0.
 */
__noinline int bw_decide_default_layer(struct bw_decision *d, __u32 op, __u32 hook, __u32 arg,
				       __u32 layer)
{
	struct bw_subject s = {};
	struct bw_search ws = {}, *w = &ws;
	struct bw_rule_val *meta = NULL;

	if (!d)
		return 0;
	if (!layer && bw_live_skips_now(op))
		return bw_undecided(d, op, hook);
	if (bw_search_begin(d, w, &s, op, hook, &meta, layer)) {
		bw_search_key(w, &s, op, BW_OBJ_DEFAULT, layer);
		w->key.arg = arg;
		w->v = bw_lookup(w->policy, &s, &w->key, &w->subj);
		if (w->v)
			bw_take(d, w);
	}
	return 0;
}

/* Every layer's answer, deny-wins, as bw_decide_file (inline for the same reason). */
static __always_inline void bw_decide_default(struct bw_decision *d, __u32 op, __u32 hook, __u32 arg)
{
	__u32 l, layers;

	if (bw_undecided_memory(d, op, hook))
		return;
	bw_decide_default_layer(d, op, hook, arg, 0);
	layers = d->policy_flags >> BW_DECISION_LAYERS_SHIFT;
	if (!layers)
		return;
	for (l = 1; l <= BW_CLIENT_LAYERS; l++)
		if (layers & (1u << l))
			bw_decide_default_layer(d, op, hook, arg, l);
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
 * One layer's search for an operation on a process: the target's masks
 * from the highest it could match down (few steps, often one), each with
 * the subject's masks in their own order. s and t were classified with
 * layer 0's META, which every layer shares.
 */
static __always_inline void bw_task_search(struct bw_decision *d, struct bw_search *w,
					   const struct bw_subject *s, const struct bw_subject *t,
					   __u32 layer)
{
	bw_search_key(w, s, d->op, BW_OBJ_TASK, layer);
	w->key.arg = d->arg;
	w->t = t;
	w->v = NULL;
	w->top = BW_SUBJ_COMBOS - 1;
	while (w->top && !(t->masks & (1u << w->top)))
		w->top--;
	/* Each exit of that loop is a different constant: one state from here on. */
	bpf_probe_read_kernel(&w->top, sizeof(w->top), &w->top);
	if (w->top == BW_SUBJ_ANY)
		bw_target_step(0, w);
	else
		bpf_loop(w->top + 1, bw_target_step, w, 0);
	if (w->v)
		bw_take(d, w);
}

/*
 * One layer's search for an operation on a process, into d (deny-wins,
 * bw_take; layer 0 first). Global: the verifier checks it once per
 * program, not once per layer, call and caller's state (the task hooks
 * call bw_decide_task from four places). Returns 0.
 */
__noinline int bw_decide_task_layer(struct bw_decision *d, const struct bw_subject *s,
				    const struct bw_subject *t, __u32 layer)
{
	struct bw_search ws = {};
	struct bw_rule_val *meta;

	if (!d || !s || !t)
		return 0;
	ws.policy = bw_policy_begin_layer(&ws, d->op, layer, &meta);
	if (ws.policy)
		bw_task_search(d, &ws, s, t, layer);
	return 0;
}

/*
 * Who acts and on whom (step 1 for process operations), under layer 0's
 * META, which every layer shares. A frame of its own: the searches that
 * follow need none of its walk state, and the exec chain (bw_bprm_check's
 * sticky fork check) is near the 512-byte stack on 6.1.
 */
static __noinline void bw_classify_task(void *policy, const struct bw_rule_val *meta,
					struct task_struct *target, struct bw_subject *s,
					struct bw_subject *t)
{
	struct bw_search ws = { .policy = policy };

	bw_classify(&ws, meta, bpf_get_current_task_btf(), false, s);
	t->masks = 1u << BW_SUBJ_ANY;
	if (target)
		bw_classify(&ws, meta, target, true, t);
}

/*
 * Steps 1-3 for an operation on a process (target NULL: the op has no
 * target, as fork and thread); d->arg is the signal for `signal`. Every
 * layer's answer, deny-wins, as bw_decide_file: the subject and target
 * are classified once, then each layer with a rule for op is searched,
 * the administrator's first.
 */
static __noinline void bw_decide_task(struct bw_decision *d, __u32 op, __u32 hook,
				      struct task_struct *target)
{
	struct bw_subject s = {}, t = {};
	struct bw_rule_val *meta;
	__u32 l, layers;
	void *policy;

	if (target) {
		d->target_pid = BPF_CORE_READ(target, pid);
		d->target_tgid = BPF_CORE_READ(target, tgid);
	}
	if (bw_live_skips_now(op)) {
		bw_undecided(d, op, hook);
		return;
	}
	/* Layer 0 decides op (bit 0), client layers may (bits 1..); meta: a policy is in force. */
	layers = bw_policy_begin(d, op, hook, &meta) ? 1 : 0;
	layers |= d->policy_flags >> BW_DECISION_LAYERS_SHIFT;
	if (!layers || !meta)
		return;
	policy = bpf_map_lookup_elem(&bw_policy, &bw_zero_key);
	if (!policy)
		return;
	bw_classify_task(policy, meta, target, &s, &t);
	for (l = 0; l <= BW_CLIENT_LAYERS; l++)
		if (layers & (1u << l))
			bw_decide_task_layer(d, &s, &t, l);
}

/* Step 4 and the counting half of step 5. Returns the hook's return value. */
static __always_inline int bw_enforce(struct bw_decision *d)
{
	bool audit_mode = (d->policy_flags & BW_POLICY_AUDIT) || (d->rule_flags & BW_RULE_AUDIT);

	if (!(d->rule_flags & BW_DECISION_COUNTED))
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
	/* Allowed is not counted: bulwarkd derives it (decisions - denied - would_deny). */
	d->action = BW_ACTION_ALLOWED;
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
 * Program names for events (decision 103). An event names the acting
 * process's program, and a process target's, by walking its exe file's
 * dentries at the event, the way d_path names a path for the current task:
 * up to its root, across mounts, " (deleted)" for an unlinked file. So an
 * exec stores nothing for names (bpf_d_path is refused in the task hooks,
 * which is why names were once kept per process), and a process that
 * started before bulwark is named like any other. The walk reads the
 * dcache without the rename lock: a rename racing the event can show a
 * mix of the old and the new name, as /proc/PID/exe can.
 */
struct bw_name_walk {
	__u64 dentry;      /* the next component */
	__u64 mnt;         /* its struct mount */
	__u64 root_dentry; /* the reader's root: where d_path stops */
	__u64 root_mnt;    /* (a struct vfsmount) */
	__s32 pos;         /* the name so far starts at s[pos] */
	__s32 err;         /* 0, or -BW_ENAMETOOLONG; 1 once the walk is done */
	__s32 start;       /* pos before the walk: after " (deleted)", if any */
	__u32 pad;
};

/* The walk's state lives here, not on the stack: the deepest hooks have 8 bytes to spare. */
struct bw_name_buf {
	struct bw_name_walk w;
	char s[2 * BW_PATH_LEN]; /* twice the name: every masked write lands inside */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_name_buf);
} bw_name_buf SEC(".maps");

#define BW_NAME_MAX 255 /* NAME_MAX */
#define BW_ENAMETOOLONG 36

/*
 * A file whose dentry is its own parent and not its mount's root: a
 * memfd, or another file made by alloc_file_pseudo. d_path names it by
 * its d_dname, simple_dname for the ones that can be executed:
 * "/NAME (deleted)". Ends the walk.
 */
static __always_inline long bw_name_pseudo(struct bw_name_buf *b, struct dentry *dentry)
{
	struct bw_name_walk *nw = &b->w;
	__u32 len = BPF_CORE_READ(dentry, d_name.len);
	__s32 pos = nw->pos;

	if (len > BW_NAME_MAX || (__s32)len + 1 + (__s32)sizeof(" (deleted)") - 1 > pos) {
		nw->err = -BW_ENAMETOOLONG;
		return 1;
	}
	pos -= sizeof(" (deleted)") - 1;
	__builtin_memcpy(b->s + (pos & (BW_PATH_LEN - 1)), " (deleted)", sizeof(" (deleted)") - 1);
	pos -= len;
	bpf_probe_read_kernel(b->s + (pos & (BW_PATH_LEN - 1)), len & BW_NAME_MAX,
			      BPF_CORE_READ(dentry, d_name.name));
	pos -= 1;
	b->s[pos & (BW_PATH_LEN - 1)] = '/';
	nw->pos = pos;
	nw->err = 1;
	return 1;
}

/* One component, prepended: the name is built from its end. */
static long bw_name_step(__u32 i, void *ctx)
{
	struct bw_name_buf *b = *(struct bw_name_buf **)ctx;
	struct bw_name_walk *nw = &b->w;
	struct dentry *dentry = (void *)nw->dentry, *parent;
	struct mount *mnt = (void *)nw->mnt, *up;
	const unsigned char *name;
	__s32 pos = nw->pos;
	__u32 len;

	if (nw->dentry == nw->root_dentry &&
	    nw->mnt + bpf_core_field_offset(struct mount, mnt) == nw->root_mnt)
		goto done;
	if (dentry == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt || !up)
			goto done; /* the namespace's root, or a mount attached nowhere */
		nw->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		nw->mnt = (__u64)up;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry || !parent) {
		if (i == 0)
			return bw_name_pseudo(b, dentry);
		/* Escaped its mount (moved out of a bind mount's tree): d_path says "/". */
		nw->pos = nw->start;
		goto done;
	}
	len = BPF_CORE_READ(dentry, d_name.len);
	name = BPF_CORE_READ(dentry, d_name.name);
	if (len > BW_NAME_MAX || (__s32)len + 1 > pos) {
		nw->err = -BW_ENAMETOOLONG;
		return 1;
	}
	pos -= len;
	bpf_probe_read_kernel(b->s + (pos & (BW_PATH_LEN - 1)), len & BW_NAME_MAX, name);
	pos -= 1;
	b->s[pos & (BW_PATH_LEN - 1)] = '/';
	nw->pos = pos;
	nw->dentry = (__u64)parent;
	return 0;
done:
	nw->err = 1;
	return 1;
}

/*
 * The path of a file, as d_path would give it to the current task, in this
 * CPU's bw_name_buf: returns where it starts there, -BW_ENAMETOOLONG when
 * it does not fit BW_PATH_LEN, -2 with no file. Global, so the verifier
 * checks it once per program, not at every event it is inlined into.
 */
__noinline int bw_name_file(__u64 file_addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file *file = (void *)file_addr;
	struct dentry *dentry;
	struct bw_name_buf *b;
	__u32 zero = 0;
	__s32 start;

	if (!file_addr)
		return -2;
	b = bpf_map_lookup_elem(&bw_name_buf, &zero);
	if (!b)
		return -2;
	dentry = BPF_CORE_READ(file, f_path.dentry);
	b->w.pos = BW_PATH_LEN - 1;
	b->w.err = 0;
	b->s[BW_PATH_LEN - 1] = 0;
	/* d_unlinked: unhashed and not a root */
	if (!BPF_CORE_READ(dentry, d_hash.pprev) && BPF_CORE_READ(dentry, d_parent) != dentry) {
		b->w.pos -= sizeof(" (deleted)") - 1;
		__builtin_memcpy(b->s + BW_PATH_LEN - 1 - (sizeof(" (deleted)") - 1), " (deleted)",
				 sizeof(" (deleted)") - 1);
	}
	start = b->w.pos;
	b->w.start = start;
	b->w.dentry = (__u64)dentry;
	b->w.mnt = (__u64)container_of(BPF_CORE_READ(file, f_path.mnt), struct mount, mnt);
	b->w.root_dentry = (__u64)BPF_CORE_READ(task, fs, root.dentry);
	b->w.root_mnt = (__u64)BPF_CORE_READ(task, fs, root.mnt);
	/* A name that fits has at most BW_PATH_LEN / 2 components ("/a"), plus mount hops. */
	bpf_loop(BW_PATH_LEN, bw_name_step, &b, 0);
	if (b->w.err < 0)
		return b->w.err;
	if (b->w.err != 1)
		return -BW_ENAMETOOLONG; /* deeper than the walk: too long to tell */
	if (b->w.pos == start) {
		/* the root itself */
		b->w.pos -= 1;
		b->s[b->w.pos & (BW_PATH_LEN - 1)] = '/';
	}
	return b->w.pos;
}

/*
 * A program's name into dst (BW_PATH_LEN): its exe file's path, or ""
 * and the flag that says why (trunc: too long; unknown: no file, as for
 * a kernel thread or a process past its exit_mm).
 */
static __always_inline __u32 bw_name_into(char *dst, __u64 exe_file, __u32 trunc, __u32 unknown)
{
	int pos = bw_name_file(exe_file);
	struct bw_name_buf *b;
	__u32 zero = 0;

	dst[0] = 0;
	if (pos < 0)
		return pos == -BW_ENAMETOOLONG ? trunc : unknown;
	b = bpf_map_lookup_elem(&bw_name_buf, &zero);
	if (!b)
		return unknown;
	bpf_probe_read_kernel_str(dst, BW_PATH_LEN, b->s + (pos & (BW_PATH_LEN - 1)));
	return 0;
}

/*
 * Reserve an event and fill what every event says about the acting task.
 * A full ring buffer is counted against op, never silent.
 */
static __always_inline struct bw_event *bw_event_reserve(__u32 type, __u32 op)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_policy_info *info;
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
	e->path[0] = 0;
	e->flags |= bw_name_into(e->exe, (__u64)BPF_CORE_READ(task, mm, exe_file), BW_EVF_EXE_TRUNC,
				 BW_EVF_EXE_UNKNOWN);
	return e;
}

/* A generation from its low 32 bits (the META serial) and the current one. */
static __always_inline __u64 bw_gen_of_serial(__u64 now, __u32 serial)
{
	__u64 gen = (now & ~0xffffffffull) | serial;

	return gen > now && gen >= (1ull << 32) ? gen - (1ull << 32) : gen;
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
	/*
	 * The generation of the map that decided, not of the one in force
	 * now: a swap may have come in between, and the daemon decodes the
	 * rule id with that generation's table.
	 */
	if (d->policy_serial)
		e->policy_gen = bw_gen_of_serial(e->policy_gen, d->policy_serial);
	e->verdict = d->verdict;
	e->action = d->action;
	e->rule_id = d->rule_id;
	e->layer = d->rule_flags >> BW_DECISION_LAYER_SHIFT;
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

/* A process target is named by its program, as its exe file is named now (bw_name_file). */
static __always_inline void bw_event_task_exe(struct bw_event *e, struct task_struct *task)
{
	e->flags |= bw_name_into(e->path, (__u64)BPF_CORE_READ(task, mm, exe_file), BW_EVF_PATH_TRUNC,
				 BW_EVF_PATH_ERR);
}

static __always_inline void bw_event_submit(struct bw_event *e)
{
	bw_count(e->op, BW_CNT_EVENTS);
	bpf_ringbuf_submit(e, 0);
}

/* Step 5 alone, for a decision enforced already (no path helper allowed). */
static __always_inline void bw_conclude_event(const struct bw_decision *d)
{
	struct bw_event *e = bw_event_begin(d);

	if (e)
		bw_event_submit(e);
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
