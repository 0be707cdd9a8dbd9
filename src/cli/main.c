// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulwark: the administrator's command line. It talks to bulwarkd only
 * through libbulwark, never to the kernel objects directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bulwark/bulwark.h>

#include "cli.h"


static const char *socket_path;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: bulwark [--socket PATH] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  status [--json]               daemon, active policy and counters\n"
		"  policy check [--strict] [--root DIR] [PATH]\n"
		"                                lint a policy offline (no daemon needed)\n"
		"  policy load [PATH]            compile and atomically install a policy\n"
		"                                (PATH defaults to " BULWARK_POLICY_DIR ")\n"
		"  policy explain [--policy PATH] OP OBJECT [as SEL...]\n"
		"                                which rule decides, and which it beats\n"
		"  events [--follow] [--json]    recent events; --follow streams new ones\n"
		"  unload [--signature FILE]     detach all programs and remove all pins\n"
		"  key gen PREFIX                an Ed25519 key pair for locked mode\n"
		"  sign --key K --version N (policy PATH | unload)\n"
		"                                a signed payload for locked mode\n"
		"  lock PUBFILE                  locked mode: changes need signed payloads\n"
		"  trust add [-r] PATH...        hash files and trust their content\n"
		"  trust remove [-r] PATH...     stop trusting paths (and what is below them)\n"
		"  trust list [--json]           the trust database\n"
		"  trust verify                  re-hash every entry; report changed and missing\n"
		"  trust import dpkg [--changed] trust installed packages' files that match dpkg\n"
		"  help                          show this help\n"
		"\n"
		"Run `bulwark COMMAND --help` for a command's details.\n"
		"\n"
		"Exit status:\n"
		"   0  success\n"
		"   1  failure: policy errors, rejected load, daemon error, a file not trusted\n"
		"   2  policy check --strict found warnings only\n"
		"  64  usage error\n"
		"  69  bulwarkd is not running (or the socket is not reachable)\n");
}

static void log_to_stderr(void *userdata, enum bw_log_level level, const char *msg)
{
	(void)userdata;
	if (level <= BW_LOG_WARNING)
		fprintf(stderr, "bulwark: %s\n", msg);
}

int trust_sync_daemon(bool quiet)
{
	struct bw_client_opts opts = {
		.sz = sizeof(opts),
		.socket_path = socket_path,
		.log = log_to_stderr,
	};
	struct bw_client *c = NULL;
	char *json = NULL;
	int r = bw_client_new(&c, &opts);

	if (quiet && (r == -ENOENT || r == -ECONNREFUSED))
		return EXIT_OK; /* no bulwarkd: it reads the database when it starts */
	if (r < 0) {
		bw_client_free(c);
		c = NULL;
		r = connect_daemon(&c);
		bw_client_free(c);
		return r ? r : EXIT_NO_DAEMON;
	}
	r = bw_client_trust_sync(c, &json);
	if (r < 0) {
		const char *why = bw_client_error(c);

		fprintf(stderr, "bulwark: bulwarkd could not read the trust database: %s\n",
			why ? why : strerror(-r));
		bw_client_free(c);
		return EXIT_FAIL;
	}
	printf("bulwarkd: %s\n", json);
	free(json);
	bw_client_free(c);
	return EXIT_OK;
}

/* The daemon's words for a refused request when it gave some (a grant's limits), else errno's. */
const char *refusal(const struct bw_client *c, int r)
{
	const char *why = c ? bw_client_error(c) : NULL;

	return why ? why : strerror(-r);
}

int connect_daemon(struct bw_client **ret)
{
	struct bw_client_opts opts = {
		.sz = sizeof(opts),
		.socket_path = socket_path,
		.log = log_to_stderr,
	};
	int r = bw_client_new(ret, &opts);

	if (r == -ENOENT || r == -ECONNREFUSED) {
		fprintf(stderr, "bulwark: bulwarkd is not running (no socket at %s); start it with `bulwarkd --policy FILE`\n",
			socket_path ? socket_path : BULWARK_SOCKET_PATH);
		return EXIT_NO_DAEMON;
	}
	if (r == -EACCES || r == -EPERM) {
		fprintf(stderr, "bulwark: permission denied on the control socket: run as root\n");
		return EXIT_NO_DAEMON;
	}
	if (r < 0) {
		fprintf(stderr, "bulwark: cannot reach bulwarkd: %s\n", strerror(-r));
		return EXIT_NO_DAEMON;
	}
	return EXIT_OK;
}

