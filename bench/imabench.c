// SPDX-License-Identifier: MIT
/*
 * imabench HEX...: load bench/ima.bpf.o (option (b): IMA hashes at exec,
 * matched against a hash map), allow the SHA-256s given, attach, print
 * "attached", and on SIGTERM or SIGINT print "hits=N misses=N errors=N"
 * and exit. For bench/trust-exec.sh only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int unhex(const char *s, unsigned char out[32])
{
	if (strlen(s) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *obj_path = getenv("IMABENCH_OBJ");
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	unsigned long long c[3] = {0};
	unsigned one = 1;
	int allow, counts;

	obj = bpf_object__open_file(obj_path ? obj_path : "build/bench/ima.bpf.o", NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "imabench: cannot load the IMA program: %s\n", strerror(errno));
		return 1;
	}
	allow = bpf_object__find_map_fd_by_name(obj, "ima_allow");
	counts = bpf_object__find_map_fd_by_name(obj, "ima_counts");
	for (int i = 1; i < argc; i++) {
		unsigned char h[32];

		if (unhex(argv[i], h) < 0 || bpf_map_update_elem(allow, h, &one, BPF_ANY) < 0) {
			fprintf(stderr, "imabench: bad hash '%s'\n", argv[i]);
			return 2;
		}
	}
	prog = bpf_object__find_program_by_name(obj, "ima_check");
	link = prog ? bpf_program__attach(prog) : NULL;
	if (!link) {
		fprintf(stderr, "imabench: cannot attach: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("attached\n");
	fflush(stdout);
	while (!stop)
		pause();
	for (unsigned i = 0; i < 3; i++)
		bpf_map_lookup_elem(counts, &i, &c[i]);
	printf("hits=%llu misses=%llu errors=%llu\n", c[0], c[1], c[2]);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
