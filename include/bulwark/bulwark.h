/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbulwark: the stable C API of bulwark.
 *
 * Administrators' tools and security vendors use it to talk to bulwarkd
 * (status, policy loading, event streams) and to check policies offline.
 * Conventions (see docs/api.md, "Stability and quality"):
 *   - int functions return 0 or a negative errno, and leave ret_
 *     out-parameters untouched on failure; running out of memory is
 *     -ENOMEM, never an abort;
 *   - opts structs start with `size_t sz`: set it to sizeof(the struct)
 *     and zero what you do not set. The library reads no field past sz (a
 *     caller built against an older header passes a smaller sz and gets
 *     the defaults for newer fields); non-zero bytes past the struct this
 *     library knows are rejected with -EINVAL;
 *   - the library never prints: it reports through the log callback;
 *   - strings handed out are malloc()ed and owned by the caller.
 *
 * Threads: the library has no global state. A struct bw_client is not
 * thread-safe: use one from one thread at a time (or lock around it);
 * distinct clients may be used from distinct threads at once. Functions
 * that take no client (bw_policy_*, bw_key_*, bw_sign, bw_unload_pins,
 * bw_version_*) are safe to call from any number of threads. Callbacks
 * run on the calling thread, inside the call that invokes them.
 */
#ifndef BULWARK_BULWARK_H
#define BULWARK_BULWARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; bw_version_*() give the library's. */
#define BULWARK_VERSION_MAJOR 0
#define BULWARK_VERSION_MINOR 5
#define BULWARK_VERSION_PATCH 0

/* Where bulwarkd listens unless told otherwise. */
#define BULWARK_SOCKET_PATH "/run/bulwark/bulwarkd.sock"

/* The drop-in policy directory: *.rules in natural sort order. */
#define BULWARK_POLICY_DIR "/etc/bulwark/policy.d"

enum bw_log_level {
	BW_LOG_ERROR = 3,
	BW_LOG_WARNING = 4,
	BW_LOG_INFO = 6,
	BW_LOG_DEBUG = 7,
	_BW_LOG_LEVEL_FORCE_64BIT = UINT64_MAX,
};

/*
 * The library's version at run time (a program may run against a newer
 * libbulwark.so.0 than the header it was built with). The string is
 * static: do not free it. Since LIBBULWARK_0.4.
 */
uint32_t bw_version_major(void);
uint32_t bw_version_minor(void);
const char *bw_version_string(void);

/* Called on the thread of the call that logs; msg is valid during the call only. */
typedef void (*bw_log_fn)(void *userdata, enum bw_log_level level, const char *msg);

struct bw_client_opts {
	size_t sz;               /* sizeof(struct bw_client_opts) */
	const char *socket_path; /* NULL: BULWARK_SOCKET_PATH */
	bw_log_fn log;           /* NULL: no logging */
	void *log_userdata;
	int timeout_ms;          /* per request; 0: 30000 */
	/* New fields go after the tail padding, never into it. */
};

/*
 * A connection to bulwarkd. Not thread-safe: one thread at a time per
 * client (requests and replies share one socket and one buffer); distinct
 * clients are independent. bw_client_events blocks its caller, so a
 * program that also sends requests uses a second client for them.
 */
struct bw_client;

/*
 * Connects to bulwarkd; opts may be NULL. -ENOENT/-ECONNREFUSED: the
 * daemon is not running; -EINVAL: bad opts (sz too small, or non-zero
 * bytes past the fields this library knows).
 */
int bw_client_new(struct bw_client **ret, const struct bw_client_opts *opts);
/* NULL is a no-op. */
void bw_client_free(struct bw_client *client);

/*
 * The daemon's status as one JSON object (schema: docs/api.md):
 * active policy identity, mode, rule count, per-operation counters.
 * *ret_json is malloc'd.
 */
int bw_client_status(struct bw_client *client, char **ret_json);

/*
 * Ask the daemon to compile and atomically install the policy at `path`
 * (a file or a directory of *.rules). On failure the previous policy stays
 * in force and *ret_diagnostics (if given) holds the compiler's messages,
 * file:line:col first. On success it holds warnings (maybe empty).
 * Returns -EINVAL for a rejected policy.
 */
int bw_client_policy_load(struct bw_client *client, const char *path, char **ret_diagnostics);

enum bw_events_flags {
	BW_EVENTS_BACKLOG = 1u << 0, /* first replay the daemon's recent events */
	BW_EVENTS_FOLLOW = 1u << 1,  /* then stream new ones until cb returns != 0 */
	_BW_EVENTS_FLAGS_FORCE_64BIT = UINT64_MAX,
};

