// SPDX-License-Identifier: LGPL-2.1-or-later
/* Offline policy check: the same parser and compiler the daemon uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bulwark/bulwark.h>

#include "compile.h"

int bw_policy_check(const char *path, char **ret_diagnostics, unsigned *ret_warnings)
{
	struct bw_compiled c = { 0 };
	struct bw_policy *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!path)
		return -EINVAL;
	p = bw_policy_new();
	if (!p)
		return -ENOMEM;
	bw_policy_load_path(p, path);
	bw_policy_finish(p);
	r = bw_compile(p, &c);
	if (r == 0 && p->n_errors)
		r = -EINVAL;
	if (ret_diagnostics) {
		f = open_memstream(&text, &len);
		if (!f) {
			r = -ENOMEM;
			goto out;
		}
		bw_policy_print_diags(p, f);
		fclose(f);
		*ret_diagnostics = text;
	}
	if (ret_warnings)
		*ret_warnings = p->n_warnings;
out:
	bw_compiled_free(&c);
	bw_policy_free(p);
	return r;
}
