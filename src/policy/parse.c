// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Policy parser: a line-oriented language, one statement per line.
 *
 *   mode enforce|audit
 *   include "other.rules"
 *   <allow|deny|audit> <op> <object> [from <selector>...] [with <option>...]
 *
 * The parser only reads and validates text. Resolving paths to inodes is
 * the compiler's job (src/lib/compile.c), so this file stays fuzzable.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

#define TOKENS_MAX 64

struct token {
	char *text; /* unescaped */
	unsigned col;
	bool quoted;
};

struct line_ctx {
	struct bw_policy *p;
	const char *file;
	unsigned line;
	const char *raw; /* NUL-terminated copy of the line */
	struct token tok[TOKENS_MAX];
	size_t n;
	bool query; /* an explain query: `<op> <file> [as <selector>...]` */
};

static const char *const op_names[BW_OP_COUNT] = {
	[BW_OP_NONE] = NULL,
	[BW_OP_EXEC] = "exec",
	[BW_OP_FORK] = "fork",
	[BW_OP_THREAD] = "thread",
	[BW_OP_READ] = "read",
	[BW_OP_WRITE] = "write",
	[BW_OP_SIGNAL] = "signal",
	[BW_OP_CONTROL] = "control",
	[BW_OP_WX] = "wx",
	[BW_OP_ANON_EXEC] = "anon-exec",
	[BW_OP_MEMFD_EXEC] = "memfd-exec",
	[BW_OP_LOAD] = "load",
	[BW_OP_PROTECT] = "protect",
	[BW_OP_MODULE] = "module",
	[BW_OP_KEXEC] = "kexec",
	[BW_OP_LOCKDOWN] = "lockdown",
	[BW_OP_BPF] = "bpf",
	[BW_OP_SYSCTL] = "sysctl",
};

static const char *const verdict_names[] = {
	[BW_VERDICT_NONE] = "none",
	[BW_VERDICT_ALLOW] = "allow",
	[BW_VERDICT_DENY] = "deny",
	[BW_VERDICT_AUDIT] = "audit",
};

static const char *const action_names[] = {
	[BW_ACTION_ALLOWED] = "allowed",
	[BW_ACTION_BLOCKED] = "blocked",
	[BW_ACTION_WOULD_BLOCK] = "would-deny",
};

static const char *const statement_words[] = { "allow", "deny", "audit", "mode", "include",
					       "notify", "protect", "grant" };

static const struct {
	const char *name;
	enum bw_sel_type type;
	bool has_value;
} selector_names[] = {
	{ "exe", BW_SEL_EXE, true },       { "uid", BW_SEL_UID, true },
	{ "gid", BW_SEL_GID, true },       { "cgroup", BW_SEL_CGROUP, true },
	{ "parent", BW_SEL_PARENT, true }, { "level", BW_SEL_LEVEL, true },
	{ "trusted", BW_SEL_TRUSTED, false },
};

