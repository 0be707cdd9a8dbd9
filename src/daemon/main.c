// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulwarkd: owns bulwark's kernel objects, installs policies, and turns
 * ring-buffer records into JSON events. Enforcement lives in pinned kernel
 * objects, so this process may die or restart without a gap.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "../lib/compile.h"
#include "../lib/internal.h"
#include "drift.h"
#include "kernel.h"
#include "log.h"
#include "watchdog.h"

#define BACKLOG_MAX 1024
#define CLIENTS_MAX 64
#define REQUEST_MAX 65536
/* Let a burst of renames (an upgrade, a service restart) settle before looking. */
#define DRIFT_SETTLE_MS 200
/* Drifted paths listed in status; drift_count has them all. */
#define DRIFT_LIST_MAX 32
/* Diagnostics carried by a `rejected` event, at most. */
#define DIAG_EVENT_MAX 8192
/* Also look now and then: a rename further up than the watched directory sends no event. */
#define DRIFT_PERIOD_MS 30000

static const char *const counter_names[BW_CNT_COUNT] = {
	[BW_CNT_DECISIONS] = "decisions",   [BW_CNT_ALLOWED] = "allowed",
	[BW_CNT_DENIED] = "denied",         [BW_CNT_WOULD_DENY] = "would_deny",
	[BW_CNT_AUDITED] = "audited",       [BW_CNT_EVENTS] = "events",
	[BW_CNT_RB_DROPS] = "ringbuf_drops", [BW_CNT_HELPER_ERR] = "helper_errors",
	[BW_CNT_NO_POLICY] = "no_policy",
};

struct client {
	int fd;
	pid_t pid;            /* the peer, as the kernel vouched at accept */
	char exe[PATH_MAX];   /* its program then: the pid may be gone when an event names it */
	bool follower;
	size_t len;
	char buf[REQUEST_MAX];
};

struct daemon {
	struct bw_kernel kernel;
	struct bw_rule_table rules;
	struct json_object *policy_files; /* array of paths of the active policy */
	char *policy_path;                /* what the active policy was loaded from */
	struct drift drift;               /* what its paths resolved to */
	struct watchdog watchdog;         /* what the kernel actually runs */
	int64_t watchdog_at_ms;           /* the next integrity check */
	int64_t rescan_at_ms;             /* CLOCK_MONOTONIC; 0: no drift check pending */
	int64_t periodic_at_ms;           /* the next drift check without an event */
	uint64_t failed_drift;            /* fingerprint of the drift a re-resolution failed on */
	size_t last_missing;              /* missing paths at the last check: rewatch on change */
	int64_t settle_ms;                /* wait after an event: ten times the last check's cost */
	bool reresolve_warned;            /* "policy text changed" logged for this generation */
	bool rewatch;                     /* a watched directory went away: watch anew at the next check */
	char *last_load_error;
	const char *socket_path;
	const char *state_dir;
	FILE *events_out;
	int epfd, listen_fd, sig_fd;
	struct ring_buffer *rb;
	struct client *clients[CLIENTS_MAX];
	char *backlog[BACKLOG_MAX]; /* recent event lines, a ring */
	size_t backlog_head, backlog_n;
	uint64_t subscriber_drops;
	const struct client *requester; /* whose request is being served, for policy events */
	bool quit, unloaded;
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
		"      --state-dir DIR   runtime state (default: /run/bulwark)\n"
		"  -v, --verbose         debug logging, including libbpf's\n"
		"      --probe           check that this kernel runs bulwark's BPF LSM programs,\n"
		"                        then exit (0: yes, 1: no, with the reason)\n"
		"  -h, --help            show this help\n"
		"      --version         show the version\n"
		"\n"
		"Programs and maps are pinned under %s and keep enforcing when the\n"
		"daemon stops; a restarted daemon adopts them. `bulwark unload` removes them.\n"
		"\n"
		"Exit status: 0 after `bulwark unload` or SIGTERM, 1 on a startup error\n"
		"(bad policy, BPF LSM unavailable), 2 on bad usage.\n",
		BULWARK_POLICY_DIR, BULWARK_SOCKET_PATH, BW_PIN_ROOT);
}

static int64_t boot_to_real_ns(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000ll + (rt.tv_nsec - bt.tv_nsec);
}

/* Best effort, never blocking: a slow subscriber loses events, counted. */
static void send_line(struct daemon *d, struct client *c, const char *prefix, const char *body,
		      const char *suffix, bool may_drop)
{
	char *line = NULL;
	int n = asprintf(&line, "%s%s%s\n", prefix, body, suffix);

	if (n < 0)
		return;
	if (send(c->fd, line, n, MSG_NOSIGNAL | (may_drop ? MSG_DONTWAIT : 0)) != n && may_drop)
		d->subscriber_drops++;
	free(line);
}

static void send_json(struct daemon *d, struct client *c, struct json_object *o)
{
	send_line(d, c, "", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), "", false);
}

/*
 * A process that started before bulwark has no exe in task storage. Ask
 * /proc while it likely still lives, and say where the answer came from.
 */
