/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy compiler: turns parsed rules into the exact hash-map entries the
 * kernel looks up. Ordered rules become keys, so the kernel never scans.
 */
#ifndef BULWARK_COMPILE_H
#define BULWARK_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../policy/policy.h"

struct bw_rule_entry {
	struct bw_rule_key key;
	struct bw_rule_val val;
};

/* Why a rule lost on a key it shared with another rule. */
enum bw_shadow_why {
	BW_SHADOW_SELECTOR = 1, /* the winner names a more specific program or cgroup */
	BW_SHADOW_VERDICT = 2,  /* the winner's decision is stronger */
	BW_SHADOW_ORDER = 3,    /* equal in all else: the earlier rule decides */
};

/* A rule that lost on one key, and the rule that beat it there. */
struct bw_shadow {
	struct bw_rule_key key;
	unsigned rule_id, by_rule_id;
	unsigned why; /* enum bw_shadow_why */
};

/*
 * Strings that live as long as the table holding them (src/lib/strpool.c):
 * packed into large chunks, freed all at once. A zeroed pool is empty.
 */
struct bw_strpool_chunk;
struct bw_strpool {
	struct bw_strpool_chunk *chunks;
};
/* A copy of s (of its first len bytes, terminated) in p; NULL when out of memory. */
char *bw_strpool_dup(struct bw_strpool *p, const char *s);
char *bw_strpool_dupn(struct bw_strpool *p, const char *s, size_t len);
void bw_strpool_free(struct bw_strpool *p);

/*
 * Strings front-coded, one after the other (src/lib/strpool.c): each the
 * length it shares with the one before (LEB128), the rest, a terminator;
 * whole every BW_FCODE_RESTART strings. A zeroed bw_fcode is empty.
 */
#define BW_FCODE_RESTART 16
struct bw_fcode {
	char *text;
	size_t len, cap;
	char *last;  /* the last string added, whole: the next is coded against it */
	size_t last_cap;
	size_t n;    /* strings added */
};
/* Append s; *off: where it starts in text. 0 or -ENOMEM. */
int bw_fcode_add(struct bw_fcode *f, const char *s, uint32_t *off);
/*
 * String i into *buf (grown as needed, *cap its size): restart_off is
 * where string i - i % BW_FCODE_RESTART starts, steps is i % BW_FCODE_RESTART.
 * 0 or -ENOMEM.
 */
int bw_fcode_get(const struct bw_fcode *f, uint32_t restart_off, size_t steps, char **buf, size_t *cap);
/*
 * The string coded at `at` into *buf, which holds the one before it:
 * where the next one starts, or NULL with *err -ENOMEM.
 */
const char *bw_fcode_next(const char *at, char **buf, size_t *cap, int *err);
void bw_fcode_free(struct bw_fcode *f);

/*
 * What a path in the policy resolved to when it compiled. Files are
 * identities (decision 1); directories and cgroups are locations, which
 * bulwarkd re-resolves when they are replaced or recreated.
 */
enum bw_resolved_kind {
	BW_RESOLVED_FILE = 1,   /* an exact file: object, exe= or parent= */
	BW_RESOLVED_DIR = 2,    /* a tree: object /dir/ and two stars, or exe=/parent= trees */
	BW_RESOLVED_CGROUP = 3, /* cgroup=, below the cgroup2 mount */
};

struct bw_resolved {
	/*
	 * The strings are the record's (its pool, see bw_compiled), never
	 * freed one by one: a policy of 100,000 paths keeps 100,000 of them.
	 */
	const char *path;  /* as the rule wrote it */
	const char *file;  /* the first rule naming it: its file, and line below ("file:line") */
	uint64_t dev, ino; /* the kernel's dev_t encoding and inode; cgroups: 0 and the cgroup id */
	/*
	 * Directories: identities it had before bulwarkd followed it to a
	 * replacement (mv app app.old; mkdir app). Deny and audit rules and
	 * program classes keep covering them: the old tree holds the same
	 * files. Dropped by an explicit load.
	 */
	uint64_t (*retired)[2];
	unsigned line;
	/* Bit fields: 48 bytes an entry, not 56, times every path of the policy. */
	unsigned kind : 8;       /* enum bw_resolved_kind */
	unsigned n_retired : 24; /* one more at each followed replacement, BW_RETIRED_MAX at most */
};
#define BW_RETIRED_MAX ((1u << 24) - 1)

struct bw_compiled {
	struct bw_rule_entry *entries; /* sorted by key */
	size_t n;
	struct bw_shadow *shadows;
	size_t n_shadows;
	struct bw_resolved *resolved;  /* one per (kind, path), sorted by kind then path */
	size_t n_resolved, cap_resolved;
	struct bw_strpool strings;     /* the resolved entries' paths and files: move with them */
};

/* The rule key's (dev, ino) of a `sha256:` object: the hash's first 16 bytes. */
void bw_hash_key(const uint8_t sha256[32], __u64 *dev, __u64 *ino);
/* Does the rule name a trust object (`trusted`, `untrusted`, `sha256:`)? */
bool bw_rule_uses_trust(const struct bw_rule *r);

/* User-visible st_dev to the kernel's internal dev_t encoding. */
unsigned long long bw_kernel_dev(unsigned long long st_dev);

/*
 * Resolve every path to (dev, ino) and emit map entries. Problems are
 * added to p's diagnostics; returns -EINVAL if p has errors afterwards.
 */
int bw_compile(struct bw_policy *p, struct bw_compiled *out);
void bw_compiled_free(struct bw_compiled *c);

/* The entry for (kind, path) in a sorted resolution list, or NULL. */
const struct bw_resolved *bw_resolved_find(const struct bw_resolved *v, size_t n, unsigned kind,
					   const char *path);
/* Where (kind, path) is in the filesystem (cgroups: below the cgroup2 mount); NULL if nowhere. */
char *bw_resolved_fs_path(const struct bw_resolved *r);
/* What (kind, path) resolves to now, on this host: 0 or -errno. */
int bw_resolved_now(const struct bw_resolved *r, uint64_t *dev, uint64_t *ino);
const char *bw_resolved_kind_name(unsigned kind);
/*
 * Could only root have made `path` (a filesystem path) what it is now?
 * Resolved a component at a time: every directory passed through is
 * root's and writable by no one else, every symlink met is root's.
 */
bool bw_root_controlled(const char *path);
/*
 * Would a re-resolution follow r to what its path is now? Only a directory
 * or cgroup that is one now, where only root could have replaced it.
 */
bool bw_resolved_followable(const struct bw_resolved *r);
/* Frees v and each entry's retired identities; the strings are its pool's. */
void bw_resolved_free(struct bw_resolved *v, size_t n);

/* Helpers explain shares with the compiler, so both see paths alike. */
int bw_path_ancestors(const char *real, bool include_self, uint64_t (**out)[2], size_t *n);
int bw_cgroup_path_id(const char *cgroup_path, uint64_t *id);
int bw_selector_resolve_id(struct bw_policy *p, struct bw_selector *s);

/* The entry for key in entries sorted by key (as bw_compile leaves them). */
const struct bw_rule_val *bw_compiled_lookup(const struct bw_rule_entry *entries, size_t n,
					     const struct bw_rule_key *key);

#endif
