// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The trust database's store and its manual commands (add, remove, verify,
 * list). Layout and guarantees: docs/trust.md. Only the calling thread
 * touches the database; hashing runs on trust_hash.c's pool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "internal.h"
#include "trust.h"

/* "bwTR": marks the file as a bulwark trust database for file(1) and us. */
#define TRUST_APPLICATION_ID 0x62775452
#define TRUST_SCHEMA_VERSION 1
#define BATCH_DEFAULT 2000u
#define BATCH_SECONDS 1
#define BUSY_TIMEOUT_MS 30000

/* The schema, version 1 (docs/trust.md). */
static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS files ("
				 "  path TEXT PRIMARY KEY NOT NULL,"
				 "  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
				 "  size INTEGER NOT NULL,"
				 "  dev INTEGER NOT NULL,"
				 "  ino INTEGER NOT NULL,"
				 "  ctime_ns INTEGER NOT NULL,"
				 "  mtime_ns INTEGER NOT NULL,"
				 "  source TEXT NOT NULL,"
				 "  added_at INTEGER NOT NULL"
				 ") WITHOUT ROWID;"
				 "CREATE INDEX IF NOT EXISTS files_by_inode ON files (dev, ino);"
				 "CREATE INDEX IF NOT EXISTS files_by_sha256 ON files (sha256);"
				 "CREATE INDEX IF NOT EXISTS files_by_source ON files (source);"
				 /* What the last dpkg import saw of each package, for --changed. */
				 "CREATE TABLE IF NOT EXISTS packages ("
				 "  name TEXT PRIMARY KEY NOT NULL,"
				 "  version TEXT NOT NULL,"
				 "  md5sums_size INTEGER NOT NULL,"
				 "  md5sums_mtime_ns INTEGER NOT NULL,"
				 "  imported_at INTEGER NOT NULL"
				 ") WITHOUT ROWID;";

#define COLUMNS "path, sha256, size, dev, ino, ctime_ns, mtime_ns, source, added_at"

struct bw_trust {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *put, *del, *del_source;
	bool in_txn;
	unsigned batch_n;
	time_t batch_started;
	char err[512];
};

struct sqlite3 *bw_trust_db(struct bw_trust *t)
{
	return t->db;
}

const char *bw_trust_path(const struct bw_trust *t)
{
	return t->path;
}

const char *bw_trust_error(const struct bw_trust *t)
{
	return t->err[0] ? t->err : NULL;
}

int bw_trust_db_error(struct bw_trust *t, const char *what)
{
	snprintf(t->err, sizeof(t->err), "%s: %s", what, sqlite3_errmsg(t->db));
	return -EIO;
}

int bw_trust_fail(struct bw_trust *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return err;
}

static int exec_sql(struct bw_trust *t, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(t->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(t->err, sizeof(t->err), "%s", msg ? msg : sqlite3_errmsg(t->db));
	sqlite3_free(msg);
	return -EIO;
}

static int prepare(struct bw_trust *t, const char *sql, sqlite3_stmt **ret)
{
	if (sqlite3_prepare_v2(t->db, sql, -1, ret, NULL) != SQLITE_OK)
		return bw_trust_db_error(t, "prepare");
	return 0;
}

static int pragma_int(struct bw_trust *t, const char *name, int *ret)
{
	char sql[64];
	sqlite3_stmt *s = NULL;
	int r;

	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	r = prepare(t, sql, &s);
	if (r < 0)
		return r;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*ret = sqlite3_column_int(s, 0);
	} else {
		r = bw_trust_db_error(t, name);
	}
	sqlite3_finalize(s);
	return r;
}

/*
 * A new file gets the schema; an existing one must be ours, at a version
 * we know. Both in one transaction, so two first runs cannot race.
 */
static int setup_schema(struct bw_trust *t, bool writable)
{
	int app = 0, version = 0, r;

	r = pragma_int(t, "application_id", &app);
	if (r == 0)
		r = pragma_int(t, "user_version", &version);
	if (r < 0)
		return r;
	if (app == TRUST_APPLICATION_ID && version == TRUST_SCHEMA_VERSION)
		return 0;
	if (app != 0 || version != 0) {
		snprintf(t->err, sizeof(t->err),
			 app == TRUST_APPLICATION_ID
			     ? "trust database schema %d is newer than this bulwark knows (%d)"
			     : "not a bulwark trust database (application_id %#x)",
			 app == TRUST_APPLICATION_ID ? version : app, TRUST_SCHEMA_VERSION);
		return -EINVAL;
	}
	if (!writable) {
		snprintf(t->err, sizeof(t->err), "empty: not a trust database yet");
		return -ENOENT;
	}
	r = exec_sql(t, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = exec_sql(t, schema_sql);
	if (r == 0) {
		char sql[128];

		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
			 TRUST_APPLICATION_ID, TRUST_SCHEMA_VERSION);
		r = exec_sql(t, sql);
	}
	if (r == 0)
		return exec_sql(t, "COMMIT");
	(void)sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static const char *default_path(void)
{
	const char *env = secure_getenv(BW_TRUST_DB_ENV);

	return env && *env ? env : BW_TRUST_DB_PATH;
}

/* The database's directory, for a first run on a fresh host (/var/lib/bulwark). */
static int make_parent(const char *path)
{
	char *dir = strdup(path), *slash;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	return r;
}

/*
 * A reader that may not create SQLite's -shm beside a WAL database (the
 * directory is guarded by `protect self`, decision 79) cannot read it
 * the usual way. Nobody but bulwarkd can write there then, and bulwarkd
 * only reads, so the file is as immutable as SQLite's `immutable=1`
 * assumes: read it that way (the main file only; rows a crashed writer
 * left in its -wal are not seen until bulwarkd's next sync folds them in).
 */
static int reopen_immutable(struct bw_trust *t)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(t->path);
	char *uri = malloc(3 * n + sizeof("file:?immutable=1")), *u = uri;

	if (!uri)
		return -ENOMEM;
	u += sprintf(u, "file:");
	for (const unsigned char *p = (const unsigned char *)t->path; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-", *p)) {
			*u++ = (char)*p;
		} else {
			*u++ = '%';
			*u++ = hex[*p >> 4];
			*u++ = hex[*p & 15];
		}
	strcpy(u, "?immutable=1");
	sqlite3_close(t->db);
	t->db = NULL;
	if (sqlite3_open_v2(uri, &t->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		free(uri);
		return -EIO;
	}
	free(uri);
	sqlite3_extended_result_codes(t->db, 1);
	return exec_sql(t, "PRAGMA query_only = 1");
}

int bw_trust_open(struct bw_trust **ret, const char *path, unsigned flags, char *err, size_t errlen)
{
	bool writable = flags & BW_TRUST_WRITE;
	struct bw_trust *t = NULL;
	struct stat st;
	int r;

	if (!path)
		path = default_path();
	if (!writable && stat(path, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s%s", strerror(errno),
			 errno == ENOENT
			     ? " (no trust database yet: `bulwark trust add` creates it)"
			     : "");
		return r;
	}
	if (writable) {
		int fd;

		r = make_parent(path);
		if (r < 0) {
			snprintf(err, errlen, "cannot create its directory: %s", strerror(-r));
			return r;
		}
		/*
		 * SQLite falls back to read-only when a write-open fails, and
		 * says "readonly database" at the first write: ask the kernel
		 * first, so a database guarded by `protect self` says so.
		 */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
		if (fd < 0 && errno == EPERM) {
			snprintf(err, errlen, "the kernel refused writing it (%s): under bulwark's `protect self` "
					      "the trust database is fixed until a signed unload or a reboot (docs/trust.md)",
				 strerror(EPERM));
			return -EPERM;
		}
		if (fd >= 0)
			close(fd);
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}
	r = sqlite3_open_v2(
	    path, &t->db,
	    writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY, NULL);
	if (r != SQLITE_OK) {
		r = r == SQLITE_CANTOPEN ? -EACCES : -EIO;
		snprintf(err, errlen, "%s", t->db ? sqlite3_errmsg(t->db) : "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(t->db, 1);
	sqlite3_busy_timeout(t->db, BUSY_TIMEOUT_MS);
	/*
	 * WAL: the daemon can read while an import writes, and a commit is
	 * one append. synchronous=FULL: a committed batch survives power loss
	 * too; commits are per batch, so its fsyncs are cheap.
	 */
	r = exec_sql(t, writable ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
				   "PRAGMA temp_store = MEMORY"
				 : "PRAGMA query_only = 1");
	if (r == 0)
		r = setup_schema(t, writable);
	if (r < 0 && !writable && reopen_immutable(t) == 0)
		r = setup_schema(t, false);
	if (r == 0 && writable)
		r = prepare(t,
			    "INSERT INTO files (" COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
			    "ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, "
			    "size = excluded.size, dev = excluded.dev, ino = excluded.ino, "
			    "ctime_ns = excluded.ctime_ns, mtime_ns = excluded.mtime_ns, "
			    "source = excluded.source, added_at = excluded.added_at",
			    &t->put);
	if (r == 0 && writable)
		r = prepare(t, "DELETE FROM files WHERE path = ?", &t->del);
	if (r == 0 && writable)
		r = prepare(t, "DELETE FROM files WHERE path = ? AND source = ?", &t->del_source);
	if (r < 0) {
		snprintf(err, errlen, "%s", t->err);
		goto out;
	}
	*ret = t;
	t = NULL;
out:
	bw_trust_close(t);
	return r;
}

void bw_trust_close(struct bw_trust *t)
{
	if (!t)
		return;
	if (t->in_txn)
		(void)sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(t->put);
	sqlite3_finalize(t->del);
	sqlite3_finalize(t->del_source);
	sqlite3_close(t->db);
	free(t->path);
	free(t);
}

int bw_trust_check(struct bw_trust *t)
{
	sqlite3_stmt *s = NULL;
	const char *msg;
	int r = prepare(t, "PRAGMA integrity_check", &s);

	if (r < 0)
		return r;
	if (sqlite3_step(s) != SQLITE_ROW) {
		r = bw_trust_db_error(t, "integrity check");
	} else {
		msg = (const char *)sqlite3_column_text(s, 0);
		if (!msg || strcmp(msg, "ok") != 0) {
			snprintf(t->err, sizeof(t->err), "integrity check: %s",
				 msg ? msg : "failed");
			r = -EIO;
		}
	}
	sqlite3_finalize(s);
	return r;
}

int bw_trust_begin(struct bw_trust *t)
{
	/* IMMEDIATE: take the write lock now, so a second writer waits here, not mid-batch. */
	int r = exec_sql(t, "BEGIN IMMEDIATE");

	if (r == 0) {
		t->in_txn = true;
		t->batch_n = 0;
		t->batch_started = time(NULL);
	}
	return r;
}

int bw_trust_commit(struct bw_trust *t)
{
	int r;

	if (!t->in_txn)
		return 0;
	r = exec_sql(t, "COMMIT");
	if (r == 0)
		t->in_txn = false;
	return r;
}

int bw_trust_batch_step(struct bw_trust *t, unsigned batch)
{
	int r;

	if (++t->batch_n < (batch ? batch : BATCH_DEFAULT) &&
	    time(NULL) - t->batch_started < BATCH_SECONDS)
		return 0;
	r = bw_trust_commit(t);
	return r < 0 ? r : bw_trust_begin(t);
}

int bw_trust_put(struct bw_trust *t, const struct bw_trust_record *r)
{
	sqlite3_stmt *s = t->put;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, r->path, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, r->sha256, sizeof(r->sha256), SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)r->size);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)r->dev);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)r->ino);
	sqlite3_bind_int64(s, 6, r->ctime_ns);
	sqlite3_bind_int64(s, 7, r->mtime_ns);
	sqlite3_bind_text(s, 8, r->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, r->added_at);
	rc = sqlite3_step(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : bw_trust_db_error(t, r->path);
}

