// SPDX-License-Identifier: MIT
/*
 * eventcost N [BATCH]: bulwarkd's own work per event, natively, without
 * a kernel: N copies of the events bench's record (bench/events.sh: an
 * audited kill(pid, 0), a process target) through bulwarkd's ring-buffer
 * callback (on_ringbuf_record: decode, JSON, the events file, the
 * backlog), flushed every BATCH records (64) as the daemon flushes once
 * per ring-buffer batch. Prints the CPU nanoseconds per event (user and
 * system: the writes are part of it). What it leaves out, and
 * bench/events.sh measures in the VM: the ring buffer's own reads and
 * epoll_wait. Links bulwarkd's objects (all but main.o): the code the
 * daemon runs, not a copy of it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/daemon/daemon.h"

/* main.o's two, which the daemon's other objects name. */
int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void schedule(struct daemon *d, enum task_id id, int64_t due_ms)
{
	d->tasks[id].due_ms = due_ms;
}

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	char path[] = "/tmp/bw-eventcost.XXXXXX";
	struct bw_event e = {
		.type = BW_EV_DECISION, .op = BW_OP_SIGNAL, .verdict = BW_VERDICT_AUDIT,
		.action = BW_ACTION_ALLOWED, .rule_id = 1, .pid = 4242, .tgid = 4242, .ppid = 4200,
		.hook = BW_HOOK_KILL, .target_pid = 4243, .target_tgid = 4243, .cgroup_id = 1234,
		.comm = "opbench", .exe = "/work/main/build/bench/opbench",
		.path = "/work/main/build/bench/opbench",
	};
	long n = argc > 1 ? atol(argv[1]) : 0, batch = argc > 2 ? atol(argv[2]) : 64;
	double t0;
	int fd;

	if (n <= 0 || batch <= 0) {
		fprintf(stderr, "usage: eventcost N [BATCH]\n");
		return 2;
	}
	fd = mkstemp(path);
	if (fd < 0 || events_open(&d, path) < 0) {
		perror("eventcost");
		return 1;
	}
	close(fd);
	t0 = cpu_ns();
	for (long i = 0; i < n; i++) {
		e.ts_ns = (uint64_t)i * 1000;
		on_ringbuf_record(&d, &e, sizeof(e));
		if ((i + 1) % batch == 0)
			events_flush(&d);
	}
	events_flush(&d);
	printf("%.0f\n", (cpu_ns() - t0) / n);
	events_free(&d);
	close(d.events_fd);
	unlink(path);
	return 0;
}
