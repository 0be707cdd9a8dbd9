/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel/user ABI of bulwark: every struct and enum that crosses the
 * boundary between bpf/ and user space lives here, and nowhere else.
 *
 * Rules (see STYLE.md): only fixed-width __u* types, explicit padding,
 * enums numbered explicitly and never reused, and static asserts on layout
 * so that a change on one side cannot silently skew the other.
 */
#ifndef BULWARK_ABI_H
#define BULWARK_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Pin layout: everything lives under one bpffs directory. */
#define BW_PIN_ROOT "/sys/fs/bpf/bulwark"
/* Where an upgrade stages the next generation until the old one is gone (bpffs names have no dots). */
#define BW_PIN_NEXT "/sys/fs/bpf/bulwark_next"

/*
 * Operations are the categories of the decision path. They are data: one
 * decision path serves every hook, keyed by the operation code.
 */
enum bw_op {
	BW_OP_NONE = 0,
	BW_OP_EXEC = 1,        /* C1/C4: execve of an image */
	BW_OP_FORK = 2,        /* C1: new process */
	BW_OP_THREAD = 3,      /* C1: new thread */
	BW_OP_READ = 4,        /* C1: read another process */
	BW_OP_WRITE = 5,       /* C1: write/attach another process */
	BW_OP_SIGNAL = 6,      /* C1: signal another process */
	BW_OP_CONTROL = 7,     /* C1: nice, sched, prlimit, ioprio */
	BW_OP_WX = 8,          /* C3: writable+executable memory */
	BW_OP_ANON_EXEC = 9,   /* C3: executable anonymous memory */
	BW_OP_MEMFD_EXEC = 10, /* C3: executable memfd/shm/deleted file */
	BW_OP_LOAD = 11,       /* C4: executable mmap of a file */
	BW_OP_PROTECT = 12,    /* C2: protected processes and files */
	BW_OP_MODULE = 13,     /* C5: kernel module load */
	BW_OP_KEXEC = 14,      /* C5: kexec */
	BW_OP_LOCKDOWN = 15,   /* C5: lockdown reasons */
	BW_OP_BPF = 16,        /* C5: BPF loads */
	BW_OP_SYSCTL = 17,     /* C5: writes to sysctls that steer the kernel (gate only) */
	BW_OP_MAX = 17,
};
#define BW_OP_COUNT (BW_OP_MAX + 1)

/* What a rule decides. */
enum bw_verdict {
	BW_VERDICT_NONE = 0,  /* no rule matched */
	BW_VERDICT_ALLOW = 1,
	BW_VERDICT_DENY = 2,
	BW_VERDICT_AUDIT = 3, /* allow, and always report */
	BW_VERDICT_MAX = 3,
};

/* What the kernel actually did with the operation. */
enum bw_action {
	BW_ACTION_ALLOWED = 0,
	BW_ACTION_BLOCKED = 1,
	BW_ACTION_WOULD_BLOCK = 2, /* deny verdict under audit mode */
	BW_ACTION_MAX = 2,
};

/* How a rule key names its object. */
enum bw_obj_kind {
	BW_OBJ_META = 0,       /* per-policy settings (op = BW_OP_NONE) */
	BW_OBJ_FILE = 1,       /* exact file: (dev, ino) */
	BW_OBJ_TREE = 2,       /* directory tree: (dev, ino) of an ancestor */
	BW_OBJ_DEFAULT = 3,    /* the op's default when nothing else matched */
	BW_OBJ_EXE_FILE = 4,   /* subject class of an exact program file */
	BW_OBJ_EXE_TREE = 5,   /* subject class of the programs below a directory */
	BW_OBJ_CGROUP = 6,     /* subject class of a cgroup and its descendants: ino = cgroup id */
	BW_OBJ_TASK = 7,       /* a target process: tsubj/tids name it (0 = any) */
	BW_OBJ_ANCESTOR = 8,   /* PROTECT: a directory above a protected file or tree (mounts) */
	BW_OBJ_TRUSTED = 9,    /* EXEC/LOAD: any file the trust map vouches for (dev = ino = 0) */
	BW_OBJ_UNTRUSTED = 10, /* EXEC/LOAD: any file it does not */
	BW_OBJ_HASH = 11,      /* EXEC/LOAD: a file by content: dev, ino = sha256 bytes 0-15 (trusted,
				  or untrusted and hashed by IMA: decision 90) */
	BW_OBJ_MAX = 11,
};

/* Rule flags (bw_rule_val.flags). */
enum bw_rule_flag {
	BW_RULE_LOG = 1u << 0,   /* report allows too */
	BW_RULE_QUIET = 1u << 1, /* do not report (still counted) */
	BW_RULE_AUDIT = 1u << 2, /* per-rule audit mode: deny never blocks */
	BW_RULE_STICKY = 1u << 3, /* deny fork: marks the program's process for life */
};

