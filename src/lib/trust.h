/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The trust database: which file contents bulwark trusts, by path, SHA-256
 * and inode. Internal to libbulwark, the CLI and (later) bulwarkd: the
 * on-disk format is documented in docs/trust.md, the C API is not stable
 * until the kernel side that consumes it exists.
 *
 * One SQLite file (WAL, synchronous=FULL). Writers batch many files per
 * transaction, so a killed run loses at most its last batch and never
 * leaves a half-written row or index (decision 46).
 */
#ifndef BULWARK_LIB_TRUST_H
#define BULWARK_LIB_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define BW_TRUST_DB_PATH "/var/lib/bulwark/trust.db"
/* Overrides the default path (tests); --db overrides both. */
#define BW_TRUST_DB_ENV "BULWARK_TRUST_DB"
#define BW_DPKG_ADMINDIR "/var/lib/dpkg"

struct bw_trust;

/* One trusted file. Strings belong to whoever produced the record. */
struct bw_trust_record {
	const char *path;   /* absolute, as given (symlinks not resolved) */
	uint8_t sha256[32]; /* of the file the path resolved to */
	uint64_t size;
	uint64_t dev; /* st_dev as stat(2) reports it; bw_kernel_dev() for keys */
	uint64_t ino;
	int64_t ctime_ns, mtime_ns;
	const char *source; /* "manual" or "dpkg:<package>" */
	int64_t added_at;   /* unix seconds: when this content was trusted */
};

/* What a run did; every field counts files unless it says otherwise. */
struct bw_trust_stats {
	uint64_t examined; /* files looked at (opened, or missing) */
	uint64_t trusted;  /* written to the database */
	uint64_t skipped;  /* not code under -r, symlinks in a tree, not regular */
	uint64_t failed;   /* reported through problem(): the run's exit status */
	uint64_t notes;	   /* reported through problem() but not failures */
	uint64_t removed;  /* rows deleted */
	uint64_t missing;  /* dpkg: listed but absent; verify: counted in failed too */
	uint64_t bytes;	   /* hashed */
	uint64_t packages; /* dpkg: packages (re)imported */
	uint64_t total;	   /* files the run will look at, once known (progress) */
};

/*
 * How a run reports. Callbacks run on the calling thread. problem() gets
 * one file that was not trusted, changed, or could not be read, with a
 * short reason ("does not match dpkg's md5sum"); is_failure false marks
 * notes that do not fail the run (a modified conffile).
 */
struct bw_trust_run {
	void (*problem)(void *ud, const char *path, const char *reason, bool is_failure);
	void (*progress)(void *ud, const struct bw_trust_stats *st);
	void *ud;
	unsigned threads; /* hashing threads; 0: one per online CPU (at most 16) */
	unsigned batch;	  /* files per transaction; 0: 2000 (also committed every second) */
};

enum bw_trust_open_flags {
	BW_TRUST_READ = 0,
	BW_TRUST_WRITE = 1u << 0, /* create the file and its directory if missing */
};

/*
 * Open the database at path (NULL: $BULWARK_TRUST_DB, else
 * BW_TRUST_DB_PATH). On failure err gets a one-line reason without the
 * path. -ENOENT: no database (and BW_TRUST_WRITE not given).
 */
int bw_trust_open(struct bw_trust **ret, const char *path, unsigned flags, char *err,
		  size_t errlen);
void bw_trust_close(struct bw_trust *t);
/* The path opened, and the last error of a call that failed on the store (or NULL). */
const char *bw_trust_path(const struct bw_trust *t);
const char *bw_trust_error(const struct bw_trust *t);
/* SQLite's integrity check: 0, or -EIO with bw_trust_error() saying what. */
int bw_trust_check(struct bw_trust *t);

/*
 * Hash and record paths (source "manual"). A named file is recorded
 * whatever it holds; with recursive, directories are walked and only
 * code is recorded (an exec bit, ELF magic or #!, decision 47), symlinks
 * inside them are not followed. A symlink named on the command line is
 * followed: its target is hashed, the path given recorded.
 * Returns 0 or -errno for a store failure (problems are counted in st).
 */
int bw_trust_add(struct bw_trust *t, char *const *paths, size_t n, bool recursive,
		 const struct bw_trust_run *run, struct bw_trust_stats *st);
/* Forget paths; with recursive, every entry below each path too. */
int bw_trust_remove(struct bw_trust *t, char *const *paths, size_t n, bool recursive,
		    const struct bw_trust_run *run, struct bw_trust_stats *st);
