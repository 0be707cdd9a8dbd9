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

struct bw_compiled {
	struct bw_rule_entry *entries;
	size_t n;
};

/* User-visible st_dev to the kernel's internal dev_t encoding. */
unsigned long long bw_kernel_dev(unsigned long long st_dev);

/*
 * Resolve every path to (dev, ino) and emit map entries. Problems are
 * added to p's diagnostics; returns -EINVAL if p has errors afterwards.
 */
int bw_compile(struct bw_policy *p, struct bw_compiled *out);
void bw_compiled_free(struct bw_compiled *c);

#endif
