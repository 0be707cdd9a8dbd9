/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol's requests, decoded and typed before any handler
 * sees them (docs/architecture.md, "Control protocol"). Pure: no daemon
 * state, no I/O, so it is unit-tested and fuzzed on its own.
 */
#ifndef BULWARKD_PROTO_H
#define BULWARKD_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version this daemon speaks; a request without "v" is version 1. */
#define BW_PROTO_VERSION 1
/* Room for the longest error message the decoder writes. */
#define BW_PROTO_ERR_MAX 256

enum bw_method {
	BW_M_STATUS = 0,
	BW_M_POLICY_LOAD = 1,
	BW_M_EXPLAIN = 2,
	BW_M_EVENTS = 3,
	BW_M_UNLOAD = 4,
	BW_M_LOCK = 5,
	BW_M_TRUST_SYNC = 6,
	BW_M_LAYER_OPEN = 7,  /* client layers (docs/api.md): name, altitude */
	BW_M_TXN_BEGIN = 8,
	BW_M_TXN_ADD = 9,     /* rules, persistent */
	BW_M_TXN_REMOVE = 10, /* id */
	BW_M_TXN_COMMIT = 11,
	BW_M_TXN_ABORT = 12,
	BW_M_COUNT = 13,
};

/* A decoded request. Strings point into root and live as long as it does. */
struct bw_request {
	enum bw_method method;
	int version;
	const char *path;  /* policy-load: an absolute path */
	const char *query; /* explain */
	bool backlog;      /* events */
	bool follow;       /* events */
	int64_t kinds;     /* events: enum bw_notification_kind bits to send; 0: every event */
	const char *signature; /* policy-load, unload: a signed payload (locked mode) */
	const char *pubkey;    /* lock: the Ed25519 public key, hex */
	const char *name;      /* layer-open: the client's name */
	int64_t altitude;      /* layer-open */
	const char *rules;     /* txn-add: rule text in the policy language */
	bool persistent;       /* txn-add: the rules outlive the connection */
	int64_t id;            /* txn-remove: a committed rule's id */
	struct json_object *root;
};

/*
 * Decode one request line (len bytes, no newline needed). Returns 0, or
 * -errno with err holding the message the client is sent: -EINVAL for
 * malformed JSON and missing, null or wrongly-typed fields, -EOPNOTSUPP
 * for an unknown command, -EPROTONOSUPPORT for an unknown version.
 */
int bw_proto_decode(const char *line, size_t len, struct bw_request *req, char *err, size_t err_len);
/* Release what a successful decode holds; a zeroed request is a no-op. */
void bw_request_release(struct bw_request *req);
const char *bw_method_name(enum bw_method m);

#endif