static const char *const option_names[] = { "log", "quiet", "audit", "enforce", "tag",
					     "sticky", "signals" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *bw_op_name(enum bw_op op)
{
	return (unsigned)op < BW_OP_COUNT && op_names[op] ? op_names[op] : "unknown";
}

const char *bw_verdict_name(enum bw_verdict v)
{
	return (unsigned)v <= BW_VERDICT_MAX ? verdict_names[v] : "unknown";
}

const char *bw_action_name(enum bw_action a)
{
	return (unsigned)a <= BW_ACTION_MAX ? action_names[a] : "unknown";
}

int bw_op_from_name(const char *name)
{
	for (int i = 1; i < BW_OP_COUNT; i++)
		if (op_names[i] && strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

/* Edit distance, for "did you mean" hints. Words are short. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned best_d = 3; /* suggest only close misspellings */

	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!cands[i])
			continue;
		d = edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

/*
 * Lockdown reasons by bulwark id (abi.h): the kernel's names without
 * LOCKDOWN_, in lower case with dashes. Ids below FIRST_CONFIDENTIALITY
 * protect the kernel's integrity; the rest keep its memory confidential,
 * as the kernel's own lockdown=integrity|confidentiality splits them.
 */
#define BW_LOCKDOWN_FIRST_CONFIDENTIALITY 21
static const char *const lockdown_names[BW_LOCKDOWN_IDS] = {
	[1] = "module-signature",  [2] = "dev-mem",	      [3] = "efi-test",
	[4] = "kexec",		   [5] = "hibernation",	      [6] = "pci-access",
	[7] = "ioport",		   [8] = "msr",		      [9] = "acpi-tables",
	[10] = "device-tree",	   [11] = "pcmcia-cis",	      [12] = "tiocsserial",
	[13] = "module-parameters", [14] = "mmiotrace",	      [15] = "debugfs",
	[16] = "xmon-wr",	   [17] = "bpf-write-user",   [18] = "dbg-write-kernel",
	[19] = "rtas-error-injection", [20] = "xen-user-actions",
	[21] = "kcore",		   [22] = "kprobes",	      [23] = "bpf-read-kernel",
	[24] = "dbg-read-kernel",  [25] = "perf",	      [26] = "tracefs",
	[27] = "xmon-rw",	   [28] = "xfrm-secret",
	[BW_LOCKDOWN_OTHER_INTEGRITY] = "other-integrity",
	[BW_LOCKDOWN_OTHER_CONFIDENTIALITY] = "other-confidentiality",
};

const char *bw_lockdown_name(unsigned id)
{
	return id < BW_LOCKDOWN_IDS ? lockdown_names[id] : NULL;
}

uint64_t bw_lockdown_set(const char *name)
{
	uint64_t set = 0;

	for (unsigned id = 1; id < BW_LOCKDOWN_IDS; id++) {
		bool conf = id >= BW_LOCKDOWN_FIRST_CONFIDENTIALITY &&
			    id != BW_LOCKDOWN_OTHER_INTEGRITY;

		if (!lockdown_names[id])
			continue;
		if (strcmp(name, "any") == 0 || strcmp(name, lockdown_names[id]) == 0 ||
		    strcmp(name, conf ? "confidentiality" : "integrity") == 0)
			set |= 1ull << id;
	}
	/* The catch-alls are reached through their group only. */
	if (strncmp(name, "other-", 6) == 0)
		set = 0;
	return set;
}

unsigned bw_lockdown_from_kernel(const char *kname, bool confidentiality)
{
	char name[64];
	size_t i;

	if (strncmp(kname, "LOCKDOWN_", 9) == 0)
		kname += 9;
	for (i = 0; kname[i] && i + 1 < sizeof(name); i++)
		name[i] = kname[i] == '_' ? '-' : (char)tolower((unsigned char)kname[i]);
	name[i] = 0;
	for (unsigned id = 1; id < BW_LOCKDOWN_OTHER_INTEGRITY; id++)
		if (lockdown_names[id] && strcmp(name, lockdown_names[id]) == 0)
			return id;
	return confidentiality ? BW_LOCKDOWN_OTHER_CONFIDENTIALITY : BW_LOCKDOWN_OTHER_INTEGRITY;
}

/*
 * The sysctls bulwark guards, by bulwark id (the `sysctl` op's arg): those
 * that switch BPF LSM programs off, and those that choose a program the
 * kernel runs as root on a process's behalf. Names are sysctl(8)'s.
 */
static const struct bw_sysctl_def sysctl_defs[BW_SYSCTL_IDS] = {
	[1] = { "kernel.ftrace_enabled", "kernel", "ftrace_enabled", BW_GATE_TAMPER },
	[2] = { "net.core.bpf_jit_enable", "core", "bpf_jit_enable", BW_GATE_TAMPER },
	[3] = { "kernel.core_pattern", "kernel", "core_pattern", BW_GATE_HELPER },
	[4] = { "kernel.modprobe", "kernel", "modprobe", BW_GATE_HELPER },
	[5] = { "kernel.poweroff_cmd", "kernel", "poweroff_cmd", BW_GATE_HELPER },
	[6] = { "kernel.hotplug", "kernel", "hotplug", BW_GATE_HELPER },
	[7] = { "kernel.usermodehelper.bset", "usermodehelper", "bset", BW_GATE_HELPER },
	[8] = { "kernel.usermodehelper.inheritable", "usermodehelper", "inheritable",
		BW_GATE_HELPER },
};

const struct bw_sysctl_def *bw_sysctl_def(unsigned id)
{
	return id < BW_SYSCTL_IDS && sysctl_defs[id].name ? &sysctl_defs[id] : NULL;
}

/* The gate's built-in decisions (abi.h enum bw_gate), as events and explain name them. */
static const struct {
	const char *name, *text;
} gates[] = {
	[BW_GATE_PRCTL_EXE - BW_GATE_FIRST] = {
		"prctl-exe", "built-in: no prctl(PR_SET_MM_EXE_FILE/MAP) while a policy names programs" },
	[BW_GATE_TAMPER - BW_GATE_FIRST] = {
		"tamper", "built-in: no write to a sysctl that switches BPF LSM off while a policy is in force" },
	[BW_GATE_HELPER - BW_GATE_FIRST] = {
		"helper", "built-in: a process under the no-children mark cannot choose what the kernel spawns" },
	[BW_GATE_PROTECT - BW_GATE_FIRST] = {
		"protect", "built-in: a subject below the protection level of the process or file it acts on" },
};

static const char *const level_names[BW_LEVEL_MAX + 1] = {
	[BW_LEVEL_NONE] = "none", [BW_LEVEL_VENDOR] = "vendor",
	[BW_LEVEL_ANTIMALWARE] = "antimalware", [BW_LEVEL_SYSTEM] = "system",
};

const char *bw_level_name(unsigned level)
{
	return level <= BW_LEVEL_MAX ? level_names[level] : "unknown";
}

int bw_level_from_name(const char *name)
{
	for (unsigned i = 0; i <= BW_LEVEL_MAX; i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *bw_gate_name(uint32_t id)
{
	if (id < BW_GATE_FIRST || id > BW_GATE_LAST)
		return NULL;
	return gates[id - BW_GATE_FIRST].name;
}

const char *bw_gate_text(uint32_t id)
{
	if (id < BW_GATE_FIRST || id > BW_GATE_LAST)
		return NULL;
	return gates[id - BW_GATE_FIRST].text;
}

/* `any`, one sysctl, or a group: `tamper` (switches bulwark off) or `helper`. */
uint64_t bw_sysctl_set(const char *name)
{
	uint64_t set = 0;

	for (unsigned id = 1; id < BW_SYSCTL_IDS; id++) {
		const struct bw_sysctl_def *def = &sysctl_defs[id];

		if (!def->name)
			continue;
		if (strcmp(name, "any") == 0 || strcmp(name, def->name) == 0 ||
		    (strcmp(name, "tamper") == 0 && def->gate == BW_GATE_TAMPER) ||
		    (strcmp(name, "helper") == 0 && def->gate == BW_GATE_HELPER))
			set |= 1ull << id;
	}
	return set;
}

/* A hint: the closest known word if there is one, else what is allowed. */
static void suggest(char *hint, size_t len, const char *best, const char *otherwise)
{
	if (best)
		snprintf(hint, len, "did you mean '%s'?", best);
	else
		snprintf(hint, len, "%s", otherwise);
}

struct bw_policy *bw_policy_new(void)
{
	struct bw_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->hash_state = malloc(sizeof(crypto_hash_sha256_state));
	if (!p->hash_state || sodium_init() < 0) {
		free(p->hash_state);
		free(p);
		return NULL;
	}
	crypto_hash_sha256_init(p->hash_state);
	return p;
}

void bw_policy_free(struct bw_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_rules; i++) {
		struct bw_rule *r = &p->rules[i];

		for (size_t j = 0; j < r->n_subjects; j++)
			free(r->subjects[j].value);
		free(r->subjects);
		for (size_t j = 0; j < r->n_targets; j++)
			free(r->targets[j].value);
		free(r->targets);
		free(r->path);
		free(r->tag);
		free(r->text);
		free(r->line);
	}
	free(p->rules);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	for (size_t i = 0; i < p->n_diags; i++) {
		free(p->diags[i].msg);
		free(p->diags[i].hint);
		free(p->diags[i].line_text);
	}
	free(p->diags);
	free(p->hash_state);
	free(p);
}

void bw_policy_oom(struct bw_policy *p)
{
	/* Counted as an error too, so that no caller mistakes the policy for a usable one. */
	if (!p->oom)
		p->n_errors++;
	p->oom = true;
}

void bw_policy_diag(struct bw_policy *p, enum bw_severity sev, const struct bw_loc *loc,
		    const char *line_text, const char *hint, const char *fmt, ...)
{
	struct bw_diag *d, *grown;
	va_list ap;

	grown = realloc(p->diags, (p->n_diags + 1) * sizeof(*p->diags));
	if (!grown) {
		bw_policy_oom(p);
		return;
	}
	p->diags = grown;
	d = &p->diags[p->n_diags];
	memset(d, 0, sizeof(*d));
	d->sev = sev;
	if (loc)
		d->loc = *loc;
	va_start(ap, fmt);
	if (vasprintf(&d->msg, fmt, ap) < 0)
		d->msg = NULL;
	va_end(ap);
	d->hint = hint ? strdup(hint) : NULL;
	if (!line_text && loc)
		line_text = loc->text;
	d->line_text = line_text ? strdup(line_text) : NULL;
	if (!d->msg || (hint && !d->hint) || (line_text && !d->line_text)) {
		free(d->msg);
		free(d->hint);
		free(d->line_text);
		bw_policy_oom(p);
		return;
	}
	p->n_diags++;
	if (sev == BW_SEV_ERROR)
		p->n_errors++;
	else
		p->n_warnings++;
}

void bw_policy_print_diags(const struct bw_policy *p, FILE *out)
{
	if (p->oom)
		fputs("error: out of memory (diagnostics may be missing)\n", out);
	for (size_t i = 0; i < p->n_diags; i++) {
		const struct bw_diag *d = &p->diags[i];
		const char *sev = d->sev == BW_SEV_ERROR ? "error" : "warning";

		if (d->loc.file && d->loc.line)
			fprintf(out, "%s:%u:%u: %s: %s\n", d->loc.file, d->loc.line, d->loc.col, sev,
				d->msg);
		else if (d->loc.file)
			fprintf(out, "%s: %s: %s\n", d->loc.file, sev, d->msg);
		else
			fprintf(out, "%s: %s\n", sev, d->msg);
		if (d->line_text && d->loc.col) {
			fprintf(out, "%5u | %s\n      | ", d->loc.line, d->line_text);
			for (unsigned c = 1; c < d->loc.col; c++)
				fputc(d->line_text[c - 1] == '\t' ? '\t' : ' ', out);
			fputs("^\n", out);
		}
		if (d->hint)
			fprintf(out, "hint: %s\n", d->hint);
	}
}

static void line_error(struct line_ctx *lc, unsigned col, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line_error(struct line_ctx *lc, unsigned col, const char *hint, const char *fmt, ...)
{
	struct bw_loc loc = { .file = lc->file, .line = lc->line, .col = col };
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		va_end(ap);
		bw_policy_oom(lc->p);
		return;
	}
	va_end(ap);
	bw_policy_diag(lc->p, BW_SEV_ERROR, &loc, lc->raw, hint, "%s", msg);
	free(msg);
}

static void free_tokens(struct line_ctx *lc)
{
	for (size_t i = 0; i < lc->n; i++)
		free(lc->tok[i].text);
	lc->n = 0;
}

/*
 * Split a line into words. '#' starts a comment where a word could start.
 * Double quotes allow spaces and '#'; inside them \" and \\ are escapes.
 */
static int tokenize(struct line_ctx *lc)
{
	const char *s = lc->raw;
	size_t i = 0, len = strlen(s);

	while (i < len) {
		struct token *t;
		char *out;
		size_t o = 0;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i >= len || s[i] == '#')
			break;
		if (lc->n == TOKENS_MAX) {
			line_error(lc, i + 1, "split the statement or remove words", "too many words (at most %d)",
				   TOKENS_MAX);
			return -1;
		}
		t = &lc->tok[lc->n];
		t->col = i + 1;
		t->quoted = s[i] == '"';
		out = malloc(len - i + 1);
		if (!out) {
			bw_policy_oom(lc->p);
			return -1;
		}
		if (t->quoted) {
			bool closed = false;

			for (i++; i < len; i++) {
				if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
					out[o++] = s[++i];
				} else if (s[i] == '"') {
					closed = true;
					i++;
					break;
				} else {
					out[o++] = s[i];
				}
			}
			if (!closed) {
				free(out);
				line_error(lc, t->col, "add the closing '\"'", "unterminated string");
				return -1;
			}
			if (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '#') {
				free(out);
				line_error(lc, i + 1, "put a space after the closing quote",
					   "unexpected character after string");
				return -1;
			}
		} else {
			while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
				out[o++] = s[i++];
		}
		out[o] = 0;
		t->text = out;
		lc->n++;
	}
	return 0;
}

static struct bw_rule *new_rule(struct bw_policy *p)
{
	struct bw_rule *r;

	if (p->n_rules == p->cap_rules) {
		size_t cap = p->cap_rules ? p->cap_rules * 2 : 64;
		struct bw_rule *grown = realloc(p->rules, cap * sizeof(*grown));

		if (!grown) {
			bw_policy_oom(p);
			return NULL;
		}
		p->rules = grown;
		p->cap_rules = cap;
	}
	r = &p->rules[p->n_rules++];
	memset(r, 0, sizeof(*r));
	r->id = p->n_rules;
	return r;
}

/* Paths are compared by identity later, but their text must be canonical. */
static int check_path(struct line_ctx *lc, const struct token *t, const char *path)
{
	const char *wild = strpbrk(path, "*?[");
	size_t len = strlen(path);

	if (path[0] != '/') {
		line_error(lc, t->col, "paths are absolute, e.g. /usr/bin/curl or /opt/app/**",
			   "expected an absolute path, a tree `/dir/**` or `any`, got '%s'", path);
		return -1;
	}
	if (wild) {
		line_error(lc, t->col + (t->quoted ? 1 : 0) + (unsigned)(wild - path),
			   "only a trailing /** is supported: write /dir/** for a whole tree",
			   "wildcard in path");
		return -1;
	}
	if (len >= PATH_MAX) {
		line_error(lc, t->col, NULL, "path is longer than %d bytes", PATH_MAX - 1);
		return -1;
	}
	if (strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../") ||
	    (len >= 2 && strcmp(path + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0)) {
		line_error(lc, t->col, "write the path without '//', '.' or '..' components",
			   "path is not canonical");
		return -1;
	}
	if (len > 1 && path[len - 1] == '/') {
		line_error(lc, t->col + (unsigned)len - 1,
			   "a rule names one file; for a whole directory write /dir/**",
			   "trailing '/' in path");
		return -1;
	}
	return 0;
}

/*
 * The object of a lockdown or sysctl rule: one kernel object by name, a
 * group of them, or `any`. Both are sets of bulwark ids (r->reasons).
 */
static int parse_reason(struct line_ctx *lc, struct bw_rule *r, const struct token *t)
{
	bool sysctl = r->op == BW_OP_SYSCTL;
	const char *w = t->text, *what = sysctl ? "sysctl" : "lockdown reason";
	const char *names[BW_LOCKDOWN_IDS] = { 0 };
	uint64_t set = sysctl ? bw_sysctl_set(w) : bw_lockdown_set(w);
	char hint[160];
	const char *best;

	r->reasons = t->quoted ? 0 : set;
	if (r->reasons) {
		r->obj = strcmp(w, "any") == 0 ? BW_OBJ_TYPE_ANY : BW_OBJ_TYPE_REASON;
		r->path = strdup(w);
		if (!r->path) {
			bw_policy_oom(lc->p);
			return -1;
		}
		return 0;
	}
	if (t->quoted && set) {
		line_error(lc, t->col, "write the name as a bare word, without quotes",
			   "a %s is a word, not a quoted string", what);
		return -1;
	}
	for (unsigned id = 1; id < BW_LOCKDOWN_IDS; id++)
		names[id] = sysctl ? (id < BW_SYSCTL_IDS ? sysctl_defs[id].name : NULL) :
				     lockdown_names[id];
	best = closest(w, names, BW_LOCKDOWN_IDS);
	if (!best)
		best = sysctl ? closest(w, (const char *const[]){ "tamper", "helper" }, 2) :
				closest(w, (const char *const[]){ "integrity", "confidentiality" }, 2);
	if (best && strncmp(best, "other-", 6) == 0)
		best = NULL; /* the catch-alls are not written in policies */
	suggest(hint, sizeof(hint), best,
		sysctl ? "a guarded sysctl such as kernel.core_pattern, `tamper`, `helper` or `any`" :
			 "a reason such as dev-mem or kcore, `integrity`, `confidentiality` or `any`");
	line_error(lc, t->col, hint, "unknown %s '%s'", what, w);
	return -1;
}

/*
 * The trust objects of exec and load (image-load control): `trusted`,
 * `untrusted`, and a file's content by hash, `sha256:` and 64 hex digits.
 */
#define BW_SHA256_HINT "a SHA-256 is 64 hex digits, as `sha256sum FILE` or `bulwark trust list` prints it"

static int parse_trust_object(struct line_ctx *lc, struct bw_rule *r, const struct token *t)
{
	const char *w = t->text;

	if (r->op != BW_OP_EXEC && r->op != BW_OP_LOAD) {
		line_error(lc, t->col, "e.g. `deny exec untrusted` or `deny load sha256:<64 hex digits>`",
			   "'%.*s' is an object of exec and load only", strncmp(w, "sha256:", 7) == 0 ? 7 : 9,
			   w);
		return -1;
	}
	if (strcmp(w, "trusted") == 0 || strcmp(w, "untrusted") == 0) {
		r->obj = w[0] == 't' ? BW_OBJ_TYPE_TRUSTED : BW_OBJ_TYPE_UNTRUSTED;
		r->path = strdup(w);
		if (!r->path) {
			bw_policy_oom(lc->p);
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < 64; i++) {
		char c = w[7 + i];

		if (!c) {
			line_error(lc, t->col + 7 + (unsigned)i, BW_SHA256_HINT,
				   "sha256 is too short: %zu hex digits, expected 64", i);
			return -1;
		}
		if (!isxdigit((unsigned char)c)) {
			line_error(lc, t->col + 7 + (unsigned)i, BW_SHA256_HINT,
				   "invalid hex digit '%c' in sha256", c);
			return -1;
		}
		r->sha256[i / 2] = (uint8_t)(r->sha256[i / 2] << 4 |
					     (isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10)));
	}
	if (w[71]) {
		line_error(lc, t->col + 71, BW_SHA256_HINT, "sha256 is too long: expected 64 hex digits");
		return -1;
	}
	r->obj = BW_OBJ_TYPE_HASH;
	r->path = strdup(w);
	if (!r->path) {
		bw_policy_oom(lc->p);
		return -1;
	}
	for (char *c = r->path + 7; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

static int parse_object(struct line_ctx *lc, struct bw_rule *r, const struct token *t)
{
	char *path = t->text;
	size_t len = strlen(path);

	r->obj_loc = (struct bw_loc){ .file = lc->file, .line = lc->line, .col = t->col };
	if (r->op == BW_OP_LOCKDOWN || r->op == BW_OP_SYSCTL)
		return parse_reason(lc, r, t);
	if (!t->quoted && (strcmp(path, "trusted") == 0 || strcmp(path, "untrusted") == 0 ||
			   strncmp(path, "sha256:", 7) == 0))
		return parse_trust_object(lc, r, t);
	if (!t->quoted && strcmp(path, "any") == 0) {
		r->obj = BW_OBJ_TYPE_ANY;
		return 0;
	}
	if (r->op == BW_OP_BPF) {
		line_error(lc, t->col, "e.g. `allow bpf any from exe=/usr/lib/systemd/systemd`",
			   "the object of 'bpf' is `any`: rules say who may load programs");
		return -1;
	}
	if (r->op == BW_OP_WX || r->op == BW_OP_ANON_EXEC || r->op == BW_OP_MEMFD_EXEC) {
		line_error(lc, t->col, "e.g. `allow anon-exec any from exe=/usr/bin/node` for a JIT",
			   "the object of '%s' is `any`: rules say which programs may", bw_op_name(r->op));
		return -1;
	}
	if (len >= 3 && strcmp(path + len - 3, "/**") == 0) {
		char *dir = strndup(path, len == 3 ? 1 : len - 3);

		if (!dir) {
			bw_policy_oom(lc->p);
			return -1;
		}
		if (check_path(lc, t, dir) < 0) {
			free(dir);
			return -1;
		}
		r->obj = BW_OBJ_TYPE_TREE;
		r->path = dir;
		return 0;
	}
	if (check_path(lc, t, path) < 0)
		return -1;
	r->obj = BW_OBJ_TYPE_PATH;
	r->path = strdup(path);
	if (!r->path) {
		bw_policy_oom(lc->p);
		return -1;
	}
	return 0;
}

/* A user or group: a number, or a name resolved when the policy compiles. */
static bool valid_id_text(const char *v)
{
	if (isdigit((unsigned char)v[0])) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		return !*end && !errno && n < 4294967295ull;
	}
	if (!(isalpha((unsigned char)v[0]) || v[0] == '_'))
		return false;
	for (const char *c = v + 1; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-' || *c == '.' ||
		      (*c == '$' && !c[1])))
			return false;
	return true;
}

/* Check a selector's value; trees are stored as their directory. */
static int check_selector_value(struct line_ctx *lc, struct bw_selector *s)
{
	struct token vt = { .text = s->value, .col = s->value_col };
	size_t len = strlen(s->value);

	switch (s->type) {
	case BW_SEL_EXE:
	case BW_SEL_PARENT:
		if (len >= 3 && strcmp(s->value + len - 3, "/**") == 0) {
			s->value[len == 3 ? 1 : len - 3] = 0;
			s->tree = true;
		}
		if (s->value[0] != '/') {
			line_error(lc, vt.col, "name the program by its absolute path, e.g. exe=/usr/sbin/nginx",
				   "program path must be absolute");
			return -1;
		}
		return check_path(lc, &vt, s->value);
	case BW_SEL_CGROUP:
		if (len >= 3 && strcmp(s->value + len - 3, "/**") == 0) {
			line_error(lc, vt.col + (unsigned)len - 3,
				   "cgroup=PATH already covers every cgroup below PATH",
				   "'/**' is implied for cgroups");
			return -1;
		}
		if (s->value[0] != '/') {
			line_error(lc, vt.col,
				   "write the path below the cgroup2 mount, e.g. cgroup=/system.slice/nginx.service",
				   "cgroup path must start with '/'");
			return -1;
		}
		return check_path(lc, &vt, s->value);
	case BW_SEL_UID:
	case BW_SEL_GID:
		if (!valid_id_text(s->value)) {
			line_error(lc, vt.col, "write a number or a name, e.g. uid=33 or uid=www-data",
				   "invalid %s '%s'", s->type == BW_SEL_UID ? "user" : "group", s->value);
			return -1;
		}
		return 0;
	case BW_SEL_LEVEL:
	case BW_SEL_TRUSTED:
		return 0;
	}
	return 0;
}

static int parse_selector(struct line_ctx *lc, struct bw_rule *r, struct bw_selector **list,
			  size_t *n, const struct token *t)
{
	const char *eq = strchr(t->text, '=');
	size_t klen = eq ? (size_t)(eq - t->text) : strlen(t->text);
	struct bw_selector *grown, *s;

	for (size_t i = 0; i < ARRAY_SIZE(selector_names); i++) {
		if (strlen(selector_names[i].name) != klen ||
		    strncmp(selector_names[i].name, t->text, klen) != 0)
			continue;
		if (selector_names[i].has_value && (!eq || !eq[1])) {
			line_error(lc, t->col, "write it as key=value, e.g. exe=/usr/sbin/nginx",
				   "selector '%.*s' needs a value", (int)klen, t->text);
			return -1;
		}
		if (!selector_names[i].has_value && eq) {
			line_error(lc, t->col, NULL, "selector '%.*s' takes no value", (int)klen, t->text);
			return -1;
		}
		for (size_t j = 0; j < *n; j++) {
			if ((*list)[j].type != selector_names[i].type)
				continue;
			line_error(lc, t->col,
				   "a rule's subject names each selector once, and all must match; write one rule per alternative",
				   "selector '%s' given twice", selector_names[i].name);
			return -1;
		}
		grown = realloc(*list, (*n + 1) * sizeof(*grown));
		if (!grown) {
			bw_policy_oom(lc->p);
			return -1;
		}
		*list = grown;
		s = &(*list)[(*n)++];
		memset(s, 0, sizeof(*s));
		s->type = selector_names[i].type;
		s->value = eq ? strdup(eq + 1) : NULL;
		if (eq && !s->value) {
			bw_policy_oom(lc->p);
			return -1;
		}
		s->loc = (struct bw_loc){ .file = lc->file, .line = lc->line, .col = t->col, .text = r->line };
		s->value_col = t->col + (unsigned)klen + 1;
		return s->value ? check_selector_value(lc, s) : 0;
	}
	{
		const char *names[ARRAY_SIZE(selector_names)];
		char key[64] = "", hint[128];
		const char *best;

		for (size_t i = 0; i < ARRAY_SIZE(selector_names); i++)
			names[i] = selector_names[i].name;
		snprintf(key, sizeof(key), "%.*s", (int)klen, t->text);
		best = closest(key, names, ARRAY_SIZE(names));
		suggest(hint, sizeof(hint), best,
			"selectors are exe=, uid=, gid=, cgroup=, parent=, level= and trusted");
		line_error(lc, t->col, hint, "unknown selector '%s'", key);
	}
	return -1;
}

/* One signal by number (0-64) or name (KILL, SIGKILL, kill). */
static int signal_number(const char *w)
{
	char *end;
	long n;

	if (isdigit((unsigned char)w[0])) {
		n = strtol(w, &end, 10);
		return !*end && n >= 0 && n <= BW_SIGNAL_MAX ? (int)n : -1;
	}
	if (strncasecmp(w, "SIG", 3) == 0)
		w += 3;
	for (int i = 1; i <= BW_SIGNAL_MAX; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && strcasecmp(abbrev, w) == 0)
			return i;
	}
	return -1;
}

/* signals=HUP,USR1,15: the set a `signal` rule is about. */
static int parse_signals(struct line_ctx *lc, struct bw_rule *r, const struct token *t)
{
	char *list = strdup(t->text + 8), *save = NULL;
	unsigned col = t->col + 8;
	int rc = 0;

	if (!list) {
		bw_policy_oom(lc->p);
		return -1;
	}
	if (r->op != BW_OP_SIGNAL) {
		line_error(lc, t->col, "signal sets belong to `signal` rules", "'signals=' needs the signal operation");
		rc = -1;
	} else if (!list[0]) {
		line_error(lc, t->col, "e.g. signals=KILL,TERM,STOP", "'signals=' needs a list");
		rc = -1;
	}
	for (char *w = rc ? NULL : strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int n = signal_number(w);

		if (n < 0) {
			line_error(lc, col + (unsigned)(w - list),
				   "signals are names (KILL, SIGTERM, hup) or numbers from 0 to 64",
				   "unknown signal '%s'", w);
			rc = -1;
			break;
		}
		r->signals[n / 64] |= 1ull << (n % 64);
	}
	free(list);
	return rc;
}

static int parse_option(struct line_ctx *lc, struct bw_rule *r, const struct token *t)
{
	const char *w = t->text;

	if (strcmp(w, "log") == 0 || strcmp(w, "quiet") == 0) {
		unsigned flag = w[0] == 'l' ? BW_RULE_LOG : BW_RULE_QUIET;
		unsigned other = flag == BW_RULE_LOG ? BW_RULE_QUIET : BW_RULE_LOG;

		if (r->flags & other) {
			line_error(lc, t->col, "keep one of them", "'log' and 'quiet' contradict each other");
			return -1;
		}
		r->flags |= flag;
		return 0;
	}
	if (strcmp(w, "audit") == 0) {
		r->flags |= BW_RULE_AUDIT;
		return 0;
	}
	if (strcmp(w, "enforce") == 0) {
		/* The default; accepted so a rule can say so explicitly. */
		if (r->flags & BW_RULE_AUDIT) {
			line_error(lc, t->col, "keep one of them", "'audit' and 'enforce' contradict each other");
			return -1;
		}
		return 0;
	}
	if (strcmp(w, "sticky") == 0) {
		if (r->op != BW_OP_FORK || r->decision != BW_VERDICT_DENY) {
			line_error(lc, t->col, "e.g. `deny fork any from exe=/usr/sbin/nginx with sticky`",
				   "'sticky' applies to `deny fork` rules only");
			return -1;
		}
		r->flags |= BW_RULE_STICKY;
		return 0;
	}
	if (strncmp(w, "signals=", 8) == 0)
		return parse_signals(lc, r, t);
	if (strncmp(w, "tag=", 4) == 0) {
		if (!w[4]) {
			line_error(lc, t->col, "e.g. tag=webserver", "tag needs a name");
			return -1;
		}
		free(r->tag);
		r->tag = strdup(w + 4);
		if (!r->tag) {
			bw_policy_oom(lc->p);
			return -1;
		}
		return 0;
	}
	{
		const char *best = closest(w, option_names, ARRAY_SIZE(option_names));
		char hint[96];

		suggest(hint, sizeof(hint), best,
			"options are log, quiet, audit, enforce, tag=NAME, sticky and signals=LIST");
		line_error(lc, t->col, hint, "unknown option '%s'", w);
	}
	return -1;
}

/* Trim the comment and surrounding blanks: what events quote as the rule. */
static char *statement_text(const struct line_ctx *lc)
{
	const struct token *last = &lc->tok[lc->n - 1];
	const char *start = lc->raw + lc->tok[0].col - 1;
	const char *end = lc->raw + last->col - 1;

	/* Advance over the last token as written (quotes included). */
	if (last->quoted) {
		end++;
		while (*end && *end != '"')
			end += (*end == '\\' && end[1]) ? 2 : 1;
		if (*end)
			end++;
	} else {
		while (*end && *end != ' ' && *end != '\t' && *end != '\r')
			end++;
	}
	return strndup(start, end - start);
}

bool bw_op_targets_process(enum bw_op op)
{
	switch (op) {
	case BW_OP_FORK:
	case BW_OP_THREAD:
	case BW_OP_READ:
	case BW_OP_WRITE:
	case BW_OP_SIGNAL:
	case BW_OP_CONTROL:
		return true;
	default:
		return false;
	}
}

static bool is_keyword(const struct token *t, const char *w)
{
	return !t->quoted && strcmp(t->text, w) == 0;
}

/*
 * The object of a process operation: `any`, or the target's selectors up
 * to `from`/`with` (all must match). fork and thread create a copy of
 * the subject, so their only object is `any`.
 */
static int parse_target(struct line_ctx *lc, struct bw_rule *r, size_t *i)
{
	const struct token *t = &lc->tok[2];
	const char *op = bw_op_name(r->op);

	r->obj_loc = (struct bw_loc){ .file = lc->file, .line = lc->line, .col = t->col };
	r->obj = BW_OBJ_TYPE_ANY;
	*i = 3;
	if (is_keyword(t, "any"))
		return 0;
	if (r->op == BW_OP_FORK || r->op == BW_OP_THREAD) {
		line_error(lc, t->col, "e.g. `deny fork any from exe=/usr/sbin/nginx`",
			   "'%s' creates a copy of its subject: its object is `any`", op);
		return -1;
	}
	if (t->text[0] == '/' || t->quoted) {
		line_error(lc, t->col, "name the target with selectors, e.g. exe=/opt/agent/bin/agent, or `any`",
			   "the object of '%s' is a process, not a file", op);
		return -1;
	}
	for (*i = 2; *i < lc->n && !is_keyword(&lc->tok[*i], "from") && !is_keyword(&lc->tok[*i], "as") &&
		     !is_keyword(&lc->tok[*i], "with");
	     (*i)++)
		if (parse_selector(lc, r, &r->targets, &r->n_targets, &lc->tok[*i]) < 0)
			return -1;
	return 0;
}

/* A new rule for this line's statement, or NULL (with a diagnostic) past the rule limit. */
static struct bw_rule *statement_rule(struct line_ctx *lc, enum bw_verdict decision, enum bw_op op)
{
	struct bw_rule *r;

	if (lc->p->n_rules >= BW_RULES_MAX) {
		line_error(lc, lc->tok[0].col, "split the policy or use tree rules",
			   "too many rules (the limit is %u)", BW_RULES_MAX);
		return NULL;
	}
	r = new_rule(lc->p);
	if (!r)
		return NULL;
	r->decision = decision;
	r->op = op;
	r->loc = (struct bw_loc){ .file = lc->file, .line = lc->line, .col = lc->tok[0].col };
	r->text = statement_text(lc);
	r->line = strdup(lc->raw);
	if (!r->text || !r->line) {
		/* Not half a rule in the table: the compiler must never see it. */
		free(r->text);
		free(r->line);
		lc->p->n_rules--;
		bw_policy_oom(lc->p);
		return NULL;
	}
	r->loc.text = r->line;
	return r;
}

static void parse_rule(struct line_ctx *lc, enum bw_verdict decision)
{
	struct bw_policy *p = lc->p;
	struct bw_rule *r;
	size_t i = 1;
	int op;

	if (lc->n < 2) {
		line_error(lc, lc->tok[0].col + strlen(lc->tok[0].text), "e.g. `deny exec /usr/bin/nc`",
			   "expected an operation after '%s'", lc->tok[0].text);
		return;
	}
	op = lc->tok[1].quoted ? -1 : bw_op_from_name(lc->tok[1].text);
	if (op < 0) {
		const char *best = closest(lc->tok[1].text, op_names, BW_OP_COUNT);
		char hint[96];

		suggest(hint, sizeof(hint), best,
			"see docs/policy.md for the list of operations");
		line_error(lc, lc->tok[1].col, hint, "unknown operation '%s'", lc->tok[1].text);
		return;
	}
	if (lc->n < 3) {
		line_error(lc, lc->tok[1].col + strlen(lc->tok[1].text),
			   "name a file, a tree `/dir/**`, or `any`", "expected an object after '%s'",
			   lc->tok[1].text);
		return;
	}
	if (op == BW_OP_PROTECT && !lc->query) {
		line_error(lc, lc->tok[0].col, "e.g. `protect /opt/agent/** level=antimalware`",
			   "protection is its own statement: protect <object> level=<level>");
		return;
	}
	r = statement_rule(lc, decision, op);
	if (!r)
		return;
	if (bw_op_targets_process(op)) {
		if (parse_target(lc, r, &i) < 0)
			goto bad;
	} else {
		if (parse_object(lc, r, &lc->tok[2]) < 0)
			goto bad;
		i = 3;
	}
	r->obj_loc.text = r->line;

	if (i < lc->n && !lc->tok[i].quoted &&
	    strcmp(lc->tok[i].text, lc->query ? "as" : "from") == 0) {
		size_t first = ++i;

		while (i < lc->n && !(strcmp(lc->tok[i].text, "with") == 0 && !lc->tok[i].quoted)) {
			if (parse_selector(lc, r, &r->subjects, &r->n_subjects, &lc->tok[i]) < 0)
				goto bad;
			i++;
		}
		if (i == first) {
			line_error(lc, lc->tok[i - 1].col,
				   lc->query ? "e.g. `as exe=/usr/sbin/nginx uid=33`" : "e.g. `from exe=/usr/sbin/nginx`",
				   "'%s' needs at least one selector", lc->tok[i - 1].text);
			goto bad;
		}
	}
	/* A signal query names its signal as a rule would: `with signals=KILL`. */
	if (i < lc->n && (!lc->query || r->op == BW_OP_SIGNAL) && !lc->tok[i].quoted &&
	    strcmp(lc->tok[i].text, "with") == 0) {
		size_t first = ++i;

		for (; i < lc->n; i++)
			if (parse_option(lc, r, &lc->tok[i]) < 0)
				goto bad;
		if (i == first) {
			line_error(lc, lc->tok[i - 1].col, "e.g. `with log` or `with audit`",
				   "'with' needs at least one option");
			goto bad;
		}
	}
	if (i < lc->n) {
		line_error(lc, lc->tok[i].col,
			   lc->query ? "e.g. exec /usr/bin/curl as exe=/usr/sbin/nginx uid=33" :
				       "subject selectors follow `from`, options follow `with`; quote paths with spaces",
			   "unexpected '%s'", lc->tok[i].text);
		goto bad;
	}
	return;
bad:
	/* Drop the half-built rule: an invalid policy is never compiled anyway. */
	for (size_t j = 0; j < r->n_subjects; j++)
		free(r->subjects[j].value);
	free(r->subjects);
	for (size_t j = 0; j < r->n_targets; j++)
		free(r->targets[j].value);
	free(r->targets);
	free(r->path);
	free(r->tag);
	free(r->text);
	free(r->line);
	p->n_rules--;
}

/*
 * protect self | protect <file or tree> level=<vendor|antimalware>:
 * the file or tree cannot be changed, and a program in it runs protected,
 * except by subjects at that level or above. `system` is bulwarkd's own
 * level: only `protect self` grants it.
 */
static void parse_protect(struct line_ctx *lc)
{
	struct bw_policy *p = lc->p;
	struct bw_rule *r;
	const char *lv;
	int level;

	if (lc->n < 2) {
		line_error(lc, lc->tok[0].col + 7, "e.g. `protect self` or `protect /opt/agent/** level=antimalware`",
			   "'protect' needs an object");
		return;
	}
	r = statement_rule(lc, BW_VERDICT_DENY, BW_OP_PROTECT);
	if (!r)
		return;
	if (is_keyword(&lc->tok[1], "self")) {
		r->obj = BW_OBJ_TYPE_SELF;
		r->obj_loc = (struct bw_loc){ .file = lc->file, .line = lc->line, .col = lc->tok[1].col,
					      .text = r->line };
		r->level = BW_LEVEL_SYSTEM;
		p->flags |= BW_POLICY_PROTECT_SELF;
		if (lc->n > 2) {
			line_error(lc, lc->tok[2].col, "bulwarkd always runs at level system",
				   "'protect self' takes nothing after it");
			goto bad;
		}
		return;
	}
	if (is_keyword(&lc->tok[1], "any")) {
		line_error(lc, lc->tok[1].col, "name a file or a tree `/dir/**`, or `self`",
			   "the object of 'protect' is a file, a tree or `self`");
		goto bad;
	}
	if (parse_object(lc, r, &lc->tok[1]) < 0)
		goto bad;
	r->obj_loc.text = r->line;
	if (lc->n < 3 || lc->tok[2].quoted || strncmp(lc->tok[2].text, "level=", 6) != 0) {
		line_error(lc, lc->n < 3 ? lc->tok[1].col + strlen(lc->tok[1].text) + 1 : lc->tok[2].col,
			   "levels are vendor and antimalware, e.g. `protect /opt/agent/** level=antimalware`",
			   "'protect' needs a level=");
		goto bad;
	}
	lv = lc->tok[2].text + 6;
	level = bw_level_from_name(lv);
	if (level == BW_LEVEL_SYSTEM) {
		line_error(lc, lc->tok[2].col + 6, "use `protect self` for bulwark's own files",
			   "level 'system' is bulwarkd's own");
		goto bad;
	}
	if (level <= BW_LEVEL_NONE) {
		const char *best = closest(lv, level_names + 1, 2);
		char hint[96];

		suggest(hint, sizeof(hint), best, "levels are vendor and antimalware");
		line_error(lc, lc->tok[2].col + 6, hint, "unknown level '%s'", lv);
		goto bad;
	}
	r->level = (unsigned)level;
	if (lc->n > 3) {
		line_error(lc, lc->tok[3].col, "a `protect` statement is: protect <object> level=<level>",
			   "unexpected '%s'", lc->tok[3].text);
		goto bad;
	}
	return;
bad:
	free(r->path);
	free(r->text);
	free(r->line);
	p->n_rules--;
}

static void parse_mode(struct line_ctx *lc)
{
	struct bw_loc loc = { .file = lc->file, .line = lc->line, .col = lc->tok[0].col };
	struct bw_rule *r;

	if (lc->n != 2 || lc->tok[1].quoted ||
	    (strcmp(lc->tok[1].text, "enforce") != 0 && strcmp(lc->tok[1].text, "audit") != 0)) {
		line_error(lc, lc->n >= 2 ? lc->tok[1].col : lc->tok[0].col + 4,
			   "write `mode enforce` or `mode audit`", "mode must be 'enforce' or 'audit'");
		return;
	}
	if (lc->p->mode_loc.file) {
		char hint[PATH_MAX + 64];

		snprintf(hint, sizeof(hint), "the first is at %s:%u", lc->p->mode_loc.file,
			 lc->p->mode_loc.line);
		line_error(lc, lc->tok[0].col, hint, "mode is set twice");
		return;
	}
	lc->p->mode_loc = loc;
	if (strcmp(lc->tok[1].text, "audit") == 0)
		lc->p->flags |= BW_POLICY_AUDIT;
	/* The mode gets a rule-table entry so events can point at it. */
	r = new_rule(lc->p);
	if (!r)
		return;
	r->op = BW_OP_NONE;
	r->loc = loc;
	r->text = statement_text(lc);
	if (!r->text) {
		lc->p->n_rules--;
		bw_policy_oom(lc->p);
		return;
	}
	lc->p->mode_rule = r->id;
}

static int load_path_at(struct bw_policy *p, const char *path, const struct bw_loc *from,
			const char *from_line);

static void parse_include(struct line_ctx *lc)
{
	struct bw_loc loc = { .file = lc->file, .line = lc->line, .col = lc->tok[0].col };
	char *target = NULL;

	if (lc->n != 2) {
		line_error(lc, lc->n > 2 ? lc->tok[2].col : lc->tok[0].col + 7,
			   "write `include \"file.rules\"` or `include /etc/bulwark/policy.d`",
			   "include takes exactly one path");
		return;
	}
	if (lc->tok[1].text[0] == '/') {
		target = strdup(lc->tok[1].text);
	} else {
		const char *slash = strrchr(lc->file, '/');

		if (asprintf(&target, "%.*s%s", slash ? (int)(slash - lc->file + 1) : 0, lc->file,
			     lc->tok[1].text) < 0)
			target = NULL;
	}
	if (!target) {
		bw_policy_oom(lc->p);
		return;
	}
	if (lc->p->depth >= BW_INCLUDE_DEPTH_MAX) {
		line_error(lc, lc->tok[1].col, "is there an include cycle?",
			   "includes nested deeper than %d", BW_INCLUDE_DEPTH_MAX);
	} else {
		loc.col = lc->tok[1].col;
		load_path_at(lc->p, target, &loc, lc->raw);
	}
	free(target);
}

static struct bw_rule *statement_rule(struct line_ctx *lc, enum bw_verdict decision, enum bw_op op);

/*
 * notify image: an event for every image that runs or is mapped to run,
 * through the decision path itself, so each says what the kernel knew:
 * the file, trusted or not (and its hash), and the decision. It is the
 * rules `allow exec any with log` and `allow load any with log`, written
 * by this statement: anything more specific (a deny, a tree, untrusted)
 * still decides, and is reported as always.
 */
static void notify_images(struct line_ctx *lc, const struct token *t)
{
	static const enum bw_op ops[] = { BW_OP_EXEC, BW_OP_LOAD };

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		struct bw_rule *r = statement_rule(lc, BW_VERDICT_ALLOW, ops[i]);

		if (!r)
			return;
		r->obj = BW_OBJ_TYPE_ANY;
		r->obj_loc = (struct bw_loc){ .file = lc->file, .line = lc->line, .col = t->col };
		r->flags |= BW_RULE_LOG;
	}
}

