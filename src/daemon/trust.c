// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The trust map from the trust database (docs/trust.md, "In the kernel").
 *
 * For each row: open the file, and compare what fstat says with the row
 * (dev, ino, size, ctime, mtime). A file that moved is hashed again and
 * kept if its content is the one trusted. Then, with the files still
 * open, the kernel's trust iterator reports the identity, ctime and size
 * its hooks will see for each descriptor (below overlays, btrfs by
 * subvolume): those go into the map, so user space never guesses how
 * the kernel names a file. A ctime that moved between the fstat and the
 * iterator means the file changed while it was being verified: rejected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../lib/trust.h"
#include "daemon.h"
#include "log.h"
#include "trust.h"

#define BATCH 256
#define REPORT_MAX 64 /* rejected files reported one by one per sync; the rest are counted */

struct row {
	char *path;
	uint8_t sha256[32];
	uint64_t size, dev, ino;
	int64_t ctime_ns, mtime_ns;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

struct sync {
	struct daemon *d;
	struct trust_state *ts;
	int map;
	struct bw_trust_key *keys; /* installed this sync */
	size_t n_keys, cap_keys;
	struct trust_known *known;
	size_t n_known, cap_known;
	unsigned reported;
};

static int collect(void *ud, const struct bw_trust_record *r)
{
	struct rows *rs = ud;
	struct row *x;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 1024;
		struct row *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	x = &rs->v[rs->n];
	x->path = strdup(r->path);
	if (!x->path)
		return -ENOMEM;
	memcpy(x->sha256, r->sha256, sizeof(x->sha256));
	x->size = r->size;
	x->dev = r->dev;
	x->ino = r->ino;
	x->ctime_ns = r->ctime_ns;
	x->mtime_ns = r->mtime_ns;
	rs->n++;
	return 0;
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int hash_fd(int fd, uint8_t out[32])
{
	crypto_hash_sha256_state st;
	static __thread uint8_t buf[256 << 10];
	off_t off = 0;
	ssize_t n;

	crypto_hash_sha256_init(&st);
	for (;;) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		off += n;
	}
	crypto_hash_sha256_final(&st, out);
	return 0;
}

static void reject(struct sync *s, const char *path, const char *why)
{
	struct json_object *o;

	s->ts->rejected++;
	if (s->reported++ >= REPORT_MAX)
		return;
	bw_log(LOG_WARNING, "trust: %s: %s: not trusted", path, why);
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "why", json_object_new_string(why));
	trust_event(s->d, "rejected", o);
}

static void push_known(struct sync *s, uint64_t dev, uint64_t ino, const uint8_t sha256[32])
{
	if (s->n_known == s->cap_known) {
		size_t cap = s->cap_known ? s->cap_known * 2 : 1024;
		struct trust_known *v = realloc(s->known, cap * sizeof(*v));

		if (!v)
			return; /* events then lack the hash; enforcement does not depend on it */
		s->known = v;
		s->cap_known = cap;
	}
	s->known[s->n_known].dev = dev;
	s->known[s->n_known].ino = ino;
	memcpy(s->known[s->n_known].sha256, sha256, 32);
	s->n_known++;
}

