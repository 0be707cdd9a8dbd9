// SPDX-License-Identifier: LGPL-2.1-or-later
/* Offline policy check: the same parser and compiler the daemon uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include <bulwark/bulwark.h>

#include "internal.h"

int bw_policy_check(const char *path, char **ret_diagnostics, unsigned *ret_warnings)
{
	return bw_policy_check_root(path, NULL, ret_diagnostics, ret_warnings);
}

int bw_policy_check_root(const char *path, const char *root, char **ret_diagnostics,
			 unsigned *ret_warnings)
{
	struct bw_policy_check_opts opts = { .sz = sizeof(opts), .root = root };

	return bw_policy_check_ext(path, &opts, ret_diagnostics, ret_warnings);
}

int bw_policy_check_ext(const char *path, const struct bw_policy_check_opts *opts,
			char **ret_diagnostics, unsigned *ret_warnings)
{
	const char *root;
	char real_root[PATH_MAX];
	struct bw_compiled c = { 0 };
	struct bw_policy *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!path || !BW_OPTS_VALID(opts, struct bw_policy_check_opts))
		return -EINVAL;
	root = BW_OPTS_GET(opts, root, NULL);
	if (root && !realpath(root, real_root))
		return -errno;
	p = bw_policy_new();
	if (!p)
		return -ENOMEM;
	/* "/" as a root is the host itself. */
	p->root = root && strcmp(real_root, "/") ? real_root : NULL;
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

int bw_policy_explain(const char *path, const char *query, char **ret_json, char **ret_diagnostics)
{
	struct bw_compiled c = { 0 };
	struct bw_rule_table t = { 0 };
	struct json_object *o = NULL;
	struct bw_policy *p;
	char *diag = NULL;
	int r;

	if (!path || !query || !ret_json)
		return -EINVAL;
	p = bw_policy_new();
	if (!p)
		return -ENOMEM;
	bw_policy_load_path(p, path);
	bw_policy_finish(p);
	r = bw_compile(p, &c);
	if (r < 0 || p->n_errors) {
		size_t len = 0;
		FILE *f = open_memstream(&diag, &len);

		if (f) {
			bw_policy_print_diags(p, f);
			fclose(f);
		}
		r = p->oom ? -ENOMEM : -EINVAL;
		goto out;
	}
	r = bw_rule_table_from_policy(p, &c, &t);
	if (r < 0)
		goto out;
	r = bw_explain(c.entries, c.n, &t, query, &o, &diag);
	if (r < 0)
		goto out;
	{
		const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
									      JSON_C_TO_STRING_NOSLASHESCAPE);
		char *s = text ? strdup(text) : NULL;

		if (s)
			*ret_json = s;
		else
			r = -ENOMEM;
	}
out:
	if (ret_diagnostics)
		*ret_diagnostics = diag;
	else
		free(diag);
	json_object_put(o);
	bw_rule_table_free(&t);
	bw_compiled_free(&c);
	bw_policy_free(p);
	return r;
}
