// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The policy compiler. Rules become hash-map entries; nothing is left for
 * the kernel to scan. Subjects work like this:
 *
 *  - Every distinct program location named by exe= or parent= becomes a
 *    program class (one map entry: the file's inode, or the directory's
 *    for a tree). The kernel resolves a task to the most specific class
 *    its exe belongs to: the exact file's, else the nearest directory's.
 *    Every distinct cgroup= path likewise becomes a cgroup class.
 *  - A rule naming a class applies to every class nested in it, so the
 *    compiler copies it into each nested class ("expansion"). Where several
 *    rules land on one key, precedence picks one, here, once.
 *
 * The result is sorted by key: explain looks entries up the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "compile.h"

/*
 * Operations whose hooks this build enforces. The parser accepts every
 * operation; compiling one the kernel side cannot enforce yet is an error,
 * never a rule that silently does nothing.
 */
static const unsigned char op_enforced[BW_OP_COUNT] = {
	[BW_OP_EXEC] = 1,   [BW_OP_FORK] = 1,   [BW_OP_THREAD] = 1, [BW_OP_READ] = 1,
	[BW_OP_WRITE] = 1,  [BW_OP_SIGNAL] = 1, [BW_OP_CONTROL] = 1, [BW_OP_MODULE] = 1,
	[BW_OP_KEXEC] = 1,  [BW_OP_LOCKDOWN] = 1, [BW_OP_BPF] = 1,  [BW_OP_WX] = 1,
	[BW_OP_ANON_EXEC] = 1, [BW_OP_MEMFD_EXEC] = 1, [BW_OP_SYSCTL] = 1, [BW_OP_PROTECT] = 1,
	[BW_OP_LOAD] = 1,
};

#define OVERLAYFS_MAGIC 0x794c7630ul
#define CGROUP2_MAGIC 0x63677270ul

/* Expansion is bounded: past this the policy is an error, never truncated. */
#define BW_ENTRIES_MAX 8000000u

/*
 * The key of a `sha256:` rule: the first 16 bytes of the hash, as the
 * kernel copies them out of a trust entry (byte for byte, native order).
 * 128 bits: finding a second content with the same key is as hard as a
 * preimage of a 128-bit hash.
 */
void bw_hash_key(const uint8_t sha256[32], __u64 *dev, __u64 *ino)
{
	memcpy(dev, sha256, 8);
	memcpy(ino, sha256 + 8, 8);
}

unsigned long long bw_kernel_dev(unsigned long long st_dev)
{
	/* The kernel's s_dev is MAJOR << 20 | MINOR (MINORBITS = 20). */
	return ((unsigned long long)major(st_dev) << 20) | minor(st_dev);
}

static void rule_error(struct bw_policy *p, const struct bw_loc *loc, const char *hint,
		       const char *fmt, const char *arg)
{
	bw_policy_diag(p, BW_SEV_ERROR, loc, NULL, hint, fmt, arg);
}

/*
 * Where a rule's path really is: below p->root when checking a policy
 * for another system image, else the path itself.
 */
static const char *on_root(const struct bw_policy *p, const char *path, char buf[PATH_MAX])
{
	if (!p->root)
		return path;
	if ((size_t)snprintf(buf, PATH_MAX, "%s%s", p->root, path) >= PATH_MAX)
		return path;
	return buf;
}

/*
 * A path in a rule to its identity. `tree` says the rule meant the
 * directory itself (written /dir/ and two stars). 
 */
/*
 * Note what a path resolved to, for bulwarkd's record and drift checks.
 * While compiling, the path is in rec->strings and file is the policy's
 * (loc->file): finish_record moves what stays into a pool of its own.
 */
static struct bw_resolved *record(struct bw_policy *p, struct bw_compiled *rec,
				  const struct bw_loc *loc, const char *path, unsigned kind,
				  uint64_t dev, uint64_t ino)
{
	struct bw_resolved *grown;

	if (!rec)
		return NULL;
	if (rec->n_resolved == rec->cap_resolved) {
		size_t cap = rec->cap_resolved ? rec->cap_resolved * 2 : 64;

		grown = realloc(rec->resolved, cap * sizeof(*grown));
		if (!grown)
			goto oom;
		rec->resolved = grown;
		rec->cap_resolved = cap;
	}
	grown = &rec->resolved[rec->n_resolved];
	*grown = (struct bw_resolved){ .path = bw_strpool_dup(&rec->strings, path), .file = loc->file,
				       .line = loc->line, .kind = kind, .dev = dev, .ino = ino };
	if (!grown->path)
		goto oom;
	rec->n_resolved++;
	return grown;
oom:
	bw_policy_oom(p);
	return NULL;
}

static int resolved_cmp(const void *a, const void *b)
{
	const struct bw_resolved *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int record_order_cmp(const void *a, const void *b, void *ctx)
{
	const struct bw_resolved *v = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = resolved_cmp(&v[i], &v[j]);

	return c ? c : (i > j) - (i < j);
}

/* The policy's file name in pool, copied once per file (loc->file is interned by the parser). */
struct file_copies {
	const char **from, **to;
	size_t n;
};

static const char *copy_file(struct bw_strpool *pool, struct file_copies *fc, const char *file)
{
	const char **from, **to;

	if (!file)
		return NULL;
	for (size_t i = fc->n; i-- > 0;)
		if (fc->from[i] == file)
			return fc->to[i];
	from = realloc(fc->from, (fc->n + 1) * sizeof(*from));
	if (!from)
		return NULL;
	fc->from = from;
	to = realloc(fc->to, (fc->n + 1) * sizeof(*to));
	if (!to)
		return NULL;
	fc->to = to;
	to[fc->n] = bw_strpool_dup(pool, file);
	if (!to[fc->n])
		return NULL;
	from[fc->n] = file;
	return to[fc->n++];
}

/*
 * Sort by (kind, path); of equal ones keep the first recorded, the
 * earliest rule. What stays, and only that, is copied into a pool of its
 * own: the record outlives the compile (bulwarkd keeps it while the
 * policy is in force), the duplicates and the policy do not.
 */
static int finish_record(struct bw_compiled *rec)
{
	size_t n = rec->n_resolved, kept = 0, *order;
	struct bw_strpool strings = { 0 };
	struct file_copies fc = { 0 };
	struct bw_resolved *sorted;

	if (!n)
		return 0;
	order = malloc(n * sizeof(*order));
	sorted = malloc(n * sizeof(*sorted));
	if (!order || !sorted)
		goto oom;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), record_order_cmp, rec->resolved);
	for (size_t i = 0; i < n; i++) {
		struct bw_resolved *r = &rec->resolved[order[i]];

		if (kept && resolved_cmp(&sorted[kept - 1], r) == 0) {
			free(r->retired);
			r->retired = NULL;
			continue;
		}
		sorted[kept] = *r; /* its retired identities move with it */
		sorted[kept].path = bw_strpool_dup(&strings, r->path);
		sorted[kept].file = copy_file(&strings, &fc, r->file);
		if (!sorted[kept].path || (r->file && !sorted[kept].file))
			goto oom;
		kept++;
	}
	free(order);
	free(fc.from);
	free(fc.to);
	free(rec->resolved);
	bw_strpool_free(&rec->strings);
	rec->resolved = sorted;
	rec->n_resolved = rec->cap_resolved = kept;
	rec->strings = strings;
	return 0;
