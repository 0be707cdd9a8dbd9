/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bulwarkd logs to stderr with sd-daemon(3) "<N>" priority prefixes, which
 * journald turns into real log levels and a terminal shows harmlessly.
 */
#ifndef BULWARKD_LOG_H
#define BULWARKD_LOG_H

#include <syslog.h>

void bw_log_init(int max_level);
void bw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
