// SPDX-License-Identifier: GPL-2.0-or-later
/* Drift between the active policy's resolved paths and the filesystem. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drift.h"
#include "../lib/internal.h"
#include "log.h"

/* Whatever can make a path in that directory name something else. */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
		    IN_MOVE_SELF | IN_ONLYDIR)

void drift_init(struct drift *dr)
{
	memset(dr, 0, sizeof(*dr));
	dr->watch_fd = -1;
}

static void dirs_free(struct drift *dr)
{
	for (size_t i = 0; i < dr->n_dirs; i++)
		free(dr->dirs[i].path);
	free(dr->dirs);
	dr->dirs = NULL;
	dr->n_dirs = 0;
}

void drift_free(struct drift *dr)
{
	free(dr->v);
	bw_fcode_free(&dr->paths);
	for (size_t i = 0; i < dr->n_files; i++)
		free(dr->files[i]);
	free(dr->files);
	for (size_t i = 0; i < dr->n_retired; i++)
		free(dr->retired[i].ids);
	free(dr->retired);
	free(dr->seen);
	if (dr->watch_fd >= 0)
		close(dr->watch_fd);
	dirs_free(dr);
	drift_init(dr);
}

static int retired_cmp(const void *key, const void *elem)
{
	size_t i = *(const size_t *)key, e = ((const struct drift_retired *)elem)->entry;

	return (i > e) - (i < e);
}

bool drift_at(const struct drift *dr, struct drift_cursor *c, size_t i)
{
	const struct drift_entry *e;
	const struct drift_retired *old;
	int err = 0;

	if (i >= dr->n)
		return false;
	e = &dr->v[i];
	if (c->valid && c->i == i)
		return true;
	if (c->valid && c->i + 1 == i)
		bw_fcode_next(dr->paths.text + e->path, &c->buf, &c->cap, &err);
	else
		err = bw_fcode_get(&dr->paths, dr->v[i - i % BW_FCODE_RESTART].path, i % BW_FCODE_RESTART,
				   &c->buf, &c->cap);
	c->valid = !err;
	if (err)
		return false;
	c->i = i;
	c->r = (struct bw_resolved){ .path = c->buf, .file = dr->files[e->file], .line = e->line,
				     .kind = e->kind, .dev = e->dev, .ino = e->ino };
	old = e->retired ? bsearch(&i, dr->retired, dr->n_retired, sizeof(*dr->retired), retired_cmp) : NULL;
	if (old) {
		c->r.retired = old->ids;
		c->r.n_retired = old->n;
	}
	return true;
}