oom:
	/* rec->resolved still owns every retired array: the caller frees it whole. */
	free(order);
	free(sorted);
	free(fc.from);
	free(fc.to);
	bw_strpool_free(&strings);
	return -ENOMEM;
}

const struct bw_resolved *bw_resolved_find(const struct bw_resolved *v, size_t n, unsigned kind,
					   const char *path)
{
	struct bw_resolved key = { .path = path, .kind = kind };

	return v ? bsearch(&key, v, n, sizeof(*v), resolved_cmp) : NULL;
}

const char *bw_resolved_kind_name(unsigned kind)
{
	return kind == BW_RESOLVED_FILE ? "file" : kind == BW_RESOLVED_DIR ? "directory" : "cgroup";
}

void bw_resolved_free(struct bw_resolved *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].retired);
	free(v);
}

/* A directory only root may change: root's, and writable by no one else. */
static bool dir_is_roots(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/*
 * Walk path as the kernel does, a component at a time, following symlinks
 * (at most 40): every directory passed through must be root's alone, and
 * every symlink met root's (the directory holding it has passed already).
 * The last component may be anyone's: its parent decides who could swap it.
 */
bool bw_root_controlled(const char *path)
{
	char rest[2 * PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX], tmp[2 * PATH_MAX];
	int dir, hops = 0;
	bool ok = false;
	struct stat st;

	if (path[0] != '/' || strlen(path) >= PATH_MAX)
		return false;
	snprintf(rest, sizeof(rest), "%s", path);
	dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fstat(dir, &st) < 0 || !dir_is_roots(&st))
		goto out;
	for (;;) {
		const char *p = rest + strspn(rest, "/");
		size_t n = strcspn(p, "/");
		bool last;
		int fd;

		if (!*p) {
			ok = true; /* ended on a directory that passed */
			break;
		}
		if (n > NAME_MAX)
			break;
		memcpy(comp, p, n);
		comp[n] = 0;
		memmove(rest, p + n, strlen(p + n) + 1); /* now empty or starting with '/' */
		last = rest[strspn(rest, "/")] == 0;
		fd = openat(dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			break;
		if (fstat(fd, &st) < 0) {
			close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			ssize_t len = st.st_uid == 0 && ++hops <= 40 ?
					      readlinkat(fd, "", target, sizeof(target) - 1) : -1;

			close(fd);
			if (len <= 0)
				break;
			target[len] = 0;
			if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", target, rest) >= sizeof(rest))
				break;
			memcpy(rest, tmp, strlen(tmp) + 1);
			if (target[0] == '/') { /* "/" passed at the start */
				close(dir);
				dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (dir < 0)
					break;
			}
			continue;
		}
		if (last) {
			close(fd);
			ok = true;
			break;
		}
		if (!dir_is_roots(&st)) {
			close(fd);
			break;
		}
		close(dir);
		dir = fd;
	}
out:
	if (dir >= 0)
		close(dir);
	return ok;
}

/* A directory (or cgroup) a re-resolution may follow to what `fs_path` is now. */
static bool followable_dir(const char *fs_path)
{
	struct stat st;

	return stat(fs_path, &st) == 0 && S_ISDIR(st.st_mode) && bw_root_controlled(fs_path);
}

/*
 * An exact file a re-resolution may follow: a regular file again, in
 * directories only root can write (a package upgrade renames the new
 * file over the old one). Elsewhere whoever can write the directory
 * could put any file under the name the rule gave.
 */
static bool followable_file(const char *fs_path)
{
	struct stat st;

	return stat(fs_path, &st) == 0 && S_ISREG(st.st_mode) && bw_root_controlled(fs_path);
}

bool bw_resolved_followable(const struct bw_resolved *r)
{
	char *path;
	bool yes;

	path = bw_resolved_fs_path(r);
	yes = path && (r->kind == BW_RESOLVED_FILE ? followable_file(path) : followable_dir(path));
	free(path);
	return yes;
}

/*
 * The identities a directory or file had before it was followed to (dev,
 * ino): what the record being re-resolved kept, plus its identity then if
 * it differs. A deployment swap (mv app app.old; mkdir app) leaves the
 * same files in the old tree, and an upgraded program's old inode lives
 * on in a hard link or a running process, so rules that deny or audit
 * must keep covering them. Only a re-resolution has any; an explicit
 * load starts afresh.
 */
static size_t retired_of(const struct bw_policy *p, const char *path, bool tree, uint64_t dev,
			 uint64_t ino, uint64_t (**out)[2])
{
	const struct bw_resolved *kept =
		bw_resolved_find(p->keep, p->n_keep, tree ? BW_RESOLVED_DIR : BW_RESOLVED_FILE, path);
	uint64_t(*v)[2];
	size_t n = 0;

	*out = NULL;
	if (!kept)
		return 0;
	v = calloc(kept->n_retired + 1, sizeof(*v));
	if (!v) {
		/* p is const to the compiler's reading; running out is its one write. */
		bw_policy_oom((struct bw_policy *)p);
		return 0;
	}
	for (size_t i = 0; i < kept->n_retired; i++)
		if (kept->retired[i][0] != dev || kept->retired[i][1] != ino) {
			v[n][0] = kept->retired[i][0];
			v[n][1] = kept->retired[i][1];
			n++;
		}
	if (kept->dev != dev || kept->ino != ino) {
		v[n][0] = kept->dev;
		v[n][1] = kept->ino;
		n++;
	}
	if (n > BW_RETIRED_MAX) { /* the record's field: the oldest goes */
		memmove(v, v + 1, BW_RETIRED_MAX * sizeof(*v));
		n = BW_RETIRED_MAX;
	}
	if (!n) {
		free(v);
		v = NULL;
	}
	*out = v;
	return n;
}

static int resolve_path(struct bw_policy *p, struct bw_compiled *rec, const struct bw_loc *loc,
			const char *path, bool tree, uint64_t *dev, uint64_t *ino)
{
	const struct bw_resolved *kept =
		bw_resolved_find(p->keep, p->n_keep, tree ? BW_RESOLVED_DIR : BW_RESOLVED_FILE, path);
	char buf[PATH_MAX];
	const char *real = on_root(p, path, buf);
	struct bw_resolved *rd;
	struct stat st;

	/*
	 * Re-resolving: a file or directory follows its path only where only
	 * root could have replaced it (a package upgrade, a deployment swap);
	 * elsewhere it keeps its identity, even deleted. What is not followed
	 * never stops the rest.
	 */
	if (kept && (tree ? followable_dir(real) : followable_file(real)))
		kept = NULL;
	if (kept) {
		*dev = kept->dev;
		*ino = kept->ino;
		rd = record(p, rec, loc, path, tree ? BW_RESOLVED_DIR : BW_RESOLVED_FILE, *dev, *ino);
		if (rd)
			rd->n_retired = retired_of(p, path, tree, *dev, *ino, &rd->retired);
		return 0;
	}
	if (stat(real, &st) < 0) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%%s: %s", strerror(errno));
		rule_error(p, loc,
			   "rules name existing files: identity is the inode, resolved when the policy loads",
			   msg, path);
		return -1;
	}
	if (tree && !S_ISDIR(st.st_mode)) {
		rule_error(p, loc, "drop the /** to name a single file", "%s/** is not a directory", path);
		return -1;
	}
	if (!tree && S_ISDIR(st.st_mode)) {
		rule_error(p, loc, "write /dir/** to cover everything below it", "%s is a directory",
			   path);
		return -1;
	}
	if (!tree) {
		struct statfs sf;

		/*
		 * stat() on an overlayfs file reports the backing file's inode,
		 * but the LSM hooks see the overlay inode: an exact rule there
		 * would never match. Directories report the overlay identity,
		 * so tree rules work.
		 */
		if (statfs(real, &sf) == 0 && (unsigned long)sf.f_type == OVERLAYFS_MAGIC) {
			rule_error(p, loc,
				   "use a tree rule on its directory (/dir/**); exact rules need the file's own filesystem",
				   "%s is on overlayfs, where exact-file rules cannot match yet", path);
			return -1;
		}
	}
	*dev = bw_kernel_dev(st.st_dev);
	*ino = st.st_ino;
	rd = record(p, rec, loc, path, tree ? BW_RESOLVED_DIR : BW_RESOLVED_FILE, *dev, *ino);
	if (rd)
		rd->n_retired = retired_of(p, path, tree, *dev, *ino, &rd->retired);
	return 0;
}