/* Policy flags, carried in the META entry's flags. */
enum bw_policy_flag {
	BW_POLICY_AUDIT = 1u << 0,        /* global audit mode */
	BW_POLICY_NOTIFY_EXEC = 1u << 1,  /* process notifications, opt-in */
	BW_POLICY_NOTIFY_FORK = 1u << 2,
	BW_POLICY_NOTIFY_EXIT = 1u << 3,
	BW_POLICY_NOTIFY_THREAD = 1u << 4, /* thread start and exit */
	BW_POLICY_STICKY = 1u << 5,       /* some rule is `deny fork ... with sticky` */
	BW_POLICY_PROTECT_SELF = 1u << 6, /* `protect self`: bulwark guards its own objects */
	BW_POLICY_TRUST = 1u << 7,        /* some rule of the policy names `trusted`, `untrusted` or `sha256:` */
	BW_POLICY_HASH = 1u << 8,         /* some rule (any layer) names `sha256:`: untrusted images are hashed */
	BW_POLICY_LAYER_TRUST = 1u << 9,  /* some client layer's rule names a trust object (decision 96):
					     judged, but it never makes the policy's protected programs need trust */
};
#define BW_POLICY_NOTIFY_ANY (BW_POLICY_NOTIFY_EXEC | BW_POLICY_NOTIFY_FORK | \
			      BW_POLICY_NOTIFY_EXIT | BW_POLICY_NOTIFY_THREAD)

/*
 * Subject dimensions. A rule's subject is a conjunction of at most one
 * selector per dimension; bw_rule_key.subj is the bitmask of the dimensions
 * it names. The numeric value of that mask is also its precedence: the
 * kernel tries the masks a policy uses from the highest down, so a rule
 * naming the exe beats every rule that does not, and so on down the list.
 */
enum bw_dim {
	BW_DIM_GID = 0,    /* effective gid */
	BW_DIM_UID = 1,    /* effective uid */
	BW_DIM_CGROUP = 2, /* cgroup v2 class (the cgroup or an ancestor) */
	BW_DIM_PARENT = 3, /* program class of the parent process */
	BW_DIM_EXE = 4,    /* program class of the process itself */
	BW_DIM_COUNT = 5,
};
#define BW_SUBJ_ANY 0u
#define BW_SUBJ_COMBOS (1u << BW_DIM_COUNT) /* 32 possible masks */

/* Deepest cgroup a selector may name (levels below the root). */
#define BW_CGROUP_LEVEL_MAX 32

/*
 * Lockdown reasons, bulwark's numbering: stable, unlike the kernel's enum,
 * which grows in the middle. The daemon maps the running kernel's values to
 * these by name (from its BTF) when it loads the programs. A reason this
 * build does not know is OTHER_INTEGRITY or OTHER_CONFIDENTIALITY, by which
 * side of the kernel's LOCKDOWN_INTEGRITY_MAX it sits: groups still cover it.
 * Names live in the policy library (bw_lockdown_name).
 */
#define BW_LOCKDOWN_IDS 64             /* table size: ids are 1..63, 0 = none */
#define BW_LOCKDOWN_OTHER_INTEGRITY 62
#define BW_LOCKDOWN_OTHER_CONFIDENTIALITY 63

/*
 * Layers (docs/policy.md, "Layers"): the administrator's policy is layer 0;
 * each client that adds rules owns one of BW_CLIENT_LAYERS more, numbered
 * by altitude (1 = the highest). Every layer is searched with today's
 * precedence; the strongest verdict wins across them (deny-wins).
 */
#define BW_CLIENT_LAYERS 8
#define BW_LAYERS (BW_CLIENT_LAYERS + 1)

/*
 * Hash key of the rule map. The compiler emits one entry per (op, kind,
 * subject, object); the kernel does at most one lookup per candidate.
 */
struct bw_rule_key {
	__u32 op;                 /* enum bw_op */
	__u16 kind;               /* enum bw_obj_kind */
	__u16 subj;               /* mask of enum bw_dim named by the rule */
	__u32 ids[BW_DIM_COUNT];  /* per dimension in subj: class id, uid or gid; else 0 */
	__u16 tsubj;              /* TASK: mask of the target's dimensions named */
	__u16 arg;                /* SIGNAL: the signal; LOCKDOWN: the reason; else 0 */
	__u32 tids[BW_DIM_COUNT]; /* TASK: the target's ids, as ids[] */
	__u32 layer;              /* 0: the administrator's policy; 1..BW_CLIENT_LAYERS: a client's */
	__u64 dev;                /* kernel dev_t (MAJOR << 20 | MINOR) */
	__u64 ino;
};