void drift_cursor_free(struct drift_cursor *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* Watches already recorded in dr->dirs, by watch descriptor (the kernel gives one per inode). */
struct seen_wds {
	bool *v;
	size_t n;
};

/*
 * Watch dir and record it with its identity, once per watch descriptor.
 * The identity is taken before the watch: a directory replaced in between
 * shows as moved at the next look, never the other way round.
 */
static int watch_dir(struct drift *dr, struct seen_wds *seen, const char *dir)
{
	struct drift_dir *grown;
	struct stat st;
	int wd;

	if (stat(dir, &st) < 0)
		return -errno;
	wd = inotify_add_watch(dr->watch_fd, dir, WATCH_MASK);
	if (wd < 0)
		return -errno;
	if ((size_t)wd >= seen->n) {
		size_t n = 2 * (size_t)wd + 16;
		bool *v = realloc(seen->v, n * sizeof(*v));

		if (!v)
			abort();
		memset(v + seen->n, 0, (n - seen->n) * sizeof(*v));
		seen->v = v;
		seen->n = n;
	}
	if (seen->v[wd])
		return 0;
	seen->v[wd] = true;
	grown = realloc(dr->dirs, (dr->n_dirs + 1) * sizeof(*grown));
	if (!grown)
		abort();
	dr->dirs = grown;
	dr->dirs[dr->n_dirs] = (struct drift_dir){ .path = strdup(dir), .dev = st.st_dev, .ino = st.st_ino };
	if (!dr->dirs[dr->n_dirs].path)
		abort();
	dr->n_dirs++;
	return 0;
}

/* Watch the nearest existing directory above fs_path: a missing parent is watched from above. */
static int watch_nearest(struct drift *dr, struct seen_wds *seen, char *fs_path)
{
	char *dir = fs_path;

	for (;;) {
		int r;

		dir = dirname(dir);
		r = watch_dir(dr, seen, dir);
		if (r == 0)
			return 0;
		if ((r != -ENOENT && r != -ENOTDIR) || strcmp(dir, "/") == 0)
			return r;
	}
}

static void watch_all(struct drift *dr)
{
	struct drift_cursor cur = { 0 };
	struct seen_wds seen = { 0 };
	char *last_dir = NULL;
	int first_err = 0, last_r = 0;

	dr->unwatched = 0;
	dirs_free(dr);
	if (dr->watch_fd >= 0)
		close(dr->watch_fd);
	dr->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (dr->watch_fd < 0) {
		bw_log(LOG_WARNING, "inotify: %s: replaced directories and recreated cgroups are found only by `bulwark status`",
		       strerror(errno));
		return;
	}
	for (size_t i = 0; i < dr->n; i++) {
		char *path, *slash;
		int r;

		if (!drift_at(dr, &cur, i))
			abort(); /* out of memory */
		path = bw_resolved_fs_path(&cur.r);

		/*
		 * The record is sorted by path: the paths of one directory come
		 * together, and the directory is watched once, not once a path.
		 */
		slash = path ? strrchr(path, '/') : NULL;
		if (slash && last_dir && (size_t)(slash - path) == strlen(last_dir) &&
		    strncmp(path, last_dir, slash - path) == 0) {
			r = last_r;
		} else {
			free(last_dir);
			last_dir = slash ? strndup(path, slash - path) : NULL;
			r = path ? watch_nearest(dr, &seen, path) : -ENOENT;
			last_r = r;
		}

		if (r < 0) {
			if (!first_err)
				first_err = -r;
			dr->unwatched++;
		}
		free(path);
	}
	free(last_dir);
	free(seen.v);
	drift_cursor_free(&cur);
	if (dr->unwatched)
		bw_log(LOG_WARNING,
		       "inotify could not watch %zu policy paths (%s%s): changes there are found only by `bulwark status`",
		       dr->unwatched, strerror(first_err),
		       first_err == ENOSPC ? "; raise fs.inotify.max_user_watches" : "");
}

bool drift_watch_blind(const struct drift *dr)
{
	struct stat st;

	if (dr->n && (dr->watch_fd < 0 || dr->unwatched))
		return true;
	for (size_t i = 0; i < dr->n_dirs; i++)
		if (stat(dr->dirs[i].path, &st) < 0 || st.st_dev != dr->dirs[i].dev || st.st_ino != dr->dirs[i].ino)
			return true;
	return false;
}

/* dr->seen, made at the first drift. */
static struct drift_seen *seen_of(struct drift *dr)
{
	if (!dr->seen) {
		dr->seen = calloc(dr->n ? dr->n : 1, sizeof(*dr->seen));
		if (!dr->seen)
			abort();
	}
	return dr->seen;
}

const char *drift_where(const struct bw_resolved *r, char *buf, size_t len)
{
	/* line 0: a state file's entry whose rule was not "file:line" */
	if (r->line)
		snprintf(buf, len, "%s:%u", r->file ? r->file : "?", r->line);
	else
		snprintf(buf, len, "%s", r->file ? r->file : "?");
	return buf;
}

/* The index of file in nd's files, added if new (the compiler's record has one copy a file). */
/*
 * The policy files' names, sorted: drift_set's index of nd->files. The
 * record is sorted by path, not by file, so a policy spread over many
 * files meets each again and again: a search, not a scan of every name.
 */
struct file_names {
	uint32_t *by_name; /* indices into nd->files, in strcmp order */
	size_t n;
};

static uint32_t file_index(struct drift *nd, struct file_names *fn, const char *file)
{
	size_t lo = 0, hi = fn->n;
	uint32_t *grown_order;
	char **grown;

	file = file ? file : "?";
	if (nd->n && strcmp(nd->files[nd->v[nd->n - 1].file], file) == 0)
		return nd->v[nd->n - 1].file;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(nd->files[fn->by_name[mid]], file);

		if (cmp == 0)
			return fn->by_name[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	grown = realloc(nd->files, (nd->n_files + 1) * sizeof(*grown));
	if (!grown)
		abort();
	nd->files = grown;
	grown_order = realloc(fn->by_name, (fn->n + 1) * sizeof(*grown_order));
	if (!grown_order || !(grown[nd->n_files] = strdup(file)))
		abort();
	fn->by_name = grown_order;
	memmove(&fn->by_name[lo + 1], &fn->by_name[lo], (fn->n - lo) * sizeof(*fn->by_name));
	fn->by_name[lo] = (uint32_t)nd->n_files;
	fn->n++;
	return (uint32_t)nd->n_files++;
}

static int resolved_order(const struct bw_resolved *a, const struct bw_resolved *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->path, b->path);
}

void drift_set(struct drift *dr, struct bw_resolved *v, size_t n)
{
	struct drift nd = { .v = calloc(n ? n : 1, sizeof(*nd.v)) };
	struct drift_cursor old = { 0 };
	struct file_names names = { 0 };
	size_t o = 0;
	int cmp = 1;

	if (!nd.v)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct drift_entry *e = &nd.v[i];

		*e = (struct drift_entry){ .dev = v[i].dev, .ino = v[i].ino, .line = v[i].line,
					   .kind = (uint8_t)v[i].kind, .file = file_index(&nd, &names, v[i].file) };
		if (bw_fcode_add(&nd.paths, v[i].path, &e->path) < 0)
			abort();
		nd.n = i + 1;
		if (v[i].n_retired) {
			struct drift_retired *grown = realloc(nd.retired, (nd.n_retired + 1) * sizeof(*grown));

			if (!grown)
				abort();
			nd.retired = grown;
			grown[nd.n_retired++] = (struct drift_retired){ .entry = i, .ids = v[i].retired,
									.n = v[i].n_retired };
			v[i].retired = NULL;
			v[i].n_retired = 0;
			e->retired = true;
		}
		/*
		 * A drift already reported stays reported while it is the same
		 * drift. Both records are sorted: one walk through the old.
		 */
		for (; dr->seen && o < dr->n; o++) {
			if (!drift_at(dr, &old, o))
				abort(); /* out of memory */
			if ((cmp = resolved_order(&old.r, &v[i])) >= 0)
				break;
		}
		if (!dr->seen || o >= dr->n || cmp != 0 || old.r.dev != v[i].dev || old.r.ino != v[i].ino ||
		    !dr->seen[o].reported)
			continue;
		if (!nd.seen && !(nd.seen = calloc(n, sizeof(*nd.seen))))
			abort();
		nd.seen[i] = dr->seen[o];
	}
	drift_cursor_free(&old);
	free(names.by_name);
	drift_free(dr);
	nd.watch_fd = -1;
	*dr = nd;
	watch_all(dr);
}

