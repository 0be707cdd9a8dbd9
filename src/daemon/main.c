// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulwarkd: owns bulwark's kernel objects, installs policies, and turns
 * ring-buffer records into JSON events. Enforcement lives in pinned kernel
 * objects, so this process may die or restart without a gap.
 *
 * This file: options, start-up, and the event loop. The parts are listed
 * in daemon.h.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "../lib/trust.h"
#include "daemon.h"
#include "log.h"

struct options {
	const char *policy;
	const char *events;
	bool verbose, probe;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bulwarkd [OPTIONS]\n"
		"\n"
		"Enforce a bulwark policy with BPF LSM programs and report events.\n"
		"\n"
		"  -p, --policy PATH     policy file or directory of *.rules to load at start\n"
		"                        (default: %s, when it exists)\n"
		"  -e, --events FILE     append JSON events to FILE (default: stdout)\n"
		"  -s, --socket PATH     control socket (default: %s)\n"
		"      --state-dir DIR   runtime state and the lock file (default: /run/bulwark)\n"
		"      --ready-fd N      write \"READY=1\\n\" to fd N and close it once the policy is\n"
		"                        in force and the socket listens (also: $NOTIFY_SOCKET)\n"
		"      --trust-db PATH   the trust database `deny exec untrusted` and `sha256:`\n"
		"                        rules read (default: $BULWARK_TRUST_DB, else %s);\n"
		"                        its directory also keeps the client layers' persistent\n"
		"                        rules (layers.json), restored at start\n"
		"  -v, --verbose         debug logging, including libbpf's\n"
		"      --probe           check that this kernel runs bulwark's BPF LSM programs,\n"
		"                        then exit (0: yes, 1: no, with the reason)\n"
		"  -h, --help            show this help\n"
		"      --version         show the version\n"
		"\n"
		"Programs and maps are pinned under %s and keep enforcing when the\n"
		"daemon stops; a restarted daemon adopts them, and another build (an upgrade)\n"
		"takes over from them without a gap. bulwarkd holds the links itself, pins\n"
		"them again if removed, and reports in `bulwark status` whether the kernel\n"
		"still runs them. `bulwark unload` removes them.\n"
		"SIGHUP reloads the policy from the path it was loaded from; a bad file\n"
		"keeps the policy in force. One bulwarkd runs at a time.\n"
		"\n"
		"Exit status: 0 after `bulwark unload`, SIGTERM or SIGINT, 1 on a startup error\n"
		"(bad policy, BPF LSM unavailable, another bulwarkd running), 2 on bad usage.\n",
		BULWARK_POLICY_DIR, BULWARK_SOCKET_PATH, BW_TRUST_DB_PATH, BW_PIN_ROOT);
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run task id at due_ms (0: cancel). An earlier time already set wins. */
void schedule(struct daemon *d, enum task_id id, int64_t due_ms)
{
	struct task *t = &d->tasks[id];

	if (!due_ms || !t->due_ms || due_ms < t->due_ms)
		t->due_ms = due_ms;
}

static void drift_check_task(struct daemon *d)
{
	check_drift(d);
}

/*
 * Every path of the policy (100,000 stats for 100,000 rules) only when the
 * watch can have missed a change, or when DRIFT_FULL_PERIOD_MS passed;
 * otherwise what inotify and the mount table report is all there is.
 */
static void drift_period_task(struct daemon *d)
{
	schedule(d, TASK_DRIFT_PERIOD, now_ms() + DRIFT_PERIOD_MS);
	if (d->rewatch || now_ms() - d->drift_checked_ms >= DRIFT_FULL_PERIOD_MS || drift_watch_blind(&d->drift))
		check_drift(d);
}

static void watchdog_task(struct daemon *d)
{
	schedule(d, TASK_WATCHDOG, now_ms() + WATCHDOG_PERIOD_MS);
	watchdog_run(&d->watchdog, &d->kernel);
}

static void emit_event(void *ctx, struct json_object *o)
{
	publish(ctx, o);
}