int bw_trust_delete(struct bw_trust *t, const char *path, const char *source, uint64_t *ret_n)
{
	sqlite3_stmt *s = source ? t->del_source : t->del;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	if (source)
		sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return bw_trust_db_error(t, path);
	if (ret_n)
		*ret_n = (uint64_t)sqlite3_changes(t->db);
	return 0;
}

void bw_trust_record_from_item(struct bw_trust_record *r, const struct bw_trust_item *it,
			       const char *path, const char *source, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	memcpy(r->sha256, it->sha256, sizeof(r->sha256));
	r->size = it->size;
	r->dev = it->dev;
	r->ino = it->ino;
	r->ctime_ns = it->ctime_ns;
	r->mtime_ns = it->mtime_ns;
	r->source = source;
	r->added_at = now;
}

int bw_trust_abspath(const char *path, char **ret)
{
	char cwd[PATH_MAX], *joined = NULL, *out = NULL, *save = NULL, *comp;
	size_t len = 0;
	int r = 0;

	if (!path || !*path)
		return -EINVAL;
	if (path[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (asprintf(&joined, "%s/%s", cwd, path) < 0)
			return -ENOMEM;
	} else if (!(joined = strdup(path))) {
		return -ENOMEM;
	}
	if (strlen(joined) >= PATH_MAX) {
		r = -ENAMETOOLONG;
		goto out;
	}
	out = malloc(strlen(joined) + 2);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	for (comp = strtok_r(joined, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* Drop the last "/component"; above / is / */
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		out[len++] = '/';
		strcpy(out + len, comp);
		len += strlen(comp);
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	*ret = out;
	out = NULL;
out:
	free(out);
	free(joined);
	return r;
}

static void report(const struct bw_trust_run *run, struct bw_trust_stats *st, const char *path,
		   const char *reason, bool is_failure)
{
	if (is_failure)
		st->failed++;
	else
		st->notes++;
	if (run && run->problem)
		run->problem(run->ud, path, reason, is_failure);
}

static void progress(const struct bw_trust_run *run, const struct bw_trust_stats *st)
{
	if (run && run->progress)
		run->progress(run->ud, st);
}

/* A growing array of items to hash. */
struct item_list {
	struct bw_trust_item *v;
	size_t n, cap;
};

static int item_push(struct item_list *l, char *path, unsigned flags, uint32_t owner)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct bw_trust_item *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].path = path;
	l->v[l->n].flags = flags;
	l->v[l->n].owner = owner;
	l->n++;
	return 0;
}

static void item_list_free(struct item_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

/*
 * A directory named with -r: every regular file below it on the same
 * file system. Symlinks inside are not followed, the one named is (/bin
 * on a merged-/usr system). Staying on one file system keeps /proc,
 * /sys and network mounts out of `trust add -r /`; other mounts are
 * named on their own (decision 47).
 */
static int walk_tree(const char *root, struct item_list *items, const struct bw_trust_run *run,
		     struct bw_trust_stats *st)
{
	char *roots[] = {(char *)root, NULL};
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_COMFOLLOW | FTS_NOCHDIR | FTS_XDEV, NULL);
	FTSENT *e;
	int r = 0;

	if (!fts)
		return -errno;
	while (r == 0) {
		char *copy;

		errno = 0;
		e = fts_read(fts);
		if (!e) {
			r = -errno;
			break;
		}

		switch (e->fts_info) {
		case FTS_F:
			if (!S_ISREG(e->fts_statp->st_mode) || e->fts_pathlen >= PATH_MAX) {
				if (e->fts_pathlen >= PATH_MAX)
					report(run, st, e->fts_path, "path longer than PATH_MAX",
					       true);
				else
					st->skipped++;
				break;
			}
			copy = strdup(e->fts_path);
			r = copy ? item_push(items, copy, BW_ITEM_CODE_ONLY | BW_ITEM_NOFOLLOW, 0)
				 : -ENOMEM;
			if (r < 0)
				free(copy);
			break;
		case FTS_SL:
		case FTS_SLNONE:
		case FTS_DEFAULT:
			st->skipped++;
			break;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			report(run, st, e->fts_path, strerror(e->fts_errno), true);
			break;
		default:
			break;
		}
	}
	fts_close(fts);
	return r;
}

struct add_ctx {
	struct bw_trust *t;
	const struct bw_trust_run *run;
	struct bw_trust_stats *st;
	int64_t now;
};

static int add_done(void *ud, struct bw_trust_item *it)
{
	struct add_ctx *c = ud;
	struct bw_trust_record rec;
	const char *why;
	char buf[128];
	int r = 0;

	c->st->examined++;
	why = bw_trust_item_reason(it, buf, sizeof(buf));
	if (it->status == BW_ITEM_HASHED) {
		bw_trust_record_from_item(&rec, it, it->path, "manual", c->now);
		r = bw_trust_put(c->t, &rec);
		if (r == 0) {
			c->st->trusted++;
			c->st->bytes += it->size;
			r = bw_trust_batch_step(c->t, c->run ? c->run->batch : 0);
		}
	} else if (it->status == BW_ITEM_NOT_CODE ||
		   (it->status == BW_ITEM_NOT_REGULAR && (it->flags & BW_ITEM_NOFOLLOW))) {
		c->st->skipped++;
	} else {
		report(c->run, c->st, it->path, why, true);
	}
	progress(c->run, c->st);
	return r;
}

/*
 * A path from the command line, made absolute: 0 with *ret set, 1 when it
 * was reported as a failure (the run goes on), or -errno.
 */
static int arg_path(const struct bw_trust_run *run, struct bw_trust_stats *st, const char *arg,
		    char **ret)
{
	int r = bw_trust_abspath(arg, ret);

	if (r == -ENAMETOOLONG || r == -EINVAL) {
		report(run, st, arg, r == -EINVAL ? "empty path" : "path longer than PATH_MAX",
		       true);
		return 1;
	}
	return r;
}

int bw_trust_add(struct bw_trust *t, char *const *paths, size_t n, bool recursive,
		 const struct bw_trust_run *run, struct bw_trust_stats *st)
{
	struct item_list items = {0};
	struct add_ctx ctx = {.t = t, .run = run, .st = st, .now = time(NULL)};
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++) {
		char *abs = NULL;
		struct stat sb;

		r = arg_path(run, st, paths[i], &abs);
		if (r != 0) {
			r = r > 0 ? 0 : r;
			continue;
		}
		if (stat(abs, &sb) < 0) {
			report(run, st, abs, strerror(errno), true);
			free(abs);
			continue;
		}
		if (S_ISDIR(sb.st_mode) && recursive) {
			r = walk_tree(abs, &items, run, st);
			free(abs);
			continue;
		}
		if (!S_ISREG(sb.st_mode)) {
			report(run, st, abs,
			       S_ISDIR(sb.st_mode) ? "is a directory (use -r)"
						   : "not a regular file",
			       true);
			free(abs);
			continue;
		}
		/* Named files are trusted whatever they hold: the admin chose them. */
		r = item_push(&items, abs, 0, 0);
		if (r < 0)
			free(abs);
	}
	st->total = items.n;
	progress(run, st);
	if (r == 0 && items.n)
		r = bw_trust_begin(t);
	if (r == 0 && items.n) {
		r = bw_trust_hash_items(items.v, items.n, run ? run->threads : 0, add_done, &ctx);
		if (r == 0)
			r = bw_trust_commit(t);
	}
	item_list_free(&items);
	return r;
}