static void fill_exe_from_proc(struct json_object *o, const struct bw_event *e)
{
	struct json_object *proc, *flags;
	char link[64], exe[PATH_MAX];
	ssize_t n;

	if (!(e->flags & BW_EVF_EXE_UNKNOWN) || !json_object_object_get_ex(o, "process", &proc))
		return;
	snprintf(link, sizeof(link), "/proc/%u/exe", e->tgid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	json_object_object_add(proc, "exe", json_object_new_string(exe));
	if (json_object_object_get_ex(o, "flags", &flags))
		json_object_array_add(flags, json_object_new_string("exe-from-proc"));
}

static void publish(struct daemon *d, struct json_object *o);
static bool program_of(const char *link, char *buf, size_t len);

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct json_object *o;

	if (size < sizeof(struct bw_event)) {
		bw_log(LOG_WARNING, "short event record (%zu bytes)", size);
		return 0;
	}
	o = bw_event_to_json(data, &d->rules, boot_to_real_ns());
	fill_exe_from_proc(o, data);
	publish(d, o);
	json_object_put(o);
	return 0;
}

/* An upgrade drains the old generation's ring buffer with the old rule table. */
struct handover_drain {
	struct daemon *d;
	struct bw_rule_table *rules;
};

static int on_old_event(void *ctx, void *data, size_t size)
{
	struct handover_drain *hd = ctx;
	struct bw_rule_table mine = hd->d->rules;

	hd->d->rules = *hd->rules;
	on_event(hd->d, data, size);
	hd->d->rules = mine;
	return 0;
}

/* An event to the events file, the backlog and every follower. */
static void publish(struct daemon *d, struct json_object *o)
{
	const char *text;
	char *copy;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	fprintf(d->events_out, "%s\n", text);
	fflush(d->events_out);

	copy = strdup(text);
	if (copy) {
		size_t slot = (d->backlog_head + d->backlog_n) % BACKLOG_MAX;

		if (d->backlog_n == BACKLOG_MAX) {
			free(d->backlog[d->backlog_head]);
			d->backlog_head = (d->backlog_head + 1) % BACKLOG_MAX;
			slot = (d->backlog_head + d->backlog_n - 1) % BACKLOG_MAX;
		} else {
			d->backlog_n++;
		}
		d->backlog[slot] = copy;
	}
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (d->clients[i] && d->clients[i]->follower)
			send_line(d, d->clients[i], "{\"event\":", text, "}", true);
}

static void publish_event(void *ctx, struct json_object *o)
{
	publish(ctx, o);
}

/*
 * A change of the policy in force, or of what it names, as an event
 * (docs/events.md, "Policy events"): the audit trail of who changed
 * enforcement and when. `what` is consumed.
 */
static void policy_event(struct daemon *d, const char *event, const char *reason,
			 struct json_object *what)
{
	struct json_object *o = json_object_new_object(), *by = NULL;
	char when[64];

	bw_time_now(when, sizeof(when));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "type", json_object_new_string("policy"));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	if (d->requester) {
		by = json_object_new_object();
		json_object_object_add(by, "pid", json_object_new_int(d->requester->pid));
		json_object_object_add(by, "exe", d->requester->exe[0] ?
							  json_object_new_string(d->requester->exe) : NULL);
	}
	json_object_object_add(o, "by", by);
	json_object_object_foreach(what, k, v)
		json_object_object_add(o, k, json_object_get(v));
	json_object_put(what);
	publish(d, o);
	json_object_put(o);
}

static char *state_path(struct daemon *d)
{
	char *p = NULL;

	if (asprintf(&p, "%s/policy.json", d->state_dir) < 0)
		return NULL;
	return p;
}

/* The rule table survives restarts so events keep naming file:line. */
static void save_state(struct daemon *d)
{
	struct json_object *o = bw_rule_table_to_json(&d->rules);
	char *path = state_path(d), *tmp = NULL;

	json_object_object_add(o, "files", json_object_get(d->policy_files));
	json_object_object_add(o, "path", d->policy_path ? json_object_new_string(d->policy_path) : NULL);
	json_object_object_add(o, "resolved", drift_to_json(&d->drift));
	if (path && asprintf(&tmp, "%s.tmp", path) >= 0 &&
	    json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) == 0 && rename(tmp, path) == 0) {
		/* saved */
	} else {
		bw_log(LOG_WARNING, "cannot save %s: events after a restart will lack rule text",
		       path ? path : "state");
	}
	free(tmp);
	free(path);
	json_object_put(o);
}

static void restore_state(struct daemon *d)
{
	struct bw_policy_info info;
	struct json_object *o = NULL, *files;
	char *path = state_path(d), hex[65];

	if (bw_kernel_policy_info(&d->kernel, &info) < 0 || !info.generation)
		goto out;
	bw_hex(info.sha256, sizeof(info.sha256), hex);
	o = path ? json_object_from_file(path) : NULL;
	if (!o || bw_rule_table_from_json(o, &d->rules) < 0 || strcmp(d->rules.sha256, hex) != 0) {
		bw_rule_table_free(&d->rules);
		bw_log(LOG_WARNING, "active policy %.12s has no matching %s: events will show rule ids only",
		       hex, path ? path : "state");
		snprintf(d->rules.sha256, sizeof(d->rules.sha256), "%s", hex);
		goto out;
	}
	if (json_object_object_get_ex(o, "files", &files)) {
		json_object_put(d->policy_files);
		d->policy_files = json_object_get(files);
	}
	if (json_object_object_get_ex(o, "path", &files) && json_object_get_string(files)) {
		free(d->policy_path);
		d->policy_path = strdup(json_object_get_string(files));
	}
	if (json_object_object_get_ex(o, "resolved", &files))
		drift_from_json(&d->drift, files);
	bw_log(LOG_INFO, "adopted policy %.12s (%u rules, generation %llu)", hex, info.rules,
	       (unsigned long long)info.generation);
out:
	json_object_put(o);
	free(path);
}

/* A policy compiled in user space, not yet in the kernel. */
struct prepared {
	struct bw_policy *policy;
	struct bw_compiled compiled;
	struct bw_rule_table table;
};

