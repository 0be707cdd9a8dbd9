// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Option (b) of issue 12, for measurement only (bench/trust-exec.sh): a
 * sleepable exec hook that asks IMA for the file's SHA-256
 * (bpf_ima_file_hash) and looks it up in a hash-keyed allowlist. It
 * decides nothing (returns 0): it counts hits, misses and errors, so the
 * bench can show the hash really was computed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct sha {
	__u8 b[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sha);
	__type(value, __u32);
} ima_allow SEC(".maps");

/* 0: hits, 1: misses, 2: errors */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} ima_counts SEC(".maps");

static void count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&ima_counts, &i);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("lsm.s/bprm_check_security")
int BPF_PROG(ima_check, struct linux_binprm *bprm, int ret)
{
	struct sha h = {};
	long n;

	if (ret)
		return ret;
	n = bpf_ima_file_hash(bprm->file, h.b, sizeof(h.b));
	if (n < 0) {
		count(2);
		return 0;
	}
	count(bpf_map_lookup_elem(&ima_allow, &h) ? 0 : 1);
	return 0;
}
