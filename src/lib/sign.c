// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Locked mode's signed payloads (docs/threat-model.md): Ed25519 from
 * libsodium over a short text that names the operation, a version that
 * must grow, and for a policy the SHA-256 bulwark computes of its text.
 *
 *   bulwark-signed v1
 *   op policy
 *   version 7
 *   sha256 <64 hex digits>
 *   sig <128 hex digits>
 *
 * The signature covers every line before `sig`, exactly as written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "internal.h"

#define SIGNED_MAGIC "bulwark-signed v1\n"

static int from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t out_len)
{
	size_t bin_len = 0;

	if (hex_len != 2 * out_len ||
	    sodium_hex2bin(out, out_len, hex, hex_len, NULL, &bin_len, NULL) != 0 || bin_len != out_len)
		return -EINVAL;
	return 0;
}

int bw_sign_keygen(char pub_hex[2 * BW_SIGN_PUBLIC + 1], char sec_hex[2 * BW_SIGN_SECRET + 1])
{
	uint8_t pk[BW_SIGN_PUBLIC], sk[BW_SIGN_SECRET];

	if (sodium_init() < 0)
		return -EIO;
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(pub_hex, 2 * BW_SIGN_PUBLIC + 1, pk, sizeof(pk));
	sodium_bin2hex(sec_hex, 2 * BW_SIGN_SECRET + 1, sk, sizeof(sk));
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

/* A key file: one line of hex, n bytes. */
int bw_sign_read_key(const char *path, uint8_t *key, size_t n)
{
	char buf[2 * BW_SIGN_SECRET + 8];
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	r = len < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	r = from_hex(buf, (size_t)len, key, n);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* The signed part: every line before `sig`. */
static char *signed_text(const char *op, uint64_t version, const char *sha_hex)
{
	char *s = NULL;

	if (asprintf(&s, SIGNED_MAGIC "op %s\nversion %" PRIu64 "\n%s%s%s", op, version,
		     sha_hex ? "sha256 " : "", sha_hex ? sha_hex : "", sha_hex ? "\n" : "") < 0)
		return NULL;
	return s;
}

int bw_sign_payload(const uint8_t sk[BW_SIGN_SECRET], const char *op, uint64_t version,
		    const char *sha_hex, char **ret)
{
	uint8_t sig[crypto_sign_BYTES];
	char hex[2 * crypto_sign_BYTES + 1];
	char *body, *all = NULL;

	if (sodium_init() < 0)
		return -EIO;
	body = signed_text(op, version, sha_hex);
	if (!body)
		return -ENOMEM;
	crypto_sign_detached(sig, NULL, (const uint8_t *)body, strlen(body), sk);
	sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
	if (asprintf(&all, "%ssig %s\n", body, hex) < 0)
		all = NULL;
	free(body);
	if (!all)
		return -ENOMEM;
	*ret = all;
	return 0;
}

/*
 * Check a payload for op (and the policy's sha256) against pk. Returns 0
 * with its version, or -EINVAL / -EPERM with why filled.
 */
int bw_sign_verify(const uint8_t pk[BW_SIGN_PUBLIC], const char *text, const char *op,
		   const char *sha_hex, uint64_t *ret_version, char *why, size_t why_len)
{
	uint8_t sig[crypto_sign_BYTES];
	const char *sigline = strstr(text, "\nsig ");
	char want_op[32], got_sha[65] = "";
	unsigned long long version;
	size_t body_len;
	int n;

	if (sodium_init() < 0) {
		snprintf(why, why_len, "libsodium failed to initialise");
		return -EIO;
	}
	if (strncmp(text, SIGNED_MAGIC, strlen(SIGNED_MAGIC)) != 0 || !sigline) {
		snprintf(why, why_len, "not a bulwark signed payload (`bulwark sign` makes them)");
		return -EINVAL;
	}
	body_len = (size_t)(sigline - text) + 1;
	if (from_hex(sigline + 5, strcspn(sigline + 5, "\n"), sig, sizeof(sig)) < 0) {
		snprintf(why, why_len, "the payload's signature is not 128 hex digits");
		return -EINVAL;
	}
	if (crypto_sign_verify_detached(sig, (const uint8_t *)text, body_len, pk) != 0) {
		snprintf(why, why_len, "bad signature: not made with the lock's key, or the payload was changed");
		return -EPERM;
	}
	n = sscanf(text + strlen(SIGNED_MAGIC), "op %31s\nversion %llu\nsha256 %64s", want_op, &version,
		   got_sha);
	if (n < 2) {
		snprintf(why, why_len, "signed payload without op and version");
		return -EINVAL;
	}
	if (strcmp(want_op, op) != 0) {
		snprintf(why, why_len, "the payload signs `%s`, not `%s`", want_op, op);
		return -EPERM;
	}
	if (sha_hex && strcmp(got_sha, sha_hex) != 0) {
		snprintf(why, why_len, "the payload signs policy %.12s, this policy is %.12s",
			 got_sha[0] ? got_sha : "(none)", sha_hex);
		return -EPERM;
	}
	*ret_version = version;
	return 0;
}

/* ---- the public face (bulwark.h) ----------------------------------------- */

static int write_key_file(const char *path, const char *hex, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode), r = 0;
	size_t len = strlen(hex);

	if (fd < 0)
		return -errno;
	if (write(fd, hex, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		r = -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

int bw_key_generate(const char *public_path, const char *secret_path)
{
	char pub[2 * BW_SIGN_PUBLIC + 1], sec[2 * BW_SIGN_SECRET + 1];
	int r;

	if (!public_path || !secret_path)
		return -EINVAL;
	r = bw_sign_keygen(pub, sec);
	if (r == 0)
		r = write_key_file(secret_path, sec, 0600);
	if (r == 0) {
		r = write_key_file(public_path, pub, 0644);
		if (r < 0)
			unlink(secret_path);
	}
	sodium_memzero(sec, sizeof(sec));
	return r;
}

int bw_key_read_public(const char *public_path, char **ret_hex)
{
	uint8_t pk[BW_SIGN_PUBLIC];
	char hex[2 * BW_SIGN_PUBLIC + 1], *copy;
	int r;

	if (!public_path || !ret_hex)
		return -EINVAL;
	r = bw_sign_read_key(public_path, pk, sizeof(pk));
	if (r < 0)
		return r;
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	copy = strdup(hex);
	if (!copy)
		return -ENOMEM;
	*ret_hex = copy;
	return 0;
}

int bw_sign(const char *secret_path, const char *op, uint64_t version, const char *policy_path,
	    char **ret_payload)
{
	uint8_t sk[BW_SIGN_SECRET];
	char hex[65];
	bool policy;
	int r;

	if (!secret_path || !op || !ret_payload)
		return -EINVAL;
	policy = strcmp(op, "policy") == 0;
	if ((policy && !policy_path) || (!policy && strcmp(op, "unload") != 0))
		return -EINVAL;
	if (policy) {
		struct bw_policy *p = bw_policy_new();

		if (!p)
			return -ENOMEM;
		/* The same hash bulwarkd computes: the text, as its parser reads it. */
		r = bw_policy_load_path(p, policy_path);
		bw_policy_finish(p);
		if (r == 0 && p->n_errors)
			r = -EINVAL;
		bw_hex(p->sha256, sizeof(p->sha256), hex);
		bw_policy_free(p);
		if (r < 0)
			return r;
	}
	r = bw_sign_read_key(secret_path, sk, sizeof(sk));
	if (r == 0)
		r = bw_sign_payload(sk, op, version, policy ? hex : NULL, ret_payload);
	sodium_memzero(sk, sizeof(sk));
	return r;
}
