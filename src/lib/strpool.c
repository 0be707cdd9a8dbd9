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
 */
#define _GNU_SOURCE
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