static const struct task task_table[TASK_COUNT] = {
	[TASK_DRIFT_CHECK] = { "drift check", drift_check_task, 0 },
	[TASK_DRIFT_PERIOD] = { "periodic drift check", drift_period_task, 0 },
	[TASK_WATCHDOG] = { "integrity check", watchdog_task, 0 },
};

/* Milliseconds until the next task is due, for epoll_wait (-1: none). */
static int next_timeout(const struct daemon *d)
{
	int64_t due = 0, wait;

	for (int i = 0; i < TASK_COUNT; i++)
		if (d->tasks[i].due_ms && (!due || d->tasks[i].due_ms < due))
			due = d->tasks[i].due_ms;
	if (!due)
		return -1;
	wait = due - now_ms();
	return wait < 0 ? 0 : wait > INT32_MAX ? INT32_MAX : (int)wait;
}

static void run_due_tasks(struct daemon *d)
{
	for (int i = 0; i < TASK_COUNT && !d->quit; i++) {
		struct task *t = &d->tasks[i];

		if (t->due_ms && now_ms() >= t->due_ms) {
			t->due_ms = 0; /* a task that repeats schedules itself again */
			t->run(d);
		}
	}
}

/*
 * A long compile's tick: what the kernel reported meanwhile goes out now
 * (decoded with the tables in force: the new policy is not committed yet).
 */
static void drain_events(void *ctx)
{
	struct daemon *d = ctx;

	if (d->rb)
		ring_buffer__consume(d->rb);
	events_flush(d);
}

/* SIGHUP: what `bulwark policy load` of the loaded path would do. */
static void reload(struct daemon *d)
{
	char *diag = NULL, *path;

	if (!d->policy_path) {
		bw_log(LOG_WARNING, "SIGHUP: no policy was loaded from a path; nothing to reload");
		return;
	}
	/* load_policy replaces d->policy_path on success. */
	path = strdup(d->policy_path);
	if (!path)
		return;
	bw_log(LOG_NOTICE, "SIGHUP: reloading %s", path);
	if (load_policy(d, path, "sighup", NULL, &diag) < 0 && diag)
		fputs(diag, stderr);
	free(diag);
	free(path);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		reload(d);
		return;
	}
	bw_log(LOG_NOTICE, "signal %u: exiting; enforcement stays pinned", si.ssi_signo);
	d->quit = true;
}

static void dispatch(struct daemon *d, uint64_t tag, uint32_t events)
{
	if (tag == SIGNAL_TAG) {
		on_signal(d);
	} else if (tag == LISTEN_TAG) {
		server_accept(&d->server);
	} else if (tag == RINGBUF_TAG) {
		ring_buffer__consume(d->rb);
	} else if (tag == MOUNTS_TAG) {
		/* Something was mounted or unmounted: a path may name another file now, */
		bw_kernel_check_fully(&d->kernel); /* and a pin another object */
		schedule(d, TASK_DRIFT_CHECK, now_ms() + (d->settle_ms ? d->settle_ms : DRIFT_SETTLE_MS));
	} else if (tag == DRIFT_TAG) {
		unsigned news = drift_drain(&d->drift);

		d->rewatch |= news & DRIFT_REWATCH;
		if (news)
			schedule(d, TASK_DRIFT_CHECK, now_ms() + (d->settle_ms ? d->settle_ms : DRIFT_SETTLE_MS));
	} else if (tag >= CONN_TAG && tag < CONN_TAG + CLIENTS_MAX) {
		server_io(&d->server, tag - CONN_TAG, events);
	}
}

