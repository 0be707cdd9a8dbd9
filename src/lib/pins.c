// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Removing a generation of bulwark's pinned objects, in the one safe
 * order. Shared by `bulwark unload` without a daemon, bulwarkd's unload
 * and an upgrade's handover.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define EXEC_LINK "link_bw_bprm_check"

/*
 * Remove one pinned link and wait until its program is gone: the kernel
 * detaches it from a workqueue after the last reference drops, and the
 * link's id can vanish before that (6.12); the program is freed only once
 * detached. 0 when it is gone (or was never there), -EBUSY after 5 s.
 */
static int unpin_link(const char *path)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		info.prog_id = 0;
	close(fd);
	if (unlink(path) < 0)
		return -errno;
	for (int i = 0; info.prog_id && i < 500; i++) {
		fd = bpf_prog_get_fd_by_id(info.prog_id);
		if (fd < 0)
			return 0;
		close(fd);
		usleep(10000);
	}
	return info.prog_id ? -EBUSY : 0;
}

int bw_pins_detach(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0, q;

	if (!d)
		return -errno;
	/*
	 * Programs pinned to be attached on demand (decision 108) first: each
	 * pin holds its program, so a link's wait below for its program to go
	 * would otherwise run out while the pin is there.
	 */
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "prog_", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT && !r)
			r = -errno;
	}
	rewinddir(d);
	/*
	 * The exec check goes last: while only it remains, an exec is refused
	 * cleanly; the other order could let an exec past its check and then
	 * deny its mappings after the point of no return (SIGSEGV).
	 */
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "link_", 5) != 0 || strcmp(de->d_name, EXEC_LINK) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		q = unpin_link(path);
		if (q < 0 && !r)
			r = q;
	}
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s", dir, EXEC_LINK);
	q = unpin_link(path);
	return q < 0 && !r ? q : r;
}

int bw_pins_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT && !r)
			r = -errno;
	}
	closedir(d);
	if (rmdir(dir) < 0 && !r)
		r = -errno;
	return r;
}

int bw_pins_unload(const char *dir)
{
	int r = bw_pins_detach(dir), q;

	if (r == -ENOENT)
		return r;
	q = bw_pins_remove(dir);
	return r < 0 ? r : q;
}