/* Commands take only --help and their own flags; getopt per command. */
bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && !json_object_is_type(v, json_type_null) ?
		       json_object_get_string(v) : NULL;
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Paths the policy named that resolve elsewhere now (docs/policy.md, decision 34). */
static void print_drift(struct json_object *pol)
{
	struct json_object *list = json_object_object_get(pol, "drift");
	size_t listed = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	long long count = jint(pol, "drift_count");
	struct json_object *old = json_object_object_get(pol, "retired");
	size_t n_old = json_object_is_type(old, json_type_array) ? json_object_array_length(old) : 0;

	printf("resolved:  %lld paths", (long long)jint(pol, "resolved"));
	if (!count)
		printf(", all as loaded\n");
	/* Files and directories followed to a replacement: their deny and audit rules keep the old one. */
	for (size_t i = 0; i < n_old; i++) {
		struct json_object *e = json_object_array_get_idx(old, i);

		printf("  %s: %s %s was replaced; its old %s (%s inode %lld) is still denied and audited\n",
		       jstr(e, "rule"), jstr(e, "kind"), jstr(e, "path"),
		       strcmp(jstr(e, "kind") ? jstr(e, "kind") : "", "file") == 0 ? "file" : "directory",
		       jstr(e, "dev"), (long long)jint(e, "ino"));
	}
	if (!count)
		return;
	printf(", %lld changed since the load:\n", count);
	for (size_t i = 0; i < listed; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		const char *kind = jstr(e, "kind"), *now = jstr(e, "now");
		bool file = kind && strcmp(kind, "file") == 0;

		printf("  %s: %s %s ", jstr(e, "rule"), kind, jstr(e, "path"));
		if (now && strcmp(now, "missing") == 0)
			printf("is missing\n");
		else if (file && !json_object_get_boolean(json_object_object_get(e, "followed")))
			printf("is a different file now, put there where not only root can write: not followed, its rules keep the one they were given\n");
		else if (json_object_get_boolean(json_object_object_get(e, "followed")))
			printf("was replaced: bulwarkd re-resolves it (unless the policy files were edited)\n");
		else
			printf("was replaced where not only root can write: not followed\n");
	}
	if ((size_t)count > listed)
		printf("  ... (bulwark status --json lists the first %zu)\n", listed);
	printf("  `bulwark policy load` re-resolves every path\n");
}

static void print_status(struct json_object *s)
{
	struct json_object *pol, *counters, *files, *enf, *trust;

	printf("bulwarkd:  running, pid %lld%s\n", (long long)jint(s, "daemon_pid"),
	       json_object_get_boolean(json_object_object_get(s, "adopted")) ?
		       " (adopted pinned programs)" : "");
	enf = json_object_object_get(s, "enforcement");
	if (enf) {
		struct json_object *links = json_object_object_get(enf, "links"), *why;
		bool on = jstr(enf, "state") && strcmp(jstr(enf, "state"), "on") == 0;

		printf("kernel:    enforcement %s: %lld of %lld links attached, programs %s",
		       jstr(enf, "state") ? jstr(enf, "state") : "unknown", (long long)jint(links, "attached"),
		       (long long)jint(links, "expected"),
		       json_object_get_boolean(json_object_object_get(enf, "programs_called")) ?
			       "called" : "NOT called");
		why = json_object_object_get(enf, "reasons");
		for (size_t i = 0; !on && why && i < json_object_array_length(why); i++)
			printf("%s%s", i ? ", " : " (", json_object_get_string(json_object_array_get_idx(why, i)));
		printf("%s\n", !on && why && json_object_array_length(why) ? ")" : "");
		if (jint(enf, "repairs"))
			printf("repairs:   %lld pins or mounts restored since the daemon started\n",
			       (long long)jint(enf, "repairs"));
	}
	pol = json_object_object_get(s, "policy");
	if (pol && !json_object_is_type(pol, json_type_null)) {
		printf("policy:    %.16s  generation %lld, %lld rules, mode %s\n", jstr(pol, "sha256"),
		       (long long)jint(pol, "generation"), (long long)jint(pol, "rules"), jstr(pol, "mode"));
		printf("loaded:    %s", jstr(pol, "loaded_at"));
		files = json_object_object_get(pol, "files");
		if (files && json_object_array_length(files))
			printf(" from %s%s", json_object_get_string(json_object_array_get_idx(files, 0)),
			       json_object_array_length(files) > 1 ? " (+includes)" : "");
		printf("\n");
		print_drift(pol);
	} else {
		printf("policy:    none (every operation is allowed)\n");
	}
	trust = json_object_object_get(s, "trust");
	if (trust && (jint(trust, "entries") || jstr(trust, "error")))
		printf("trust:     %lld files trusted in the kernel of %lld entries (%lld rejected, %lld missing) from %s%s%s\n",
		       (long long)jint(trust, "trusted"), (long long)jint(trust, "entries"),
		       (long long)jint(trust, "rejected"), (long long)jint(trust, "missing"), jstr(trust, "db"),
		       jstr(trust, "error") ? "; last read failed: " : "",
		       jstr(trust, "error") ? jstr(trust, "error") : "");
	counters = json_object_object_get(s, "counters");
	json_object_object_foreach(counters, op, per)
	{
		printf("%-10s decisions %lld  allowed %lld  denied %lld  would-deny %lld  audited %lld  events %lld  helper-errors %lld\n",
		       op, (long long)jint(per, "decisions"), (long long)jint(per, "allowed"),
		       (long long)jint(per, "denied"), (long long)jint(per, "would_deny"),
		       (long long)jint(per, "audited"), (long long)jint(per, "events"),
		       (long long)jint(per, "helper_errors"));
	}
	printf("dropped:   %lld in the kernel ring buffer, %lld to slow subscribers, %lld clients not reading, %lld idle clients evicted\n",
	       (long long)jint(s, "ringbuf_drops"), (long long)jint(s, "subscriber_drops"),
	       (long long)jint(s, "clients_dropped"), (long long)jint(s, "clients_evicted"));
	if (jstr(s, "last_load_error"))
		printf("last failed load:\n%s", jstr(s, "last_load_error"));
}

