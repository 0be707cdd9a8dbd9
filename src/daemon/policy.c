// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policies: compile (prepare), swap into the kernel (commit), follow
 * replaced directories (re-resolve), the state that survives a restart,
 * and the rule tables of recent generations that events are decoded with.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "../lib/trust.h"
#include "daemon.h"
#include "log.h"

/*
 * A compile is the daemon's peak: the parsed policy, its map entries and
 * what the kernel install and the state file needed, in many small
 * allocations that glibc keeps in the heap once freed, interleaved with
 * the new policy's tables that stay. Hand the free pages back (a policy
 * of 100,000 rules left bulwarkd at several times what it keeps).
 */
void release_heap(void)
{
	malloc_trim(0);
}

char *state_path(struct daemon *d)
{
	char *p = NULL;

	if (asprintf(&p, "%s/policy.json", d->state_dir) < 0)
		return NULL;
	return p;
}

/*
 * The rule table survives restarts so events keep naming file:line.
 * Printed a rule and a path at a time: a tree of the whole state (json-c
 * objects for 100,000 rules) would cost bulwarkd ten times the file's size
 * at every load.
 */
static int write_state(struct daemon *d, FILE *f)
{
	int r;

	fputc('{', f);
	r = bw_rule_table_print_members(&d->rules, f);
	if (r == 0) {
		fputs(",\"files\":", f);
		r = bw_json_print(f, json_object_get(d->policy_files));
	}
	if (r == 0) {
		fputs(",\"path\":", f);
		if (d->policy_path)
			r = bw_json_print(f, json_object_new_string(d->policy_path));
		else
			fputs("null", f);
	}
	if (r == 0) {
		fputs(",\"resolved\":", f);
		r = drift_print(&d->drift, f);
	}
	fputc('}', f);
	return r;
}

static void save_state(struct daemon *d)
{
	char *path = state_path(d), *tmp = NULL;
	FILE *f = NULL;
	int r = -ENOMEM;

	if (path && asprintf(&tmp, "%s.tmp", path) >= 0) {
		f = fopen(tmp, "we");
		r = f ? write_state(d, f) : -errno;
		if (f && fclose(f) != 0 && r == 0)
			r = -errno;
		if (r == 0 && rename(tmp, path) < 0)
			r = -errno;
		if (r < 0)
			unlink(tmp);
	}
	if (r < 0)
		bw_log(LOG_WARNING, "cannot save %s: %s: events after a restart will lack rule text",
		       path ? path : "state", strerror(-r));
	free(tmp);
	free(path);
}

void restore_state(struct daemon *d)
{
	struct bw_policy_info info;
	struct json_object *o = NULL, *files;
	char *path = state_path(d), hex[65];

	if (bw_kernel_policy_info(&d->kernel, &info) < 0 || !info.generation)
		goto out;
	bw_hex(info.sha256, sizeof(info.sha256), hex);
	d->rules_gen = info.generation;
	o = path ? json_object_from_file(path) : NULL;
	if (!o || bw_rule_table_from_json(o, &d->rules) < 0 || strcmp(d->rules.sha256, hex) != 0) {
		bw_rule_table_free(&d->rules);
		bw_log(LOG_WARNING, "active policy %.12s has no matching %s: events will show rule ids only",
		       hex, path ? path : "state");
		snprintf(d->rules.sha256, sizeof(d->rules.sha256), "%s", hex);
		goto out;
	}
	if (json_object_object_get_ex(o, "files", &files)) {
		json_object_put(d->policy_files);
		d->policy_files = json_object_get(files);
	}
	if (json_object_object_get_ex(o, "path", &files) && json_object_get_string(files)) {
		free(d->policy_path);
		d->policy_path = strdup(json_object_get_string(files));
	}
	if (json_object_object_get_ex(o, "resolved", &files))
		drift_from_json(&d->drift, files);
	bw_log(LOG_INFO, "adopted policy %.12s (%u rules, generation %llu)", hex, info.rules,
	       (unsigned long long)info.generation);
out:
	json_object_put(o);
	free(path);
	release_heap(); /* the parsed state file */
}


/* Where bulwarkd keeps what `protect self` covers besides its code and policy. */
static const char *self_state_dir, *self_socket;
/* What a long compile calls now and then: the event pipeline, so it never stalls. */
static void (*compile_tick)(void *ctx);
static void *compile_tick_ctx;

void set_compile_tick(void (*tick)(void *ctx), void *ctx)
{
	compile_tick = tick;
	compile_tick_ctx = ctx;
}

static const char *self_events, *self_trust_db;

void set_self_places(const char *state_dir, const char *socket_path)
{
	self_state_dir = state_dir;
	self_socket = socket_path;
}

void set_self_events(const char *events_path)
{
	self_events = events_path;
}