/* One event as a JSON object on one line (schema: docs/events.md). */
typedef int (*bw_event_fn)(void *userdata, const char *json);

/*
 * Stream events to cb on the calling thread, which it blocks meanwhile:
 * BW_EVENTS_BACKLOG first replays the daemon's last 1024 events,
 * BW_EVENTS_FOLLOW then waits for new ones (no timeout) until cb returns
 * non-zero. Returns 0 at the end of the stream (without FOLLOW), the first
 * non-zero cb result, or -errno (-EINVAL for unknown flags or no cb).
 */
int bw_client_events(struct bw_client *client, uint64_t flags, bw_event_fn cb, void *userdata);

/*
 * Detach every program, remove every pin, and stop the daemon. -EPERM
 * when the policy protects bulwark or the daemon is locked (see
 * bw_client_unload_signed); bw_client_error says which.
 */
int bw_client_unload(struct bw_client *client);

/*
 * The daemon's message for the last request it refused (e.g. "protection
 * is on ..."), or NULL. Owned by the client; valid until its next request.
 */
const char *bw_client_error(const struct bw_client *client);

/*
 * Locked mode (docs/threat-model.md). Once locked, a policy load or an
 * unload needs a signed payload (bw_sign) for exactly that change, with a
 * version above the last one accepted; others fail with -EPERM.
 */
int bw_client_lock(struct bw_client *client, const char *pubkey_hex);
int bw_client_policy_load_signed(struct bw_client *client, const char *path,
				 const char *signed_payload, char **ret_diagnostics);
int bw_client_unload_signed(struct bw_client *client, const char *signed_payload);

/*
 * Image-load control: have bulwarkd read the trust database again and
 * install what it verified in the kernel (after `bulwark trust add`, an
 * import, the apt hook). *ret_json (may be NULL) gets what the kernel
 * trusts now: {"db", "entries", "trusted", "rejected", "missing", ...}.
 */
int bw_client_trust_sync(struct bw_client *client, char **ret_json);

/*
 * Ed25519 keys as one line of hex each; the secret file is created 0600,
 * and neither file may exist yet (-EEXIST).
 */
int bw_key_generate(const char *public_path, const char *secret_path);
/* The public key in a key file, as the hex bw_client_lock takes (*ret_hex malloc'd). */
int bw_key_read_public(const char *public_path, char **ret_hex);
/*
 * A signed payload for op "policy" (the policy at policy_path, by the
 * hash bulwarkd computes of its text) or "unload", at version. Text,
 * malloc'd in *ret_payload.
 */
int bw_sign(const char *secret_path, const char *op, uint64_t version, const char *policy_path,
	    char **ret_payload);

/*
 * Remove bulwark's pinned kernel objects without a daemon (e.g. after the
 * daemon was killed). Needs root. -ENOENT if nothing was pinned.
 */
int bw_unload_pins(void);

/*
 * Parse and compile a policy offline, resolving paths on this host.
 * Returns 0 if it would load, -EINVAL if it has errors; *ret_diagnostics
 * gets the messages (file:line:col: severity: message, caret, hint).
 * *ret_warnings counts warnings when non-NULL.
 */
int bw_policy_check(const char *path, char **ret_diagnostics, unsigned *ret_warnings);

/*
 * bw_policy_check for another system: every path a rule names is resolved
 * below `root` (a mounted image or container root) instead of "/".
 * Symlinks inside the image that point to absolute paths resolve on this
 * host, as with any tool that does not chroot. Since LIBBULWARK_0.2.
 */
int bw_policy_check_root(const char *path, const char *root, char **ret_diagnostics,
			 unsigned *ret_warnings);

struct bw_policy_check_opts {
	size_t sz;        /* sizeof(struct bw_policy_check_opts) */
	const char *root; /* resolve the rules' paths below this image root; NULL: "/" */
};

/*
 * bw_policy_check with options; opts may be NULL (this host, as
 * bw_policy_check). -EINVAL also for bad opts, with no diagnostics then.
 * New options arrive as fields here, not as new functions.
 * Since LIBBULWARK_0.4.
 */
int bw_policy_check_ext(const char *path, const struct bw_policy_check_opts *opts,
			char **ret_diagnostics, unsigned *ret_warnings);

