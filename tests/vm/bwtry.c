// SPDX-License-Identifier: MIT
/*
 * bwtry: perform one operation the way an attacker or a user would, and
 * print exactly what the caller saw, so tests assert on the real errno:
 *
 *   bwtry exec PATH [ARG...]   fork, then execve in the child
 *   bwtry run PATH [ARG...]    execve in this process (no fork), so the
 *                              subject is bwtry's copy and its parent
 *   bwtry mmap PATH            map the file PROT_READ|PROT_EXEC
 *   bwtry mprotect PATH        map it PROT_READ, then mprotect to add PROT_EXEC
 *
 * Output: one line "pid=<acting process> parent=<bwtry> rc=<n> errno=<NAME>".
 * Exit: 0 if the operation succeeded, 1 if it failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ENOEXEC: return "ENOEXEC";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EAGAIN: return "EAGAIN";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

/* The child reports execve's errno through a close-on-exec pipe. */
static int try_exec(char **argv)
{
	int pfd[2], status, err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return perror("pipe2"), 2;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 2;
	if (pid == 0) {
		close(pfd[0]);
		execve(argv[0], argv, environ);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) != sizeof(err))
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return perror("waitpid"), 2;
	if (n == sizeof(err)) {
		printf("pid=%d parent=%d rc=-1 errno=%s\n", pid, getpid(), errno_name(err));
		return 1;
	}
	printf("pid=%d parent=%d rc=0 errno=0 exit=%d\n", pid, getpid(), WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

/* In place: on success PATH replaces us and reports nothing itself. */
static int run_in_place(char **argv)
{
	execve(argv[0], argv, environ);
	printf("pid=%d parent=%d rc=-1 errno=%s\n", getpid(), getppid(), errno_name(errno));
	return 1;
}

static int report(long rc, int err)
{
	printf("pid=%d parent=%d rc=%ld errno=%s\n", getpid(), getppid(), rc, errno_name(rc < 0 ? err : 0));
	return rc < 0;
}

static int try_map(const char *path, bool via_mprotect)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return perror(path), 2;
	p = mmap(NULL, 4096, PROT_READ | (via_mprotect ? 0 : PROT_EXEC), MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return report(-1, errno);
	if (via_mprotect) {
		int rc = mprotect(p, 4096, PROT_READ | PROT_EXEC);

		return report(rc, errno);
	}
	return report(0, 0);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "exec") == 0)
		return try_exec(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run_in_place(argv + 2);
	if (argc == 3 && strcmp(argv[1], "mmap") == 0)
		return try_map(argv[2], false);
	if (argc == 3 && strcmp(argv[1], "mprotect") == 0)
		return try_map(argv[2], true);
	fprintf(stderr, "usage: bwtry exec|run PATH [ARG...] | mmap PATH | mprotect PATH\n");
	return 2;
}
