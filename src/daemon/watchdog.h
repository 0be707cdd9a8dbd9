/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The watchdog: checks, every second and on every status request, that
 * the kernel still runs bulwark's programs (links held and attached, the
 * canary decision observed), repairs pins and bpffs mounts that were
 * removed, and turns every repair and every change of the enforcement
 * state into an event.
 */
#ifndef BULWARKD_WATCHDOG_H
#define BULWARKD_WATCHDOG_H

#include <json-c/json.h>
#include <stdint.h>

#include "kernel.h"

#define WATCHDOG_PERIOD_MS 1000

enum watchdog_state { WATCHDOG_UNKNOWN = 0, WATCHDOG_ON = 1, WATCHDOG_OFF = 2 };

struct watchdog {
	struct bw_integrity last;
	enum watchdog_state state;
	uint64_t repairs;     /* since the daemon started */
	char checked_at[64];  /* time of the last check */
	/* Where events go: consumes nothing, the callee copies what it keeps. */
	void (*emit)(void *ctx, struct json_object *event);
	void *ctx;
};

/* One check; events for every repair and for a change of state. */
void watchdog_run(struct watchdog *w, struct bw_kernel *k);
/* The "enforcement" object of `bulwark status` (docs/api.md). */
struct json_object *watchdog_status(const struct watchdog *w);
/* RFC 3339 UTC with nanoseconds, as every event's "time". */
void bw_time_now(char *buf, size_t len);

#endif
