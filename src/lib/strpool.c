// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * String pools: the strings of a table that lives as long as the table,
 * packed into large chunks instead of a malloc each.
 *
 * A policy of 100,000 rules keeps each rule's text and each path it
 * names. One malloc a string cost 16-24 bytes of bookkeeping and rounding
 * on 35-45 bytes of text, and scattered what stays among the compile's
 * temporaries, so the heap could not hand those pages back. A chunk is
 * one allocation large enough for malloc to map it on its own: it goes
 * back to the kernel whole when the table goes, and its pages count only
 * once something is written to them.
 *
 * Front coding: strings that come in an order where each shares a prefix
 * with the one before (sorted paths; rules that name neighbouring files)
 * kept as the length shared and the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Large enough to be mmap()ed by malloc (M_MMAP_THRESHOLD is 128 KiB at most to start). */
#define POOL_CHUNK (1024 * 1024)

struct bw_strpool_chunk {
	struct bw_strpool_chunk *next;
	size_t used, size;
	char data[];
};

char *bw_strpool_dupn(struct bw_strpool *p, const char *s, size_t len)
{
	struct bw_strpool_chunk *c = p->chunks;
	char *out;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > POOL_CHUNK - sizeof(*c) ? len + 1 : POOL_CHUNK - sizeof(*c);

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		c->next = p->chunks;
		p->chunks = c;
	}
	out = c->data + c->used;
	memcpy(out, s, len);
	out[len] = 0;
	c->used += len + 1;
	return out;
}

char *bw_strpool_dup(struct bw_strpool *p, const char *s)
{
	return bw_strpool_dupn(p, s, strlen(s));
}

void bw_strpool_free(struct bw_strpool *p)
{
	while (p->chunks) {
		struct bw_strpool_chunk *next = p->chunks->next;

		free(p->chunks);
		p->chunks = next;
	}
}

/* Make *buf hold at least need bytes. */
static int reserve(char **buf, size_t *cap, size_t need)
{
	char *grown;
	size_t c = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	grown = realloc(*buf, c);
	if (!grown)
		return -ENOMEM;
	*buf = grown;
	*cap = c;
	return 0;
}

int bw_fcode_add(struct bw_fcode *f, const char *s, uint32_t *off)
{
	size_t shared = 0, len = strlen(s), v;

	if (f->n % BW_FCODE_RESTART)
		while (s[shared] && s[shared] == f->last[shared])
			shared++;
	/* the shared length (LEB128), the rest, its terminator */
	if (f->len > UINT32_MAX || reserve(&f->text, &f->cap, f->len + 10 + len - shared + 1) < 0 ||
	    reserve(&f->last, &f->last_cap, len + 1) < 0)
		return -ENOMEM;
	*off = (uint32_t)f->len;
	v = shared;
	do {
		f->text[f->len++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	memcpy(f->text + f->len, s + shared, len - shared + 1);
	f->len += len - shared + 1;
	memcpy(f->last + shared, s + shared, len - shared + 1);
	f->n++;
	return 0;
}

const char *bw_fcode_next(const char *at, char **buf, size_t *cap, int *err)
{
	const unsigned char *p = (const unsigned char *)at;
	size_t shared = 0, len;

	for (unsigned shift = 0;; shift += 7) {
		shared |= (size_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80))
			break;
	}
	len = strlen((const char *)p);
	if (reserve(buf, cap, shared + len + 1) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(*buf + shared, p, len + 1);
	return (const char *)p + len + 1;
}

int bw_fcode_get(const struct bw_fcode *f, uint32_t restart_off, size_t steps, char **buf, size_t *cap)
{
	const char *at = f->text + restart_off;
	int err = 0;

	for (size_t j = 0; j <= steps && at; j++)
		at = bw_fcode_next(at, buf, cap, &err);
	return err;
}

void bw_fcode_free(struct bw_fcode *f)
{
	free(f->text);
	free(f->last);
	memset(f, 0, sizeof(*f));
}
