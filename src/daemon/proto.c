// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Request decoding: one table says which commands exist and which fields
 * each takes with which JSON type, so a handler never meets a null, a
 * missing field or a number where it wanted a string.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

enum field_flags {
	F_REQUIRED = 1u << 0,
	F_ABSOLUTE = 1u << 1, /* a string that must start with '/' */
};

struct field {
	const char *name;
	enum json_type type; /* json_type_string or json_type_boolean */
	unsigned flags;
	size_t offset;       /* into struct bw_request */
};

struct method {
	const char *name;
	const struct field *fields;
};

#define FIELD(n, t, f, member) { n, t, f, offsetof(struct bw_request, member) }

static const struct field load_fields[] = {
	FIELD("path", json_type_string, F_REQUIRED | F_ABSOLUTE, path),
	FIELD("signature", json_type_string, 0, signature),
	{},
};

static const struct field unload_fields[] = {
	FIELD("signature", json_type_string, 0, signature),
	{},
};

static const struct field lock_fields[] = {
	FIELD("pubkey", json_type_string, F_REQUIRED, pubkey),
	{},
};

static const struct field explain_fields[] = {
	FIELD("query", json_type_string, F_REQUIRED, query),
	{},
};

static const struct field events_fields[] = {
	FIELD("backlog", json_type_boolean, 0, backlog),
	FIELD("follow", json_type_boolean, 0, follow),
	FIELD("kinds", json_type_int, 0, kinds),
	{},
};

static const struct field layer_open_fields[] = {
	FIELD("name", json_type_string, F_REQUIRED, name),
	FIELD("altitude", json_type_int, F_REQUIRED, altitude),
	{},
};

static const struct field txn_add_fields[] = {
	FIELD("rules", json_type_string, F_REQUIRED, rules),
	FIELD("persistent", json_type_boolean, 0, persistent),
	{},
};

static const struct field txn_remove_fields[] = {
	FIELD("id", json_type_int, F_REQUIRED, id),
	{},
};

static const struct field no_fields[] = { {} };

static const struct method methods[BW_M_COUNT] = {
	[BW_M_STATUS] = { "status", no_fields },
	[BW_M_POLICY_LOAD] = { "policy-load", load_fields },
	[BW_M_EXPLAIN] = { "explain", explain_fields },
	[BW_M_EVENTS] = { "events", events_fields },
	[BW_M_UNLOAD] = { "unload", unload_fields },
	[BW_M_LOCK] = { "lock", lock_fields },
	[BW_M_TRUST_SYNC] = { "trust-sync", no_fields },
	[BW_M_LAYER_OPEN] = { "layer-open", layer_open_fields },
	[BW_M_TXN_BEGIN] = { "txn-begin", no_fields },
	[BW_M_TXN_ADD] = { "txn-add", txn_add_fields },
	[BW_M_TXN_REMOVE] = { "txn-remove", txn_remove_fields },
	[BW_M_TXN_COMMIT] = { "txn-commit", no_fields },
	[BW_M_TXN_ABORT] = { "txn-abort", no_fields },
};

const char *bw_method_name(enum bw_method m)
{
	return (unsigned)m < BW_M_COUNT ? methods[m].name : "?";
}

static const char *type_name(enum json_type t)
{
	return t == json_type_boolean ? "a boolean" : t == json_type_int ? "an integer" : "a string";
}

/* One field of req from o, by the table. */
static int decode_field(struct json_object *o, const struct field *f, struct bw_request *req,
			char *err, size_t err_len)
{
	struct json_object *v;
	char *slot = (char *)req + f->offset;

	if (!json_object_object_get_ex(o, f->name, &v)) {
		if (!(f->flags & F_REQUIRED))
			return 0;
		snprintf(err, err_len, "field '%s' is required", f->name);
		return -EINVAL;
	}
	/* null is a wrong type, not an absent field: the client said something. */
	if (!json_object_is_type(v, f->type)) {
		snprintf(err, err_len, "field '%s' must be %s", f->name, type_name(f->type));
		return -EINVAL;
	}
	if (f->type == json_type_boolean) {
		*(bool *)slot = json_object_get_boolean(v);
		return 0;
	}
	if (f->type == json_type_int) {
		*(int64_t *)slot = json_object_get_int64(v);
		return 0;
	}
	/* A NUL inside would make the handler see another string than was sent. */
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		snprintf(err, err_len, "field '%s' must not contain NUL", f->name);
		return -EINVAL;
	}
	if ((f->flags & F_ABSOLUTE) && json_object_get_string(v)[0] != '/') {
		snprintf(err, err_len, "field '%s' must be an absolute path", f->name);
		return -EINVAL;
	}
	*(const char **)slot = json_object_get_string(v);
	return 0;
}

/* "v": absent is 1; anything but a known integer is refused by name. */
static int decode_version(struct json_object *o, struct bw_request *req, char *err, size_t err_len)
{
	struct json_object *v;

	req->version = 1;
	if (!json_object_object_get_ex(o, "v", &v))
		return 0;
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(err, err_len, "field 'v' must be an integer");
		return -EINVAL;
	}
	if (json_object_get_int64(v) != BW_PROTO_VERSION) {
		snprintf(err, err_len, "protocol version %lld is not supported (this bulwarkd speaks version %d)",
			 (long long)json_object_get_int64(v), BW_PROTO_VERSION);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

static int decode_method(struct json_object *o, struct bw_request *req, char *err, size_t err_len)
{
	struct json_object *v;
	const char *cmd;

	if (!json_object_object_get_ex(o, "cmd", &v)) {
		snprintf(err, err_len, "field 'cmd' is required");
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, err_len, "field 'cmd' must be a string");
		return -EINVAL;
	}
	cmd = json_object_get_string(v);
	for (int m = 0; m < BW_M_COUNT; m++)
		if (strcmp(cmd, methods[m].name) == 0 &&
		    strlen(cmd) == (size_t)json_object_get_string_len(v)) {
			req->method = m;
			return 0;
		}
	/* Quote a bounded prefix: the reply must not echo a megabyte back. */
	snprintf(err, err_len, "unknown command '%.64s'", cmd);
	return -EOPNOTSUPP;
}

/* The whole line must be one JSON object, with nothing but blanks after it. */
static struct json_object *parse_object(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;
	size_t end;

	if (!tok || len > (size_t)INT32_MAX)
		goto out;
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	if (!o)
		goto out;
	for (end = json_tokener_get_parse_end(tok); end < len; end++)
		if (!strchr(" \t\r\n", line[end]) || !line[end])
			break;
	if (end < len || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
out:
	json_tokener_free(tok);
	return o;
}

int bw_proto_decode(const char *line, size_t len, struct bw_request *req, char *err, size_t err_len)
{
	struct bw_request r = { 0 };
	int ret;

	r.root = parse_object(line, len);
	if (!r.root) {
		snprintf(err, err_len, "malformed request: not one JSON object");
		ret = -EINVAL;
		goto out;
	}
	ret = decode_version(r.root, &r, err, err_len);
	if (ret == 0)
		ret = decode_method(r.root, &r, err, err_len);
	for (const struct field *f = ret == 0 ? methods[r.method].fields : no_fields; f->name && ret == 0; f++)
		ret = decode_field(r.root, f, &r, err, err_len);
out:
	if (ret < 0) {
		bw_request_release(&r);
		return ret;
	}
	*req = r;
	return 0;
}

void bw_request_release(struct bw_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}