static int cmd_status(int argc, char **argv)
{
	struct bw_client *c = NULL;
	struct json_object *s;
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	char *text = NULL;
	int r;

	if (want_help(argc, argv)) {
		printf("Usage: bulwark status [--json]\n\nShow whether bulwarkd runs, the active policy (sha256 of its text, generation,\nrules, mode, load time), the paths it names that were replaced since the load,\nwhat the kernel actually runs (links attached, whether the programs are\ncalled: a canary decision checked now), and per-operation counters,\nincluding dropped events.\n");
		return EXIT_OK;
	}
	if (argc > 1 + json) {
		fprintf(stderr, "bulwark status: unexpected argument '%s'\n", argv[1 + json]);
		return EXIT_USAGE;
	}
	r = connect_daemon(&c);
	if (r != EXIT_OK) {
		if (access("/sys/fs/bpf/bulwark", F_OK) == 0)
			fprintf(stderr, "bulwark: pinned programs are still enforcing the last policy (see `bulwark unload`)\n");
		return r;
	}
	r = bw_client_status(c, &text);
	if (r < 0) {
		fprintf(stderr, "bulwark: status failed: %s\n", refusal(c, r));
		bw_client_free(c);
		return EXIT_FAIL;
	}
	bw_client_free(c);
	if (json) {
		printf("%s\n", text);
	} else {
		s = json_tokener_parse(text);
		print_status(s);
		json_object_put(s);
	}
	free(text);
	return EXIT_OK;
}

static int cmd_policy_check(int argc, char **argv)
{
	bool strict = false;
	const char *path = NULL, *root = NULL;
	char *diag = NULL;
	unsigned warnings = 0;
	int r;

	if (want_help(argc, argv)) {
		printf("Usage: bulwark policy check [--strict] [--root DIR] [PATH]\n\n"
		       "Parse and compile PATH (a file, or a directory of *.rules) on this host,\n"
		       "without a daemon. Problems print as file:line:col: error: ... with the\n"
		       "line, a caret and a hint. Exit 0 clean, 1 errors, 2 warnings with --strict.\n"
		       "--root DIR resolves the files the rules name below DIR, to check a policy\n"
		       "for a system image or container root before it ships.\n"
		       "PATH defaults to " BULWARK_POLICY_DIR ".\n");
		return EXIT_OK;
	}

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--strict") == 0)
			strict = true;
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr, "bulwark policy check: unexpected argument '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!path)
		path = BULWARK_POLICY_DIR;
	r = bw_policy_check_root(path, root, &diag, &warnings);
	if (diag)
		fputs(diag, stderr);
	free(diag);
	if (r == -EINVAL)
		return EXIT_FAIL;
	if (r < 0) {
		fprintf(stderr, "bulwark: %s: %s\n", path, strerror(-r));
		return EXIT_FAIL;
	}
	printf("%s: ok%s\n", path, warnings ? " (with warnings)" : "");
	return strict && warnings ? EXIT_WARNINGS : EXIT_OK;
}

/* A small text file (a signed payload), whole; NULL with errno set on failure. */
static char *read_text(const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	buf = calloc(1, 8192);
	if (buf)
		len = fread(buf, 1, 8191, f);
	if (buf && (ferror(f) || len == 8191)) {
		free(buf);
		buf = NULL;
		errno = EFBIG;
	}
	fclose(f);
	return buf;
}