int bw_trust_remove(struct bw_trust *t, char *const *paths, size_t n, bool recursive,
		    const struct bw_trust_run *run, struct bw_trust_stats *st)
{
	sqlite3_stmt *below = NULL;
	int r = 0;

	/* Entries below a directory: the range [dir/, dir0) of the path index ('0' follows '/'). */
	if (recursive)
		r = prepare(t, "DELETE FROM files WHERE path >= ?1 || '/' AND path < ?1 || '0'",
			    &below);
	if (r == 0)
		r = bw_trust_begin(t);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *abs = NULL;
		uint64_t gone = 0;

		r = arg_path(run, st, paths[i], &abs);
		if (r != 0) {
			r = r > 0 ? 0 : r;
			continue;
		}
		r = bw_trust_delete(t, abs, NULL, &gone);
		if (r == 0 && recursive) {
			sqlite3_reset(below);
			/* "/" keeps no trailing slash of its own: its range is [/, 0). */
			sqlite3_bind_text(below, 1, strcmp(abs, "/") == 0 ? "" : abs, -1,
					  SQLITE_STATIC);
			if (sqlite3_step(below) != SQLITE_DONE)
				r = bw_trust_db_error(t, abs);
			else
				gone += (uint64_t)sqlite3_changes(t->db);
		}
		if (r == 0 && gone == 0)
			report(run, st, abs,
			       recursive ? "nothing trusted there" : "not in the trust database",
			       true);
		st->removed += gone;
		free(abs);
	}
	if (r == 0)
		r = bw_trust_commit(t);
	sqlite3_finalize(below);
	return r;
}

