// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control commands. proto.c has already checked every field's presence
 * and type, so a handler only does its job; this table is what answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "daemon.h"
#include "log.h"
#include "proto.h"

/* Drifted paths listed in status; drift_count has them all. */
#define DRIFT_LIST_MAX 32

static const char *const counter_names[BW_CNT_COUNT] = {
	[BW_CNT_DECISIONS] = "decisions",   [BW_CNT_ALLOWED] = "allowed",
	[BW_CNT_DENIED] = "denied",         [BW_CNT_WOULD_DENY] = "would_deny",
	[BW_CNT_AUDITED] = "audited",       [BW_CNT_EVENTS] = "events",
	[BW_CNT_RB_DROPS] = "ringbuf_drops", [BW_CNT_HELPER_ERR] = "helper_errors",
	[BW_CNT_NO_POLICY] = "no_policy",
};

static void send_json(struct daemon *d, struct conn *c, struct json_object *o)
{
	conn_send(&d->server, c, "",
		  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), "");
}

static void reply_error(struct daemon *d, struct conn *c, int err, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "error", json_object_new_string(msg));
	send_json(d, c, o);
	json_object_put(o);
}

/* The active policy as status shows it; NULL when there is none. */
static struct json_object *policy_json(struct daemon *d)
{
	struct json_object *pol, *list;
	struct bw_policy_info info;
	struct drift_report rep;
	time_t secs;
	char hex[65], when[64];
	struct tm tm;

	if (!bw_kernel_has_policy(&d->kernel) || bw_kernel_policy_info(&d->kernel, &info) < 0)
		return NULL;
	pol = json_object_new_object();
	secs = info.loaded_at_ns / 1000000000ull;
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
	list = json_object_new_array();
	rep = drift_scan(&d->drift, list, DRIFT_LIST_MAX, NULL);
	json_object_object_add(pol, "resolved", json_object_new_uint64(d->drift.n));
	json_object_object_add(pol, "drift_count", json_object_new_uint64(rep.changed + rep.missing));
	json_object_object_add(pol, "drift", list);
	json_object_object_add(pol, "retired", drift_retired_json(&d->drift));
	return pol;
}

/* Self-protection and locked mode, as the kernel holds them. */
static struct json_object *protection_json(struct daemon *d)
{
	struct json_object *o = json_object_new_object();
	struct bw_lock lk;
	bool locked = bw_kernel_lock_get(&d->kernel, &lk) == 0 && lk.locked;

	json_object_object_add(o, "self", json_object_new_boolean(protection_on(d)));
	json_object_object_add(o, "locked", json_object_new_boolean(locked));
	json_object_object_add(o, "lock_version", locked ? json_object_new_uint64(lk.version) : NULL);
	json_object_object_add(o, "protected_processes",
			       json_object_new_uint64(bw_kernel_protected_count(&d->kernel)));
	return o;
}

/* Per-operation counters, operations that never counted left out; the drops summed. */
static struct json_object *counters_json(struct daemon *d, uint64_t *ret_drops)
{
	struct json_object *counters = json_object_new_object();
	uint64_t vals[BW_COUNTERS_LEN];

	*ret_drops = 0;
	if (bw_kernel_counters(&d->kernel, vals) < 0)
		return counters;
	for (int op = 0; op < BW_OP_COUNT; op++) {
		struct json_object *per = json_object_new_object();
		bool any = op == BW_OP_EXEC;

		for (int c = 0; c < BW_CNT_COUNT; c++) {
			uint64_t v = vals[op * BW_CNT_COUNT + c];

			any |= v != 0;
			if (c == BW_CNT_RB_DROPS)
				*ret_drops += v;
			json_object_object_add(per, counter_names[c], json_object_new_uint64(v));
		}
		if (any)
			json_object_object_add(counters, op ? bw_op_name(op) : "notify", per);
		else
			json_object_put(per);
	}
	return counters;
}