/* A signed payload named by --signature, or PATH.sig when it exists; *ret NULL if neither. */
static int load_signature(const char *given, const char *policy_path, char **ret)
{
	char *guess = NULL;

	*ret = NULL;
	if (!given && policy_path) {
		size_t len = strlen(policy_path);

		while (len > 1 && policy_path[len - 1] == '/')
			len--;
		if (asprintf(&guess, "%.*s.sig", (int)len, policy_path) < 0)
			return -ENOMEM;
		if (access(guess, F_OK) < 0) {
			free(guess);
			return 0;
		}
		given = guess;
	}
	if (!given)
		return 0;
	*ret = read_text(given);
	if (!*ret) {
		fprintf(stderr, "bulwark: %s: %s\n", given, strerror(errno));
		free(guess);
		return -errno;
	}
	free(guess);
	return 0;
}

static int cmd_policy_load(int argc, char **argv)
{
	struct bw_client *c = NULL;
	const char *path, *sig_path = NULL;
	char *diag = NULL, *sig = NULL;
	int r;

	if (want_help(argc, argv)) {
		printf("Usage: bulwark policy load [--signature FILE] [PATH]\n\n"
		       "Ask bulwarkd to compile PATH and swap it in atomically. A rejected policy\n"
		       "changes nothing: the previous one stays in force, and the diagnostics are\n"
		       "printed. PATH defaults to " BULWARK_POLICY_DIR ".\n"
		       "In locked mode the load needs a signed payload (`bulwark sign`): FILE, or\n"
		       "PATH.sig when it exists.\n"
		       "Exit 0 loaded, 1 rejected, 69 no daemon.\n");
		return EXIT_OK;
	}
	if (argc >= 3 && strcmp(argv[1], "--signature") == 0) {
		sig_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "Usage: bulwark policy load [--signature FILE] [PATH]\n");
		return EXIT_USAGE;
	}
	path = argc == 2 ? argv[1] : BULWARK_POLICY_DIR;
	if (load_signature(sig_path, path, &sig) < 0)
		return EXIT_FAIL;
	r = connect_daemon(&c);
	if (r != EXIT_OK) {
		free(sig);
		return r;
	}
	r = bw_client_policy_load_signed(c, path, sig, &diag);
	free(sig);
	if (diag)
		fputs(diag, stderr);
	free(diag);
	if (r < 0) {
		fprintf(stderr, "bulwark: %s: %s\n", path,
			r == -EINVAL ? "rejected; the previous policy stays in force" :
			r == -EPERM ? "refused; the previous policy stays in force" : refusal(c, r));
		bw_client_free(c);
		return EXIT_FAIL;
	}
	bw_client_free(c);
	printf("%s: loaded\n", path);
	return EXIT_OK;
}

