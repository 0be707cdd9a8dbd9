// SPDX-License-Identifier: MIT
/*
 * A library for image-load tests (tests/vm/t_trust.sh): when its code
 * runs (LD_PRELOAD, dlopen, ld.so.preload), it appends "loaded pid=N" to
 * $BW_TRUST_MARK, so a test can tell a load that was refused from one
 * that happened.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void mark(void)
{
	const char *path = getenv("BW_TRUST_MARK");
	char line[64];
	int fd, n;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "loaded pid=%d\n", getpid());
	if (write(fd, line, (size_t)n) != n)
		perror("trust-lib");
	close(fd);
}
