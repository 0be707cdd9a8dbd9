/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulwarkd's kernel objects: programs, links, maps, all pinned. */
#ifndef BULWARKD_KERNEL_H
#define BULWARKD_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../../bpf/abi.h"
#include "../lib/compile.h"

#include <bpf/libbpf.h>

struct bulwark_bpf;

/*
 * A link the daemon holds an fd to: while the daemon runs, removing the
 * pin (or unmounting bpffs) cannot detach it, and the daemon pins it again.
 */
struct bw_held_link {
	char path[256]; /* its pin */
	int fd;
	uint32_t id;
};

struct bw_kernel {
	struct bulwark_bpf *skel;
	bool adopted; /* found pinned links from an earlier daemon */
	int events_fd;
	int lockdown_reasons; /* the kernel's reasons mapped from its BTF; 0: none */
	struct bw_held_link *links; /* room for one a program */
	size_t n_links;
	/* The programs attached only while a policy needs them (kernel.c, on_demand): their fds. */
	int demand_fds[3];
	char pin_root[64];  /* where this generation is pinned */
	uint8_t build[32];  /* this build's identity (struct bw_build) */
	/*
	 * Another build's programs are still attached: ours are staged in
	 * BW_PIN_NEXT until bw_kernel_finish_handover.
	 */
	bool handover;
	/*
	 * The integrity check's memory (bw_kernel_check): pin_root as the
	 * last full check found it, the links it counted of how many held,
	 * and the quick checks since.
	 */
	struct stat pins_dir;
	unsigned pins_links;
	size_t pins_n_links; /* n_links then */
	unsigned quick_checks;
};

/* What the kernel actually runs, as one integrity check found it. */
struct bw_integrity {
	bool bpffs;            /* bpffs was mounted at /sys/fs/bpf (before any repair) */
	bool called;           /* the canary decision ran: the kernel calls our programs */
	unsigned links;        /* held links the kernel still reports */
	unsigned expected;     /* links bulwark attached */
	int ftrace_enabled;    /* kernel.ftrace_enabled, -1 if unreadable */
	unsigned repaired;     /* pins restored and mounts redone by this check */
};

/* A repair or loss the check saw: `what` names it, `detail` says where. */
typedef void (*bw_integrity_report)(void *ctx, const char *what, const char *detail);

/*
 * Check what the kernel runs and repair what can be repaired: mount bpffs
 * again, recreate the pin directory, pin every held link and map again.
 * Each repair is reported through `report`. The pins are looked at only
 * when their directory changed, or at every tenth check (decision 109).
 */
void bw_kernel_check(struct bw_kernel *k, struct bw_integrity *out, bw_integrity_report report,
		     void *ctx);

/* The next check looks at every pin: a mount may have hidden one (decision 109). */
void bw_kernel_check_fully(struct bw_kernel *k);

/*
 * Load and attach, or adopt what an earlier daemon pinned. On failure,
 * `why` holds one line telling the user what to do.
 */
int bw_kernel_open(struct bw_kernel *k, bool verbose, char *why, size_t why_len);
void bw_kernel_close(struct bw_kernel *k);
/* Can this kernel load our LSM programs? Loads them, then unloads. */
/*
 * Every entry of the active policy's map, sorted by key (malloc()ed).
 * -ENOENT when no policy is installed.
 */
int bw_kernel_read_entries(struct bw_kernel *k, struct bw_rule_entry **ret, size_t *ret_n);
int bw_kernel_probe(bool verbose, char *why, size_t why_len);

/*
 * Attach the programs a policy with these flags (enum bw_policy_flag)
 * needs and detach those it does not (decision 108). On failure, `why`
 * says which and why; what was attached stays.
 */
int bw_kernel_demand(struct bw_kernel *k, uint32_t flags, char *why, size_t why_len);

/* Build a rule map beside the active one and swap it in atomically. */
int bw_kernel_install(struct bw_kernel *k, const struct bw_compiled *c, const uint8_t sha256[32],
		      uint32_t rules, uint32_t flags, char *why, size_t why_len);
int bw_kernel_policy_info(struct bw_kernel *k, struct bw_policy_info *info);
bool bw_kernel_has_policy(struct bw_kernel *k);
/* Register this process as bulwarkd at level system (before a `protect self` policy). */
int bw_kernel_protect_self(struct bw_kernel *k);
/* The protection level the kernel holds for a process (BW_LEVEL_NONE: none). */
__u32 bw_kernel_level_of(struct bw_kernel *k, pid_t tgid);
/* Locked mode's state (struct bw_lock), in its pinned map. */
int bw_kernel_lock_get(struct bw_kernel *k, struct bw_lock *lk);
int bw_kernel_lock_set(struct bw_kernel *k, const struct bw_lock *lk);
/* How many processes hold a protection level now. */
size_t bw_kernel_protected_count(struct bw_kernel *k);
/* Sum of the per-CPU counters, BW_COUNTERS_LEN entries. */
int bw_kernel_counters(struct bw_kernel *k, uint64_t *out);
/*
 * An upgrade's second half, once this generation holds a policy: carry the
 * processes' state over, detach the old generation (exec check last),
 * drain its events through `drain`, remove its pins and move ours into
 * BW_PIN_ROOT. No gap: ours were attached before the old ones went.
 */
int bw_kernel_finish_handover(struct bw_kernel *k, ring_buffer_sample_fn drain, void *ctx);
/* The trust map's fd (struct bw_trust_key -> struct bw_trust_val). */
int bw_kernel_trust_map(struct bw_kernel *k);
/*
 * A new read fd of the trust iterator: struct bw_trust_ident records for
 * the caller's own open files. -errno on failure.
 */
int bw_kernel_trust_iter(struct bw_kernel *k);
/* Detach everything and remove every pin. */
int bw_kernel_unload(struct bw_kernel *k);

/* Decision 90: IMA hashing of untrusted images for sha256: rules. */
int bw_kernel_hash_probe(struct bw_kernel *k, char *why, size_t why_len);
int bw_kernel_hash_enable(struct bw_kernel *k, bool on);
int bw_kernel_hash_stats(struct bw_kernel *k, uint64_t out[BW_HASH_STATS]);
bool bw_kernel_hash_cached(struct bw_kernel *k, uint64_t dev, uint64_t ino, uint8_t sha256[32]);

#endif
