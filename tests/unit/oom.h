/* SPDX-License-Identifier: MIT */
/*
 * Allocation failure injection for unit tests (include in one file per
 * test binary, link it with $(OOM_WRAP)): the library's calls to malloc,
 * calloc, realloc, strdup, strndup and asprintf go through these, and the
 * fail_at-th of them fails. every_allocation() runs a call with each of
 * its allocations failing in turn and requires -ENOMEM every time.
 */
#ifndef BULWARK_TEST_OOM_H
#define BULWARK_TEST_OOM_H

/* Which allocation fails (0: none), and how many were asked for so far. */
static unsigned long fail_at, seen;

static int should_fail(void)
{
	return fail_at && ++seen == fail_at;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **s, const char *fmt, va_list ap);

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}

/* asprintf, and what _FORTIFY_SOURCE turns it into. */
int __wrap_vasprintf(char **s, const char *fmt, va_list ap)
{
	if (should_fail())
		return -1;
	return __real_vasprintf(s, fmt, ap);
}

int __wrap_asprintf(char **s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __wrap_vasprintf(s, fmt, ap);
	va_end(ap);
	return r;
}

int __wrap___vasprintf_chk(char **s, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return __wrap_vasprintf(s, fmt, ap);
}

int __wrap___asprintf_chk(char **s, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = __wrap_vasprintf(s, fmt, ap);
	va_end(ap);
	return r;
}

/* Run f with the n-th allocation failing, n = 1 ... until it succeeds untouched. */
static void every_allocation(int (*f)(void *), void *arg, unsigned long *runs)
{
	int r;

	for (unsigned long n = 1;; n++) {
		fail_at = n;
		seen = 0;
		r = f(arg);
		fail_at = 0;
		if (seen < n) { /* nothing failed: the normal answer */
			assert_int_equal(r, 0);
			*runs = n - 1;
			print_message("%lu allocations, each failed in turn: -ENOMEM every time\n", *runs);
			return;
		}
		if (r != -ENOMEM)
			fail_msg("allocation %lu failed and the call returned %d, not -ENOMEM", n, r);
	}
}

#endif
