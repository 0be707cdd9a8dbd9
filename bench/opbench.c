// SPDX-License-Identifier: MIT
/*
 * opbench WORKLOAD N [RATE]: run one workload N times and print the mean
 * wall-clock nanoseconds per operation; with RATE, paced at RATE
 * operations per second (absolute deadlines, so a late one does not slow
 * the rest). Process control:
 *
 *   fork       fork, the child _exits at once, waitpid
 *   thread     pthread_create of an empty thread, then join
 *   kill0      kill(child, 0): the existence probe, against a paused child
 *   vmread     a 1-byte process_vm_readv from a paused child
 *
 * Kernel operations:
 *
 *   bpflookup  bpf(BPF_MAP_LOOKUP_ELEM) on a one-entry array: every bpf()
 *              call passes the `bpf` hook, which only judges program loads
 *   bpfload    BPF_PROG_LOAD of a two-instruction socket filter, then close:
 *              a judged `bpf` decision (the verifier's work included)
 *   ioperm     ioperm(0x80) on then off: a judged `lockdown ioport` decision
 *
 * Files:
 *
 *   open       open and close /etc/hostname: the `file_open` hook's fast path
 *   procopen   open and close /proc/self/stat: procfs, where file_open records
 *              the open's mode (and judges guarded sysctls)
 *
 * Benchmarks compare these numbers as ratios taken in one run, never
 * against fixed thresholds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <sys/io.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[64] = "opbench";
static pid_t child; /* kill0 and vmread: a paused child, forked without exec */

static void *nothing(void *arg)
{
	return arg;
}

static int do_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid < 0 ? -1 : waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

static int do_thread(void)
{
	pthread_t t;

	return (errno = pthread_create(&t, NULL, nothing, NULL)) == 0 ? pthread_join(t, NULL) : -1;
}

static int do_kill0(void)
{
	return kill(child, 0);
}

static int do_vmread(void)
{
	char c;
	struct iovec local = { &c, 1 }, remote = { buf, 1 }; /* same address in the child */

	return process_vm_readv(child, &local, 1, &remote, 1, 0) == 1 ? 0 : -1;
}

static int map_fd = -1; /* bpflookup: a one-entry array */

static long bpf_cmd(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int do_bpflookup(void)
{
	__u32 key = 0, value;
	union bpf_attr attr = { .map_fd = map_fd, .key = (uintptr_t)&key, .value = (uintptr_t)&value };

	if (map_fd < 0) {
		union bpf_attr create = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4,
					  .max_entries = 1 };

		map_fd = (int)bpf_cmd(BPF_MAP_CREATE, &create);
		if (map_fd < 0)
			return -1;
		attr.map_fd = map_fd;
	}
	return (int)bpf_cmd(BPF_MAP_LOOKUP_ELEM, &attr);
}

static int do_bpfload(void)
{
	struct bpf_insn insns[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };
	union bpf_attr attr = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER, .insns = (uintptr_t)insns,
				.insn_cnt = 2, .license = (uintptr_t)"GPL" };
	int fd = (int)bpf_cmd(BPF_PROG_LOAD, &attr);

	return fd < 0 ? -1 : close(fd);
}

static int do_ioperm(void)
{
	return ioperm(0x80, 1, 1) == 0 ? ioperm(0x80, 1, 0) : -1;
}

/* open(2) and close of a regular file: every open passes `file_open` */
static int do_open(void)
{
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -1 : close(fd);
}

/* open(2) and close of a /proc file: the path file_open records and judges */
static int do_procopen(void)
{
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -1 : close(fd);
}

static const struct {
	const char *name;
	int (*op)(void);
	bool needs_child;
} workloads[] = {
	{ "open", do_open, false },
	{ "procopen", do_procopen, false },
	{ "fork", do_fork, false },
	{ "thread", do_thread, false },
	{ "kill0", do_kill0, true },
	{ "vmread", do_vmread, true },
	{ "bpflookup", do_bpflookup, false },
	{ "bpfload", do_bpfload, false },
	{ "ioperm", do_ioperm, false },
};

int main(int argc, char **argv)
{
	struct timespec a, b;
	unsigned long n = 0, rate = 0;
	int (*op)(void) = NULL;
	bool needs_child = false;
	char *end;
	int rc = 0;

	for (size_t i = 0; (argc == 3 || argc == 4) && i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (strcmp(argv[1], workloads[i].name) == 0)
			op = workloads[i].op, needs_child = workloads[i].needs_child;
	if (argc == 3 || argc == 4) {
		errno = 0;
		n = strtoul(argv[2], &end, 10);
		if (errno || *end)
			n = 0;
	}
	if (argc == 4) {
		errno = 0;
		rate = strtoul(argv[3], &end, 10);
		if (errno || *end || rate == 0)
			n = 0;
	}
	if (!op || n == 0) {
		fprintf(stderr, "usage: opbench open|procopen|fork|thread|kill0|vmread|bpflookup|bpfload|ioperm N [RATE]\n");
		return 2;
	}
	if (needs_child) {
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
		if (child < 0)
			return perror("fork"), 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n && rc == 0; i++) {
		if (rate) {
			uint64_t at = (uint64_t)a.tv_sec * 1000000000ull + a.tv_nsec + i * 1000000000ull / rate;
			struct timespec when = { .tv_sec = at / 1000000000ull, .tv_nsec = at % 1000000000ull };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, NULL);
		}
		rc = op();
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc)
		fprintf(stderr, "opbench: %s failed: %s\n", argv[1], strerror(errno));
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (rc)
		return 1;
	printf("%llu\n", ((b.tv_sec - a.tv_sec) * 1000000000ull + b.tv_nsec - a.tv_nsec) / n);
	return 0;
}