static int cmd_key(int argc, char **argv)
{
	char *pub = NULL, *sec = NULL;
	int r;

	if (want_help(argc, argv) || argc != 3 || strcmp(argv[1], "gen") != 0) {
		printf("Usage: bulwark key gen PREFIX\n\n"
		       "Make an Ed25519 key pair for locked mode: PREFIX.pub (give it to\n"
		       "`bulwark lock`) and PREFIX.key (secret, mode 0600: keep it off the\n"
		       "machine it locks, and sign with it elsewhere).\n");
		return want_help(argc, argv) ? EXIT_OK : EXIT_USAGE;
	}
	if (asprintf(&pub, "%s.pub", argv[2]) < 0 || asprintf(&sec, "%s.key", argv[2]) < 0)
		return EXIT_FAIL;
	r = bw_key_generate(pub, sec);
	if (r < 0)
		fprintf(stderr, "bulwark: key gen %s: %s\n", argv[2], strerror(-r));
	else
		printf("public key %s, secret key %s\n", pub, sec);
	free(pub);
	free(sec);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int cmd_sign(int argc, char **argv)
{
	const char *key = NULL, *out = NULL, *op = NULL, *path = NULL;
	unsigned long long version = 0;
	char *payload = NULL, *end, *guess = NULL;
	bool have_version = false;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			key = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc) {
			errno = 0;
			version = strtoull(argv[++i], &end, 10);
			have_version = !errno && *end == 0 && argv[i][0] != '-';
		} else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (!op) {
			op = argv[i];
		} else if (!path) {
			path = argv[i];
		} else {
			op = NULL;
			break;
		}
	}
	if (want_help(argc, argv) || !key || !have_version || !op ||
	    !((strcmp(op, "policy") == 0 && path) || (strcmp(op, "unload") == 0 && !path))) {
		printf("Usage: bulwark sign --key SECRET --version N policy PATH [-o OUT]\n"
		       "       bulwark sign --key SECRET --version N unload [-o OUT]\n\n"
		       "Make a signed payload for locked mode: a policy load (by the hash of\n"
		       "PATH's text; written to PATH.sig unless -o) or an unload (to stdout unless\n"
		       "-o). N must be above the last version the locked daemon accepted.\n");
		return want_help(argc, argv) ? EXIT_OK : EXIT_USAGE;
	}
	r = bw_sign(key, op, version, path, &payload);
	if (r < 0) {
		fprintf(stderr, "bulwark: sign: %s\n",
			r == -EINVAL && path ? "the policy has errors (`bulwark policy check`)" : strerror(-r));
		return EXIT_FAIL;
	}
	if (!out && path) {
		size_t len = strlen(path);

		while (len > 1 && path[len - 1] == '/')
			len--;
		if (asprintf(&guess, "%.*s.sig", (int)len, path) < 0)
			return EXIT_FAIL;
		out = guess;
	}
	if (out) {
		FILE *f = fopen(out, "we");

		r = f && fputs(payload, f) >= 0 ? 0 : -errno;
		if (f && fclose(f) != 0 && !r)
			r = -errno;
		if (r < 0)
			fprintf(stderr, "bulwark: %s: %s\n", out, strerror(-r));
		else
			printf("signed %s version %llu: %s\n", op, version, out);
	} else {
		fputs(payload, stdout);
	}
	free(payload);
	free(guess);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int cmd_lock(int argc, char **argv)
{
	struct bw_client *c = NULL;
	char *hex = NULL;
	int r;

	if (want_help(argc, argv) || argc != 2) {
		printf("Usage: bulwark lock PUBFILE\n\n"
		       "Locked mode: from now on a policy change or an unload needs a payload\n"
		       "signed with the key whose public half is PUBFILE (`bulwark sign`), with\n"
		       "a version above the last one accepted. Only a signed unload, or a boot\n"
		       "without bulwark, ends it. Pair it with `protect self` in the policy, or\n"
		       "root can rewrite the lock's map.\n");
		return want_help(argc, argv) ? EXIT_OK : EXIT_USAGE;
	}
	r = bw_key_read_public(argv[1], &hex);
	if (r < 0) {
		fprintf(stderr, "bulwark: %s: %s\n", argv[1],
			r == -EINVAL ? "not a public key (64 hex digits, `bulwark key gen`)" : strerror(-r));
		return EXIT_FAIL;
	}
	r = connect_daemon(&c);
	if (r != EXIT_OK) {
		free(hex);
		return r;
	}
	r = bw_client_lock(c, hex);
	if (r < 0)
		fprintf(stderr, "bulwark: lock: %s\n",
			bw_client_error(c) ? bw_client_error(c) : strerror(-r));
	else
		printf("locked\n");
	bw_client_free(c);
	free(hex);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static void print_rule_ref(const char *label, struct json_object *rule, const char *why)
{
	if (jstr(rule, "gate")) {
		printf("%-9s gate %s: %s\n", label, jstr(rule, "gate"), jstr(rule, "text"));
		return;
	}
	printf("%-9s %s:%lld: %s%s%s%s\n", label, jstr(rule, "file") ? jstr(rule, "file") : "?",
	       (long long)jint(rule, "line"), jstr(rule, "text") ? jstr(rule, "text") : "(rule text unknown)",
	       why ? " (" : "", why ? why : "", why ? ")" : "");
}

static void print_explain(const char *json)
{
	struct json_object *o = json_tokener_parse(json), *rule, *beaten, *obj;

	if (!o) {
		printf("%s\n", json);
		return;
	}
	obj = json_object_object_get(o, "object");
	printf("%s", jstr(o, "op"));
	if (jstr(obj, "path")) {
		printf(" %s", jstr(obj, "path"));
	} else if (jstr(obj, "reason")) {
		printf(" %s", jstr(obj, "reason"));
	} else if (jstr(obj, "image")) {
		printf(" any (image %s)", jstr(obj, "image"));
	} else if (!json_object_object_length(obj)) {
		printf(" any"); /* bpf, the memory controls: no object */
	} else {
		/* a process: the target's selectors (`any` when none) */
		bool named = false;

		json_object_object_foreach(obj, k, v) {
			if (!strstr(k, "_class")) {
				printf(" %s=%s", k, json_object_get_string(v));
				named = true;
			}
		}
		if (!named)
			printf(" any");
		if (json_object_object_get(o, "signal"))
			printf(" signal %s", jstr(o, "signal"));
	}
	printf("\n");
	printf("%-9s %s -> %s (mode %s)\n", "decision:", jstr(o, "decision"), jstr(o, "action"),
	       jstr(o, "mode"));
	rule = json_object_object_get(o, "rule");
	if (rule) {
		print_rule_ref("rule:", rule, NULL);
		printf("%-9s %s\n", "matched:", jstr(o, "matched"));
		if (jstr(o, "required_level"))
			printf("%-9s %s: subjects below it are refused, root included\n", "level:",
			       jstr(o, "required_level"));
	} else {
		printf("%-9s no rule matches: allowed, not reported\n", "rule:");
	}
	beaten = json_object_object_get(o, "beaten");
	for (size_t i = 0; beaten && i < json_object_array_length(beaten); i++) {
		struct json_object *b = json_object_array_get_idx(beaten, i);

		print_rule_ref(i ? "" : "beat:", b, jstr(b, "why"));
	}
	json_object_put(o);
}

static int cmd_policy_explain(int argc, char **argv)
{
	const char *policy = NULL;
	bool as_json = false;
	char *query = NULL, *json = NULL, *diag = NULL;
	size_t len = 0;
	FILE *q;
	int i, r;

	if (want_help(argc, argv)) {
		printf("Usage: bulwark policy explain [--policy PATH] [--json] OP OBJECT [as SELECTOR...]\n"
		       "                                    [with signals=SIG]\n\n"
		       "What would happen if a process did OP on OBJECT? Prints the decision, the\n"
		       "deciding rule (file:line), and the rules it beat. SELECTORs describe the\n"
		       "process: exe=PATH parent=PATH cgroup=PATH uid=USER gid=GROUP. OBJECT is a\n"
		       "file, or for fork/thread/read/write/signal/control the target process's\n"
		       "selectors (or any); a signal query names one signal. module and kexec take\n"
		       "a file, or any for an image from memory; lockdown one reason; bpf any.\n"
		       "  bulwark policy explain exec /usr/bin/curl as exe=/usr/sbin/nginx uid=33\n"
		       "  bulwark policy explain signal exe=/opt/agent as uid=1000 with signals=KILL\n"
		       "  bulwark policy explain lockdown dev-mem as uid=0\n"
		       "With --policy, answers offline from PATH; otherwise asks bulwarkd, which\n"
		       "answers from the entries the kernel holds now.\n"
		       "Exit 0 answered, 1 bad query or policy, 69 no daemon.\n");
		return EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			policy = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "Usage: bulwark policy explain [--policy PATH] [--json] OP OBJECT [as SELECTOR...] [with signals=SIG]\n");
		return EXIT_USAGE;
	}
	/* The words are the query, in the policy language's own quoting. */
	q = open_memstream(&query, &len);
	if (!q)
		return EXIT_FAIL;
	for (int k = i; k < argc; k++) {
		bool quote = strpbrk(argv[k], " \t#\"") != NULL;

		fputs(k > i ? " " : "", q);
		if (!quote) {
			fputs(argv[k], q);
			continue;
		}
		fputc('"', q);
		for (const char *c = argv[k]; *c; c++) {
			if (*c == '"' || *c == '\\')
				fputc('\\', q);
			fputc(*c, q);
		}
		fputc('"', q);
	}
	fclose(q);
	if (policy) {
		r = bw_policy_explain(policy, query, &json, &diag);
		if (r < 0 && !diag)
			fprintf(stderr, "bulwark: explain: %s\n", strerror(-r));
	} else {
		struct bw_client *c = NULL;

		r = connect_daemon(&c);
		if (r != EXIT_OK) {
			free(query);
			return r;
		}
		r = bw_client_explain(c, query, &json, &diag);
		if (r < 0 && !diag)
			fprintf(stderr, "bulwark: explain: %s\n", r == -ENOENT ? "no policy is loaded" : refusal(c, r));
		bw_client_free(c);
	}
	if (diag)
		fputs(diag, stderr);
	if (r == 0) {
		if (as_json)
			printf("%s\n", json);
		else
			print_explain(json);
	}
	free(query);
	free(json);
	free(diag);
	return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int cmd_policy(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		printf("Usage: bulwark policy check [--strict] [--root DIR] [PATH]\n"
		       "       bulwark policy load [PATH]\n"
		       "       bulwark policy explain [--policy PATH] [--json] OP OBJECT [as SELECTOR...]\n\n"
		       "check  parse and compile offline; prints file:line:col: error: ... with a hint.\n"
		       "       Exit 0 clean, 1 errors, 2 warnings with --strict.\n"
		       "load   send to bulwarkd, which compiles it and swaps it in atomically.\n"
		       "       A rejected policy changes nothing: the previous one stays in force.\n"
		       "explain  what would happen, which rule decides and which rules it beats;\n"
		       "       offline with --policy, else live from the kernel's entries.\n"
		       "PATH is a policy file or a directory of *.rules files (natural sort order);\n"
		       "it defaults to " BULWARK_POLICY_DIR ".\n"
		       "The language is documented in docs/policy.md.\n");
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_policy_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "load") == 0)
		return cmd_policy_load(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_policy_explain(argc - 1, argv + 1);
	fprintf(stderr, "bulwark policy: unknown subcommand '%s' (check, load, explain)\n", argv[1]);
	return EXIT_USAGE;
}

