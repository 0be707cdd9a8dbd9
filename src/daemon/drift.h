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

struct drift {
	struct bw_resolved *v; /* the active policy's record, sorted (kind, path) */
	size_t n;
	struct bw_strpool strings; /* v's paths and files */
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

struct drift_report {
	size_t changed, missing;
	bool relocated;       /* a directory or cgroup bulwarkd follows resolves elsewhere: re-resolve */
	uint64_t fingerprint; /* of what drifted and to what: a failed re-resolution retries on change */
};

void drift_init(struct drift *dr);
void drift_free(struct drift *dr);
/* Adopt a new record (taking ownership of v and its strings) and watch its directories. */
void drift_set(struct drift *dr, struct bw_resolved *v, size_t n, struct bw_strpool *strings);
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
