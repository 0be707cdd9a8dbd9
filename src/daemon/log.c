// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static int log_max = LOG_INFO;

void bw_log_init(int max_level)
{
	log_max = max_level;
}

void bw_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "<%d>bulwarkd: ", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
