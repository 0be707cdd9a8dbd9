// SPDX-License-Identifier: LGPL-2.1-or-later
/* Events and rule tables as JSON. json-c does all quoting and escaping. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void bw_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = 0;
}

void bw_dev_string(uint64_t kdev, char *buf, size_t len)
{
	snprintf(buf, len, "%llu:%llu", (unsigned long long)(kdev >> 20),
		 (unsigned long long)(kdev & 0xfffff));
}

/* The index of file in t->files, added if new. */
static int table_file(struct bw_rule_table *t, const char *file, uint32_t *index)
{
	char **grown;

	/* Rules come file by file: the last rule's file first. */
	if (t->n && strcmp(t->files[t->rules[t->n - 1].file], file) == 0) {
		*index = t->rules[t->n - 1].file;
		return 0;
	}
	for (size_t i = 0; i < t->n_files; i++)
		if (strcmp(t->files[i], file) == 0) {
			*index = (uint32_t)i;
			return 0;
		}
	grown = realloc(t->files, (t->n_files + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	t->files = grown;
	grown[t->n_files] = strdup(file);
	if (!grown[t->n_files])
		return -ENOMEM;
	*index = (uint32_t)t->n_files++;
	return 0;
}

int bw_rule_table_add(struct bw_rule_table *t, const char *file, unsigned line, unsigned col,
		      const char *text)
{
	struct bw_rule_slot *slot;
	uint32_t findex, off;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;

		slot = realloc(t->rules, cap * sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		t->rules = slot;
		t->cap = cap;
	}
	if (table_file(t, file, &findex) < 0 || bw_fcode_add(&t->text, text, &off) < 0)
		return -ENOMEM;
	t->rules[t->n++] = (struct bw_rule_slot){ .text = off, .file = findex, .line = line, .col = col };
	return 0;
}

/* Rule i's text (from 0) into *buf. */
static int rule_text(const struct bw_rule_table *t, size_t i, char **buf, size_t *cap)
{
	size_t steps = i % BW_FCODE_RESTART;

	return bw_fcode_get(&t->text, t->rules[i - steps].text, steps, buf, cap);
}

int bw_rule_table_get(const struct bw_rule_table *t, uint32_t id, struct bw_rule_ref *out)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (!t || id < 1 || id > t->n)
		return -ENOENT;
	if (rule_text(t, id - 1, &out->text, &cap) < 0) {
		bw_rule_ref_clear(out);
		return -ENOMEM;
	}
	out->file = t->files[t->rules[id - 1].file];
	out->line = t->rules[id - 1].line;
	out->col = t->rules[id - 1].col;
	return 0;
}

void bw_rule_ref_clear(struct bw_rule_ref *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

int bw_rule_table_from_policy(const struct bw_policy *p, const struct bw_compiled *c,
			      struct bw_rule_table *t)
{
	memset(t, 0, sizeof(*t));
	bw_hex(p->sha256, sizeof(p->sha256), t->sha256);
	if (c && c->n_shadows) {
		t->shadows = malloc(c->n_shadows * sizeof(*t->shadows));
		if (!t->shadows)
			return -ENOMEM;
		memcpy(t->shadows, c->shadows, c->n_shadows * sizeof(*t->shadows));
		t->n_shadows = c->n_shadows;
	}
	if (!p->n_rules)
		return 0;
	t->rules = malloc(p->n_rules * sizeof(*t->rules));
	if (!t->rules) {
		bw_rule_table_free(t);
		return -ENOMEM;
	}
	t->cap = p->n_rules;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct bw_rule *r = &p->rules[i];

		if (bw_rule_table_add(t, r->loc.file ? r->loc.file : "", r->loc.line, r->loc.col,
				      r->text ? r->text : "") < 0) {
			bw_rule_table_free(t);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The json-c builders of internal.h (struct bw_jb). */
struct json_object *bw_jb_obj(struct bw_jb *b)
{
	struct json_object *o = json_object_new_object();

	b->oom |= !o;
	return o;
}

struct json_object *bw_jb_arr(struct bw_jb *b)
{
	struct json_object *a = json_object_new_array();

	b->oom |= !a;
	return a;
}

void bw_jb_add(struct bw_jb *b, struct json_object *o, const char *k, struct json_object *v)
{
	if (!v || !o || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

void bw_jb_add_null(struct bw_jb *b, struct json_object *o, const char *k)
{
	if (!o || json_object_object_add(o, k, NULL) < 0)
		b->oom = true;
}

void bw_jb_push(struct bw_jb *b, struct json_object *a, struct json_object *v)
{
	if (!v || !a || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

struct json_object *bw_jb_done(struct bw_jb *b, struct json_object *o)
{
	if (!b->oom)
		return o;
	json_object_put(o);
	return NULL;
}

/* One rule of the table as the state file and bw_rule_table_to_json hold it. */
static struct json_object *rule_ref_json(struct bw_jb *b, const struct bw_rule_ref *ref)
{
	if (!ref->text) { /* bw_rule_table_get ran out of memory */
		b->oom = true;
		return NULL;
	}
	struct json_object *r = bw_jb_obj(b);

	bw_jb_add(b, r, "file", json_object_new_string(ref->file));
	bw_jb_add(b, r, "line", json_object_new_int(ref->line));
	bw_jb_add(b, r, "col", json_object_new_int(ref->col));
	bw_jb_add(b, r, "text", json_object_new_string(ref->text));
	return r;
}

static struct json_object *shadow_json(struct bw_jb *b, const struct bw_shadow *sh)
{
	struct json_object *a = bw_jb_arr(b);
	char key[2 * sizeof(sh->key) + 1];

	bw_hex((const uint8_t *)&sh->key, sizeof(sh->key), key);
	bw_jb_push(b, a, json_object_new_string(key));
	bw_jb_push(b, a, json_object_new_int64(sh->rule_id));
	bw_jb_push(b, a, json_object_new_int64(sh->by_rule_id));
	bw_jb_push(b, a, json_object_new_int(sh->why));
	return a;
}

/* The layers' names and altitudes; NULL when there are none. */
static struct json_object *layers_json(struct bw_jb *b, const struct bw_rule_table *t)
{
	struct json_object *a = NULL;

	for (size_t l = 1; l < BW_LAYERS; l++) {
		struct json_object *x;

		if (!t->layer_names[l])
			continue;
		if (!a)
			a = bw_jb_arr(b);
		x = bw_jb_obj(b);
		bw_jb_add(b, x, "layer", json_object_new_int((int)l));
		bw_jb_add(b, x, "name", json_object_new_string(t->layer_names[l]));
		bw_jb_add(b, x, "altitude", json_object_new_int64(t->layer_altitude[l]));
		bw_jb_push(b, a, x);
	}
	return a;
}

struct json_object *bw_rule_table_to_json(const struct bw_rule_table *t)
{
	struct bw_jb jb = { 0 }, *b = &jb;
	struct json_object *o = bw_jb_obj(b), *rules = bw_jb_arr(b), *layers;

	bw_jb_add(b, o, "sha256", json_object_new_string(t->sha256));
	for (size_t i = 0; i < t->n; i++) {
		struct bw_rule_ref ref;

		bw_rule_table_get(t, (uint32_t)i + 1, &ref); /* no text: out of memory, rule_ref_json says */
		bw_jb_push(b, rules, rule_ref_json(b, &ref));
		bw_rule_ref_clear(&ref);
	}
	bw_jb_add(b, o, "rules", rules);
	rules = bw_jb_arr(b);
	for (size_t i = 0; i < t->n_shadows; i++)
		bw_jb_push(b, rules, shadow_json(b, &t->shadows[i]));
	bw_jb_add(b, o, "shadows", rules);
	layers = layers_json(b, t);
	if (layers)
		bw_jb_add(b, o, "layers", layers);
	return bw_jb_done(b, o);
}

/* Print o (taking it) as JSON_C_TO_STRING_PLAIN text; -ENOMEM when building it failed. */
int bw_json_print(FILE *f, struct json_object *o)
{
	int r = o ? 0 : -ENOMEM;

	if (o && fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		       f) < 0)
		r = -EIO;
	json_object_put(o);
	return r;
}

int bw_rule_table_print_members(const struct bw_rule_table *t, FILE *f)
{
	struct bw_jb jb = { 0 }, *b = &jb;
	struct json_object *layers;
	size_t cap = 0;
	char *text = NULL;
	int r;

	fputs("\"sha256\":", f);
	r = bw_json_print(f, json_object_new_string(t->sha256));
	fputs(",\"rules\":[", f);
	for (size_t i = 0; i < t->n && r == 0; i++) {
		struct bw_rule_ref ref = { .file = t->files[t->rules[i].file], .line = t->rules[i].line,
					   .col = t->rules[i].col };

		if (i)
			fputc(',', f);
		/* one buffer for every rule: each decodes from the restart before it */
		if (rule_text(t, i, &text, &cap) == 0)
			ref.text = text;
		r = bw_json_print(f, bw_jb_done(b, rule_ref_json(b, &ref)));
	}
	free(text);
	fputs("],\"shadows\":[", f);
	for (size_t i = 0; i < t->n_shadows && r == 0; i++) {
		if (i)
			fputc(',', f);
		r = bw_json_print(f, bw_jb_done(b, shadow_json(b, &t->shadows[i])));
	}
	fputc(']', f);
	layers = layers_json(b, t);
	if (layers && r == 0) {
		fputs(",\"layers\":", f);
		r = bw_json_print(f, bw_jb_done(b, layers));
	} else {
		json_object_put(layers);
	}
	return r == 0 && ferror(f) ? -EIO : r;
}

static int unhex(const char *in, uint8_t *out, size_t len)
{
	if (strlen(in) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Shadows are optional: a table without them explains with less detail. */
static int shadows_from_json(struct json_object *o, struct bw_rule_table *t)
{
	struct json_object *a;
	size_t n;

	if (!json_object_object_get_ex(o, "shadows", &a) || !json_object_is_type(a, json_type_array))
		return 0;
	n = json_object_array_length(a);
	if (!n)
		return 0;
	t->shadows = calloc(n, sizeof(*t->shadows));
	if (!t->shadows)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *x = json_object_array_get_idx(a, i);
		struct bw_shadow *sh = &t->shadows[t->n_shadows];

		if (!json_object_is_type(x, json_type_array) || json_object_array_length(x) != 4 ||
		    unhex(json_object_get_string(json_object_array_get_idx(x, 0)),
			  (uint8_t *)&sh->key, sizeof(sh->key)) < 0)
			continue;
		sh->rule_id = json_object_get_int64(json_object_array_get_idx(x, 1));
		sh->by_rule_id = json_object_get_int64(json_object_array_get_idx(x, 2));
		sh->why = json_object_get_int(json_object_array_get_idx(x, 3));
		t->n_shadows++;
	}
	return 0;
}

int bw_rule_table_from_json(struct json_object *o, struct bw_rule_table *t)
{
	struct json_object *sha, *rules;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (!json_object_object_get_ex(o, "sha256", &sha) ||
	    !json_object_object_get_ex(o, "rules", &rules) ||
	    !json_object_is_type(rules, json_type_array))
		return -EBADMSG;
	snprintf(t->sha256, sizeof(t->sha256), "%s", json_object_get_string(sha));
	n = json_object_array_length(rules);
	if (!n)
		return 0;
	t->rules = malloc(n * sizeof(*t->rules));
	if (!t->rules)
		return -ENOMEM;
	t->cap = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rules, i), *v;
		const char *file = json_object_object_get_ex(r, "file", &v) ? json_object_get_string(v) : "";
		const char *text = json_object_object_get_ex(r, "text", &v) ? json_object_get_string(v) : "";
		unsigned line = json_object_object_get_ex(r, "line", &v) ? json_object_get_int(v) : 0;
		unsigned col = json_object_object_get_ex(r, "col", &v) ? json_object_get_int(v) : 0;

		if (bw_rule_table_add(t, file ? file : "", line, col, text ? text : "") < 0) {
			bw_rule_table_free(t);
			return -ENOMEM;
		}
	}
	if (shadows_from_json(o, t) < 0) {
		bw_rule_table_free(t);
		return -ENOMEM;
	}
	if (json_object_object_get_ex(o, "layers", &rules) && json_object_is_type(rules, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(rules); i++) {
			struct json_object *x = json_object_array_get_idx(rules, i), *v;
			int l = json_object_object_get_ex(x, "layer", &v) ? json_object_get_int(v) : 0;

			if (l < 1 || l >= BW_LAYERS || !json_object_object_get_ex(x, "name", &v) ||
			    t->layer_names[l])
				continue;
			t->layer_names[l] = strdup(json_object_get_string(v));
			if (!t->layer_names[l]) {
				bw_rule_table_free(t);
				return -ENOMEM;
			}
			if (json_object_object_get_ex(x, "altitude", &v))
				t->layer_altitude[l] = (uint32_t)json_object_get_int64(v);
		}
	}
	return 0;
}

void bw_rule_table_free(struct bw_rule_table *t)
{
	if (!t)
		return;
	free(t->rules);
	t->rules = NULL;
	t->n = t->cap = 0;
	for (size_t i = 0; i < t->n_files; i++)
		free(t->files[i]);
	free(t->files);
	t->files = NULL;
	t->n_files = 0;
	bw_fcode_free(&t->text);
	free(t->shadows);
	t->shadows = NULL;
	t->n_shadows = 0;
	for (size_t l = 0; l < BW_LAYERS; l++) {
		free(t->layer_names[l]);
		t->layer_names[l] = NULL;
		t->layer_altitude[l] = 0;
	}
}

static void add_str(struct bw_jb *b, struct json_object *o, const char *k, const char *v)
{
	bw_jb_add(b, o, k, json_object_new_string(v));
}

/* Kernel strings are fixed arrays: never trust them to be terminated. */
static void add_fixed(struct bw_jb *b, struct json_object *o, const char *k, const char *v, size_t cap)
{
	bw_jb_add(b, o, k, json_object_new_string_len(v, strnlen(v, cap)));
}

static void add_u64(struct bw_jb *b, struct json_object *o, const char *k, uint64_t v)
{
	bw_jb_add(b, o, k, json_object_new_uint64(v));
}

static const char *const hook_names[BW_HOOK_MAX + 1] = {
	[BW_HOOK_EXEC] = "execve",        [BW_HOOK_MMAP] = "mmap",
	[BW_HOOK_MPROTECT] = "mprotect",  [BW_HOOK_CLONE] = "clone",
	[BW_HOOK_PTRACE] = "ptrace",      [BW_HOOK_KILL] = "kill",
	[BW_HOOK_NICE] = "setpriority",   [BW_HOOK_SCHED] = "sched",
	[BW_HOOK_IOPRIO] = "ioprio",      [BW_HOOK_RLIMIT] = "prlimit",
	[BW_HOOK_MOVEMEM] = "movememory", [BW_HOOK_SIGIO] = "sigio",
	[BW_HOOK_PRCTL] = "prctl",        [BW_HOOK_LOCKDOWN] = "lockdown",
	[BW_HOOK_BPF] = "bpf",            [BW_HOOK_SHMAT] = "shmat",
	[BW_HOOK_OPEN] = "open",          [BW_HOOK_MODULE_REQUEST] = "module_request",
	[BW_HOOK_UNLINK] = "unlink",      [BW_HOOK_RENAME] = "rename",
	[BW_HOOK_CREATE] = "create",      [BW_HOOK_SETATTR] = "setattr",
	[BW_HOOK_XATTR] = "xattr",        [BW_HOOK_IOCTL] = "ioctl",
	[BW_HOOK_MOUNT] = "mount",        [BW_HOOK_UMOUNT] = "umount",
	[BW_HOOK_BPF_MAP] = "bpf_map",    [BW_HOOK_CGROUP] = "cgroup",
	[BW_HOOK_BPF_PROG] = "bpf_prog",  [BW_HOOK_CGROUP_MOVE] = "cgroup_move",
	/* READ_FILE and LOAD_DATA: named by their op, see via_name */
};

static const char *name_of(const char *const *names, size_t n, uint32_t v)
{
	return v < n && names[v] ? names[v] : "unknown";
}

/* The bpf() commands the `bpf` op judges (bpf/bulwark.bpf.c BW_BPF_JUDGED). */
static const char *const bpf_cmd_names[] = {
	[BPF_PROG_LOAD] = "prog-load",     [BPF_PROG_ATTACH] = "prog-attach",
	[BPF_PROG_DETACH] = "prog-detach", [BPF_RAW_TRACEPOINT_OPEN] = "raw-tracepoint-open",
	[BPF_LINK_CREATE] = "link-create", [BPF_LINK_UPDATE] = "link-update",
	[BPF_LINK_DETACH] = "link-detach",
};

/* The system call behind a kernel image load: the hook says file or memory, the op which. */
static const char *via_name(const struct bw_event *e)
{
	bool module = e->op == BW_OP_MODULE;

	if (e->hook == BW_HOOK_READ_FILE)
		return module ? "finit_module" : "kexec_file_load";
	if (e->hook == BW_HOOK_LOAD_DATA)
		return module ? "init_module" : "kexec_load";
	return name_of(hook_names, BW_HOOK_MAX + 1, e->hook);
}

static const char *const proc_event_names[BW_PROC_MAX + 1] = {
	[BW_PROC_EXEC] = "exec",          [BW_PROC_FORK] = "fork",
	[BW_PROC_EXIT] = "exit",          [BW_PROC_THREAD_START] = "thread-start",
	[BW_PROC_THREAD_EXIT] = "thread-exit",
};

/* SIGKILL, or "64" for numbers without a name. */
static struct json_object *signal_json(uint32_t sig)
{
	const char *abbrev = sig ? sigabbrev_np((int)sig) : NULL;
	char buf[16];

	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "%u", sig);
	return json_object_new_string(buf);
}

static void add_time(struct bw_jb *b, struct json_object *o, uint64_t boot_ns, int64_t boot_to_real_ns)
{
	int64_t real = (int64_t)boot_ns + boot_to_real_ns;
	time_t secs = real / 1000000000;
	char when[64];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%09lldZ",
		 (long long)(real % 1000000000));
	add_str(b, o, "time", when);
}

/* The acting task: every event has one. */
/* Not kernel flags: whose program is unknown (both reported as exe-unknown). */
#define BW_EVF_TARGET_EXE_UNKNOWN (1u << 31)
#define BW_EVF_PROC_EXE_UNKNOWN (1u << 30)

/*
 * One form for a program bulwark never saw exec'd (the process predates
 * bulwark; docs/events.md): "exe": null and the flag exe-unknown, for the
 * acting process and a process target alike, never "" and never
 * path-unresolved (which is about files).
 */
static uint32_t event_flags(const struct bw_event *e)
{
	uint32_t f = e->flags;

	if ((f & BW_EVF_EXE_UNKNOWN) || (!(f & BW_EVF_EXE_TRUNC) && !e->exe[0]))
		f |= BW_EVF_EXE_UNKNOWN | BW_EVF_PROC_EXE_UNKNOWN;
	if (e->type == BW_EV_DECISION && e->target_tgid && !(f & BW_EVF_PATH_TRUNC) &&
	    ((f & BW_EVF_PATH_ERR) || !e->path[0]))
		f = (f & ~BW_EVF_PATH_ERR) | BW_EVF_EXE_UNKNOWN | BW_EVF_TARGET_EXE_UNKNOWN;
	return f;
}

static struct json_object *process_json(struct bw_jb *b, const struct bw_event *e, uint32_t f)
{
	struct json_object *proc = bw_jb_obj(b);

	add_u64(b, proc, "pid", e->tgid);
	add_u64(b, proc, "tid", e->pid);
	add_u64(b, proc, "ppid", e->ppid);
	add_u64(b, proc, "uid", e->uid);
	add_u64(b, proc, "gid", e->gid);
	add_fixed(b, proc, "comm", e->comm, sizeof(e->comm));
	if (f & BW_EVF_PROC_EXE_UNKNOWN)
		bw_jb_add_null(b, proc, "exe");
	else
		add_fixed(b, proc, "exe", e->exe, sizeof(e->exe));
	add_u64(b, proc, "cgroup_id", e->cgroup_id);
	return proc;
}

static struct json_object *flags_json(struct bw_jb *b, uint32_t f)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ BW_EVF_PATH_TRUNC, "path-too-long" }, { BW_EVF_PATH_ERR, "path-unresolved" },
		{ BW_EVF_EXE_UNKNOWN, "exe-unknown" },  { BW_EVF_EXE_TRUNC, "exe-too-long" },
		{ BW_EVF_WALK_LIMIT, "walk-limit" },    { BW_EVF_STICKY, "sticky" },
		{ BW_EVF_ARGV_TRUNC, "argv-truncated" }, { BW_EVF_REAL_FILE, "real-file" },
		{ BW_EVF_TRUSTED, "trusted" },          { BW_EVF_UNTRUSTED, "untrusted" },
		{ BW_EVF_HASHED, "hashed" },            { BW_EVF_HASH_UNKNOWN, "hash-unknown" },
	};
	struct json_object *a = bw_jb_arr(b);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit)
			bw_jb_push(b, a, json_object_new_string(names[i].name));
	return a;
}