/*
 * notify exec fork exit thread image: the notifications this policy
 * wants. They are opt-in so that an idle system pays nothing for them.
 */
static void parse_notify(struct line_ctx *lc)
{
	static const char *const words[] = { "exec", "fork", "exit", "thread", "all", "image" };
	static const unsigned flags[] = { BW_POLICY_NOTIFY_EXEC, BW_POLICY_NOTIFY_FORK,
					  BW_POLICY_NOTIFY_EXIT, BW_POLICY_NOTIFY_THREAD,
					  BW_POLICY_NOTIFY_EXEC | BW_POLICY_NOTIFY_FORK |
						  BW_POLICY_NOTIFY_EXIT | BW_POLICY_NOTIFY_THREAD,
					  0 };

	if (lc->n < 2) {
		line_error(lc, lc->tok[0].col + 6, "e.g. `notify exec fork exit`",
			   "'notify' needs at least one of exec, fork, exit, thread, all, image");
		return;
	}
	for (size_t i = 1; i < lc->n; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(words); k++)
			if (!lc->tok[i].quoted && strcmp(lc->tok[i].text, words[k]) == 0)
				break;
		if (k == ARRAY_SIZE(words)) {
			const char *best = closest(lc->tok[i].text, words, ARRAY_SIZE(words));
			char hint[64];

			suggest(hint, sizeof(hint), best, "notifications are exec, fork, exit, thread, all and image");
			line_error(lc, lc->tok[i].col, hint, "unknown notification '%s'", lc->tok[i].text);
			return;
		}
		lc->p->flags |= flags[k];
		if (strcmp(words[k], "image") == 0)
			notify_images(lc, &lc->tok[i]);
	}
}