static void prepared_free(struct prepared *pp)
{
	bw_rule_table_free(&pp->table);
	bw_compiled_free(&pp->compiled);
	bw_policy_free(pp->policy);
	memset(pp, 0, sizeof(*pp));
}

static char *render_diags(const struct bw_policy *p, const char *path, const char *why)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (p)
		bw_policy_print_diags(p, f);
	if (why && why[0])
		fprintf(f, "%s: error: %s\n", path, why);
	fclose(f);
	return text;
}

/* A process's program, as a query names it: no " (deleted)" after an upgrade. */
static bool program_of(const char *link, char *buf, size_t len)
{
	ssize_t n = readlink(link, buf, len - 1);
	size_t cut = strlen(" (deleted)");

	if (n <= 0)
		return false;
	buf[n] = 0;
	if ((size_t)n > cut && strcmp(buf + n - cut, " (deleted)") == 0)
		buf[n - cut] = 0;
	return true;
}

/* This process's cgroup v2 path ("0::/system.slice/bulwarkd.service"). */
static bool own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

/*
 * bulwarkd loads BPF programs when it starts without pinned ones (after a
 * boot, an unload, or an upgrade that adds a hook), libbpf loads a probe
 * program at every start, and the verifier asks the lockdown hook about
 * bpf-read-kernel while it checks bulwark's programs. A policy that refuses
 * bulwarkd either, as it runs now (program, parent, cgroup, uid, gid),
 * would leave it unable to start again: refuse that policy instead, naming
 * the rule. Returns 0, or -EPERM with why set.
 */
static int refuses_daemon(const struct prepared *pp, char *why, size_t len)
{
	static const char *const needs[] = { "bpf any", "lockdown bpf-read-kernel" };
	char self[PATH_MAX], parent[PATH_MAX], cgroup[PATH_MAX + 8], link[64];
	char query[3 * PATH_MAX + 128];
	int n = 0;

	if (!program_of("/proc/self/exe", self, sizeof(self))) {
		snprintf(why, len, "error: cannot read /proc/self/exe to check that this policy lets bulwarkd restart\n");
		return -EPERM;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)getppid());
	n = snprintf(query, sizeof(query), " as exe=%s", self);
	if (getppid() > 1 && program_of(link, parent, sizeof(parent)))
		n += snprintf(query + n, sizeof(query) - n, " parent=%s", parent);
	if (own_cgroup(cgroup, sizeof(cgroup)))
		n += snprintf(query + n, sizeof(query) - n, " cgroup=%s", cgroup);
	snprintf(query + n, sizeof(query) - n, " uid=%u gid=%u", (unsigned)geteuid(), (unsigned)getegid());

	for (size_t i = 0; i < sizeof(needs) / sizeof(*needs); i++) {
		struct json_object *o = NULL, *rule;
		char *diag = NULL, *q = NULL;
		const char *action, *file;
		bool refused;

		if (asprintf(&q, "%s%s", needs[i], query) < 0)
			abort();
		if (bw_explain(pp->compiled.entries, pp->compiled.n, &pp->table, q, &o, &diag) < 0) {
			/* Fail closed: a policy we cannot check might lock bulwarkd out. */
			snprintf(why, len, "error: cannot check that this policy lets bulwarkd restart (`%s`): %s", q,
				 diag ? diag : "explain failed\n");
			free(diag);
			free(q);
			return -EPERM;
		}
		free(diag);
		free(q);
		action = json_object_get_string(json_object_object_get(o, "action"));
		refused = action && strcmp(action, "blocked") == 0;
		rule = json_object_object_get(o, "rule");
		file = json_object_get_string(json_object_object_get(rule, "file"));
		if (refused)
			snprintf(why, len,
				 "%s:%d:1: error: this policy refuses bulwarkd itself `%s`: it could not load its programs at its next start\n"
				 "hint: allow it, e.g. `allow %s from exe=%s`\n",
				 file ? file : "policy", json_object_get_int(json_object_object_get(rule, "line")),
				 needs[i], needs[i], self);
		json_object_put(o);
		if (refused)
			return -EPERM;
	}
	return 0;
}

/* Parse and compile: everything that can fail before the kernel is asked. */
/*
 * keep: re-resolving (identities to keep, see drift.h); expect_hex: the
 * sha256 the text must still have, else -ESTALE before anything compiles.
 */
static int prepare_policy(const char *path, const struct drift *keep, const char *expect_hex,
			  struct prepared *pp, char **ret_diag)
{
	char why[PATH_MAX + 512] = "";
	int r;

	memset(pp, 0, sizeof(*pp));
	pp->policy = bw_policy_new();
	if (!pp->policy)
		return -ENOMEM;
	bw_policy_load_path(pp->policy, path);
	bw_policy_finish(pp->policy);
	if (expect_hex) {
		char hex[65];

		bw_hex(pp->policy->sha256, sizeof(pp->policy->sha256), hex);
		if (strcmp(hex, expect_hex) != 0) {
			prepared_free(pp);
			return -ESTALE;
		}
	}
	if (keep) {
		pp->policy->keep = keep->v;
		pp->policy->n_keep = keep->n;
	}
	r = bw_compile(pp->policy, &pp->compiled);
	pp->policy->keep = NULL; /* the old record goes away when this one is committed */
	pp->policy->n_keep = 0;
	if (r == 0)
		r = bw_rule_table_from_policy(pp->policy, &pp->compiled, &pp->table);
	if (r == 0)
		r = refuses_daemon(pp, why, sizeof(why));
	*ret_diag = render_diags(pp->policy, path, NULL);
	if (why[0]) {
		char *all = NULL;

		if (asprintf(&all, "%s%s", *ret_diag ? *ret_diag : "", why) < 0)
			abort();
		free(*ret_diag);
		*ret_diag = all;
	}
	if (r < 0)
		prepared_free(pp);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Put the drift watch (new after every load) into the event loop. */
static void watch_drift(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 4 };

