// SPDX-License-Identifier: MIT
/*
 * bwevil PROG CMD [ARG...]: load evil.bpf.o (next to this binary), attach
 * only the program PROG, run CMD, detach. Prints
 * "bwevil attach=ok|<errno name>" then CMD's own output; exits with CMD's
 * status, or 90 when PROG could not be loaded or attached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	char self[PATH_MAX], obj_path[PATH_MAX + 32];
	struct bpf_object *obj;
	struct bpf_program *p, *want = NULL;
	struct bpf_link *link;
	ssize_t n;
	int status;
	pid_t pid;

	if (argc < 3)
		return fprintf(stderr, "usage: bwevil PROG CMD [ARG...]\n"), 2;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 2;
	self[n] = 0;
	snprintf(obj_path, sizeof(obj_path), "%s/evil.bpf.o", dirname(self));
	obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		return printf("bwevil attach=%s step=open\n", strerrorname_np(errno)), 90;
	bpf_object__for_each_program(p, obj) {
		if (strcmp(bpf_program__name(p), argv[1]) == 0)
			want = p;
		else
			bpf_program__set_autoload(p, false);
	}
	if (!want)
		return printf("bwevil attach=ENOENT step=find\n"), 90;
	if (bpf_object__load(obj))
		return printf("bwevil attach=%s step=load\n", strerrorname_np(errno)), 90;
	link = bpf_program__attach(want);
	if (!link)
		return printf("bwevil attach=%s step=attach\n", strerrorname_np(errno)), 90;
	printf("bwevil attach=ok\n");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
