// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hashing for the trust database: a pool of worker threads reads and
 * hashes files, and hands each finished item back to the calling thread,
 * which alone writes the database. SHA-256 comes from libsodium; MD5 (only
 * to compare with dpkg's recorded sums, never to trust anything by) from
 * nettle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/md5.h>
#include <sodium.h>

#include "trust.h"

#define READ_CHUNK (256u * 1024u)
#define THREADS_MAX 16u

struct pool {
	struct bw_trust_item *items;
	size_t n;
	size_t next;	  /* the next item a worker claims */
	size_t *finished; /* item indexes in completion order */
	size_t n_finished;
	bool stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int64_t ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool looks_like_code(const struct stat *st, const unsigned char *head, size_t len)
{
	if (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))
		return true;
	/* Shared objects are usually 0644: the loader maps them all the same. */
	if (len >= 4 && memcmp(head, "\177ELF", 4) == 0)
		return true;
	return len >= 2 && head[0] == '#' && head[1] == '!';
}

static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void hash_item(struct bw_trust_item *it, unsigned char *buf)
{
	crypto_hash_sha256_state sha;
	struct md5_ctx md5;
	struct stat before, after;
	uint64_t total = 0;
	ssize_t r;
	int fd;

	/*
	 * O_NONBLOCK: a FIFO named where a file was expected must not hang the
	 * run; it is refused as not regular right after.
	 */
	fd = open(it->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
				(it->flags & BW_ITEM_NOFOLLOW ? O_NOFOLLOW : 0));
	if (fd < 0) {
		it->status = errno == ELOOP && (it->flags & BW_ITEM_NOFOLLOW) ? BW_ITEM_NOT_REGULAR
									      : BW_ITEM_FAILED;
		it->err = -errno;
		return;
	}
	if (fstat(fd, &before) < 0) {
		it->status = BW_ITEM_FAILED;
		it->err = -errno;
		goto out;
	}
	if (!S_ISREG(before.st_mode)) {
		it->status = BW_ITEM_NOT_REGULAR;
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	crypto_hash_sha256_init(&sha);
	md5_init(&md5);
	for (bool first = true;; first = false) {
		r = read_full(fd, buf, READ_CHUNK);
		if (r < 0) {
			it->status = BW_ITEM_FAILED;
			it->err = (int)r;
			goto out;
		}
		if (first && (it->flags & BW_ITEM_CODE_ONLY) &&
		    !looks_like_code(&before, buf, (size_t)r)) {
			it->status = BW_ITEM_NOT_CODE;
			goto out;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		/* Growing as we read, or a pseudo file: stop at once, it is not trusted anyway. */
		if (total > (uint64_t)before.st_size) {
			it->status = BW_ITEM_RACED;
			goto out;
		}
		crypto_hash_sha256_update(&sha, buf, (unsigned long long)r);
		if (it->flags & BW_ITEM_MD5)
			md5_update(&md5, (size_t)r, buf);
	}
	crypto_hash_sha256_final(&sha, it->sha256);
	md5_digest(&md5, sizeof(it->md5), it->md5);
	/*
	 * A file written while we read it may hash to bytes it never held at
	 * once: such a hash must not be trusted.
	 */
	if (fstat(fd, &after) < 0) {
		it->status = BW_ITEM_FAILED;
		it->err = -errno;
		goto out;
	}
	if (total != (uint64_t)before.st_size || after.st_size != before.st_size ||
	    ns(after.st_ctim) != ns(before.st_ctim) || ns(after.st_mtim) != ns(before.st_mtim)) {
		it->status = BW_ITEM_RACED;
		goto out;
	}
	it->status = BW_ITEM_HASHED;
	it->size = total;
	it->dev = before.st_dev;
	it->ino = before.st_ino;
	it->ctime_ns = ns(before.st_ctim);
	it->mtime_ns = ns(before.st_mtim);
out:
	close(fd);
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	unsigned char *buf = malloc(READ_CHUNK);

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		if (p->stop || p->next >= p->n) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (buf) {
			hash_item(&p->items[i], buf);
		} else {
			p->items[i].status = BW_ITEM_FAILED;
			p->items[i].err = -ENOMEM;
		}
		pthread_mutex_lock(&p->lock);
		p->finished[p->n_finished++] = i;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	free(buf);
	return NULL;
}

static unsigned pool_threads(unsigned asked, size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned t = asked ? asked : cpus > 0 ? (unsigned)cpus : 1;

	if (t > THREADS_MAX)
		t = THREADS_MAX;
	if (t > n)
		t = (unsigned)n;
	return t ? t : 1;
}

int bw_trust_hash_items(struct bw_trust_item *items, size_t n, unsigned threads,
			bw_item_done_fn done, void *ud)
{
	struct pool p = {.items = items, .n = n};
	pthread_t tids[THREADS_MAX];
	unsigned started = 0, want = pool_threads(threads, n);
	size_t consumed = 0;
	int r = 0;

	if (n == 0)
		return 0;
	if (sodium_init() < 0)
		return -EIO;
	p.finished = calloc(n, sizeof(*p.finished));
	if (!p.finished)
		return -ENOMEM;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	for (; started < want; started++) {
		r = -pthread_create(&tids[started], NULL, worker, &p);
		if (r < 0)
			break;
	}
	if (started == 0)
		goto out;
	r = 0;
	/* Every claimed item finishes, and without a stop every item is claimed. */
	while (consumed < n) {
		size_t upto;

		pthread_mutex_lock(&p.lock);
		while (p.n_finished == consumed)
			pthread_cond_wait(&p.cond, &p.lock);
		upto = p.n_finished;
		pthread_mutex_unlock(&p.lock);
		for (; consumed < upto; consumed++) {
			r = done(ud, &items[p.finished[consumed]]);
			if (r)
				break;
		}
		if (r) {
			pthread_mutex_lock(&p.lock);
			p.stop = true;
			pthread_mutex_unlock(&p.lock);
			break;
		}
	}
out:
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	free(p.finished);
	return r;
}

const char *bw_trust_item_reason(const struct bw_trust_item *it, char *buf, size_t len)
{
	switch (it->status) {
	case BW_ITEM_HASHED:
		return NULL;
	case BW_ITEM_NOT_CODE:
		return "not code (no exec bit, ELF magic or #!)";
	case BW_ITEM_NOT_REGULAR:
		return "not a regular file";
	case BW_ITEM_RACED:
		return "changed while being hashed; not trusted";
	case BW_ITEM_FAILED:
		break;
	}
	snprintf(buf, len, "%s", strerror(-it->err));
	return buf;
}