/* What an event acted on, for the table: a file, a process, or a notification's subject. */
static void event_object(struct json_object *e, char *buf, size_t len)
{
	struct json_object *target = json_object_object_get(e, "target"), *x;
	const char *s;

	if (json_object_object_get_ex(e, "child", &x) || json_object_object_get_ex(e, "thread", &x)) {
		snprintf(buf, len, "%s %lld", json_object_object_get(e, "child") ? "child" : "thread",
			 (long long)jint(x, "tid"));
	} else if (json_object_object_get_ex(e, "argv", &x) && json_object_array_length(x) > 0) {
		snprintf(buf, len, "%s", json_object_get_string(json_object_array_get_idx(x, 0)));
	} else if (json_object_object_get_ex(e, "exit", &x)) {
		snprintf(buf, len, "exit %lld%s%s", (long long)jint(x, "code"),
			 jstr(x, "signal") ? " " : "", jstr(x, "signal") ? jstr(x, "signal") : "");
	} else if (target && jstr(target, "path")) {
		snprintf(buf, len, "%s", jstr(target, "path"));
	} else if (target && (jstr(target, "reason") || jstr(target, "command"))) {
		snprintf(buf, len, "%s", jstr(target, "reason") ? jstr(target, "reason") : jstr(target, "command"));
	} else if (target && jstr(target, "image")) {
		snprintf(buf, len, "(image %s)", jstr(target, "image"));
	} else if (target && jstr(target, "memory")) {
		snprintf(buf, len, "(%s memory)", jstr(target, "memory"));
	} else if (target && json_object_object_get_ex(target, "pid", &x)) {
		s = jstr(target, "exe");
		snprintf(buf, len, "pid %lld %s", (long long)jint(target, "pid"), s ? s : "?");
		if (jstr(e, "signal"))
			snprintf(buf + strlen(buf), len - strlen(buf), " %s", jstr(e, "signal"));
	} else {
		snprintf(buf, len, "%s", target ? "?" : "-");
	}
}