	if (d->epfd >= 0 && d->drift.watch_fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->drift.watch_fd, &ev);
}

/*
 * Swap a prepared policy in. Anything failing leaves the active policy
 * untouched: the kernel only ever sees a complete map swapped in.
 */
/* A policy that was refused, as an event: where it came from and why. */
static void rejected_event(struct daemon *d, const char *reason, const char *path, const char *diag)
{
	struct json_object *what = json_object_new_object();

	size_t len = diag ? strlen(diag) : 0;

	json_object_object_add(what, "path", json_object_new_string(path));
	/* An event is one line in a 1024-line backlog: long diagnostics say where the rest is. */
	if (len > DIAG_EVENT_MAX) {
		char *cut = NULL;

		if (asprintf(&cut, "%.*s\n... %zu more bytes: `bulwark policy check %s` prints them all\n",
			     DIAG_EVENT_MAX, diag, len - DIAG_EVENT_MAX, path) < 0)
			abort();
		json_object_object_add(what, "diagnostics", json_object_new_string(cut));
		free(cut);
	} else {
		json_object_object_add(what, "diagnostics", json_object_new_string(diag ? diag : ""));
	}
	policy_event(d, "rejected", reason, what);
}

/* reason: why it is loaded (docs/events.md): "start", "request" or "re-resolve". */
static int commit_policy(struct daemon *d, const char *path, struct prepared *pp, const char *reason,
			 char **ret_diag)
{
	struct bw_policy *p = pp->policy;
	char why[512] = "";
	int r;

	for (size_t i = 0; i < p->n_rules && !d->kernel.lockdown_reasons; i++)
		if (p->rules[i].op == BW_OP_LOCKDOWN) {
			/* A rule that cannot decide anything is an error, never a silent no-op. */
			snprintf(why, sizeof(why),
				 "%s:%u: lockdown rules cannot be enforced here: this kernel's BTF names no lockdown reasons",
				 p->rules[i].loc.file, p->rules[i].loc.line);
			*ret_diag = render_diags(p, path, why);
			return -EOPNOTSUPP;
		}
	/* Decisions the old policy made are decoded with its rule table. */
	if (d->rb)
		ring_buffer__consume(d->rb);
	r = bw_kernel_install(&d->kernel, &pp->compiled, p->sha256, p->n_rules, p->flags, why,
			      sizeof(why));
	if (r < 0) {
		*ret_diag = render_diags(p, path, why);
		return r;
	}
	bw_rule_table_free(&d->rules);
	d->rules = pp->table;
	memset(&pp->table, 0, sizeof(pp->table));
	json_object_put(d->policy_files);
	d->policy_files = json_object_new_array();
	for (size_t i = 0; i < p->n_files; i++)
		json_object_array_add(d->policy_files, json_object_new_string(p->files[i]));
	free(d->policy_path);
	d->policy_path = strdup(path);
	drift_set(&d->drift, pp->compiled.resolved, pp->compiled.n_resolved);
	pp->compiled.resolved = NULL;
	pp->compiled.n_resolved = 0;
	watch_drift(d);
	d->reresolve_warned = false;
	d->failed_drift = 0;
	d->rescan_at_ms = now_ms() + DRIFT_SETTLE_MS; /* what changed while it compiled */
	save_state(d);
	bw_log(LOG_INFO, "policy %.12s loaded from %s: %zu rules, %zu map entries, mode %s",
	       d->rules.sha256, path, p->n_rules, pp->compiled.n,
	       p->flags & BW_POLICY_AUDIT ? "audit" : "enforce");
	{
		struct json_object *what = json_object_new_object(), *pol = json_object_new_object();
		struct bw_policy_info info;

		json_object_object_add(pol, "sha256", json_object_new_string(d->rules.sha256));
		if (bw_kernel_policy_info(&d->kernel, &info) == 0)
			json_object_object_add(pol, "generation", json_object_new_uint64(info.generation));
		json_object_object_add(pol, "rules", json_object_new_uint64(p->n_rules));
		json_object_object_add(pol, "mode", json_object_new_string(
					p->flags & BW_POLICY_AUDIT ? "audit" : "enforce"));
		json_object_object_add(pol, "path", json_object_new_string(path));
		json_object_object_add(pol, "files", json_object_get(d->policy_files));
		json_object_object_add(what, "policy", pol);
		policy_event(d, "loaded", reason, what);
	}
	return 0;
}

static int load_policy(struct daemon *d, const char *path, char **ret_diag)
{
	struct prepared pp;
	char *diag = NULL;
	int r = prepare_policy(path, NULL, NULL, &pp, &diag);

	if (r == 0) {
		char *why = NULL;

		r = commit_policy(d, path, &pp, "request", &why);
		if (why) {
			free(diag);
			diag = why;
		}
		prepared_free(&pp);
	}
	free(d->last_load_error);
	d->last_load_error = r < 0 ? strdup(diag ? diag : "policy rejected") : NULL;
	if (r < 0) {
		bw_log(LOG_ERR, "policy %s rejected; the previous policy stays in force", path);
		rejected_event(d, "request", path, diag);
	}
	*ret_diag = diag;
	return r;
}