static struct json_object *status_json(struct daemon *d)
{
	struct json_object *o = json_object_new_object();
	uint64_t drops;

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "daemon_pid", json_object_new_int(getpid()));
	json_object_object_add(o, "adopted", json_object_new_boolean(d->kernel.adopted));
	/* What the kernel runs now, not what the daemon remembers. */
	watchdog_run(&d->watchdog, &d->kernel);
	json_object_object_add(o, "enforcement", watchdog_status(&d->watchdog));
	json_object_object_add(o, "policy", policy_json(d));
	json_object_object_add(o, "protection", protection_json(d));
	json_object_object_add(o, "trust", trust_status(d));
	json_object_object_add(o, "layers", layers_json(d));
	json_object_object_add(o, "counters", counters_json(d, &drops));
	json_object_object_add(o, "ringbuf_drops", json_object_new_uint64(drops));
	json_object_object_add(o, "subscriber_drops", json_object_new_uint64(d->subscriber_drops));
	json_object_object_add(o, "clients_dropped", json_object_new_uint64(d->server.dropped));
	json_object_object_add(o, "clients_evicted", json_object_new_uint64(d->server.evicted));
	json_object_object_add(o, "last_load_error",
			       d->last_load_error ? json_object_new_string(d->last_load_error) : NULL);
	return o;
}

static void do_status(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct json_object *o = status_json(d);

	send_json(d, c, o);
	json_object_put(o);
}

static void do_policy_load(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct json_object *o;
	char *diag = NULL;
	int r = load_policy(d, req->path, "request", req->signature, &diag);

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
}

static void do_events(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	events_subscribe(d, c, req->backlog, req->follow, (uint32_t)req->kinds);
}

static void do_explain(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct bw_rule_entry *entries = NULL;
	struct json_object *o = NULL, *reply;
	char *diag = NULL;
	size_t n = 0;
	/* The kernel's own entries: explain sees what decides, not a copy. */
	int r = bw_kernel_read_entries(&d->kernel, &entries, &n);

	if (r < 0) {
		reply_error(d, c, -r, r == -ENOENT ? "no policy is loaded" :
						     "cannot read the active policy from the kernel");
		return;
	}
	r = bw_explain(entries, n, &d->rules, req->query, &o, &diag);
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
}

static void do_unload(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	char why[512] = "", *path;
	uint64_t version;
	int r = authorize_change(d, "unload", NULL, req->signature, &version, why, sizeof(why));

	if (r < 0) {
		struct json_object *what = json_object_new_object();

		bw_log(LOG_WARNING, "unload refused: %s", why);
		reply_error(d, c, -r, why);
		json_object_object_add(what, "error", json_object_new_string(why));
		policy_event(d, "unload-refused", "request", what);
		return;
	}
	r = bw_kernel_unload(&d->kernel);
	path = state_path(d);
	if (path)
		unlink(path);
	free(path);
	drift_free(&d->drift);
	if (r < 0) {
		reply_error(d, c, -r, "unload incomplete: some pins could not be removed");
	} else {
		conn_send(&d->server, c, "", "{\"ok\":true}", "");
		bw_log(LOG_NOTICE, "unloaded: programs detached, pins removed");
	}
	policy_event(d, "unloaded", "request", json_object_new_object());
	d->unloaded = true;
	d->quit = true;
}

/*
 * Locked mode on: from now on a policy change or an unload needs a payload
 * signed with this key. Locking again, or with another key, is refused: a
 * lock is undone only by a signed unload, or a reboot.
 */
static void do_lock(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct bw_lock lk = { 0 };
	struct json_object *what;
	size_t len = 0;
	int r = bw_kernel_lock_get(&d->kernel, &lk);

	if (r == 0 && lk.locked) {
		reply_error(d, c, EEXIST, "already locked: a signed unload, or a reboot, ends a lock");
		return;
	}
	/*
	 * Under `protect self` the policy is fixed; a lock taken now would
	 * hand it to whoever holds the key, root's own included. Lock first,
	 * then load the protecting policy signed.
	 */
	if (protection_on(d)) {
		reply_error(d, c, EPERM,
			    "protection is on: a lock must come before `protect self` (lock, then load the "
			    "protecting policy signed)");
		return;
	}
	if (strlen(req->pubkey) != 2 * sizeof(lk.pubkey) ||
	    sodium_hex2bin(lk.pubkey, sizeof(lk.pubkey), req->pubkey, strlen(req->pubkey), NULL, &len,
			   NULL) != 0 || len != sizeof(lk.pubkey)) {
		reply_error(d, c, EINVAL, "pubkey must be 64 hex digits (an Ed25519 public key, `bulwark key gen`)");
		return;
	}
	lk.locked = 1;
	lk.version = 0;
	r = bw_kernel_lock_set(&d->kernel, &lk);
	if (r < 0) {
		reply_error(d, c, -r, "cannot record the lock in the kernel");
		return;
	}
	bw_log(LOG_NOTICE, "locked: policy changes and unload now need signed payloads");
	what = json_object_new_object();
	json_object_object_add(what, "pubkey", json_object_new_string(req->pubkey));
	policy_event(d, "locked", "request", what);
	conn_send(&d->server, c, "", "{\"ok\":true}", "");
}

