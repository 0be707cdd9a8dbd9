// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Events: ring-buffer records decoded with the rule table of the policy
 * generation that raised them, policy changes, the backlog of recent
 * lines, and the clients that stream them.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/* Diagnostics carried by a `rejected` event, at most. */
#define DIAG_EVENT_MAX 8192

static int64_t boot_to_real_ns(void)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000ll + (rt.tv_nsec - bt.tv_nsec);
}

/* Set o's "exe" (null: unknown) from /proc/<tgid>/exe; true if it did. */
static bool exe_from_proc(struct json_object *o, uint32_t tgid)
{
	struct json_object *exe;
	char link[64], path[PATH_MAX];

	if (!o || !json_object_object_get_ex(o, "exe", &exe) || exe)
		return false;
	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	if (!program_of(link, path, sizeof(path)))
		return false;
	json_object_object_add(o, "exe", json_object_new_string(path));
	return true;
}

/*
 * A program the kernel could not name (docs/events.md: "exe": null, flag
 * exe-unknown: a kernel thread, an exit without its exec's name). Ask
 * /proc while the process likely still lives, and say where the answer
 * came from.
 */
static void fill_exe_from_proc(struct json_object *o, const struct bw_event *e)
{
	struct json_object *flags;
	bool filled;

	filled = exe_from_proc(json_object_object_get(o, "process"), e->tgid);
	if (e->target_tgid)
		filled |= exe_from_proc(json_object_object_get(o, "target"), e->target_tgid);
	if (filled && json_object_object_get_ex(o, "flags", &flags))
		json_object_array_add(flags, json_object_new_string("exe-from-proc"));
}

/* A trusted image's SHA-256, from what the last trust sync installed. */
static void fill_trust_hash(struct daemon *d, struct json_object *o, const struct bw_event *e)
{
	struct json_object *target;
	const uint8_t *h;
	uint8_t cached[32];
	char hex[65];

	if (!(e->flags & (BW_EVF_TRUSTED | BW_EVF_UNTRUSTED)) ||
	    !json_object_object_get_ex(o, "target", &target) || !json_object_is_type(target, json_type_object))
		return;
	h = e->flags & BW_EVF_TRUSTED ? trust_known_hash(d, e->target_dev, e->target_ino) : NULL;
	/* Untrusted and hashed by IMA (decision 90): as the kernel's cache holds it now. */
	if (!h && (e->flags & BW_EVF_HASHED) &&
	    bw_kernel_hash_cached(&d->kernel, e->target_dev, e->target_ino, cached))
		h = cached;
	if (h)
		bw_hex(h, 32, hex);
	json_object_object_add(target, "sha256", h ? json_object_new_string(hex) : NULL);
}

int on_ringbuf_record(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct bw_event *e = data;
	struct json_object *o;

	if (size < sizeof(struct bw_event)) {
		bw_log(LOG_WARNING, "short event record (%zu bytes)", size);
		return 0;
	}
	/* The rule ids of an event are those of the policy it was decided under. */
	o = bw_event_to_json(e, rules_for_gen(d, e->policy_gen), boot_to_real_ns());
	if (!o) {
		bw_log(LOG_WARNING, "out of memory: an event was not reported");
		return 0;
	}
	fill_exe_from_proc(o, e);
	fill_trust_hash(d, o, e);
	publish(d, o);
	json_object_put(o);
	return 0;
}

static bool wants(const struct conn *c, uint32_t classes)
{
	return !c->kinds || (c->kinds & classes);
}

/*
 * The oldest line leaves the backlog: every stream that has not sent it
 * yet and asked for it lost it. Counted here, while its class is known,
 * so a filtered subscriber is told only of what it would have received.
 */
static void backlog_evict(struct daemon *d)
{
	struct backlog *b = &d->backlog;
	uint64_t seq = b->first;

	for (int i = 0; i < CLIENTS_MAX; i++) {
		struct conn *c = d->server.conns[i];

		if (!c || !c->streaming || c->cursor != seq)
			continue;
		if (wants(c, b->classes[seq % BACKLOG_MAX])) {
			d->subscriber_drops++;
			c->missed++;
		}
		c->cursor = seq + 1;
	}
	free(b->lines[seq % BACKLOG_MAX]);
	b->first++;
}

/*
 * The events file (--events), appended to; -1 and errno when it cannot be
 * opened. A file that ends inside a line (a writer killed mid-write) gets
 * its newline first, so the next line is whole.
 */
