// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bulwark trust suggest: monitor mode's harvest. After a period under
 * `deny exec untrusted with audit` (or `audit exec untrusted`, or `mode
 * audit`), the events name every image that ran or was mapped without
 * trust (`target.trusted` false); this
 * turns them into the `bulwark trust add` commands that would have
 * allowed them, for the administrator to review before lockdown
 * (docs/trust.md, "Monitor, then lockdown").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bulwark/bulwark.h>

#include "cli.h"

struct image {
	char *path;
	unsigned exec, load; /* times seen, per operation */
};

struct harvest {
	struct image *v;
	size_t n, cap;
	size_t events, unnamed; /* untrusted images seen; those the kernel could not name */
	int err;
};

static const char *str_at(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

/* One event line: an exec or load of a file the trust map did not vouch for? */
static int take_event(void *userdata, const char *line)
{
	struct harvest *h = userdata;
	struct json_object *o = json_tokener_parse(line), *target, *trusted;
	const char *type, *op, *path;
	size_t i;

	if (!o)
		return 0; /* not an event (a log's stray line): skip it */
	type = str_at(o, "type");
	op = str_at(o, "op");
	/* whatever the action: would-deny (monitor), audit, blocked (lockdown) */
	if (!type || strcmp(type, "decision") != 0 || !op || (strcmp(op, "exec") != 0 && strcmp(op, "load") != 0) ||
	    !json_object_object_get_ex(o, "target", &target) ||
	    !json_object_object_get_ex(target, "trusted", &trusted) || json_object_get_boolean(trusted))
		goto out;
	h->events++;
	path = str_at(target, "path");
	if (!path) {
		h->unnamed++;
		goto out;
	}
	for (i = 0; i < h->n && strcmp(h->v[i].path, path) != 0; i++)
		;
	if (i == h->n) {
		if (h->n == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 64;
			struct image *v = realloc(h->v, cap * sizeof(*v));

			if (!v) {
				h->err = -ENOMEM;
				json_object_put(o);
				return -ENOMEM;
			}
			h->v = v;
			h->cap = cap;
		}
		h->v[i] = (struct image){ .path = strdup(path) };
		if (!h->v[i].path) {
			h->err = -ENOMEM;
			json_object_put(o);
			return -ENOMEM;
		}
		h->n++;
	}
	if (op[0] == 'e')
		h->v[i].exec++;
	else
		h->v[i].load++;
out:
	json_object_put(o);
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct image *)a)->path, ((const struct image *)b)->path);
}

/* Shell-quote a path for a command line the administrator may paste. */
static void print_quoted(const char *s)
{
	if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=")] == 0) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	putchar('\'');
}

int cmd_trust_suggest(int argc, char **argv)
{
	struct harvest h = { 0 };
	const char *file = NULL;
	bool json = false;
	int r = 0;

	if (want_help(argc, argv)) {
		printf("Usage: bulwark trust suggest [--events FILE] [--json]\n\n"
		       "Read exec and load events of files the kernel did not trust (reported under\n"
		       "`audit exec untrusted`, or refused under `deny`) and print the `bulwark trust\n"
		       "add` commands that would have allowed them, one per file, to review before\n"
		       "lockdown. Events come from bulwarkd's backlog (its last 1024), or from FILE\n"
		       "(bulwarkd's --events log; - for stdin), which holds a longer period.\n"
		       "--json  print [{\"path\", \"exec\", \"load\"}] instead: times seen per operation\n");
		return EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			i++; /* `bulwark trust --db PATH suggest`: the database is not read here */
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(stderr, "bulwark trust suggest: unexpected argument '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (file) {
		FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
		char *line = NULL;
		size_t cap = 0;

		if (!in) {
			fprintf(stderr, "bulwark trust suggest: %s: %s\n", file, strerror(errno));
			return EXIT_FAIL;
		}
		while (r == 0 && getline(&line, &cap, in) > 0)
			r = take_event(&h, line);
		free(line);
		if (in != stdin)
			fclose(in);
	} else {
		struct bw_client *c = NULL;

		r = connect_daemon(&c);
		if (r != EXIT_OK)
			return r;
		r = bw_client_events(c, BW_EVENTS_BACKLOG, take_event, &h);
		bw_client_free(c);
	}
	if (r < 0 || h.err) {
		fprintf(stderr, "bulwark trust suggest: %s\n", strerror(h.err ? -h.err : -r));
		r = EXIT_FAIL;
		goto out;
	}
	qsort(h.v, h.n, sizeof(*h.v), by_path);
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; arr && i < h.n; i++) {
			struct json_object *o = json_object_new_object();

			if (!o)
				break;
			json_object_object_add(o, "path", json_object_new_string(h.v[i].path));
			json_object_object_add(o, "exec", json_object_new_int64(h.v[i].exec));
			json_object_object_add(o, "load", json_object_new_int64(h.v[i].load));
			json_object_array_add(arr, o);
		}
		printf("%s\n", arr ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "[]");
		json_object_put(arr);
	} else {
		printf("# %zu untrusted image%s seen in %zu event%s", h.n, h.n == 1 ? "" : "s", h.events,
		       h.events == 1 ? "" : "s");
		if (h.unnamed)
			printf(" (%zu without a path the kernel could name: not listed)", h.unnamed);
		printf(".\n# Review each before trusting it: trust follows content, not names.\n");
		for (size_t i = 0; i < h.n; i++) {
			fputs("bulwark trust add ", stdout);
			print_quoted(h.v[i].path);
			printf("   # %s%s%s\n", h.v[i].exec ? "exec" : "", h.v[i].exec && h.v[i].load ? ", " : "",
			       h.v[i].load ? "load" : "");
		}
	}
	r = EXIT_OK;
out:
	for (size_t i = 0; i < h.n; i++)
		free(h.v[i].path);
	free(h.v);
	return r;
}
