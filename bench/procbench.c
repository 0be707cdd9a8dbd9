// SPDX-License-Identifier: MIT
/*
 * procbench WORKLOAD N: run one process-control workload N times and print
 * the mean wall-clock nanoseconds per operation. Workloads:
 *
 *   fork     fork, the child _exits at once, waitpid
 *   thread   pthread_create of an empty thread, then join
 *   kill0    kill(child, 0): the existence probe, against a paused child
 *   vmread   a 1-byte process_vm_readv from a paused child
 *
 * Benchmarks compare these numbers as ratios taken in one run, never
 * against fixed thresholds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[64] = "procbench";

static void *nothing(void *arg)
{
	return arg;
}

static int one(const char *w, pid_t child)
{
	if (strcmp(w, "fork") == 0) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		return pid < 0 ? -1 : waitpid(pid, NULL, 0) == pid ? 0 : -1;
	}
	if (strcmp(w, "thread") == 0) {
		pthread_t t;

		return pthread_create(&t, NULL, nothing, NULL) == 0 ? pthread_join(t, NULL) : -1;
	}
	if (strcmp(w, "kill0") == 0)
		return kill(child, 0);
	{
		char c;
		struct iovec local = { &c, 1 }, remote = { buf, 1 };

		return process_vm_readv(child, &local, 1, &remote, 1, 0) == 1 ? 0 : -1;
	}
}

int main(int argc, char **argv)
{
	const char *w = argc == 3 ? argv[1] : "";
	struct timespec a, b;
	unsigned long n;
	pid_t child = 0;
	int rc = 0;

	n = argc == 3 ? strtoul(argv[2], NULL, 10) : 0;
	if (n == 0 || (strcmp(w, "fork") && strcmp(w, "thread") && strcmp(w, "kill0") &&
		       strcmp(w, "vmread"))) {
		fprintf(stderr, "usage: procbench fork|thread|kill0|vmread N\n");
		return 2;
	}
	if (strcmp(w, "kill0") == 0 || strcmp(w, "vmread") == 0) {
		child = fork(); /* shares buf's address: same image, no exec */
		if (child == 0) {
			pause();
			_exit(0);
		}
		if (child < 0)
			return perror("fork"), 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n && rc == 0; i++)
		rc = one(w, child);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (rc) {
		fprintf(stderr, "procbench: %s failed: %s\n", w, strerror(errno));
		return 1;
	}
	printf("%llu\n", ((b.tv_sec - a.tv_sec) * 1000000000ull + b.tv_nsec - a.tv_nsec) / n);
	return 0;
}