static int run(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.u64 = SIGNAL_TAG;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sig_fd, &ev);
	ev.data.u64 = RINGBUF_TAG;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->rb), &ev);
	watch_drift(d);
	/* Mounts: the mount table's poll says EPOLLPRI when it changed (proc(5)). */
	d->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	ev.events = EPOLLPRI;
	ev.data.u64 = MOUNTS_TAG;
	if (d->mounts_fd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->mounts_fd, &ev) < 0)
		bw_log(LOG_WARNING, "cannot watch the mount table (%s): a mount over a policy path is found within %d min",
		       strerror(errno), DRIFT_FULL_PERIOD_MS / 60000);
	/* Changes made while no daemon watched. */
	schedule(d, TASK_DRIFT_CHECK, now_ms());
	schedule(d, TASK_DRIFT_PERIOD, now_ms() + DRIFT_PERIOD_MS);
	d->watchdog.emit = emit_event;
	d->watchdog.ctx = d;
	schedule(d, TASK_WATCHDOG, now_ms());

	while (!d->quit) {
		struct epoll_event evs[16];
		int n, saved_errno;

		events_flush(d); /* what this turn published, before waiting */
		n = epoll_wait(d->epfd, evs, 16, next_timeout(d));
		saved_errno = errno;

		run_due_tasks(d);
		if (n < 0 && saved_errno != EINTR)
			return -saved_errno;
		for (int i = 0; i < n && !d->quit; i++)
			dispatch(d, evs[i].data.u64, evs[i].events);
		server_reap(&d->server);
	}
	/* Drain what the kernel already reported before leaving. */
	if (!d->unloaded)
		ring_buffer__consume(d->rb);
	events_flush(d);
	return 0;
}

/* Returns 0 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct daemon *d, struct options *o)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "ready-fd", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "probe", no_argument, NULL, 'P' },
		{ "trust-db", required_argument, NULL, 'T' },
		{}
	};
	char *end;
	long fd;
	int opt;

	while ((opt = getopt_long(argc, argv, "p:e:s:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': o->policy = optarg; break;
		case 'e': o->events = optarg; break;
		case 's': d->socket_path = optarg; break;
		case 'S': d->state_dir = optarg; break;
		case 'v': o->verbose = true; break;
		case 'P': o->probe = true; break;
		case 'T': d->trust.db = optarg; break;
		case 'R':
			errno = 0;
			fd = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || fd < 0 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0) {
				fprintf(stderr, "bulwarkd: --ready-fd '%s' is not an open file descriptor\n", optarg);
				return 2;
			}
			d->ready_fd = (int)fd;
			break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("bulwarkd %d.%d.%d\n", BULWARK_VERSION_MAJOR, BULWARK_VERSION_MINOR,
				 BULWARK_VERSION_PATCH); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bulwarkd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/*
 * One bulwarkd at a time: a second one would fight the first over the
 * pins and the socket. The lock is taken before either is touched, and
 * dies with the process, so a crash leaves nothing stale.
 */
static int take_lock(struct daemon *d)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bulwarkd.lock", d->state_dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0) {
		bw_log(LOG_ERR, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int r = -errno;

		n = pread(d->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		if (r == -EWOULDBLOCK)
			bw_log(LOG_ERR, "another bulwarkd (pid %s) is running: it holds %s; not starting",
			       pid[0] ? pid : "?", path);
		else
			bw_log(LOG_ERR, "cannot lock %s: %s", path, strerror(-r));
		return r;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, pid, n, 0) != n)
		bw_log(LOG_WARNING, "cannot record our pid in %s", path);
	return 0;
}

/* A small file (a signed payload), whole, or NULL. */
static char *read_small_file(const char *path)
{
	char *buf = calloc(1, 8192);
	FILE *f = fopen(path, "re");
	size_t n;

	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 8191, f);
	fclose(f);
	if (n == 8191) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify_socket(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = 0; /* an abstract socket */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		bw_log(LOG_WARNING, "cannot notify %s: %s", path, strerror(errno));
	close(fd);
}

/* The policy is in force and the socket listens: say so, once. */
static void signal_ready(struct daemon *d)
{
	static const char ready[] = "READY=1\n";

	if (d->ready_fd >= 0) {
		if (write(d->ready_fd, ready, sizeof(ready) - 1) != sizeof(ready) - 1)
			bw_log(LOG_WARNING, "cannot write to --ready-fd %d: %s", d->ready_fd, strerror(errno));
		close(d->ready_fd);
		d->ready_fd = -1;
	}
	notify_socket("READY=1");
}

