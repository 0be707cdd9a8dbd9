// SPDX-License-Identifier: MIT
/*
 * The control protocol's decoder: good requests decode to typed fields,
 * and every bad one gets its exact errno and message, never a crash.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/daemon/proto.h"

static int decode(const char *line, struct bw_request *req, char *err)
{
	err[0] = 0;
	return bw_proto_decode(line, strlen(line), req, err, BW_PROTO_ERR_MAX);
}

static void test_good(void **state)
{
	struct bw_request r;
	char err[BW_PROTO_ERR_MAX];

	assert_int_equal(decode("{\"cmd\":\"status\"}", &r, err), 0);
	assert_int_equal(r.method, BW_M_STATUS);
	assert_int_equal(r.version, 1);
	bw_request_release(&r);

	assert_int_equal(decode("{\"v\":1,\"cmd\":\"policy-load\",\"path\":\"/etc/x.rules\"}\n", &r, err), 0);
	assert_int_equal(r.method, BW_M_POLICY_LOAD);
	assert_string_equal(r.path, "/etc/x.rules");
	bw_request_release(&r);

	assert_int_equal(decode("{\"cmd\":\"explain\",\"query\":\"exec /bin/sh\"}", &r, err), 0);
	assert_string_equal(r.query, "exec /bin/sh");
	bw_request_release(&r);

	assert_int_equal(decode("{\"cmd\":\"events\",\"backlog\":true}", &r, err), 0);
	assert_int_equal(r.method, BW_M_EVENTS);
	assert_true(r.backlog);
	assert_false(r.follow);
	bw_request_release(&r);

	/* Unknown fields are ignored: a newer client may add optional ones. */
	assert_int_equal(decode("{\"cmd\":\"unload\",\"extra\":[1,2]}", &r, err), 0);
	assert_int_equal(r.method, BW_M_UNLOAD);
	bw_request_release(&r);
	bw_request_release(&r); /* a released request releases again harmlessly */

	/* client layers */
	assert_int_equal(decode("{\"cmd\":\"layer-open\",\"name\":\"acme\",\"altitude\":300}", &r, err), 0);
	assert_int_equal(r.method, BW_M_LAYER_OPEN);
	assert_string_equal(r.name, "acme");
	assert_int_equal(r.altitude, 300);
	bw_request_release(&r);
	assert_int_equal(decode("{\"cmd\":\"txn-add\",\"rules\":\"deny exec /x\",\"persistent\":true}", &r, err), 0);
	assert_int_equal(r.method, BW_M_TXN_ADD);
	assert_string_equal(r.rules, "deny exec /x");
	assert_true(r.persistent);
	bw_request_release(&r);
	assert_int_equal(decode("{\"cmd\":\"txn-remove\",\"id\":4294967295}", &r, err), 0);
	assert_int_equal(r.id, 4294967295ll);
	bw_request_release(&r);
	assert_int_equal(decode("{\"cmd\":\"txn-commit\"}", &r, err), 0);
	assert_int_equal(r.method, BW_M_TXN_COMMIT);
	bw_request_release(&r);
}