static const char *const grant_names[] = { "status", "explain", "events", "layer", "trust-sync" };

const char *bw_grant_name(unsigned bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(grant_names); i++)
		if (bit == 1u << i)
			return grant_names[i];
	return "?";
}

/* One operation of a grant's list; 0 after reporting an error. */
static unsigned grant_op(struct line_ctx *lc, const char *w, size_t len, unsigned col)
{
	static const char *const root_only[] = { "policy", "policy-load", "load", "unload", "lock" };
	char word[64], hint[160];
	const char *best;

	snprintf(word, sizeof(word), "%.*s", (int)len, w);
	if (strcmp(word, "all") == 0)
		return BW_GRANT_ALL;
	for (size_t i = 0; i < ARRAY_SIZE(grant_names); i++)
		if (strcmp(word, grant_names[i]) == 0)
			return 1u << i;
	for (size_t i = 0; i < ARRAY_SIZE(root_only); i++)
		if (strcmp(word, root_only[i]) == 0) {
			line_error(lc, col,
				   "they change what the administrator enforces; a grant gives status, explain, events, layer, trust-sync or all",
				   "'%s' is root's alone and cannot be granted", word);
			return 0;
		}
	best = closest(word, grant_names, ARRAY_SIZE(grant_names));
	suggest(hint, sizeof(hint), best, "operations are status, explain, events, layer, trust-sync and all");
	line_error(lc, col, hint, "unknown operation '%s'", word);
	return 0;
}

