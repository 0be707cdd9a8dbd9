// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bulwark.skel.h"
#include "../policy/policy.h"
#include "kernel.h"
#include "log.h"

static bool libbpf_verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg;
	size_t n;

	if (!libbpf_verbose)
		return 0;
	/* Whole: a verifier log is one message, and its end is the reason. */
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	/*
	 * libbpf's warnings on a failed load are many lines of detail; the user
	 * gets our one-line explanation, and the detail with --verbose.
	 */
	if (n)
		bw_log(LOG_DEBUG, "%s%s", strncmp(msg, "libbpf: ", 8) ? "libbpf: " : "", msg);
	free(msg);
	return 0;
}

static void link_pin_path(const struct bpf_program *prog, char *buf, size_t len)
{
	snprintf(buf, len, "%s/link_%s", BW_PIN_ROOT, bpf_program__name(prog));
}

/*
 * Is bpf in the active LSM list? 1 yes, 0 no, -errno when the list cannot
 * be read. This matters beyond diagnostics: without bpf in lsm=, LSM
 * programs still load and attach, but the kernel never runs them.
 */
static int bpf_lsm_active(char *lsm, size_t len)
{
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	char *tok, *save = NULL, copy[512];

	lsm[0] = 0;
	if (!f)
		return -errno;
	if (!fgets(lsm, len, f))
		lsm[0] = 0;
	fclose(f);
	lsm[strcspn(lsm, "\n")] = 0;
	snprintf(copy, sizeof(copy), "%s", lsm);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, "bpf") == 0)
			return 1;
	return 0;
}

/* One line telling the user why bulwark cannot enforce here, and what to do. */
static void explain_lsm_failure(int err, char *why, size_t len)
{
	char lsm[512];
	int active = bpf_lsm_active(lsm, sizeof(lsm));

	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
		snprintf(why, len,
			 "this kernel has no BTF (/sys/kernel/btf/vmlinux): bulwark needs CONFIG_DEBUG_INFO_BTF=y");
	else if (active == 0)
		snprintf(why, len,
			 "BPF LSM is not active (lsm=%s): add bpf to the kernel command line, e.g. lsm=%s,bpf, and reboot",
			 lsm, lsm);
	else if (err)
		snprintf(why, len,
			 "the kernel refused bulwark's BPF LSM programs (%s)%s%s: this kernel cannot run BPF LSM (no BPF trampolines?); use a stock distribution kernel with CONFIG_BPF_LSM=y, or vm/run on this host",
			 strerror(err), active > 0 ? " although lsm=" : "; securityfs is not mounted, so lsm= is unknown",
			 active > 0 ? lsm : "");
	else
		snprintf(why, len,
			 "cannot read /sys/kernel/security/lsm (%s), so cannot verify that BPF LSM is active: mount securityfs (mount -t securityfs securityfs /sys/kernel/security)",
			 strerror(-active));
}

/* Programs that load but would never run must not pass for enforcement. */
static int require_bpf_lsm(char *why, size_t len)
{
	char lsm[512];
	int active = bpf_lsm_active(lsm, sizeof(lsm));

	if (active > 0)
		return 0;
	explain_lsm_failure(0, why, len);
	return active == 0 ? -EOPNOTSUPP : active;
}

/*
 * The running kernel's lockdown reasons in bulwark's numbering (abi.h),
 * matched by name from its BTF: the kernel's enum is not stable across
 * versions. Without the enum, lockdown rules decide nothing: say so.
 */
static int fill_lockdown_ids(struct bulwark_bpf *skel)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_enum *v;
	const struct btf_type *t;
	long long integrity_max = -1;
	int id, n = 0;

	id = btf ? btf__find_by_name_kind(btf, "lockdown_reason", BTF_KIND_ENUM) : -1;
	if (id < 0) {
		bw_log(LOG_WARNING, "this kernel's BTF has no enum lockdown_reason: policies with lockdown rules will be refused");
		btf__free(btf);
		return 0;
	}
	t = btf__type_by_id(btf, id);
	v = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++)
		if (strcmp(btf__name_by_offset(btf, v[i].name_off), "LOCKDOWN_INTEGRITY_MAX") == 0)
			integrity_max = v[i].val;
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(btf, v[i].name_off);

		if (v[i].val <= 0 || v[i].val >= BW_LOCKDOWN_IDS || strstr(name, "_MAX")) {
			if (v[i].val >= BW_LOCKDOWN_IDS)
				bw_log(LOG_WARNING, "lockdown reason %s (%d) is beyond bulwark's table: judged as other-confidentiality",
				       name, v[i].val);
			continue;
		}
		skel->rodata->bw_lockdown_ids[v[i].val] =
			(__u8)bw_lockdown_from_kernel(name, integrity_max >= 0 && v[i].val > integrity_max);
		n++;
	}
	bw_log(LOG_DEBUG, "lockdown: %d reasons mapped from the kernel's BTF", n);
	btf__free(btf);
	return n;
}

