// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Client side of the control protocol: one JSON object per line over a
 * Unix stream socket. A request is one line; the reply is one line, except
 * for event streams, which are lines ending with {"end":true}.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "../../bpf/abi.h"
#include "internal.h"

struct bw_client {
	int fd;
	int timeout_ms;
	bw_log_fn log;
	void *log_userdata;
	char *buf; /* received bytes not yet consumed */
	size_t len, cap;
	char *error; /* the daemon's message for the last refused request */
};

static void client_log(struct bw_client *c, enum bw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void client_log(struct bw_client *c, enum bw_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_userdata, level, msg);
}

uint32_t bw_version_major(void)
{
	return BULWARK_VERSION_MAJOR;
}

uint32_t bw_version_minor(void)
{
	return BULWARK_VERSION_MINOR;
}

#define BW_STR_(x) #x
#define BW_STR(x) BW_STR_(x)

const char *bw_version_string(void)
{
	return BW_STR(BULWARK_VERSION_MAJOR) "." BW_STR(BULWARK_VERSION_MINOR) "." BW_STR(
		BULWARK_VERSION_PATCH);
}

int bw_opts_valid(const void *opts, size_t known, size_t given)
{
	const unsigned char *p = opts;

	if (given < sizeof(size_t))
		return 0;
	for (size_t i = known; i < given; i++)
		if (p[i])
			return 0;
	return 1;
}

int bw_client_new(struct bw_client **ret, const struct bw_client_opts *opts)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path;
	struct bw_client *c = NULL;
	int r;

	if (!ret || !BW_OPTS_VALID(opts, struct bw_client_opts))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	/* Only what the caller's sz covers: an older caller's struct ends sooner. */
	path = BW_OPTS_GET(opts, socket_path, NULL) ?: BULWARK_SOCKET_PATH;
	c->timeout_ms = BW_OPTS_GET(opts, timeout_ms, 0);
	if (c->timeout_ms <= 0)
		c->timeout_ms = 30000;
	c->log = BW_OPTS_GET(opts, log, NULL);
	c->log_userdata = BW_OPTS_GET(opts, log_userdata, NULL);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		r = -errno;
		goto fail;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		client_log(c, BW_LOG_DEBUG, "connect %s: %s", path, strerror(errno));
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	bw_client_free(c);
	return r;
}

void bw_client_free(struct bw_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->error);
	free(c);
}

const char *bw_client_error(const struct bw_client *c)
{
	return c ? c->error : NULL;
}

/* An object as one line of text, or NULL when json-c runs out of memory. */
static const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* o[k] = v, taking v; a NULL v is json-c out of memory. */
static int add_field(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int send_request(struct bw_client *c, struct json_object *req)
{
	const char *s = json_text(req);
	size_t len = s ? strlen(s) : 0, off = 0;

	if (!s)
		return -ENOMEM;
	while (off <= len) {
		/* Send the text, then the terminating newline. */
		const char *p = off < len ? s + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += w;
	}
	return 0;
}

/* Next line from the daemon, as a parsed object. timeout < 0: wait forever. */
static int read_reply(struct bw_client *c, int timeout_ms, struct json_object **ret)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t l = nl - c->buf;
			struct json_object *o;

			*nl = 0;
			o = json_tokener_parse(c->buf);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			if (!o || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				client_log(c, BW_LOG_ERROR, "malformed reply from bulwarkd");
				return -EBADMSG;
			}
			*ret = o;
			return 0;
		}
		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *grown;

			if (cap > (64u << 20))
				return -EMSGSIZE;
			grown = realloc(c->buf, cap);
			if (!grown)
				return -ENOMEM;
			c->buf = grown;
			c->cap = cap;
		}
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ETIMEDOUT;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		c->len += n;
	}
}

/* Send {"v": 1, "cmd": cmd, ...extra} and read one reply. */
static int call(struct bw_client *c, struct json_object *req, struct json_object **ret)
{
	int r = send_request(c, req);

	if (r < 0)
		return r;
	return read_reply(c, c->timeout_ms, ret);
}

static struct json_object *request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	/* The protocol version this library speaks (docs/architecture.md). */
	if (req && (add_field(req, "v", json_object_new_int(1)) < 0 ||
		    add_field(req, "cmd", json_object_new_string(cmd)) < 0)) {
		json_object_put(req);
		req = NULL;
	}
	return req;
}

