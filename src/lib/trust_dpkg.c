// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `bulwark trust import dpkg`: trust the code files of installed packages
 * whose bytes are still what the package shipped, by dpkg's own records:
 *   - status: which packages are installed, their versions and conffiles
 *     (with the MD5 each had when installed);
 *   - info/<package>[:<arch>].md5sums: the MD5 of every other file;
 *   - diversions: files of a package that live under another name.
 * A file is read once: MD5 to compare with dpkg, SHA-256 to trust by.
 * Decisions 47 and 48 (docs/decisions.md) say which files and why
 * conffiles are notes, not failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "trust.h"

struct pkg {
	char *key; /* as dpkg names its info files: name or name:arch */
	char *name;
	char *version;
	char *conffiles; /* the status field's lines */
	bool has_md5sums;
	int64_t md5sums_size, md5sums_mtime_ns;
	bool import; /* new or changed since the last import (or a full import) */
	size_t files_left;
	uint64_t rejected; /* files that failed: the package is checked again next time */
	char source[300];  /* "dpkg:<key>" */
};

struct diversion {
	char *from, *to, *by;
};

struct dpkg_ctx {
	struct bw_trust *t;
	const struct bw_trust_run *run;
	struct bw_trust_stats *st;
	const char *admindir;
	struct pkg *pkgs;
	size_t n_pkgs;
	struct diversion *divs;
	size_t n_divs;
	sqlite3_stmt *keep, *drop_stale, *put_pkg;
	int64_t now;
};

