// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket server. Client sockets are non-blocking, so every
 * reply goes through the client's queue: what the socket does not take now
 * is sent on EPOLLOUT, whole lines only. A reader too slow for OUTPUT_MAX
 * is disconnected (and counted) rather than sent a cut line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

bool program_of(const char *link, char *buf, size_t len)
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

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

bool socket_answers(const char *path)
{
	struct sockaddr_un sa;
	int fd = -1;
	bool live = false;

	if (fill_addr(path, &sa) < 0)
		goto out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	/* ECONNREFUSED: a stale file nobody listens on. */
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
out:
	if (fd >= 0)
		close(fd);
	return live;
}

int server_listen(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
	struct sockaddr_un sa;
	char *dir = strdup(s->path), *slash;
	mode_t old;
	int fd = -1, r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	free(dir);
	r = fill_addr(s->path, &sa);
	if (r < 0)
		goto out;
	/* Never take the socket of a daemon that still serves it. */
	if (socket_answers(s->path)) {
		r = -EADDRINUSE;
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	unlink(s->path);
	old = umask(0077);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ? -errno : 0;
	umask(old);
	if (r == 0 && epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		r = -errno;
out:
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	s->listen_fd = fd;
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_free(struct server *s, int slot)
{
	struct conn *c = s->conns[slot];

	if (s->on_close)
		s->on_close(s->ctx, c);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
	s->conns[slot] = NULL;
}

/* A free slot, made by closing the longest-idle evictable client if need be; -1: none. */
static int free_slot(struct server *s)
{
	int slot, victim = -1;

	for (slot = 0; slot < CLIENTS_MAX; slot++) {
		struct conn *c = s->conns[slot];

		if (!c)
			return slot;
		if (c->dead || (s->keeps_slot && s->keeps_slot(s->ctx, c)))
			continue;
		if (victim < 0 || c->active_ms < s->conns[victim]->active_ms)
			victim = slot;
	}
	if (victim < 0)
		return -1;
	bw_log(LOG_WARNING, "control connections full: closing pid %d (%s), idle %lld ms",
	       (int)s->conns[victim]->pid, s->conns[victim]->exe[0] ? s->conns[victim]->exe : "?",
	       (long long)(monotonic_ms() - s->conns[victim]->active_ms));
	conn_free(s, victim);
	s->evicted++;
	return victim;
}

void server_accept(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct conn *c = NULL;
	struct stat st;
	char link[64];
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), slot;

	if (fd < 0)
		return;
	/* The kernel vouches for the peer: root, or a uid the policy grants something. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->pid = cred.pid;
	c->uid = cred.uid;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)cred.pid);
	if (!program_of(link, c->exe, sizeof(c->exe)))
		c->exe[0] = 0;
	if (stat(link, &st) == 0) {
		/* The kernel's dev_t (MAJOR << 20 | MINOR), as the policy compiler records files. */
		c->exe_dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
		c->exe_ino = st.st_ino;
	}
	c->rights = cred.uid == 0 ? CONN_ROOT : s->admit ? s->admit(s->ctx, c) : 0;
	if (!c->rights) {
		bw_log(LOG_WARNING, "refused control connection from uid %d pid %d (%s): no grant in the policy",
		       (int)cred.uid, (int)cred.pid, c->exe[0] ? c->exe : "?");
		goto fail;
	}
	slot = free_slot(s);
	if (slot < 0) {
		bw_log(LOG_WARNING, "too many control connections; refusing pid %d", (int)cred.pid);
		goto fail;
	}
	c->fd = fd;
	c->slot = slot;
	c->active_ms = monotonic_ms();
	ev.data.u64 = CONN_TAG + slot;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	s->conns[slot] = c;
	return;
fail:
	free(c);
	close(fd);
}

size_t conn_pending(const struct conn *c)
{
	return c->out_len - c->out_off;
}

static void want_out(struct server *s, struct conn *c, bool want)
{
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u64 = CONN_TAG + c->slot };

	if (c->want_out == want)
		return;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = want;
}

/* Send what the socket takes now; arm EPOLLOUT for the rest. */
static void conn_flush(struct server *s, struct conn *c)
{
	while (!c->dead && conn_pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, conn_pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want_out(s, c, true);
			return;
		} else {
			c->dead = true; /* the peer went away */
		}
	}
	c->out_off = c->out_len = 0;
	if (!c->dead)
		want_out(s, c, false);
}

/* Room for n more bytes at the end of the queue. */
static int conn_reserve(struct conn *c, size_t n)
{
	size_t cap;
	char *grown;

	if (c->out_len + n <= c->out_cap)
		return 0;
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, conn_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	for (cap = c->out_cap ? c->out_cap : 65536; cap < c->out_len + n; cap *= 2)
		;
	if (cap == c->out_cap)
		return 0;
	grown = realloc(c->out, cap);
	if (!grown)
		return -ENOMEM;
	c->out = grown;
	c->out_cap = cap;
	return 0;
}

int conn_send(struct server *s, struct conn *c, const char *prefix, const char *body, const char *suffix)
{
	size_t lp = strlen(prefix), lb = strlen(body), ls = strlen(suffix), n = lp + lb + ls + 1;

	if (c->dead)
		return -EPIPE;
	if (conn_pending(c) + n > OUTPUT_MAX || conn_reserve(c, n) < 0) {
		/* Never a torn line: the whole client goes, and the count says so. */
		bw_log(LOG_WARNING, "dropping control client pid %d: %zu bytes unread", (int)c->pid,
		       conn_pending(c));
		s->dropped++;
		c->dead = true;
		return -ENOBUFS;
	}
	memcpy(c->out + c->out_len, prefix, lp);
	memcpy(c->out + c->out_len + lp, body, lb);
	memcpy(c->out + c->out_len + lp + lb, suffix, ls);
	c->out[c->out_len + n - 1] = '\n';
	c->out_len += n;
	conn_flush(s, c);
	return 0;
}

static void conn_read(struct server *s, struct conn *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len - 1, 0);
	char *nl;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		c->dead = true;
		return;
	}
	c->in_len += n;
	c->in[c->in_len] = 0;
	while (!c->dead && (nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = nl - c->in;
		int stop;

		*nl = 0;
		c->active_ms = monotonic_ms();
		stop = s->on_line(s->ctx, c, c->in, len);
		memmove(c->in, nl + 1, c->in_len - len - 1 + 1);
		c->in_len -= len + 1;
		if (stop)
			return;
	}
	if (c->in_len == sizeof(c->in) - 1) {
		conn_send(s, c, "", "{\"ok\":false,\"errno\":90,\"error\":\"request too long\"}", "");
		c->dead = true;
	}
}

void server_io(struct server *s, int slot, uint32_t events)
{
	struct conn *c = slot >= 0 && slot < CLIENTS_MAX ? s->conns[slot] : NULL;

	if (!c || c->dead)
		return;
	if (events & EPOLLOUT) {
		conn_flush(s, c);
		if (!c->dead && c->streaming && conn_pending(c) < STREAM_LOW)
			s->on_writable(s->ctx, c);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_read(s, c);
}

void server_reap(struct server *s)
{
	for (int i = 0; i < CLIENTS_MAX; i++) {
		struct conn *c = s->conns[i];

		if (c && c->dead)
			conn_free(s, i);
	}
}

void server_close(struct server *s)
{
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (s->conns[i]) {
			/* A last reply (unload's) goes out if the socket takes it now. */
			conn_flush(s, s->conns[i]);
			s->conns[i]->dead = true;
		}
	server_reap(s);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
		s->listen_fd = -1;
	}
}