static void record_from_row(sqlite3_stmt *s, struct bw_trust_record *r)
{
	const void *sha = sqlite3_column_blob(s, 1);

	memset(r, 0, sizeof(*r));
	r->path = (const char *)sqlite3_column_text(s, 0);
	if (sha && sqlite3_column_bytes(s, 1) == (int)sizeof(r->sha256))
		memcpy(r->sha256, sha, sizeof(r->sha256));
	r->size = (uint64_t)sqlite3_column_int64(s, 2);
	r->dev = (uint64_t)sqlite3_column_int64(s, 3);
	r->ino = (uint64_t)sqlite3_column_int64(s, 4);
	r->ctime_ns = sqlite3_column_int64(s, 5);
	r->mtime_ns = sqlite3_column_int64(s, 6);
	r->source = (const char *)sqlite3_column_text(s, 7);
	r->added_at = sqlite3_column_int64(s, 8);
}

/* Runs a prepared SELECT of COLUMNS, handing each row to cb. */
static int each_row(struct bw_trust *t, sqlite3_stmt *s, bw_trust_record_fn cb, void *ud)
{
	struct bw_trust_record rec;
	int rc, r = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		record_from_row(s, &rec);
		r = cb(ud, &rec);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = bw_trust_db_error(t, "read");
	sqlite3_finalize(s);
	return r;
}