/*
 * grant <operation>[,<operation>...] from uid=<user> [exe=<program>]:
 * the control socket is root's; this lets one more client identity use
 * some of it. The uid is the kernel's word (SO_PEERCRED); exe narrows it
 * to one program, by the file's identity when it connects. A layer's
 * client can never weaken the policy or another layer (deny wins), so
 * `layer` is safe to give; loading policies, unloading and locking are
 * never grantable.
 */
static void parse_grant(struct line_ctx *lc)
{
	struct bw_rule *r;
	unsigned ops = 0;
	size_t i, from = 0;
	bool uid = false;

	for (i = 1; i < lc->n; i++)
		if (!lc->tok[i].quoted && strcmp(lc->tok[i].text, "from") == 0) {
			from = i;
			break;
		}
	if (lc->n < 2 || from == 1) {
		line_error(lc, lc->tok[0].col + 6, "e.g. `grant status,events,layer from uid=998 exe=/opt/acme/agent`",
			   "'grant' needs the operations it gives");
		return;
	}
	if (!from || from + 1 >= lc->n) {
		line_error(lc, from ? lc->tok[from].col + 5 : lc->tok[lc->n - 1].col + strlen(lc->tok[lc->n - 1].text) + 1,
			   "e.g. `grant status,events from uid=998`", "'grant' needs `from uid=<user>`");
		return;
	}
	r = statement_rule(lc, BW_VERDICT_ALLOW, BW_OP_NONE);
	if (!r)
		return;
	r->obj = BW_OBJ_TYPE_CLIENT;
	for (i = 1; i < from; i++) {
		const char *w = lc->tok[i].text;

		while (*w) {
			size_t len = strcspn(w, ",");
			unsigned bit = len ? grant_op(lc, w, len, lc->tok[i].col + (unsigned)(w - lc->tok[i].text)) : 0;

			if (!bit) {
				if (!len)
					line_error(lc, lc->tok[i].col, "separate operations with one comma",
						   "empty operation in the list");
				goto bad;
			}
			ops |= bit;
			w += len + (w[len] == ',');
		}
	}
	r->reasons = ops;
	for (i = from + 1; i < lc->n; i++) {
		struct bw_selector *s;

		if (parse_selector(lc, r, &r->subjects, &r->n_subjects, &lc->tok[i]) < 0)
			goto bad;
		s = &r->subjects[r->n_subjects - 1];
		if (s->type == BW_SEL_UID) {
			uid = true;
		} else if (s->type != BW_SEL_EXE || s->tree) {
			line_error(lc, lc->tok[i].col, "a client is a uid, and optionally one program file: uid=998 exe=/opt/acme/agent",
				   "a grant's client is named by uid= and exe= only");
			goto bad;
		}
	}
	if (!uid) {
		line_error(lc, lc->tok[from].col + 5, "the kernel vouches for a client's uid: name it, e.g. uid=998",
			   "a grant needs uid=");
		goto bad;
	}
	return;
bad:
	for (i = 0; i < r->n_subjects; i++)
		free(r->subjects[i].value);
	free(r->subjects);
	r->subjects = NULL;
	r->n_subjects = 0;
	free(r->text);
	free(r->line);
	lc->p->n_rules--;
}

