/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbulwark internals shared with bulwarkd and the CLI. Not installed,
 * not part of the stable API.
 */
#ifndef BULWARK_LIB_INTERNAL_H
#define BULWARK_LIB_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bpf/abi.h"
#include "../policy/policy.h"
#include "compile.h"

/*
 * Options structs, as libbpf's OPTS_VALID/OPTS_HAS/OPTS_GET: the caller's
 * sz says how much of the struct it has. Valid: sz covers at least the
 * sz field, and every byte between what this library knows
 * (sizeof(type)) and sz is zero. A field is read only if sz covers it;
 * otherwise its default applies. Tail padding is counted as known: new
 * fields go after it, so a caller's stray padding bytes never fail.
 */
int bw_opts_valid(const void *opts, size_t known, size_t given);
#define bw_offsetofend(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
#define BW_OPTS_VALID(opts, type) (!(opts) || bw_opts_valid((opts), sizeof(type), (opts)->sz))
#define BW_OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= bw_offsetofend(__typeof__(*(opts)), field))
#define BW_OPTS_GET(opts, field, fallback) (BW_OPTS_HAS(opts, field) ? (opts)->field : (fallback))

/* Where each rule id came from: what events and explain quote (bw_rule_table_get). */
struct bw_rule_ref {
	const char *file; /* the table's */
	unsigned line, col;
	char *text;       /* the caller's: bw_rule_ref_clear */
};

/* A rule as the table keeps it (src/lib/event.c). */
struct bw_rule_slot {
	uint32_t text; /* offset of its front-coded text in the table's text */
	uint32_t file; /* index in the table's files */
	uint32_t line, col;
};

/*
 * The rules of a policy by id, for events and explain. bulwarkd keeps one
 * per recent generation, of 100,000 rules too: each rule's text is kept
 * front-coded (struct bw_fcode: the length it shares with the rule
 * before, then the rest), so a policy whose rules name neighbouring paths
 * keeps a few bytes a rule, not the whole line.
 */
struct bw_rule_table {
	struct bw_rule_slot *rules; /* rules[id - 1] */
	size_t n, cap;
	char **files;               /* file names, each once */
	size_t n_files;
	struct bw_fcode text;       /* the rules' texts */
	char sha256[65];           /* hex */
	/* Rules that lost on some key: explain reports them, live too. */
	struct bw_shadow *shadows;
	size_t n_shadows;
	/* Layers (bulwarkd's client layers): their names and altitudes; NULL/0 where none. */
	char *layer_names[BW_LAYERS];
	uint32_t layer_altitude[BW_LAYERS];
};

/* Append the rule of the next id: 0 or -ENOMEM. */
int bw_rule_table_add(struct bw_rule_table *t, const char *file, unsigned line, unsigned col,
		      const char *text);
/* Rule id's file, line, column and text (*out, clear it after): 0, -ENOENT or -ENOMEM. */
int bw_rule_table_get(const struct bw_rule_table *t, uint32_t id, struct bw_rule_ref *out);
void bw_rule_ref_clear(struct bw_rule_ref *r);

/* The table of p's rules, with c's shadows (c may be NULL). */
int bw_rule_table_from_policy(const struct bw_policy *p, const struct bw_compiled *c,
			      struct bw_rule_table *t);
struct json_object *bw_rule_table_to_json(const struct bw_rule_table *t); /* NULL: out of memory */
/*
 * The same, as the members of a JSON object ("sha256":...,"rules":[...],
 * ...), printed a rule at a time: no tree of the whole table. 0 or -errno.
 */
int bw_rule_table_print_members(const struct bw_rule_table *t, FILE *f);
/* Print o (taking it) as plain JSON text: 0, -ENOMEM when o is NULL, -EIO. */
int bw_json_print(FILE *f, struct json_object *o);
int bw_rule_table_from_json(struct json_object *o, struct bw_rule_table *t);
void bw_rule_table_free(struct bw_rule_table *t);

void bw_hex(const uint8_t *in, size_t len, char *out);