/*
 * Value of every entry. Which fields mean something depends on the key:
 * rules use verdict/flags/rule_id, subject-class entries use class_id, and
 * the one META entry describes the policy as a whole.
 */
struct bw_rule_val {
	__u32 verdict;       /* enum bw_verdict */
	__u32 flags;         /* enum bw_rule_flag, or enum bw_policy_flag for META */
	__u32 rule_id;       /* index into the policy's rule table, 0 = none */
	union {
		__u32 class_id; /* EXE_FILE/EXE_TREE/CGROUP: the class, from 1 */
		/*
		 * Layer 0's META: bit op set = some layer has a directory (TREE)
		 * entry for op. Without one, a search for op looks up the exact
		 * file and does not walk its ancestors.
		 */
		__u32 tree_ops;
	};
	__u32 combos;        /* META: bit m set = some rule uses subject mask m */
	__u32 serial;        /* META: policy serial; task-cached classes carry it */
	__u32 cgroup_levels; /* META: deepest cgroup class level + 1, 0 = none */
	__u32 dims;          /* META: mask of the dimensions any rule names */
	__u32 tcombos;       /* META: bit m set = some rule's target uses mask m */
	__u32 tdims;         /* META: mask of the dimensions any target names */
	__u32 ops;           /* META: bit op set = some rule decides op (layer 0's META: the
				administrator's rules; a client layer's META: that layer's) */
	__u32 layers;        /* layer 0's META: bit l set = client layer l has rules */
};

/*
 * The gate: built-in decisions taken before any policy rule, so no policy
 * can reorder or lift them. Each has a reserved rule id, above any id a
 * policy's rule table can hold, that events and explain name.
 */
enum bw_gate {
	BW_GATE_FIRST = 0xFFFFFF00u,
	/* prctl(PR_SET_MM_EXE_FILE/MAP) while a policy names programs */
	BW_GATE_PRCTL_EXE = 0xFFFFFF01u,
	/* a write to a sysctl that switches BPF LSM programs off (ftrace_enabled) */
	BW_GATE_TAMPER = 0xFFFFFF02u,
	/* a process under the no-children mark choosing what the kernel spawns */
	BW_GATE_HELPER = 0xFFFFFF03u,
	/* a subject below the protection level of the process or file it acts on */
	BW_GATE_PROTECT = 0xFFFFFF04u,
	BW_GATE_LAST = 0xFFFFFF04u,
};

/*
 * Protection levels, ordered: a subject acts on a protected process or
 * file only from the same level or above. A process gets its level by
 * exec'ing a program the policy protects; `system` is bulwarkd's own.
 */
enum bw_level {
	BW_LEVEL_NONE = 0,
	BW_LEVEL_VENDOR = 1,
	BW_LEVEL_ANTIMALWARE = 2,
	BW_LEVEL_SYSTEM = 3,
	BW_LEVEL_MAX = 3,
};

/*
 * Signals a subject below a protected process's level may still send:
 * the existence probe (0) and signals whose default action harms nothing
 * (SIGCHLD, SIGCONT, SIGURG, SIGWINCH). Everything else is refused.
 */
#define BW_PROTECT_SIGNALS_OK ((1ull << 0) | (1ull << 17) | (1ull << 18) | (1ull << 23) | \
			       (1ull << 28))

/*
 * A protected process (bw_protected map, keyed by process id): its level,
 * the rule that granted it, and its start time, so that a recycled pid
 * never inherits a level.
 */
struct bw_protected_proc {
	__u32 level;      /* enum bw_level */
	__u32 rule_id;    /* the `protect` rule; 0 for bulwarkd itself */
	__u64 start_time; /* task->start_time of its group leader; 0 until the kernel fills it */
	__u64 task;       /* its group leader (kernel address, checked against tgid and start
			     time before use): where its cgroup is now; 0 until known */
};

/*
 * Locked mode (bw_lock map, one slot): once locked, policy changes and
 * unload need a payload signed with this Ed25519 key, with a version above
 * the last one accepted. It lives in a pinned map that only bulwarkd can
 * write under `protect self`, so root cannot reset it; a reboot can.
 */
struct bw_lock {
	__u32 locked;
	__u32 pad;
	__u64 version;   /* the last version accepted (or set by `bulwark lock`) */
	__u8 pubkey[32];
};

/* Who is bulwarkd, as the kernel knows it (bw_guard map, one slot). */
struct bw_guard {
	__u32 daemon_tgid; /* 0 = none alive: the next protected bulwarkd exec may claim it */
	__u32 mnt_ns;      /* bulwarkd's mount namespace (its inode number): the host's view */
	__u64 root_dev;    /* bulwarkd's root directory (kernel dev_t, inode): the host's root */
	__u64 root_ino;
};