/*
 * Compile before touching the kernel: a bad policy at first start must
 * leave nothing attached. With pins present, the policy they hold keeps
 * enforcing, so a bad file only costs the update. Returns 1 when a policy
 * is pending, 0 when none, <0 to exit.
 */
static int prepare_start_policy(struct daemon *d, const char *policy, struct prepared *pending)
{
	char *diag = NULL;
	int r = prepare_policy(policy, NULL, NULL, pending, &diag);

	/* A restored layer must never keep the administrator's policy out (decision 97). */
	if (r < 0 && layers_restored_count(d)) {
		if (diag && diag[0])
			fputs(diag, stderr);
		free(diag);
		diag = NULL;
		layers_forget_restored(d);
		r = prepare_policy(policy, NULL, NULL, pending, &diag);
	}
	if (diag && diag[0])
		fputs(diag, stderr);
	if (r < 0)
		rejected_event(d, "start", policy, diag);
	free(diag);
	if (r == 0)
		return 1;
	if (access(BW_PIN_ROOT "/bw_policy", F_OK) < 0) {
		bw_log(LOG_ERR, "policy %s rejected; nothing was loaded", policy);
		return r;
	}
	bw_log(LOG_ERR, "policy %s rejected; the pinned policy stays in force", policy);
	return 0;
}

/*
 * An upgrade without --policy: the new build takes over the policy the old
 * one was loaded from. Without one it cannot take over: the old build stays
 * in force and this start removes what it staged. 1, or <0 to exit.
 */
static int takeover_policy(struct daemon *d, const char **policy, struct prepared *pending)
{
	char *diag = NULL;
	int r = -ENOENT;

	if (d->policy_path) {
		*policy = d->policy_path;
		r = prepare_policy(*policy, NULL, NULL, pending, &diag);
		if (r < 0 && diag)
			fputs(diag, stderr);
		free(diag);
	}
	if (r < 0) {
		bw_log(LOG_ERR, "cannot take over from the pinned build: no policy to install (give --policy); the pinned build stays in force");
		bw_kernel_unload(&d->kernel);
		return r;
	}
	return 1;
}

/*
 * A bulwarkd that starts while a `protect self` policy is pinned (the last
 * one crashed) may not swap in another policy on its own say: the same
 * rule as a request, a signed payload (PATH.sig) when locked, nothing
 * otherwise. The pinned policy stays in force.
 */
static bool start_policy_authorized(struct daemon *d, const char *policy, struct prepared *pending)
{
	struct bw_policy_info info;
	char hex[65], pinned[65], why[512] = "", *sig_path = NULL, *sig = NULL;
	uint64_t version = 0;
	bool ok;

	if (!protection_on(d) || bw_kernel_policy_info(&d->kernel, &info) < 0)
		return true;
	bw_hex(pending->policy->sha256, sizeof(pending->policy->sha256), hex);
	bw_hex(info.sha256, sizeof(info.sha256), pinned);
	if (strcmp(hex, pinned) == 0)
		return true; /* the policy in force, again */
	if (asprintf(&sig_path, "%s.sig", policy) >= 0)
		sig = read_small_file(sig_path);
	ok = authorize_change(d, "policy", hex, sig, &version, why, sizeof(why)) == 0;
	if (ok)
		record_version(d, version);
	else
		bw_log(LOG_ERR, "policy %s refused at start: %s; the pinned policy stays in force", policy, why);
	free(sig_path);
	free(sig);
	return ok;
}

/* Install the start policy into the kernel just opened. <0 to exit. */
static int commit_start_policy(struct daemon *d, const char *policy, struct prepared *pending)
{
	char *diag = NULL;
	int r = commit_policy(d, policy, pending, "start", &diag);

	if (r < 0) {
		fputs(diag ? diag : "", stderr);
		rejected_event(d, "start", policy, diag);
		/* A staged generation that cannot enforce goes; the pinned one stays. */
		if (!d->kernel.adopted || d->kernel.handover) {
			bw_kernel_unload(&d->kernel);
			free(diag);
			return r;
		}
	}
	free(diag);
	return 0;
}

