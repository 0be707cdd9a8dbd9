// SPDX-License-Identifier: MIT
/*
 * bwlayer: a vendor's client layer through libbulwark only, for
 * tests/vm/t_layers.sh. It connects, opens a layer, then reads one
 * command per line on stdin and answers each with one line on stdout,
 * "<word> rc=<r>", diagnostics after it as lines starting "| ":
 *
 *   begin | abort | commit | add RULE | padd RULE (persistent)
 *   remove ID | explain QUERY | quit
 *
 *   bwlayer NAME ALTITUDE
 *
 * "open rc=R" is its first line (and the layer's JSON as "| " line). At
 * end of input or `quit` it frees the client: bulwarkd drops its layer.
 * `die` exits without freeing (the kernel closes the socket).
 */
#include <bulwark/bulwark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(const char *word, int r, const char *extra)
{
	printf("%s rc=%d\n", word, r);
	if (extra) {
		const char *p = extra;

		while (*p) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);

			printf("| %.*s\n", len, p);
			p += len + (nl ? 1 : 0);
		}
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bw_client_opts copts = { .sz = sizeof(copts) };
	struct bw_layer_opts lopts = { .sz = sizeof(lopts) };
	struct bw_client *c = NULL;
	char line[8192], *json = NULL;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: bwlayer NAME ALTITUDE\n");
		return 2;
	}
	r = bw_client_new(&c, &copts);
	if (r < 0) {
		say("open", r, NULL);
		return 1;
	}
	lopts.name = argv[1];
	lopts.altitude = (uint32_t)strtoul(argv[2], NULL, 10);
	r = bw_client_layer_open(c, &lopts, &json);
	say("open", r, r < 0 ? bw_client_error(c) : json);
	free(json);
	json = NULL;
	while (fgets(line, sizeof(line), stdin)) {
		char *arg = strchr(line, ' '), *diag = NULL;
		struct bw_rule_opts ropts = { .sz = sizeof(ropts) };
		uint32_t id = 0;
		char idtext[32];

		line[strcspn(line, "\n")] = 0;
		if (arg)
			*arg++ = 0;
		if (strcmp(line, "begin") == 0) {
			r = bw_client_txn_begin(c);
			say(line, r, r < 0 ? bw_client_error(c) : NULL);
		} else if (strcmp(line, "abort") == 0) {
			r = bw_client_txn_abort(c);
			say(line, r, r < 0 ? bw_client_error(c) : NULL);
		} else if (strcmp(line, "add") == 0 || strcmp(line, "padd") == 0) {
			ropts.persistent = line[0] == 'p';
			r = bw_client_txn_add(c, arg ? arg : "", &ropts, &id);
			snprintf(idtext, sizeof(idtext), "id=%u", id);
			say(line, r, r < 0 ? bw_client_error(c) : idtext);
		} else if (strcmp(line, "remove") == 0) {
			r = bw_client_txn_remove(c, (uint32_t)strtoul(arg ? arg : "0", NULL, 10));
			say(line, r, r < 0 ? bw_client_error(c) : NULL);
		} else if (strcmp(line, "commit") == 0) {
			r = bw_client_txn_commit(c, &diag);
			say(line, r, diag);
			free(diag);
		} else if (strcmp(line, "explain") == 0) {
			r = bw_client_explain(c, arg ? arg : "", &json, &diag);
			say(line, r, r < 0 ? diag : json);
			free(json);
			free(diag);
			json = NULL;
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else if (strcmp(line, "die") == 0) {
			say(line, 0, NULL);
			_exit(0);
		} else {
			say(line, -22, "unknown command");
		}
	}
	bw_client_free(c);
	printf("bye\n");
	return 0;
}