/* A policy event (docs/events.md) as one table line. */
static void print_policy_event(struct json_object *e)
{
	struct json_object *pol = json_object_object_get(e, "policy"), *by = json_object_object_get(e, "by");
	const char *event = jstr(e, "event") ? jstr(e, "event") : "-";
	char what[600];

	if (strcmp(event, "loaded") == 0)
		snprintf(what, sizeof(what), "%.12s generation %lld (%s)",
			 jstr(pol, "sha256") ? jstr(pol, "sha256") : "?", (long long)jint(pol, "generation"),
			 jstr(e, "reason"));
	else if (strcmp(event, "drift") == 0)
		snprintf(what, sizeof(what), "%s %s %s%s", jstr(e, "kind"), jstr(e, "path"), jstr(e, "now"),
			 json_object_get_boolean(json_object_object_get(e, "followed")) ? ", followed" : "");
	else
		snprintf(what, sizeof(what), "%s (%s)", jstr(e, "path") ? jstr(e, "path") : "-",
			 jstr(e, "reason"));
	printf("%-23.23s %-11s %-12s %7lld %-15s %-40s %s\n", jstr(e, "time") ? jstr(e, "time") : "-",
	       "policy", event, by ? (long long)jint(by, "pid") : 0LL, "-", what,
	       jstr(e, "rule") ? jstr(e, "rule") : "-");
	fflush(stdout);
}

static int print_event(void *userdata, const char *json)
{
	bool as_json = *(bool *)userdata;
	struct json_object *e, *proc, *rule;
	char where[64] = "-", object[600];
	bool notice;

	if (as_json) {
		printf("%s\n", json);
		fflush(stdout);
		return 0;
	}
	e = json_tokener_parse(json);
	if (!e)
		return 0;
	if (jstr(e, "type") && strcmp(jstr(e, "type"), "policy") == 0) {
		print_policy_event(e);
		json_object_put(e);
		return 0;
	}
	notice = jstr(e, "type") && strcmp(jstr(e, "type"), "process") == 0;
	proc = json_object_object_get(e, "process");
	rule = json_object_object_get(e, "rule");
	if (rule && jstr(rule, "file")) {
		const char *f = jstr(rule, "file"), *base = strrchr(f, '/');

		snprintf(where, sizeof(where), "%s:%lld", base ? base + 1 : f, (long long)jint(rule, "line"));
	} else if (rule && jstr(rule, "gate")) {
		snprintf(where, sizeof(where), "gate:%s", jstr(rule, "gate"));
	}
	event_object(e, object, sizeof(object));
	printf("%-23.23s %-11s %-12s %7lld %-15s %-40s %s\n", jstr(e, "time") ? jstr(e, "time") : "-",
	       notice ? "notice" : jstr(e, "action") ? jstr(e, "action") : "-",
	       jstr(e, notice ? "event" : "op") ? jstr(e, notice ? "event" : "op") : "-",
	       (long long)jint(proc, "pid"), jstr(proc, "comm") ? jstr(proc, "comm") : "-", object,
	       where);
	fflush(stdout);
	json_object_put(e);
	return 0;
}