int bw_trust_foreach(struct bw_trust *t, bw_trust_record_fn cb, void *ud)
{
	sqlite3_stmt *s = NULL;
	int r = prepare(t, "SELECT " COLUMNS " FROM files ORDER BY path", &s);

	return r < 0 ? r : each_row(t, s, cb, ud);
}

int bw_trust_find_inode(struct bw_trust *t, uint64_t dev, uint64_t ino, bw_trust_record_fn cb,
			void *ud)
{
	sqlite3_stmt *s = NULL;
	int r =
	    prepare(t, "SELECT " COLUMNS " FROM files WHERE dev = ? AND ino = ? ORDER BY path", &s);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)dev);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)ino);
	return each_row(t, s, cb, ud);
}

int bw_trust_find_sha256(struct bw_trust *t, const uint8_t sha256[32], bw_trust_record_fn cb,
			 void *ud)
{
	sqlite3_stmt *s = NULL;
	int r = prepare(t, "SELECT " COLUMNS " FROM files WHERE sha256 = ? ORDER BY path", &s);

	if (r < 0)
		return r;
	sqlite3_bind_blob(s, 1, sha256, 32, SQLITE_TRANSIENT);
	return each_row(t, s, cb, ud);
}

/* verify: every row becomes an item whose expected hash is kept beside it. */
struct verify_ctx {
	struct item_list items;
	uint8_t (*want)[32];
	uint64_t *want_dev, *want_ino;
	size_t cap;
	const struct bw_trust_run *run;
	struct bw_trust_stats *st;
};