/*
 * What would the kernel decide? `query` is `<op> <object> [as <selector>...]`,
 * e.g. "exec /usr/bin/curl as exe=/usr/sbin/nginx uid=33", "signal
 * exe=/opt/agent as uid=1000 with signals=KILL" or "lockdown kcore as uid=0"
 * (objects and selectors as in docs/policy.md; exe= and parent= name one
 * program). *ret_json gets the
 * deciding rule, the decision and the rules it beat (schema: docs/policy.md).
 *
 * bw_policy_explain answers offline from a policy file, resolving paths on
 * this host; bw_client_explain answers from the entries the kernel holds
 * now. Both return -EINVAL for a bad query or policy, with
 * *ret_diagnostics (if given) saying why, file:line:col first.
 * Since LIBBULWARK_0.2.
 */
int bw_policy_explain(const char *policy_path, const char *query, char **ret_json,
		      char **ret_diagnostics);
int bw_client_explain(struct bw_client *client, const char *query, char **ret_json,
		      char **ret_diagnostics);

/*
 * Notifications without a blocked thread: a subscription is its own
 * connection to bulwarkd, streaming events as they happen. Poll its fd
 * (POLLIN) in your own loop (epoll, sd-event, libuv), then call
 * bw_subscription_dispatch, which reads what arrived without blocking and
 * calls cb once per notification, in the order the daemon published
 * them. A subscription is not thread-safe; distinct ones are.
 * Since LIBBULWARK_0.4.
 */
struct bw_subscription;
/* One notification, valid during the callback only. */
struct bw_notification;

enum bw_notification_kind {
	BW_NOTIFY_DECISION = 1u << 0,  /* a decision: denials, audits, allows with `log` */
	BW_NOTIFY_PROCESS = 1u << 1,   /* process create, exec, exit (`notify` statements) */
	BW_NOTIFY_POLICY = 1u << 2,    /* policy loaded, rejected, drift */
	BW_NOTIFY_INTEGRITY = 1u << 3, /* enforcement off or restored, pins repaired */
	BW_NOTIFY_TRUST = 1u << 4,     /* trust database synced into the kernel, rows rejected */
	/*
	 * Narrower classes inside the kinds above (since LIBBULWARK_0.5): a
	 * notification carries its kind and every class it belongs to, and a
	 * subscription gets it when any of those bits is asked for. Ask for
	 * BW_NOTIFY_DENIAL alone, and only refusals arrive.
	 */
	BW_NOTIFY_THREAD = 1u << 5, /* process: thread-start, thread-exit */
	BW_NOTIFY_IMAGE = 1u << 6,  /* decision: an exec or a library mapping allowed and reported (notify image) */
	BW_NOTIFY_DENIAL = 1u << 7, /* decision: blocked, or would-deny under audit mode */
	BW_NOTIFY_AUDIT = 1u << 8,  /* decision: by an `audit` rule */
	BW_NOTIFY_OTHER = 1u << 30, /* a kind newer than this library */
};

struct bw_subscribe_opts {
	size_t sz;      /* sizeof(struct bw_subscribe_opts) */
	/*
	 * enum bw_notification_kind bits to deliver; 0: every kind. bulwarkd
	 * filters (since 0.5): what is not asked for is never queued for this
	 * subscriber, and never counted as its drop.
	 */
	uint32_t kinds;
	bool backlog;   /* first the daemon's last 1024 events, then new ones */
};

/* Return 0 to go on; non-zero stops the dispatch, which returns it. */
typedef int (*bw_notification_fn)(void *userdata, const struct bw_notification *n);

/*
 * Subscribe. client_opts as for bw_client_new (socket, log); opts may be
 * NULL (every kind, no backlog). -EINVAL for bad opts or no cb; -errno
 * of the connection.
 */
int bw_subscribe(struct bw_subscription **ret, const struct bw_client_opts *client_opts,
		 const struct bw_subscribe_opts *opts, bw_notification_fn cb, void *userdata);
/* The fd to poll for POLLIN. */
int bw_subscription_fd(const struct bw_subscription *sub);
/*
 * Deliver what has arrived: the number of callbacks made (0 when nothing
 * was ready), a callback's non-zero result, or -errno: -EPIPE when
 * bulwarkd closed the stream (it stopped, or evicted an idle client), and
 * -ENOMEM. Never blocks.
 */
int bw_subscription_dispatch(struct bw_subscription *sub);
/*
 * Events this subscriber never received: published while it read too
 * slowly, they left the daemon's backlog first. Counted, never silent.
 */
uint64_t bw_subscription_dropped(const struct bw_subscription *sub);
/* Close the connection and free; NULL is allowed. */
void bw_subscription_free(struct bw_subscription *sub);

/*
 * The notification's kind: one of the first five enum bw_notification_kind
 * bits (or BW_NOTIFY_OTHER). bw_notification_classes adds the narrower
 * classes it belongs to.
 */
