// SPDX-License-Identifier: MIT
/*
 * floorload OBJECT: load and attach every program of OBJECT (the floor:
 * empty programs on bulwark's attach points, bench/floor-gen), print
 * "ready", and keep them attached until SIGTERM or SIGINT.
 */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	sigset_t set;
	int sig, n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: floorload OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floorload: cannot load %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "floorload: cannot attach %s (%s)\n", bpf_program__name(prog),
				bpf_program__section_name(prog));
			return 1;
		}
		n++;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready: %d programs attached\n", n);
	fflush(stdout);
	sigwait(&set, &sig);
	bpf_object__close(obj); /* links go with it */
	return 0;
}