static void parse_line(struct line_ctx *lc)
{
	const char *w;

	if (tokenize(lc) < 0 || lc->n == 0)
		return;
	w = lc->tok[0].text;
	if (lc->tok[0].quoted)
		w = "";
	if (strcmp(w, "allow") == 0)
		parse_rule(lc, BW_VERDICT_ALLOW);
	else if (strcmp(w, "deny") == 0)
		parse_rule(lc, BW_VERDICT_DENY);
	else if (strcmp(w, "audit") == 0)
		parse_rule(lc, BW_VERDICT_AUDIT);
	else if (strcmp(w, "mode") == 0)
		parse_mode(lc);
	else if (strcmp(w, "include") == 0)
		parse_include(lc);
	else if (strcmp(w, "notify") == 0)
		parse_notify(lc);
	else if (strcmp(w, "protect") == 0)
		parse_protect(lc);
	else if (strcmp(w, "grant") == 0)
		parse_grant(lc);
	else {
		const char *best = closest(lc->tok[0].text, statement_words, ARRAY_SIZE(statement_words));
		char hint[96];

		suggest(hint, sizeof(hint), best,
			"statements start with allow, deny, audit, mode, include, notify, protect or grant");
		line_error(lc, lc->tok[0].col, hint, "unknown statement '%s'", lc->tok[0].text);
	}
}