/* A reply's "ok" and "error": daemon-side failures become -errno. */
static int reply_status(struct bw_client *c, struct json_object *reply)
{
	struct json_object *ok, *err, *code;

	if (json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok))
		return 0;
	/* The caller gets the errno, and the message through bw_client_error(). */
	free(c->error);
	c->error = NULL;
	if (json_object_object_get_ex(reply, "error", &err) && json_object_get_string(err)) {
		client_log(c, BW_LOG_DEBUG, "bulwarkd: %s", json_object_get_string(err));
		/* Out of memory here loses only the message: the errno still says it. */
		c->error = strdup(json_object_get_string(err));
	}
	if (json_object_object_get_ex(reply, "errno", &code) && json_object_get_int(code) > 0)
		return -json_object_get_int(code);
	return -EIO;
}

int bw_client_status(struct bw_client *c, char **ret_json)
{
	struct json_object *req, *reply = NULL;
	char *s;
	int r;

	/* Arguments first: a refused call must not have allocated anything. */
	if (!c || !ret_json)
		return -EINVAL;
	req = request("status");
	if (!req)
		return -ENOMEM;
	r = call(c, req, &reply);
	if (r < 0)
		goto out;
	r = reply_status(c, reply);
	if (r < 0)
		goto out;
	s = json_text(reply) ? strdup(json_text(reply)) : NULL;
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	*ret_json = s;
out:
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_trust_sync(struct bw_client *c, char **ret_json)
{
	struct json_object *req = request("trust-sync"), *reply = NULL, *trust;
	char *s;
	int r;

	if (!c) {
		json_object_put(req);
		return -EINVAL;
	}
	if (!req)
		return -ENOMEM;
	r = call(c, req, &reply);
	if (r < 0)
		goto out;
	r = reply_status(c, reply);
	if (r < 0 || !ret_json)
		goto out;
	if (!json_object_object_get_ex(reply, "trust", &trust)) {
		r = -EPROTO;
		goto out;
	}
	s = strdup(json_object_to_json_string_ext(trust, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	*ret_json = s;
out:
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_policy_load(struct bw_client *c, const char *path, char **ret_diagnostics)
{
	return bw_client_policy_load_signed(c, path, NULL, ret_diagnostics);
}

int bw_client_policy_load_signed(struct bw_client *c, const char *path, const char *signed_payload,
				 char **ret_diagnostics)
{
	struct json_object *req, *reply = NULL, *diag;
	char *abs = NULL;
	int r;

	if (!c || !path)
		return -EINVAL;
	req = request("policy-load");
	if (!req)
		return -ENOMEM;
	/* The daemon may run with another working directory. */
	abs = realpath(path, NULL);
	if (!abs) {
		r = -errno;
		goto out;
	}
	r = add_field(req, "path", json_object_new_string(abs));
	if (r == 0 && signed_payload)
		r = add_field(req, "signature", json_object_new_string(signed_payload));
	if (r < 0)
		goto out;
	r = call(c, req, &reply);
	if (r < 0)
		goto out;
	r = reply_status(c, reply);
	if (ret_diagnostics && json_object_object_get_ex(reply, "diagnostics", &diag)) {
		char *d = strdup(json_object_get_string(diag));

		if (!d) {
			r = -ENOMEM;
			goto out;
		}
		*ret_diagnostics = d;
	}
out:
	free(abs);
	json_object_put(req);
	json_object_put(reply);
	return r;
}

/* A string field of a reply, copied for the caller; absent is not an error. */
static int take_string(struct json_object *reply, const char *field, char **ret)
{
	struct json_object *v;
	const char *text;
	char *copy;

	if (!ret || !json_object_object_get_ex(reply, field, &v) || json_object_is_type(v, json_type_null))
		return 0;
	text = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : json_text(v);
	copy = text ? strdup(text) : NULL;
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

int bw_client_explain(struct bw_client *c, const char *query, char **ret_json, char **ret_diagnostics)
{
	struct json_object *req, *reply = NULL;
	int r;

	if (!c || !query || !ret_json)
		return -EINVAL;
	req = request("explain");
	if (!req)
		return -ENOMEM;
	r = add_field(req, "query", json_object_new_string(query));
	if (r < 0)
		goto out;
	r = call(c, req, &reply);
	if (r < 0)
		goto out;
	r = reply_status(c, reply);
	if (r == 0)
		r = take_string(reply, "explain", ret_json);
	else if (take_string(reply, "diagnostics", ret_diagnostics) < 0)
		r = -ENOMEM;
out:
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_events(struct bw_client *c, uint64_t flags, bw_event_fn cb, void *userdata)
{
	struct json_object *req, *line = NULL;
	int r;

	if (!c || !cb || (flags & ~(uint64_t)(BW_EVENTS_BACKLOG | BW_EVENTS_FOLLOW)))
		return -EINVAL;
	req = request("events");
	if (!req)
		return -ENOMEM;
	r = add_field(req, "backlog", json_object_new_boolean(!!(flags & BW_EVENTS_BACKLOG)));
	if (r == 0)
		r = add_field(req, "follow", json_object_new_boolean(!!(flags & BW_EVENTS_FOLLOW)));
	if (r == 0)
		r = send_request(c, req);
	while (r == 0) {
		struct json_object *end, *ev;

		r = read_reply(c, (flags & BW_EVENTS_FOLLOW) ? -1 : c->timeout_ms, &line);
		if (r < 0)
			break;
		if (json_object_object_get_ex(line, "end", &end)) {
			r = reply_status(c, line);
			break;
		}
		if (json_object_object_get_ex(line, "event", &ev))
			r = json_text(ev) ? cb(userdata, json_text(ev)) : -ENOMEM;
		json_object_put(line);
		line = NULL;
	}
	json_object_put(line);
	json_object_put(req);
	return r;
}

int bw_client_unload(struct bw_client *c)
{
	return bw_client_unload_signed(c, NULL);
}

/* A request whose reply is only ok or an error; takes req (field `name` set to value if both given). */
static int simple_request(struct bw_client *c, struct json_object *req, const char *name,
			  const char *value)
{
	struct json_object *reply = NULL;
	int r;

	if (!c) {
		json_object_put(req);
		return -EINVAL;
	}
	if (!req)
		return -ENOMEM;
	r = name && value ? add_field(req, name, json_object_new_string(value)) : 0;
	if (r == 0)
		r = call(c, req, &reply);
	if (r == 0)
		r = reply_status(c, reply);
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_unload_signed(struct bw_client *c, const char *signed_payload)
{
	return simple_request(c, request("unload"), "signature", signed_payload);
}

int bw_client_lock(struct bw_client *c, const char *pubkey_hex)
{
	if (!pubkey_hex)
		return -EINVAL;
	return simple_request(c, request("lock"), "pubkey", pubkey_hex);
}

int bw_unload_pins(void)
{
	int r, q;

	if (access(BW_PIN_ROOT, F_OK) < 0)
		return -errno;
	/* A generation left staged by an interrupted upgrade goes too. */
	r = bw_pins_unload(BW_PIN_NEXT);
	q = bw_pins_unload(BW_PIN_ROOT);
	return q < 0 ? q : r == -ENOENT ? 0 : r;
}

/* ---- subscriptions: notifications through a pollable fd --------------- */

struct bw_subscription {
	struct bw_client *c; /* its own connection, streaming */
	uint32_t kinds;
	bw_notification_fn cb;
	void *userdata;
	uint64_t dropped;
};

struct bw_notification {
	struct json_object *o;
	uint32_t classes; /* its kind and narrower classes (bw_event_classes) */
};

int bw_subscribe(struct bw_subscription **ret, const struct bw_client_opts *client_opts,
		 const struct bw_subscribe_opts *opts, bw_notification_fn cb, void *userdata)
{
	struct bw_subscription *s;
	struct json_object *req;
	int r;

	if (!ret || !cb || !BW_OPTS_VALID(opts, struct bw_subscribe_opts))
		return -EINVAL;
	*ret = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kinds = BW_OPTS_GET(opts, kinds, 0) ?: UINT32_MAX;
	s->cb = cb;
	s->userdata = userdata;
	r = bw_client_new(&s->c, client_opts);
	if (r < 0) {
		free(s);
		return r;
	}
	req = request("events");
	if (!req)
		r = -ENOMEM;
	if (r == 0)
		r = add_field(req, "backlog", json_object_new_boolean(BW_OPTS_GET(opts, backlog, false)));
	if (r == 0)
		r = add_field(req, "follow", json_object_new_boolean(1));
	if (r == 0 && s->kinds != UINT32_MAX)
		r = add_field(req, "kinds", json_object_new_int64(s->kinds));
	if (r == 0)
		r = send_request(s->c, req);
	json_object_put(req);
	if (r < 0) {
		bw_subscription_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int bw_subscription_fd(const struct bw_subscription *sub)
{
	return sub ? sub->c->fd : -EINVAL;
}

uint64_t bw_subscription_dropped(const struct bw_subscription *sub)
{
	return sub ? sub->dropped : 0;
}

void bw_subscription_free(struct bw_subscription *sub)
{
	if (!sub)
		return;
	bw_client_free(sub->c);
	free(sub);
}

static const char *field_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       "";
}

/*
 * An event's kind and the narrower classes it belongs to: the one
 * classification, shared by bulwarkd (which filters each subscription
 * with it) and the library (bw_notification_classes).
 */
uint32_t bw_event_classes(struct json_object *ev)
{
	static const struct {
		const char *type;
		uint32_t kind;
	} kinds[] = {
		{ "decision", BW_NOTIFY_DECISION }, { "process", BW_NOTIFY_PROCESS },
		{ "policy", BW_NOTIFY_POLICY },	    { "integrity", BW_NOTIFY_INTEGRITY },
		{ "trust", BW_NOTIFY_TRUST },
	};
	const char *type = field_str(ev, "type");
	uint32_t bits = BW_NOTIFY_OTHER;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(type, kinds[i].type) == 0)
			bits = kinds[i].kind;
	if (bits == BW_NOTIFY_PROCESS && strncmp(field_str(ev, "event"), "thread-", 7) == 0)
		bits |= BW_NOTIFY_THREAD;
	if (bits == BW_NOTIFY_DECISION) {
		const char *action = field_str(ev, "action"), *decision = field_str(ev, "decision");
		const char *op = field_str(ev, "op");

		if (strcmp(action, "blocked") == 0 || strcmp(action, "would-deny") == 0)
			bits |= BW_NOTIFY_DENIAL;
		if (strcmp(decision, "audit") == 0)
			bits |= BW_NOTIFY_AUDIT;
		if (strcmp(action, "allowed") == 0 && strcmp(decision, "allow") == 0 &&
		    (strcmp(op, "exec") == 0 || strcmp(op, "load") == 0))
			bits |= BW_NOTIFY_IMAGE;
	}
	return bits;
}

static uint32_t kind_of(uint32_t classes)
{
	return classes & (BW_NOTIFY_DECISION | BW_NOTIFY_PROCESS | BW_NOTIFY_POLICY | BW_NOTIFY_INTEGRITY |
			  BW_NOTIFY_TRUST | BW_NOTIFY_OTHER);
}

int bw_subscription_dispatch(struct bw_subscription *sub)
{
	int calls = 0;

	if (!sub)
		return -EINVAL;
	for (;;) {
		struct json_object *line = NULL, *ev, *n;
		int r = read_reply(sub->c, 0, &line);

		if (r == -ETIMEDOUT)
			return calls; /* nothing more has arrived */
		if (r == -ECONNRESET)
			return -EPIPE;
		if (r < 0)
			return r;
		/* The daemon says how many events left its backlog before we read them. */
		if (json_object_object_get_ex(line, "dropped", &n))
			sub->dropped += (uint64_t)json_object_get_int64(n);
		if (json_object_object_get_ex(line, "event", &ev)) {
			struct bw_notification note = { .o = ev, .classes = bw_event_classes(ev) };

			/* bulwarkd filters already; this keeps an older one's extra kinds out. */
			if (note.classes & sub->kinds) {
				calls++;
				r = sub->cb(sub->userdata, &note);
			}
		}
		json_object_put(line);
		if (r)
			return r;
	}
}

uint32_t bw_notification_kind(const struct bw_notification *n)
{
	return n ? kind_of(n->classes) : 0;
}

uint32_t bw_notification_classes(const struct bw_notification *n)
{
	return n ? n->classes : 0;
}

const char *bw_notification_json(const struct bw_notification *n)
{
	return n ? json_text(n->o) : NULL;
}

/* A string field, at a path of up to two keys; NULL when absent or not a string. */
static const char *note_str(const struct bw_notification *n, const char *k1, const char *k2)
{
	struct json_object *v;

	if (!n || !json_object_object_get_ex(n->o, k1, &v))
		return NULL;
	if (k2 && !json_object_object_get_ex(v, k2, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *bw_notification_op(const struct bw_notification *n)
{
	return note_str(n, "op", NULL) ?: note_str(n, "event", NULL);
}

const char *bw_notification_action(const struct bw_notification *n)
{
	return note_str(n, "action", NULL);
}

int64_t bw_notification_pid(const struct bw_notification *n)
{
	struct json_object *p, *pid;

	if (!n || !json_object_object_get_ex(n->o, "process", &p) ||
	    !json_object_object_get_ex(p, "pid", &pid))
		return -1;
	return json_object_get_int64(pid);
}

const char *bw_notification_exe(const struct bw_notification *n)
{
	return note_str(n, "process", "exe");
}

const char *bw_notification_target_path(const struct bw_notification *n)
{
	return note_str(n, "target", "path") ?: note_str(n, "target", "exe");
}

int64_t bw_notification_ppid(const struct bw_notification *n)
{
	struct json_object *p, *ppid;

	if (!n || !json_object_object_get_ex(n->o, "process", &p) ||
	    !json_object_object_get_ex(p, "ppid", &ppid))
		return -1;
	return json_object_get_int64(ppid);
}

const char *bw_notification_target_sha256(const struct bw_notification *n)
{
	return note_str(n, "target", "sha256");
}

const char *bw_notification_layer(const struct bw_notification *n)
{
	return note_str(n, "layer", "name");
}

/* ---- client layers ------------------------------------------------------- */

int bw_client_layer_open(struct bw_client *c, const struct bw_layer_opts *opts, char **ret_json)
{
	struct json_object *req, *reply = NULL;
	const char *name;
	uint32_t altitude;
	char *s;
	int r;

	if (!c || !opts || !BW_OPTS_VALID(opts, struct bw_layer_opts))
		return -EINVAL;
	name = BW_OPTS_GET(opts, name, NULL);
	altitude = BW_OPTS_GET(opts, altitude, 0);
	if (!name || !altitude)
		return -EINVAL;
	req = request("layer-open");
	if (!req)
		return -ENOMEM;
	r = add_field(req, "name", json_object_new_string(name));
	if (r == 0)
		r = add_field(req, "altitude", json_object_new_int64(altitude));
	if (r == 0)
		r = call(c, req, &reply);
	if (r == 0)
		r = reply_status(c, reply);
	if (r == 0 && ret_json) {
		json_object_object_del(reply, "ok");
		s = strdup(json_text(reply));
		if (!s)
			r = -ENOMEM;
		else
			*ret_json = s;
	}
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_txn_begin(struct bw_client *c)
{
	return simple_request(c, request("txn-begin"), NULL, NULL);
}

int bw_client_txn_abort(struct bw_client *c)
{
	return simple_request(c, request("txn-abort"), NULL, NULL);
}

int bw_client_txn_add(struct bw_client *c, const char *rules, const struct bw_rule_opts *opts,
		      uint32_t *ret_id)
{
	struct json_object *req, *reply = NULL, *id;
	int r;

	if (!c || !rules || !BW_OPTS_VALID(opts, struct bw_rule_opts))
		return -EINVAL;
	req = request("txn-add");
	if (!req)
		return -ENOMEM;
	r = add_field(req, "rules", json_object_new_string(rules));
	if (r == 0)
		r = add_field(req, "persistent", json_object_new_boolean(BW_OPTS_GET(opts, persistent, false)));
	if (r == 0)
		r = call(c, req, &reply);
	if (r == 0)
		r = reply_status(c, reply);
	if (r == 0 && ret_id) {
		if (!json_object_object_get_ex(reply, "id", &id) || !json_object_is_type(id, json_type_int))
			r = -EPROTO;
		else
			*ret_id = (uint32_t)json_object_get_int64(id);
	}
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_txn_remove(struct bw_client *c, uint32_t id)
{
	struct json_object *req, *reply = NULL;
	int r;

	if (!c || !id)
		return -EINVAL;
	req = request("txn-remove");
	if (!req)
		return -ENOMEM;
	r = add_field(req, "id", json_object_new_int64(id));
	if (r == 0)
		r = call(c, req, &reply);
	if (r == 0)
		r = reply_status(c, reply);
	json_object_put(req);
	json_object_put(reply);
	return r;
}

int bw_client_txn_commit(struct bw_client *c, char **ret_diagnostics)
{
	struct json_object *req, *reply = NULL;
	int r;

	if (!c)
		return -EINVAL;
	req = request("txn-commit");
	if (!req)
		return -ENOMEM;
	r = call(c, req, &reply);
	if (r == 0) {
		r = reply_status(c, reply);
		if (r < 0 && take_string(reply, "diagnostics", ret_diagnostics) < 0)
			r = -ENOMEM;
	}
	json_object_put(req);
	json_object_put(reply);
	return r;
}
