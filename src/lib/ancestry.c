// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A file's ancestry as the kernel walks it (bpf/decide.bpf.h,
 * bw_walk_step), rebuilt in user space for explain.
 *
 * The kernel follows d_parent: a directory's real place in its
 * filesystem, past the root of a bind mount, then hops from a
 * filesystem's root to the mountpoint in the parent mount. A path string
 * says where a file was reached, not where it is, so its prefixes are the
 * wrong ancestors for a bind mount. /proc/self/mountinfo has what is
 * needed: each mount's root inside its filesystem, its mountpoint, its
 * parent, and for overlayfs the layers, so the real file below an overlay
 * (the kernel's real view) can be found too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "compile.h"
#include "internal.h"

struct mnt {
	int id, parent;
	unsigned major, minor;
	char *root, *point, *fstype, *opts;
};

struct mnts {
	struct mnt *v;
	size_t n;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static void mnts_free(struct mnts *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].root);
		free(m->v[i].point);
		free(m->v[i].fstype);
		free(m->v[i].opts);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static int mnts_read(struct mnts *m)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	m->v = NULL;
	m->n = 0;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct mnt x = { 0 };
		char root[PATH_MAX], point[PATH_MAX], fstype[64], src[PATH_MAX], opts[PATH_MAX * 2];
		const char *sep = strstr(line, " - ");
		struct mnt *grown;

		if (!sep ||
		    sscanf(line, "%d %d %u:%u %4095s %4095s", &x.id, &x.parent, &x.major, &x.minor,
			   root, point) != 6 ||
		    sscanf(sep + 3, "%63s %4095s %8191s", fstype, src, opts) != 3)
			continue;
		unescape(root);
		unescape(point);
		x.root = strdup(root);
		x.point = strdup(point);
		x.fstype = strdup(fstype);
		x.opts = strdup(opts);
		grown = x.root && x.point && x.fstype && x.opts ?
				realloc(m->v, (m->n + 1) * sizeof(*grown)) :
				NULL;
		if (!grown) {
			free(x.root);
			free(x.point);
			free(x.fstype);
			free(x.opts);
			free(line);
			fclose(f);
			mnts_free(m);
			return -ENOMEM;
		}
		m->v = grown;
		m->v[m->n++] = x;
	}
	free(line);
	fclose(f);
	return 0;
}

/* Is `pre` a path prefix of `p` (component-wise)? Returns the rest's offset or -1. */
static int path_prefix(const char *pre, const char *p)
{
	size_t n = strlen(pre);

	if (strcmp(pre, "/") == 0)
		return 0;
	if (strncmp(pre, p, n) != 0 || (p[n] && p[n] != '/'))
		return -1;
	return (int)n;
}

/* The mount a canonical path is on: the longest mountpoint, the last (topmost) of equals. */
static const struct mnt *mount_of(const struct mnts *m, const char *path)
{
	const struct mnt *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < m->n; i++) {
		size_t len = strlen(m->v[i].point);

		if (path_prefix(m->v[i].point, path) < 0)
			continue;
		if (!best || len >= best_len) {
			best = &m->v[i];
			best_len = len;
		}
	}
	return best;
}

static const struct mnt *mount_by_id(const struct mnts *m, int id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].id == id)
			return &m->v[i];
	return NULL;
}

static void join(char *out, size_t len, const char *a, const char *b)
{
	while (*b == '/')
		b++;
	if (!*b)
		snprintf(out, len, "%s", a);
	else
		snprintf(out, len, "%s%s%s", a, strcmp(a, "/") ? "/" : "", b);
}

/*
 * A path in this namespace for fs_path inside the filesystem of `on`:
 * through `on` itself if its root is above fs_path, else through any
 * mount of the same filesystem that shows it. The path must still be
 * that filesystem's (not covered by another mount). 0 on success.
 */
static int reachable(const struct mnts *m, const struct mnt *on, const char *fs_path, char *out,
		     size_t len)
{
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->n; i++) {
			const struct mnt *x = pass ? &m->v[i] : on;
			int off;

			if (x->major != on->major || x->minor != on->minor)
				continue;
			off = path_prefix(x->root, fs_path);
			if (off < 0)
				continue;
			join(out, len, x->point, fs_path + off);
			if (mount_of(m, out) == x)
				return 0;
			if (!pass)
				break;
		}
	return -ENOENT;
}