/* ---- subject classes ---------------------------------------------------- */

enum class_space { SPACE_PROGRAM, SPACE_CGROUP };

struct class {
	enum class_space space;
	bool tree;          /* programs: a directory; cgroups: always a subtree */
	uint64_t dev, ino;  /* programs: the inode; cgroups: ino = cgroup id */
	char *path;         /* canonical: realpath for programs, as written for cgroups */
	unsigned depth;     /* path components: the deeper, the more specific */
	uint32_t id;        /* class id, from 1, per space */
	/* Identities of the directories above (programs) for nesting. */
	uint64_t (*anc)[2];
	size_t n_anc;
	/* Program trees: identities it had before a followed replacement. */
	uint64_t (*retired)[2];
	size_t n_retired;
};

struct classes {
	struct class *v;
	size_t n;
	char *cgroup_root; /* the cgroup2 mount, found on first use */
	struct bw_compiled *rec; /* where resolutions are recorded */
	uint32_t next_id[2];
};

static unsigned path_depth(const char *path)
{
	unsigned d = 0;

	for (const char *c = path; *c; c++)
		if (*c == '/' && c[1])
			d++;
	return d;
}

/* The identities of every directory above `real` (a realpath), root first. */
int bw_path_ancestors(const char *real, bool include_self, uint64_t (**out)[2], size_t *n)
{
	char buf[PATH_MAX];
	size_t len = strlen(real);
	uint64_t(*v)[2] = calloc(path_depth(real) + 2, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i <= len; i++) {
		struct stat st;
		bool end = i == len;

		if (!end && real[i] != '/')
			continue;
		if (end && !include_self)
			break;
		memcpy(buf, real, i ? i : 1);
		buf[i ? i : 1] = 0;
		if (stat(buf, &st) == 0) {
			v[k][0] = bw_kernel_dev(st.st_dev);
			v[k][1] = st.st_ino;
			k++;
		}
		if (i == 0 && len == 1)
			break;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Where the cgroup v2 hierarchy is mounted, or NULL. */
static char *cgroup2_mount(void)
{
	char *line = NULL, *root = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup2") == 0) {
			root = strdup(mnt);
			break;
		}
	}
	free(line);
	if (f)
		fclose(f);
	return root;
}

static int find_cgroup_root(struct bw_policy *p, struct classes *cs, const struct bw_loc *loc)
{
	if (!cs->cgroup_root)
		cs->cgroup_root = cgroup2_mount();
	if (!cs->cgroup_root) {
		rule_error(p, loc, "mount it, e.g. mount -t cgroup2 none /sys/fs/cgroup",
			   "cgroup selectors need the cgroup v2 filesystem, and %s", "none is mounted");
		return -1;
	}
	return 0;
}

/* A cgroup's id is its kernfs node id, which is what its file handle holds. */
static int cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	struct statfs sf;
	int mount_id;

	if (statfs(path, &sf) < 0)
		return -errno;
	if ((unsigned long)sf.f_type != CGROUP2_MAGIC)
		return -ENOTDIR;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return -errno;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

int bw_cgroup_path_id(const char *cgroup_path, uint64_t *id)
{
	char *root = cgroup2_mount(), *full = NULL;
	int r;

	if (!root)
		return -ENOENT;
	if (asprintf(&full, "%s%s", root, strcmp(cgroup_path, "/") ? cgroup_path : "") < 0) {
		free(root);
		return -ENOMEM;
	}
	r = cgroup_id(full, id);
	free(full);
	free(root);
	return r;
}

char *bw_resolved_fs_path(const struct bw_resolved *r)
{
	char *root, *full = NULL;

	/*
	 * No cache of the cgroup2 mount: the library keeps no global state.
	 * Reading mountinfo once per cgroup a policy names is cheap next to
	 * the drift check that asks.
	 */
	if (r->kind != BW_RESOLVED_CGROUP)
		return strdup(r->path);
	root = cgroup2_mount();
	if (root && asprintf(&full, "%s%s", root, strcmp(r->path, "/") ? r->path : "") < 0)
		full = NULL;
	free(root);
	return full;
}

int bw_resolved_now(const struct bw_resolved *r, uint64_t *dev, uint64_t *ino)
{
	char *path = bw_resolved_fs_path(r);
	struct stat st;
	int ret = 0;

	if (!path)
		return -ENOENT;
	if (r->kind == BW_RESOLVED_CGROUP) {
		*dev = 0;
		ret = cgroup_id(path, ino);
	} else if (stat(path, &st) < 0) {
		ret = -errno;
	} else {
		*dev = bw_kernel_dev(st.st_dev);
		*ino = st.st_ino;
	}
	free(path);
	return ret;
}

