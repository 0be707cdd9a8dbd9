// SPDX-License-Identifier: MIT
/*
 * execloop N PATH [ARG...]: fork+execve+wait PATH N times and print the
 * mean wall-clock nanoseconds per iteration. Benchmarks compare these
 * numbers as ratios taken in one run, never against fixed thresholds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	struct timespec a, b;
	unsigned long n;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: execloop N PATH [ARG...]\n");
		return 2;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno || *end || n == 0) {
		fprintf(stderr, "execloop: bad count '%s'\n", argv[1]);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return perror("fork"), 1;
		if (pid == 0) {
			execve(argv[2], argv + 2, environ);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "execloop: %s failed (status %d)\n", argv[2], status);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
