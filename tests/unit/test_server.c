// SPDX-License-Identifier: MIT
/*
 * bulwarkd's per-client output queue over a real socket pair: a peer that
 * never reads is dropped at the bound and counted, having received only
 * whole lines; a peer that reads late gets every line, whole and in order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/daemon/log.h"
#include "../../src/daemon/server.h"

#define LINE_LEN 1000

struct pair {
	struct server s;
	struct conn *c;
	int peer;
};

static void setup_pair(struct pair *p)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CONN_TAG };
	int sv[2];

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	p->s.listen_fd = -1;
	p->s.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(p->s.epfd >= 0);
	p->c = calloc(1, sizeof(*p->c));
	assert_non_null(p->c);
	p->c->fd = sv[0];
	p->c->slot = 0;
	p->s.conns[0] = p->c;
	assert_int_equal(epoll_ctl(p->s.epfd, EPOLL_CTL_ADD, sv[0], &ev), 0);
	p->peer = sv[1];
}

static void teardown_pair(struct pair *p)
{
	server_close(&p->s);
	close(p->peer);
	close(p->s.epfd);
}

/* Read what the peer has now; count whole lines of the expected length. */
static size_t drain(int fd, size_t *ret_lines, size_t *ret_torn, size_t *partial)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				(*partial)++;
				continue;
			}
			if (*partial == LINE_LEN)
				(*ret_lines)++;
			else
				(*ret_torn)++;
			*partial = 0;
		}
		total += n;
	}
	return total;
}

static void test_never_reads(void **state)
{
	char body[LINE_LEN + 1];
	struct pair p;
	size_t sent = 0, lines = 0, torn = 0, partial = 0;
	int r = 0;

	(void)state;
	memset(body, 'x', LINE_LEN);
	body[LINE_LEN] = 0;
	setup_pair(&p);
	while (sent < 100000 && (r = conn_send(&p.s, p.c, "", body, "")) == 0)
		sent++;
	assert_int_equal(r, -ENOBUFS);
	assert_int_equal(p.s.dropped, 1);
	assert_true(p.c->dead);
	/* It held the bound's worth, and the socket took some: no more. */
	assert_true(sent * (LINE_LEN + 1) >= OUTPUT_MAX);
	assert_true(sent * (LINE_LEN + 1) <= OUTPUT_MAX + (8u << 20));
	assert_int_equal(conn_send(&p.s, p.c, "", "late", ""), -EPIPE);
	server_reap(&p.s);
	assert_null(p.s.conns[0]);
	drain(p.peer, &lines, &torn, &partial);
	assert_int_equal(torn, 0);
	assert_int_equal(partial, 0);
	assert_true(lines > 0 && lines < sent);
	teardown_pair(&p);
}

static void test_reads_late(void **state)
{
	char body[LINE_LEN + 1];
	struct pair p;
	size_t lines = 0, torn = 0, partial = 0, want = 2000;

	(void)state;
	memset(body, 'y', LINE_LEN);
	body[LINE_LEN] = 0;
	setup_pair(&p);
	for (size_t i = 0; i < want; i++)
		assert_int_equal(conn_send(&p.s, p.c, "", body, ""), 0);
	/* 2 MB do not fit a socket buffer: the rest waits in the queue. */
	assert_true(conn_pending(p.c) > 0);
	assert_true(p.c->want_out);
	for (int round = 0; round < 10000 && (conn_pending(p.c) || lines < want); round++) {
		drain(p.peer, &lines, &torn, &partial);
		server_io(&p.s, 0, EPOLLOUT);
	}
	drain(p.peer, &lines, &torn, &partial);
	assert_int_equal(lines, want);
	assert_int_equal(torn, 0);
	assert_int_equal(conn_pending(p.c), 0);
	assert_false(p.c->want_out);
	assert_false(p.c->dead);
	assert_int_equal(p.s.dropped, 0);
	teardown_pair(&p);
}

static bool keep_all(void *ctx, const struct conn *c)
{
	(void)ctx;
	(void)c;
	return true;
}

/* Is the peer's end closed (EOF, nothing pending)? */
static bool closed_by_server(int fd)
{
	char b;

	return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

/*
 * Root holding every control slot cannot shut the administrator out: the
 * client idle the longest makes room; clients keeps_slot vouches for stay,
 * and when every one is kept the newcomer is the one refused.
 */
static void test_full_table_evicts_idle(void **state)
{
	char dir[] = "/tmp/bw-test-server.XXXXXX", path[64];
	struct server s = { .listen_fd = -1 };
	int peers[CLIENTS_MAX + 2], oldest = 17;

	(void)state;
	if (geteuid() != 0)
		skip(); /* the server takes root peers only */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	s.path = path;
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_int_equal(server_listen(&s), 0);
	for (int i = 0; i < CLIENTS_MAX + 2; i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, path);
		peers[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(peers[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		if (i < CLIENTS_MAX)
			server_accept(&s); /* one by one: the listen backlog is short */
	}
	for (int i = 0; i < CLIENTS_MAX; i++) {
		assert_non_null(s.conns[i]);
		s.conns[i]->active_ms = 1000 + i; /* all idle since, slot 17 the longest */
	}
	s.conns[oldest]->active_ms = 10;
	server_accept(&s); /* the 65th */
	assert_int_equal(s.evicted, 1);
	assert_non_null(s.conns[oldest]);
	assert_true(s.conns[oldest]->active_ms > 1000 + CLIENTS_MAX);
	assert_true(closed_by_server(peers[oldest]));
	assert_false(closed_by_server(peers[oldest + 1]));
	/* every client kept: the newcomer is refused, nobody else goes */
	s.keeps_slot = keep_all;
	server_accept(&s);
	assert_int_equal(s.evicted, 1);
	assert_true(closed_by_server(peers[CLIENTS_MAX + 1]));
	for (int i = 0; i < CLIENTS_MAX; i++)
		assert_non_null(s.conns[i]);
	server_close(&s);
	for (int i = 0; i < CLIENTS_MAX + 2; i++)
		close(peers[i]);
	close(s.epfd);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_reads),
		cmocka_unit_test(test_reads_late),
		cmocka_unit_test(test_full_table_evicts_idle),
	};

	bw_log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