static int cmd_events(int argc, char **argv)
{
	struct bw_client *c = NULL;
	bool follow = false, json = false;
	int r;

	if (want_help(argc, argv)) {
		printf("Usage: bulwark events [--follow] [--json]\n\n"
		       "Print the daemon's recent events (up to 1024), one per line, as a table:\n"
		       "decisions, process notifications, and policy changes (loads, refusals, drift).\n"
		       "--follow  keep streaming new events until interrupted\n"
		       "--json    print each event as its JSON object (schema: docs/events.md)\n");
		return EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
			follow = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "bulwark events: unexpected argument '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	r = connect_daemon(&c);
	if (r != EXIT_OK)
		return r;
	if (!json)
		printf("%-23s %-11s %-12s %7s %-15s %-40s %s\n", "TIME", "ACTION", "OP", "PID", "COMM",
		       "TARGET", "RULE");
	r = bw_client_events(c, BW_EVENTS_BACKLOG | (follow ? BW_EVENTS_FOLLOW : 0), print_event, &json);
	if (r < 0) {
		fprintf(stderr, "bulwark: events: %s\n", refusal(c, r));
		bw_client_free(c);
		return EXIT_FAIL;
	}
	bw_client_free(c);
	return EXIT_OK;
}

static int cmd_unload(int argc, char **argv)
{
	struct bw_client *c = NULL;
	char *sig = NULL;
	int r;

	if (want_help(argc, argv) || !(argc == 1 || (argc == 3 && strcmp(argv[1], "--signature") == 0))) {
		printf("Usage: bulwark unload [--signature FILE]\n\n"
		       "Detach every bulwark program and remove every pin under /sys/fs/bpf/bulwark;\n"
		       "stops bulwarkd. Without a running daemon, removes the pins directly.\n"
		       "Refused while `protect self` is in force, except in locked mode with a\n"
		       "signed unload payload (`bulwark sign ... unload`) in FILE.\n");
		return want_help(argc, argv) ? EXIT_OK : EXIT_USAGE;
	}
	if (argc == 3 && load_signature(argv[2], NULL, &sig) < 0)
		return EXIT_FAIL;
	r = connect_daemon(&c);
	if (r == EXIT_NO_DAEMON) {
		free(sig);
		r = bw_unload_pins();
		if (r == -ENOENT) {
			printf("nothing to unload\n");
			return EXIT_OK;
		}
		if (r < 0) {
			fprintf(stderr, "bulwark: cannot remove pins: %s%s\n", strerror(-r),
				r == -EPERM ? " (protection is on: only bulwarkd may remove them)" : "");
			return EXIT_FAIL;
		}
		printf("unloaded (pins removed; no daemon was running)\n");
		return EXIT_OK;
	}
	if (r != EXIT_OK) {
		free(sig);
		return r;
	}
	r = bw_client_unload_signed(c, sig);
	free(sig);
	if (r < 0) {
		fprintf(stderr, "bulwark: unload: %s\n", bw_client_error(c) ? bw_client_error(c) : strerror(-r));
		bw_client_free(c);
		return EXIT_FAIL;
	}
	bw_client_free(c);
	printf("unloaded\n");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("bulwark %d.%d.%d\n", BULWARK_VERSION_MAJOR, BULWARK_VERSION_MINOR,
			       BULWARK_VERSION_PATCH);
			return EXIT_OK;
		} else {
			fprintf(stderr, "bulwark: unknown option '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= i;
	argv += i;
	if (strcmp(argv[0], "status") == 0)
		return cmd_status(argc, argv);
	if (strcmp(argv[0], "policy") == 0)
		return cmd_policy(argc, argv);
	if (strcmp(argv[0], "events") == 0)
		return cmd_events(argc, argv);
	if (strcmp(argv[0], "unload") == 0)
		return cmd_unload(argc, argv);
	if (strcmp(argv[0], "key") == 0)
		return cmd_key(argc, argv);
	if (strcmp(argv[0], "sign") == 0)
		return cmd_sign(argc, argv);
	if (strcmp(argv[0], "lock") == 0)
		return cmd_lock(argc, argv);
	if (strcmp(argv[0], "trust") == 0)
		return cmd_trust(argc, argv);
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	fprintf(stderr, "bulwark: unknown command '%s'; see `bulwark --help`\n", argv[0]);
	return EXIT_USAGE;
}
