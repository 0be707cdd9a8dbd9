// SPDX-License-Identifier: MIT
/*
 * bwreset: the privileged suite's reset between test files (tests/vm/lib.sh,
 * setup and teardown). It keeps the pinned, verified programs of the last
 * file and gives the kernel side the state a fresh load gives:
 *
 *   - no policy in force (bw_policy's slot emptied); the policy generation
 *     is kept, so policy serials (and task-cached classes) are never reused;
 *   - counters (ring-buffer drops included) zeroed;
 *   - the trust map, bw_guard, bw_canary and bw_cgroup_moving emptied;
 *   - every process's task storage deleted (no nochild marks, no cached
 *     classes, no exe records), as if the map were new;
 *   - the event ring buffer drained, so no stale event reaches the next
 *     file's daemon.
 *
 * It refuses, exit 1 with the reason on stderr, where a fresh load is the
 * only clean state: a daemon still running, a staged generation
 * (bulwark_next), locked mode, a protected process alive, a map missing
 * (another build's layout), a marked process with threads (their storage
 * cannot be reached without PIDFD_THREAD). The caller then unloads. Exit 2:
 * nothing pinned, nothing to keep.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../bpf/abi.h"

static int map_fd(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", BW_PIN_ROOT, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "bwreset: cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static uint32_t value_size(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		fprintf(stderr, "bwreset: map info: %s\n", strerror(errno));
		exit(1);
	}
	return info.value_size;
}

static uint32_t max_entries(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		exit(1);
	return info.max_entries;
}

/* Number of keys in a hash map. */
static unsigned count_keys(int fd, size_t key_size)
{
	char key[256], prev[256];
	void *p = NULL;
	unsigned n = 0;

	while (n < 1u << 20 && bpf_map_get_next_key(fd, p, key) == 0) {
		memcpy(prev, key, key_size);
		p = prev;
		n++;
	}
	return n;
}

/* Delete every key of a hash map. */
static void empty_hash(const char *name, size_t key_size)
{
	int fd = map_fd(name);
	char key[256];
	unsigned n = 0;

	while (bpf_map_get_next_key(fd, NULL, key) == 0) {
		if (bpf_map_delete_elem(fd, key) < 0 && errno != ENOENT) {
			fprintf(stderr, "bwreset: cannot delete from %s: %s\n", name, strerror(errno));
			exit(1);
		}
		if (++n > 1u << 22)
			exit(1);
	}
	if (count_keys(fd, key_size)) {
		fprintf(stderr, "bwreset: %s is not empty after deleting\n", name);
		exit(1);
	}
	close(fd);
}

/* Write zeros to every slot of an array map (per-CPU: every CPU's copy). */
static void zero_array(const char *name, bool percpu)
{
	int fd = map_fd(name), ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	uint32_t vs = value_size(fd), n = max_entries(fd);
	size_t len = percpu ? ((vs + 7) / 8 * 8) * (size_t)ncpu : vs;
	void *zero = calloc(1, len), *back = malloc(len);

	if (!zero || !back || ncpu < 1)
		exit(1);
	for (uint32_t i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY) < 0 || bpf_map_lookup_elem(fd, &i, back) < 0 ||
		    memcmp(zero, back, len) != 0) {
			fprintf(stderr, "bwreset: cannot zero %s[%u]: %s\n", name, i, strerror(errno));
			exit(1);
		}
	}
	free(zero);
	free(back);
	close(fd);
}

