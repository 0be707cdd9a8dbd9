/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Drift: the active policy's paths against what they resolve to now.
 *
 * The compiler turns every path a rule names into an identity (inode,
 * cgroup id) once, at load. Files are identities on purpose (decision 1):
 * a replaced file is reported, never followed. Directories and cgroups are
 * locations: when one is replaced or recreated (a deployment swapping
 * /opt/app, systemd restarting a service), the daemon re-resolves them.
 * inotify on the directories that hold them says when to look.
 */
#ifndef BULWARKD_DRIFT_H
#define BULWARKD_DRIFT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../lib/compile.h"

/* The drift last reported for one entry. */
struct drift_seen {
	bool reported;
	int err;
	uint64_t dev, ino;
};

/* A directory inotify watches, and what it was when the watch was added. */
struct drift_dir {
	char *path;
	uint64_t dev, ino; /* st_dev, st_ino */
};

/*
 * One path of the record. Its path is front-coded in the record's paths
 * (sorted, neighbours share most of their bytes), its rule is a file of
 * the record's files and a line: 32 bytes and a few a path, where a
 * struct bw_resolved and its strings took a hundred.
 */
struct drift_entry {
	uint64_t dev, ino; /* as struct bw_resolved */
	uint32_t path;     /* where it starts in paths */
	uint32_t line;
	uint32_t file;     /* index in files */
	uint8_t kind;      /* enum bw_resolved_kind */
	bool retired;      /* has identities in retired */
};

/* A followed directory's earlier identities (struct bw_resolved's retired). */
struct drift_retired {
	size_t entry;
	uint64_t (*ids)[2];
	size_t n;
};

struct drift {
	struct drift_entry *v; /* the active policy's record, sorted (kind, path) */
	size_t n;
	struct bw_fcode paths;
	char **files;
	size_t n_files;
	struct drift_retired *retired; /* by entry */
	size_t n_retired;
	/*
	 * Per entry: what was last reported. NULL until something drifts:
	 * with nothing drifted (the usual case) a policy of 100,000 paths
	 * would keep 2.3 MiB of zeros.
	 */
	struct drift_seen *seen;
	long report_minute;    /* rate limit of drift reports */
	unsigned reports, suppressed;
	int watch_fd;          /* inotify, -1 when nothing is watched */
	size_t unwatched;      /* directories inotify refused */
	struct drift_dir *dirs; /* the directories watched, each once */
	size_t n_dirs;
};

/*
 * Entry i of a record as a struct bw_resolved (its path in buf), for the
 * library's calls: drift_at, then drift_cursor_free.
 */
struct drift_cursor {
	size_t i;
	bool valid;  /* r is entry i: i + 1 decodes from it */
	struct bw_resolved r;
	char *buf;
	size_t cap;
};
/* Entry i (in order: the next one decodes from this one); false past the end or out of memory. */
bool drift_at(const struct drift *dr, struct drift_cursor *c, size_t i);
void drift_cursor_free(struct drift_cursor *c);

struct drift_report {
	size_t changed, missing;
	bool relocated;       /* a directory or cgroup bulwarkd follows resolves elsewhere: re-resolve */
	uint64_t fingerprint; /* of what drifted and to what: a failed re-resolution retries on change */
};

void drift_init(struct drift *dr);
void drift_free(struct drift *dr);
/*
 * Adopt a new record (taking v's retired identities; v and strings stay
 * the caller's) and watch its directories.
 */
void drift_set(struct drift *dr, struct bw_resolved *v, size_t n);
/*
 * The record as the compiler reads a record to keep (bw_policy's keep):
 * *ret (free() it, not bw_resolved_free: the retired identities are
 * dr's), its strings in *strings (bw_strpool_free). 0 or -ENOMEM.
 */
int drift_resolved(const struct drift *dr, struct bw_resolved **ret, struct bw_strpool *strings);
/* Where r's first rule is, "file:line", in buf. */
const char *drift_where(const struct bw_resolved *r, char *buf, size_t len);
enum drift_news {
	DRIFT_CHANGED = 1, /* something changed under a watched directory */
	DRIFT_REWATCH = 2, /* a watched directory went away, or events were lost: watch anew */
};
/* Drain the inotify queue: enum drift_news bits. */
unsigned drift_drain(struct drift *dr);
/* Watch again, each path's nearest existing directory. */
void drift_rewatch(struct drift *dr);
/*
 * Can the watch have missed something? True when some path is not watched
 * (inotify refused, or none at all), or a watched directory's path names
 * another directory now or none (a rename further up, a mount over it):
 * inotify says nothing of either. A stat per watched directory, not per path.
 */
bool drift_watch_blind(const struct drift *dr);
/*
 * Compare every entry with what it resolves to now. Entries that differ go
 * to `list` (if given, at most `max`). With `fresh`, each drift is logged
 * and appended there the first time it is seen.
 */
struct drift_report drift_scan(struct drift *dr, struct json_object *list, size_t max,
			       struct json_object *fresh);
/* The old identities of followed directories that rules still cover, for status. */
struct json_object *drift_retired_json(const struct drift *dr);
/* The record in the daemon's state file, and back. */
/* Printed an entry at a time (no tree of the record): 0 or -errno. */
int drift_print(const struct drift *dr, FILE *f);
void drift_from_json(struct drift *dr, struct json_object *o);

#endif
