// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "watchdog.h"

void bw_time_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static struct json_object *integrity_event(const char *event)
{
	struct json_object *o = json_object_new_object();
	char when[64];

	bw_time_now(when, sizeof(when));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "type", json_object_new_string("integrity"));
	json_object_object_add(o, "event", json_object_new_string(event));
	return o;
}

static void on_repair(void *ctx, const char *what, const char *detail)
{
	struct watchdog *w = ctx;
	struct json_object *o = integrity_event(what);

	json_object_object_add(o, "path", json_object_new_string(detail));
	bw_log(LOG_WARNING, "integrity: %s %s", what, detail);
	if (w->emit)
		w->emit(w->ctx, o);
	json_object_put(o);
}

/* Why enforcement is off, as a list of short reasons. */
static struct json_object *off_reasons(const struct bw_integrity *in)
{
	struct json_object *a = json_object_new_array();

	if (!in->called)
		json_object_array_add(a, json_object_new_string("programs-not-called"));
	if (in->ftrace_enabled == 0)
		json_object_array_add(a, json_object_new_string("ftrace-disabled"));
	if (in->links < in->expected)
		json_object_array_add(a, json_object_new_string("links-lost"));
	return a;
}

void watchdog_run(struct watchdog *w, struct bw_kernel *k)
{
	enum watchdog_state now;
	struct json_object *o;

	bw_kernel_check(k, &w->last, on_repair, w);
	w->repairs += w->last.repaired;
	bw_time_now(w->checked_at, sizeof(w->checked_at));
	now = w->last.called && w->last.links == w->last.expected ? WATCHDOG_ON : WATCHDOG_OFF;
	if (now == w->state)
		return;
	/* The first check only reports a problem; "on" at start is the norm. */
	if (now == WATCHDOG_ON && w->state == WATCHDOG_UNKNOWN) {
		w->state = now;
		return;
	}
	o = integrity_event(now == WATCHDOG_ON ? "enforcement-restored" : "enforcement-off");
	json_object_object_add(o, "reasons", off_reasons(&w->last));
	if (now == WATCHDOG_OFF)
		bw_log(LOG_CRIT, "integrity: the kernel no longer runs bulwark's programs%s",
		       w->last.ftrace_enabled == 0 ? " (kernel.ftrace_enabled is 0)" : "");
	else
		bw_log(LOG_NOTICE, "integrity: enforcement restored");
	if (w->emit)
		w->emit(w->ctx, o);
	json_object_put(o);
	w->state = now;
}

struct json_object *watchdog_status(const struct watchdog *w)
{
	struct json_object *o = json_object_new_object(), *links = json_object_new_object();

	json_object_object_add(o, "state", json_object_new_string(
					   w->state == WATCHDOG_ON ? "on" : w->state == WATCHDOG_OFF ? "off" : "unknown"));
	json_object_object_add(o, "programs_called", json_object_new_boolean(w->last.called));
	json_object_object_add(links, "attached", json_object_new_int(w->last.links));
	json_object_object_add(links, "expected", json_object_new_int(w->last.expected));
	json_object_object_add(o, "links", links);
	json_object_object_add(o, "ftrace_enabled", w->last.ftrace_enabled < 0 ? NULL :
						    json_object_new_int(w->last.ftrace_enabled));
	json_object_object_add(o, "reasons", off_reasons(&w->last));
	json_object_object_add(o, "repairs", json_object_new_uint64(w->repairs));
	json_object_object_add(o, "checked_at", json_object_new_string(w->checked_at));
	json_object_object_add(o, "check_interval_ms", json_object_new_int(WATCHDOG_PERIOD_MS));
	return o;
}