/* The index of the class a selector names, created on first use; -1 on error. */
static ssize_t class_for(struct bw_policy *p, struct classes *cs, struct bw_selector *s)
{
	enum class_space space = s->type == BW_SEL_CGROUP ? SPACE_CGROUP : SPACE_PROGRAM;
	struct class c = { .space = space, .tree = s->tree || space == SPACE_CGROUP };
	struct bw_loc vloc = { .file = s->loc.file, .line = s->loc.line, .col = s->value_col, .text = s->loc.text };
	struct class *grown;
	char real[PATH_MAX];

	if (space == SPACE_PROGRAM) {
		if (resolve_path(p, cs->rec, &vloc, s->value, c.tree, &c.dev, &c.ino) < 0)
			return -1;
		char buf[PATH_MAX];

		if (!realpath(on_root(p, s->value, buf), real))
			snprintf(real, sizeof(real), "%s", s->value);
	} else {
		char full[PATH_MAX * 2];
		int r;

		const struct bw_resolved *kept =
			bw_resolved_find(p->keep, p->n_keep, BW_RESOLVED_CGROUP, s->value);

		if (find_cgroup_root(p, cs, &vloc) < 0)
			return -1;
		snprintf(full, sizeof(full), "%s%s", cs->cgroup_root,
			 strcmp(s->value, "/") ? s->value : "");
		r = cgroup_id(full, &c.ino);
		/* Re-resolving, as for directories: follow only what only root could recreate. */
		if (kept && (r < 0 || !followable_dir(full))) {
			c.ino = kept->ino;
			r = 0;
		}
		if (r < 0) {
			char msg[80];

			snprintf(msg, sizeof(msg), "cgroup %%s: %s", strerror(-r));
			rule_error(p, &vloc,
				   "a cgroup must exist when the policy loads; its descendants may come later",
				   msg, s->value);
			return -1;
		}
		if (path_depth(s->value) >= BW_CGROUP_LEVEL_MAX) {
			rule_error(p, &vloc, "name a shallower ancestor cgroup",
				   "cgroup %s is deeper than 31 levels", s->value);
			return -1;
		}
		snprintf(real, sizeof(real), "%s", s->value);
		record(p, cs->rec, &vloc, s->value, BW_RESOLVED_CGROUP, 0, c.ino);
	}
	for (size_t i = 0; i < cs->n; i++) {
		struct class *x = &cs->v[i];

		if (x->space == space && x->tree == c.tree && x->dev == c.dev && x->ino == c.ino)
			return (ssize_t)i;
	}
	c.path = strdup(real);
	if (!c.path)
		goto oom;
	c.depth = path_depth(real) + (c.tree ? 0 : 1);
	if (space == SPACE_PROGRAM && bw_path_ancestors(real, false, &c.anc, &c.n_anc) < 0)
		goto oom;
	if (space == SPACE_PROGRAM)
		c.n_retired = retired_of(p, s->value, c.tree, c.dev, c.ino, &c.retired);
	grown = realloc(cs->v, (cs->n + 1) * sizeof(*grown));
	if (!grown)
		goto oom;
	c.id = ++cs->next_id[space];
	cs->v = grown;
	cs->v[cs->n] = c;
	return (ssize_t)cs->n++;
oom:
	free(c.path);
	free(c.anc);
	free(c.retired);
	bw_policy_oom(p);
	return -1;
}

/* Is class `outer` (a tree) `inner` or above it? */
static bool class_covers(const struct class *outer, const struct class *inner)
{
	if (outer == inner)
		return true;
	if (!outer->tree || outer->space != inner->space)
		return false;
	if (outer->space == SPACE_CGROUP) {
		size_t n = strlen(outer->path);

		if (strcmp(outer->path, "/") == 0)
			return true;
		return strncmp(outer->path, inner->path, n) == 0 && inner->path[n] == '/';
	}
	for (size_t i = 0; i < inner->n_anc; i++)
		if (inner->anc[i][0] == outer->dev && inner->anc[i][1] == outer->ino)
			return true;
	return false;
}

static void classes_free(struct classes *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].path);
		free(cs->v[i].anc);
		free(cs->v[i].retired);
	}
	free(cs->v);
	free(cs->cgroup_root);
}

/* ---- rules to entries --------------------------------------------------- */

/* An entry before precedence: the rule it came from, and how it ranks. */
struct candidate {
	struct bw_rule_entry e;
	/*
	 * Specificity of the target's exe, parent and cgroup selectors, then
	 * the subject's: the object is compared first.
	 */
	unsigned depth[6];
	/*
	 * How precisely the rule names the key's argument: signal 1 for a
	 * listed set, 0 for the default one; lockdown 2 for one reason, 1 for
	 * a group, 0 for `any`.
	 */
	unsigned arg_rank;
	unsigned rank;     /* verdict strength */
};

struct builder {
	struct candidate *v;
	size_t n, cap;
	bool overflow;
	bool oom; /* a candidate was lost: the compile fails with -ENOMEM */
};

static void push(struct builder *b, const struct candidate *c)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct candidate *grown;

		if (b->n >= BW_ENTRIES_MAX) {
			b->overflow = true;
			return;
		}
		grown = realloc(b->v, cap * sizeof(*grown));
		if (!grown) {
			b->oom = true;
			return;
		}
		b->v = grown;
		b->cap = cap;
	}
	b->v[b->n++] = *c;
}

/*
 * For the same object and subject the stronger rule decides: an enforced
 * deny, then an audit-only deny, then audit, then allow. Never file order.
 */
static unsigned verdict_rank(const struct bw_rule *r)
{
	switch (r->decision) {
	case BW_VERDICT_DENY:
		return r->flags & BW_RULE_AUDIT ? 3 : 4;
	case BW_VERDICT_AUDIT:
		return 2;
	case BW_VERDICT_ALLOW:
		return 1;
	default:
		return 0;
	}
}

/*
 * getpwnam_r/getgrnam_r: getpwnam's static buffer would make two threads
 * checking policies at once race. Only the id is kept, so the buffer goes
 * before returning. -ENOMEM, or 0 with *ret NULL when there is no such name.
 */
static int name_lookup(const char *name, bool user, void *ent, void *ret)
{
	size_t len = 1024;
	int r;

	for (;;) {
		char *buf = malloc(len);

		if (!buf)
			return -ENOMEM;
		r = user ? getpwnam_r(name, ent, buf, len, ret) : getgrnam_r(name, ent, buf, len, ret);
		free(buf);
		if (r != ERANGE)
			break;
		if (len >= (1u << 20))
			return -ENOMEM;
		len *= 2;
	}
	return 0;
}