/*
 * Read the trust database again (`bulwark trust add` and the apt hook ask
 * after every change): the reply carries what the kernel now trusts.
 */
static void do_trust_sync(struct daemon *d, struct conn *c, const struct bw_request *req)
{
	struct json_object *reply;
	int r = trust_sync(d, "request");

	if (r < 0) {
		reply_error(d, c, -r, d->trust.error ? d->trust.error : "cannot read the trust database");
		return;
	}
	reply = json_object_new_object();
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	json_object_object_add(reply, "trust", trust_status(d));
	send_json(d, c, reply);
	json_object_put(reply);
}

static void (*const handlers[BW_M_COUNT])(struct daemon *, struct conn *, const struct bw_request *) = {
	[BW_M_STATUS] = do_status,
	[BW_M_POLICY_LOAD] = do_policy_load,
	[BW_M_EXPLAIN] = do_explain,
	[BW_M_EVENTS] = do_events,
	[BW_M_UNLOAD] = do_unload,
	[BW_M_LOCK] = do_lock,
	[BW_M_TRUST_SYNC] = do_trust_sync,
	[BW_M_LAYER_OPEN] = do_layer_open,
	[BW_M_TXN_BEGIN] = do_txn_begin,
	[BW_M_TXN_ADD] = do_txn_add,
	[BW_M_TXN_REMOVE] = do_txn_remove,
	[BW_M_TXN_COMMIT] = do_txn_commit,
	[BW_M_TXN_ABORT] = do_txn_abort,
};

/* A protected agent keeps its connection when root fills every slot. */
bool control_keeps_slot(void *ctx, const struct conn *c)
{
	struct daemon *d = ctx;

	/* A client's layer goes with its connection: never evict it for another. */
	return layer_of(d, c) || bw_kernel_level_of(&d->kernel, c->pid) > BW_LEVEL_NONE;
}

int control_on_line(void *ctx, struct conn *c, const char *line, size_t len)
{
	struct daemon *d = ctx;
	struct bw_request req = { 0 };
	char err[BW_PROTO_ERR_MAX], why[512];
	int r = bw_proto_decode(line, len, &req, err, sizeof(err));

	if (r < 0) {
		bw_log(LOG_DEBUG, "refused request from pid %d: %s", (int)c->pid, err);
		reply_error(d, c, -r, err);
		return 0;
	}
	if (!grants_allow(c, req.method)) {
		char have[96], *msg = NULL;

		grants_describe(c->rights, have, sizeof(have));
		if (asprintf(&msg, "'%s' is root's or not granted to uid %d (%s); the policy grants it: %s",
			     bw_method_name(req.method), (int)c->uid, c->exe[0] ? c->exe : "?", have) < 0)
			msg = NULL;
		bw_log(LOG_NOTICE, "refused %s", msg ? msg : "a request not granted");
		reply_error(d, c, EACCES, msg ? msg : "not granted");
		free(msg);
		bw_request_release(&req);
		return 0;
	}
	if (!grants_gate_layer(d, c, req.method, why, sizeof(why))) {
		bw_log(LOG_NOTICE, "refused '%s' from uid %d pid %d: %s", bw_method_name(req.method), (int)c->uid,
		       (int)c->pid, why);
		reply_error(d, c, EACCES, why);
		bw_request_release(&req);
		return 0;
	}
	d->requester = c;
	handlers[req.method](d, c, &req);
	d->requester = NULL;
	bw_request_release(&req);
	/* After unload, nothing else is served. */
	return d->quit;
}