static int verify_collect(void *ud, const struct bw_trust_record *r)
{
	struct verify_ctx *c = ud;
	char *path = strdup(r->path);
	size_t i = c->items.n;

	if (!path || item_push(&c->items, path, 0, (uint32_t)i) < 0) {
		free(path);
		return -ENOMEM;
	}
	if (i >= c->cap) {
		size_t cap = c->items.cap;
		void *w = realloc(c->want, cap * sizeof(*c->want));

		if (!w)
			return -ENOMEM;
		c->want = w;
		w = realloc(c->want_dev, cap * sizeof(uint64_t));
		if (!w)
			return -ENOMEM;
		c->want_dev = w;
		w = realloc(c->want_ino, cap * sizeof(uint64_t));
		if (!w)
			return -ENOMEM;
		c->want_ino = w;
		c->cap = cap;
	}
	memcpy(c->want[i], r->sha256, 32);
	c->want_dev[i] = r->dev;
	c->want_ino[i] = r->ino;
	return 0;
}

static int verify_done(void *ud, struct bw_trust_item *it)
{
	struct verify_ctx *c = ud;
	char buf[160];
	const char *why;

	c->st->examined++;
	why = bw_trust_item_reason(it, buf, sizeof(buf));
	if (it->status == BW_ITEM_FAILED && it->err == -ENOENT) {
		c->st->missing++;
		report(c->run, c->st, it->path, "missing", true);
	} else if (why) {
		report(c->run, c->st, it->path, why, true);
	} else if (memcmp(it->sha256, c->want[it->owner], 32) != 0) {
		char hex[65];

		bw_hex(it->sha256, 32, hex);
		snprintf(buf, sizeof(buf), "changed: sha256 is now %s", hex);
		report(c->run, c->st, it->path, buf, true);
	} else {
		c->st->bytes += it->size;
		if (it->dev != c->want_dev[it->owner] || it->ino != c->want_ino[it->owner])
			report(c->run, c->st, it->path,
			       "same content in a new inode (`bulwark trust add` records it)",
			       false);
	}
	progress(c->run, c->st);
	return 0;
}