int events_open(struct daemon *d, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666), rfd;
	struct stat st;
	char last = '\n';

	if (fd < 0)
		return -1;
	/* Read apart, and only a regular file: a FIFO read by us too would never see EPIPE. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (rfd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (pread(rfd, &last, 1, st.st_size - 1) != 1)
			last = '\n';
		close(rfd);
	}
	d->events_fd = fd;
	d->events_len = 0;
	if (last != '\n')
		d->events_buf[d->events_len++] = '\n';
	return 0;
}

/* Write all of iov (short writes resumed); a failure is logged once, until a write succeeds. */
static void events_write(struct daemon *d, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(d->events_fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!d->events_failing)
				bw_log(LOG_ERR, "cannot write events: %s; they are kept in the backlog only",
				       w < 0 ? strerror(errno) : "nothing written");
			d->events_failing = true;
			return;
		}
		d->events_failing = false;
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/*
 * The events file's lines out of bulwarkd's buffer: once per batch, before
 * the daemon waits again (decision 109), not once per event. A write is a
 * system call, a third of an event's cost natively; a crash loses at most
 * the lines in the buffer (EVENTS_BUFFER), which the backlog in memory
 * loses as well. The buffer holds whole lines only, so every write ends
 * with one.
 */
void events_flush(struct daemon *d)
{
	struct iovec iov = { d->events_buf, d->events_len };

	if (d->events_len)
		events_write(d, &iov, 1);
	d->events_len = 0;
}

/* An event to the events file (flushed by events_flush), the backlog and every follower. */
void publish(struct daemon *d, struct json_object *o)
{
	struct backlog *b = &d->backlog;
	const char *text;
	char *copy;
	size_t len;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	if (d->events_len + len + 1 > sizeof(d->events_buf))
		events_flush(d);
	if (len + 1 > sizeof(d->events_buf)) {
		/* Longer than the buffer (a rejected policy's diagnostics): one write of its own. */
		struct iovec iov[2] = { { (void *)text, len }, { "\n", 1 } };

		events_write(d, iov, 2);
	} else {
		memcpy(d->events_buf + d->events_len, text, len);
		d->events_buf[d->events_len + len] = '\n';
		d->events_len += len + 1;
	}

	copy = strdup(text);
	if (!copy)
		return;
	if (b->next - b->first == BACKLOG_MAX)
		backlog_evict(d);
	b->lines[b->next % BACKLOG_MAX] = copy;
	b->classes[b->next % BACKLOG_MAX] = bw_event_classes(o);
	b->next++;
	for (int i = 0; i < CLIENTS_MAX; i++)
		if (d->server.conns[i] && d->server.conns[i]->streaming)
			events_pump(d, d->server.conns[i]);
}

/*
 * Feed a client's stream from the backlog while its queue is short: a
 * slow reader holds a cursor, not a copy. Lines that left the backlog
 * before it read them are counted as its drops (backlog_evict), lines
 * it did not ask for are skipped.
 */
void events_pump(void *ctx, struct conn *c)
{
	struct daemon *d = ctx;
	struct backlog *b = &d->backlog;

	if (!c->streaming || c->dead)
		return;
	if (c->cursor < b->first)
		c->cursor = b->first; /* a stream started on an emptied backlog */
	/* Told to the subscriber once it has room, in order: before the events after the gap. */
	if (c->missed && !c->dead && conn_pending(c) < STREAM_LOW) {
		char note[64];

		snprintf(note, sizeof(note), "{\"dropped\":%llu}", (unsigned long long)c->missed);
		c->missed = 0;
		conn_send(&d->server, c, "", note, "");
	}
	while (!c->dead && conn_pending(c) < STREAM_LOW && c->cursor < (c->follow ? b->next : c->end)) {
		if (wants(c, b->classes[c->cursor % BACKLOG_MAX]))
			conn_send(&d->server, c, "{\"event\":", b->lines[c->cursor % BACKLOG_MAX], "}");
		c->cursor++;
	}
	if (!c->follow && c->cursor >= c->end) {
		c->streaming = false;
		conn_send(&d->server, c, "", "{\"end\":true,\"ok\":true}", "");
	}
}

void events_subscribe(struct daemon *d, struct conn *c, bool backlog, bool follow, uint32_t kinds)
{
	c->kinds = kinds;
	c->streaming = true;
	c->follow = follow;
	c->cursor = backlog ? d->backlog.first : d->backlog.next;
	c->end = d->backlog.next;
	events_pump(d, c);
}

void events_free(struct daemon *d)
{
	for (uint64_t s = d->backlog.first; s < d->backlog.next; s++)
		free(d->backlog.lines[s % BACKLOG_MAX]);
	d->backlog.first = d->backlog.next = 0;
}

/*
 * A change of the policy in force, or of what it names, as an event
 * (docs/events.md, "Policy events"): the audit trail of who changed
 * enforcement and when. `what` is consumed.
 */
void policy_event(struct daemon *d, const char *event, const char *reason, struct json_object *what)
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

void trust_event(struct daemon *d, const char *event, struct json_object *what)
{
	struct json_object *o = json_object_new_object();
	char when[64];

	bw_time_now(when, sizeof(when));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "type", json_object_new_string("trust"));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_foreach(what, k, v)
		json_object_object_add(o, k, json_object_get(v));
	json_object_put(what);
	publish(d, o);
	json_object_put(o);
}

/* A policy that was refused, as an event: where it came from and why. */
void rejected_event(struct daemon *d, const char *reason, const char *path, const char *diag)
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