int bw_selector_resolve_id(struct bw_policy *p, struct bw_selector *s)
{
	struct bw_loc vloc = { .file = s->loc.file, .line = s->loc.line, .col = s->value_col, .text = s->loc.text };
	char *end;
	unsigned long long n = strtoull(s->value, &end, 10);

	if (!*end) {
		s->id = (uint32_t)n;
		return 0;
	}
	if (s->type == BW_SEL_UID) {
		struct passwd pwd, *pw = NULL;
		int r = name_lookup(s->value, true, &pwd, &pw);

		if (r == -ENOMEM) {
			bw_policy_oom(p);
			return -1;
		}
		if (pw) {
			s->id = pw->pw_uid;
			return 0;
		}
		rule_error(p, &vloc, "names are looked up on this host when the policy loads; or give the number",
			   "unknown user '%s'", s->value);
	} else {
		struct group grp, *gr = NULL;
		int r = name_lookup(s->value, false, &grp, &gr);

		if (r == -ENOMEM) {
			bw_policy_oom(p);
			return -1;
		}
		if (gr) {
			s->id = gr->gr_gid;
			return 0;
		}
		rule_error(p, &vloc, "names are looked up on this host when the policy loads; or give the number",
			   "unknown group '%s'", s->value);
	}
	return -1;
}

/*
 * A grant's client: its uid as a number, its program as the file's
 * identity (dev, ino into the rule), as bulwarkd compares them with the
 * peer of a connection. Errors point at the value.
 */
static void resolve_grant(struct bw_policy *p, struct bw_compiled *out, struct bw_rule *rule)
{
	for (size_t i = 0; i < rule->n_subjects; i++) {
		struct bw_selector *s = &rule->subjects[i];
		struct bw_loc vloc = { .file = s->loc.file, .line = s->loc.line, .col = s->value_col,
				       .text = s->loc.text };

		if (s->type == BW_SEL_UID)
			bw_selector_resolve_id(p, s);
		else if (s->type == BW_SEL_EXE)
			resolve_path(p, out, &vloc, s->value, false, &rule->dev, &rule->ino);
	}
}

static const enum bw_dim class_dim[3] = { BW_DIM_EXE, BW_DIM_PARENT, BW_DIM_CGROUP };

/* Which class each slot (exe, parent, cgroup) of a selector list names, or -1. */
struct rule_classes {
	ssize_t slot[3];  /* the subject's */
	ssize_t tslot[3]; /* the target process's */
};

/*
 * Resolve a selector list: ids for uid/gid into the selectors, classes
 * for the rest. All classes must exist before any rule is expanded, or a
 * rule would miss the classes nested in it that later rules create.
 */
static int resolve_selectors(struct bw_policy *p, struct classes *cs, struct bw_selector *list,
			     size_t n, ssize_t slots[3])
{
	slots[0] = slots[1] = slots[2] = -1;
	for (size_t i = 0; i < n; i++) {
		struct bw_selector *s = &list[i];
		int slot;

		switch (s->type) {
		case BW_SEL_EXE:
			slot = 0;
			break;
		case BW_SEL_PARENT:
			slot = 1;
			break;
		case BW_SEL_CGROUP:
			slot = 2;
			break;
		case BW_SEL_UID:
		case BW_SEL_GID:
			if (bw_selector_resolve_id(p, s) < 0)
				return -1;
			continue;
		case BW_SEL_LEVEL:
		case BW_SEL_TRUSTED:
		default:
			bw_policy_diag(p, BW_SEV_ERROR, &s->loc, NULL,
				       "protection levels and trust come with self-protection and image-load control",
				       "selector '%s' is not enforced by this build yet",
				       s->type == BW_SEL_LEVEL ? "level" : "trusted");
			return -1;
		}
		slots[slot] = class_for(p, cs, s);
		if (slots[slot] < 0)
			return -1;
	}
	return 0;
}

/* The mask and ids of a selector list's uid/gid part. */
static void direct_ids(const struct bw_selector *list, size_t n, uint16_t *mask, uint32_t ids[BW_DIM_COUNT])
{
	for (size_t i = 0; i < n; i++) {
		enum bw_dim dim = list[i].type == BW_SEL_UID ? BW_DIM_UID : BW_DIM_GID;

		if (list[i].type != BW_SEL_UID && list[i].type != BW_SEL_GID)
			continue;
		*mask |= 1u << dim;
		ids[dim] = list[i].id;
	}
}

/* Every class nested in the named one (or a single "none" entry); 0 when out of memory. */
static size_t covered(const struct classes *cs, ssize_t named, size_t **list)
{
	size_t n = 0;

	*list = NULL;
	if (named < 0)
		return 1;
	*list = calloc(cs->n, sizeof(size_t));
	if (!*list)
		return 0;
	for (size_t i = 0; i < cs->n; i++)
		if (class_covers(&cs->v[named], &cs->v[i]))
			(*list)[n++] = i;
	return n;
}

/*
 * Emit one rule's candidates: its object, times every class its subject
 * and its target cover, times every signal of its set.
 */