int drift_resolved(const struct drift *dr, struct bw_resolved **ret, struct bw_strpool *strings)
{
	struct bw_resolved *v = calloc(dr->n ? dr->n : 1, sizeof(*v));
	struct drift_cursor c = { 0 };
	int r = 0;

	memset(strings, 0, sizeof(*strings));
	for (size_t i = 0; v && i < dr->n && r == 0; i++) {
		if (!drift_at(dr, &c, i) || !(c.r.path = bw_strpool_dup(strings, c.r.path)))
			r = -ENOMEM;
		v[i] = c.r;
	}
	drift_cursor_free(&c);
	if (!v || r < 0) {
		free(v);
		bw_strpool_free(strings);
		return -ENOMEM;
	}
	*ret = v;
	return 0;
}

void drift_rewatch(struct drift *dr)
{
	watch_all(dr);
}

unsigned drift_drain(struct drift *dr)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	unsigned news = 0;
	ssize_t len;

	while ((len = read(dr->watch_fd, buf, sizeof(buf))) > 0) {
		news |= DRIFT_CHANGED;
		for (char *p = buf; p + sizeof(struct inotify_event) <= buf + len;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & (IN_IGNORED | IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF))
				news |= DRIFT_REWATCH; /* done at the next check, within its budget */
			p += sizeof(*ev) + ev->len;
		}
	}
	return news;
}