int bw_trust_verify(struct bw_trust *t, const struct bw_trust_run *run, struct bw_trust_stats *st)
{
	struct verify_ctx c = {.run = run, .st = st};
	int r = bw_trust_check(t);

	if (r == 0)
		r = bw_trust_foreach(t, verify_collect, &c);
	if (r == -ENOMEM)
		snprintf(t->err, sizeof(t->err), "%s", strerror(ENOMEM));
	st->total = c.items.n;
	progress(run, st);
	if (r == 0)
		r = bw_trust_hash_items(c.items.v, c.items.n, run ? run->threads : 0, verify_done,
					&c);
	item_list_free(&c.items);
	free(c.want);
	free(c.want_dev);
	free(c.want_ino);
	return r;
}

struct json_object *bw_trust_record_to_json(const struct bw_trust_record *r)
{
	struct json_object *o = json_object_new_object();
	char hex[65], when[32];
	time_t at = (time_t)r->added_at;
	struct tm tm;

	bw_hex(r->sha256, 32, hex);
	if (gmtime_r(&at, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(when, sizeof(when), "%lld", (long long)r->added_at);
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "sha256", json_object_new_string(hex));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
	json_object_object_add(o, "dev", json_object_new_int64((int64_t)r->dev));
	json_object_object_add(o, "ino", json_object_new_int64((int64_t)r->ino));
	json_object_object_add(o, "ctime_ns", json_object_new_int64(r->ctime_ns));
	json_object_object_add(o, "mtime_ns", json_object_new_int64(r->mtime_ns));
	json_object_object_add(o, "source", json_object_new_string(r->source ? r->source : ""));
	json_object_object_add(o, "added_at", json_object_new_string(when));
	return o;
}
