// SPDX-License-Identifier: MIT
/*
 * Loaded through a chroot's own /etc/ld.so.preload into a protected program
 * started there (tests/redteam/t_attack.sh): runs with that program's
 * protection level, before its first instruction. Kills $BW_VICTIM and
 * says so on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

__attribute__((constructor)) static void evil(void)
{
	const char *v = getenv("BW_VICTIM");
	int rc;

	if (!v)
		return;
	rc = kill(atoi(v), SIGKILL);
	fprintf(stderr, "evil-preload pid=%d kill(%s)=%d errno=%s\n", getpid(), v, rc,
		rc ? strerror(errno) : "0");
}
