/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy compiler: turns parsed rules into the exact hash-map entries the
 * kernel looks up. Ordered rules become keys, so the kernel never scans.
 */
#ifndef BULWARK_COMPILE_H
#define BULWARK_COMPILE_H

#include <stddef.h>

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

struct bw_compiled {
	struct bw_rule_entry *entries; /* sorted by key */
	size_t n;
	struct bw_shadow *shadows;
	size_t n_shadows;
};

/* User-visible st_dev to the kernel's internal dev_t encoding. */
unsigned long long bw_kernel_dev(unsigned long long st_dev);

/*
 * Resolve every path to (dev, ino) and emit map entries. Problems are
 * added to p's diagnostics; returns -EINVAL if p has errors afterwards.
 */
int bw_compile(struct bw_policy *p, struct bw_compiled *out);
void bw_compiled_free(struct bw_compiled *c);

/* Helpers explain shares with the compiler, so both see paths alike. */
int bw_path_ancestors(const char *real, bool include_self, uint64_t (**out)[2], size_t *n);
int bw_cgroup_path_id(const char *cgroup_path, uint64_t *id);
int bw_selector_resolve_id(struct bw_policy *p, struct bw_selector *s);

/* The entry for key in entries sorted by key (as bw_compile leaves them). */
const struct bw_rule_val *bw_compiled_lookup(const struct bw_rule_entry *entries, size_t n,
					     const struct bw_rule_key *key);

#endif