uint32_t bw_notification_kind(const struct bw_notification *n);
/* Its whole JSON object, as docs/events.md describes it. */
const char *bw_notification_json(const struct bw_notification *n);
/* Decisions: "exec", "signal", ...; process: "exec", "fork", "exit"; NULL if none. */
const char *bw_notification_op(const struct bw_notification *n);
/* Decisions: "allowed", "blocked" or "would-deny"; NULL otherwise. */
const char *bw_notification_action(const struct bw_notification *n);
/* The acting process's pid; -1 when the notification has none. */
int64_t bw_notification_pid(const struct bw_notification *n);
/* The acting process's program; NULL when unknown. */
const char *bw_notification_exe(const struct bw_notification *n);
/* The target's path (a file, or a target process's program); NULL when none or unresolved. */
const char *bw_notification_target_path(const struct bw_notification *n);
/* Its kind and every narrower class it belongs to (enum bw_notification_kind bits). Since LIBBULWARK_0.5. */
uint32_t bw_notification_classes(const struct bw_notification *n);
/* The acting process's parent (its pid); -1 when the notification has none. Since LIBBULWARK_0.5. */
int64_t bw_notification_ppid(const struct bw_notification *n);
/*
 * A file target's SHA-256 in hex, when the kernel knew it (a trusted
 * image, docs/events.md); NULL otherwise. Since LIBBULWARK_0.5.
 */
const char *bw_notification_target_sha256(const struct bw_notification *n);
/*
 * Decisions while client layers exist: the name of the layer whose rule
 * decided ("policy" for the administrator's); NULL otherwise. Since
 * LIBBULWARK_0.5.
 */
const char *bw_notification_layer(const struct bw_notification *n);

/*
 * Client layers (docs/api.md, "Client layers"): a client that adds rules
 * owns a layer at an altitude, beside the administrator's policy. The
 * kernel asks every layer and deny wins: no layer's allow overrides
 * another layer's (or the policy's) deny. A layer holds allow, deny and
 * audit rules of file and kernel operations, in the policy language.
 * The layer lives as long as the client's connection: its rules go away
 * when the client is freed or disconnects, unless added as persistent,
 * and a transaction still open then is discarded. Since LIBBULWARK_0.5.
 */
#define BULWARK_CLIENT_LAYERS_MAX 8 /* client layers the kernel decides across */

struct bw_layer_opts {
	size_t sz;         /* sizeof(struct bw_layer_opts) */
	const char *name;  /* required: 1-64 of A-Z a-z 0-9 . _ -; diagnostics and events name it */
	uint32_t altitude; /* required, 1 and up, one client per altitude; higher is asked first */
};

/*
 * Open this client's layer. -EEXIST: another client has the altitude or
 * the name; -ENOSPC: BULWARK_CLIENT_LAYERS_MAX layers exist; -EALREADY:
 * this client has one; -EINVAL: bad opts. The same name and altitude take
 * back a layer whose client left persistent rules behind. *ret_json (may
 * be NULL) gets {"name","altitude","rules":[{"id","rules","persistent"}]}.
 */
int bw_client_layer_open(struct bw_client *client, const struct bw_layer_opts *opts, char **ret_json);

/* Begin a transaction on the client's layer: -EBUSY if one is open, -ENOTCONN without a layer. */
int bw_client_txn_begin(struct bw_client *client);

struct bw_rule_opts {
	size_t sz;       /* sizeof(struct bw_rule_opts) */
	bool persistent; /* the rules stay when the client goes (until removed, or bulwarkd restarts) */
};

/*
 * Add rule text (one or more lines, e.g. "deny exec /usr/bin/nc") to the
 * open transaction; opts may be NULL. *ret_id (may be NULL) gets the id
 * that bw_client_txn_remove takes once it is committed. Nothing is
 * checked or applied before bw_client_txn_commit.
 */
int bw_client_txn_add(struct bw_client *client, const char *rules, const struct bw_rule_opts *opts,
		      uint32_t *ret_id);

/* Remove committed rule text by id, at the commit. -ENOENT: no such id. */
int bw_client_txn_remove(struct bw_client *client, uint32_t id);

/*
 * Apply the transaction: compiled with the policy and every other layer
 * and swapped into the kernel at once, or not at all. On failure (-EINVAL
 * for an invalid rule) nothing changed, the transaction is discarded and
 * *ret_diagnostics (if given) holds file:line:col messages, the file
 * being the client's name and the line one of its added text's.
 */
int bw_client_txn_commit(struct bw_client *client, char **ret_diagnostics);

/* Discard the open transaction. */
int bw_client_txn_abort(struct bw_client *client);

#ifdef __cplusplus
}
#endif

#endif /* BULWARK_BULWARK_H */
