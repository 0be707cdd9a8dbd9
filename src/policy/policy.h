/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy model and parser. Pure C: no BPF, no syscalls beyond reading
 * files, so it can be unit-tested and fuzzed on any host.
 */
#ifndef BULWARK_POLICY_H
#define BULWARK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bpf/abi.h"

struct bw_loc {
	const char *file; /* owned by the policy's file list */
	unsigned line, col;
	const char *text; /* the source line, for the caret; NULL if unknown */
};

enum bw_obj_type {
	BW_OBJ_TYPE_PATH = 1, /* one file, by identity */
	BW_OBJ_TYPE_TREE = 2, /* everything below a directory */
	BW_OBJ_TYPE_ANY = 3,  /* the operation's default */
	BW_OBJ_TYPE_REASON = 4, /* lockdown: a reason or a group of them (reasons) */
	BW_OBJ_TYPE_SELF = 5,   /* protect self: bulwark's own files and objects */
	BW_OBJ_TYPE_TRUSTED = 6,   /* exec, load: any file the trust database vouches for */
	BW_OBJ_TYPE_UNTRUSTED = 7, /* exec, load: any file it does not */
	BW_OBJ_TYPE_HASH = 8,      /* exec, load: a file by content (sha256:HEX) */
	BW_OBJ_TYPE_CLIENT = 9,    /* grant: control operations for a client other than root */
};

enum bw_sel_type {
	BW_SEL_EXE = 1,
	BW_SEL_UID = 2,
	BW_SEL_GID = 3,
	BW_SEL_CGROUP = 4,
	BW_SEL_PARENT = 5,
	BW_SEL_LEVEL = 6,
	BW_SEL_TRUSTED = 7,
};

struct bw_selector {
	enum bw_sel_type type;
	char *value;  /* NULL for flag selectors; exe/parent trees: the directory */
	bool tree;    /* exe= or parent= a whole directory (written /dir/ and two stars) */
	struct bw_loc loc;
	unsigned value_col; /* column of the value, for diagnostics */
	/* Filled by the compiler. */
	uint32_t id;  /* uid, gid, or the subject class */
};

struct bw_rule {
	unsigned id; /* 1-based index in the policy's rule table */
	enum bw_verdict decision;
	enum bw_op op;
	enum bw_obj_type obj;
	char *path; /* PATH: the file; TREE: the directory (no trailing slash) */
	struct bw_loc loc, obj_loc;
	struct bw_selector *subjects;
	size_t n_subjects;
	/* Process operations: the target process (none = `any`). */
	struct bw_selector *targets;
	size_t n_targets;
	/* signal: bit n of signals[n / 64] = signal n; all clear = the default set. */
	uint64_t signals[2];
	/* lockdown, sysctl: bit n = id n (every one for `any`); path = as written */
	uint64_t reasons;
	unsigned flags; /* enum bw_rule_flag */
	unsigned level; /* protect: enum bw_level */
	unsigned layer; /* 0: the administrator's policy; 1..BW_CLIENT_LAYERS: a client's (bulwarkd sets it) */
	char *tag;
	char *text; /* the statement as written, for events and explain */
	char *line; /* the whole source line: diagnostics quote it */
	/* Filled by the compiler: what the path resolved to. */
	uint64_t dev, ino;
	uint8_t sha256[32]; /* HASH: the content named */
};

/*
 * What a `grant` lets a client other than root do on the control socket
 * (bw_rule.reasons of a BW_OBJ_TYPE_CLIENT rule). Loading a policy,
 * unloading and locking are never grantable: they change what the
 * administrator enforces.
 */
enum bw_grant {
	BW_GRANT_STATUS = 1u << 0,     /* status */
	BW_GRANT_EXPLAIN = 1u << 1,    /* explain */
	BW_GRANT_EVENTS = 1u << 2,     /* events and subscriptions */
	BW_GRANT_LAYER = 1u << 3,      /* a client layer: layer-open and transactions */
	BW_GRANT_TRUST_SYNC = 1u << 4, /* trust-sync */
	BW_GRANT_ALL = (1u << 5) - 1,
};

/* The name of one grant bit ("status", ...), or "?". */
const char *bw_grant_name(unsigned bit);

enum bw_severity { BW_SEV_ERROR = 1, BW_SEV_WARNING = 2 };

struct bw_diag {
	enum bw_severity sev;
	struct bw_loc loc;
	char *msg;
	char *hint;      /* may be NULL */
	char *line_text; /* the offending source line, for the caret */
};

struct bw_resolved;

