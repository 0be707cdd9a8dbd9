// SPDX-License-Identifier: MIT
/*
 * dlopenloop N LIB...: dlopen + dlsym + dlclose, N times in all, cycling
 * through the LIBs, and print the mean wall-clock nanoseconds per
 * iteration. Each dlclose must drop the library to refcount 0 so that the
 * next dlopen opens and maps the file again (glibc keeps a loaded object
 * and hands out its handle without touching the file): the first round
 * checks /proc/self/maps after each dlclose and fails if a LIB is still
 * mapped. A LIB that cannot be opened fails the run with dlerror's text,
 * which is how the benchmark's enforcement checks read a denial.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int mapped(const char *real)
{
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		if (p) {
			p[strcspn(p, "\n")] = 0;
			found = strcmp(p, real) == 0;
		}
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	unsigned long n;
	int nlib = argc - 2;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: dlopenloop N LIB...\n");
		return 2;
	}
	errno = 0;
	n = strtoul(argv[1], &end, 10);
	if (errno || *end || n == 0) {
		fprintf(stderr, "dlopenloop: bad count '%s'\n", argv[1]);
		return 2;
	}
	/* Untimed: every LIB loads, and is gone from the maps after dlclose. */
	for (int i = 0; i < nlib; i++) {
		char real[PATH_MAX];
		void *h = dlopen(argv[2 + i], RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			fprintf(stderr, "dlopenloop: %s\n", dlerror());
			return 1;
		}
		if (!realpath(argv[2 + i], real) || mapped(real) != 1) {
			fprintf(stderr, "dlopenloop: %s not seen in /proc/self/maps\n", argv[2 + i]);
			return 1;
		}
		dlclose(h);
		if (mapped(real) != 0) {
			fprintf(stderr, "dlopenloop: %s still mapped after dlclose: a dlopen would not map it again\n",
				argv[2 + i]);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n; i++) {
		void *h = dlopen(argv[2 + i % nlib], RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			fprintf(stderr, "dlopenloop: %s\n", dlerror());
			return 1;
		}
		if (!dlsym(h, "bench_lib_fn")) {
			fprintf(stderr, "dlopenloop: %s: no bench_lib_fn\n", argv[2 + i % nlib]);
			return 1;
		}
		dlclose(h);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