/* Everything between the options and the loop. 0, or <0 to exit 1. */
static int start(struct daemon *d, const struct options *o, const char *policy)
{
	struct prepared pending = { 0 };
	char why[1024] = "";
	sigset_t mask;
	int r = 0, have_pending = 0;

	mkdir(d->state_dir, 0700);
	r = take_lock(d);
	if (r == 0 && socket_answers(d->socket_path)) {
		bw_log(LOG_ERR, "another bulwarkd answers on %s; not starting", d->socket_path);
		r = -EADDRINUSE;
	}
	/* Persistent client layers before the first compile: the first swap holds them. */
	if (r == 0)
		layers_restore(d);
	if (r == 0 && policy)
		have_pending = r = prepare_start_policy(d, policy, &pending);
	if (r < 0)
		goto out;
	r = bw_kernel_open(&d->kernel, o->verbose, why, sizeof(why));
	if (r < 0) {
		bw_log(LOG_ERR, "%s", why);
		goto out;
	}
	/* Decision 90: can this kernel hash images for sha256: rules? */
	d->hash_probe = bw_kernel_hash_probe(&d->kernel, d->hash_why, sizeof(d->hash_why));
	if (d->hash_probe < 0)
		bw_log(LOG_WARNING, "IMA hashing unavailable, policies with sha256: rules will be refused: %s",
		       d->hash_why);
	if (d->kernel.adopted || d->kernel.handover)
		restore_state(d);
	/*
	 * The trust map before any policy: a policy with `deny exec untrusted`
	 * must never meet an empty map. A database that cannot be read leaves
	 * the map as it was (pinned: what the last daemon installed). A start
	 * policy with trust rules syncs when it commits.
	 */
	if (!have_pending)
		trust_sync(d, "start");
	if (d->kernel.handover && !have_pending)
		have_pending = r = takeover_policy(d, &policy, &pending);
	if (r < 0)
		goto out;
	if (have_pending && !start_policy_authorized(d, policy, &pending)) {
		prepared_free(&pending);
		have_pending = 0;
	}
	if (have_pending && (r = commit_start_policy(d, policy, &pending)) < 0)
		goto out;
	/* The old build's events are decoded with its generation's rule table. */
	if (d->kernel.handover && (r = bw_kernel_finish_handover(&d->kernel, on_ringbuf_record, d)) < 0)
		goto out;
	if (!bw_kernel_has_policy(&d->kernel))
		bw_log(LOG_WARNING, "no policy loaded: every operation is allowed until `bulwark policy load`");
	d->rb = ring_buffer__new(d->kernel.events_fd, on_ringbuf_record, d, NULL);
	if (!d->rb) {
		r = -errno;
		bw_log(LOG_ERR, "cannot open the event ring buffer: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->epfd = d->server.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->epfd < 0) {
		r = -errno;
		goto out;
	}
	r = server_listen(&d->server);
	if (r < 0) {
		bw_log(LOG_ERR, "cannot listen on %s: %s", d->socket_path,
		       r == -EADDRINUSE ? "another bulwarkd answers there" : strerror(-r));
		goto out;
	}
	grants_apply_socket(d); /* the policy installed before the socket existed may grant others */
	bw_log(LOG_INFO, "%s; control socket %s", d->kernel.adopted ? "adopted pinned programs" : "attached",
	       d->socket_path);
out:
	prepared_free(&pending);
	return r;
}

static void cleanup(struct daemon *d)
{
	d->quit = true; /* closing clients now swaps nothing in */
	server_close(&d->server);
	layers_free(d);
	grants_free(d);
	events_free(d);
	ring_buffer__free(d->rb);
	if (d->kernel.skel)
		bw_kernel_close(&d->kernel);
	rules_free(d);
	trust_free(d);
	json_object_put(d->policy_files);
	free(d->policy_path);
	drift_free(&d->drift);
	free(d->last_load_error);
	if (d->events_fd != STDOUT_FILENO)
		close(d->events_fd);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->mounts_fd >= 0)
		close(d->mounts_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->ready_fd >= 0)
		close(d->ready_fd); /* unsaid: a reader sees end of file, not READY */
}