/*
 * A directory or cgroup the policy names was replaced or recreated:
 * compile the same policy text again, keeping every exact file's identity,
 * and swap it in. Text edited since the load is the admin's to load.
 * Returns 0 when it swapped.
 */
static int reresolve(struct daemon *d)
{
	struct bw_policy_info info;
	struct prepared pp;
	char *diag = NULL, *path;
	int r;

	if (!d->policy_path)
		return -ENOENT;
	r = prepare_policy(d->policy_path, &d->drift, d->rules.sha256, &pp, &diag);
	if (r == -ESTALE) {
		if (!d->reresolve_warned) {
			bw_log(LOG_WARNING,
			       "not re-resolving: %s was edited since policy %.12s loaded; review it and run `bulwark policy load`",
			       d->policy_path, d->rules.sha256);
			rejected_event(d, "re-resolve", d->policy_path,
				       "the policy files were edited since they were loaded: review them and run `bulwark policy load`");
		}
		d->reresolve_warned = true;
		return r;
	}
	if (r == 0 && pp.compiled.n_resolved == d->drift.n) {
		size_t i = 0;

		while (i < d->drift.n && pp.compiled.resolved[i].dev == d->drift.v[i].dev &&
		       pp.compiled.resolved[i].ino == d->drift.v[i].ino)
			i++;
		if (i == d->drift.n) {
			/* Nothing would change (what drifted is not followed after all): no swap. */
			prepared_free(&pp);
			free(diag);
			return -EALREADY;
		}
	}
	if (r == 0) {
		/* commit_policy replaces d->policy_path: hand it a copy. */
		path = strdup(d->policy_path);
		if (!path)
			abort();
		free(diag);
		diag = NULL;
		r = commit_policy(d, path, &pp, "re-resolve", &diag);
		free(path);
		prepared_free(&pp);
	}
	if (r < 0) {
		bw_log(LOG_ERR, "re-resolving %s failed; the policy in force is unchanged:\n%s", d->policy_path,
		       diag ? diag : "");
		rejected_event(d, "re-resolve", d->policy_path, diag);
	} else
		bw_log(LOG_NOTICE, "policy %.12s re-resolved: generation %llu", d->rules.sha256,
		       bw_kernel_policy_info(&d->kernel, &info) == 0 ? (unsigned long long)info.generation : 0ull);
	free(diag);
	return r;
}

/* Look for drift now; re-resolve what bulwarkd follows, once per distinct drift. */
static void check_drift(struct daemon *d)
{
	int64_t started = now_ms();
	struct json_object *fresh = json_object_new_array();
	struct drift_report rep = drift_scan(&d->drift, NULL, 0, fresh);

	for (size_t i = 0; i < json_object_array_length(fresh); i++)
		policy_event(d, "drift", "watch", json_object_get(json_object_array_get_idx(fresh, i)));
	json_object_put(fresh);
	if (d->rewatch || rep.missing != d->last_missing) {
		/* A directory that went or came back: watch the nearest one that exists. */
		d->rewatch = false;
		d->last_missing = rep.missing;
		drift_rewatch(&d->drift);
		watch_drift(d);
	}
	if (rep.relocated && rep.fingerprint != d->failed_drift && reresolve(d) < 0)
		d->failed_drift = rep.fingerprint;
	/*
	 * Whatever this cost (a huge policy, a busy watched directory, someone
	 * renaming a watched directory in a loop), the next check waits ten
	 * times as long: at most a tenth of a CPU.
	 */
	d->settle_ms = 10 * (now_ms() - started);
	if (d->settle_ms < DRIFT_SETTLE_MS)
		d->settle_ms = DRIFT_SETTLE_MS;
}

static struct json_object *status_json(struct daemon *d)
{
	struct json_object *o = json_object_new_object(), *counters = json_object_new_object();
	struct bw_policy_info info;
	uint64_t vals[BW_COUNTERS_LEN], drops = 0;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "daemon_pid", json_object_new_int(getpid()));
	json_object_object_add(o, "adopted", json_object_new_boolean(d->kernel.adopted));
	/* What the kernel runs now, not what the daemon remembers. */
	watchdog_run(&d->watchdog, &d->kernel);
	json_object_object_add(o, "enforcement", watchdog_status(&d->watchdog));
	if (bw_kernel_has_policy(&d->kernel) && bw_kernel_policy_info(&d->kernel, &info) == 0) {
		struct json_object *pol = json_object_new_object();
		time_t secs = info.loaded_at_ns / 1000000000ull;
		char hex[65], when[64];
		struct tm tm;

		bw_hex(info.sha256, sizeof(info.sha256), hex);
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_object_add(pol, "sha256", json_object_new_string(hex));
		json_object_object_add(pol, "loaded_at", json_object_new_string(when));
		json_object_object_add(pol, "rules", json_object_new_int64(info.rules));
		json_object_object_add(pol, "mode", json_object_new_string(
					info.flags & BW_POLICY_AUDIT ? "audit" : "enforce"));
		json_object_object_add(pol, "generation", json_object_new_uint64(info.generation));
		json_object_object_add(pol, "files", json_object_get(d->policy_files));
		{
			struct json_object *list = json_object_new_array();
			struct drift_report rep = drift_scan(&d->drift, list, DRIFT_LIST_MAX, NULL);

			json_object_object_add(pol, "resolved", json_object_new_uint64(d->drift.n));
			json_object_object_add(pol, "drift_count", json_object_new_uint64(rep.changed + rep.missing));
			json_object_object_add(pol, "drift", list);
			json_object_object_add(pol, "retired", drift_retired_json(&d->drift));
		}
		json_object_object_add(o, "policy", pol);
	} else {
		json_object_object_add(o, "policy", NULL);
	}
	if (bw_kernel_counters(&d->kernel, vals) == 0) {
		for (int op = 0; op < BW_OP_COUNT; op++) {
			struct json_object *per = json_object_new_object();
			bool any = op == BW_OP_EXEC;

			for (int c = 0; c < BW_CNT_COUNT; c++) {
				uint64_t v = vals[op * BW_CNT_COUNT + c];

				any |= v != 0;
				if (c == BW_CNT_RB_DROPS)
					drops += v;
				json_object_object_add(per, counter_names[c], json_object_new_uint64(v));
			}
			if (any)
				json_object_object_add(counters, op ? bw_op_name(op) : "notify", per);
			else
				json_object_put(per);
		}
	}
	json_object_object_add(o, "counters", counters);
	json_object_object_add(o, "ringbuf_drops", json_object_new_uint64(drops));
	json_object_object_add(o, "subscriber_drops", json_object_new_uint64(d->subscriber_drops));
	json_object_object_add(o, "last_load_error",
			       d->last_load_error ? json_object_new_string(d->last_load_error) : NULL);
	return o;
}