void set_self_trust_db(const char *db_path)
{
	self_trust_db = db_path;
}

#define OVERLAYFS_MAGIC 0x794c7630

static void self_add(struct prepared *pp, const char *path, bool tree)
{
	struct statfs sf;
	struct stat st;
	char **grown;

	if (stat(path, &st) < 0 || (tree && !S_ISDIR(st.st_mode)) || (!tree && S_ISDIR(st.st_mode)))
		return;
	/*
	 * An exact file on overlayfs cannot be keyed yet (the hooks see the
	 * overlay inode, stat the real one): left out, and said so, rather
	 * than failing every `protect self` policy on an overlay root.
	 */
	if (!tree && statfs(path, &sf) == 0 && (unsigned long)sf.f_type == OVERLAYFS_MAGIC) {
		bw_log(LOG_WARNING, "protect self: %s is on overlayfs, where single files cannot be "
				    "protected yet: left unprotected", path);
		return;
	}
	for (size_t i = 0; i < pp->n_self; i++)
		if (strncmp(pp->self[i], path, strlen(path)) == 0 &&
		    strcmp(pp->self[i] + strlen(path), tree ? "/**" : "") == 0)
			return;
	grown = realloc(pp->self, (pp->n_self + 1) * sizeof(*grown));
	if (!grown || asprintf(&grown[pp->n_self], "%s%s", path, tree ? "/**" : "") < 0)
		abort();
	pp->self = grown;
	pp->n_self++;
}

/*
 * The trust database under `protect self` (decision 79): its whole
 * directory, as a tree, which also holds the saved persistent client
 * layers (decision 97). The file alone would not do: SQLite reads a
 * `-wal` file beside it as part of the database, so root could add rows
 * by creating one, or by replacing `-shm`. bulwarkd creates the directory
 * when it is missing, so that there is something to protect: an absent
 * database would be root's to create. A directory that holds more than the
 * database is protected whole all the same, and said so in the log.
 */
static void self_trust_dir(struct prepared *pp)
{
	char *copy, *dir, *base, real[PATH_MAX] = "";
	struct dirent *de;
	DIR *dh;

	if (!self_trust_db || !(copy = strdup(self_trust_db)))
		return;
	dir = dirname(copy);
	/* mkdir -p: the default's parent (/var/lib) exists, a --trust-db's may not */
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			(void)mkdir(dir, 0755);
			*p = '/';
		}
	if (mkdir(dir, 0755) == 0)
		bw_log(LOG_INFO, "protect self: created %s for the trust database, to protect it", dir);
	if (!realpath(dir, real) || strcmp(real, "/") == 0) {
		bw_log(LOG_WARNING, "protect self: the trust database's directory %s cannot be protected: %s",
		       dir, real[0] ? "it is /" : strerror(errno));
		free(copy);
		return;
	}
	free(copy);
	if (!(copy = strdup(self_trust_db)))
		return;
	base = basename(copy);
	dh = opendir(real);
	while (dh && (de = readdir(dh)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strncmp(de->d_name, base, strlen(base)) != 0 &&
		    strncmp(de->d_name, BW_LAYERS_FILE, strlen(BW_LAYERS_FILE)) != 0)
			bw_log(LOG_WARNING, "protect self: %s, the trust database's directory, also holds %s: "
					    "protected with it (give the database a directory of its own)",
			       real, de->d_name);
	if (dh)
		closedir(dh);
	free(copy);
	self_add(pp, real, true);
}

/*
 * What `protect self` covers: bulwarkd's program and every file its code
 * is mapped from (libraries, the loader), the policy as read, the state
 * directory, the control socket, the event log (--events), the trust
 * database's directory and the pin directory.
 */
static void self_paths(struct prepared *pp, const char *policy_path)
{
	char exe[PATH_MAX], line[PATH_MAX + 128];
	struct stat st;
	ssize_t n;
	FILE *f;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		self_add(pp, exe, false);
	}
	f = fopen("/proc/self/maps", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char perms[8], *file = strchr(line, '/');

		if (!file || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		file[strcspn(file, "\n")] = 0;
		self_add(pp, file, false);
	}
	if (f)
		fclose(f);
	if (stat(policy_path, &st) == 0 && S_ISDIR(st.st_mode))
		self_add(pp, policy_path, true);
	for (size_t i = 0; i < pp->policy->n_files; i++)
		self_add(pp, pp->policy->files[i], false);
	if (self_state_dir)
		self_add(pp, self_state_dir, true);
	if (self_socket)
		self_add(pp, self_socket, false);
	if (self_events)
		self_add(pp, self_events, false);
	self_trust_dir(pp);
	self_add(pp, BW_PIN_ROOT, true);
	pp->policy->self_paths = (const char *const *)pp->self;
	pp->policy->n_self_paths = pp->n_self;
}