/*
 * A sysctl the gate guards, as the kernel names it in /proc/sys: the
 * directory's and the entry's names, NUL-padded. Value: enum bw_gate.
 */
#define BW_SYSCTL_DIR_LEN 16
#define BW_SYSCTL_NAME_LEN 32
struct bw_sysctl_key {
	char dir[BW_SYSCTL_DIR_LEN];
	char name[BW_SYSCTL_NAME_LEN];
};

struct bw_sysctl_val {
	__u32 id;   /* bulwark's id of the sysctl: the `sysctl` op's arg */
	__u32 gate; /* enum bw_gate: the built-in decision that guards it */
};

/*
 * The identity of the BPF object a generation was loaded from (SHA-256 of
 * its ELF). A daemon adopts pinned programs only of its own build; any
 * other is handed over (docs/architecture.md).
 */
struct bw_build {
	__u8 sha256[32];
};

/*
 * The daemon's liveness probe: its own kill(self, 0) is counted here, so
 * the daemon can tell that the kernel still calls bulwark's programs.
 */
struct bw_canary {
	__u32 tgid; /* the daemon, written by it */
	__u32 pad;
	__u64 hits;
};

/* Per-CPU counters: index = op * BW_CNT_COUNT + counter. */
enum bw_counter {
	BW_CNT_DECISIONS = 0,   /* every decision taken */
	BW_CNT_ALLOWED = 1,     /* not counted by the kernel: decisions - denied - would_deny */
	BW_CNT_DENIED = 2,      /* actually blocked */
	BW_CNT_WOULD_DENY = 3,  /* deny verdicts let through by audit mode */
	BW_CNT_AUDITED = 4,     /* audit-verdict rule hits */
	BW_CNT_EVENTS = 5,      /* events written to the ring buffer */
	BW_CNT_RB_DROPS = 6,    /* events lost: ring buffer full */
	BW_CNT_HELPER_ERR = 7,  /* helper failures (d_path, storage, ...) */
	BW_CNT_NO_POLICY = 8,   /* decisions taken with no policy installed */
	BW_CNT_MAX = 8,
};
#define BW_CNT_COUNT (BW_CNT_MAX + 1)
#define BW_COUNTERS_LEN (BW_OP_COUNT * BW_CNT_COUNT)

/*
 * Where a btrfs inode keeps its subvolume's device (BTRFS_I(inode)->root->
 * anon_dev, what stat reports): byte offsets read by bulwarkd from the
 * btrfs module's BTF before every policy load. The programs cannot
 * relocate against a module that may load after them.
 */
struct bw_fs_layout {
	__u32 valid;              /* 1 once the offsets below are known */
	__u32 btrfs_vfs_inode;    /* offsetof(struct btrfs_inode, vfs_inode) */
	__u32 btrfs_root;         /* offsetof(struct btrfs_inode, root) */
	__u32 btrfs_anon_dev;     /* offsetof(struct btrfs_root, anon_dev) */
};

/*
 * What a hook may skip without reading the policy (decision 101). ops and
 * flags are supersets of the ops some layer of the policy in force decides
 * and of its META flags: bulwarkd widens them to old | new before a swap
 * and narrows them to new after, so a clear bit always means "not in
 * force" and a set one only sends the hook down its full path. marks: some
 * process may carry the no-children mark (set before a sticky policy is
 * installed and when an upgrade carries marks over, never cleared), so a
 * fork must look at its creator's state. installed: a policy may be in
 * force (with none, the full path counts the op as "no policy").
 *
 * Per op, too (decision 104): combos, the subject masks some layer's
 * rules for op use (bulwarkd widens them to old | new like ops), so that
 * a decision tries only those masks and not every mask the policy uses.
 * Beside it, bw_uid_filter: a bitmap of (op, uid) pairs over
 * the rules whose subject names a uid (bit BW_UID_FILTER_BIT). When
 * every mask of an op's combos names the uid and the acting task's
 * effective uid misses the bitmap, no rule of op can match it: the hook
 * skips the decision (a fork by root under `deny fork any from uid=1000`
 * reads this entry and one word of the bitmap). The bitmap too only
 * widens across a swap (old | new), so a clear bit means "no rule in
 * force". 2^19 bits: the 10,000 uid rules of the benchmark's big policy
 * set 1.5% of them.
 *
 * Entry BW_LIVE_UNDECIDED counts the forks and threads that fast path
 * allowed (decision 102), and the memory and image-load decisions (ops
 * BW_OP_WX to BW_OP_LOAD) that no layer makes (decision 103: an
 * executable mapping of a library then costs one decision, not two);
 * bulwarkd adds them to those ops' decisions. They
 * sit here, not in the per-CPU bw_counters, so the fast path touches one
 * map's memory instead of three: under emulation the per-CPU counter
 * alone was 2 of the fast path's 3.3 µs above the floor. The fields are
 * laid out by cache line: the superset and the masks of the first ops in
 * the first, the other ops' masks in the second, the counts that forks
 * write in the third, so the hooks that read the superset do not share a
 * line with the atomic counts.
 */