static void report(struct dpkg_ctx *c, const char *path, const char *reason, bool failure)
{
	if (failure)
		c->st->failed++;
	else
		c->st->notes++;
	if (c->run && c->run->problem)
		c->run->problem(c->run->ud, path, reason, failure);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool parse_md5(const char *hex, uint8_t out[16])
{
	for (int i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void pkgs_free(struct dpkg_ctx *c)
{
	for (size_t i = 0; i < c->n_pkgs; i++) {
		free(c->pkgs[i].key);
		free(c->pkgs[i].name);
		free(c->pkgs[i].version);
		free(c->pkgs[i].conffiles);
	}
	free(c->pkgs);
	for (size_t i = 0; i < c->n_divs; i++) {
		free(c->divs[i].from);
		free(c->divs[i].to);
		free(c->divs[i].by);
	}
	free(c->divs);
}

/* States in which a package's files and md5sums are those of one version. */
static bool files_in_place(const char *status)
{
	const char *state = strrchr(status, ' ');

	state = state ? state + 1 : status;
	return strcmp(state, "installed") == 0 || strcmp(state, "unpacked") == 0 ||
	       strcmp(state, "half-configured") == 0 || strcmp(state, "triggers-awaited") == 0 ||
	       strcmp(state, "triggers-pending") == 0;
}

/* Finds info/<name>:<arch>.md5sums (Multi-Arch: same) or info/<name>.md5sums. */
static int pkg_locate(struct dpkg_ctx *c, struct pkg *p, const char *arch)
{
	char path[4096];
	struct stat st;

	for (int with_arch = 1; with_arch >= 0; with_arch--) {
		if (with_arch && !arch)
			continue;
		free(p->key);
		if (with_arch ? asprintf(&p->key, "%s:%s", p->name, arch) < 0
			      : !(p->key = strdup(p->name))) {
			p->key = NULL;
			return -ENOMEM;
		}
		snprintf(path, sizeof(path), "%s/info/%s.md5sums", c->admindir, p->key);
		if (stat(path, &st) == 0) {
			p->has_md5sums = true;
			p->md5sums_size = st.st_size;
			p->md5sums_mtime_ns =
			    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
			break;
		}
	}
	snprintf(p->source, sizeof(p->source), "dpkg:%s", p->key);
	return 0;
}

/* One stanza of the status file, its fields already split out. */
static int add_pkg(struct dpkg_ctx *c, char *name, char *status, char *arch, char *version,
		   char *conffiles)
{
	struct pkg *v, *p;
	int r;

	if (!name || !status || !files_in_place(status))
		return 0;
	v = realloc(c->pkgs, (c->n_pkgs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->pkgs = v;
	p = &c->pkgs[c->n_pkgs];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->version = strdup(version ? version : "");
	p->conffiles = conffiles ? strdup(conffiles) : NULL;
	if (!p->name || !p->version || (conffiles && !p->conffiles)) {
		free(p->name);
		free(p->version);
		free(p->conffiles);
		return -ENOMEM;
	}
	c->n_pkgs++;
	r = pkg_locate(c, p, arch && strcmp(arch, "all") != 0 ? arch : NULL);
	return r;
}

static int read_status(struct dpkg_ctx *c)
{
	char path[4096], *line = NULL, *fields[5] = {0};
	static const char *const names[5] = {"Package", "Status", "Architecture", "Version",
					     "Conffiles"};
	size_t cap = 0, conf_len = 0;
	FILE *f;
	int r = 0, last = -1;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/status", c->admindir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (r == 0) {
		len = getline(&line, &cap, f);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len <= 0) { /* a blank line or the end: the stanza is complete */
			r = add_pkg(c, fields[0], fields[1], fields[2], fields[3], fields[4]);
			for (int i = 0; i < 5; i++) {
				free(fields[i]);
				fields[i] = NULL;
			}
			conf_len = 0;
			last = -1;
			if (len < 0)
				break;
			continue;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			/* Only Conffiles' continuation lines matter here. */
			if (last == 4) {
				char *grown = realloc(fields[4], conf_len + (size_t)len + 2);

				if (!grown) {
					r = -ENOMEM;
					break;
				}
				fields[4] = grown;
				memcpy(fields[4] + conf_len, line, (size_t)len);
				conf_len += (size_t)len;
				fields[4][conf_len++] = '\n';
				fields[4][conf_len] = '\0';
			}
			continue;
		}
		last = -1;
		for (int i = 0; i < 5; i++) {
			size_t n = strlen(names[i]);
			const char *val;

			if (strncmp(line, names[i], n) != 0 || line[n] != ':')
				continue;
			val = line + n + 1;
			val += strspn(val, " \t");
			free(fields[i]);
			fields[i] = strdup(val);
			if (!fields[i])
				r = -ENOMEM;
			if (i == 4)
				conf_len = strlen(fields[4]);
			last = i;
		}
	}
	for (int i = 0; i < 5; i++)
		free(fields[i]);
	free(line);
	fclose(f);
	return r;
}

/* The diversions file: triples of lines (from, to, diverting package or ":"). */
static int read_diversions(struct dpkg_ctx *c)
{
	char path[4096], *lines[3] = {0};
	size_t caps[3] = {0};
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/diversions", c->admindir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		struct diversion *v;
		int k;

		for (k = 0; k < 3; k++) {
			ssize_t len = getline(&lines[k], &caps[k], f);

			if (len <= 0)
				break;
			if (lines[k][len - 1] == '\n')
				lines[k][len - 1] = '\0';
		}
		if (k < 3)
			break;
		v = realloc(c->divs, (c->n_divs + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		c->divs = v;
		v[c->n_divs].from = strdup(lines[0]);
		v[c->n_divs].to = strdup(lines[1]);
		v[c->n_divs].by = strdup(lines[2]);
		c->n_divs++;
		if (!v[c->n_divs - 1].from || !v[c->n_divs - 1].to || !v[c->n_divs - 1].by) {
			r = -ENOMEM;
			break;
		}
	}
	for (int k = 0; k < 3; k++)
		free(lines[k]);
	fclose(f);
	return r;
}

/* Where package p's file `path` really is: elsewhere if another package or the admin diverted it.
 */
static const char *diverted(struct dpkg_ctx *c, const struct pkg *p, const char *path)
{
	for (size_t i = 0; i < c->n_divs; i++)
		if (strcmp(c->divs[i].from, path) == 0 && strcmp(c->divs[i].by, p->name) != 0)
			return c->divs[i].to;
	return path;
}

static int push_item(struct dpkg_ctx *c, struct bw_trust_item **items, size_t *n, size_t *cap,
		     size_t pkg, const char *path, const uint8_t md5[16], unsigned flags)
{
	struct bw_trust_item *it;
	const char *real = diverted(c, &c->pkgs[pkg], path);

	if (*n == *cap) {
		size_t grow = *cap ? *cap * 2 : 4096;
		struct bw_trust_item *v = realloc(*items, grow * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*items = v;
		*cap = grow;
	}
	it = &(*items)[*n];
	memset(it, 0, sizeof(*it));
	it->path = strdup(real);
	if (!it->path)
		return -ENOMEM;
	it->flags = BW_ITEM_CODE_ONLY | BW_ITEM_MD5 | flags;
	it->owner = (uint32_t)pkg;
	memcpy(it->expect_md5, md5, 16);
	(*n)++;
	c->pkgs[pkg].files_left++;
	return 0;
}

/* md5sums lines are "<32 hex>  <path relative to />"; conffiles " /path <32 hex>[ obsolete]". */
static int collect_files(struct dpkg_ctx *c, size_t pkg, struct bw_trust_item **items, size_t *n,
			 size_t *cap)
{
	struct pkg *p = &c->pkgs[pkg];
	char path[4096 + 2], *line = NULL, *save = NULL;
	size_t linecap = 0;
	uint8_t md5[16];
	FILE *f;
	int r = 0;
	ssize_t len;

	if (p->has_md5sums) {
		snprintf(path, sizeof(path), "%s/info/%s.md5sums", c->admindir, p->key);
		f = fopen(path, "re");
		if (!f)
			return -errno;
		while (r == 0 && (len = getline(&line, &linecap, f)) > 0) {
			if (line[len - 1] == '\n')
				line[--len] = '\0';
			if (len < 35 || line[32] != ' ' || !parse_md5(line, md5)) {
				report(c, path, "malformed md5sums line; skipped", true);
				continue;
			}
			if (snprintf(path, sizeof(path), "/%s", line + 34) >= 4096) {
				report(c, line + 34, "path longer than PATH_MAX", true);
				snprintf(path, sizeof(path), "%s/info/%s.md5sums", c->admindir,
					 p->key);
				continue;
			}
			r = push_item(c, items, n, cap, pkg, path, md5, 0);
			snprintf(path, sizeof(path), "%s/info/%s.md5sums", c->admindir, p->key);
		}
		free(line);
		fclose(f);
	}
	for (char *l = p->conffiles ? strtok_r(p->conffiles, "\n", &save) : NULL; r == 0 && l;
	     l = strtok_r(NULL, "\n", &save)) {
		char file[4096], hex[64], flag[32] = "";

		if (sscanf(l, " %4095s %63s %31s", file, hex, flag) < 2)
			continue;
		/* Obsolete conffiles belong to no version installed now. */
		if (flag[0] || strlen(hex) != 32 || !parse_md5(hex, md5))
			continue;
		r = push_item(c, items, n, cap, pkg, file, md5, BW_ITEM_CONFFILE);
	}
	return r;
}

/* What the last import recorded, to tell which packages changed since. */
static int mark_changed(struct dpkg_ctx *c, bool changed_only)
{
	sqlite3 *db = bw_trust_db(c->t);
	sqlite3_stmt *s = NULL;

	for (size_t i = 0; i < c->n_pkgs; i++)
		c->pkgs[i].import = true;
	if (!changed_only)
		return 0;
	if (sqlite3_prepare_v2(
		db, "SELECT version, md5sums_size, md5sums_mtime_ns FROM packages WHERE name = ?",
		-1, &s, NULL) != SQLITE_OK)
		return bw_trust_db_error(c->t, "packages");
	for (size_t i = 0; i < c->n_pkgs; i++) {
		struct pkg *p = &c->pkgs[i];

		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, p->key, -1, SQLITE_STATIC);
		/* No row (or no answer): imported, which errs on the side of checking. */
		if (sqlite3_step(s) == SQLITE_ROW) {
			const char *v = (const char *)sqlite3_column_text(s, 0);

			p->import =
			    !v || strcmp(v, p->version) != 0 ||
			    sqlite3_column_int64(s, 1) != (p->has_md5sums ? p->md5sums_size : -1) ||
			    sqlite3_column_int64(s, 2) !=
				(p->has_md5sums ? p->md5sums_mtime_ns : -1);
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/* Packages the last import saw that are gone now: forget their files. */
static int drop_removed(struct dpkg_ctx *c)
{
	sqlite3 *db = bw_trust_db(c->t);
	sqlite3_stmt *list = NULL, *del_files = NULL, *del_pkg = NULL;
	char **gone = NULL;
	size_t n_gone = 0;
	int r = 0, rc;

	if (sqlite3_prepare_v2(db, "SELECT name FROM packages", -1, &list, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM files WHERE source = 'dpkg:' || ?", -1, &del_files,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM packages WHERE name = ?", -1, &del_pkg, NULL) !=
		SQLITE_OK) {
		r = bw_trust_db_error(c->t, "packages");
		goto out;
	}
	while (r == 0 && (rc = sqlite3_step(list)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(list, 0);
		bool installed = false;
		char **v;

		for (size_t i = 0; !installed && i < c->n_pkgs; i++)
			installed = strcmp(c->pkgs[i].key, name) == 0;
		if (installed)
			continue;
		v = realloc(gone, (n_gone + 1) * sizeof(*v));
		if (!v || !(v[n_gone] = strdup(name))) {
			gone = v ? v : gone;
			r = -ENOMEM;
			break;
		}
		gone = v;
		n_gone++;
	}
	for (size_t i = 0; r == 0 && i < n_gone; i++) {
		sqlite3_reset(del_files);
		sqlite3_bind_text(del_files, 1, gone[i], -1, SQLITE_STATIC);
		if (sqlite3_step(del_files) != SQLITE_DONE) {
			r = bw_trust_db_error(c->t, gone[i]);
			break;
		}
		c->st->removed += (uint64_t)sqlite3_changes(db);
		sqlite3_reset(del_pkg);
		sqlite3_bind_text(del_pkg, 1, gone[i], -1, SQLITE_STATIC);
		if (sqlite3_step(del_pkg) != SQLITE_DONE)
			r = bw_trust_db_error(c->t, gone[i]);
	}
out:
	for (size_t i = 0; i < n_gone; i++)
		free(gone[i]);
	free(gone);
	sqlite3_finalize(list);
	sqlite3_finalize(del_files);
	sqlite3_finalize(del_pkg);
	return r;
}

/*
 * All of a package's files are done: forget those of its rows this run did
 * not trust again (files an upgrade dropped, or that now fail), and record
 * what was imported, in the same transaction as its last file.
 */
static int finish_pkg(struct dpkg_ctx *c, struct pkg *p)
{
	sqlite3 *db = bw_trust_db(c->t);

	sqlite3_reset(c->drop_stale);
	sqlite3_bind_text(c->drop_stale, 1, p->source, -1, SQLITE_STATIC);
	if (sqlite3_step(c->drop_stale) != SQLITE_DONE)
		return bw_trust_db_error(c->t, p->key);
	c->st->removed += (uint64_t)sqlite3_changes(db);
	sqlite3_reset(c->put_pkg);
	sqlite3_bind_text(c->put_pkg, 1, p->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->put_pkg, 2, p->version, -1, SQLITE_STATIC);
	/*
	 * A package with rejected files is recorded as never matching, so that
	 * every --changed run checks it again until it passes (after a
	 * reinstall), while its files stay known to the removal of packages.
	 */
	sqlite3_bind_int64(c->put_pkg, 3, p->rejected ? -2 : p->has_md5sums ? p->md5sums_size : -1);
	sqlite3_bind_int64(c->put_pkg, 4, p->has_md5sums ? p->md5sums_mtime_ns : -1);
	sqlite3_bind_int64(c->put_pkg, 5, c->now);
	if (sqlite3_step(c->put_pkg) != SQLITE_DONE)
		return bw_trust_db_error(c->t, p->key);
	c->st->packages++;
	return 0;
}

static int dpkg_done(void *ud, struct bw_trust_item *it)
{
	struct dpkg_ctx *c = ud;
	struct pkg *p = &c->pkgs[it->owner];
	struct bw_trust_record rec;
	char buf[512];
	const char *why;
	int r = 0;

	c->st->examined++;
	why = bw_trust_item_reason(it, buf, sizeof(buf));
	if (it->status == BW_ITEM_HASHED && memcmp(it->md5, it->expect_md5, 16) == 0) {
		bw_trust_record_from_item(&rec, it, it->path, p->source, c->now);
		r = bw_trust_put(c->t, &rec);
		if (r == 0) {
			sqlite3_reset(c->keep);
			sqlite3_bind_text(c->keep, 1, it->path, -1, SQLITE_STATIC);
			if (sqlite3_step(c->keep) != SQLITE_DONE)
				r = bw_trust_db_error(c->t, it->path);
		}
		if (r == 0) {
			c->st->trusted++;
			c->st->bytes += it->size;
		}
	} else if (it->status == BW_ITEM_NOT_CODE) {
		c->st->skipped++;
	} else if (it->status == BW_ITEM_FAILED && it->err == -ENOENT) {
		/* dpkg's path-exclude (docs in minimal images) leaves listed files out. */
		c->st->missing++;
	} else {
		if (it->status == BW_ITEM_HASHED && (it->flags & BW_ITEM_CONFFILE)) {
			snprintf(buf, sizeof(buf),
				 "conffile changed since %s installed it; not trusted (`bulwark "
				 "trust add` it if intended)",
				 p->key);
			report(c, it->path, buf, false);
		} else if (it->status == BW_ITEM_HASHED) {
			snprintf(buf, sizeof(buf),
				 "does not match dpkg's md5sum for %s; not trusted", p->key);
			report(c, it->path, buf, true);
			p->rejected++;
		} else {
			report(c, it->path, why, true);
			p->rejected++;
		}
		/* An earlier import's trust in this path ends with the package's word for it. */
		r = bw_trust_delete(c->t, it->path, p->source, NULL);
	}
	if (r == 0 && --p->files_left == 0)
		r = finish_pkg(c, p);
	if (r == 0)
		r = bw_trust_batch_step(c->t, c->run ? c->run->batch : 0);
	if (c->run && c->run->progress)
		c->run->progress(c->run->ud, c->st);
	return r;
}

static int prepare_all(struct dpkg_ctx *c)
{
	sqlite3 *db = bw_trust_db(c->t);

	/* The paths this run trusted: a package's other rows go when it finishes. */
	if (sqlite3_exec(
		db,
		"CREATE TEMP TABLE IF NOT EXISTS run_paths (path TEXT PRIMARY KEY) WITHOUT ROWID;"
		"DELETE FROM temp.run_paths",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.run_paths (path) VALUES (?)", -1,
			       &c->keep, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "DELETE FROM files WHERE source = ? AND path NOT IN (SELECT path "
			       "FROM temp.run_paths)",
			       -1, &c->drop_stale, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO packages (name, version, md5sums_size, "
			       "md5sums_mtime_ns, imported_at) VALUES (?, ?, ?, ?, ?)",
			       -1, &c->put_pkg, NULL) != SQLITE_OK)
		return bw_trust_db_error(c->t, "prepare");
	return 0;
}

/* Is package p one of those named? Its key is name or name:arch. */
static bool pkg_named(const struct pkg *p, const char *name)
{
	size_t n = strlen(name);

	return strcmp(p->key, name) == 0 ||
	       (strncmp(p->key, name, n) == 0 && p->key[n] == ':' && !strchr(name, ':'));
}

/* --package: only the packages named, each of which must be installed. */
static int keep_named(struct dpkg_ctx *c, const char *const *only, size_t n_only)
{
	for (size_t j = 0; j < n_only; j++) {
		bool found = false;

		for (size_t i = 0; !found && i < c->n_pkgs; i++)
			found = pkg_named(&c->pkgs[i], only[j]);
		if (!found) {
			bw_trust_fail(c->t, -ENOENT, "%s: no such installed package", only[j]);
			return -ENOENT;
		}
	}
	for (size_t i = 0; i < c->n_pkgs; i++) {
		bool named = false;

		for (size_t j = 0; !named && j < n_only; j++)
			named = pkg_named(&c->pkgs[i], only[j]);
		c->pkgs[i].import = c->pkgs[i].import && named;
	}
	return 0;
}

int bw_trust_import_dpkg(struct bw_trust *t, const char *admindir, bool changed_only,
			 const char *const *only, size_t n_only, const struct bw_trust_run *run,
			 struct bw_trust_stats *st)
{
	struct dpkg_ctx c = {.t = t, .run = run, .st = st, .now = time(NULL)};
	struct bw_trust_item *items = NULL;
	size_t n = 0, cap = 0;
	int r;

	c.admindir = admindir ? admindir : BW_DPKG_ADMINDIR;
	r = read_status(&c);
	if (r < 0) {
		bw_trust_fail(t, r, "%s/status: %s", c.admindir, strerror(-r));
		goto out;
	}
	r = read_diversions(&c);
	if (r < 0) {
		bw_trust_fail(t, r, "%s/diversions: %s", c.admindir, strerror(-r));
		goto out;
	}
	r = mark_changed(&c, changed_only);
	if (r == 0 && n_only)
		r = keep_named(&c, only, n_only);
	for (size_t i = 0; r == 0 && i < c.n_pkgs; i++) {
		if (!c.pkgs[i].import)
			continue;
		r = collect_files(&c, i, &items, &n, &cap);
		if (r < 0)
			bw_trust_fail(t, r, "%s/info/%s.md5sums: %s", c.admindir, c.pkgs[i].key,
				      strerror(-r));
	}
	if (r == 0)
		r = prepare_all(&c);
	if (r == 0)
		r = bw_trust_begin(t);
	if (r == 0)
		r = drop_removed(&c);
	/* Packages with nothing to hash are done already. */
	for (size_t i = 0; r == 0 && i < c.n_pkgs; i++)
		if (c.pkgs[i].import && c.pkgs[i].files_left == 0)
			r = finish_pkg(&c, &c.pkgs[i]);
	st->total = n;
	if (run && run->progress)
		run->progress(run->ud, st);
	if (r == 0)
		r = bw_trust_hash_items(items, n, run ? run->threads : 0, dpkg_done, &c);
	if (r == 0)
		r = bw_trust_commit(t);
out:
	for (size_t i = 0; i < n; i++)
		free(items[i].path);
	free(items);
	sqlite3_finalize(c.keep);
	sqlite3_finalize(c.drop_stale);
	sqlite3_finalize(c.put_pkg);
	pkgs_free(&c);
	return r;
}