void prepared_free(struct prepared *pp)
{
	for (size_t i = 0; i < pp->n_self; i++)
		free(pp->self[i]);
	free(pp->self);
	bw_rule_table_free(&pp->table);
	bw_compiled_free(&pp->compiled);
	bw_policy_free(pp->policy);
	memset(pp, 0, sizeof(*pp));
	release_heap();
}

static char *render_diags(const struct bw_policy *p, const char *path, const char *why)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (p)
		bw_policy_print_diags(p, f);
	if (why && why[0])
		fprintf(f, "%s: error: %s\n", path, why);
	fclose(f);
	return text;
}

/* This process's cgroup v2 path ("0::/system.slice/bulwarkd.service"). */
static bool own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

/*
 * bulwarkd loads BPF programs when it starts without pinned ones (after a
 * boot, an unload, or an upgrade that adds a hook), libbpf loads a probe
 * program at every start, and the verifier asks the lockdown hook about
 * bpf-read-kernel while it checks bulwark's programs. A policy that refuses
 * bulwarkd either, as it runs now (program, parent, cgroup, uid, gid),
 * would leave it unable to start again: refuse that policy instead, naming
 * the rule. Returns 0, or -EPERM with why set.
 */
static int refuses_daemon(const struct prepared *pp, char *why, size_t len)
{
	static const char *const needs[] = { "bpf any", "lockdown bpf-read-kernel" };
	char self[PATH_MAX], parent[PATH_MAX], cgroup[PATH_MAX + 8], link[64];
	char query[3 * PATH_MAX + 128];
	int n = 0;

	if (!program_of("/proc/self/exe", self, sizeof(self))) {
		snprintf(why, len, "error: cannot read /proc/self/exe to check that this policy lets bulwarkd restart\n");
		return -EPERM;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)getppid());
	n = snprintf(query, sizeof(query), " as exe=%s", self);
	if (getppid() > 1 && program_of(link, parent, sizeof(parent)))
		n += snprintf(query + n, sizeof(query) - n, " parent=%s", parent);
	if (own_cgroup(cgroup, sizeof(cgroup)))
		n += snprintf(query + n, sizeof(query) - n, " cgroup=%s", cgroup);
	snprintf(query + n, sizeof(query) - n, " uid=%u gid=%u", (unsigned)geteuid(), (unsigned)getegid());

	for (size_t i = 0; i < sizeof(needs) / sizeof(*needs); i++) {
		struct json_object *o = NULL, *rule;
		char *diag = NULL, *q = NULL;
		const char *action, *file;
		bool refused;

		if (asprintf(&q, "%s%s", needs[i], query) < 0)
			abort();
		if (bw_explain(pp->compiled.entries, pp->compiled.n, &pp->table, q, &o, &diag) < 0) {
			/* Fail closed: a policy we cannot check might lock bulwarkd out. */
			snprintf(why, len, "error: cannot check that this policy lets bulwarkd restart (`%s`): %s", q,
				 diag ? diag : "explain failed\n");
			free(diag);
			free(q);
			return -EPERM;
		}
		free(diag);
		free(q);
		action = json_object_get_string(json_object_object_get(o, "action"));
		refused = action && strcmp(action, "blocked") == 0;
		rule = json_object_object_get(o, "rule");
		file = json_object_get_string(json_object_object_get(rule, "file"));
		if (refused)
			snprintf(why, len,
				 "%s:%d:1: error: this policy refuses bulwarkd itself `%s`: it could not load its programs at its next start\n"
				 "hint: allow it, e.g. `allow %s from exe=%s`\n",
				 file ? file : "policy", json_object_get_int(json_object_object_get(rule, "line")),
				 needs[i], needs[i], self);
		json_object_put(o);
		if (refused)
			return -EPERM;
	}
	return 0;
}

/*
 * Parse and compile: everything that can fail before the kernel is asked.
 * keep: re-resolving (identities to keep, see drift.h); expect_hex: the
 * sha256 the text must still have, else -ESTALE before anything compiles.
 */
int prepare_policy(const char *path, const struct drift *keep, const char *expect_hex,
			  struct prepared *pp, char **ret_diag)
{
	char why[PATH_MAX + 512] = "";
	struct bw_strpool kept_strings = { 0 };
	struct bw_resolved *kept = NULL;
	int r;