enum { BW_LIVE_SUPERSET, BW_LIVE_UNDECIDED, BW_LIVE_ENTRIES };

#define BW_UID_FILTER_WORDS 8192 /* of 64 bits: 2^19 bits, 64 KiB */
/* The bitmap's bit for (op, uid): a multiplicative hash, the same on both sides. */
#define BW_UID_FILTER_BIT(op, uid) \
	(((((__u32)(uid)) ^ ((__u32)(op) * 0x9E3779B9u)) * 0x85EBCA6Bu) >> 13)

/*
 * Decision 106: bw_file_filter, a bitmap of the exact files the rules in
 * force name, by (op, dev, ino) (BW_FILE_FILTER_WORD and _MASK), for the
 * exact-file path (decision 105): a clear bit means "no entry", found
 * with an inline read of one word instead of the rule map's hash lookup.
 * A superset like bw_uid_filter (old | new across a swap). 2^21 bits:
 * the benchmark's 100,000 exact exec rules set about 9% of them.
 * The word comes from (op, ino) alone, two bits in it from all three
 * (decision 108): the views of one file (an overlay's and the real file
 * below, which keep its inode number) read one word, and so one page of
 * the 64, where a decision on a cold cache pays for each page it reaches;
 * and a file no rule names finds both of its bits set about a quarter as
 * often as it found one (about 1% with those 100,000 rules), each such
 * collision costing a hash lookup in the rule map.
 */
#define BW_FILE_FILTER_WORDS 32768 /* of 64 bits: 2^21 bits, 256 KiB */
#define BW_FILE_FILTER_WORD(op, ino) \
	((__u32)((((__u64)(ino) ^ ((__u64)(op) << 59)) * 0x9E3779B97F4A7C15ull) >> 49))
#define BW_FILE_FILTER_HASH(op, dev, ino)                                                        \
	((((__u64)(ino) ^ ((__u64)(dev) << 32) ^ ((__u64)(dev) >> 32) ^ ((__u64)(op) << 59)) * \
	  0xC2B2AE3D27D4EB4Full))
/* The file's bits in its word: a rule sets both, a file is named only if both are set. */
#define BW_FILE_FILTER_MASK(op, dev, ino)                         \
	((1ull << (BW_FILE_FILTER_HASH(op, dev, ino) >> 58)) |      \
	 (1ull << ((BW_FILE_FILTER_HASH(op, dev, ino) >> 52) & 63)))

struct bw_live {
	/* BW_LIVE_SUPERSET, written by bulwarkd */
	__u32 ops;   /* bit op */
	__u32 flags; /* enum bw_policy_flag */
	__u32 marks;
	__u32 installed;
	__u32 combos[BW_OP_COUNT]; /* per op: bit m = some rule of op uses subject mask m */
	__u32 exe_classes; /* some layer classifies programs (exe=, parent=): their class entries */
	__u32 inexact_ops; /* bit op: some rule of op names more than an exact file (decision 105) */
	__u32 pad[8];
	/* BW_LIVE_UNDECIDED, counted by the kernel */
	__u64 undecided_forks;
	__u64 undecided_threads;
	__u64 undecided_memory[4]; /* op - BW_OP_WX: wx, anon-exec, memfd-exec, load */
	__u64 undecided_exec;      /* execs and mappings the exact-file path found no entry for (decision 105) */
	__u64 pad2[1];
};

/* Identity of the active policy, written by the daemon after a swap. */
struct bw_policy_info {
	__u8 sha256[32];
	__u64 loaded_at_ns; /* CLOCK_REALTIME */
	__u32 rules;
	__u32 flags;        /* enum bw_policy_flag */
	__u64 generation;   /* +1 at every successful load */
};

#define BW_COMM_LEN 16
#define BW_PATH_LEN 512