/* Re-hash every entry; changed and missing files are failures. */
int bw_trust_verify(struct bw_trust *t, const struct bw_trust_run *run, struct bw_trust_stats *st);
/*
 * Trust installed packages' files that match dpkg's md5sums (admindir
 * NULL: BW_DPKG_ADMINDIR). changed_only: only packages installed,
 * upgraded or reinstalled since the last import; either way the files of
 * packages no longer installed are forgotten. only (n_only > 0): import
 * just these installed packages (name, or name:arch); one that is not
 * installed is an error (-ENOENT) before anything changes.
 */
int bw_trust_import_dpkg(struct bw_trust *t, const char *admindir, bool changed_only,
			 const char *const *only, size_t n_only, const struct bw_trust_run *run,
			 struct bw_trust_stats *st);

/* Every entry, sorted by path; a non-zero cb result stops and is returned. */
typedef int (*bw_trust_record_fn)(void *ud, const struct bw_trust_record *r);
int bw_trust_foreach(struct bw_trust *t, bw_trust_record_fn cb, void *ud);
/* The entries of one inode, or of one content: the daemon's two lookups. */
int bw_trust_find_inode(struct bw_trust *t, uint64_t dev, uint64_t ino, bw_trust_record_fn cb,
			void *ud);
int bw_trust_find_sha256(struct bw_trust *t, const uint8_t sha256[32], bw_trust_record_fn cb,
			 void *ud);

struct json_object *bw_trust_record_to_json(const struct bw_trust_record *r);

/*
 * path made absolute against the working directory and cleaned lexically
 * (//, /./, /.. and a trailing /), as `realpath -s` does: symlinks are
 * not resolved, so the path recorded is the one given. -ENAMETOOLONG past
 * PATH_MAX, never cut.
 */
int bw_trust_abspath(const char *path, char **ret);

/* --- shared by the trust modules, not for callers --- */

enum bw_item_flags {
	BW_ITEM_CODE_ONLY = 1u << 0, /* skip files that are not code */
	BW_ITEM_NOFOLLOW = 1u << 1,  /* found by a walk: never follow a symlink */
	BW_ITEM_MD5 = 1u << 2,	     /* also compute MD5 (dpkg's checksums) */
	BW_ITEM_CONFFILE = 1u << 3,  /* dpkg: a conffile, which admins may change */
};

enum bw_item_status {
	BW_ITEM_HASHED = 0,
	BW_ITEM_NOT_CODE = 1,
	BW_ITEM_NOT_REGULAR = 2,
	BW_ITEM_FAILED = 3, /* err says why */
	BW_ITEM_RACED = 4,  /* changed while being hashed */
};

/* A file to hash, and what hashing found. */
struct bw_trust_item {
	char *path;
	unsigned flags;
	uint32_t owner;		/* the caller's: a package, a row */
	uint8_t expect_md5[16]; /* dpkg */
	enum bw_item_status status;
	int err; /* -errno for BW_ITEM_FAILED */
	uint8_t sha256[32];
	uint8_t md5[16];
	uint64_t size, dev, ino;
	int64_t ctime_ns, mtime_ns;
};

/*
 * Hash items on a pool of threads; done() runs on the calling thread for
 * each item as it finishes (in completion order): the single writer.
 * A non-zero done() result stops the run and is returned.
 */
typedef int (*bw_item_done_fn)(void *ud, struct bw_trust_item *it);
int bw_trust_hash_items(struct bw_trust_item *items, size_t n, unsigned threads,
			bw_item_done_fn done, void *ud);

/* Store primitives for the trust modules: one transaction per batch. */
int bw_trust_begin(struct bw_trust *t);
int bw_trust_commit(struct bw_trust *t);
/* Counts one write; commits and begins again when the batch is full or a second old. */
int bw_trust_batch_step(struct bw_trust *t, unsigned batch);
int bw_trust_put(struct bw_trust *t, const struct bw_trust_record *r);
/* Delete path's row (only if its source is `source`, when not NULL); *ret_n rows deleted. */
int bw_trust_delete(struct bw_trust *t, const char *path, const char *source, uint64_t *ret_n);
/* The row's fields from a hashed item. */
void bw_trust_record_from_item(struct bw_trust_record *r, const struct bw_trust_item *it,
			       const char *path, const char *source, int64_t now);
/* Sets bw_trust_error(); returns err. */
int bw_trust_fail(struct bw_trust *t, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets bw_trust_error() from the database's last message; returns -EIO. */
int bw_trust_db_error(struct bw_trust *t, const char *what);
/* The item's outcome as a reason for problem() (NULL when hashed). */
const char *bw_trust_item_reason(const struct bw_trust_item *it, char *buf, size_t len);
struct sqlite3 *bw_trust_db(struct bw_trust *t);

#endif