/* Locked mode's signed payloads (src/lib/sign.c): Ed25519, keys as hex text. */
#define BW_SIGN_PUBLIC 32
#define BW_SIGN_SECRET 64
int bw_sign_keygen(char pub_hex[2 * BW_SIGN_PUBLIC + 1], char sec_hex[2 * BW_SIGN_SECRET + 1]);
int bw_sign_read_key(const char *path, uint8_t *key, size_t n);
/* A payload for op ("policy" with sha_hex, "unload"), version; *ret is malloc'd text. */
int bw_sign_payload(const uint8_t sk[BW_SIGN_SECRET], const char *op, uint64_t version,
		    const char *sha_hex, char **ret);
int bw_sign_verify(const uint8_t pk[BW_SIGN_PUBLIC], const char *text, const char *op,
		   const char *sha_hex, uint64_t *ret_version, char *why, size_t why_len);

/*
 * A file as the kernel's walk sees it (src/lib/ancestry.c): views, each
 * the file then its real ancestor directories, nearest first. View 0 is
 * the path used (across bind and other mounts, as d_parent goes); the
 * next ones are the real files below overlays (ending at their
 * filesystem's root). Labels are paths that reach them (dirs as dir/ and two stars).
 */
#define BW_FILE_VIEWS_MAX 3
struct bw_anc {
	uint64_t dev, ino;
	char *label;
};
struct bw_view {
	struct bw_anc *v;
	size_t n;
};
int bw_file_views(const char *path, struct bw_view **ret, size_t *n_ret);
void bw_file_views_free(struct bw_view *v, size_t n);

/* "major:minor" of a kernel-encoded dev_t. */
void bw_dev_string(uint64_t kdev, char *buf, size_t len);

/*
 * Building JSON with json-c, which returns NULL when it runs out of memory
 * and asserts (aborts) when handed a NULL container: every object is built
 * through these, which remember a failure in b->oom instead. The builder
 * checks once at the end; bw_jb_done drops what was built and returns NULL
 * then. bw_jb_add and bw_jb_push take v; a NULL v counts as a failed
 * allocation (bw_jb_add_null adds a null on purpose).
 */
struct bw_jb {
	bool oom;
};
struct json_object *bw_jb_obj(struct bw_jb *b);
struct json_object *bw_jb_arr(struct bw_jb *b);
void bw_jb_add(struct bw_jb *b, struct json_object *o, const char *k, struct json_object *v);
void bw_jb_add_null(struct bw_jb *b, struct json_object *o, const char *k);
void bw_jb_push(struct bw_jb *b, struct json_object *a, struct json_object *v);
struct json_object *bw_jb_done(struct bw_jb *b, struct json_object *o);

/*
 * One ring-buffer record as the JSON object documented in docs/events.md.
 * NULL when out of memory.
 * boot_to_real_ns converts CLOCK_BOOTTIME stamps to wall-clock time.
 */
/* An event's enum bw_notification_kind and narrower class bits (client.c). */
uint32_t bw_event_classes(struct json_object *ev);
struct json_object *bw_event_to_json(const struct bw_event *e, const struct bw_rule_table *rt,
				     int64_t boot_to_real_ns);

/*
 * Answer an explain query (`<op> <file> [as <selector>...]`) against map
 * entries sorted by key: what the kernel would decide, by which rule, and
 * which rules it beat. *ret is the JSON documented in docs/policy.md.
 * -EINVAL for a bad query, with *ret_diag (if given) saying why.
 */
int bw_explain(const struct bw_rule_entry *entries, size_t n, const struct bw_rule_table *rules,
	       const char *query, struct json_object **ret, char **ret_diag);

/*
 * A generation of pinned objects (BW_PIN_ROOT, or BW_PIN_NEXT while an
 * upgrade stages the next one): detach its links, the exec check last,
 * waiting until each program is gone; then remove every remaining pin and
 * the directory. -ENOENT when dir does not exist.
 */
int bw_pins_detach(const char *dir);
int bw_pins_remove(const char *dir);
int bw_pins_unload(const char *dir);

#endif