int bw_kernel_open(struct bw_kernel *k, bool verbose, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = BW_PIN_ROOT);
	struct bpf_program *prog;
	char path[256];
	int r, adopted = 0, fresh = 0;

	memset(k, 0, sizeof(*k));
	k->events_fd = -1;
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_log);

	r = require_bpf_lsm(why, why_len);
	if (r < 0)
		return r;
	if (mkdir(BW_PIN_ROOT, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(why, why_len, "cannot create %s: %s (is bpffs mounted at /sys/fs/bpf?)",
			 BW_PIN_ROOT, strerror(errno));
		return r;
	}
	k->skel = bulwark_bpf__open_opts(&oopts);
	if (!k->skel) {
		r = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(errno));
		return r;
	}
	/*
	 * A program whose link is already pinned is running: adopt it instead
	 * of attaching twice. Only programs without a pinned link are loaded.
	 */
	bpf_object__for_each_program(prog, k->skel->obj) {
		link_pin_path(prog, path, sizeof(path));
		if (access(path, F_OK) == 0) {
			bpf_program__set_autoload(prog, false);
			adopted++;
		} else {
			fresh++;
		}
	}
	k->lockdown_reasons = fill_lockdown_ids(k->skel);
	r = bulwark_bpf__load(k->skel);
	if (r < 0) {
		explain_lsm_failure(-r, why, why_len);
		goto fail;
	}

	bpf_object__for_each_program(prog, k->skel->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			r = -errno;
			explain_lsm_failure(-r, why, why_len);
			goto fail;
		}
		link_pin_path(prog, path, sizeof(path));
		r = bpf_link__pin(link, path);
		/*
		 * The pin holds the link, and the link holds the program: drop
		 * our fds, so unpinning alone releases them (a held fd would keep
		 * the program running after unload).
		 */
		bpf_link__destroy(link);
		bpf_program__unload(prog);
		if (r < 0) {
			snprintf(why, why_len, "cannot pin %s: %s", path, strerror(-r));
			goto fail;
		}
	}
	k->adopted = adopted > 0;
	k->events_fd = bpf_map__fd(k->skel->maps.bw_events);
	if (adopted && fresh)
		bw_log(LOG_NOTICE, "adopted %d pinned programs, attached %d new ones", adopted, fresh);
	return 0;
fail:
	/* A first start that failed leaves nothing behind for the next one. */
	if (!adopted) {
		bpf_object__unpin_maps(k->skel->obj, NULL);
		rmdir(BW_PIN_ROOT);
	}
	bulwark_bpf__destroy(k->skel);
	k->skel = NULL;
	return r;
}

int bw_kernel_probe(bool verbose, char *why, size_t why_len)
{
	struct bulwark_bpf *skel;
	struct bpf_map *map;
	int r;

	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_log);
	r = require_bpf_lsm(why, why_len);
	if (r < 0)
		return r;
	skel = bulwark_bpf__open();
	if (!skel) {
		r = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(errno));
		return r;
	}
	/* A probe must leave no trace: nothing pinned, nothing attached. */
	bpf_object__for_each_map(map, skel->obj)
		bpf_map__set_pin_path(map, NULL);
	r = bulwark_bpf__load(skel);
	if (r < 0)
		explain_lsm_failure(-r, why, why_len);
	bulwark_bpf__destroy(skel);
	return r;
}

void bw_kernel_close(struct bw_kernel *k)
{
	/* Links and maps stay pinned: enforcement outlives the daemon. */
	bulwark_bpf__destroy(k->skel);
	k->skel = NULL;
}

