// SPDX-License-Identifier: MIT
/*
 * verify-cost: what loading bulwark's BPF object costs the verifier, per
 * program. Loads the object the way bulwarkd does (every program, maps
 * unpinned so nothing of a running bulwark is touched), with the kernel's
 * statistics log (BPF_LOG_STATS), and prints each program's verification
 * time and instructions processed as the kernel reports them, then the
 * wall time of the whole load. Attaches nothing.
 *
 *   verify-cost [OBJECT [PROGRAM...]]
 *
 * OBJECT defaults to build/bulwark.bpf.o; naming programs loads only
 * those (quicker, when working on one of them). With VERIFY_COST_DUMP=DIR
 * the named programs are loaded with the full log (BPF_LOG_LEVEL2) and each
 * log is written to DIR/PROGRAM.log: counting how often each instruction
 * was processed there shows where the verifier's time goes.
 *
 * Needs root and a kernel that loads BPF LSM programs: `make bench` runs
 * it in vm/run (bench/verify-cost.sh).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_SIZE (1u << 20)
#define DUMP_LOG_SIZE (1u << 28)
#define MAX_PROGS 64

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A number that follows key in the log, or -1. */
static long long log_number(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "build/bulwark.bpf.o";
	const char *dump = getenv("VERIFY_COST_DUMP");
	size_t log_size = dump && argc > 2 ? DUMP_LOG_SIZE : LOG_SIZE;
	char *logs[MAX_PROGS] = { 0 };
	long long usec_sum = 0, insn_sum = 0;
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	int n = 0, r, i;
	double t0, t1;

	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "verify-cost: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	bpf_object__for_each_program(prog, obj) {
		if (n == MAX_PROGS)
			break;
		if (argc > 2) {
			bool named = false;

			for (i = 2; i < argc; i++)
				named |= strcmp(argv[i], bpf_program__name(prog)) == 0;
			bpf_program__set_autoload(prog, named);
		}
		logs[n] = calloc(1, log_size);
		if (!logs[n])
			return 1;
		bpf_program__set_log_buf(prog, logs[n], log_size);
		/* BPF_LOG_STATS, and BPF_LOG_LEVEL2: level 1 keeps only the last path */
		bpf_program__set_log_level(prog, log_size == DUMP_LOG_SIZE ? 4 | 2 : 4);
		n++;
	}
	t0 = now_s();
	r = bpf_object__load(obj);
	t1 = now_s();
	if (r) {
		fprintf(stderr, "verify-cost: load failed: %s\n", strerror(-r));
		i = 0;
		bpf_object__for_each_program(prog, obj)
			if (i < n && logs[i][0])
				fprintf(stderr, "--- %s\n%s\n", bpf_program__name(prog),
					logs[i++]);
		return 1;
	}
	printf("%-28s %12s %12s\n", "program", "verify_usec", "insns");
	i = 0;
	bpf_object__for_each_program(prog, obj) {
		long long usec, insns;

		if (i == n)
			break;
		if (!bpf_program__autoload(prog)) {
			i++;
			continue;
		}
		usec = log_number(logs[i], "verification time ");
		insns = log_number(logs[i], "processed ");
		printf("%-28s %12lld %12lld\n", bpf_program__name(prog), usec, insns);
		if (log_size == DUMP_LOG_SIZE) {
			char name[512];
			FILE *f;

			snprintf(name, sizeof(name), "%s/%s.log", dump, bpf_program__name(prog));
			f = fopen(name, "w");
			if (f) {
				fputs(logs[i], f);
				fclose(f);
			}
		}
		usec_sum += usec > 0 ? usec : 0;
		insn_sum += insns > 0 ? insns : 0;
		i++;
	}
	printf("%-28s %12lld %12lld\n", "total", usec_sum, insn_sum);
	printf("load wall time: %.2f s\n", t1 - t0);
	bpf_object__close(obj);
	return 0;
}