	memset(pp, 0, sizeof(*pp));
	pp->policy = bw_policy_new();
	if (!pp->policy)
		return -ENOMEM;
	bw_policy_load_path(pp->policy, path);
	bw_policy_finish(pp->policy);
	if (expect_hex) {
		char hex[65];

		bw_hex(pp->policy->sha256, sizeof(pp->policy->sha256), hex);
		if (strcmp(hex, expect_hex) != 0) {
			prepared_free(pp);
			return -ESTALE;
		}
	}
	/* The record as the compiler reads it, for the length of the compile. */
	if (keep && drift_resolved(keep, &kept, &kept_strings) < 0) {
		prepared_free(pp);
		return -ENOMEM;
	}
	if (keep) {
		pp->policy->keep = kept;
		pp->policy->n_keep = keep->n;
	}
	/* Client layers (layers.c) after the hash: it stays the administrator's policy's. */
	r = layers_append(pp->policy, NULL);
	if (r == -ENOMEM) {
		free(kept);
		bw_strpool_free(&kept_strings);
		prepared_free(pp);
		return r;
	}
	if (pp->policy->flags & BW_POLICY_PROTECT_SELF)
		self_paths(pp, path);
	pp->policy->tick = compile_tick;
	pp->policy->tick_ctx = compile_tick_ctx;
	r = bw_compile(pp->policy, &pp->compiled);
	pp->policy->keep = NULL; /* the old record goes away when this one is committed */
	pp->policy->n_keep = 0;
	free(kept); /* its retired identities are the record's */
	bw_strpool_free(&kept_strings);
	if (r == 0)
		r = bw_rule_table_from_policy(pp->policy, &pp->compiled, &pp->table);
	if (r == 0)
		r = layers_name_table(&pp->table);
	if (r == 0)
		r = refuses_daemon(pp, why, sizeof(why));
	*ret_diag = render_diags(pp->policy, path, NULL);
	if (why[0]) {
		char *all = NULL;

		if (asprintf(&all, "%s%s", *ret_diag ? *ret_diag : "", why) < 0)
			abort();
		free(*ret_diag);
		*ret_diag = all;
	}
	if (r < 0)
		prepared_free(pp);
	return r;
}

/* Put the drift watch (new after every load) into the event loop. */
void watch_drift(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = DRIFT_TAG };

	if (d->epfd >= 0 && d->drift.watch_fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->drift.watch_fd, &ev);
}

/* The rule table events of generation gen are decoded with. */
const struct bw_rule_table *rules_for_gen(struct daemon *d, uint64_t gen)
{
	static const struct bw_rule_table none;

	if (gen == d->rules_gen)
		return &d->rules;
	for (size_t i = 0; i < d->n_old; i++)
		if (d->old[i].gen == gen)
			return &d->old[i].t;
	/* Older than we keep (or from before a restart): rule ids only, never another policy's text. */
	return &none;
}

/*
 * The active table becomes an earlier generation's, t the active one.
 * Events still in the ring buffer may name an earlier generation: keep
 * the last GEN_KEEP tables. The oldest can go: commit_policy drained the
 * ring buffer before this swap, after its successor's swap, so no event
 * of it is still unread. No draining here: the kernel already decides
 * with the new map, and its events must not be decoded before t is in
 * place.
 */
static void push_generation(struct daemon *d, struct bw_rule_table *t, uint64_t gen)
{
	if (d->n_old == GEN_KEEP - 1) {
		bw_rule_table_free(&d->old[0].t);
		memmove(&d->old[0], &d->old[1], (GEN_KEEP - 2) * sizeof(d->old[0]));
		d->n_old--;
	}
	if (d->rules_gen) {
		d->old[d->n_old].gen = d->rules_gen;
		d->old[d->n_old].t = d->rules;
		d->n_old++;
	} else {
		bw_rule_table_free(&d->rules);
	}
	d->rules = *t;
	d->rules_gen = gen;
	memset(t, 0, sizeof(*t));
}

void rules_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_old; i++)
		bw_rule_table_free(&d->old[i].t);
	d->n_old = 0;
	bw_rule_table_free(&d->rules);
	d->rules_gen = 0;
}

/* A rule that cannot decide anything is an error, never a silent no-op. */
static int check_lockdown(struct daemon *d, const char *path, const struct bw_policy *p, char **ret_diag)
{
	char why[512];

	for (size_t i = 0; i < p->n_rules && !d->kernel.lockdown_reasons; i++)
		if (p->rules[i].op == BW_OP_LOCKDOWN) {
			snprintf(why, sizeof(why),
				 "%s:%u: lockdown rules cannot be enforced here: this kernel's BTF names no lockdown reasons",
				 p->rules[i].loc.file, p->rules[i].loc.line);
			*ret_diag = render_diags(p, path, why);
			return -EOPNOTSUPP;
		}
	return 0;
}