/* Byte offset of a member of a struct in btf, or -1. */
static long member_offset(const struct btf *btf, const char *type, const char *member)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);

	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, m++)
		if (strcmp(btf__name_by_offset(btf, m->name_off), member) == 0)
			return btf_member_bit_offset(t, i) / 8;
	return -1;
}

/*
 * Tell the programs where a btrfs inode keeps its subvolume's device
 * (decision 39), from the btrfs module's BTF (or vmlinux's, if built in).
 * Done before every policy load, so a btrfs module loaded since the last
 * one is picked up; until then btrfs files fail closed.
 */
static void fill_fs_layout(struct bw_kernel *k)
{
	struct bw_fs_layout l = { 0 }, cur = { 0 };
	struct btf *vmlinux = btf__load_vmlinux_btf(), *mod = NULL;
	const struct btf *btf = vmlinux;
	long vfs, root, anon;
	__u32 zero = 0;
	int fd = bpf_map__fd(k->skel->maps.bw_fs_layout);

	if (bpf_map_lookup_elem(fd, &zero, &cur) == 0 && cur.valid)
		goto out;
	if (vmlinux && btf__find_by_name_kind(vmlinux, "btrfs_inode", BTF_KIND_STRUCT) < 0) {
		mod = btf__load_module_btf("btrfs", vmlinux);
		btf = mod;
	}
	if (!btf)
		goto out; /* no btrfs in this kernel yet: no btrfs files either */
	vfs = member_offset(btf, "btrfs_inode", "vfs_inode");
	root = member_offset(btf, "btrfs_inode", "root");
	anon = member_offset(btf, "btrfs_root", "anon_dev");
	if (vfs < 0 || root < 0 || anon < 0) {
		bw_log(LOG_WARNING, "btrfs: its BTF lacks btrfs_inode.vfs_inode/root or btrfs_root.anon_dev: files on btrfs are denied");
		goto out;
	}
	l = (struct bw_fs_layout){ .valid = 1, .btrfs_vfs_inode = vfs, .btrfs_root = root,
				   .btrfs_anon_dev = anon };
	if (bpf_map_update_elem(fd, &zero, &l, BPF_ANY) < 0)
		bw_log(LOG_WARNING, "btrfs: cannot record its layout: %s", strerror(errno));
	else
		bw_log(LOG_DEBUG, "btrfs: vfs_inode at %ld, root at %ld, anon_dev at %ld", vfs, root, anon);
out:
	btf__free(mod);
	btf__free(vmlinux);
}

int bw_kernel_install(struct bw_kernel *k, const struct bw_compiled *c, const uint8_t sha256[32],
		      uint32_t rules, uint32_t flags, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts);
	struct bw_policy_info info = { 0 };
	__u32 zero = 0;
	struct timespec now;
	int inner = -1, r;

	fill_fs_layout(k);
	/* Sized exactly: a preallocated map of n entries cannot fill up. */
	inner = bpf_map_create(BPF_MAP_TYPE_HASH, "bw_rules", sizeof(struct bw_rule_key),
			       sizeof(struct bw_rule_val), c->n ? c->n : 1, &mopts);
	if (inner < 0) {
		r = -errno;
		snprintf(why, why_len,
			 "cannot create a rule map of %zu entries: %s (kernel memory or memlock limit)",
			 c->n, strerror(errno));
		goto out;
	}
	if (bw_kernel_policy_info(k, &info) < 0)
		memset(&info, 0, sizeof(info));
	for (size_t i = 0; i < c->n; i++) {
		struct bw_rule_val val = c->entries[i].val;

		/*
		 * Tasks cache their program class under this serial; a new one
		 * per load makes every cached class from the old policy stale.
		 */
		if (c->entries[i].key.kind == BW_OBJ_META)
			val.serial = (uint32_t)(info.generation + 1) ? (uint32_t)(info.generation + 1) : 1;
		if (bpf_map_update_elem(inner, &c->entries[i].key, &val, BPF_NOEXIST) < 0) {
			r = -errno;
			snprintf(why, why_len, "cannot fill the rule map (entry %zu of %zu): %s", i + 1,
				 c->n, strerror(errno));
			goto out;
		}
	}
	/* The switch: one update of one slot. */
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_policy), &zero, &inner, BPF_ANY) < 0) {
		r = -errno;
		snprintf(why, why_len, "cannot swap in the new policy: %s", strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	memcpy(info.sha256, sha256, sizeof(info.sha256));
	info.loaded_at_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	info.rules = rules;
	info.flags = flags;
	info.generation++;
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_policy_info), &zero, &info, BPF_ANY) < 0) {
		/* The policy is in force; only its description failed. */
		bw_log(LOG_WARNING, "policy installed but its identity was not recorded: %s",
		       strerror(errno));
	}
	r = 0;