static void expand_rule(struct classes *cs, struct builder *b, const struct bw_rule *rule,
			const struct rule_classes *rc)
{
	struct candidate c = { 0 };
	size_t *lists[6], lens[6], idx[6];
	const ssize_t *named[6] = { &rc->tslot[0], &rc->tslot[1], &rc->tslot[2],
				    &rc->slot[0],  &rc->slot[1],  &rc->slot[2] };
	int sig_lo = 0, sig_hi = 0;

	c.e.key.op = rule->op;
	c.e.key.layer = rule->layer;
	if (bw_op_targets_process(rule->op)) {
		c.e.key.kind = BW_OBJ_TASK;
	} else {
		switch (rule->obj) {
		case BW_OBJ_TYPE_PATH:
			c.e.key.kind = BW_OBJ_FILE;
			break;
		case BW_OBJ_TYPE_TREE:
			c.e.key.kind = BW_OBJ_TREE;
			break;
		case BW_OBJ_TYPE_ANY:
		case BW_OBJ_TYPE_REASON: /* the reason is the key's arg */
		case BW_OBJ_TYPE_SELF:   /* protect: expanded by expand_protect instead */
		case BW_OBJ_TYPE_CLIENT: /* grant: op NONE, never expanded */
			c.e.key.kind = BW_OBJ_DEFAULT;
			break;
		case BW_OBJ_TYPE_TRUSTED:
			c.e.key.kind = BW_OBJ_TRUSTED;
			break;
		case BW_OBJ_TYPE_UNTRUSTED:
			c.e.key.kind = BW_OBJ_UNTRUSTED;
			break;
		case BW_OBJ_TYPE_HASH:
			c.e.key.kind = BW_OBJ_HASH;
			break;
		}
		c.e.key.dev = rule->dev;
		c.e.key.ino = rule->ino;
		if (rule->obj == BW_OBJ_TYPE_HASH)
			bw_hash_key(rule->sha256, &c.e.key.dev, &c.e.key.ino);
	}
	c.e.val.verdict = rule->decision;
	c.e.val.flags = rule->flags;
	c.e.val.rule_id = rule->id;
	c.rank = verdict_rank(rule);
	if (rule->op == BW_OP_SIGNAL)
		c.arg_rank = rule->signals[0] || rule->signals[1];
	else if (rule->op == BW_OP_LOCKDOWN || rule->op == BW_OP_SYSCTL)
		c.arg_rank = rule->obj == BW_OBJ_TYPE_ANY ? 0 : __builtin_popcountll(rule->reasons) == 1 ? 2 : 1;
	direct_ids(rule->subjects, rule->n_subjects, &c.e.key.subj, c.e.key.ids);
	direct_ids(rule->targets, rule->n_targets, &c.e.key.tsubj, c.e.key.tids);
	for (int k = 0; k < 6; k++)
		lens[k] = covered(cs, *named[k], &lists[k]);
	for (int k = 0; k < 6; k++) {
		/* A named class covers at least itself: 0 is a failed allocation. */
		if (!lens[k]) {
			b->oom = true;
			goto out;
		}
		if (*named[k] < 0)
			continue;
		if (k < 3)
			c.e.key.tsubj |= 1u << class_dim[k];
		else
			c.e.key.subj |= 1u << class_dim[k - 3];
		c.depth[k] = cs->v[*named[k]].depth;
	}
	if (rule->op == BW_OP_SIGNAL) {
		sig_lo = 0;
		sig_hi = BW_SIGNAL_MAX;
	} else if (rule->op == BW_OP_LOCKDOWN) {
		sig_lo = 1;
		sig_hi = BW_LOCKDOWN_IDS - 1;
	} else if (rule->op == BW_OP_SYSCTL) {
		sig_lo = 1;
		sig_hi = BW_SYSCTL_IDS - 1;
	}
	/* An odometer over the six class lists; signals or reasons innermost. */
	memset(idx, 0, sizeof(idx));
	for (;;) {
		for (int k = 0; k < 6; k++) {
			if (!lists[k])
				continue;
			if (k < 3)
				c.e.key.tids[class_dim[k]] = cs->v[lists[k][idx[k]]].id;
			else
				c.e.key.ids[class_dim[k - 3]] = cs->v[lists[k][idx[k]]].id;
		}
		for (int sig = sig_lo; sig <= sig_hi; sig++) {
			bool in_set = rule->signals[0] || rule->signals[1] ?
					      (rule->signals[sig / 64] >> (sig % 64)) & 1 :
					      sig != 0; /* the default set: every signal but 0 */

			if (rule->op == BW_OP_SIGNAL && !in_set)
				continue;
			if ((rule->op == BW_OP_LOCKDOWN || rule->op == BW_OP_SYSCTL) &&
			    !((rule->reasons >> sig) & 1))
				continue;
			c.e.key.arg = (uint16_t)sig;
			push(b, &c);
		}
		int k = 5;

		while (k >= 0 && ++idx[k] == lens[k])
			idx[k--] = 0;
		if (k < 0)
			break;
	}
out:
	for (int k = 0; k < 6; k++)
		free(lists[k]);
}

/* ---- protection ---------------------------------------------------------- */

/*
 * One protected file or tree: its own entry, and an ANCESTOR entry for
 * every directory above it, so that nothing can be mounted over them.
 * The value's class_id is the level.
 */
static void protect_object(struct bw_policy *p, struct builder *pb, const struct bw_rule *rule,
			   const char *path, bool tree, uint64_t dev, uint64_t ino)
{
	char buf[PATH_MAX], real[PATH_MAX];
	uint64_t(*anc)[2] = NULL;
	struct candidate c = { 0 };
	size_t n = 0;

	c.e.key.op = BW_OP_PROTECT;
	c.e.key.kind = tree ? BW_OBJ_TREE : BW_OBJ_FILE;
	c.e.key.dev = dev;
	c.e.key.ino = ino;
	c.e.val.verdict = BW_VERDICT_DENY;
	c.e.val.rule_id = rule->id;
	c.e.val.class_id = rule->level;
	push(pb, &c);
	if (!realpath(on_root(p, path, buf), real))
		return;
	if (bw_path_ancestors(real, false, &anc, &n) < 0) {
		pb->oom = true;
		return;
	}
	c.e.key.kind = BW_OBJ_ANCESTOR;
	for (size_t i = 0; i < n; i++) {
		c.e.key.dev = anc[i][0];
		c.e.key.ino = anc[i][1];
		push(pb, &c);
	}
	free(anc);
}

/*
 * `protect FILE|TREE level=L`, and `protect self`: bulwarkd's own files,
 * which it names in p->self_paths (those that exist; a trailing slash and
 * two stars mark a tree).
 */
static void expand_protect(struct bw_policy *p, struct builder *pb, const struct bw_rule *rule)
{
	if (rule->obj != BW_OBJ_TYPE_SELF) {
		protect_object(p, pb, rule, rule->path, rule->obj == BW_OBJ_TYPE_TREE, rule->dev,
			       rule->ino);
		return;
	}
	for (size_t i = 0; i < p->n_self_paths; i++) {
		size_t len = strlen(p->self_paths[i]);
		bool tree = len > 3 && strcmp(p->self_paths[i] + len - 3, "/**") == 0;
		char *path = strndup(p->self_paths[i], tree ? len - 3 : len);
		uint64_t dev, ino;

		if (!path) {
			pb->oom = true;
			return;
		}
		if (resolve_path(p, NULL, &rule->obj_loc, path, tree, &dev, &ino) == 0)
			protect_object(p, pb, rule, path, tree, dev, ino);
		free(path);
	}
}

/* Protect entries by key, the highest level first: several statements may cover one key. */
static int protect_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	int r = memcmp(&x->e.key, &y->e.key, sizeof(x->e.key));

	if (r)
		return r;
	if (x->e.val.class_id != y->e.val.class_id)
		return x->e.val.class_id > y->e.val.class_id ? -1 : 1;
	return x->e.val.rule_id < y->e.val.rule_id ? -1 : x->e.val.rule_id > y->e.val.rule_id;
}

/* Merge the protect entries into the policy's: one per key, at the highest level asked. */
static void merge_protect(struct builder *b, struct builder *pb)
{
	if (pb->n)
		qsort(pb->v, pb->n, sizeof(*pb->v), protect_cmp);
	for (size_t i = 0; i < pb->n; i++)
		if (i == 0 || memcmp(&pb->v[i].e.key, &pb->v[i - 1].e.key, sizeof(pb->v[i].e.key)))
			push(b, &pb->v[i]);
	free(pb->v);
}