static void reply_error(struct daemon *d, struct client *c, int err, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "error", json_object_new_string(msg));
	send_json(d, c, o);
	json_object_put(o);
}

static void handle_request(struct daemon *d, struct client *c, const char *line)
{
	struct json_object *req = json_tokener_parse(line), *cmd_o, *v;
	const char *cmd;

	if (!req || !json_object_object_get_ex(req, "cmd", &cmd_o)) {
		reply_error(d, c, EINVAL, "malformed request");
		goto out;
	}
	cmd = json_object_get_string(cmd_o);
	d->requester = c;
	if (strcmp(cmd, "status") == 0) {
		struct json_object *o = status_json(d);

		send_json(d, c, o);
		json_object_put(o);
	} else if (strcmp(cmd, "policy-load") == 0) {
		struct json_object *o;
		char *diag = NULL;
		int r;

		if (!json_object_object_get_ex(req, "path", &v) || json_object_get_string(v)[0] != '/') {
			reply_error(d, c, EINVAL, "policy-load needs an absolute path");
			goto out;
		}
		r = load_policy(d, json_object_get_string(v), &diag);
		o = status_json(d);
		json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
		if (r < 0) {
			json_object_object_add(o, "errno", json_object_new_int(-r));
			json_object_object_add(o, "error", json_object_new_string("policy rejected; the previous policy stays in force"));
		}
		json_object_object_add(o, "diagnostics", json_object_new_string(diag ? diag : ""));
		send_json(d, c, o);
		json_object_put(o);
		free(diag);
	} else if (strcmp(cmd, "events") == 0) {
		bool backlog = json_object_object_get_ex(req, "backlog", &v) && json_object_get_boolean(v);
		bool follow = json_object_object_get_ex(req, "follow", &v) && json_object_get_boolean(v);

		for (size_t i = 0; backlog && i < d->backlog_n; i++)
			send_line(d, c, "{\"event\":", d->backlog[(d->backlog_head + i) % BACKLOG_MAX], "}",
				  false);
		if (follow)
			c->follower = true;
		else
			send_line(d, c, "", "{\"end\":true,\"ok\":true}", "", false);
	} else if (strcmp(cmd, "explain") == 0) {
		struct bw_rule_entry *entries = NULL;
		struct json_object *o = NULL, *reply;
		char *diag = NULL;
		size_t n = 0;
		int r;

		if (!json_object_object_get_ex(req, "query", &v)) {
			reply_error(d, c, EINVAL, "explain needs a query");
			goto out;
		}
		/* The kernel's own entries: explain sees what decides, not a copy. */
		r = bw_kernel_read_entries(&d->kernel, &entries, &n);
		if (r < 0) {
			reply_error(d, c, -r, r == -ENOENT ? "no policy is loaded" :
							     "cannot read the active policy from the kernel");
			goto out;
		}
		r = bw_explain(entries, n, &d->rules, json_object_get_string(v), &o, &diag);
		reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(r == 0));
		if (r < 0) {
			json_object_object_add(reply, "errno", json_object_new_int(-r));
			json_object_object_add(reply, "error", json_object_new_string("bad query"));
			json_object_object_add(reply, "diagnostics", json_object_new_string(diag ? diag : ""));
		} else {
			json_object_object_add(reply, "explain", o);
		}
		send_json(d, c, reply);
		json_object_put(reply);
		free(diag);
		free(entries);
	} else if (strcmp(cmd, "unload") == 0) {
		int r = bw_kernel_unload(&d->kernel);
		char *path = state_path(d);

		if (path)
			unlink(path);
		free(path);
		drift_free(&d->drift);
		if (r < 0) {
			reply_error(d, c, -r, "unload incomplete: some pins could not be removed");
		} else {
			send_line(d, c, "", "{\"ok\":true}", "", false);
			bw_log(LOG_NOTICE, "unloaded: programs detached, pins removed");
		}
		policy_event(d, "unloaded", "request", json_object_new_object());
		d->unloaded = true;
		d->quit = true;
	} else {
		reply_error(d, c, EOPNOTSUPP, "unknown command");
	}
out:
	d->requester = NULL;
	json_object_put(req);
}

static void drop_client(struct daemon *d, int slot)
{
	struct client *c = d->clients[slot];

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	d->clients[slot] = NULL;
}