/* Which kernel path asked: the same op can be reached several ways. */
enum bw_hook {
	BW_HOOK_NONE = 0,
	BW_HOOK_EXEC = 1,     /* bprm_check_security: execve and interpreters */
	BW_HOOK_MMAP = 2,     /* mmap_file with PROT_EXEC (ld.so, dlopen) */
	BW_HOOK_MPROTECT = 3, /* file_mprotect adding PROT_EXEC */
	BW_HOOK_CLONE = 4,    /* task_alloc: fork, vfork, clone, posix_spawn, threads */
	BW_HOOK_PTRACE = 5,   /* ptrace_access_check: ptrace, /proc/PID/mem, process_vm_*, pidfd_getfd */
	BW_HOOK_KILL = 6,     /* task_kill: kill, tkill, tgkill, pidfd_send_signal, rt_sigqueueinfo */
	BW_HOOK_NICE = 7,     /* task_setnice: setpriority, nice */
	BW_HOOK_SCHED = 8,    /* task_setscheduler: sched_setscheduler, sched_setattr, ... */
	BW_HOOK_IOPRIO = 9,   /* task_setioprio */
	BW_HOOK_RLIMIT = 10,  /* task_setrlimit: prlimit, setrlimit */
	BW_HOOK_MOVEMEM = 11, /* task_movememory: migrate_pages, move_pages */
	BW_HOOK_SIGIO = 12,   /* file_send_sigiotask: F_SETOWN/F_SETSIG signals */
	BW_HOOK_PRCTL = 13,   /* task_prctl: PR_SET_MM_EXE_FILE, a program identity change */
	BW_HOOK_READ_FILE = 14, /* kernel_read_file: finit_module, kexec_file_load */
	BW_HOOK_LOAD_DATA = 15, /* kernel_load_data: init_module, kexec_load (no file) */
	BW_HOOK_LOCKDOWN = 16,  /* locked_down: arg is the bulwark lockdown reason */
	BW_HOOK_BPF = 17,       /* bpf: arg is the bpf() command */
	BW_HOOK_SHMAT = 18,     /* shm_shmat with SHM_EXEC: System V shared memory */
	BW_HOOK_OPEN = 19,      /* file_open: a file opened for writing */
	BW_HOOK_MODULE_REQUEST = 20, /* kernel_module_request: the kernel would run modprobe */
	BW_HOOK_UNLINK = 21,    /* inode_unlink, inode_rmdir: a name removed */
	BW_HOOK_RENAME = 22,    /* inode_rename: either end */
	BW_HOOK_CREATE = 23,    /* inode_create, mkdir, mknod, symlink, link: a name added */
	BW_HOOK_SETATTR = 24,   /* path_chmod, path_chown, path_truncate, inode_setattr */
	BW_HOOK_XATTR = 25,     /* inode_setxattr, inode_removexattr */
	BW_HOOK_IOCTL = 26,     /* file_ioctl: chattr (FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR) */
	BW_HOOK_MOUNT = 27,     /* sb_mount, move_mount: something mounted over the path */
	BW_HOOK_UMOUNT = 28,    /* sb_umount */
	BW_HOOK_BPF_MAP = 29,   /* bpf_map: an fd to one of bulwark's maps, for writing */
	BW_HOOK_CGROUP = 30,    /* file_open of a cgroup control file (kill, freeze, limits) */
	BW_HOOK_BPF_PROG = 31,  /* bpf_prog: an fd to one of bulwark's programs */
	BW_HOOK_CGROUP_MOVE = 32, /* inode_permission of cgroup.procs: a process moved to another cgroup */
	BW_HOOK_MAX = 32,
};

enum bw_event_type {
	BW_EV_DECISION = 1,
	BW_EV_PROCESS = 2, /* opt-in notifications: what = enum bw_proc_event */
	BW_EV_MAX = 2,
};

enum bw_proc_event {
	BW_PROC_EXEC = 1,
	BW_PROC_FORK = 2,         /* a new process: target_* is the child */
	BW_PROC_EXIT = 3,         /* a process ended: arg is its exit status */
	BW_PROC_THREAD_START = 4, /* a new thread: target_* is the thread */
	BW_PROC_THREAD_EXIT = 5,
	BW_PROC_MAX = 5,
};

/* Event flags (bw_event.flags). */
enum bw_event_flag {
	BW_EVF_PATH_TRUNC = 1u << 0, /* path did not fit: shown truncated */
	BW_EVF_PATH_ERR = 1u << 1,   /* path could not be resolved */
	BW_EVF_EXE_UNKNOWN = 1u << 2, /* subject started before bulwark */
	BW_EVF_EXE_TRUNC = 1u << 3,
	BW_EVF_WALK_LIMIT = 1u << 4, /* path deeper than the walk bound: denied */
	BW_EVF_STICKY = 1u << 5,     /* denied by the no-children mark, not a live rule */
	BW_EVF_ARGV_TRUNC = 1u << 6, /* exec notification: argv did not fit */
	BW_EVF_REAL_FILE = 1u << 7,  /* decided by the file below an overlay, not the path used */
	BW_EVF_TRUSTED = 1u << 8,    /* exec/load under a trust policy: the trust map vouches for it */
	BW_EVF_UNTRUSTED = 1u << 9,  /* exec/load under a trust policy: it does not (or it changed) */
	BW_EVF_HASHED = 1u << 10,    /* untrusted, and its SHA-256 is known: IMA hashed it (decision 90) */
	BW_EVF_HASH_UNKNOWN = 1u << 11, /* the policy has sha256: rules, the hash could not be had */
};