static int push(struct bw_view *v, uint64_t dev, uint64_t ino, const char *label, bool dir)
{
	struct bw_anc *grown = realloc(v->v, (v->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	v->v = grown;
	v->v[v->n] = (struct bw_anc){ .dev = dev, .ino = ino };
	if (asprintf(&v->v[v->n].label, "%s%s", label,
		     dir ? (strcmp(label, "/") ? "/**" : "**") : "") < 0)
		return -ENOMEM;
	v->n++;
	return 0;
}

/* Cut the last component of an absolute path; false at "/". */
static bool up(char *p)
{
	char *slash = strrchr(p, '/');

	if (!slash || strcmp(p, "/") == 0)
		return false;
	if (slash == p)
		p[1] = 0;
	else
		*slash = 0;
	return true;
}

/*
 * One view: the file at fs_path in `on`'s filesystem, then its
 * directories to that filesystem's root, then (hop) on from the
 * mountpoint in the parent mount, as the kernel does for the path used;
 * a real view below an overlay does not hop.
 */
static int walk(const struct mnts *m, const struct mnt *on, const char *path, bool hop,
		struct bw_view *v)
{
	char fs_path[PATH_MAX], shown[PATH_MAX];
	struct stat st;
	int off = path_prefix(on->point, path);
	bool first = true;

	join(fs_path, sizeof(fs_path), on->root, off < 0 ? "" : path + off);
	for (unsigned hops = 0; on && hops < 64; hops++) {
		do {
			if (reachable(m, on, fs_path, shown, sizeof(shown)) == 0 &&
			    stat(shown, &st) == 0 &&
			    push(v, bw_kernel_dev(st.st_dev), st.st_ino, shown, !first) < 0)
				return -ENOMEM;
			first = false;
		} while (up(fs_path));
		if (!hop)
			return 0;
		/*
		 * The mountpoint itself is a directory hidden by this mount:
		 * no rule can name it. Its parent directories come next.
		 */
		{
			const struct mnt *parent = mount_by_id(m, on->parent);
			char point[PATH_MAX];

			if (!parent || parent == on || strcmp(on->point, "/") == 0)
				return 0;
			snprintf(point, sizeof(point), "%s", on->point);
			off = path_prefix(parent->point, point);
			join(fs_path, sizeof(fs_path), parent->root, off < 0 ? "" : point + off);
			if (!up(fs_path))
				return 0;
			on = parent;
		}
	}
	return 0;
}

/* The file below an overlay: the first layer (upper, then lowers) that has it. */
static int overlay_real(const struct mnt *ovl, const char *path, char *out, size_t len)
{
	char *opts = strdup(ovl->opts), *save = NULL, *o;
	int off = path_prefix(ovl->point, path), r = -ENOENT;
	const char *rel = off < 0 ? "" : path + off;
	char upper[PATH_MAX] = "", lower[PATH_MAX * 2] = "";
	struct stat st;

	if (!opts)
		return -ENOMEM;
	for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strncmp(o, "upperdir=", 9) == 0)
			snprintf(upper, sizeof(upper), "%s", o + 9);
		else if (strncmp(o, "lowerdir=", 9) == 0)
			snprintf(lower, sizeof(lower), "%s", o + 9);
	}
	if (upper[0]) {
		join(out, len, upper, rel);
		if (lstat(out, &st) == 0) {
			r = 0;
			goto out;
		}
	}
	for (char *l = lower, *next; l && *l; l = next) {
		next = strchr(l, ':');
		while (next && next > l && next[-1] == '\\')
			next = strchr(next + 1, ':');
		if (next)
			*next++ = 0;
		join(out, len, l, rel);
		if (lstat(out, &st) == 0) {
			r = 0;
			goto out;
		}
	}
out:
	free(opts);
	return r;
}

int bw_file_views(const char *path, struct bw_view **ret, size_t *n_ret)
{
	struct mnts m = { 0 };
	struct bw_view *views = calloc(BW_FILE_VIEWS_MAX, sizeof(*views));
	size_t n = 0;
	char cur[PATH_MAX], next[PATH_MAX];
	int r;

	if (!views)
		return -ENOMEM;
	if (!realpath(path, cur)) {
		r = -errno;
		goto fail;
	}
	r = mnts_read(&m);
	if (r < 0)
		goto fail;
	for (n = 0; n < BW_FILE_VIEWS_MAX;) {
		const struct mnt *on = mount_of(&m, cur);

		if (!on)
			break;
		r = walk(&m, on, cur, n == 0, &views[n]);
		n++;
		if (r < 0)
			goto fail;
		if (strcmp(on->fstype, "overlay") != 0)
			break;
		r = overlay_real(on, cur, next, sizeof(next));
		if (r == -ENOMEM)
			goto fail;
		if (r < 0 || !realpath(next, cur))
			break;
	}
	mnts_free(&m);
	*ret = views;
	*n_ret = n;
	return 0;
fail:
	mnts_free(&m);
	bw_file_views_free(views, n);
	return r;
}

void bw_file_views_free(struct bw_view *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].n; k++)
			free(v[i].v[k].label);
		free(v[i].v);
	}
	free(v);
}
