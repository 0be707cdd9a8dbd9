// SPDX-License-Identifier: MIT
/*
 * bwsub: a vendor's event loop against libbulwark's subscription API, for
 * tests/vm/t_subscribe.sh. It subscribes, polls the fd in its own loop,
 * dispatches, and prints one line per notification through the typed
 * accessors:
 *
 *   note kind=K op=OP action=ACTION pid=PID exe=EXE target=PATH
 *
 * then "dropped=N calls=M" when it stops.
 *
 *   bwsub KINDS SECONDS [UNTIL_PATH] [STALL_FILE]
 *
 * KINDS: a number (enum bw_notification_kind bits, 0: all). It stops
 * after SECONDS, or once a notification's target is UNTIL_PATH. With
 * STALL_FILE it reads nothing while that file exists (a slow subscriber),
 * and stops SECONDS after the file is gone and nothing more arrives.
 * "subscribed" on stdout says it is listening.
 */
#include <bulwark/bulwark.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct seen {
	const char *until;
	int done;
	unsigned calls;
};

static const char *or_null(const char *s)
{
	return s ? s : "null";
}

static int on_note(void *userdata, const struct bw_notification *n)
{
	struct seen *s = userdata;
	const char *target = bw_notification_target_path(n);

	s->calls++;
	printf("note kind=%u op=%s action=%s pid=%lld exe=%s target=%s\n", bw_notification_kind(n),
	       or_null(bw_notification_op(n)), or_null(bw_notification_action(n)),
	       (long long)bw_notification_pid(n), or_null(bw_notification_exe(n)), or_null(target));
	if (strstr(bw_notification_json(n), "\"type\"") == NULL)
		printf("error: the notification's JSON has no type\n");
	if (s->until && target && strcmp(target, s->until) == 0)
		s->done = 1;
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct bw_client_opts copts = { .sz = sizeof(copts) };
	struct bw_subscribe_opts opts = { .sz = sizeof(opts) };
	struct seen s = { 0 };
	struct bw_subscription *sub;
	const char *stall;
	double secs, last;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: bwsub KINDS SECONDS [UNTIL_PATH] [STALL_FILE]\n");
		return 2;
	}
	opts.kinds = (uint32_t)strtoul(argv[1], NULL, 0);
	secs = atof(argv[2]);
	s.until = argc > 3 && argv[3][0] ? argv[3] : NULL;
	stall = argc > 4 ? argv[4] : NULL;
	r = bw_subscribe(&sub, &copts, &opts, on_note, &s);
	if (r < 0) {
		printf("subscribe: %s\n", strerror(-r));
		return 1;
	}
	printf("subscribed\n");
	fflush(stdout);
	while (stall && access(stall, F_OK) == 0)
		usleep(100000);
	last = now();
	while (!s.done && now() - last < secs) {
		struct pollfd p = { .fd = bw_subscription_fd(sub), .events = POLLIN };

		if (poll(&p, 1, 200) < 0 && errno != EINTR)
			break;
		r = bw_subscription_dispatch(sub);
		if (r < 0) {
			printf("dispatch: %s\n", strerror(-r));
			break;
		}
		if (r > 0 && stall)
			last = now(); /* draining after a stall: stop only when quiet */
		fflush(stdout);
	}
	printf("dropped=%llu calls=%u\n", (unsigned long long)bw_subscription_dropped(sub), s.calls);
	bw_subscription_free(sub);
	return 0;
}