static int threads_of(const char *pid)
{
	char path[300];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	if (!(d = opendir(path)))
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Every process's task storage goes, as a new map would have none. */
static unsigned clear_task_storage(void)
{
	int fd = map_fd("bw_task_state");
	struct bw_task_state ts;
	unsigned cleared = 0;
	DIR *d = opendir("/proc");

	if (!d)
		exit(1);
	for (struct dirent *e; (e = readdir(d));) {
		int pidfd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pidfd = (int)syscall(SYS_pidfd_open, atoi(e->d_name), 0);
		if (pidfd < 0)
			continue; /* gone */
		if (bpf_map_lookup_elem(fd, &pidfd, &ts) == 0) {
			if (ts.nochild && threads_of(e->d_name) > 1) {
				fprintf(stderr, "bwreset: pid %s is marked (rule %u) and has threads\n", e->d_name,
					ts.nochild);
				exit(1);
			}
			if (bpf_map_delete_elem(fd, &pidfd) < 0 && errno != ENOENT && errno != ESRCH) {
				fprintf(stderr, "bwreset: cannot clear pid %s: %s\n", e->d_name, strerror(errno));
				exit(1);
			}
			if (bpf_map_lookup_elem(fd, &pidfd, &ts) == 0) {
				fprintf(stderr, "bwreset: pid %s still has task storage\n", e->d_name);
				exit(1);
			}
			cleared++;
		}
		close(pidfd);
	}
	closedir(d);
	close(fd);
	return cleared;
}

static int on_event(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	(*(unsigned long *)ctx)++;
	return 0;
}

int main(void)
{
	struct bw_policy_info info, kept = { 0 };
	struct bw_lock lk = { 0 };
	struct ring_buffer *rb;
	unsigned long drained = 0;
	__u32 zero = 0;
	struct stat st;
	unsigned tasks;
	int fd, r;

	if (stat(BW_PIN_ROOT, &st) < 0)
		return 2;
	if (stat(BW_PIN_NEXT, &st) == 0) {
		fprintf(stderr, "bwreset: a staged generation is pinned (%s)\n", BW_PIN_NEXT);
		return 1;
	}
	if (system("pgrep -x bulwarkd >/dev/null") == 0) {
		fprintf(stderr, "bwreset: a bulwarkd is running\n");
		return 1;
	}
	fd = map_fd("bw_lock");
	if (bpf_map_lookup_elem(fd, &zero, &lk) < 0 || lk.locked) {
		fprintf(stderr, "bwreset: locked mode is on\n");
		return 1;
	}
	close(fd);
	fd = map_fd("bw_protected");
	if (count_keys(fd, sizeof(__u32))) {
		fprintf(stderr, "bwreset: protected processes are alive\n");
		return 1;
	}
	close(fd);
	/* Every map this build pins, or another build's layout is pinned. */
	static const char *const maps[] = { "bw_policy", "bw_policy_info", "bw_counters", "bw_events",
					    "bw_fs_layout", "bw_task_state", "bw_sysctls", "bw_canary",
					    "bw_build", "bw_guard", "bw_cgroup_moving", "bw_trust",
					    "bw_sb_instance", "bw_sb_seq", "bw_live", "bw_uid_filter",
					    "bw_file_filter" };
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		close(map_fd(maps[i]));

	/* No policy: what a fresh load has. The generation goes on. */
	fd = map_fd("bw_policy");
	if (bpf_map_delete_elem(fd, &zero) < 0 && errno != ENOENT) {
		fprintf(stderr, "bwreset: cannot empty bw_policy: %s\n", strerror(errno));
		return 1;
	}
	{
		__u32 id;

		if (bpf_map_lookup_elem(fd, &zero, &id) == 0) {
			fprintf(stderr, "bwreset: bw_policy still holds a map\n");
			return 1;
		}
	}
	close(fd);
	fd = map_fd("bw_policy_info");
	if (bpf_map_lookup_elem(fd, &zero, &info) < 0)
		return 1;
	kept.generation = info.generation;
	if (bpf_map_update_elem(fd, &zero, &kept, BPF_ANY) < 0)
		return 1;
	close(fd);

	zero_array("bw_counters", true);
	zero_array("bw_live", false); /* no policy, and the task storage (marks) is cleared below */
	zero_array("bw_uid_filter", false);
	zero_array("bw_file_filter", false);
	zero_array("bw_guard", false);
	zero_array("bw_canary", false);
	empty_hash("bw_trust", sizeof(struct bw_trust_key));
	empty_hash("bw_cgroup_moving", sizeof(__u32));
	tasks = clear_task_storage();

	/* Last: whatever the old policy reported is consumed here. */
	fd = map_fd("bw_events");
	rb = ring_buffer__new(fd, on_event, &drained, NULL);
	if (!rb || (r = ring_buffer__consume(rb)) < 0) {
		fprintf(stderr, "bwreset: cannot drain bw_events\n");
		return 1;
	}
	ring_buffer__free(rb);
	close(fd);
	printf("bwreset: kept the programs; generation %llu, %u task states cleared, %lu events drained\n",
	       (unsigned long long)info.generation, tasks, drained);
	return 0;
}
