/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bulwarkd's side of image-load control: the kernel's trust map, from the trust database. */
#ifndef BULWARKD_TRUST_H
#define BULWARKD_TRUST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

/* A file the kernel trusts, by an identity events name: its hash for the event. */
struct trust_known {
	uint64_t dev, ino;
	uint8_t sha256[32];
};

struct trust_state {
	const char *db;		   /* --trust-db; NULL: $BULWARK_TRUST_DB, else the default */
	struct trust_known *known; /* sorted by (dev, ino) */
	size_t n_known;
	uint64_t entries;  /* rows read at the last sync */
	uint64_t trusted;  /* files installed in the trust map */
	uint64_t rejected; /* rows whose file changed, or is not a regular file */
	uint64_t missing;  /* rows whose file is gone */
	uint64_t rehashed; /* rows hashed again and found the same (trust.md, In the kernel) */
	int64_t synced_ms; /* when (CLOCK_REALTIME ms), 0: never */
	int64_t took_ms;
	char *error; /* why the last sync failed, NULL if it did not */
};

/*
 * Read the trust database and make the kernel's trust map match it: every
 * file still as the database recorded it (or hashed again to the same
 * content) is installed under the identity the kernel computes for it;
 * every other entry of the map is removed. Returns 0, or -errno when the
 * database could not be read (the map is then left as it was).
 */
int trust_sync(struct daemon *d, const char *reason);
/* The SHA-256 of a trusted file the events name by (dev, ino), or NULL. */
const uint8_t *trust_known_hash(const struct daemon *d, uint64_t dev, uint64_t ino);
struct json_object *trust_status(const struct daemon *d);
/* The database's path: --trust-db, else $BULWARK_TRUST_DB, else the default. */
const char *trust_status_db(const struct daemon *d);
void trust_free(struct daemon *d);

#endif
