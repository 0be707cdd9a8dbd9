// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the policy parser, compiler and explain: any bytes
 * must produce diagnostics or a policy, never a crash, a leak or UB. Paths
 * are resolved against the real filesystem, as bulwarkd would. A first
 * line "#? QUERY" is a comment to the parser and an explain query against
 * the compiled policy (a bare query line would make the policy invalid).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_compiled c = { 0 };
	struct bw_policy *p = bw_policy_new();
	FILE *devnull;

	if (!p)
		return 0;
	bw_policy_load_buffer(p, "fuzz.rules", (const char *)data, size);
	bw_policy_finish(p);
	bw_compile(p, &c);
	/* Rendering diagnostics walks every message, caret and line. */
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		bw_policy_print_diags(p, devnull);
		fclose(devnull);
	}
	if (c.entries) {
		struct bw_rule_table t = { 0 };
		const char *nl = memchr(data, '\n', size);
		size_t qlen = nl ? (size_t)(nl - (const char *)data) : size;
		char *query = qlen >= 2 && data[0] == '#' && data[1] == '?' ?
				      strndup((const char *)data + 2, qlen - 2) : NULL;
		struct json_object *o = NULL;
		char *diag = NULL;

		if (query && bw_rule_table_from_policy(p, &c, &t) == 0)
			bw_explain(c.entries, c.n, &t, query, &o, &diag);
		json_object_put(o);
		free(diag);
		free(query);
		bw_rule_table_free(&t);
	}
	bw_compiled_free(&c);
	bw_policy_free(p);
	return 0;
}