static const char *intern_file(struct bw_policy *p, const char *name)
{
	char **grown = realloc(p->files, (p->n_files + 1) * sizeof(*grown));

	if (!grown) {
		bw_policy_oom(p);
		return NULL;
	}
	p->files = grown;
	p->files[p->n_files] = strdup(name);
	if (!p->files[p->n_files]) {
		bw_policy_oom(p);
		return NULL;
	}
	return p->files[p->n_files++];
}

int bw_policy_load_buffer(struct bw_policy *p, const char *name, const char *buf, size_t len)
{
	struct line_ctx lc = { .p = p };
	size_t pos = 0;
	char *line;

	lc.file = intern_file(p, name);
	crypto_hash_sha256_update(p->hash_state, (const unsigned char *)buf, len);
	line = malloc(BW_LINE_MAX + 1);
	if (!lc.file || !line) {
		free(line);
		bw_policy_oom(p);
		return -ENOMEM;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		lc.line++;
		if (l > BW_LINE_MAX) {
			struct bw_loc loc = { .file = lc.file, .line = lc.line, .col = BW_LINE_MAX + 1 };

			bw_policy_diag(p, BW_SEV_ERROR, &loc, NULL, "split the statement",
				       "line is longer than %d bytes", BW_LINE_MAX);
		} else if (memchr(buf + pos, '\0', l)) {
			struct bw_loc loc = {
				.file = lc.file,
				.line = lc.line,
				.col = (unsigned)((const char *)memchr(buf + pos, '\0', l) - (buf + pos)) + 1,
			};

			bw_policy_diag(p, BW_SEV_ERROR, &loc, NULL, "policies are text files",
				       "NUL byte in policy");
		} else {
			memcpy(line, buf + pos, l);
			line[l] = 0;
			lc.raw = line;
			parse_line(&lc);
			free_tokens(&lc);
		}
		pos += l + (nl ? 1 : 0);
	}
	free(line);
	return 0;
}

