/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the CLI's command files share. */
#ifndef BULWARK_CLI_H
#define BULWARK_CLI_H

#include <stdbool.h>

/* Exit codes, documented in --help and docs/cli.md. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	   /* the operation failed, the policy has errors, a file was not trusted */
	EXIT_WARNINGS = 2, /* policy check --strict: warnings only */
	EXIT_USAGE = 64,   /* bad command line */
	EXIT_NO_DAEMON = 69, /* bulwarkd is not running */
	EXIT_PROTECTED = 77, /* trust: the database is guarded by `protect self` (EX_NOPERM) */
};

/* Whether --help or -h is among a command's arguments. */
bool want_help(int argc, char **argv);

/*
 * Ask bulwarkd to read the trust database again. quiet: a daemon that is
 * not running is not an error (after `trust add`). Returns an exit code.
 */
int trust_sync_daemon(bool quiet);

struct bw_client;
/* Connect to bulwarkd, or say why not on stderr. Returns an exit code. */
int connect_daemon(struct bw_client **ret);
const char *refusal(const struct bw_client *c, int r);

/* bulwark trust ... (src/cli/trust.c) */
int cmd_trust(int argc, char **argv);
/* bulwark trust suggest (src/cli/suggest.c) */
int cmd_trust_suggest(int argc, char **argv);

#endif
