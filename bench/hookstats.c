// SPDX-License-Identifier: MIT
/*
 * hookstats PREFIX: for every loaded BPF program whose name starts with
 * PREFIX, the kernel's own count of its runs and the nanoseconds they took
 * (kernel.bpf_stats_enabled must be 1 while they run), one line each:
 *
 *   ATTACH_POINT RUN_CNT RUN_TIME_NS
 *
 * The attach point is the name of the kernel function or tracepoint the
 * program hangs off (bpf_lsm_file_open, btf_trace_sched_process_exec,
 * cgroup_procs_write_start), read from vmlinux BTF, so bulwark's programs
 * and the floor's pair up by where they run, whatever they are called.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	__u32 id = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: hookstats PREFIX\n");
		return 2;
	}
	if (!vmlinux) {
		fprintf(stderr, "hookstats: no vmlinux BTF\n");
		return 1;
	}
	while (bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		const struct btf_type *t;
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    strncmp(info.name, argv[1], strlen(argv[1])) == 0 && info.attach_btf_id) {
			t = btf__type_by_id(vmlinux, info.attach_btf_id);
			printf("%s %llu %llu\n", t ? btf__name_by_offset(vmlinux, t->name_off) : "?",
			       (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
		}
		close(fd);
	}
	btf__free(vmlinux);
	return 0;
}
