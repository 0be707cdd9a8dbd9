// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Root's own BPF programs for tests/redteam/t_attack.sh: fmod_ret programs
 * on the kernel's security_* functions, which the verifier accepts for any
 * root with CAP_BPF + CAP_PERFMON. A nonzero return skips the function,
 * and with it every LSM behind it, bulwark included.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * bpf_map_new_fd() tests security_bpf_map() with `< 0`: a positive return
 * skips bulwark's bpf_map hook and still hands out the fd, writable.
 */
SEC("fmod_ret/security_bpf_map")
int BPF_PROG(skip_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	return 1;
}

/*
 * A void hook: skipping it skips bulwark's bprm_committed_creds program,
 * which gives a protected program its level.
 */
SEC("fmod_ret/security_bprm_committed_creds")
int BPF_PROG(skip_committed, struct linux_binprm *bprm)
{
	return 1;
}
