// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for bulwarkd's request decoder: any bytes a uid-0
 * client sends must decode to a typed request or an error message, never a
 * crash, a leak or UB. What a decoded request holds is read back, as a
 * handler would.
 */
#include <stdint.h>
#include <string.h>

#include "../../src/daemon/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_request r = { 0 };
	char err[BW_PROTO_ERR_MAX];
	volatile size_t sink = 0;

	if (bw_proto_decode((const char *)data, size, &r, err, sizeof(err)) < 0) {
		sink += strlen(err);
		return 0;
	}
	sink += strlen(bw_method_name(r.method));
	if (r.path)
		sink += strlen(r.path);
	if (r.query)
		sink += strlen(r.query);
	sink += r.backlog + r.follow;
	bw_request_release(&r);
	return 0;
}