out:
	if (inner >= 0)
		close(inner);
	return r;
}

int bw_kernel_policy_info(struct bw_kernel *k, struct bw_policy_info *info)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_policy_info), &zero, info) < 0)
		return -errno;
	return 0;
}

static int entry_key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct bw_rule_entry *)a)->key, &((const struct bw_rule_entry *)b)->key,
		      sizeof(struct bw_rule_key));
}

int bw_kernel_read_entries(struct bw_kernel *k, struct bw_rule_entry **ret, size_t *ret_n)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0, id;
	struct bw_rule_entry *v = NULL;
	struct bw_rule_key key, *prev = NULL;
	size_t n = 0;
	int fd, r = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_policy), &zero, &id) < 0)
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		r = -errno;
		goto out;
	}
	v = calloc(info.max_entries ? info.max_entries : 1, sizeof(*v));
	if (!v) {
		r = -ENOMEM;
		goto out;
	}
	while (n < info.max_entries && bpf_map_get_next_key(fd, prev, &key) == 0) {
		v[n].key = key;
		if (bpf_map_lookup_elem(fd, &key, &v[n].val) == 0)
			n++;
		prev = &v[n ? n - 1 : 0].key;
	}
	qsort(v, n, sizeof(*v), entry_key_cmp);
	*ret = v;
	*ret_n = n;
	v = NULL;
out:
	free(v);
	close(fd);
	return r;
}

bool bw_kernel_has_policy(struct bw_kernel *k)
{
	__u32 zero = 0, id;

	/* Looking up an array-of-maps slot from user space yields the map id. */
	return bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_policy), &zero, &id) == 0;
}

int bw_kernel_counters(struct bw_kernel *k, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	int fd = bpf_map__fd(k->skel->maps.bw_counters);

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < BW_COUNTERS_LEN; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

/*
 * Unpin one program's link and wait until the kernel has really released
 * it: the last put is deferred to a workqueue, so without waiting, an
 * "unloaded" reply could precede the detach.
 */
static int unpin_link_and_wait(const char *path)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		info.prog_id = 0;
	close(fd);
	if (unlink(path) < 0)
		return -errno;
	/*
	 * The link's id can vanish before its detach completes (6.12), but
	 * the program is only freed once it is detached: wait for that.
	 */
	for (int i = 0; info.prog_id && i < 500; i++) {
		fd = bpf_prog_get_fd_by_id(info.prog_id);
		if (fd < 0)
			return 0;
		close(fd);
		usleep(10000);
	}
	if (info.prog_id) {
		bw_log(LOG_WARNING, "program %u (%s) still loaded 5 s after unpinning", info.prog_id, path);
		r = -EBUSY;
	}
	return r;
}

int bw_kernel_unload(struct bw_kernel *k)
{
	struct bpf_program *prog;
	char path[256];
	int r = 0, q;

	/*
	 * Exec checks go last: while only they remain, an exec is refused
	 * cleanly. The reverse order could let an exec past bprm_check and
	 * then deny its mappings after the point of no return (SIGSEGV).
	 */
	bpf_object__for_each_program(prog, k->skel->obj) {
		if (prog == k->skel->progs.bw_bprm_check)
			continue;
		link_pin_path(prog, path, sizeof(path));
		q = unpin_link_and_wait(path);
		if (q < 0 && r == 0)
			r = q;
	}
	link_pin_path(k->skel->progs.bw_bprm_check, path, sizeof(path));
	q = unpin_link_and_wait(path);
	if (q < 0 && r == 0)
		r = q;
	if (bpf_object__unpin_maps(k->skel->obj, NULL) < 0 && r == 0)
		r = -errno;
	if (rmdir(BW_PIN_ROOT) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}