/* One record in the ring buffer. Fixed layout. */
struct bw_event {
	__u64 ts_ns;   /* bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME */
	__u32 type;    /* enum bw_event_type */
	__u32 op;      /* enum bw_op */
	__u32 verdict; /* enum bw_verdict */
	__u32 action;  /* enum bw_action */
	__u32 rule_id;
	__u32 flags;   /* enum bw_event_flag */
	__u32 pid;     /* thread id */
	__u32 tgid;    /* process id */
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 subj;    /* subject mask of the deciding rule */
	__u32 hook;    /* enum bw_hook */
	__u32 arg;     /* SIGNAL: the signal; LOCKDOWN: the reason; BPF: the command;
			  process events: exit status */
	__u64 policy_gen;
	__u64 target_dev;  /* file targets */
	__u64 target_ino;
	__u32 target_pid;  /* process targets: thread id, and process id */
	__u32 target_tgid;
	__u64 cgroup_id;   /* the acting task's cgroup v2 id */
	__u32 what;        /* BW_EV_PROCESS: enum bw_proc_event */
	__u32 layer;       /* BW_EV_DECISION: the layer whose rule decided (0: the administrator's) */
	char comm[BW_COMM_LEN];
	char exe[BW_PATH_LEN];
	/* file targets: the path; process targets: their exe; exec: argv, NUL-separated */
	char path[BW_PATH_LEN];
};

/*
 * Per-process state, in BPF task storage on the process's group leader
 * (threads share it), created only when something needs it (decision 103):
 * the program class cache (`exe=` rules), the no-children mark, or the
 * program's name for its exit event (policies with exit notifications:
 * the mm, and with it the exe file, is gone by then). Events otherwise
 * name programs at the event from the live exe file (bw_name_file), so an
 * exec creates no state. The field order up to exe is the previous
 * layout's, so an upgrade carries the marks over (migrate_task_state).
 */
struct bw_task_state {
	/*
	 * The program class of the task's exe (high half, 0 = none) and the
	 * policy serial it was computed under (low half): one 64-bit value,
	 * written in one store, so a reader never pairs one policy's class
	 * with another's serial (bw_class_cache).
	 */
	__u64 class_serial;
	__u32 flags;     /* enum bw_event_flag subset for exe (with exec_id) */
	__u32 nochild;   /* rule id of a sticky `deny fork` that marked it, 0 = none */
	__u32 exited;    /* process exit reported */
	__u32 reserved;  /* was the last /proc open's mode: now bw_open_mode, per thread */
	char exe[BW_PATH_LEN]; /* the exit event's name, valid while exec_id is the task's */
	__u64 exec_id;   /* the task's self_exec_id when exe was written (0: never) */
};

#define BW_OPEN_MODE_SET 0x80000000u

/*
 * Image-load control (docs/trust.md). The trust map (bw_trust) holds the
 * files bulwarkd verified against the trust database, keyed by the real
 * file's identity as the kernel computes it (below overlays; btrfs by
 * subvolume). An entry counts only while the inode's ctime and size are
 * still those bulwarkd verified: any write, truncate or attribute change
 * moves ctime, so a change revokes trust with no hook and no daemon; the
 * kernel also deletes the entry at a write-open and a truncate. And it
 * counts only on the file system instance bulwarkd verified it on (sb):
 * a file system unmounted, changed underneath and mounted again has the
 * same dev, inode, ctime and size, not the same bytes.
 */
struct bw_trust_key {
	__u64 dev; /* kernel dev_t (btrfs: the subvolume's), of the real file */
	__u64 ino;
};

struct bw_trust_val {
	__s64 ctime_sec;  /* the inode's ctime when bulwarkd verified it */
	__u32 ctime_nsec;
	__u32 flags;      /* 0 */
	__u64 size;
	__u8 sha256[32];  /* of its content, as the trust database records it */
	__u64 sb;         /* its file system instance when verified (bw_sb_instance_of) */
};

/*
 * What the trust iterator (iter/task_file, run by bulwarkd over its own
 * descriptors) reports per open file: the identities the hooks will use,
 * computed by the same kernel code, so user space never guesses them.
 */
