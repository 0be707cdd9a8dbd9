// SPDX-License-Identifier: MIT
/*
 * Precedence, as docs/policy.md ("Which rule decides") states it: for every
 * kind of pair of rules that can conflict, both file orders, the winner the
 * documentation predicts, asked through the public explain API (which
 * replays the kernel's lookup order over the compiled entries; the VM tests
 * check that explain and the kernel agree).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <sodium.h>

#include "bulwark/bulwark.h"
#include "../../src/lib/trust.h"

static char dir[] = "/tmp/bw-prec-XXXXXX";
/* The trust database's files, and the hex SHA-256 of opt/app/tool ("%" in rows). */
static const char *const trusted[] = { "opt/app/tool", "usr/bin/id" };
static char tool_hex[65];

static const char *const files[] = {
	"opt/app/tool", "opt/app/other", "opt/lib/x", "x",
	"usr/sbin/nginx", "usr/sbin/other", "usr/bin/id", "usr/lib/sub/prog",
};

static int setup(void **state)
{
	char path[256], cmd[300];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		snprintf(cmd, sizeof(cmd), "mkdir -p $(dirname %s)", path);
		if (system(cmd) != 0 || !(f = fopen(path, "w")))
			return -1;
		fputs(files[i], f); /* distinct contents: distinct hashes */
		fclose(f);
	}
	{
		uint8_t h[32];
		struct bw_trust *t = NULL;
		struct bw_trust_stats st = { 0 };
		char db[300], err[256], *paths[2];

		snprintf(db, sizeof(db), "%s/trust.db", dir);
		setenv(BW_TRUST_DB_ENV, db, 1);
		if (bw_trust_open(&t, db, BW_TRUST_WRITE, err, sizeof(err)) < 0)
			return -1;
		for (int i = 0; i < 2; i++) {
			paths[i] = malloc(300);
			snprintf(paths[i], 300, "%s/%s", dir, trusted[i]);
		}
		if (bw_trust_add(t, paths, 2, false, NULL, &st) < 0 || st.trusted != 2)
			return -1;
		bw_trust_close(t);
		free(paths[0]);
		free(paths[1]);
		crypto_hash_sha256(h, (const uint8_t *)"opt/app/tool", strlen("opt/app/tool"));
		for (int i = 0; i < 32; i++)
			snprintf(tool_hex + 2 * i, 3, "%02x", h[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Replace every "@" by the temporary directory. */
static void expand(const char *tmpl, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *s = tmpl; *s && n + strlen(dir) + 1 < cap; s++) {
		if (*s == '@') {
			memcpy(out + n, dir, strlen(dir));
			n += strlen(dir);
		} else if (*s == '%' && n + 64 < cap) {
			memcpy(out + n, tool_hex, 64);
			n += 64;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = 0;
}

enum winner { A, B, FIRST };

struct row {
	const char *why;   /* the clause of docs/policy.md this row checks */
	const char *a, *b; /* the two rules */
	const char *query;
	const char *decision; /* what the winner decides: allow, deny, audit */
	enum winner winner;   /* FIRST: whichever was written first */
};

static const struct row rows[] = {
	/* 1. the most specific object wins */
	{ "exact file beats tree", "allow exec @/opt/**", "deny exec @/opt/app/tool",
	  "exec @/opt/app/tool", "deny", B },
	{ "exact file beats tree, allow side", "deny exec @/opt/**", "allow exec @/opt/app/tool",
	  "exec @/opt/app/tool", "allow", B },
	{ "deeper tree beats shallower", "deny exec @/opt/**", "allow exec @/opt/app/**",
	  "exec @/opt/app/tool", "allow", B },
	{ "shallower tree still decides outside the deeper", "deny exec @/opt/**",
	  "allow exec @/opt/app/**", "exec @/opt/lib/x", "deny", A },
	{ "tree beats any", "deny exec any", "allow exec @/opt/**", "exec @/opt/app/tool", "allow", B },
	{ "exact file beats any", "allow exec any", "deny exec @/x", "exec @/x", "deny", B },
	{ "object before subject: file beats subject tree rule",
	  "allow exec @/usr/bin/id", "deny exec @/usr/** from exe=@/usr/sbin/nginx",
	  "exec @/usr/bin/id as exe=@/usr/sbin/nginx", "allow", A },
	{ "object before subject: tree beats subject any rule", "allow exec @/usr/**",
	  "deny exec any from exe=@/usr/sbin/nginx", "exec @/usr/bin/id as exe=@/usr/sbin/nginx",
	  "allow", A },
	/* 2. at the same object, the most specific subject wins */
	{ "subject rule beats no subject", "allow exec @/usr/**",
	  "deny exec @/usr/** from exe=@/usr/sbin/nginx", "exec @/usr/bin/id as exe=@/usr/sbin/nginx",
	  "deny", B },
	{ "no-subject rule decides for other programs", "allow exec @/usr/**",
	  "deny exec @/usr/** from exe=@/usr/sbin/nginx", "exec @/usr/bin/id as exe=@/usr/sbin/other",
	  "allow", A },
	{ "exe (16) beats uid (2)", "deny exec @/x from uid=33", "allow exec @/x from exe=@/usr/sbin/nginx",
	  "exec @/x as exe=@/usr/sbin/nginx uid=33", "allow", B },
	{ "exe (16) beats parent (8)", "deny exec @/x from parent=@/usr/sbin/other",
	  "allow exec @/x from exe=@/usr/sbin/nginx",
	  "exec @/x as exe=@/usr/sbin/nginx parent=@/usr/sbin/other", "allow", B },
	{ "parent (8) beats uid (2)", "allow exec @/x from uid=33",
	  "deny exec @/x from parent=@/usr/sbin/nginx", "exec @/x as parent=@/usr/sbin/nginx uid=33",
	  "deny", B },
	{ "uid (2) beats gid (1)", "deny exec @/x from gid=44", "allow exec @/x from uid=33",
	  "exec @/x as uid=33 gid=44", "allow", B },
	{ "gid (1) beats no subject (0)", "allow exec @/x", "deny exec @/x from gid=44",
	  "exec @/x as uid=33 gid=44", "deny", B },
	{ "exe+uid (18) beats exe (16)", "allow exec @/x from exe=@/usr/sbin/nginx",
	  "deny exec @/x from exe=@/usr/sbin/nginx uid=33", "exec @/x as exe=@/usr/sbin/nginx uid=33",
	  "deny", B },
	{ "exe+uid needs both", "allow exec @/x from exe=@/usr/sbin/nginx",
	  "deny exec @/x from exe=@/usr/sbin/nginx uid=33", "exec @/x as exe=@/usr/sbin/nginx uid=34",
	  "allow", A },
	{ "uid+gid (3) loses to parent (8)", "deny exec @/x from uid=33 gid=44",
	  "allow exec @/x from parent=@/usr/sbin/nginx",
	  "exec @/x as parent=@/usr/sbin/nginx uid=33 gid=44", "allow", B },
	/* 3. same kinds: the more specific location wins */
	{ "exact program beats program directory", "deny exec @/x from exe=@/usr/**",
	  "allow exec @/x from exe=@/usr/sbin/nginx", "exec @/x as exe=@/usr/sbin/nginx", "allow", B },
	{ "deeper program directory beats shallower", "deny exec @/x from exe=@/usr/**",
	  "allow exec @/x from exe=@/usr/sbin/**", "exec @/x as exe=@/usr/sbin/nginx", "allow", B },
	{ "shallower program directory still decides outside", "deny exec @/x from exe=@/usr/**",
	  "allow exec @/x from exe=@/usr/sbin/**", "exec @/x as exe=@/usr/lib/sub/prog", "deny", A },
	{ "exact parent beats parent directory", "allow exec @/x from parent=@/usr/**",
	  "deny exec @/x from parent=@/usr/sbin/nginx", "exec @/x as parent=@/usr/sbin/nginx",
	  "deny", B },
	/* 5. still tied: the stronger decision wins */
	{ "deny beats allow", "allow exec @/x", "deny exec @/x", "exec @/x", "deny", B },
	{ "deny beats audit", "audit exec @/x", "deny exec @/x", "exec @/x", "deny", B },
	{ "audit beats allow", "allow exec @/x", "audit exec @/x", "exec @/x", "audit", B },
	{ "enforced deny beats deny with audit", "deny exec @/x with audit", "deny exec @/x",
	  "exec @/x", "deny", B },
	{ "deny with audit beats audit", "audit exec @/x", "deny exec @/x with audit", "exec @/x",
	  "deny", B },
	{ "deny with audit beats allow", "allow exec @/x", "deny exec @/x with audit", "exec @/x",
	  "deny", B },
	{ "deny beats allow for the same subject", "allow exec @/x from exe=@/usr/sbin/nginx",
	  "deny exec @/x from exe=@/usr/sbin/nginx", "exec @/x as exe=@/usr/sbin/nginx", "deny", B },
	/* process operations: the target is the object */
	{ "target exe beats target uid", "allow write uid=33", "deny write exe=@/usr/sbin/nginx",
	  "write exe=@/usr/sbin/nginx uid=33 as uid=5", "deny", B },
	{ "target before subject", "deny write exe=@/usr/sbin/nginx",
	  "allow write any from exe=@/usr/sbin/other", "write exe=@/usr/sbin/nginx as exe=@/usr/sbin/other",
	  "deny", A },
	{ "same target: subject rule wins", "deny read exe=@/usr/sbin/nginx",
	  "allow read exe=@/usr/sbin/nginx from uid=0", "read exe=@/usr/sbin/nginx as uid=0", "allow", B },
	{ "4. listed signals beat the default set", "deny signal exe=@/usr/sbin/nginx",
	  "allow signal exe=@/usr/sbin/nginx with signals=HUP", "signal exe=@/usr/sbin/nginx with signals=HUP",
	  "allow", B },
	{ "4. the default set decides the other signals", "deny signal exe=@/usr/sbin/nginx",
	  "allow signal exe=@/usr/sbin/nginx with signals=HUP", "signal exe=@/usr/sbin/nginx with signals=KILL",
	  "deny", A },
	{ "fork: subject rule beats no subject", "allow fork any", "deny fork any from uid=5",
	  "fork any as uid=5", "deny", B },
	/* kernel operations: files rank as exec's; lockdown reasons are step 4 */
	{ "module: exact file beats tree", "allow module @/opt/**", "deny module @/opt/app/tool",
	  "module @/opt/app/tool", "deny", B },
	{ "module from memory: only any decides", "allow module @/opt/**", "deny module any",
	  "module any", "deny", B },
	{ "4. one lockdown reason beats its group", "deny lockdown confidentiality",
	  "allow lockdown kcore", "lockdown kcore", "allow", B },
	{ "4. the group decides its other reasons", "deny lockdown confidentiality",
	  "allow lockdown kcore", "lockdown perf", "deny", A },
	{ "4. a lockdown group beats any", "deny lockdown any", "allow lockdown integrity",
	  "lockdown ioport", "allow", B },
	{ "lockdown: the subject comes before the reason", "allow lockdown kcore",
	  "deny lockdown confidentiality from uid=5", "lockdown kcore as uid=5", "deny", B },
	{ "bpf: subject rule beats no subject", "allow bpf any", "deny bpf any from uid=5",
	  "bpf any as uid=5", "deny", B },
	/* memory controls: the object is always `any`, so the subject decides */
	{ "wx: a JIT's exemption beats the rule for all", "deny wx any",
	  "allow wx any from exe=@/usr/sbin/nginx", "wx any as exe=@/usr/sbin/nginx", "allow", B },
	{ "anon-exec: exe beats uid", "allow anon-exec any from uid=5",
	  "deny anon-exec any from exe=@/usr/sbin/nginx", "anon-exec any as exe=@/usr/sbin/nginx uid=5", "deny", B },
	{ "memfd-exec: deny beats allow for the same subject", "allow memfd-exec any",
	  "deny memfd-exec any", "memfd-exec any", "deny", B },
	/*
	 * image-load control (trusted: opt/app/tool, usr/bin/id; % = tool's
	 * sha256): exact file, then the content's hash, then trusted or
	 * untrusted, then trees, then any
	 */
	{ "trust: exact file beats untrusted", "deny exec untrusted", "allow exec @/x", "exec @/x", "allow", B },
	{ "trust: untrusted beats tree", "allow exec @/opt/**", "deny exec untrusted",
	  "exec @/opt/app/other", "deny", B },
	{ "trust: trusted beats tree", "deny exec @/opt/**", "allow exec trusted", "exec @/opt/app/tool",
	  "allow", B },
	{ "trust: the tree decides what the trust rule leaves", "deny exec @/opt/**", "allow exec trusted",
	  "exec @/opt/app/other", "deny", A },
	{ "trust: sha256 beats trusted", "allow exec trusted", "deny exec sha256:%", "exec @/opt/app/tool",
	  "deny", B },
	{ "trust: sha256 beats tree", "allow exec @/opt/**", "deny exec sha256:%", "exec @/opt/app/tool",
	  "deny", B },
	{ "trust: exact file beats sha256", "deny exec sha256:%", "allow exec @/opt/app/tool",
	  "exec @/opt/app/tool", "allow", B },
	{ "trust: sha256 names only that content", "deny exec sha256:%", "allow exec trusted",
	  "exec @/usr/bin/id", "allow", B },
	{ "trust: trusted beats any", "deny exec any", "allow exec trusted", "exec @/usr/bin/id", "allow", B },
	{ "trust: any decides what trust rules leave", "deny exec any", "allow exec trusted", "exec @/x",
	  "deny", A },
	{ "trust: same object, subject rule wins", "deny exec untrusted", "allow exec untrusted from uid=33",
	  "exec @/x as uid=33", "allow", B },
	{ "trust: exe beats uid on untrusted", "allow load untrusted from uid=33",
	  "deny load untrusted from exe=@/usr/sbin/nginx", "load @/x as exe=@/usr/sbin/nginx uid=33", "deny", B },
	{ "trust: exec and load are separate decisions", "deny exec untrusted", "allow load untrusted",
	  "load @/x", "allow", B },
	/* 6. still tied: the rule read first */
	{ "identical rules: first read wins", "deny exec @/x with tag=one", "deny exec @/x with tag=two",
	  "exec @/x", "deny", FIRST },
	{ "identical allows: first read wins", "allow exec @/x with log", "allow exec @/x",
	  "exec @/x", "allow", FIRST },
};

/* Explain `query` under the two rules in the given order; the winner's line. */
static void decide(const char *first, const char *second, const char *query, char *decision,
		   size_t cap, int *line)
{
	char text[2048], q[1024], path[300], *json = NULL, *diag = NULL;
	struct json_object *o, *v, *rule;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/p.rules", dir);
	expand(first, text, sizeof(text));
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", text);
	expand(second, text, sizeof(text));
	fprintf(f, "%s\n", text);
	fclose(f);
	expand(query, q, sizeof(q));
	r = bw_policy_explain(path, q, &json, &diag);
	if (r != 0)
		print_message("explain failed: %s\n", diag ? diag : "?");
	assert_int_equal(r, 0);
	o = json_tokener_parse(json);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "decision", &v));
	snprintf(decision, cap, "%s", json_object_get_string(v));
	*line = 0;
	if (json_object_object_get_ex(o, "rule", &rule) && rule &&
	    json_object_object_get_ex(rule, "line", &v))
		*line = json_object_get_int(v);
	json_object_put(o);
	free(json);
	free(diag);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		for (int order = 0; order < 2; order++) {
			char decision[32];
			int line, want;

			if (order == 0)
				decide(r->a, r->b, r->query, decision, sizeof(decision), &line);
			else
				decide(r->b, r->a, r->query, decision, sizeof(decision), &line);
			/* line 1 is whichever rule was written first */
			if (r->winner == FIRST)
				want = 1;
			else
				want = (r->winner == A) == (order == 0) ? 1 : 2;
			if (strcmp(decision, r->decision) != 0 || line != want)
				print_message("row %zu (%s), order %s: wanted %s by line %d, got %s by line %d\n",
					      i, r->why, order ? "BA" : "AB", r->decision, want, decision,
					      line);
			assert_string_equal(decision, r->decision);
			assert_int_equal(line, want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
