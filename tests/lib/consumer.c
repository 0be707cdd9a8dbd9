// SPDX-License-Identifier: MIT
/*
 * A vendor's program: built by tests/lib/check.sh against the *installed*
 * header and library only, with `pkg-config --cflags --libs bulwark`, in
 * strict C99 and again as C++. It takes the address of every public
 * function (so linking fails if one is not exported) and calls those that
 * need no daemon. Usage: consumer WORKDIR (an empty, writable directory).
 * Prints "ok - ..." per check; exits non-zero on the first failure.
 */
#include <bulwark/bulwark.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, what)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "FAIL - %s (%s:%d)\n", what, __FILE__, __LINE__); \
			exit(1);                                            \
		}                                                           \
		printf("ok - %s\n", what);                                  \
	} while (0)

typedef void (*any_fn)(void);

int main(int argc, char **argv)
{
	/* Every function of bulwark.h, LIBBULWARK_0.1 to 0.5. */
	const any_fn every[] = {
		(any_fn)bw_client_new,        (any_fn)bw_client_free,
		(any_fn)bw_client_status,     (any_fn)bw_client_policy_load,
		(any_fn)bw_client_events,     (any_fn)bw_client_unload,
		(any_fn)bw_unload_pins,       (any_fn)bw_policy_check,
		(any_fn)bw_policy_explain,    (any_fn)bw_policy_check_root,
		(any_fn)bw_client_explain,    (any_fn)bw_client_error,
		(any_fn)bw_client_lock,       (any_fn)bw_client_policy_load_signed,
		(any_fn)bw_client_unload_signed, (any_fn)bw_key_generate,
		(any_fn)bw_key_read_public,   (any_fn)bw_sign,
		(any_fn)bw_version_major,     (any_fn)bw_version_minor,
		(any_fn)bw_version_string,    (any_fn)bw_policy_check_ext,
		(any_fn)bw_client_layer_open, (any_fn)bw_client_txn_begin,
		(any_fn)bw_client_txn_add,    (any_fn)bw_client_txn_remove,
		(any_fn)bw_client_txn_commit, (any_fn)bw_client_txn_abort,
	};
	char pol[4096], pub[4096], sec[4096], ver[32];
	struct bw_client_opts copts;
	struct bw_policy_check_opts popts;
	struct bw_client *c = NULL;
	char *diag = NULL, *json = NULL, *hex = NULL, *payload = NULL;
	unsigned warnings = 7;
	size_t i;
	FILE *f;

	if (argc != 2)
		return 2;
	for (i = 0; i < sizeof(every) / sizeof(every[0]); i++)
		CHECK(every[i] != NULL, "public function resolved");

	snprintf(ver, sizeof(ver), "%d.%d.%d", BULWARK_VERSION_MAJOR, BULWARK_VERSION_MINOR,
		 BULWARK_VERSION_PATCH);
	CHECK(strcmp(bw_version_string(), ver) == 0, "library version is the header's");
	CHECK(bw_version_major() == BULWARK_VERSION_MAJOR, "bw_version_major");

	memset(&copts, 0, sizeof(copts));
	copts.sz = sizeof(copts);
	copts.socket_path = "/nonexistent-bulwark-consumer/bulwarkd.sock";
	CHECK(bw_client_new(&c, &copts) == -ENOENT && c == NULL, "no daemon: -ENOENT");
	copts.sz = 1;
	CHECK(bw_client_new(&c, &copts) == -EINVAL, "opts with a bad sz: -EINVAL");
	bw_client_free(NULL);

	snprintf(pol, sizeof(pol), "%s/consumer.rules", argv[1]);
	f = fopen(pol, "w");
	CHECK(f != NULL, "write a policy");
	fputs("deny exec /bin/sh from uid=65534\n", f);
	fclose(f);
	CHECK(bw_policy_check(pol, &diag, &warnings) == 0 && warnings == 0, "bw_policy_check");
	free(diag);
	memset(&popts, 0, sizeof(popts));
	popts.sz = sizeof(popts);
	popts.root = "/";
	diag = NULL;
	CHECK(bw_policy_check_ext(pol, &popts, &diag, NULL) == 0, "bw_policy_check_ext");
	free(diag);
	CHECK(bw_policy_explain(pol, "exec /bin/sh as uid=65534", &json, NULL) == 0 &&
		      strstr(json, "deny") != NULL,
	      "bw_policy_explain");
	free(json);

	f = fopen(pol, "w");
	CHECK(f != NULL, "write a bad policy");
	fputs("deny exec /bin/sh from who=65534\n", f);
	fclose(f);
	diag = NULL;
	CHECK(bw_policy_check(pol, &diag, NULL) == -EINVAL && diag && strstr(diag, ":1:"),
	      "a bad policy: -EINVAL with file:line:col");
	free(diag);

	snprintf(pub, sizeof(pub), "%s/admin.pub", argv[1]);
	snprintf(sec, sizeof(sec), "%s/admin.key", argv[1]);
	CHECK(bw_key_generate(pub, sec) == 0, "bw_key_generate");
	CHECK(bw_key_read_public(pub, &hex) == 0 && strlen(hex) == 64, "bw_key_read_public");
	CHECK(bw_sign(sec, "unload", 1, NULL, &payload) == 0 && payload != NULL, "bw_sign");
	free(hex);
	free(payload);
	printf("consumer: done\n");
	return 0;
}