struct bw_trust_ident {
	__u32 fd;
	__u32 ok;         /* 1: the identity is known (0: a btrfs file before its layout) */
	__u64 dev, ino;   /* the real file: the trust map's key */
	__u64 pdev, pino; /* the path used: what events name as the target */
	__s64 ctime_sec;
	__u32 ctime_nsec;
	__s32 writers;    /* the inode's i_writecount: > 0 while open for writing somewhere */
	__u64 size;
	__u64 sb;         /* the real file's file system instance (bw_sb_instance_of) */
};

/*
 * Hashing of untrusted images for `sha256:` rules (decision 90): bw_hash_cfg
 * (one entry) says whether the policy in force needs it, and carries the
 * daemon's start-up probe; bw_hash_stats (per CPU) counts what happened.
 * The cache itself (bw_hash_cache) holds struct bw_trust_val.
 */
/*
 * The mmap flags of bulwarkd's start-up probe (MAP_PRIVATE | MAP_NORESERVE
 * | MAP_POPULATE): the sleepable mmap program looks for the probe only in
 * mappings that carry all three, so the others cost it no map read.
 */
#define BW_HASH_PROBE_FLAGS 0xc002u

struct bw_hash_cfg {
	__u32 enabled;      /* 1 while the policy in force has sha256: rules */
	__u32 probe_tgid;   /* bulwarkd's probe: hash this process's next mapping */
	__s64 probe_ret;    /* what bpf_ima_file_hash returned for it (1 + algo; 0 = not run) */
	__u8 probe_sha256[32];
};

enum bw_hash_stat {
	BW_HASH_COMPUTED = 0, /* IMA hashed a file (a new file, or a new version of one) */
	BW_HASH_CACHED = 1,   /* the cached hash was still valid: no hashing */
	BW_HASH_FAILED = 2,   /* IMA gave no SHA-256 (error, other algorithm, changed meanwhile) */
	BW_HASH_UNKNOWN = 3,  /* a decision needed a hash it did not have (flag hash-unknown) */
	BW_HASH_STATS = 4,
};

#define BW_ABI_ASSERT(cond) _Static_assert(cond, #cond)
BW_ABI_ASSERT(sizeof(struct bw_rule_key) == 72);
BW_ABI_ASSERT(__builtin_offsetof(struct bw_rule_key, dev) == 56);
BW_ABI_ASSERT(sizeof(struct bw_rule_val) == 48);
BW_ABI_ASSERT(sizeof(struct bw_policy_info) == 56);
BW_ABI_ASSERT(sizeof(struct bw_live) == 192);
BW_ABI_ASSERT(__builtin_offsetof(struct bw_live, combos) == 16);
BW_ABI_ASSERT((1u << 19) == BW_UID_FILTER_WORDS * 64); /* BW_UID_FILTER_BIT's >> 13 */
BW_ABI_ASSERT((1u << 15) == BW_FILE_FILTER_WORDS); /* BW_FILE_FILTER_WORD's >> 49 */
BW_ABI_ASSERT(__builtin_offsetof(struct bw_live, undecided_forks) == 128);
BW_ABI_ASSERT(sizeof(struct bw_fs_layout) == 16);
BW_ABI_ASSERT(__builtin_offsetof(struct bw_event, target_dev) == 72);
BW_ABI_ASSERT(__builtin_offsetof(struct bw_event, cgroup_id) == 96);
BW_ABI_ASSERT(__builtin_offsetof(struct bw_event, comm) == 112);
BW_ABI_ASSERT(sizeof(struct bw_event) == 112 + BW_COMM_LEN + 2 * BW_PATH_LEN);
BW_ABI_ASSERT(sizeof(struct bw_task_state) == 32 + BW_PATH_LEN);
BW_ABI_ASSERT(BW_OP_LOAD - BW_OP_WX == 3); /* bw_live.undecided_memory */
BW_ABI_ASSERT(__builtin_offsetof(struct bw_task_state, exe) == 24);
BW_ABI_ASSERT(sizeof(struct bw_sysctl_key) == 48);
BW_ABI_ASSERT(sizeof(struct bw_canary) == 16);
BW_ABI_ASSERT(sizeof(struct bw_build) == 32);
BW_ABI_ASSERT(sizeof(struct bw_protected_proc) == 24);
BW_ABI_ASSERT(sizeof(struct bw_guard) == 24);
BW_ABI_ASSERT(sizeof(struct bw_lock) == 48);
BW_ABI_ASSERT(sizeof(struct bw_trust_key) == 16);
BW_ABI_ASSERT(sizeof(struct bw_trust_val) == 64);
BW_ABI_ASSERT(sizeof(struct bw_trust_ident) == 72);
BW_ABI_ASSERT(sizeof(struct bw_hash_cfg) == 48);

#endif /* BULWARK_ABI_H */