static void on_client(struct daemon *d, int slot)
{
	struct client *c = d->clients[slot];
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len - 1, 0);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		drop_client(d, slot);
		return;
	}
	c->len += n;
	c->buf[c->len] = 0;
	while ((nl = strchr(c->buf, '\n'))) {
		*nl = 0;
		handle_request(d, c, c->buf);
		memmove(c->buf, nl + 1, c->len - (nl + 1 - c->buf) + 1);
		c->len -= nl + 1 - c->buf;
		if (d->quit)
			return;
	}
	if (c->len == sizeof(c->buf) - 1) {
		reply_error(d, c, EMSGSIZE, "request too long");
		drop_client(d, slot);
	}
}

static void on_accept(struct daemon *d)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *c;
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), slot;

	if (fd < 0)
		return;
	/* Only root may steer enforcement; the kernel vouches for the peer. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
		bw_log(LOG_WARNING, "refused control connection from uid %d pid %d",
		       (int)cred.uid, (int)cred.pid);
		close(fd);
		return;
	}
	for (slot = 0; slot < CLIENTS_MAX && d->clients[slot]; slot++)
		;
	c = slot < CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		bw_log(LOG_WARNING, "too many control connections; refusing pid %d", (int)cred.pid);
		close(fd);
		return;
	}
	/* Replies are sent blocking, but a stuck client cannot stall us long. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->pid = cred.pid;
	{
		char link[64];

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)cred.pid);
		if (!program_of(link, c->exe, sizeof(c->exe)))
			c->exe[0] = 0;
	}
	d->clients[slot] = c;
	ev.data.u64 = 100 + slot;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int open_socket(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *dir = strdup(d->socket_path), *slash;
	mode_t old;
	int fd;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	free(dir);
	if (strlen(d->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, d->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(d->socket_path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int r = -errno;

		umask(old);
		close(fd);
		return r;
	}
	umask(old);
	return fd;
}

static int run(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->epfd < 0)
		return -errno;
	ev.data.u64 = 1;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sig_fd, &ev);
	ev.data.u64 = 2;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->listen_fd, &ev);
	ev.data.u64 = 3;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(d->rb), &ev);
	watch_drift(d);
	d->watchdog.emit = publish_event;
	d->watchdog.ctx = d;
	watchdog_run(&d->watchdog, &d->kernel);
	d->watchdog_at_ms = now_ms() + WATCHDOG_PERIOD_MS;
	/* Changes made while no daemon watched. */
	d->rescan_at_ms = now_ms();
	d->periodic_at_ms = now_ms() + DRIFT_PERIOD_MS;

	while (!d->quit) {
		struct epoll_event evs[16];
		int64_t due = d->rescan_at_ms && d->rescan_at_ms < d->periodic_at_ms ? d->rescan_at_ms :
										       d->periodic_at_ms;

		if (d->watchdog_at_ms < due)
			due = d->watchdog_at_ms;
		int64_t wait = due - now_ms();
		int n = epoll_wait(d->epfd, evs, 16, wait < 0 ? 0 : wait > INT32_MAX ? INT32_MAX : (int)wait);
		int saved_errno = errno;

		if (now_ms() >= d->periodic_at_ms) {
			d->periodic_at_ms = now_ms() + DRIFT_PERIOD_MS;
			d->rescan_at_ms = now_ms();
		}
		if (d->rescan_at_ms && now_ms() >= d->rescan_at_ms) {
			d->rescan_at_ms = 0;
			check_drift(d);
		}
		if (now_ms() >= d->watchdog_at_ms) {
			d->watchdog_at_ms = now_ms() + WATCHDOG_PERIOD_MS;
			watchdog_run(&d->watchdog, &d->kernel);
		}
		errno = saved_errno;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !d->quit; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == 1) {
				struct signalfd_siginfo si;

				if (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
					bw_log(LOG_NOTICE, "signal %u: exiting; enforcement stays pinned",
					       si.ssi_signo);
					d->quit = true;
				}
			} else if (tag == 2) {
				on_accept(d);
			} else if (tag == 3) {
				ring_buffer__consume(d->rb);
			} else if (tag == 4) {
				unsigned news = drift_drain(&d->drift);

				d->rewatch |= news & DRIFT_REWATCH;
				if (news && !d->rescan_at_ms)
					d->rescan_at_ms = now_ms() + (d->settle_ms ? d->settle_ms : DRIFT_SETTLE_MS);
			} else if (tag >= 100 && tag < 100 + CLIENTS_MAX && d->clients[tag - 100]) {
				on_client(d, tag - 100);
			}
		}
	}
	/* Drain what the kernel already reported before leaving. */
	if (!d->unloaded)
		ring_buffer__consume(d->rb);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "events", required_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "probe", no_argument, NULL, 'P' },
		{}
	};
	struct daemon d = {
		.socket_path = BULWARK_SOCKET_PATH,
		.state_dir = "/run/bulwark",
		.events_out = stdout,
		.listen_fd = -1,
		.sig_fd = -1,
		.epfd = -1,
		.drift.watch_fd = -1,
	};
	const char *policy = NULL, *events = NULL;
	char *policy_abs = NULL;
	struct prepared pending = { 0 };
	struct bw_rule_table handover_rules = { 0 };
	bool verbose = false, have_pending = false, probe = false;
	char why[1024] = "";
	int opt, r, ret = 1;

	while ((opt = getopt_long(argc, argv, "p:e:s:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': policy = optarg; break;
		case 'e': events = optarg; break;
		case 's': d.socket_path = optarg; break;
		case 'S': d.state_dir = optarg; break;
		case 'v': verbose = true; break;
		case 'P': probe = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("bulwarkd %d.%d.%d\n", BULWARK_VERSION_MAJOR, BULWARK_VERSION_MINOR,
				 BULWARK_VERSION_PATCH); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bulwarkd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	bw_log_init(verbose ? LOG_DEBUG : LOG_INFO);
	if (geteuid() != 0) {
		bw_log(LOG_ERR, "must run as root: it loads BPF LSM programs");
		return 1;
	}
	if (probe) {
		if (bw_kernel_probe(verbose, why, sizeof(why)) < 0) {
			bw_log(LOG_ERR, "%s", why);
			return 1;
		}
		bw_log(LOG_INFO, "this kernel runs bulwark's BPF LSM programs");
		return 0;
	}
	d.policy_files = json_object_new_array();
	drift_init(&d.drift);
	if (events) {
		d.events_out = fopen(events, "ae");
		if (!d.events_out) {
			bw_log(LOG_ERR, "cannot open %s: %s", events, strerror(errno));
			return 1;
		}
	}
	mkdir(d.state_dir, 0700);

	/*
	 * Compile before touching the kernel: a bad policy at first start must
	 * leave nothing attached. With pins present, the policy they hold keeps
	 * enforcing, so a bad file only costs the update.
	 */
	/* The drop-in directory is the default policy when it exists. */
	if (!policy && access(BULWARK_POLICY_DIR, F_OK) == 0)
		policy = BULWARK_POLICY_DIR;
	if (policy) {
		char *diag = NULL;

		/* Events and status name rule files absolutely, whatever our cwd. */
		policy_abs = realpath(policy, NULL);
		if (policy_abs)
			policy = policy_abs;
		r = prepare_policy(policy, NULL, NULL, &pending, &diag);
		if (diag && diag[0])
			fputs(diag, stderr);
		if (r < 0)
			rejected_event(&d, "start", policy, diag);
		free(diag);
		if (r < 0) {
			if (access(BW_PIN_ROOT "/bw_policy", F_OK) < 0) {
				bw_log(LOG_ERR, "policy %s rejected; nothing was loaded", policy);
				goto out;
			}
			bw_log(LOG_ERR, "policy %s rejected; the pinned policy stays in force", policy);
			have_pending = false;
		} else {
			have_pending = true;
		}
	}
	r = bw_kernel_open(&d.kernel, verbose, why, sizeof(why));
	if (r < 0) {
		bw_log(LOG_ERR, "%s", why);
		goto out;
	}
	if (d.kernel.adopted || d.kernel.handover)
		restore_state(&d);
	if (d.kernel.handover) {
		/* The old generation's events are decoded with its own rule table. */
		handover_rules = d.rules;
		memset(&d.rules, 0, sizeof(d.rules));
		if (!have_pending && d.policy_path) {
			char *diag = NULL;

			/* No --policy: the new build takes over the policy the old one had. */
			policy = d.policy_path;
			have_pending = prepare_policy(policy, NULL, NULL, &pending, &diag) == 0;
			if (!have_pending && diag)
				fputs(diag, stderr);
			free(diag);
		}
		if (!have_pending) {
			bw_log(LOG_ERR, "cannot take over from the pinned build: no policy to install (give --policy); the pinned build stays in force");
			bw_kernel_unload(&d.kernel);
			goto out;
		}
	}
	if (have_pending) {
		char *diag = NULL;

		r = commit_policy(&d, policy, &pending, "start", &diag);
		if (r < 0) {
			fputs(diag ? diag : "", stderr);
			rejected_event(&d, "start", policy, diag);
			free(diag);
			diag = NULL;
			/* A staged generation that cannot enforce goes; the pinned one stays. */
			if (!d.kernel.adopted || d.kernel.handover) {
				bw_kernel_unload(&d.kernel);
				goto out;
			}
		}
		free(diag);
	}
	if (d.kernel.handover) {
		struct handover_drain hd = { .d = &d, .rules = &handover_rules };

		if (bw_kernel_finish_handover(&d.kernel, on_old_event, &hd) < 0)
			goto out;
	}
	if (!bw_kernel_has_policy(&d.kernel))
		bw_log(LOG_WARNING, "no policy loaded: every operation is allowed until `bulwark policy load`");

	d.rb = ring_buffer__new(d.kernel.events_fd, on_event, &d, NULL);
	if (!d.rb) {
		bw_log(LOG_ERR, "cannot open the event ring buffer: %s", strerror(errno));
		goto out;
	}
	d.listen_fd = open_socket(&d);
	if (d.listen_fd < 0) {
		bw_log(LOG_ERR, "cannot listen on %s: %s", d.socket_path, strerror(-d.listen_fd));
		goto out;
	}
	bw_log(LOG_INFO, "%s; control socket %s", d.kernel.adopted ? "adopted pinned programs" : "attached",
	       d.socket_path);
	ret = run(&d) < 0 ? 1 : 0;
out:
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (d.clients[i])
			drop_client(&d, i);
	for (size_t i = 0; i < d.backlog_n; i++)
		free(d.backlog[(d.backlog_head + i) % BACKLOG_MAX]);
	if (d.listen_fd >= 0) {
		close(d.listen_fd);
		unlink(d.socket_path);
	}
	ring_buffer__free(d.rb);
	prepared_free(&pending);
	free(policy_abs);
	if (d.kernel.skel)
		bw_kernel_close(&d.kernel);
	bw_rule_table_free(&d.rules);
	bw_rule_table_free(&handover_rules);
	json_object_put(d.policy_files);
	free(d.policy_path);
	drift_free(&d.drift);
	free(d.last_load_error);
	if (d.events_out && d.events_out != stdout)
		fclose(d.events_out);
	return ret;
}
