/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: accepting uid-0 peers, reading request lines, and
 * a bounded output queue per client flushed when the socket has room, so
 * a client that never reads stalls nobody and no line is ever torn.
 */
#ifndef BULWARKD_SERVER_H
#define BULWARKD_SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CLIENTS_MAX 64
#define REQUEST_MAX 65536
/* A client's unsent output, at most: past it the client is dropped, counted. */
#define OUTPUT_MAX (4u << 20)
/* conn.rights of root: every operation, the ones no grant gives included. */
#define CONN_ROOT (1u << 31)
/* A stream (the events backlog) is fed while less than this waits unsent. */
#define STREAM_LOW (256u << 10)
/* epoll tags: the listening socket, and clients from CONN_TAG + slot. */
#define LISTEN_TAG 2
#define CONN_TAG 100

struct conn {
	int fd;
	int slot;
	pid_t pid;           /* the peer, as the kernel vouched at accept */
	uid_t uid;           /* its uid, as the kernel vouched */
	uint64_t exe_dev, exe_ino; /* its program's file at accept (kernel dev_t), 0 if unknown */
	uint32_t rights;     /* what it may ask (enum bw_grant bits, CONN_ROOT for root) */
	char exe[PATH_MAX];  /* its program then: the pid may be gone when an event names it */
	bool dead;           /* closed at the next reap */
	int64_t active_ms;   /* accepted or last request line (CLOCK_MONOTONIC) */
	bool want_out;       /* EPOLLOUT is armed */
	/* An events stream: lines [cursor, end) of the backlog; with follow, every new one. */
	bool streaming, follow;
	uint32_t kinds;      /* the classes it asked for (bw_event_classes bits); 0: every event */
	uint64_t cursor, end;
	uint64_t missed; /* lines that left the backlog unread, not yet told to the client */
	char *out;           /* unsent bytes are out[out_off, out_len) */
	size_t out_off, out_len, out_cap;
	size_t in_len;
	char in[REQUEST_MAX];
};

struct server {
	const char *path;
	int listen_fd;
	int epfd;
	struct conn *conns[CLIENTS_MAX];
	uint64_t dropped; /* clients dropped for output they did not read */
	uint64_t evicted; /* idle clients closed to make room for a new one */
	void *ctx;
	/* One request line (NUL-terminated, no newline). Non-zero: read no further lines. */
	int (*on_line)(void *ctx, struct conn *c, const char *line, size_t len);
	/* The client's queue ran low: feed its stream, if it has one. */
	void (*on_writable)(void *ctx, struct conn *c);
	/* Optional: a client is going away (closed, dropped or evicted). */
	void (*on_close)(void *ctx, struct conn *c);
	/*
	 * Optional: what a new client may do (enum bw_grant bits, CONN_ROOT
	 * for root), from its uid and program; 0 refuses it. Unset: root only.
	 */
	uint32_t (*admit)(void *ctx, const struct conn *c);
	/* Optional: a client that is never evicted (a protected agent's). */
	bool (*keeps_slot)(void *ctx, const struct conn *c);
};

/* Is something listening at path (another bulwarkd)? */
bool socket_answers(const char *path);
/*
 * Listen at s->path, replacing a stale socket file but never one that
 * answers (-EADDRINUSE). Registers the socket with s->epfd.
 */
int server_listen(struct server *s);
/*
 * Accept a root peer. With every slot taken, the client idle the longest
 * (no request line since) is closed to make room, so root holding every
 * connection cannot shut the administrator out; a client keeps_slot
 * vouches for is never chosen.
 */
void server_accept(struct server *s);
/* Serve what epoll reported for the client in slot. */
void server_io(struct server *s, int slot, uint32_t events);
/*
 * Queue prefix+body+suffix and a newline as one line, and send what the
 * socket takes. A client whose queue would pass OUTPUT_MAX is marked dead
 * and counted instead: -ENOBUFS. A dead client: -EPIPE.
 */
int conn_send(struct server *s, struct conn *c, const char *prefix, const char *body, const char *suffix);
size_t conn_pending(const struct conn *c);
/* Close the clients marked dead. */
void server_reap(struct server *s);
void server_close(struct server *s);

/* A process's program, as a query names it: no " (deleted)" after an upgrade. */
bool program_of(const char *link, char *buf, size_t len);

#endif
