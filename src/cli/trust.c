// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulwark trust: the trust database's commands (docs/trust.md). They work
 * on the database file through libbulwark, with no daemon.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/trust.h"
#include "cli.h"

/* The options every trust subcommand may take, and its operands. */
struct trust_args {
	const char *db;
	const char *admindir;
	bool recursive, json, changed;
	unsigned threads;
	char **operands;
	int n_operands;
	const char **packages; /* import dpkg --package */
	size_t n_packages;
};

/* Progress and problems as a run goes. */
struct run_view {
	bool tty; /* stderr is a terminal: draw a progress bar */
	bool bar_drawn;
	FILE *findings; /* where problems go: stdout for verify (they are its result) */
	struct timespec start, last;
	const char *verb;
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void clear_bar(struct run_view *v)
{
	if (v->bar_drawn) {
		fputs("\r\033[K", stderr);
		v->bar_drawn = false;
	}
}

static void on_problem(void *ud, const char *path, const char *reason, bool is_failure)
{
	struct run_view *v = ud;

	clear_bar(v);
	if (v->findings == stdout)
		printf("%s: %s\n", path, reason);
	else
		fprintf(stderr, "bulwark: %s: %s%s\n", path, reason, is_failure ? "" : " (note)");
}

static void on_progress(void *ud, const struct bw_trust_stats *st)
{
	struct run_view *v = ud;
	struct timespec now;
	unsigned pct, filled;
	double elapsed;

	if (!v->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Ten redraws a second at most: a terminal is slower than the hashing of small files. */
	if (st->examined < st->total && st->examined &&
	    (now.tv_sec - v->last.tv_sec) * 1000000000L + (now.tv_nsec - v->last.tv_nsec) <
		100000000L)
		return;
	v->last = now;
	pct = st->total ? (unsigned)(st->examined * 100 / st->total) : 0;
	filled = pct * 30 / 100;
	elapsed = seconds_since(&v->start);
	fprintf(stderr, "\r\033[K%s %3u%% [%.*s%*s] %llu/%llu files, %.1f MiB, %.0f files/s",
		v->verb, pct, (int)filled, "##############################", (int)(30 - filled), "",
		(unsigned long long)st->examined, (unsigned long long)st->total,
		(double)st->bytes / 1048576.0, elapsed > 0 ? (double)st->examined / elapsed : 0.0);
	v->bar_drawn = true;
}

static void run_view_init(struct run_view *v, const char *verb, FILE *findings)
{
	memset(v, 0, sizeof(*v));
	v->tty = isatty(STDERR_FILENO);
	v->findings = findings;
	v->verb = verb;
	clock_gettime(CLOCK_MONOTONIC, &v->start);
}

static int parse_args(int argc, char **argv, const char *accepted, struct trust_args *a)
{
	a->operands = calloc((size_t)argc + 1, sizeof(char *));
	a->packages = calloc((size_t)argc + 1, sizeof(char *));
	if (!a->operands || !a->packages)
		return EXIT_FAIL;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (strcmp(o, "--") == 0) {
			while (++i < argc)
				a->operands[a->n_operands++] = argv[i];
			break;
		}
		if (o[0] != '-' || o[1] == '\0') {
			a->operands[a->n_operands++] = argv[i];
		} else if (strcmp(o, "--db") == 0 && i + 1 < argc) {
			a->db = argv[++i];
		} else if (strcmp(o, "--threads") == 0 && i + 1 < argc) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(argv[++i], &end, 10);
			if (errno || *end || n == 0 || n > 16) {
				fprintf(stderr, "bulwark trust: --threads takes 1 to 16\n");
				return EXIT_USAGE;
			}
			a->threads = (unsigned)n;
		} else if (strchr(accepted, 'r') &&
			   (strcmp(o, "-r") == 0 || strcmp(o, "--recursive") == 0)) {
			a->recursive = true;
		} else if (strchr(accepted, 'j') && strcmp(o, "--json") == 0) {
			a->json = true;
		} else if (strchr(accepted, 'c') && strcmp(o, "--changed") == 0) {
			a->changed = true;
		} else if (strchr(accepted, 'a') && strcmp(o, "--admindir") == 0 && i + 1 < argc) {
			a->admindir = argv[++i];
		} else if (strchr(accepted, 'p') && strcmp(o, "--package") == 0 && i + 1 < argc) {
			a->packages[a->n_packages++] = argv[++i];
		} else {
			fprintf(stderr, "bulwark trust %s: unexpected argument '%s'\n", argv[0], o);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

static int open_store(const struct trust_args *a, unsigned flags, struct bw_trust **ret)
{
	char err[512];
	const char *path = a->db ? a->db : getenv(BW_TRUST_DB_ENV);
	int r = bw_trust_open(ret, path, flags, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "bulwark: %s: %s\n", path && *path ? path : BW_TRUST_DB_PATH, err);
		return r == -EPERM ? EXIT_PROTECTED : EXIT_FAIL;
	}
	return EXIT_OK;
}

/* A failure of the store itself (not of one file): one line, then exit 1. */
static int store_failed(struct bw_trust *t, int r)
{
	const char *why = bw_trust_error(t);

	fprintf(stderr, "bulwark: %s: %s\n", bw_trust_path(t), why ? why : strerror(-r));
	return EXIT_FAIL;
}

static void print_summary(struct run_view *v, const char *what, const struct bw_trust_stats *st)
{
	double s = seconds_since(&v->start);
	double mib = (double)st->bytes / 1048576.0;

	clear_bar(v);
	printf("%s %llu files (%.1f MiB) in %.1f s: %.0f files/s, %.1f MiB/s", what,
	       (unsigned long long)st->trusted, mib, s, s > 0 ? (double)st->examined / s : 0.0,
	       s > 0 ? mib / s : 0.0);
	if (st->skipped)
		printf("; skipped %llu (not code, symlinks in trees, not regular)",
		       (unsigned long long)st->skipped);
	if (st->removed)
		printf("; dropped %llu stale entries", (unsigned long long)st->removed);
	printf("; %llu failed\n", (unsigned long long)st->failed);
}

static struct bw_trust_run make_run(struct run_view *v, const struct trust_args *a)
{
	struct bw_trust_run run = {
	    .problem = on_problem,
	    .progress = on_progress,
	    .ud = v,
	    .threads = a->threads,
	};

	return run;
}

struct list_out {
	bool json;
	size_t n;
};

static int print_record(void *ud, const struct bw_trust_record *rec)
{
	struct list_out *o = ud;

	if (o->json) {
		struct json_object *j = bw_trust_record_to_json(rec);

		printf("%s\n  %s", o->n ? "," : "[",
		       json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		char hex[65];

		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", rec->sha256[i]);
		printf("%s  %-20s  %s\n", hex, rec->source, rec->path);
	}
	o->n++;
	return ferror(stdout) ? -EIO : 0;
}

static int cmd_trust_list(int argc, char **argv)
{
	struct trust_args a = {0};
	struct bw_trust *t = NULL;
	struct list_out o = {0};
	int r = parse_args(argc, argv, "j", &a);

	if (r == EXIT_OK && a.n_operands) {
		fprintf(stderr, "Usage: bulwark trust list [--json]\n");
		r = EXIT_USAGE;
	}
	if (r == EXIT_OK)
		r = open_store(&a, BW_TRUST_READ, &t);
	if (r != EXIT_OK)
		goto out;
	o.json = a.json;
	r = bw_trust_foreach(t, print_record, &o);
	if (a.json)
		printf("%s]\n", o.n ? "\n" : "[");
	if (r == -EIO && ferror(stdout)) {
		fprintf(stderr, "bulwark: trust list: cannot write the output\n");
		r = EXIT_FAIL;
	} else if (r < 0) {
		r = store_failed(t, r);
	}
out:
	bw_trust_close(t);
	free(a.operands);
	free(a.packages);
	return r;
}

/* The commands that change or check files: how each runs and reports. */
struct trust_cmd {
	const char *usage;
	const char *accepted; /* options: r (-r), c (--changed), a (--admindir), p (--package) */
	int operands;	      /* -1: at least one; else exactly this many */
	unsigned open_flags;
	const char *verb; /* on the progress bar */
	bool findings_on_stdout;
	int (*run)(struct bw_trust *t, const struct trust_args *a, const struct bw_trust_run *run,
		   struct bw_trust_stats *st);
	void (*summary)(struct run_view *v, const struct bw_trust_stats *st);
};

static int run_add(struct bw_trust *t, const struct trust_args *a, const struct bw_trust_run *run,
		   struct bw_trust_stats *st)
{
	return bw_trust_add(t, a->operands, (size_t)a->n_operands, a->recursive, run, st);
}

static void summary_add(struct run_view *v, const struct bw_trust_stats *st)
{
	print_summary(v, "trusted", st);
}

static int run_remove(struct bw_trust *t, const struct trust_args *a,
		      const struct bw_trust_run *run, struct bw_trust_stats *st)
{
	return bw_trust_remove(t, a->operands, (size_t)a->n_operands, a->recursive, run, st);
}

static void summary_remove(struct run_view *v, const struct bw_trust_stats *st)
{
	printf("removed %llu entries; %llu failed\n", (unsigned long long)st->removed,
	       (unsigned long long)st->failed);
}

static int run_verify(struct bw_trust *t, const struct trust_args *a,
		      const struct bw_trust_run *run, struct bw_trust_stats *st)
{
	return bw_trust_verify(t, run, st);
}

static void summary_verify(struct run_view *v, const struct bw_trust_stats *st)
{
	printf("verified %llu entries: %llu unchanged, %llu changed, %llu missing\n",
	       (unsigned long long)st->examined, (unsigned long long)(st->examined - st->failed),
	       (unsigned long long)(st->failed - st->missing), (unsigned long long)st->missing);
}

static int run_import(struct bw_trust *t, const struct trust_args *a,
		      const struct bw_trust_run *run, struct bw_trust_stats *st)
{
	return bw_trust_import_dpkg(t, a->admindir, a->changed, a->packages, a->n_packages, run,
				    st);
}

static void summary_import(struct run_view *v, const struct bw_trust_stats *st)
{
	printf("imported %llu packages; ", (unsigned long long)st->packages);
	print_summary(v, "trusted", st);
	if (st->missing || st->notes)
		printf("%llu listed files are missing (dpkg path-exclude?); %llu notes\n",
		       (unsigned long long)st->missing, (unsigned long long)st->notes);
}

static const struct trust_cmd cmd_add = {
    "bulwark trust add [-r] PATH...",
    "r",
    -1,
    BW_TRUST_WRITE,
    "hashing",
    false,
    run_add,
    summary_add,
};
static const struct trust_cmd cmd_remove = {
    "bulwark trust remove [-r] PATH...",
    "r",
    -1,
    BW_TRUST_WRITE,
    "removing",
    false,
    run_remove,
    summary_remove,
};
static const struct trust_cmd cmd_verify = {
    "bulwark trust verify", "", 0, BW_TRUST_READ, "verifying", true, run_verify, summary_verify,
};
static const struct trust_cmd cmd_import = {
    "bulwark trust import dpkg [--changed] [--admindir DIR] [--package NAME]...",
    "cap",
    1,
    BW_TRUST_WRITE,
    "importing",
    false,
    run_import,
    summary_import,
};

/* Parse, open, run with a progress bar, summarise; exit 1 if any file failed. */
static int run_trust_cmd(const struct trust_cmd *c, int argc, char **argv)
{
	struct trust_args a = {0};
	struct bw_trust *t = NULL;
	struct bw_trust_stats st = {0};
	struct run_view v;
	struct bw_trust_run run;
	int r = parse_args(argc, argv, c->accepted, &a);

	if (r == EXIT_OK && (c->operands < 0 ? a.n_operands == 0 : a.n_operands != c->operands)) {
		fprintf(stderr, "Usage: %s\n", c->usage);
		r = EXIT_USAGE;
	}
	/* import's one operand names the package manager; dpkg is the one there is. */
	if (r == EXIT_OK && c == &cmd_import && strcmp(a.operands[0], "dpkg") != 0) {
		fprintf(stderr, "bulwark trust import: unknown source '%s' (dpkg)\n",
			a.operands[0]);
		r = EXIT_USAGE;
	}
	if (r == EXIT_OK)
		r = open_store(&a, c->open_flags, &t);
	if (r != EXIT_OK)
		goto out;
	run_view_init(&v, c->verb, c->findings_on_stdout ? stdout : stderr);
	run = make_run(&v, &a);
	r = c->run(t, &a, &run, &st);
	clear_bar(&v);
	if (r < 0) {
		r = store_failed(t, r);
		goto out;
	}
	c->summary(&v, &st);
	r = st.failed ? EXIT_FAIL : EXIT_OK;
	/* What changed reaches the kernel now, not at bulwarkd's next start. */
	if (c->open_flags & BW_TRUST_WRITE) {
		bw_trust_close(t);
		t = NULL;
		if (trust_sync_daemon(true) != EXIT_OK)
			r = EXIT_FAIL;
	}
out:
	bw_trust_close(t);
	free(a.operands);
	free(a.packages);
	return r;
}

static int cmd_trust_add(int argc, char **argv)
{
	return run_trust_cmd(&cmd_add, argc, argv);
}

static int cmd_trust_remove(int argc, char **argv)
{
	return run_trust_cmd(&cmd_remove, argc, argv);
}

static int cmd_trust_verify(int argc, char **argv)
{
	return run_trust_cmd(&cmd_verify, argc, argv);
}

static int cmd_trust_import(int argc, char **argv)
{
	return run_trust_cmd(&cmd_import, argc, argv);
}

static int cmd_trust_sync(int argc, char **argv)
{
	if (argc != 1 && !(argc == 3 && strcmp(argv[1], "--db") == 0)) {
		fprintf(stderr, "Usage: bulwark trust sync\n");
		return EXIT_USAGE;
	}
	return trust_sync_daemon(false);
}

static void trust_usage(FILE *out)
{
	fprintf(out,
		"Usage: bulwark trust add [-r] PATH...\n"
		"       bulwark trust remove [-r] PATH...\n"
		"       bulwark trust list [--json]\n"
		"       bulwark trust verify\n"
		"       bulwark trust import dpkg [--changed] [--admindir DIR] [--package NAME]...\n"
		"       bulwark trust sync\n"
		"       bulwark trust suggest [--events FILE] [--json]\n"
		"\n"
		"The trust database records files by path, SHA-256, size, inode and ctime.\n"
		"add      hash and trust each PATH (a symlink: its target's content, under the\n"
		"         path given). With -r, directories are walked and only code is\n"
		"         recorded: files with an exec bit, ELF files, #! scripts; symlinks\n"
		"         inside are not followed, other file systems not entered.\n"
		"remove   forget each PATH; with -r, everything recorded below it too.\n"
		"list     every entry: sha256, source (manual, dpkg:PACKAGE), path.\n"
		"verify   re-hash every entry; prints changed and missing files.\n"
		"import dpkg  trust installed packages' code files that match dpkg's md5sums;\n"
		"         files that do not are reported and not trusted. --changed: only\n"
		"         packages installed or upgraded since the last import (the apt hook).\n"
		"         --package NAME (repeatable): only these installed packages\n"
		"         (NAME or NAME:ARCH); the others' entries stay as they are.\n"
		"sync     have bulwarkd read the database again and install what it verified\n"
		"         in the kernel (add, remove and import do this themselves when\n"
		"         bulwarkd runs; bulwarkd reads its own --trust-db).\n"
		"suggest  the `trust add` commands that would have allowed the untrusted execs\n"
		"         and loads in bulwarkd's events (monitor mode, then lockdown).\n"
		"\n"
		"Options: --db PATH (default $" BW_TRUST_DB_ENV ", else " BW_TRUST_DB_PATH "),\n"
		"         --threads N (hashing threads; default one per CPU).\n"
		"Exit 0 success, 1 a file failed (not trusted, changed, missing) or the\n"
		"database failed, 64 usage error, 77 the kernel refused writing the\n"
		"database (protect self guards it until a signed unload or a reboot).\n");
}

int cmd_trust(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
	    {"add", cmd_trust_add},	  {"remove", cmd_trust_remove}, {"list", cmd_trust_list},
	    {"verify", cmd_trust_verify}, {"import", cmd_trust_import}, {"sync", cmd_trust_sync},
	    {"suggest", cmd_trust_suggest},
	};
	const char *db = NULL;
	int i = 1;

	/* `bulwark trust --db PATH add ...` as well as `... add --db PATH`. */
	if (argc > 2 && strcmp(argv[1], "--db") == 0) {
		db = argv[2];
		i = 3;
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
		trust_usage(i >= argc ? stderr : stdout);
		return i >= argc ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
		char **args;
		int n = 0, r;

		if (strcmp(argv[i], subs[k].name) != 0)
			continue;
		if (want_help(argc - i, argv + i)) {
			trust_usage(stdout);
			return EXIT_OK;
		}
		args = calloc((size_t)argc + 3, sizeof(char *));
		if (!args)
			return EXIT_FAIL;
		args[n++] = argv[i];
		if (db) {
			args[n++] = "--db";
			args[n++] = (char *)db;
		}
		for (int j = i + 1; j < argc; j++)
			args[n++] = argv[j];
		r = subs[k].fn(n, args);
		free(args);
		return r;
	}
	fprintf(stderr,
		"bulwark trust: unknown subcommand '%s' (add, remove, list, verify, import, sync)\n",
		argv[i]);
	return EXIT_USAGE;
}