/*
 * Precedence on one key (the object and the subject classes already
 * agree): the more specific exe selector, then parent, then cgroup; then
 * the stronger verdict; then the earlier rule.
 */
static int cand_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	int c = memcmp(&x->e.key, &y->e.key, sizeof(x->e.key));

	if (c)
		return c;
	for (int k = 0; k < 6; k++)
		if (x->depth[k] != y->depth[k])
			return x->depth[k] > y->depth[k] ? -1 : 1;
	/*
	 * `allow signal T with signals=HUP` carves HUP out of `deny signal T`;
	 * `allow lockdown kcore` carves kcore out of `deny lockdown confidentiality`.
	 */
	if (x->arg_rank != y->arg_rank)
		return x->arg_rank > y->arg_rank ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->e.val.rule_id < y->e.val.rule_id ? -1 : x->e.val.rule_id > y->e.val.rule_id;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct bw_rule_entry *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/*
 * A deny or audit rule whose directory or file bulwarkd followed to a
 * replacement keeps its old trees and files: the same rule, keyed on each
 * identity it had. Allows are not kept: an old tree or file falls back to
 * what else applies, never to more than the policy grants now.
 */
static void expand_retired(const struct bw_policy *p, struct classes *cs, struct builder *b,
			   const struct bw_rule *rule, const struct rule_classes *rc)
{
	uint64_t(*v)[2] = NULL;
	size_t n;

	if ((rule->obj != BW_OBJ_TYPE_TREE && rule->obj != BW_OBJ_TYPE_PATH) ||
	    bw_op_targets_process(rule->op) ||
	    (rule->decision != BW_VERDICT_DENY && rule->decision != BW_VERDICT_AUDIT))
		return;
	n = retired_of(p, rule->path, rule->obj == BW_OBJ_TYPE_TREE, rule->dev, rule->ino, &v);
	for (size_t k = 0; k < n; k++) {
		struct bw_rule old = *rule;

		old.dev = v[k][0];
		old.ino = v[k][1];
		expand_rule(cs, b, &old, rc);
	}
	free(v);
}

static void add_class_entries(struct builder *b, const struct classes *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct class *x = &cs->v[i];
		struct candidate c = { 0 };

		c.e.key.op = BW_OP_NONE;
		c.e.key.kind = x->space == SPACE_CGROUP ? BW_OBJ_CGROUP :
			       x->tree			? BW_OBJ_EXE_TREE :
							  BW_OBJ_EXE_FILE;
		c.e.key.dev = x->space == SPACE_CGROUP ? 0 : x->dev;
		c.e.key.ino = x->ino;
		c.e.val.class_id = x->id;
		push(b, &c);
		/* A program directory swapped away: its old tree is still the class. */
		for (size_t k = 0; k < x->n_retired; k++) {
			c.e.key.dev = x->retired[k][0];
			c.e.key.ino = x->retired[k][1];
			push(b, &c);
		}
	}
}

static void warn_unreachable(struct bw_policy *p, const unsigned *beaten_by)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct bw_rule *dr = &p->rules[i], *kr;
		char where[PATH_MAX + 64];

		if (!beaten_by[i])
			continue;
		kr = &p->rules[beaten_by[i] - 1];
		snprintf(where, sizeof(where), "it is decided by %s:%u: %s", kr->loc.file, kr->loc.line,
			 kr->text);
		bw_policy_diag(p, BW_SEV_WARNING, &dr->loc, NULL, where,
			       "rule is shadowed: another rule decides everywhere this one applies");
	}
}

/*
 * Every 1024 rules, the caller's tick (bulwarkd drains the kernel's events
 * there): a policy of a million rules compiles for seconds, and the ring
 * buffer must not fill meanwhile.
 */
static void compile_tick(const struct bw_policy *p, size_t i)
{
	if (p->tick && (i & 1023) == 1023)
		p->tick(p->tick_ctx);
}