/* argv as the kernel stores it: NUL-separated, `len` bytes. */
static struct json_object *argv_json(struct bw_jb *b, const char *buf, size_t len)
{
	struct json_object *a = bw_jb_arr(b);
	size_t i = 0;

	while (i < len) {
		size_t n = strnlen(buf + i, len - i);

		bw_jb_push(b, a, json_object_new_string_len(buf + i, (int)n));
		i += n + 1;
	}
	return a;
}

/* An opt-in process notification: exec, fork, exit, thread start and exit. */
static struct json_object *notification_json(struct bw_jb *b, const struct bw_event *e,
					     int64_t boot_to_real_ns)
{
	struct json_object *o = bw_jb_obj(b), *x;
	uint32_t flags = event_flags(e);

	add_time(b, o, e->ts_ns, boot_to_real_ns);
	add_str(b, o, "type", "process");
	add_str(b, o, "event", name_of(proc_event_names, BW_PROC_MAX + 1, e->what));
	bw_jb_add(b, o, "process", process_json(b, e, flags));
	switch (e->what) {
	case BW_PROC_EXEC:
		bw_jb_add(b, o, "argv", argv_json(b, e->path, e->arg < sizeof(e->path) ?
									      e->arg : sizeof(e->path)));
		if (e->target_pid && e->target_pid != e->pid)
			add_u64(b, o, "old_tid", e->target_pid); /* a thread exec'd: it took the leader's id */
		break;
	case BW_PROC_FORK:
	case BW_PROC_THREAD_START:
		x = bw_jb_obj(b);
		add_u64(b, x, "pid", e->target_tgid);
		add_u64(b, x, "tid", e->target_pid);
		bw_jb_add(b, o, e->what == BW_PROC_FORK ? "child" : "thread", x);
		break;
	case BW_PROC_EXIT:
	case BW_PROC_THREAD_EXIT:
		x = bw_jb_obj(b);
		/* a wait status: exit code in bits 8-15, terminating signal in 0-6 */
		add_u64(b, x, "code", (e->arg >> 8) & 0xff);
		if (e->arg & 0x7f)
			bw_jb_add(b, x, "signal", signal_json(e->arg & 0x7f));
		else
			bw_jb_add_null(b, x, "signal");
		bw_jb_add(b, o, "exit", x);
		if (e->what == BW_PROC_THREAD_EXIT) {
			x = bw_jb_obj(b);
			add_u64(b, x, "pid", e->target_tgid);
			add_u64(b, x, "tid", e->target_pid);
			bw_jb_add(b, o, "thread", x);
		}
		break;
	}
	add_u64(b, o, "policy_generation", e->policy_gen);
	bw_jb_add(b, o, "flags", flags_json(b, flags));
	return o;
}

