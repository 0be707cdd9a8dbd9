/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bulwarkd's state, shared by its parts: main.c (options, start-up, the
 * loop), server.c (the control socket), proto.c (request decoding),
 * control.c (the commands), policy.c (prepare, commit, re-resolve, saved
 * state), events.c (ring buffer to JSON, backlog, subscribers), kernel.c
 * and drift.c.
 */
#ifndef BULWARKD_DAEMON_H
#define BULWARKD_DAEMON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/internal.h"
#include "drift.h"
#include "kernel.h"
#include "server.h"
#include "trust.h"
#include "watchdog.h"

#define BACKLOG_MAX 1024
/* Rule tables kept: the active generation's and the previous ones'. */
#define GEN_KEEP 8
/* Let a burst of renames (an upgrade, a service restart) settle before looking. */
#define DRIFT_SETTLE_MS 200
/*
 * Also look now and then: a rename further up than the watched directory
 * sends no event. Every DRIFT_PERIOD_MS a stat of each watched directory
 * (drift_watch_blind) says whether the watch can have missed something;
 * only then, or every DRIFT_FULL_PERIOD_MS anyway, is every path looked at.
 * A mount or unmount (the mount table's poll) is looked at like an event.
 */
#define DRIFT_PERIOD_MS 30000
#define DRIFT_FULL_PERIOD_MS (20 * 60 * 1000)
/* epoll tags besides the server's. */
#define SIGNAL_TAG 1
#define RINGBUF_TAG 3
#define DRIFT_TAG 4
#define MOUNTS_TAG 5

struct daemon;

/*
 * Work the main loop does when its time comes, not on an fd: each task
 * has a due time (CLOCK_MONOTONIC ms, 0: not scheduled). Add a task by
 * adding an id and its entry in main.c's table.
 */
enum task_id {
	TASK_DRIFT_CHECK,  /* look for drift now (after a watch event settled) */
	TASK_DRIFT_PERIOD, /* every DRIFT_PERIOD_MS: can the watch have missed drift? then look */
	TASK_WATCHDOG,     /* check that the kernel runs our programs, every WATCHDOG_PERIOD_MS */
	TASK_COUNT,
};

struct task {
	const char *name;
	void (*run)(struct daemon *d);
	int64_t due_ms;
};

/* Client layers (layers.c): rule texts, each one txn-add's. */
#define LAYER_RULES_MAX 4096
/* Persistent layers are saved here, in the trust database's directory (decision 97). */
#define BW_LAYERS_FILE "layers.json"
struct client_rule {
	uint32_t id;     /* the client's handle for it, from 1 */
	bool persistent; /* outlives the client's connection */
	char *text;
};

struct layer {
	bool used;
	char *name;
	uint32_t altitude;
	const struct conn *owner; /* NULL: its client left; only persistent rules remain */
	uid_t owner_uid;          /* who opened it: only the same client identity takes it back */
	uint64_t owner_dev, owner_ino;
	char *owner_exe;          /* its program's path then: the identity again after a restart */
	struct client_rule *rules; /* committed */
	size_t n;
	uint32_t next_id;
	/* The open transaction: rule texts to add, committed ids to remove. */
	bool txn;
	struct client_rule *add;
	size_t n_add;
	uint32_t *remove;
	size_t n_remove;
};

/* A rule table and the policy generation it decodes. */
struct gen_table {
	uint64_t gen;
	struct bw_rule_table t;
};

/* Recent event lines by sequence number: [first, next), slot seq % BACKLOG_MAX. */
struct backlog {
	char *lines[BACKLOG_MAX];
	uint32_t classes[BACKLOG_MAX]; /* each line's bw_event_classes, for subscriptions' filters */
	uint64_t first, next;
};

/* The events file's buffer: lines of about 1 KiB, written once per batch (decision 109). */
#define EVENTS_BUFFER (16 * 1024)

struct daemon {
	struct bw_kernel kernel;
	struct bw_rule_table rules;       /* the active policy's */
	uint64_t rules_gen;               /* its generation */
	struct gen_table old[GEN_KEEP - 1]; /* earlier generations, oldest first */
	size_t n_old;
	struct json_object *policy_files; /* array of paths of the active policy */
	char *policy_path;                /* what the active policy was loaded from */
	struct drift drift;               /* what its paths resolved to */
	struct watchdog watchdog;         /* what the kernel actually runs */
	struct trust_state trust;         /* the kernel's trust map, from the trust database */
	int hash_probe;                   /* decision 90: 0 if IMA hashes for us, else -errno */
	char hash_why[256];               /* ... and why not */
	uint64_t failed_drift;            /* fingerprint of the drift a re-resolution failed on */
	size_t last_missing;              /* missing paths at the last check: rewatch on change */
	int64_t settle_ms;                /* wait after an event: ten times the last check's cost */
	bool reresolve_warned;            /* "policy text changed" logged for this generation */
	bool rewatch;                     /* a watched directory went away: watch anew at the next check */
	int64_t drift_checked_ms;         /* when check_drift last looked at every path */
	int mounts_fd;                    /* /proc/self/mountinfo, polled for mount changes; -1: none */
	char *last_load_error;
	const char *socket_path;
	const char *state_dir;
	int events_fd;                    /* --events FILE, or stdout */
	bool events_failing;              /* its last write failed (logged once) */
	size_t events_len;                /* bytes in events_buf: whole lines (events_flush) */
	char events_buf[EVENTS_BUFFER];
	int epfd, sig_fd, lock_fd, ready_fd;
	struct ring_buffer *rb;
	struct server server;
	struct backlog backlog;
	uint64_t subscriber_drops;
	const struct conn *requester; /* whose request is being served, for policy events */
	struct layer layers[BW_CLIENT_LAYERS]; /* client layers, in no order (layers.c sorts) */
	char *layers_file;                /* persistent layers, saved (decision 97; layers.c) */
	struct grant *grants;             /* the policy's grants (grants.c) */
	size_t n_grants;
	struct task tasks[TASK_COUNT];
	bool quit, unloaded;
};