struct bw_policy {
	struct bw_rule *rules;
	size_t n_rules, cap_rules;
	unsigned flags;          /* enum bw_policy_flag */
	struct bw_loc mode_loc;  /* where `mode` was set, if it was */
	unsigned mode_rule;      /* rule-table id of the mode statement */
	char **files;            /* every file read, in order */
	size_t n_files;
	struct bw_diag *diags;
	size_t n_diags, n_errors, n_warnings;
	uint8_t sha256[32];      /* of the concatenated text, in read order */
	const char *root;        /* compile against this image root (check only); NULL = / */
	/*
	 * Identities to keep for exact files (a bw_resolved list, sorted): a
	 * re-resolution of moved directories and recreated cgroups must not
	 * quietly follow a replaced file. NULL = resolve everything afresh.
	 */
	const struct bw_resolved *keep;
	size_t n_keep;
	/*
	 * What `protect self` covers: bulwarkd's own files and pin directory
	 * (a trailing slash and two stars mark a tree), set by bulwarkd before
	 * compiling. NULL elsewhere: the statement then only sets the flag.
	 */
	const char *const *self_paths;
	size_t n_self_paths;
	/* Called now and then during a long compile (bulwarkd drains events); may be NULL. */
	void (*tick)(void *ctx);
	void *tick_ctx;
	/*
	 * An allocation failed somewhere: the policy is unusable (counted once
	 * in n_errors too) and loaders and compilers return -ENOMEM.
	 */
	bool oom;
	void *hash_state;        /* internal: running SHA-256 */
	unsigned depth;          /* internal: include depth */
};

/* Limits: a policy that exceeds them is an error, never truncated. */
#define BW_INCLUDE_DEPTH_MAX 16
#define BW_LINE_MAX 4096
#define BW_FILE_MAX (128u << 20) /* bytes per policy file */
#define BW_FILE_MAX_TEXT "128 MiB"
#define BW_RULES_MAX 1000000u

struct bw_policy *bw_policy_new(void);
void bw_policy_free(struct bw_policy *p);

/*
 * Read a policy file or a directory of *.rules files (natural sort order).
 * Returns 0 when the text was read; syntax problems are diagnostics, and
 * p->n_errors says whether the policy is usable. -errno only for I/O
 * failures of the top-level path (also recorded as a diagnostic), and
 * -ENOMEM when memory ran out (p->oom).
 */
int bw_policy_load_path(struct bw_policy *p, const char *path);
/* Parse text held in memory, named `name` in diagnostics. */
int bw_policy_load_buffer(struct bw_policy *p, const char *name, const char *buf, size_t len);
/*
 * Parse an explain query, `<op> <file> [as <selector>...]`, into one rule
 * (decision BW_VERDICT_NONE) appended to p. Errors are diagnostics in
 * file "query"; returns -EINVAL then.
 */
int bw_policy_parse_query(struct bw_policy *p, const char *text);
/*
 * A client layer's rule text (bulwarkd, docs/api.md), parsed as file
 * `name` after bw_policy_finish (the policy's hash stays the
 * administrator's): its rules get `layer`. Only allow, deny and audit
 * rules of operations bw_layer_op_ok accepts; anything else is an error
 * diagnostic at its line and column. -EINVAL when it added errors.
 */
int bw_policy_load_layer(struct bw_policy *p, unsigned layer, const char *name, const char *buf,
			 size_t len);
bool bw_layer_op_ok(enum bw_op op);
/* Finish hashing; call once after the last load. */
void bw_policy_finish(struct bw_policy *p);

void bw_policy_diag(struct bw_policy *p, enum bw_severity sev, const struct bw_loc *loc,
		    const char *line_text, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Out of memory: mark p unusable (p->oom); the caller returns -ENOMEM. */
void bw_policy_oom(struct bw_policy *p);
/* Render every diagnostic, gcc style, with a caret line and hint. */
void bw_policy_print_diags(const struct bw_policy *p, FILE *out);

const char *bw_op_name(enum bw_op op);
const char *bw_verdict_name(enum bw_verdict v);
const char *bw_action_name(enum bw_action a);
int bw_op_from_name(const char *name);
/* Operations whose object is a process (`any` or target selectors). */
bool bw_op_targets_process(enum bw_op op);
/* The sysctls the gate and `sysctl` rules guard, ids 1..BW_SYSCTL_IDS-1. */
#define BW_SYSCTL_IDS 16
struct bw_sysctl_def {
	const char *name; /* as sysctl(8) writes it: kernel.core_pattern */
	const char *dir;  /* its directory under /proc/sys, last component */
	const char *leaf; /* its file name there */
	uint32_t gate;    /* enum bw_gate: the built-in decision guarding it */
};
const struct bw_sysctl_def *bw_sysctl_def(unsigned id);
/* The ids a `sysctl` rule's object names; 0 if it names none. */
uint64_t bw_sysctl_set(const char *name);

/* A gate's reserved rule id: its short name and what it refuses; NULL for other ids. */
const char *bw_gate_name(uint32_t id);
const char *bw_gate_text(uint32_t id);
/* Protection levels by name: none, vendor, antimalware, system (enum bw_level). */
const char *bw_level_name(unsigned level);
int bw_level_from_name(const char *name);

/* Lockdown reasons (ids from abi.h): the name of one, NULL if none. */
const char *bw_lockdown_name(unsigned id);
/* The ids a policy word names: a reason, `integrity`, `confidentiality`, `any`; 0 = none. */
uint64_t bw_lockdown_set(const char *name);
/* The id of a running kernel's reason (LOCKDOWN_DEV_MEM), by name; its group's catch-all if unknown. */
unsigned bw_lockdown_from_kernel(const char *kname, bool confidentiality);
/* The default signal set of a `signal` rule: every signal but 0. */
#define BW_SIGNAL_MAX 64

#endif /* BULWARK_POLICY_H */