/* A row that still describes the file (size, ctime, mtime), as bulwarkd installs rows. */
static int self_row(void *ud, const struct bw_trust_record *r)
{
	const struct stat *st = ud;

	return r->size == (uint64_t)st->st_size &&
	       r->ctime_ns == (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec &&
	       r->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/*
 * Under `protect self` with trust objects, bulwarkd's program and the code
 * it maps must be trusted (decision 78): else the protect gate refuses its
 * next start, or a library it maps later. The first file that is not, in
 * bad; false when all are.
 */
static bool self_code_untrusted(struct daemon *d, char *bad, size_t len)
{
	char line[PATH_MAX + 128], exe[PATH_MAX];
	struct bw_trust *db = NULL;
	char err[256];
	bool found = false;
	struct stat st;
	ssize_t n;
	FILE *f;

	if (bw_trust_open(&db, trust_status_db(d), BW_TRUST_READ, err, sizeof(err)) < 0) {
		snprintf(bad, len, "%s (trust database: %s)", "/proc/self/exe", err);
		return true;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (n <= 0 || stat(exe, &st) < 0 || bw_trust_find_inode(db, st.st_dev, st.st_ino, self_row, &st) <= 0) {
		snprintf(bad, len, "%s", n > 0 ? exe : "/proc/self/exe");
		found = true;
	}
	f = fopen("/proc/self/maps", "re");
	while (!found && f && fgets(line, sizeof(line), f)) {
		char perms[8], *file = strchr(line, '/');

		if (!file || sscanf(line, "%*s %7s", perms) != 1 || perms[2] != 'x')
			continue;
		file[strcspn(file, "\n")] = 0;
		if (stat(file, &st) < 0 || bw_trust_find_inode(db, st.st_dev, st.st_ino, self_row, &st) <= 0) {
			snprintf(bad, len, "%s", file);
			found = true;
		}
	}
	if (f)
		fclose(f);
	bw_trust_close(db);
	return found;
}

/*
 * A policy with trust rules reads the trust database afresh (what `trust
 * add` wrote since). One that refuses untrusted code while the trust map
 * is empty would stop every program on the host: refused, with the way out.
 */
static int check_trust(struct daemon *d, const char *path, struct prepared *pp, char **ret_diag)
{
	struct bw_policy *p = pp->policy;
	const struct bw_rule *deny = NULL;
	struct json_object *o = NULL;
	char self[PATH_MAX], *q = NULL, *diag = NULL;
	const char *action;
	bool uses = false, policy_uses = false;
	int r = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct bw_rule *r = &p->rules[i];

		if (!bw_rule_uses_trust(r))
			continue;
		uses = true;
		policy_uses |= !r->layer; /* a client layer's trust rules ask nothing of protected code */
		if (!deny && r->obj == BW_OBJ_TYPE_UNTRUSTED && r->decision == BW_VERDICT_DENY &&
		    !(r->flags & BW_RULE_AUDIT) && !(p->flags & BW_POLICY_AUDIT))
			deny = r;
	}
	if (!uses)
		return 0;
	trust_sync(d, "policy");
	if (policy_uses && (p->flags & BW_POLICY_PROTECT_SELF) && self_code_untrusted(d, self, sizeof(self))) {
		const struct bw_rule *first = p->rules;

		while (!bw_rule_uses_trust(first) || first->layer)
			first++; /* policy_uses: there is one */
		bw_policy_diag(p, BW_SEV_ERROR, &first->obj_loc, NULL,
			       "trust it first: `bulwark trust add PATH`",
			       "bulwarkd's code %s is not trusted: under `protect self` with trust rules, "
			       "its next start would be refused", self);
		*ret_diag = render_diags(p, path, NULL);
		return -EPERM;
	}
	if (!deny)
		return 0;
	if (!d->trust.trusted) {
		bw_policy_diag(p, BW_SEV_ERROR, &deny->obj_loc, NULL,
			       "trust the system's code first (`bulwark trust import dpkg`, `bulwark trust add -r DIR`), "
			       "or roll out with `mode audit`",
			       "no file is trusted (trust database %s: %s): this rule would refuse every program",
			       trust_status_db(d),
			       d->trust.error ? d->trust.error :
			       d->trust.entries ? "no entry matches its file" : "empty or missing");
		*ret_diag = render_diags(p, path, NULL);
		return -EPERM;
	}
	/* bulwarkd must be able to start again under the policy it installs. */
	if (!program_of("/proc/self/exe", self, sizeof(self)) || asprintf(&q, "exec %s", self) < 0 ||
	    bw_explain(pp->compiled.entries, pp->compiled.n, &pp->table, q, &o, &diag) < 0) {
		bw_policy_diag(p, BW_SEV_ERROR, &deny->obj_loc, NULL, NULL,
			       "cannot check that this policy lets bulwarkd's own program run");
		r = -EPERM;
	} else if ((action = json_object_get_string(json_object_object_get(o, "action"))) &&
		   strcmp(action, "blocked") == 0) {
		bw_policy_diag(p, BW_SEV_ERROR, &deny->obj_loc, NULL, "trust it: `bulwark trust add PATH`",
			       "bulwarkd's own program %s is not trusted: it could not start again under this policy",
			       self);
		r = -EPERM;
	}
	if (r < 0)
		*ret_diag = render_diags(p, path, NULL);
	json_object_put(o);
	free(q);
	free(diag);
	return r;
}

static void loaded_event(struct daemon *d, const char *path, const struct bw_policy *p, const char *reason)
{
	struct json_object *what = json_object_new_object(), *pol = json_object_new_object();

	json_object_object_add(pol, "sha256", json_object_new_string(d->rules.sha256));
	json_object_object_add(pol, "generation", json_object_new_uint64(d->rules_gen));
	json_object_object_add(pol, "rules", json_object_new_uint64(p->n_rules));
	json_object_object_add(pol, "mode", json_object_new_string(
				p->flags & BW_POLICY_AUDIT ? "audit" : "enforce"));
	json_object_object_add(pol, "path", json_object_new_string(path));
	json_object_object_add(pol, "files", json_object_get(d->policy_files));
	json_object_object_add(what, "policy", pol);
	policy_event(d, "loaded", reason, what);
}

/* Does the prepared policy have sha256: rules (decision 90)? */
static bool policy_hashes(const struct prepared *pp)
{
	for (size_t i = 0; i < pp->compiled.n; i++)
		if (pp->compiled.entries[i].key.kind == BW_OBJ_META)
			return pp->compiled.entries[i].val.flags & BW_POLICY_HASH;
	return false;
}

/*
 * A sha256: rule needs IMA's hash of untrusted images (decision 90). On a
 * kernel that cannot give it (the start-up probe failed), the rule would
 * match trusted files only: refused, with what to do.
 */
static int check_hash(struct daemon *d, const char *path, struct prepared *pp, char **ret_diag)
{
	struct bw_policy *p = pp->policy;

	if (!policy_hashes(pp) || d->hash_probe == 0)
		return 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		if (p->rules[i].obj != BW_OBJ_TYPE_HASH)
			continue;
		bw_policy_diag(p, BW_SEV_ERROR, &p->rules[i].obj_loc, NULL,
			       "boot a kernel with IMA (CONFIG_IMA=y, ima_hash=sha256: Debian's 6.1 and 6.12 are), "
			       "or replace the sha256: rules with `deny exec untrusted` and trust",
			       "sha256: rules need the kernel to hash untrusted files, and it cannot: %s",
			       d->hash_why);
		break;
	}
	*ret_diag = render_diags(p, path, NULL);
	return -EOPNOTSUPP;
}

/* Does the prepared policy say `protect self`? Its META entry carries the flag. */
bool policy_protects_self(const struct prepared *pp)
{
	for (size_t i = 0; i < pp->compiled.n; i++)
		if (pp->compiled.entries[i].key.kind == BW_OBJ_META && !pp->compiled.entries[i].key.layer)
			return pp->compiled.entries[i].val.flags & BW_POLICY_PROTECT_SELF;
	return false;
}

/*
 * Swap a prepared policy in. Anything failing leaves the active policy
 * untouched: the kernel only ever sees a complete map swapped in.
 * reason: why it is loaded (docs/events.md): "start", "request", "sighup"
 * or "re-resolve".
 */
int commit_policy(struct daemon *d, const char *path, struct prepared *pp, const char *reason,
		  char **ret_diag)
{
	struct bw_policy *p = pp->policy;
	struct bw_policy_info info = { 0 };
	char why[512] = "";
	int r = check_lockdown(d, path, p, ret_diag);

	if (r < 0)
		return r;
	r = check_trust(d, path, pp, ret_diag);
	if (r < 0)
		return r;
	r = check_hash(d, path, pp, ret_diag);
	if (r < 0)
		return r;
	/* Protecting itself: bulwarkd takes level system while its writes still count. */
	if (policy_protects_self(pp)) {
		r = bw_kernel_protect_self(&d->kernel);
		if (r < 0) {
			if (asprintf(ret_diag, "%s: cannot register bulwarkd as protected: %s\n", path,
				     strerror(-r)) < 0)
				*ret_diag = NULL;
			return r;
		}
	}
	/* Decisions the old policy made are decoded with its rule table. */
	if (d->rb)
		ring_buffer__consume(d->rb);
	/* Hashing on before a policy with sha256: rules is in force (decision 90). */
	if (policy_hashes(pp) && (r = bw_kernel_hash_enable(&d->kernel, true)) < 0) {
		if (asprintf(ret_diag, "%s: cannot turn image hashing on: %s\n", path, strerror(-r)) < 0)
			*ret_diag = NULL;
		return r;
	}
	r = bw_kernel_install(&d->kernel, &pp->compiled, p->sha256, p->n_rules, p->flags, why,
			      sizeof(why));
	if (r < 0) {
		*ret_diag = render_diags(p, path, why);
		return r;
	}
	/* ... and off once one without them is. */
	if (!policy_hashes(pp))
		bw_kernel_hash_enable(&d->kernel, false);
	bw_kernel_policy_info(&d->kernel, &info);
	push_generation(d, &pp->table, info.generation);
	json_object_put(d->policy_files);
	d->policy_files = json_object_new_array();
	for (size_t i = 0; i < p->n_files; i++)
		if (p->files[i][0] == '/') /* client layers' texts are named by their client: not files */
			json_object_array_add(d->policy_files, json_object_new_string(p->files[i]));
	free(d->policy_path);
	d->policy_path = strdup(path);
	drift_set(&d->drift, pp->compiled.resolved, pp->compiled.n_resolved);
	watch_drift(d);
	d->reresolve_warned = false;
	d->failed_drift = 0;
	schedule(d, TASK_DRIFT_CHECK, now_ms() + DRIFT_SETTLE_MS); /* what changed while it compiled */
	save_state(d);
	bw_log(LOG_INFO, "policy %.12s loaded from %s: %zu rules, %zu map entries, mode %s",
	       d->rules.sha256, path, p->n_rules, pp->compiled.n,
	       p->flags & BW_POLICY_AUDIT ? "audit" : "enforce");
	grants_set(d, p);
	loaded_event(d, d->policy_path, p, reason);
	return 0;
}

/*
 * May a change (op "policy" with the new policy's sha256, or "unload") go
 * ahead? Locked: only with a payload signed by the lock's key for exactly
 * this change, of a version above the last accepted (*ret_version, to be
 * recorded once the change is made). Protected and not locked: never.
 * Neither: yes. Refusals fill why.
 */
int authorize_change(struct daemon *d, const char *op, const char *sha_hex, const char *signature,
		     uint64_t *ret_version, char *why, size_t why_len)
{
	struct bw_lock lk;
	uint64_t version = 0;
	int r;

	*ret_version = 0;
	if (bw_kernel_lock_get(&d->kernel, &lk) < 0 || !lk.locked) {
		if (!protection_on(d))
			return 0;
		snprintf(why, why_len, "%s", protection_refusal);
		return -EPERM;
	}
	if (!signature) {
		snprintf(why, why_len,
			 "bulwark is locked: this change needs a payload signed with the lock's key "
			 "(`bulwark sign`, docs/threat-model.md)");
		return -EPERM;
	}
	r = bw_sign_verify(lk.pubkey, signature, op, sha_hex, &version, why, why_len);
	if (r < 0)
		return r;
	if (version <= lk.version) {
		snprintf(why, why_len,
			 "rolled back: the payload's version %llu is not above %llu, the last accepted",
			 (unsigned long long)version, (unsigned long long)lk.version);
		return -EPERM;
	}
	*ret_version = version;
	return 0;
}

/* Record an accepted payload's version: the same payload never works twice. */
int record_version(struct daemon *d, uint64_t version)
{
	struct bw_lock lk;
	int r;

	if (!version)
		return 0;
	r = bw_kernel_lock_get(&d->kernel, &lk);
	if (r == 0) {
		lk.version = version;
		r = bw_kernel_lock_set(&d->kernel, &lk);
	}
	if (r < 0)
		bw_log(LOG_ERR, "cannot record the lock version %llu: %s", (unsigned long long)version,
		       strerror(-r));
	return r;
}

/* Is `protect self` in force? Then nothing unsigned changes the policy. */
bool protection_on(struct daemon *d)
{
	struct bw_policy_info info;

	return bw_kernel_policy_info(&d->kernel, &info) == 0 && (info.flags & BW_POLICY_PROTECT_SELF);
}

const char protection_refusal[] =
	"protection is on (`protect self`): the policy cannot be changed or unloaded, even by root; "
	"only a payload signed in locked mode can (`bulwark lock`, docs/threat-model.md), or a boot "
	"without bulwark";

/*
 * `bulwark policy load` (reason "request", with the signed payload if
 * locked) and SIGHUP ("sighup", never signed).
 */
int load_policy(struct daemon *d, const char *path, const char *reason, const char *signature,
		char **ret_diag)
{
	struct prepared pp;
	char *diag = NULL, why[512] = "", hex[65];
	uint64_t version = 0;
	int r = prepare_policy(path, NULL, NULL, &pp, &diag);

	if (r == 0) {
		bw_hex(pp.policy->sha256, sizeof(pp.policy->sha256), hex);
		r = authorize_change(d, "policy", hex, signature, &version, why, sizeof(why));
		if (r < 0) {
			free(diag);
			if (asprintf(&diag, "%s: %s\n", path, why) < 0)
				diag = NULL;
			bw_log(LOG_WARNING, "policy %s refused: %s", path, why);
		}
	}
	if (r == 0) {
		char *err = NULL;

		r = commit_policy(d, path, &pp, reason, &err);
		if (err) {
			free(diag);
			diag = err;
		}
		if (r == 0)
			record_version(d, version);
	}
	prepared_free(&pp); /* safe after a failed prepare, which already freed it */
	free(d->last_load_error);
	d->last_load_error = r < 0 ? strdup(diag ? diag : "policy rejected") : NULL;
	if (r < 0) {
		bw_log(LOG_ERR, "policy %s rejected; the previous policy stays in force", path);
		rejected_event(d, reason, path, diag);
	}
	*ret_diag = diag;
	return r;
}

/* Would the prepared policy resolve everything to what is in force? */
static bool resolves_same(const struct daemon *d, const struct prepared *pp)
{
	size_t i = 0;

	if (pp->compiled.n_resolved != d->drift.n)
		return false;
	while (i < d->drift.n && pp->compiled.resolved[i].dev == d->drift.v[i].dev &&
	       pp->compiled.resolved[i].ino == d->drift.v[i].ino)
		i++;
	return i == d->drift.n;
}

/*
 * A directory or cgroup the policy names was replaced or recreated:
 * compile the same policy text again, keeping every exact file's identity,
 * and swap it in. Text edited since the load is the admin's to load.
 * Returns 0 when it swapped.
 */
static int reresolve(struct daemon *d)
{
	struct prepared pp;
	char *diag = NULL, *path = NULL;
	int r;

	if (!d->policy_path)
		return -ENOENT;
	r = prepare_policy(d->policy_path, &d->drift, d->rules.sha256, &pp, &diag);
	if (r == -ESTALE) {
		if (!d->reresolve_warned) {
			bw_log(LOG_WARNING,
			       "not re-resolving: %s was edited since policy %.12s loaded; review it and run `bulwark policy load`",
			       d->policy_path, d->rules.sha256);
			rejected_event(d, "re-resolve", d->policy_path,
				       "the policy files were edited since they were loaded: review them and run `bulwark policy load`");
		}
		d->reresolve_warned = true;
		return r;
	}
	if (r == 0 && resolves_same(d, &pp)) {
		/* Nothing would change (what drifted is not followed after all): no swap. */
		prepared_free(&pp);
		free(diag);
		return -EALREADY;
	}
	if (r == 0) {
		/* commit_policy replaces d->policy_path: hand it a copy. */
		path = strdup(d->policy_path);
		if (!path)
			abort();
		free(diag);
		diag = NULL;
		r = commit_policy(d, path, &pp, "re-resolve", &diag);
		free(path);
		prepared_free(&pp);
	}
	if (r < 0) {
		bw_log(LOG_ERR, "re-resolving %s failed; the policy in force is unchanged:\n%s", d->policy_path,
		       diag ? diag : "");
		rejected_event(d, "re-resolve", d->policy_path, diag);
	} else {
		bw_log(LOG_NOTICE, "policy %.12s re-resolved: generation %llu", d->rules.sha256,
		       (unsigned long long)d->rules_gen);
	}
	free(diag);
	return r;
}

/* Look for drift now; re-resolve what bulwarkd follows, once per distinct drift. */
void check_drift(struct daemon *d)
{
	int64_t started = now_ms();
	struct json_object *fresh = json_object_new_array();
	bool rewatched = false;

	d->drift_checked_ms = started;
	struct drift_report rep = drift_scan(&d->drift, NULL, 0, fresh);

	for (size_t i = 0; i < json_object_array_length(fresh); i++)
		policy_event(d, "drift", "watch", json_object_get(json_object_array_get_idx(fresh, i)));
	json_object_put(fresh);
	if (d->rewatch || rep.missing != d->last_missing) {
		/* A directory that went or came back: watch the nearest one that exists. */
		d->rewatch = false;
		d->last_missing = rep.missing;
		drift_rewatch(&d->drift);
		watch_drift(d);
		rewatched = true;
	}
	if (rep.relocated && rep.fingerprint != d->failed_drift && reresolve(d) < 0)
		d->failed_drift = rep.fingerprint;
	/*
	 * Whatever this cost (a huge policy, a busy watched directory, someone
	 * renaming a watched directory in a loop), the next check waits ten
	 * times as long: at most a tenth of a CPU.
	 */
	d->settle_ms = 10 * (now_ms() - started);
	if (d->settle_ms < DRIFT_SETTLE_MS)
		d->settle_ms = DRIFT_SETTLE_MS;
	/*
	 * A new watch reports only what happens after it: a cgroup recreated
	 * between the scan above and the watch would wait for the full
	 * period. One more look finds it.
	 */
	if (rewatched)
		schedule(d, TASK_DRIFT_CHECK, now_ms() + d->settle_ms);
}