/*
 * At most DRIFT_REPORTS_PER_MINUTE drift reports a minute: whoever owns a
 * named path could otherwise make a new state (and a log line) at will.
 */
#define DRIFT_REPORTS_PER_MINUTE 30

static bool report_allowed(struct drift *dr)
{
	time_t minute = time(NULL) / 60;

	if (minute != dr->report_minute) {
		if (dr->suppressed)
			bw_log(LOG_WARNING, "%u more drift reports were suppressed; `bulwark status` lists every drifted path",
			       dr->suppressed);
		dr->report_minute = minute;
		dr->reports = dr->suppressed = 0;
	}
	if (dr->reports < DRIFT_REPORTS_PER_MINUTE) {
		dr->reports++;
		return true;
	}
	dr->suppressed++;
	return false;
}

/* One drifted entry as status and events show it. */
static struct json_object *entry_json(const struct bw_resolved *r, int err, bool followed)
{
	struct json_object *o = json_object_new_object();
	char where[PATH_MAX + 16];

	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "kind", json_object_new_string(bw_resolved_kind_name(r->kind)));
	json_object_object_add(o, "rule", json_object_new_string(drift_where(r, where, sizeof(where))));
	json_object_object_add(o, "now", json_object_new_string(err ? "missing" : "changed"));
	json_object_object_add(o, "followed", json_object_new_boolean(followed));
	return o;
}

struct drift_report drift_scan(struct drift *dr, struct json_object *list, size_t max,
			       struct json_object *fresh)
{
	struct drift_report rep = { .fingerprint = 0xcbf29ce484222325ull };
	struct drift_cursor cur = { 0 };

	for (size_t i = 0; i < dr->n; i++) {
		const struct bw_resolved *r = &cur.r;
		char where[PATH_MAX + 16];
		uint64_t dev = 0, ino = 0;
		struct drift_seen now;
		const char *kind;
		bool followed;
		int err;

		if (!drift_at(dr, &cur, i))
			abort(); /* out of memory */
		kind = bw_resolved_kind_name(r->kind);
		err = bw_resolved_now(r, &dev, &ino);

		if (!err && dev == r->dev && ino == r->ino) {
			if (dr->seen) /* back as loaded: report the next drift */
				dr->seen[i] = (struct drift_seen){ 0 };
			continue;
		}
		if (err)
			rep.missing++;
		else
			rep.changed++;
		followed = !err && bw_resolved_followable(r);
		rep.relocated |= followed;
		/* FNV-1a over what a re-resolution would follow, and to where. */
		for (uint64_t w = 0, v[3] = { i, dev, ino }; followed && w < 3; w++)
			rep.fingerprint = (rep.fingerprint ^ v[w]) * 0x100000001b3ull;
		if (list && json_object_array_length(list) < max)
			json_object_array_add(list, entry_json(r, err, followed));
		/* Once per state: gone, then back as something else, is two reports. */
		now = (struct drift_seen){ .reported = true, .err = err, .dev = dev, .ino = ino };
		if (!fresh || (dr->seen && dr->seen[i].reported && dr->seen[i].err == err &&
			       dr->seen[i].dev == dev && dr->seen[i].ino == ino))
			continue;
		seen_of(dr)[i] = now;
		if (!report_allowed(dr))
			continue;
		json_object_array_add(fresh, entry_json(r, err, followed));
		drift_where(r, where, sizeof(where));
		if (err && r->kind == BW_RESOLVED_FILE)
			bw_log(LOG_WARNING,
			       "%s: file %s is gone (%s): a file created there later is a different file; `bulwark policy load` re-resolves",
			       where, r->path, strerror(-err));
		else if (err)
			bw_log(LOG_WARNING, "%s: %s %s is gone (%s): re-resolved when it is back, if only root could have put it there",
			       where, kind, r->path, strerror(-err));
		else if (r->kind == BW_RESOLVED_FILE && !followed)
			bw_log(LOG_WARNING,
			       "%s: file %s was replaced where someone other than root could have: not followed, rules still name the file they were given; `bulwark policy load` re-resolves",
			       where, r->path);
		else if (!followed)
			bw_log(LOG_WARNING,
			       "%s: %s %s was replaced where someone other than root could have: not followed; `bulwark policy load` re-resolves",
			       where, kind, r->path);
		else
			bw_log(LOG_NOTICE, "%s: %s %s was replaced or recreated: re-resolving", where, kind,
			       r->path);
	}
	drift_cursor_free(&cur);
	return rep;
}