static bool has_layers(const struct bw_rule_table *rt)
{
	for (size_t l = 1; rt && l < BW_LAYERS; l++)
		if (rt->layer_names[l])
			return true;
	return false;
}

/* NULL when out of memory. */
struct json_object *bw_event_to_json(const struct bw_event *e, const struct bw_rule_table *rt,
				     int64_t boot_to_real_ns)
{
	struct bw_jb jb = { 0 }, *b = &jb;
	struct json_object *o, *target;
	struct bw_rule_ref ref, prot = { 0 };
	uint32_t flags = event_flags(e);
	char dev[32];

	if (e->type == BW_EV_PROCESS)
		return bw_jb_done(b, notification_json(b, e, boot_to_real_ns));
	if (bw_rule_table_get(rt, e->rule_id, &ref) == -ENOMEM)
		b->oom = true;
	o = bw_jb_obj(b);
	add_time(b, o, e->ts_ns, boot_to_real_ns);
	add_str(b, o, "type", "decision");
	add_str(b, o, "op", bw_op_name(e->op));
	add_str(b, o, "via", via_name(e));
	add_str(b, o, "decision", bw_verdict_name(e->verdict));
	add_str(b, o, "action", bw_action_name(e->action));
	add_str(b, o, "mode", e->action == BW_ACTION_WOULD_BLOCK ? "audit" : "enforce");
	bw_jb_add(b, o, "process", process_json(b, e, flags));

	target = bw_jb_obj(b);
	if (e->target_tgid) {
		/* a process: named by its program, from its exe file at the event */
		add_u64(b, target, "pid", e->target_tgid);
		add_u64(b, target, "tid", e->target_pid);
		if (flags & (BW_EVF_TARGET_EXE_UNKNOWN | BW_EVF_PATH_TRUNC))
			bw_jb_add_null(b, target, "exe");
		else
			add_fixed(b, target, "exe", e->path, sizeof(e->path));
		bw_jb_add(b, o, "target", target);
		if (e->op == BW_OP_SIGNAL)
			bw_jb_add(b, o, "signal", signal_json(e->arg));
	} else if (e->op == BW_OP_FORK || e->op == BW_OP_THREAD) {
		json_object_put(target); /* creation has no object */
		bw_jb_add_null(b, o, "target");
	} else if (e->op == BW_OP_SYSCTL) {
		const struct bw_sysctl_def *def = bw_sysctl_def(e->arg);

		add_str(b, target, "sysctl", def ? def->name : "unknown");
		if (e->flags & (BW_EVF_PATH_ERR | BW_EVF_PATH_TRUNC))
			bw_jb_add_null(b, target, "path");
		else
			add_fixed(b, target, "path", e->path, sizeof(e->path));
		bw_jb_add(b, o, "target", target);
	} else if (e->op == BW_OP_LOCKDOWN) {
		add_str(b, target, "reason", bw_lockdown_name(e->arg) ? bw_lockdown_name(e->arg) : "unknown");
		bw_jb_add(b, o, "target", target);
	} else if (e->op == BW_OP_BPF) {
		add_str(b, target, "command", name_of(bpf_cmd_names, sizeof(bpf_cmd_names) / sizeof(*bpf_cmd_names),
						   e->arg));
		bw_jb_add(b, o, "target", target);
	} else if ((e->op == BW_OP_WX || e->op == BW_OP_ANON_EXEC) && !e->target_dev && !e->target_ino) {
		add_str(b, target, "memory", "anonymous"); /* no file behind the mapping */
		bw_jb_add(b, o, "target", target);
	} else if (e->hook == BW_HOOK_MODULE_REQUEST) {
		add_fixed(b, target, "request", e->path, sizeof(e->path)); /* what modprobe would be asked */
		bw_jb_add(b, o, "target", target);
	} else if (e->hook == BW_HOOK_LOAD_DATA) {
		add_str(b, target, "image", "from memory"); /* init_module, kexec_load: no file */
		bw_jb_add(b, o, "target", target);
	} else {
		if (e->op == BW_OP_PROTECT && bw_rule_table_get(rt, e->arg, &prot) == -ENOMEM)
			b->oom = true;
		if (e->flags & (BW_EVF_PATH_ERR | BW_EVF_PATH_TRUNC))
			bw_jb_add_null(b, target, "path");
		else
			add_fixed(b, target, "path", e->path, sizeof(e->path));
		bw_dev_string(e->target_dev, dev, sizeof(dev));
		add_str(b, target, "dev", dev);
		add_u64(b, target, "ino", e->target_ino);
		/* exec and load under a policy with trust rules: whether the trust map vouched for it */
		if (e->flags & (BW_EVF_TRUSTED | BW_EVF_UNTRUSTED))
			bw_jb_add(b, target, "trusted", json_object_new_boolean(!!(e->flags & BW_EVF_TRUSTED)));
		/* a protected file: the statement that protects it (where no path helper could name it) */
		if (prot.text) {
			struct json_object *by = bw_jb_obj(b);

			add_str(b, by, "file", prot.file);
			add_u64(b, by, "line", prot.line);
			add_str(b, by, "text", prot.text);
			bw_jb_add(b, target, "protected_by", by);
		}
		bw_jb_add(b, o, "target", target);
	}

	if (e->rule_id) {
		struct json_object *rule = bw_jb_obj(b);

		add_u64(b, rule, "id", e->rule_id);
		if (bw_gate_name(e->rule_id)) {
			add_str(b, rule, "gate", bw_gate_name(e->rule_id));
			add_str(b, rule, "text", bw_gate_text(e->rule_id));
			if (e->rule_id == BW_GATE_PROTECT) {
				/* subj carries the two levels compared (bw_protect_deny) */
				add_str(b, rule, "required_level", bw_level_name(e->subj >> 8 & 0xff));
				add_str(b, rule, "subject_level", bw_level_name(e->subj & 0xff));
			}
		} else if (ref.text) {
			add_str(b, rule, "file", ref.file);
			add_u64(b, rule, "line", ref.line);
			add_str(b, rule, "text", ref.text);
		}
		bw_jb_add(b, o, "rule", rule);
	} else {
		bw_jb_add_null(b, o, "rule");
	}
	/* Client layers (docs/events.md): which layer's rule decided, when the policy has them. */
	if (e->layer || has_layers(rt)) {
		struct json_object *layer = bw_jb_obj(b);
		const char *name = rt && e->layer < BW_LAYERS ? rt->layer_names[e->layer] : NULL;

		add_u64(b, layer, "index", e->layer);
		add_str(b, layer, "name", name ? name : e->layer ? "client" : "policy");
		if (rt && e->layer && e->layer < BW_LAYERS)
			add_u64(b, layer, "altitude", rt->layer_altitude[e->layer]);
		bw_jb_add(b, o, "layer", layer);
	}
	add_u64(b, o, "policy_generation", e->policy_gen);
	bw_jb_add(b, o, "flags", flags_json(b, flags));
	bw_rule_ref_clear(&ref);
	bw_rule_ref_clear(&prot);
	return bw_jb_done(b, o);
}