int bw_compile(struct bw_policy *p, struct bw_compiled *out)
{
	struct classes cs = { 0 };
	struct builder b = { 0 }, pb = { 0 };
	struct candidate meta = { 0 };
	unsigned *won = NULL, *beaten_by = NULL;
	unsigned cgroup_levels = 0;
	uint32_t layer_ops[BW_LAYERS] = { 0 };
	struct rule_classes *rcs = NULL;
	int r = -EINVAL;

	memset(out, 0, sizeof(*out));
	cs.rec = out;
	if (p->n_errors)
		goto out;
	rcs = calloc(p->n_rules + 1, sizeof(*rcs));
	if (!rcs) {
		bw_policy_oom(p);
		goto out;
	}

	for (size_t i = 0; i < p->n_rules; i++) {
		struct bw_rule *rule = &p->rules[i];

		compile_tick(p, i);
		if (rule->op == BW_OP_NONE) {
			/* mode and grant: only in the rule table, a grant's client resolved for bulwarkd */
			if (rule->obj == BW_OBJ_TYPE_CLIENT)
				resolve_grant(p, out, rule);
			continue;
		}
		if (!op_enforced[rule->op]) {
			rule_error(p, &rule->loc, "see docs/policy.md for what each operation covers",
				   "operation '%s' is not enforced by this build", bw_op_name(rule->op));
			continue;
		}
		if ((rule->obj == BW_OBJ_TYPE_PATH || rule->obj == BW_OBJ_TYPE_TREE) &&
		    resolve_path(p, out, &rule->obj_loc, rule->path, rule->obj == BW_OBJ_TYPE_TREE,
				 &rule->dev, &rule->ino) < 0)
			continue;
		if (resolve_selectors(p, &cs, rule->subjects, rule->n_subjects, rcs[i].slot) == 0)
			resolve_selectors(p, &cs, rule->targets, rule->n_targets, rcs[i].tslot);
	}
	if (p->n_errors)
		goto out;
	for (size_t i = 0; i < p->n_rules; i++) {
		compile_tick(p, i);
		if (p->rules[i].op == BW_OP_PROTECT) {
			expand_protect(p, &pb, &p->rules[i]);
		} else if (p->rules[i].op != BW_OP_NONE) {
			expand_rule(&cs, &b, &p->rules[i], &rcs[i]);
			expand_retired(p, &cs, &b, &p->rules[i], &rcs[i]);
		}
	}
	merge_protect(&b, &pb);
	if (b.oom || pb.oom)
		bw_policy_oom(p);
	if (b.overflow) {
		bw_policy_diag(p, BW_SEV_ERROR, &p->rules[0].loc, NULL,
			       "rules on a /dir/** subject are copied into every program class below it; name fewer nested programs",
			       "the policy expands to more than %u map entries", BW_ENTRIES_MAX);
	}
	if (p->n_errors)
		goto out;

	/* Resolve precedence: per key, the first after sorting decides. */
	if (b.n)
		qsort(b.v, b.n, sizeof(*b.v), cand_cmp);
	won = calloc(p->n_rules + 1, sizeof(*won));
	beaten_by = calloc(p->n_rules + 1, sizeof(*beaten_by));
	if (!won || !beaten_by) {
		bw_policy_oom(p);
		goto out;
	}
	{
		size_t w = 0, cap = 0;

		for (size_t i = 0; i < b.n; i++) {
			unsigned id = b.v[i].e.val.rule_id;

			if (w && memcmp(&b.v[w - 1].e.key, &b.v[i].e.key, sizeof(b.v[i].e.key)) == 0) {
				const struct candidate *win = &b.v[w - 1], *lose = &b.v[i];
				unsigned why = BW_SHADOW_ORDER;

				if (memcmp(win->depth, lose->depth, sizeof(win->depth)) ||
				    win->arg_rank != lose->arg_rank)
					why = BW_SHADOW_SELECTOR;
				else if (win->rank != lose->rank)
					why = BW_SHADOW_VERDICT;
				if (!beaten_by[id - 1])
					beaten_by[id - 1] = b.v[w - 1].e.val.rule_id;
				if (out->n_shadows == cap) {
					size_t ncap = cap ? 2 * cap : 64;
					struct bw_shadow *grown = realloc(out->shadows, ncap * sizeof(*grown));

					if (!grown) {
						bw_policy_oom(p);
						goto out;
					}
					out->shadows = grown;
					cap = ncap;
				}
				out->shadows[out->n_shadows++] = (struct bw_shadow){
					.key = b.v[i].e.key,
					.rule_id = id,
					.by_rule_id = b.v[w - 1].e.val.rule_id,
					.why = why,
				};
				continue;
			}
			won[id - 1] = 1;
			if (b.v[i].e.key.layer < BW_LAYERS)
				layer_ops[b.v[i].e.key.layer] |= 1u << b.v[i].e.key.op;
			meta.e.val.combos |= 1u << b.v[i].e.key.subj;
			meta.e.val.dims |= b.v[i].e.key.subj;
			if (b.v[i].e.key.kind == BW_OBJ_TASK) {
				meta.e.val.tcombos |= 1u << b.v[i].e.key.tsubj;
				meta.e.val.tdims |= b.v[i].e.key.tsubj;
			}
			b.v[w++] = b.v[i];
		}
		b.n = w;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		if (won[i])
			beaten_by[i] = 0;
	warn_unreachable(p, beaten_by);

	for (size_t i = 0; i < cs.n; i++)
		if (cs.v[i].space == SPACE_CGROUP && path_depth(cs.v[i].path) + 1 > cgroup_levels)
			cgroup_levels = path_depth(cs.v[i].path) + 1;
	add_class_entries(&b, &cs);

	meta.e.key.op = BW_OP_NONE;
	meta.e.key.kind = BW_OBJ_META;
	meta.e.val.flags = p->flags;
	for (size_t i = 0; i < p->n_rules; i++) {
		if (p->rules[i].flags & BW_RULE_STICKY)
			meta.e.val.flags |= BW_POLICY_STICKY;
		/*
		 * A client layer's trust objects are judged (LAYER_TRUST), but the
		 * policy's own flag says what the gate requires of protected
		 * programs: a vendor's hash rule must not change that.
		 */
		if (bw_rule_uses_trust(&p->rules[i]))
			meta.e.val.flags |= p->rules[i].layer ? BW_POLICY_LAYER_TRUST : BW_POLICY_TRUST;
		if (p->rules[i].obj == BW_OBJ_TYPE_HASH)
			meta.e.val.flags |= BW_POLICY_HASH;
	}
	/* Which searches may need the ancestor walk (bw_rule_val.tree_ops). */
	for (size_t i = 0; i < b.n; i++) {
		if (b.v[i].e.key.kind == BW_OBJ_TREE)
			meta.e.val.tree_ops |= 1u << b.v[i].e.key.op;
	}
	meta.e.val.rule_id = p->mode_rule;
	meta.e.val.cgroup_levels = cgroup_levels;
	meta.e.val.ops = layer_ops[0];
	/*
	 * Client layers: a META entry each, with the ops it decides; layer 0's
	 * says which exist. A policy without them compiles exactly as before.
	 */
	for (unsigned l = 1; l < BW_LAYERS; l++) {
		struct candidate lm = { 0 };

		if (!layer_ops[l])
			continue;
		meta.e.val.layers |= 1u << l;
		lm.e.key.op = BW_OP_NONE;
		lm.e.key.kind = BW_OBJ_META;
		lm.e.key.layer = l;
		lm.e.val.ops = layer_ops[l];
		push(&b, &lm);
	}
	push(&b, &meta);
	if (b.oom) {
		bw_policy_oom(p);
		goto out;
	}

	out->entries = calloc(b.n, sizeof(*out->entries));
	if (!out->entries) {
		bw_policy_oom(p);
		goto out;
	}
	for (size_t i = 0; i < b.n; i++)
		out->entries[i] = b.v[i].e;
	out->n = b.n;
	qsort(out->entries, out->n, sizeof(*out->entries), entry_cmp);
	r = finish_record(out);
	if (r < 0)
		bw_policy_oom(p);
out:
	if (p->oom)
		r = -ENOMEM;
	if (r < 0) {
		free(out->entries);
		out->entries = NULL;
		out->n = 0;
		free(out->shadows);
		out->shadows = NULL;
		out->n_shadows = 0;
		bw_resolved_free(out->resolved, out->n_resolved);
		out->resolved = NULL;
		out->n_resolved = out->cap_resolved = 0;
		bw_strpool_free(&out->strings);
	}
	free(rcs);
	free(won);
	free(beaten_by);
	free(b.v);
	classes_free(&cs);
	return r;
}

bool bw_rule_uses_trust(const struct bw_rule *r)
{
	return r->obj == BW_OBJ_TYPE_TRUSTED || r->obj == BW_OBJ_TYPE_UNTRUSTED ||
	       r->obj == BW_OBJ_TYPE_HASH;
}

const struct bw_rule_val *bw_compiled_lookup(const struct bw_rule_entry *entries, size_t n,
					     const struct bw_rule_key *key)
{
	struct bw_rule_entry probe = { .key = *key };
	const struct bw_rule_entry *e = bsearch(&probe, entries, n, sizeof(*entries), entry_cmp);

	return e ? &e->val : NULL;
}

void bw_compiled_free(struct bw_compiled *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c->shadows);
	bw_resolved_free(c->resolved, c->n_resolved);
	bw_strpool_free(&c->strings);
	memset(c, 0, sizeof(*c));
}