struct json_object *drift_retired_json(const struct drift *dr)
{
	struct json_object *a = json_object_new_array();
	struct drift_cursor cur = { 0 };

	for (size_t x = 0; x < dr->n_retired; x++) {
		const struct bw_resolved *r = &cur.r;

		if (!drift_at(dr, &cur, dr->retired[x].entry))
			abort(); /* out of memory */
		for (size_t k = 0; k < r->n_retired; k++) {
			struct json_object *o = json_object_new_object();
			char dev[32], where[PATH_MAX + 16];

			bw_dev_string(r->retired[k][0], dev, sizeof(dev));
			json_object_object_add(o, "path", json_object_new_string(r->path));
			json_object_object_add(o, "kind", json_object_new_string(bw_resolved_kind_name(r->kind)));
			json_object_object_add(o, "dev", json_object_new_string(dev));
			json_object_object_add(o, "ino", json_object_new_uint64(r->retired[k][1]));
			json_object_object_add(o, "rule", json_object_new_string(drift_where(r, where, sizeof(where))));
			json_object_array_add(a, o);
		}
	}
	drift_cursor_free(&cur);
	return a;
}

/* One entry of the record (the state file's "resolved"): [kind, path, dev, ino, where] and, if any, [[dev, ino], ...] retired. */
static struct json_object *record_json(const struct bw_resolved *r)
{
	struct json_object *e = json_object_new_array_ext(6);
	char where[PATH_MAX + 16];

	json_object_array_add(e, json_object_new_int(r->kind));
	json_object_array_add(e, json_object_new_string(r->path));
	json_object_array_add(e, json_object_new_uint64(r->dev));
	json_object_array_add(e, json_object_new_uint64(r->ino));
	json_object_array_add(e, json_object_new_string(drift_where(r, where, sizeof(where))));
	if (r->n_retired) {
		struct json_object *old = json_object_new_array_ext(r->n_retired);

		for (size_t k = 0; k < r->n_retired; k++) {
			struct json_object *id = json_object_new_array_ext(2);

			json_object_array_add(id, json_object_new_uint64(r->retired[k][0]));
			json_object_array_add(id, json_object_new_uint64(r->retired[k][1]));
			json_object_array_add(old, id);
		}
		json_object_array_add(e, old);
	}
	return e;
}

int drift_print(const struct drift *dr, FILE *f)
{
	struct drift_cursor cur = { 0 };
	int r = 0;

	fputc('[', f);
	for (size_t i = 0; i < dr->n && r == 0; i++) {
		if (i)
			fputc(',', f);
		r = drift_at(dr, &cur, i) ? bw_json_print(f, record_json(&cur.r)) : -ENOMEM;
	}
	fputc(']', f);
	drift_cursor_free(&cur);
	return r == 0 && ferror(f) ? -EIO : r;
}

/*
 * A state file's "file:line" back into its file, in pool (each file once:
 * files holds the copies made so far), and its line; a rule that is not
 * "file:line" is kept whole, line 0.
 */
