// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the policy parser and compiler: any bytes must
 * produce diagnostics or a policy, never a crash, a leak or UB. Paths are
 * resolved against the real filesystem, as bulwarkd would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/lib/compile.h"

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
	bw_compiled_free(&c);
	bw_policy_free(p);
	return 0;
}