static const struct {
	const char *line;
	int err;
	const char *msg;
} bad[] = {
	{ "", EINVAL, "malformed request: not one JSON object" },
	{ "{", EINVAL, "malformed request: not one JSON object" },
	{ "[\"status\"]", EINVAL, "malformed request: not one JSON object" },
	{ "\"status\"", EINVAL, "malformed request: not one JSON object" },
	{ "null", EINVAL, "malformed request: not one JSON object" },
	{ "{\"cmd\":\"status\"} {\"cmd\":\"unload\"}", EINVAL, "malformed request: not one JSON object" },
	{ "{}", EINVAL, "field 'cmd' is required" },
	{ "{\"cmd\":null}", EINVAL, "field 'cmd' must be a string" },
	{ "{\"cmd\":1}", EINVAL, "field 'cmd' must be a string" },
	{ "{\"cmd\":[\"status\"]}", EINVAL, "field 'cmd' must be a string" },
	{ "{\"cmd\":\"stat\"}", EOPNOTSUPP, "unknown command 'stat'" },
	{ "{\"cmd\":\"status\\u0000x\"}", EOPNOTSUPP, "unknown command 'status'" },
	{ "{\"cmd\":\"policy-load\"}", EINVAL, "field 'path' is required" },
	{ "{\"cmd\":\"policy-load\",\"path\":null}", EINVAL, "field 'path' must be a string" },
	{ "{\"cmd\":\"policy-load\",\"path\":7}", EINVAL, "field 'path' must be a string" },
	{ "{\"cmd\":\"policy-load\",\"path\":\"x.rules\"}", EINVAL, "field 'path' must be an absolute path" },
	{ "{\"cmd\":\"policy-load\",\"path\":\"/a\\u0000/b\"}", EINVAL, "field 'path' must not contain NUL" },
	{ "{\"cmd\":\"explain\"}", EINVAL, "field 'query' is required" },
	{ "{\"cmd\":\"explain\",\"query\":null}", EINVAL, "field 'query' must be a string" },
	{ "{\"cmd\":\"explain\",\"query\":{}}", EINVAL, "field 'query' must be a string" },
	{ "{\"cmd\":\"events\",\"backlog\":\"yes\"}", EINVAL, "field 'backlog' must be a boolean" },
	{ "{\"cmd\":\"events\",\"follow\":null}", EINVAL, "field 'follow' must be a boolean" },
	{ "{\"cmd\":\"events\",\"follow\":1}", EINVAL, "field 'follow' must be a boolean" },
	{ "{\"cmd\":\"layer-open\",\"name\":\"a\"}", EINVAL, "field 'altitude' is required" },
	{ "{\"cmd\":\"layer-open\",\"name\":\"a\",\"altitude\":\"3\"}", EINVAL,
	  "field 'altitude' must be an integer" },
	{ "{\"cmd\":\"layer-open\",\"name\":\"a\",\"altitude\":3.5}", EINVAL,
	  "field 'altitude' must be an integer" },
	{ "{\"cmd\":\"layer-open\",\"altitude\":3}", EINVAL, "field 'name' is required" },
	{ "{\"cmd\":\"txn-add\"}", EINVAL, "field 'rules' is required" },
	{ "{\"cmd\":\"txn-add\",\"rules\":\"x\",\"persistent\":1}", EINVAL,
	  "field 'persistent' must be a boolean" },
	{ "{\"cmd\":\"txn-remove\",\"id\":null}", EINVAL, "field 'id' must be an integer" },
	{ "{\"v\":2,\"cmd\":\"status\"}", EPROTONOSUPPORT,
	  "protocol version 2 is not supported (this bulwarkd speaks version 1)" },
	{ "{\"v\":0,\"cmd\":\"status\"}", EPROTONOSUPPORT,
	  "protocol version 0 is not supported (this bulwarkd speaks version 1)" },
	{ "{\"v\":\"1\",\"cmd\":\"status\"}", EINVAL, "field 'v' must be an integer" },
	{ "{\"v\":null,\"cmd\":\"status\"}", EINVAL, "field 'v' must be an integer" },
	{ "{\"v\":1.0,\"cmd\":\"status\"}", EINVAL, "field 'v' must be an integer" },
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bw_request r = { 0 };
		char err[BW_PROTO_ERR_MAX];
		int ret = decode(bad[i].line, &r, err);

		print_message("%s\n", bad[i].line);
		assert_int_equal(ret, -bad[i].err);
		assert_string_equal(err, bad[i].msg);
		assert_null(r.root); /* untouched on failure */
	}
}

/* A command name longer than the reply quotes is cut, not echoed whole. */
static void test_long_command(void **state)
{
	char line[512], err[BW_PROTO_ERR_MAX];
	struct bw_request r = { 0 };

	snprintf(line, sizeof(line), "{\"cmd\":\"%0300d\"}", 0);
	assert_int_equal(decode(line, &r, err), -EOPNOTSUPP);
	assert_int_equal(strlen(err), strlen("unknown command ''") + 64);
}

/* The length given is the line: bytes past it are not read. */
static void test_length(void **state)
{
	const char *line = "{\"cmd\":\"status\"}garbage";
	struct bw_request r;
	char err[BW_PROTO_ERR_MAX];

	assert_int_equal(bw_proto_decode(line, 16, &r, err, sizeof(err)), 0);
	bw_request_release(&r);
	assert_int_equal(bw_proto_decode(line, strlen(line), &r, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_long_command),
		cmocka_unit_test(test_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