static const char *where_of(struct bw_strpool *pool, const char ***files, size_t *n_files,
			    const char *where, unsigned *line)
{
	const char *colon = strrchr(where, ':'), **grown;
	size_t len = strlen(where);
	char *end = NULL;
	unsigned long l = 0;

	if (colon && colon[1] >= '0' && colon[1] <= '9') {
		errno = 0;
		l = strtoul(colon + 1, &end, 10);
		if (*end || errno || l == 0 || l > UINT_MAX)
			l = 0;
	}
	if (l)
		len = colon - where;
	*line = l;
	for (size_t i = *n_files; i-- > 0;)
		if (strncmp((*files)[i], where, len) == 0 && !(*files)[i][len])
			return (*files)[i];
	grown = realloc(*files, (*n_files + 1) * sizeof(*grown));
	if (!grown || !(grown[*n_files] = bw_strpool_dupn(pool, where, len)))
		abort();
	*files = grown;
	return grown[(*n_files)++];
}

void drift_from_json(struct drift *dr, struct json_object *o)
{
	size_t n = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0, kept = 0;
	struct bw_resolved *v = calloc(n ? n : 1, sizeof(*v));
	struct bw_strpool strings = { 0 };
	const char **files = NULL;
	size_t n_files = 0;

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(o, i);
		const char *path, *where;

		if (!json_object_is_type(e, json_type_array) ||
		    (json_object_array_length(e) != 5 && json_object_array_length(e) != 6) ||
		    !json_object_is_type(json_object_array_get_idx(e, 0), json_type_int) ||
		    !json_object_is_type(json_object_array_get_idx(e, 1), json_type_string))
			continue;
		path = json_object_get_string(json_object_array_get_idx(e, 1));
		where = json_object_get_string(json_object_array_get_idx(e, 4));
		if (json_object_get_int(json_object_array_get_idx(e, 0)) < BW_RESOLVED_FILE ||
		    json_object_get_int(json_object_array_get_idx(e, 0)) > BW_RESOLVED_CGROUP)
			continue;
		v[kept] = (struct bw_resolved){
			.kind = json_object_get_int(json_object_array_get_idx(e, 0)),
			.path = bw_strpool_dup(&strings, path ? path : ""),
			.dev = json_object_get_uint64(json_object_array_get_idx(e, 2)),
			.ino = json_object_get_uint64(json_object_array_get_idx(e, 3)),
		};
		v[kept].file = where_of(&strings, &files, &n_files, where ? where : "?", &v[kept].line);
		if (!v[kept].path)
			abort();
		/* The identities a followed directory had before (decision 43). */
		if (json_object_array_length(e) == 6) {
			struct json_object *old = json_object_array_get_idx(e, 5);
			size_t m = json_object_is_type(old, json_type_array) ? json_object_array_length(old) : 0;

			if (m > BW_RETIRED_MAX)
				m = BW_RETIRED_MAX;
			v[kept].retired = m ? calloc(m, sizeof(*v[kept].retired)) : NULL;
			if (m && !v[kept].retired)
				abort();
			for (size_t k = 0; k < m; k++) {
				struct json_object *id = json_object_array_get_idx(old, k);

				if (!json_object_is_type(id, json_type_array) || json_object_array_length(id) != 2)
					continue;
				v[kept].retired[v[kept].n_retired][0] =
					json_object_get_uint64(json_object_array_get_idx(id, 0));
				v[kept].retired[v[kept].n_retired][1] =
					json_object_get_uint64(json_object_array_get_idx(id, 1));
				v[kept].n_retired++;
			}
		}
		kept++;
	}
	free(files);
	/* Written sorted; a hand-edited file must not break bsearch. */
	for (size_t i = 1; i < kept; i++)
		if (v[i - 1].kind > v[i].kind ||
		    (v[i - 1].kind == v[i].kind && strcmp(v[i - 1].path, v[i].path) >= 0)) {
			bw_log(LOG_WARNING, "state file's path record is out of order: drift checks start over at the next load");
			bw_resolved_free(v, kept);
			bw_strpool_free(&strings);
			return;
		}
	drift_set(dr, v, kept);
	bw_resolved_free(v, kept);
	bw_strpool_free(&strings);
}