int64_t now_ms(void);
void schedule(struct daemon *d, enum task_id id, int64_t due_ms);

/* events.c */
int on_ringbuf_record(void *ctx, void *data, size_t size);
void publish(struct daemon *d, struct json_object *o);
int events_open(struct daemon *d, const char *path);
void events_flush(struct daemon *d);
/* A trust map event (docs/events.md): takes what. */
void trust_event(struct daemon *d, const char *event, struct json_object *what);
void policy_event(struct daemon *d, const char *event, const char *reason, struct json_object *what);
void rejected_event(struct daemon *d, const char *reason, const char *path, const char *diag);
void events_subscribe(struct daemon *d, struct conn *c, bool backlog, bool follow, uint32_t kinds);
void events_pump(void *ctx, struct conn *c);
void events_free(struct daemon *d);

/* policy.c */
struct prepared {
	struct bw_policy *policy;
	struct bw_compiled compiled;
	struct bw_rule_table table;
	char **self; /* what `protect self` covers (policy->self_paths) */
	size_t n_self;
};
void set_self_places(const char *state_dir, const char *socket_path);
void set_compile_tick(void (*tick)(void *ctx), void *ctx);
void set_self_events(const char *events_path);
void set_self_trust_db(const char *db_path);
bool policy_protects_self(const struct prepared *pp);
bool protection_on(struct daemon *d);
extern const char protection_refusal[];
void prepared_free(struct prepared *pp);
/* Give the heap's free pages back to the kernel (after a compile, a parsed state file). */
void release_heap(void);
int prepare_policy(const char *path, const struct drift *keep, const char *expect_hex,
		   struct prepared *pp, char **ret_diag);
int commit_policy(struct daemon *d, const char *path, struct prepared *pp, const char *reason,
		  char **ret_diag);
int load_policy(struct daemon *d, const char *path, const char *reason, const char *signature,
		char **ret_diag);
int authorize_change(struct daemon *d, const char *op, const char *sha_hex, const char *signature,
		     uint64_t *ret_version, char *why, size_t why_len);
int record_version(struct daemon *d, uint64_t version);
void check_drift(struct daemon *d);
void watch_drift(struct daemon *d);
void restore_state(struct daemon *d);
char *state_path(struct daemon *d);
const struct bw_rule_table *rules_for_gen(struct daemon *d, uint64_t gen);
void rules_free(struct daemon *d);

/* grants.c */
enum bw_method;
uint32_t grants_admit(void *ctx, const struct conn *c);
bool grants_allow(const struct conn *c, enum bw_method m);
bool layers_gated(struct daemon *d);
bool grants_gate_layer(struct daemon *d, const struct conn *c, enum bw_method m, char *why, size_t len);
void grants_describe(uint32_t rights, char *buf, size_t len);
void grants_set(struct daemon *d, const struct bw_policy *p);
void grants_apply_socket(struct daemon *d);
void grants_free(struct daemon *d);

/* layers.c */
struct bw_request;
void layers_attach(struct daemon *d);
int layers_set_file(struct daemon *d, const char *trust_db);
void layers_save(struct daemon *d);
void layers_restore(struct daemon *d);
void layers_forget_restored(struct daemon *d);
size_t layers_restored_count(struct daemon *d);
int layers_append(struct bw_policy *p, struct bw_rule_table *t);
int layers_name_table(struct bw_rule_table *t);
struct layer *layer_of(struct daemon *d, const struct conn *c);
void layers_on_close(void *ctx, struct conn *c);
void layers_free(struct daemon *d);
struct json_object *layers_json(struct daemon *d);
void do_layer_open(struct daemon *d, struct conn *c, const struct bw_request *req);
void do_txn_begin(struct daemon *d, struct conn *c, const struct bw_request *req);
void do_txn_add(struct daemon *d, struct conn *c, const struct bw_request *req);
void do_txn_remove(struct daemon *d, struct conn *c, const struct bw_request *req);
void do_txn_commit(struct daemon *d, struct conn *c, const struct bw_request *req);
void do_txn_abort(struct daemon *d, struct conn *c, const struct bw_request *req);

/* control.c */
int control_on_line(void *ctx, struct conn *c, const char *line, size_t len);
bool control_keeps_slot(void *ctx, const struct conn *c);

#endif