int bw_policy_parse_query(struct bw_policy *p, const char *text)
{
	struct line_ctx lc = { .p = p, .line = 1, .query = true };
	size_t before = p->n_rules;

	lc.file = intern_file(p, "query");
	if (!lc.file)
		return -ENOMEM;
	if (strlen(text) > BW_LINE_MAX || strchr(text, '\n')) {
		struct bw_loc loc = { .file = lc.file, .line = 1, .col = 1 };

		bw_policy_diag(p, BW_SEV_ERROR, &loc, NULL, NULL, "a query is one line of at most %d bytes",
			       BW_LINE_MAX);
		return -EINVAL;
	}
	lc.raw = text;
	if (tokenize(&lc) < 0) {
		free_tokens(&lc); /* the words before the bad one */
		return -EINVAL;
	}
	if (lc.n == 0 || lc.n >= TOKENS_MAX) {
		struct bw_loc loc = { .file = lc.file, .line = 1, .col = 1 };

		free_tokens(&lc);
		bw_policy_diag(p, BW_SEV_ERROR, &loc, text, "e.g. exec /usr/bin/curl as exe=/usr/sbin/nginx",
			       "a query is `<operation> <file> [as <selector>...]`");
		return -EINVAL;
	}
	/* The same grammar as a rule, with an implied decision in front. */
	memmove(&lc.tok[1], &lc.tok[0], lc.n * sizeof(lc.tok[0]));
	lc.tok[0] = (struct token){ .text = strdup("explain"), .col = 1 };
	lc.n++;
	if (!lc.tok[0].text) {
		free_tokens(&lc);
		bw_policy_oom(p);
		return -ENOMEM;
	}
	parse_rule(&lc, BW_VERDICT_NONE);
	free_tokens(&lc);
	if (p->n_errors || p->n_rules != before + 1)
		return -EINVAL;
	return 0;
}

static int rules_filter(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l > 6 && strcmp(de->d_name + l - 6, ".rules") == 0;
}

static int load_dir(struct bw_policy *p, const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, rules_filter, versionsort);

	if (n < 0)
		return -errno;
	if (n == 0) {
		struct bw_loc loc = { .file = intern_file(p, dir) };

		bw_policy_diag(p, BW_SEV_WARNING, &loc, NULL, "drop-in files must end in .rules",
			       "no *.rules files in directory");
	}
	for (int i = 0; i < n; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
			path = NULL;
			bw_policy_oom(p);
		}
		if (path) {
			p->depth++;
			load_path_at(p, path, NULL, NULL);
			p->depth--;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return 0;
}

/*
 * Read one policy file whole. Only regular files, opened without blocking
 * and bounded: `include /dev/zero` or a FIFO must not hang the daemon.
 * *why says what is wrong when it is not an I/O error.
 */
static int read_file(const char *path, char **ret, size_t *ret_len, const char **why)
{
	size_t cap = 0, len = 0;
	char *buf = NULL;
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "is not a regular file";
		r = -EINVAL;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *grown;

			/* One byte past the limit tells "at most" from "more". */
			if (len > BW_FILE_MAX) {
				*why = "is larger than " BW_FILE_MAX_TEXT;
				r = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > BW_FILE_MAX + 1)
				cap = BW_FILE_MAX + 1;
			grown = realloc(buf, cap);
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

static int load_path_at(struct bw_policy *p, const char *path, const struct bw_loc *from,
			const char *from_line)
{
	const char *why = NULL;
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int r;

	if (stat(path, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		p->depth++;
		r = p->depth > BW_INCLUDE_DEPTH_MAX ? -ELOOP : load_dir(p, path);
		p->depth--;
		if (r < 0)
			goto fail;
		return 0;
	}
	/* Refuse devices before opening them: opening some has effects. */
	if (!S_ISREG(st.st_mode)) {
		why = "is not a regular file";
		r = -EINVAL;
		goto fail;
	}
	r = read_file(path, &buf, &len, &why);
	if (r < 0)
		goto fail;
	p->depth++;
	r = bw_policy_load_buffer(p, path, buf, len);
	p->depth--;
	free(buf);
	return r;
fail:
	if (r == -ENOMEM)
		bw_policy_oom(p);
	if (from) {
		bw_policy_diag(p, BW_SEV_ERROR, from, from_line,
			       r == -EFBIG ? "split it into several files in a directory of *.rules" :
			       why ? "include policy text files or directories of *.rules" : NULL,
			       "cannot read '%s': %s", path, why ? why : strerror(-r));
	} else {
		struct bw_loc loc = { .file = intern_file(p, path) };

		bw_policy_diag(p, BW_SEV_ERROR, &loc, NULL,
			       r == -EFBIG ? "split it into several files in a directory of *.rules" :
			       why ? "a policy is a text file or a directory of *.rules" : NULL,
			       why ? "cannot read policy: it %s" : "cannot read policy: %s",
			       why ? why : strerror(-r));
	}
	return r;
}

int bw_policy_load_path(struct bw_policy *p, const char *path)
{
	int r = load_path_at(p, path, NULL, NULL);

	return r == 0 && p->oom ? -ENOMEM : r;
}

/*
 * May a client layer hold rules of op? Every category the kernel decides
 * by rules; `protect` sets levels, which only the administrator grants.
 */
bool bw_layer_op_ok(enum bw_op op)
{
	return op != BW_OP_NONE && op != BW_OP_PROTECT;
}

int bw_policy_load_layer(struct bw_policy *p, unsigned layer, const char *name, const char *buf,
			 size_t len)
{
	unsigned flags = p->flags, mode_rule = p->mode_rule, errors = p->n_errors;
	size_t n0 = p->n_rules, pos = 0, line = 0;
	const char *file = intern_file(p, name);
	int r;

	if (!file)
		return -ENOMEM;
	/* Statements first: a layer holds rules, never settings or other files. */
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (buf + pos)) : len - pos, i = 0, w;
		const char *t = buf + pos;

		line++;
		while (i < l && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r'))
			i++;
		for (w = i; w < l && t[w] != ' ' && t[w] != '\t' && t[w] != '\r'; w++)
			;
		if (i < l && t[i] != '#' &&
		    !((w - i == 5 && memcmp(t + i, "allow", 5) == 0) ||
		      (w - i == 4 && memcmp(t + i, "deny", 4) == 0) ||
		      (w - i == 5 && memcmp(t + i, "audit", 5) == 0))) {
			struct bw_loc loc = { .file = file, .line = (unsigned)line, .col = (unsigned)i + 1 };
			char *text = l <= BW_LINE_MAX ? strndup(t, l) : NULL;

			bw_policy_diag(p, BW_SEV_ERROR, &loc, text,
				       "mode, include, notify and protect belong to the administrator's policy",
				       "a client layer holds allow, deny and audit rules only");
			free(text);
		}
		pos += l + 1;
	}
	if (p->n_errors != errors)
		return -EINVAL;
	r = bw_policy_load_buffer(p, name, buf, len);
	for (size_t i = n0; i < p->n_rules; i++) {
		struct bw_rule *rule = &p->rules[i];

		rule->layer = layer;
		if (!bw_layer_op_ok(rule->op))
			bw_policy_diag(p, BW_SEV_ERROR, &rule->loc, rule->line,
				       "protection levels are the administrator's to grant: ask for `protect` in the policy",
				       "operation '%s' is decided by the administrator's policy only", bw_op_name(rule->op));
	}
	p->flags = flags;
	p->mode_rule = mode_rule;
	if (r == 0 && p->n_errors != errors)
		r = -EINVAL;
	return r;
}

void bw_policy_finish(struct bw_policy *p)
{
	crypto_hash_sha256_final(p->hash_state, p->sha256);
}
