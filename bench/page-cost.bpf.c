// SPDX-License-Identifier: MIT
/*
 * What one page costs a BPF LSM program under emulation (bench/page-cost.sh).
 * One program on task_alloc, built once per variant (-DPAGE_VARIANT=N):
 *   0 empty      return 0
 *   1 code-near  BLOCKS short blocks back to back, the padding after them
 *   2 code-far   the same blocks, each followed by PAD instructions the run
 *                jumps over: every block on a page of its own
 *   3 data-one   BLOCKS reads of one array map
 *   4 data-far   one read from each of BLOCKS array maps (a page each)
 * Code-near and code-far run the same instructions; data-one and data-far
 * the same loads (array lookups with a constant key are inlined by the
 * verifier: no helper call). Only the pages differ.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define BLOCKS 8
/* 1,200 x `r1 += 1`: 4 bytes each once JITed, so a block's successor is a page away. */
#define PAD asm volatile(".rept 1200\n\tr1 += 1\n\t.endr" ::: "r1")

/* 8 KiB each: kmalloc gives every map pages of its own. */
#define ARRAY(n)                                   \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);  \
		__uint(max_entries, 1024);         \
		__type(key, __u32);                \
		__type(value, __u64);              \
	} pg_map##n SEC(".maps")
ARRAY(0); ARRAY(1); ARRAY(2); ARRAY(3); ARRAY(4); ARRAY(5); ARRAY(6); ARRAY(7);

static __always_inline __attribute__((unused)) __u64 pg_read(void *map)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(map, &k);

	return v ? *v : 0;
}

SEC("lsm/task_alloc")
int BPF_PROG(pg_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	/* A value the verifier cannot know: the padding is never skipped as dead. */
	__u64 x = clone_flags, acc = 0;

	(void)x;
	if (ret)
		return ret;
#if PAGE_VARIANT == 1 || PAGE_VARIANT == 2
#if PAGE_VARIANT == 1
#define STEP(i) acc += x ^ i;
#else
#define STEP(i) acc += x ^ i; if (x == 0x5a5a5a5a00 + i) PAD;
#endif
	STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)
#if PAGE_VARIANT == 1
	if (x == 0x5a5a5a5a00) { PAD; PAD; PAD; PAD; PAD; PAD; PAD; PAD; }
#endif
#elif PAGE_VARIANT == 3
	acc += pg_read(&pg_map0); acc += pg_read(&pg_map0); acc += pg_read(&pg_map0); acc += pg_read(&pg_map0);
	acc += pg_read(&pg_map0); acc += pg_read(&pg_map0); acc += pg_read(&pg_map0); acc += pg_read(&pg_map0);
#elif PAGE_VARIANT == 4
	acc += pg_read(&pg_map0); acc += pg_read(&pg_map1); acc += pg_read(&pg_map2); acc += pg_read(&pg_map3);
	acc += pg_read(&pg_map4); acc += pg_read(&pg_map5); acc += pg_read(&pg_map6); acc += pg_read(&pg_map7);
#endif
	/* Never true for a fork: keeps acc live, so nothing above is optimised away. */
	return acc == 0x5a5a5a5a5a5a ? -1 : 0;
}