int main(int argc, char **argv)
{
	struct daemon d = {
		.socket_path = BULWARK_SOCKET_PATH,
		.state_dir = "/run/bulwark",
		.events_fd = STDOUT_FILENO,
		.sig_fd = -1,
		.epfd = -1,
		.lock_fd = -1,
		.ready_fd = -1,
		.mounts_fd = -1,
		.drift.watch_fd = -1,
		.server = { .listen_fd = -1, .epfd = -1, .ctx = &d, .on_line = control_on_line,
			    .keeps_slot = control_keeps_slot,
			    .admit = grants_admit,
			    .on_close = layers_on_close,
			    .on_writable = events_pump },
	};
	struct options o = { 0 };
	char *policy_abs = NULL, *events_abs = NULL, why[1024] = "";
	sigset_t mask;
	const char *policy;
	int r, ret = 1;

	/*
	 * A fixed threshold: every allocation of 128 KiB or more is a mapping
	 * of its own, handed back whole when freed. glibc's default moves
	 * the threshold up to the largest block freed (a compile frees blocks
	 * of many MiB), after which the big tables a policy keeps come from
	 * the heap, among the next compile's temporaries, and pin its pages.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	layers_attach(&d);

	memcpy(d.tasks, task_table, sizeof(d.tasks));
	r = parse_options(argc, argv, &d, &o);
	if (r)
		return r < 0 ? 0 : r;
	d.server.path = d.socket_path;
	/* explain (offline code, in libbulwark) then reads the same database. */
	if (d.trust.db)
		setenv(BW_TRUST_DB_ENV, d.trust.db, 1);
	set_self_places(d.state_dir, d.socket_path);
	set_self_trust_db(trust_status_db(&d));
	if (layers_set_file(&d, trust_status_db(&d)) < 0)
		return 1;
	set_compile_tick(drain_events, &d);
	bw_log_init(o.verbose ? LOG_DEBUG : LOG_INFO);
	if (geteuid() != 0) {
		bw_log(LOG_ERR, "must run as root: it loads BPF LSM programs");
		return 1;
	}
	if (o.probe) {
		if (bw_kernel_probe(o.verbose, why, sizeof(why)) < 0) {
			bw_log(LOG_ERR, "%s", why);
			return 1;
		}
		bw_log(LOG_INFO, "this kernel runs bulwark's BPF LSM programs");
		return 0;
	}
	d.policy_files = json_object_new_array();
	drift_init(&d.drift);
	if (o.events) {
		if (events_open(&d, o.events) < 0) {
			bw_log(LOG_ERR, "cannot open %s: %s", o.events, strerror(errno));
			goto out;
		}
		/* The event log is evidence: `protect self` keeps others from rewriting it. */
		events_abs = realpath(o.events, NULL);
		set_self_events(events_abs);
	}
	/* The drop-in directory is the default policy when it exists. */
	policy = o.policy;
	if (!policy && access(BULWARK_POLICY_DIR, F_OK) == 0)
		policy = BULWARK_POLICY_DIR;
	/* Events and status name rule files absolutely, whatever our cwd. */
	if (policy && (policy_abs = realpath(policy, NULL)))
		policy = policy_abs;
	/*
	 * SIGHUP is blocked from the start: during the long start-up it must
	 * not kill us (its default action); signalfd picks it up once we run.
	 * SIGTERM and SIGINT still stop a start-up at once.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (start(&d, &o, policy) < 0)
		goto out;
	events_flush(&d); /* what start-up reported is in the file before anyone is told we are ready */
	signal_ready(&d);
	ret = run(&d) < 0 ? 1 : 0;
out:
	cleanup(&d);
	free(policy_abs);
	free(events_abs);
	return ret;
}
