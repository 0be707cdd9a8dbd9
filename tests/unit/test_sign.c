// SPDX-License-Identifier: MIT
/*
 * Locked mode's signed payloads: a payload verifies only with its key,
 * for its operation and policy hash, and any change to it breaks it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../src/lib/internal.h"

static const char sha[] = "31f0680a092b02546e44523b507a21c796a2ac334283c6747669437148ef0921";

static void keys(uint8_t pk[BW_SIGN_PUBLIC], uint8_t sk[BW_SIGN_SECRET])
{
	char pub[2 * BW_SIGN_PUBLIC + 1], sec[2 * BW_SIGN_SECRET + 1];

	assert_int_equal(bw_sign_keygen(pub, sec), 0);
	assert_int_equal(sodium_hex2bin(pk, BW_SIGN_PUBLIC, pub, strlen(pub), NULL, NULL, NULL), 0);
	assert_int_equal(sodium_hex2bin(sk, BW_SIGN_SECRET, sec, strlen(sec), NULL, NULL, NULL), 0);
}

static void test_round_trip(void **state)
{
	uint8_t pk[BW_SIGN_PUBLIC], sk[BW_SIGN_SECRET], pk2[BW_SIGN_PUBLIC], sk2[BW_SIGN_SECRET];
	char *payload = NULL, why[256];
	uint64_t version = 0;

	(void)state;
	keys(pk, sk);
	keys(pk2, sk2);
	assert_int_equal(bw_sign_payload(sk, "policy", 7, sha, &payload), 0);
	assert_int_equal(bw_sign_verify(pk, payload, "policy", sha, &version, why, sizeof(why)), 0);
	assert_int_equal(version, 7);
	/* another key */
	assert_int_equal(bw_sign_verify(pk2, payload, "policy", sha, &version, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "bad signature"));
	/* another operation, another policy */
	assert_int_equal(bw_sign_verify(pk, payload, "unload", NULL, &version, why, sizeof(why)), -EPERM);
	assert_int_equal(bw_sign_verify(pk, payload, "policy",
					"0000000000000000000000000000000000000000000000000000000000000000",
					&version, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "signs policy"));
	/* a changed version is a changed payload */
	payload[strstr(payload, "version 7") - payload + 8] = '9';
	assert_int_equal(bw_sign_verify(pk, payload, "policy", sha, &version, why, sizeof(why)), -EPERM);
	free(payload);
	/* not a payload at all */
	assert_int_equal(bw_sign_verify(pk, "hello\n", "unload", NULL, &version, why, sizeof(why)), -EINVAL);
	assert_int_equal(bw_sign_payload(sk, "unload", 8, NULL, &payload), 0);
	assert_int_equal(bw_sign_verify(pk, payload, "unload", NULL, &version, why, sizeof(why)), 0);
	assert_int_equal(version, 8);
	free(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