static int push_key(struct sync *s, const struct bw_trust_key *k)
{
	if (s->n_keys == s->cap_keys) {
		size_t cap = s->cap_keys ? s->cap_keys * 2 : 1024;
		struct bw_trust_key *v = realloc(s->keys, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->keys = v;
		s->cap_keys = cap;
	}
	s->keys[s->n_keys++] = *k;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct bw_trust_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int known_cmp(const void *a, const void *b)
{
	const struct trust_known *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The kernel's view of the daemon's open files: idents[fd], for fds below max. */
static int read_idents(struct daemon *d, struct bw_trust_ident *idents, int max)
{
	struct bw_trust_ident r;
	int it = bw_kernel_trust_iter(&d->kernel);
	ssize_t n;

	if (it < 0)
		return it;
	for (;;) {
		n = read(it, &r, sizeof(r));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			close(it);
			return e;
		}
		if (n == 0)
			break;
		if (n != sizeof(r))
			continue;
		if ((int)r.fd < max)
			idents[r.fd] = r;
	}
	close(it);
	return 0;
}

/*
 * Hash the open file again: true if it still holds the row's content and
 * did not change while it was read; else reported, and false.
 */
static bool rehash_matches(struct sync *s, const struct row *x, int fd, const struct stat *st)
{
	uint8_t now[32];
	struct stat after;
	char hex[65], why[128];

	if (hash_fd(fd, now) < 0 || fstat(fd, &after) < 0 ||
	    ns_of(&after.st_ctim) != ns_of(&st->st_ctim)) {
		reject(s, x->path, "could not be hashed again");
		return false;
	}
	if (memcmp(now, x->sha256, 32) != 0) {
		bw_hex(now, 32, hex);
		snprintf(why, sizeof(why), "changed since it was trusted: sha256 is now %.16s...",
			 hex);
		reject(s, x->path, why);
		return false;
	}
	s->ts->rehashed++;
	return true;
}

/*
 * Did the kernel already hold this file, verified on the same file system
 * instance, unchanged since? Only then may a row's stat stand in for its
 * content: the same stat on a file system mounted again (or after reboot)
 * may hide other bytes (decision 77).
 */
static bool kernel_vouches(const struct sync *s, const struct bw_trust_ident *id)
{
	struct bw_trust_key k = {.dev = id->dev, .ino = id->ino};
	struct bw_trust_val v;

	if (bpf_map_lookup_elem(s->map, &k, &v) < 0)
		return false;
	return v.sb == id->sb && v.ctime_sec == id->ctime_sec && v.ctime_nsec == id->ctime_nsec &&
	       v.size == id->size;
}

/*
 * Whether the kernel's view of an open file (id) still matches what was
 * verified (st), and nobody can change it unseen: a file open for
 * writing elsewhere (a descriptor or a shared writable mapping opened
 * before it was verified) could change after, and stores to a mapping's
 * dirty page move no ctime. Rejects (and reports) it otherwise.
 */
static bool ident_usable(struct sync *s, const char *path, const struct bw_trust_ident *id,
			 const struct stat *st)
{
	if (!id->ok) {
		reject(s, path, "the kernel cannot identify it yet (btrfs before a policy load)");
		return false;
	}
	if (id->ctime_sec * 1000000000 + id->ctime_nsec != ns_of(&st->st_ctim) ||
	    id->size != (uint64_t)st->st_size) {
		reject(s, path, "changed while it was verified");
		return false;
	}
	if (id->writers > 0) {
		reject(s, path, "open for writing elsewhere: it could change unseen");
		return false;
	}
	return true;
}

/* One batch: open, verify, ask the kernel, install. */
static int sync_batch(struct sync *s, struct row *rows, size_t n)
{
	int fds[BATCH];
	bool checked[BATCH]; /* hashed in this sync */
	struct stat sts[BATCH];
	struct bw_trust_ident *idents = NULL;
	int max = 0, r = 0;

	for (size_t i = 0; i < n; i++) {
		struct row *x = &rows[i];
		struct stat *st = &sts[i];
		bool same;

		fds[i] = open(x->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fds[i] < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				s->ts->missing++;
			else
				reject(s, x->path, strerror(errno));
			continue;
		}
		if (fstat(fds[i], st) < 0 || !S_ISREG(st->st_mode)) {
			reject(s, x->path, "not a regular file");
			goto drop;
		}
		same = (uint64_t)st->st_dev == x->dev && (uint64_t)st->st_ino == x->ino &&
		       (uint64_t)st->st_size == x->size && ns_of(&st->st_ctim) == x->ctime_ns &&
		       ns_of(&st->st_mtim) == x->mtime_ns;
		checked[i] = false;
		if (!same) {
			/* Moved (copied back, touched, a new inode): is it still the content
			 * trusted? */
			if (!rehash_matches(s, x, fds[i], st))
				goto drop;
			checked[i] = true;
		}
		if (fds[i] >= max)
			max = fds[i] + 1;
		continue;
	drop:
		close(fds[i]);
		fds[i] = -1;
	}
	if (max) {
		idents = calloc(2 * (size_t)max, sizeof(*idents));
		if (!idents) {
			r = -ENOMEM;
			goto out;
		}
		r = read_idents(s->d, idents, max);
		if (r < 0)
			goto out;
	}
	/* Install what the kernel confirms, then ask again: a writer that
	 * opened a file before its entry existed was not seen by the hooks
	 * that delete entries on a write-open, so the second look catches it. */
	for (size_t i = 0; i < n; i++) {
		struct bw_trust_ident *id;
		struct bw_trust_key k;
		struct bw_trust_val v = {0};

		if (fds[i] < 0)
			continue;
		id = &idents[fds[i]];
		if (!ident_usable(s, rows[i].path, id, &sts[i]))
			goto drop_fd;
		if (!checked[i] && !kernel_vouches(s, id) &&
		    !rehash_matches(s, &rows[i], fds[i], &sts[i]))
			goto drop_fd;
		k.dev = id->dev;
		k.ino = id->ino;
		v.ctime_sec = id->ctime_sec;
		v.ctime_nsec = id->ctime_nsec;
		v.size = id->size;
		v.sb = id->sb;
		memcpy(v.sha256, rows[i].sha256, 32);
		if (bpf_map_update_elem(s->map, &k, &v, BPF_ANY) < 0) {
			r = -errno;
			bw_log(LOG_ERR, "trust: cannot install %s in the kernel: %s", rows[i].path,
			       strerror(errno));
			goto out;
		}
		continue;
	drop_fd:
		close(fds[i]);
		fds[i] = -1;
	}
	if (max && (r = read_idents(s->d, idents + max, max)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct bw_trust_ident *id, *again;
		struct bw_trust_key k;

		if (fds[i] < 0)
			continue;
		id = &idents[fds[i]];
		again = &idents[max + fds[i]];
		k.dev = id->dev;
		k.ino = id->ino;
		if (!ident_usable(s, rows[i].path, again, &sts[i])) {
			bpf_map_delete_elem(s->map, &k);
			continue;
		}
		if ((r = push_key(s, &k)) < 0)
			goto out;
		s->ts->trusted++;
		push_known(s, id->dev, id->ino, rows[i].sha256);
		if (id->pdev != id->dev || id->pino != id->ino)
			push_known(s, id->pdev, id->pino, rows[i].sha256);
	}
out:
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(idents);
	return r;
}

/* Entries of the map that this sync did not install: gone from the database, or changed. */
static int drop_stale(struct sync *s)
{
	struct bw_trust_key k, next, *stale = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int r = 0;

	qsort(s->keys, s->n_keys, sizeof(*s->keys), key_cmp);
	while (bpf_map_get_next_key(s->map, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (s->n_keys && bsearch(&k, s->keys, s->n_keys, sizeof(k), key_cmp))
			continue;
		if (n == cap) {
			struct bw_trust_key *v;

			cap = cap ? cap * 2 : 256;
			v = realloc(stale, cap * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				goto out;
			}
			stale = v;
		}
		stale[n++] = k;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(s->map, &stale[i]);
out:
	free(stale);
	return r;
}

int trust_sync(struct daemon *d, const char *reason)
{
	struct trust_state *ts = &d->trust;
	struct sync s = {.d = d, .ts = ts};
	struct rows rows = {0};
	struct bw_trust *db = NULL;
	struct json_object *o;
	char err[256] = "";
	int64_t t0 = now_ms();
	int r;

	s.map = bw_kernel_trust_map(&d->kernel);
	r = bw_trust_open(&db, ts->db, BW_TRUST_READ, err, sizeof(err));
	if (r == -ENOENT) {
		bw_log(LOG_NOTICE, "trust: no trust database (%s): no file is trusted",
		       trust_status_db(d));
		r = 0;
	} else if (r < 0) {
		goto fail;
	} else {
		r = bw_trust_foreach(db, collect, &rows);
		if (r < 0) {
			snprintf(err, sizeof(err), "%s",
				 bw_trust_error(db) ? bw_trust_error(db) : strerror(-r));
			goto fail;
		}
	}
	ts->entries = rows.n;
	ts->trusted = ts->rejected = ts->missing = ts->rehashed = 0;
	for (size_t i = 0; i < rows.n && r == 0; i += BATCH)
		r = sync_batch(&s, rows.v + i, rows.n - i < BATCH ? rows.n - i : BATCH);
	if (r == 0)
		r = drop_stale(&s);
	if (r < 0) {
		snprintf(err, sizeof(err), "installing the trust map: %s", strerror(-r));
		goto fail;
	}
	if (s.n_known)
		qsort(s.known, s.n_known, sizeof(*s.known), known_cmp);
	free(ts->known);
	ts->known = s.known;
	ts->n_known = s.n_known;
	s.known = NULL;
	free(ts->error);
	ts->error = NULL;
	ts->synced_ms = (int64_t)time(NULL) * 1000;
	ts->took_ms = now_ms() - t0;
	bw_log(LOG_INFO,
	       "trust: %" PRIu64 " entries: %" PRIu64 " files trusted, %" PRIu64
	       " rejected, %" PRIu64 " missing, %" PRIu64 " hashed again (%" PRId64 " ms)",
	       ts->entries, ts->trusted, ts->rejected, ts->missing, ts->rehashed, ts->took_ms);
	o = trust_status(d);
	json_object_object_add(o, "reason", json_object_new_string(reason));
	trust_event(d, "synced", o);
	goto out;
fail:
	if (r == 0)
		r = -EIO;
	bw_log(LOG_ERR, "trust: cannot read the trust database: %s; the trust map stays as it was",
	       err);
	free(ts->error);
	ts->error = strdup(err);
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(err));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	trust_event(d, "sync-failed", o);
out:
	bw_trust_close(db);
	for (size_t i = 0; i < rows.n; i++)
		free(rows.v[i].path);
	free(rows.v);
	free(s.keys);
	free(s.known);
	return r;
}

const uint8_t *trust_known_hash(const struct daemon *d, uint64_t dev, uint64_t ino)
{
	struct trust_known probe = {.dev = dev, .ino = ino}, *k;

	if (!d->trust.n_known)
		return NULL;
	k = bsearch(&probe, d->trust.known, d->trust.n_known, sizeof(probe), known_cmp);
	return k ? k->sha256 : NULL;
}

const char *trust_status_db(const struct daemon *d)
{
	const char *env = getenv(BW_TRUST_DB_ENV);

	return d->trust.db ? d->trust.db : env && *env ? env : BW_TRUST_DB_PATH;
}

struct json_object *trust_status(const struct daemon *d)
{
	const struct trust_state *ts = &d->trust;
	struct json_object *o = json_object_new_object();
	const char *db = trust_status_db(d);

	json_object_object_add(o, "db", json_object_new_string(db));
	{
		/* Decision 90: IMA hashing of untrusted images for sha256: rules. */
		struct json_object *h = json_object_new_object();
		uint64_t st[BW_HASH_STATS];

		json_object_object_add(h, "available", json_object_new_boolean(d->hash_probe == 0));
		if (d->hash_probe)
			json_object_object_add(h, "error", json_object_new_string(d->hash_why));
		if (d->kernel.skel && bw_kernel_hash_stats((struct bw_kernel *)&d->kernel, st) == 0) {
			json_object_object_add(h, "computed", json_object_new_uint64(st[BW_HASH_COMPUTED]));
			json_object_object_add(h, "cached", json_object_new_uint64(st[BW_HASH_CACHED]));
			json_object_object_add(h, "failed", json_object_new_uint64(st[BW_HASH_FAILED]));
			json_object_object_add(h, "unknown", json_object_new_uint64(st[BW_HASH_UNKNOWN]));
		}
		json_object_object_add(o, "hash", h);
	}
	json_object_object_add(o, "entries", json_object_new_uint64(ts->entries));
	json_object_object_add(o, "trusted", json_object_new_uint64(ts->trusted));
	json_object_object_add(o, "rejected", json_object_new_uint64(ts->rejected));
	json_object_object_add(o, "missing", json_object_new_uint64(ts->missing));
	json_object_object_add(o, "rehashed", json_object_new_uint64(ts->rehashed));
	json_object_object_add(o, "took_ms", json_object_new_int64(ts->took_ms));
	json_object_object_add(o, "error", ts->error ? json_object_new_string(ts->error) : NULL);
	return o;
}

void trust_free(struct daemon *d)
{
	free(d->trust.known);
	d->trust.known = NULL;
	d->trust.n_known = 0;
	free(d->trust.error);
	d->trust.error = NULL;
}
