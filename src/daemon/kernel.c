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
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <sodium.h>
#include <sys/syscall.h>

#include "bulwark.skel.h"
#include "../lib/internal.h"
#include "../policy/policy.h"
#include "kernel.h"
#include "log.h"

static bool libbpf_verbose;
/* The program the verifier refused last, and its reason: the one-line explanation's detail. */
static char verifier_refusal[320];

/*
 * From a verifier log ("prog 'NAME': -- BEGIN PROG LOAD LOG --\n...\nREASON
 * \nprocessed N insns ...\n-- END PROG LOAD LOG --"): "NAME: REASON".
 */
static void note_verifier_refusal(const char *msg)
{
	const char *name = strstr(msg, "prog '"), *log = strstr(msg, "-- BEGIN PROG LOAD LOG --");
	const char *end = log ? strstr(log, "-- END PROG LOAD LOG --") : NULL;
	const char *line = NULL, *p;
	int name_len;

	if (!name || !log || !end || name > log)
		return;
	name += 6;
	name_len = (int)strcspn(name, "'");
	/* The reason is the last line before the statistics ("processed ...") or the end. */
	for (p = strchr(log, '\n'); p && p < end; p = strchr(p + 1, '\n')) {
		const char *l = p + 1;

		if (l >= end || strncmp(l, "processed ", 10) == 0 || strncmp(l, "-- END", 6) == 0)
			break;
		if (*l != '\n')
			line = l;
	}
	if (!line)
		return;
	snprintf(verifier_refusal, sizeof(verifier_refusal), "%.*s: %.*s", name_len, name,
		 (int)strcspn(line, "\n"), line);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *msg;
	size_t n;

	/* Whole: a verifier log is one message, and its end is the reason. */
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	if (strstr(msg, "-- BEGIN PROG LOAD LOG --"))
		note_verifier_refusal(msg);
	if (!libbpf_verbose) {
		free(msg);
		return 0;
	}
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

static void link_pin_path(const struct bw_kernel *k, const struct bpf_program *prog, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s/link_%s", k->pin_root, bpf_program__name(prog));
}

/*
 * Decision 108: programs attached only while the policy in force needs
 * them. Every program on a hook costs each call its trampoline's call
 * and its pages, even one that returns at once: the hashing programs
 * double what an exec pays for being two programs, for policies that
 * name no sha256:, and fork notifications cost every fork. Each is
 * loaded with the others and pinned as a program (prog_NAME), so that
 * a daemon adopting the generation can attach it later; its link is
 * pinned (link_NAME) only while attached. Each program still checks
 * bw_live itself, so one attached when not needed only costs time.
 */
static const struct on_demand {
	const char *name;
	uint32_t flags; /* attached while the policy's flags hold one of these */
} on_demand[] = {
	{ "bw_hash_bprm", BW_POLICY_HASH },
	{ "bw_hash_mmap", BW_POLICY_HASH }, /* and for the start-up probe (bw_kernel_hash_probe) */
	{ "bw_notify_fork", BW_POLICY_NOTIFY_FORK | BW_POLICY_NOTIFY_THREAD },
};
_Static_assert(sizeof(on_demand) / sizeof(on_demand[0]) ==
		       sizeof(((struct bw_kernel *)0)->demand_fds) / sizeof(int),
	       "a program fd for each program on demand");
#define N_ON_DEMAND (sizeof(on_demand) / sizeof(on_demand[0]))

static struct bw_live live_now(struct bw_kernel *k);

/* prog's index in on_demand, or -1 for a program attached for good */
static int demand_index(const struct bpf_program *prog)
{
	for (size_t i = 0; i < N_ON_DEMAND; i++)
		if (strcmp(bpf_program__name(prog), on_demand[i].name) == 0)
			return (int)i;
	return -1;
}

static void demand_prog_path(const struct bw_kernel *k, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/prog_%s", k->pin_root, on_demand[i].name);
}

static void demand_link_path(const struct bw_kernel *k, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/link_%s", k->pin_root, on_demand[i].name);
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
	else if (err && verifier_refusal[0])
		snprintf(why, len,
			 "the kernel's verifier refused bulwark's program %s (%s): this build does not fit this kernel; "
			 "`bulwarkd --probe --verbose` prints the whole log for a bug report",
			 verifier_refusal, strerror(err));
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

/*
 * The sysctls the gate guards, from the policy library's table. Filled
 * once, when the map is new, then frozen: from then on nothing in user
 * space can change which knobs are guarded (an adopting daemon finds it
 * filled and frozen).
 */
static int fill_sysctls(struct bulwark_bpf *skel, char *why, size_t why_len)
{
	int fd = bpf_map__fd(skel->maps.bw_sysctls);
	struct bw_sysctl_key key, next;

	if (bpf_map_get_next_key(fd, NULL, &next) == 0)
		return 0; /* adopted: already filled and frozen */
	for (unsigned id = 1; id < BW_SYSCTL_IDS; id++) {
		const struct bw_sysctl_def *def = bw_sysctl_def(id);
		struct bw_sysctl_val val;

		if (!def)
			continue;
		memset(&key, 0, sizeof(key));
		snprintf(key.dir, sizeof(key.dir), "%s", def->dir);
		snprintf(key.name, sizeof(key.name), "%s", def->leaf);
		val.id = id;
		val.gate = def->gate;
		if (bpf_map_update_elem(fd, &key, &val, BPF_NOEXIST) < 0) {
			snprintf(why, why_len, "cannot fill the guarded sysctl table: %s", strerror(errno));
			return -errno;
		}
	}
	if (bpf_map_freeze(fd) < 0) {
		snprintf(why, why_len, "cannot freeze the guarded sysctl table: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The daemon's kill(self, 0) is the canary the programs count (bw_canary_hit). */
static int arm_canary(struct bw_kernel *k)
{
	struct bw_canary c = { .tgid = (__u32)getpid() };
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_canary), &zero, &c, BPF_ANY) < 0)
		return -errno;
	return 0;
}

static uint64_t canary_hits(struct bw_kernel *k)
{
	struct bw_canary c = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_canary), &zero, &c);
	return c.hits;
}

static uint32_t obj_id(int fd)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);

	/* Links and maps both start their info with type and id. */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return 0;
	return info.id;
}

/*
 * Our own reference to every pinned link: with it, removing a pin or
 * unmounting bpffs no longer detaches anything while the daemon runs.
 */
static int hold_links(struct bw_kernel *k, char *why, size_t why_len)
{
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, k->skel->obj)
		n++;
	k->links = calloc(n, sizeof(*k->links));
	if (!k->links)
		return -ENOMEM;
	bpf_object__for_each_program(prog, k->skel->obj) {
		struct bw_held_link *l = &k->links[k->n_links];

		link_pin_path(k, prog, l->path, sizeof(l->path));
		if (demand_index(prog) >= 0 && access(l->path, F_OK) < 0)
			continue; /* on demand, and not attached now */
		l->fd = bpf_obj_get(l->path);
		if (l->fd < 0) {
			snprintf(why, why_len, "cannot open the pinned link %s: %s", l->path, strerror(errno));
			return -errno;
		}
		l->id = obj_id(l->fd);
		k->n_links++;
	}
	return 0;
}

static void release_links(struct bw_kernel *k)
{
	for (size_t i = 0; i < k->n_links; i++)
		close(k->links[i].fd);
	free(k->links);
	k->links = NULL;
	k->n_links = 0;
	for (size_t i = 0; i < N_ON_DEMAND; i++) {
		if (k->demand_fds[i] >= 0)
			close(k->demand_fds[i]);
		k->demand_fds[i] = -1;
	}
}

/* The held link pinned at path, or NULL. */
static struct bw_held_link *held_link(struct bw_kernel *k, const char *path)
{
	for (size_t i = 0; i < k->n_links; i++)
		if (strcmp(k->links[i].path, path) == 0)
			return &k->links[i];
	return NULL;
}

int bw_kernel_demand(struct bw_kernel *k, uint32_t flags, char *why, size_t why_len)
{
	char path[256];

	for (size_t i = 0; i < N_ON_DEMAND; i++) {
		bool want = flags & on_demand[i].flags;
		struct bw_held_link *l;
		int fd;

		demand_link_path(k, i, path, sizeof(path));
		l = held_link(k, path);
		if (want && !l) {
			/* After every decision program: the trampoline runs it first (decision 90). */
			fd = k->demand_fds[i] < 0 ? -EBADF : bpf_raw_tracepoint_open(NULL, k->demand_fds[i]);
			if (fd < 0) {
				snprintf(why, why_len, "cannot attach %s: %s (does the policy in force deny bpf to bulwarkd?)",
					 on_demand[i].name, strerror(-fd));
				return fd;
			}
			unlink(path); /* a pin nobody holds (a link a dead daemon left): ours replaces it */
			if (bpf_obj_pin(fd, path) < 0) {
				int r = -errno;

				snprintf(why, why_len, "cannot pin %s: %s", path, strerror(errno));
				close(fd);
				return r;
			}
			l = &k->links[k->n_links++];
			snprintf(l->path, sizeof(l->path), "%s", path);
			l->fd = fd;
			l->id = obj_id(fd);
			bw_kernel_check_fully(k); /* another set of links: count them (decision 109) */
		} else if (!want && l) {
			/* The pin and our fd are the link's only references: it goes with them. */
			unlink(path);
			close(l->fd);
			*l = k->links[--k->n_links];
			bw_kernel_check_fully(k);
		}
	}
	return 0;
}

/*
 * The programs on demand, from their pins (a fresh load pinned them):
 * held, so that neither removing a pin nor a detach loses them.
 */
static int open_demand(struct bw_kernel *k, char *why, size_t why_len)
{
	char path[256];

	for (size_t i = 0; i < N_ON_DEMAND; i++) {
		demand_prog_path(k, i, path, sizeof(path));
		k->demand_fds[i] = bpf_obj_get(path);
		if (k->demand_fds[i] < 0) {
			snprintf(why, why_len, "cannot open the pinned program %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11
#define BPF_FS_DIR "/sys/fs/bpf"

static bool bpffs_mounted(void)
{
	struct statfs sfs;

	return statfs(BPF_FS_DIR, &sfs) == 0 && (uint64_t)sfs.f_type == BPF_FS_MAGIC_NUMBER;
}

/* Unmounted, or something mounted over it: a fresh bpffs on top. */
static void mount_bpffs(void)
{
	if (mount("bpf", BPF_FS_DIR, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		bw_log(LOG_WARNING, "cannot mount bpffs at %s: %s", BPF_FS_DIR, strerror(errno));
}

/* This build's identity: the SHA-256 of the BPF object it carries. */
static void own_build(uint8_t out[32])
{
	size_t sz;
	const void *elf = bulwark_bpf__elf_bytes(&sz);

	crypto_hash_sha256(out, elf, sz);
}

/* Does dir hold pinned links? */
static bool has_links(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	bool found = false;

	while (d && !found && (de = readdir(d)))
		found = strncmp(de->d_name, "link_", 5) == 0;
	if (d)
		closedir(d);
	return found;
}

/* Was the generation pinned at BW_PIN_ROOT loaded from this build? */
static bool same_build(const uint8_t build[32])
{
	struct bw_build b = { 0 };
	__u32 zero = 0;
	int fd = bpf_obj_get(BW_PIN_ROOT "/bw_build");
	bool same;

	if (fd < 0)
		return false; /* a build from before builds were recorded */
	same = bpf_map_lookup_elem(fd, &zero, &b) == 0 && memcmp(b.sha256, build, 32) == 0;
	close(fd);
	return same;
}

/* A generation's own identity, written once, then frozen. */
static int record_build(struct bw_kernel *k)
{
	int fd = bpf_map__fd(k->skel->maps.bw_build);
	struct bw_build b;
	__u32 zero = 0;

	memcpy(b.sha256, k->build, sizeof(b.sha256));
	if (bpf_map_update_elem(fd, &zero, &b, BPF_ANY) < 0 || bpf_map_freeze(fd) < 0)
		return -errno;
	return 0;
}

/*
 * An upgrade: the next generation starts counting where the old one
 * stopped, so policy generations (and so events) stay ordered.
 */
static void carry_policy_info(struct bw_kernel *k)
{
	struct bw_policy_info info;
	__u32 zero = 0;
	int fd = bpf_obj_get(BW_PIN_ROOT "/bw_policy_info");

	if (fd < 0)
		return;
	if (bpf_map_lookup_elem(fd, &zero, &info) == 0)
		bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_policy_info), &zero, &info, BPF_ANY);
	close(fd);
}

/*
 * Load and attach every program that has no pinned link in k->pin_root
 * (all of them unless this build's own generation is being adopted), and
 * pin the links. Returns the number loaded, or -errno.
 */
static int attach_missing(struct bw_kernel *k, int *adopted, char *why, size_t why_len)
{
	struct bpf_program *prog;
	char path[256];
	int r, fresh = 0;

	bpf_object__for_each_program(prog, k->skel->obj) {
		int i = demand_index(prog);

		if (i >= 0)
			demand_prog_path(k, (size_t)i, path, sizeof(path));
		else
			link_pin_path(k, prog, path, sizeof(path));
		if (!k->handover && access(path, F_OK) == 0) {
			bpf_program__set_autoload(prog, false);
			(*adopted)++;
		} else {
			fresh++;
		}
	}
	k->lockdown_reasons = fill_lockdown_ids(k->skel);
	verifier_refusal[0] = 0;
	r = bulwark_bpf__load(k->skel);
	if (r < 0) {
		explain_lsm_failure(-r, why, why_len);
		return r;
	}
	/*
	 * Decision 90: the hashing programs (bw_hash_*) go last. A trampoline
	 * runs the program attached last first, so on a hook they share with
	 * a decision program they have cached the hash when it decides.
	 */
	for (int pass = 0; pass < 2; pass++)
	bpf_object__for_each_program(prog, k->skel->obj) {
		struct bpf_link *link;

		int i = demand_index(prog);

		if (!bpf_program__autoload(prog) ||
		    (strncmp(bpf_program__name(prog), "bw_hash_", 8) == 0) != (pass == 1))
			continue;
		if (i >= 0) {
			/* Attached when a policy needs it (bw_kernel_demand). */
			demand_prog_path(k, (size_t)i, path, sizeof(path));
			r = bpf_program__pin(prog, path);
			bpf_program__unload(prog);
			if (r < 0) {
				snprintf(why, why_len, "cannot pin %s: %s", path, strerror(-r));
				return r;
			}
			continue;
		}
		link = bpf_program__attach(prog);
		if (!link) {
			r = -errno;
			explain_lsm_failure(-r, why, why_len);
			return r;
		}
		link_pin_path(k, prog, path, sizeof(path));
		r = bpf_link__pin(link, path);
		/* The pin holds the link now; hold_links takes the daemon's own reference. */
		bpf_link__destroy(link);
		bpf_program__unload(prog);
		if (r < 0) {
			snprintf(why, why_len, "cannot pin %s: %s", path, strerror(-r));
			return r;
		}
	}
	return fresh;
}

int bw_kernel_open(struct bw_kernel *k, bool verbose, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	int r, adopted = 0, fresh = 0;

	memset(k, 0, sizeof(*k));
	k->events_fd = -1;
	for (size_t i = 0; i < N_ON_DEMAND; i++)
		k->demand_fds[i] = -1;
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_log);
	own_build(k->build);

	r = require_bpf_lsm(why, why_len);
	if (r < 0)
		return r;
	/* Without bpffs nothing can be pinned: mount it, as systemd would have. */
	if (!bpffs_mounted())
		mount_bpffs();
	/* A generation an interrupted upgrade left staged: the pinned one stays. */
	if (bw_pins_unload(BW_PIN_NEXT) == 0)
		bw_log(LOG_NOTICE, "removed %s, left by an interrupted upgrade", BW_PIN_NEXT);
	/*
	 * Programs of another build (an upgrade, or a downgrade) are never
	 * adopted: the next generation is loaded beside them, with maps of its
	 * own, and takes over (bw_kernel_finish_handover).
	 */
	k->handover = has_links(BW_PIN_ROOT) && !same_build(k->build);
	snprintf(k->pin_root, sizeof(k->pin_root), "%s", k->handover ? BW_PIN_NEXT : BW_PIN_ROOT);
	if (mkdir(k->pin_root, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(why, why_len, "cannot create %s: %s (is bpffs mounted at /sys/fs/bpf?)",
			 k->pin_root, strerror(errno));
		return r;
	}
	oopts.pin_root_path = k->pin_root;
	k->skel = bulwark_bpf__open_opts(&oopts);
	if (!k->skel) {
		r = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(errno));
		return r;
	}
	r = attach_missing(k, &adopted, why, why_len);
	if (r < 0)
		goto fail;
	fresh = r;
	if (!adopted && (r = record_build(k)) < 0) {
		snprintf(why, why_len, "cannot record the build: %s", strerror(-r));
		goto fail;
	}
	r = fill_sysctls(k->skel, why, why_len);
	if (r < 0)
		goto fail;
	r = hold_links(k, why, why_len);
	if (r == 0)
		r = open_demand(k, why, why_len);
	/* What the pinned policy needs, if an earlier daemon left one (decision 108). */
	if (r == 0)
		r = bw_kernel_demand(k, live_now(k).flags, why, why_len);
	if (r < 0)
		goto fail;
	r = arm_canary(k);
	if (r < 0) {
		snprintf(why, why_len, "cannot arm the canary: %s", strerror(-r));
		goto fail;
	}
	if (k->handover) {
		carry_policy_info(k);
		bw_log(LOG_NOTICE, "another build's programs are pinned: attached this build's beside them in %s",
		       BW_PIN_NEXT);
	}
	k->adopted = adopted > 0;
	k->events_fd = bpf_map__fd(k->skel->maps.bw_events);
	if (adopted && fresh)
		bw_log(LOG_NOTICE, "adopted %d pinned programs, attached %d new ones", adopted, fresh);
	return 0;
fail:
	release_links(k);
	/* A first start (or a staged generation) that failed leaves nothing behind. */
	if (!adopted)
		bw_pins_unload(k->pin_root);
	bulwark_bpf__destroy(k->skel);
	k->skel = NULL;
	return r;
}

/* What may be in force now (bw_live's superset); all of it when it cannot be read. */
static struct bw_live live_now(struct bw_kernel *k)
{
	struct bw_live l;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_live), &zero, &l) < 0) {
		bw_log(LOG_WARNING, "cannot read what the hooks check: %s (taking all of it)", strerror(errno));
		memset(&l, 0xff, sizeof(l)); /* every op and flag, and marks: only slower */
	}
	return l;
}

static int live_set(struct bw_kernel *k, const struct bw_live *l)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_live), &zero, l, BPF_ANY) < 0 ? -errno : 0;
}

/* Some process may carry the no-children mark: forks must look, for good. */
static void live_note_marks(struct bw_kernel *k)
{
	struct bw_live l = live_now(k);

	l.marks = 1;
	if (live_set(k, &l) < 0)
		bw_log(LOG_WARNING, "cannot record that marks exist: %s", strerror(errno));
}

/* Entries that subject-class a task (program, cgroup): looked up to classify, never to decide. */
static bool is_class_entry(const struct bw_rule_key *key)
{
	return key->kind == BW_OBJ_EXE_FILE || key->kind == BW_OBJ_EXE_TREE || key->kind == BW_OBJ_CGROUP;
}

/*
 * What the hooks may skip under c (struct bw_live): the ops every layer
 * decides and layer 0's META flags (a sticky rule can mark); per op, the
 * subject masks its rules use; whether any layer classifies programs; the
 * ops some rule decides by more than an exact file.
 */
static struct bw_live live_of(const struct bw_compiled *c, struct bw_live was)
{
	struct bw_live l = { .marks = was.marks, .installed = 1 };

	for (size_t i = 0; i < c->n; i++) {
		const struct bw_rule_key *key = &c->entries[i].key;

		if (key->kind == BW_OBJ_META) {
			l.ops |= c->entries[i].val.ops;
			if (!key->layer)
				l.flags |= c->entries[i].val.flags;
			continue;
		}
		if (key->kind == BW_OBJ_EXE_FILE || key->kind == BW_OBJ_EXE_TREE)
			l.exe_classes = 1;
		if (is_class_entry(key) || key->op >= BW_OP_COUNT)
			continue;
		l.combos[key->op] |= 1u << key->subj;
		/* Decision 105: the hooks' one-lookup-per-view path is for exact files, by anyone, layer 0. */
		if (key->kind != BW_OBJ_FILE || key->subj || key->layer)
			l.inexact_ops |= 1u << key->op;
	}
	if (l.flags & BW_POLICY_STICKY)
		l.marks = 1;
	return l;
}

/* Both policies' superset, for the time of a swap: a hook that skips something skips it under either. */
static struct bw_live live_union(const struct bw_live *a, const struct bw_live *b)
{
	struct bw_live l = { .ops = a->ops | b->ops, .flags = a->flags | b->flags, .marks = b->marks,
			     .installed = 1, .exe_classes = a->exe_classes | b->exe_classes,
			     .inexact_ops = a->inexact_ops | b->inexact_ops };

	for (int op = 0; op < BW_OP_COUNT; op++)
		l.combos[op] = a->combos[op] | b->combos[op];
	return l;
}

/*
 * The filters beside bw_live: bitmaps of what the rules in force name,
 * which the hooks read to skip a decision no rule can make (a clear bit:
 * no rule). Both only widen across a swap (old | new), as bw_live does.
 *   bw_uid_filter   (op, uid) of rules whose subject names a uid (decision 104)
 *   bw_file_filter  (op, dev, ino) of exact-file entries (decision 106)
 */
enum { FILTER_UID, FILTER_FILE, FILTERS };

static const struct {
	const char *what;
	uint32_t words;
} filters[FILTERS] = {
	[FILTER_UID] = { "which uids the rules name", BW_UID_FILTER_WORDS },
	[FILTER_FILE] = { "which files the rules name", BW_FILE_FILTER_WORDS },
};

static int filter_fd(struct bw_kernel *k, int f)
{
	return bpf_map__fd(f == FILTER_UID ? k->skel->maps.bw_uid_filter : k->skel->maps.bw_file_filter);
}

/* Filter f as c's rules set it, into words. */
static void filter_of(const struct bw_compiled *c, int f, uint64_t *words)
{
	memset(words, 0, filters[f].words * sizeof(*words));
	for (size_t i = 0; i < c->n; i++) {
		const struct bw_rule_key *key = &c->entries[i].key;
		uint32_t bit;

		if (key->kind == BW_OBJ_META || is_class_entry(key))
			continue;
		if (f == FILTER_UID && (key->subj & (1u << BW_DIM_UID))) {
			bit = BW_UID_FILTER_BIT(key->op, key->ids[BW_DIM_UID]);
			words[bit / 64] |= 1ull << (bit % 64);
		} else if (f == FILTER_FILE && key->kind == BW_OBJ_FILE) {
			words[BW_FILE_FILTER_WORD(key->op, key->ino)] |=
				BW_FILE_FILTER_MASK(key->op, key->dev, key->ino);
		}
	}
}

/*
 * Every filter as c sets it, and as wide as what holds now and c
 * together: the words of each, filters[f].words apart, in one buffer;
 * and the keys and values of batch operations on a filter. Allocated for
 * an install, not static: 384 KiB that would stay resident between loads.
 */
struct filter_words {
	uint64_t *next[FILTERS], *wide[FILTERS];
	bool known[FILTERS];
	uint64_t *mem;
	uint32_t *keys;   /* BW_FILE_FILTER_WORDS, in mem */
	uint64_t *values; /* BW_FILE_FILTER_WORDS, in mem */
};
_Static_assert(BW_FILE_FILTER_WORDS >= BW_UID_FILTER_WORDS, "the batch buffers hold either filter");

/*
 * Filter f now, into words; false, with every bit set, when it cannot be
 * read (never skip, and rewrite every word).
 */
static bool filter_now(struct bw_kernel *k, int f, uint64_t *words, const struct filter_words *w)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = filters[f].words, out_batch;

	if (bpf_map_lookup_batch(filter_fd(k, f), NULL, &out_batch, w->keys, words, &count, &opts) < 0 &&
	    errno != ENOENT)
		count = 0;
	if (count != filters[f].words) {
		bw_log(LOG_WARNING, "cannot read %s (%u of %u words): taking all of them", filters[f].what,
		       count, filters[f].words);
		memset(words, 0xff, filters[f].words * sizeof(*words));
		return false;
	}
	return true;
}

/*
 * Filter f from have (what it holds; NULL: not known) to want: only the
 * words that differ, in one batch. A policy naming no uid and no file
 * changes none.
 */
static int filter_set(struct bw_kernel *k, int f, const uint64_t *have, const uint64_t *want,
		      const struct filter_words *w)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = 0, n;

	for (uint32_t i = 0; i < filters[f].words; i++)
		if (!have || have[i] != want[i]) {
			w->keys[count] = i;
			w->values[count++] = want[i];
		}
	if (count == 0)
		return 0;
	n = count;
	if (bpf_map_update_batch(filter_fd(k, f), w->keys, w->values, &n, &opts) < 0)
		return -errno;
	return n == count ? 0 : -EIO;
}

static int filters_prepare(struct bw_kernel *k, const struct bw_compiled *c, struct filter_words *w)
{
	size_t total = 0, at = 0;
	uint64_t *now;

	for (int f = 0; f < FILTERS; f++)
		total += filters[f].words;
	/* the words three times (next, wide, now), then the batch values and keys */
	w->mem = calloc(3 * total + BW_FILE_FILTER_WORDS + BW_FILE_FILTER_WORDS / 2, sizeof(uint64_t));
	if (!w->mem)
		return -ENOMEM;
	w->values = w->mem + 3 * total;
	w->keys = (uint32_t *)(w->values + BW_FILE_FILTER_WORDS);
	for (int f = 0; f < FILTERS; f++) {
		w->next[f] = w->mem + at;
		w->wide[f] = w->mem + total + at;
		now = w->mem + 2 * total + at;
		at += filters[f].words;
		filter_of(c, f, w->next[f]);
		w->known[f] = filter_now(k, f, now, w);
		for (uint32_t i = 0; i < filters[f].words; i++)
			w->wide[f][i] = now[i] | w->next[f][i];
		/* widen from what holds now (or every word, when it is not known) */
		if (filter_set(k, f, w->known[f] ? now : NULL, w->wide[f], w) < 0)
			return -errno ? -errno : -EIO;
	}
	return 0;
}

/* After the swap: each filter down to c's alone. Failing this is only slower. */
static int filters_narrow(struct bw_kernel *k, const struct filter_words *w)
{
	int r = 0;

	for (int f = 0; f < FILTERS; f++) {
		int e = filter_set(k, f, w->wide[f], w->next[f], w);

		if (e < 0 && !r)
			r = e;
	}
	return r;
}

/*
 * The old generation's per-process state, into ours: the no-children mark
 * above all (a marked process must stay marked across an upgrade). Cached
 * program classes belong to the old policy's serials: dropped. Threads are
 * reached through their process (pidfds name processes on 6.1), which is
 * why the mark is also read from the group leader (bw_task_alloc).
 */
static void migrate_task_state(struct bw_kernel *k)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	struct bw_task_state ts;
	struct dirent *de;
	int old, n = 0, marked = 0;
	DIR *d;

	old = bpf_obj_get(BW_PIN_ROOT "/bw_task_state");
	if (old < 0)
		return;
	/*
	 * The layout only grew at its end (struct bw_task_state): an older
	 * generation's state is our prefix, the fields past it zero.
	 */
	if (bpf_obj_get_info_by_fd(old, &info, &len) < 0 || info.value_size > sizeof(ts) ||
	    info.value_size < offsetof(struct bw_task_state, exe)) {
		bw_log(LOG_WARNING, "upgrade: the old task state has another layout: marks not carried over");
		close(old);
		return;
	}
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		long pid = strtol(de->d_name, NULL, 10);
		int pidfd;

		if (pid <= 0)
			continue;
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (pidfd < 0)
			continue;
		memset(&ts, 0, sizeof(ts));
		if (bpf_map_lookup_elem(old, &pidfd, &ts) == 0) {
			ts.class_serial = 0;
			/* Forks look at marks only once one may exist (bw_live): say so first. */
			if (ts.nochild && !marked)
				live_note_marks(k);
			if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_task_state), &pidfd, &ts,
						BPF_ANY) == 0) {
				n++;
				marked += ts.nochild != 0;
			}
		}
		close(pidfd);
	}
	if (d)
		closedir(d);
	close(old);
	bw_log(LOG_INFO, "upgrade: carried over the state of %d processes (%d marked)", n, marked);
}

int bw_kernel_finish_handover(struct bw_kernel *k, ring_buffer_sample_fn drain, void *ctx)
{
	struct ring_buffer *rb = NULL;
	struct bpf_map *map;
	char path[512];
	int fd, r;

	if (!k->handover)
		return 0;
	migrate_task_state(k);
	/* Ours are attached and hold a policy: the old ones can go, exec last. */
	r = bw_pins_detach(BW_PIN_ROOT);
	if (r < 0)
		bw_log(LOG_WARNING, "upgrade: old programs not all detached: %s", strerror(-r));
	/* What the old generation reported before it went. */
	fd = bpf_obj_get(BW_PIN_ROOT "/bw_events");
	if (fd >= 0) {
		rb = ring_buffer__new(fd, drain, ctx, NULL);
		if (rb)
			ring_buffer__consume(rb);
		ring_buffer__free(rb);
		close(fd);
	}
	bw_pins_remove(BW_PIN_ROOT);
	if (rename(BW_PIN_NEXT, BW_PIN_ROOT) < 0) {
		r = -errno;
		bw_log(LOG_ERR, "upgrade: cannot move %s to %s: %s", BW_PIN_NEXT, BW_PIN_ROOT, strerror(errno));
		return r;
	}
	/* Our pins moved with the directory: so do the paths we keep. */
	snprintf(k->pin_root, sizeof(k->pin_root), "%s", BW_PIN_ROOT);
	for (size_t i = 0; i < k->n_links; i++) {
		char *base = strrchr(k->links[i].path, '/');

		snprintf(path, sizeof(path), "%s", base ? base : "");
		snprintf(k->links[i].path, sizeof(k->links[i].path), "%s%.200s", BW_PIN_ROOT, path);
	}
	bpf_object__for_each_map(map, k->skel->obj) {
		const char *pin = bpf_map__pin_path(map), *base;

		if (!pin || !(base = strrchr(pin, '/')))
			continue;
		snprintf(path, sizeof(path), "%s%s", BW_PIN_ROOT, base);
		bpf_map__set_pin_path(map, path);
	}
	k->handover = false;
	bw_log(LOG_NOTICE, "upgrade: the previous build's programs are detached; this build enforces");
	return r < 0 ? r : 0;
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
	verifier_refusal[0] = 0;
	r = bulwark_bpf__load(skel);
	if (r < 0)
		explain_lsm_failure(-r, why, why_len);
	bulwark_bpf__destroy(skel);
	return r;
}

void bw_kernel_close(struct bw_kernel *k)
{
	/* Links and maps stay pinned: enforcement outlives the daemon. */
	release_links(k);
	bulwark_bpf__destroy(k->skel);
	k->skel = NULL;
}

/* The serial of the policy in force, from its META entry; 0 when there is none. */
static uint32_t active_serial(struct bw_kernel *k)
{
	struct bw_rule_key key = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	struct bw_rule_val val = { 0 };
	__u32 zero = 0, id;
	int fd;

	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_policy), &zero, &id) < 0)
		return 0;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &key, &val) < 0)
		val.serial = 0;
	close(fd);
	return val.serial;
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
 * (decision 45), from the btrfs module's BTF (or vmlinux's, if built in).
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

/* Entries per batch: two arrays of this many keys and values (about 120 KiB). */
#define FILL_BATCH 1024

/*
 * Fill a new rule map: in batches of FILL_BATCH entries, one syscall each
 * (nothing reads the map before the swap, so a batch needs no atomicity),
 * one by one from the first batch the kernel refuses.
 * The META entry of layer 0 gets the generation's serial: tasks cache
 * their program class under it, so every class cached under the old
 * policy goes stale at the swap.
 */
static int fill_rules(int fd, const struct bw_compiled *c, uint32_t serial, char *why, size_t why_len)
{
	struct bw_rule_key *keys = NULL;
	struct bw_rule_val *vals = NULL;
	bool batch = true;
	size_t i = 0;
	int r = 0;

	if (c->n) {
		keys = calloc(FILL_BATCH, sizeof(*keys));
		vals = calloc(FILL_BATCH, sizeof(*vals));
		if (!keys || !vals) {
			r = -ENOMEM;
			snprintf(why, why_len, "cannot fill the rule map: out of memory");
			goto out;
		}
	}
	while (i < c->n) {
		size_t n = c->n - i < FILL_BATCH ? c->n - i : FILL_BATCH;
		__u32 count = (__u32)n;

		for (size_t j = 0; j < n; j++) {
			keys[j] = c->entries[i + j].key;
			vals[j] = c->entries[i + j].val;
			if (keys[j].kind == BW_OBJ_META && !keys[j].layer)
				vals[j].serial = serial;
		}
		if (batch) {
			/*
			 * elem_flags 0: batch updates take no BPF_NOEXIST (EINVAL),
			 * and need none: the compiler sorts and merges the keys, so
			 * each is new to this fresh map.
			 */
			LIBBPF_OPTS(bpf_map_batch_opts, bopts, .elem_flags = 0);

			if (bpf_map_update_batch(fd, keys, vals, &count, &bopts) == 0) {
				i += n;
				continue;
			}
			/* No batch update here (or not for this map): this chunk and the rest one by one. */
			bw_log(LOG_DEBUG, "batch update of the rule map: %s; filling it one entry at a time",
			       strerror(errno));
			batch = false;
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			/* BPF_ANY: a batch that failed half-way may have put some of these already. */
			if (bpf_map_update_elem(fd, &keys[j], &vals[j], BPF_ANY) < 0) {
				r = -errno;
				snprintf(why, why_len, "cannot fill the rule map (entry %zu of %zu): %s", i + j + 1,
					 c->n, strerror(errno));
				goto out;
			}
		}
		i += n;
	}
out:
	free(keys);
	free(vals);
	return r;
}

/*
 * Wait until no hook program still runs on what it read before now:
 * write bw_policy's slot again with the map it holds. After every update
 * of a map of maps the kernel waits for the programs that may be running
 * (synchronize_rcu, 6.1 and 6.12: maybe_wait_bpf_programs), on one CPU
 * too. With no map in force there is nothing to wait for: the hooks'
 * fast paths need an installed policy.
 */
static int wait_for_hooks(struct bw_kernel *k)
{
	int slot = bpf_map__fd(k->skel->maps.bw_policy), fd, r = 0;
	__u32 zero = 0, id;

	if (bpf_map_lookup_elem(slot, &zero, &id) < 0)
		return errno == ENOENT ? 0 : -errno;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* freed meanwhile: nothing holds it */
	if (bpf_map_update_elem(slot, &zero, &fd, BPF_ANY) < 0)
		r = -errno;
	close(fd);
	return r;
}

int bw_kernel_install(struct bw_kernel *k, const struct bw_compiled *c, const uint8_t sha256[32],
		      uint32_t rules, uint32_t flags, char *why, size_t why_len)
{
	struct bw_live was = live_now(k), next = live_of(c, was), wide;
	struct filter_words fw = { 0 };
	LIBBPF_OPTS(bpf_map_create_opts, mopts);
	struct bw_policy_info info = { 0 };
	__u32 zero = 0;
	struct timespec now;
	uint32_t serial;
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
	/*
	 * The serial is the new generation's low 32 bits (events name their
	 * generation by it), and never the serial in force, even when an
	 * earlier write of the recorded generation failed.
	 */
	serial = (uint32_t)(info.generation + 1);
	if (serial <= active_serial(k))
		serial = active_serial(k) + 1;
	if (!serial)
		serial = 1;
	r = fill_rules(inner, c, serial, why, why_len);
	if (r < 0)
		goto out;
	/*
	 * Before the switch the hooks' fast paths must allow for both maps
	 * (decision 101): a hook that skips an op then skips it under either.
	 */
	wide = live_union(&was, &next);
	r = filters_prepare(k, c, &fw);
	if (r == 0)
		r = live_set(k, &wide);
	if (r < 0) {
		snprintf(why, why_len, "cannot widen what the hooks check before the swap: %s", strerror(-r));
		goto out;
	}
	/* The programs either policy needs, attached before the swap (decision 108). */
	r = bw_kernel_demand(k, wide.flags, why, why_len);
	if (r < 0)
		goto out;
	/*
	 * A hook that read bw_live or a filter before they were widened may
	 * still run and take the new map for the old one's shape: wait for
	 * it first (decision 106).
	 */
	r = wait_for_hooks(k);
	if (r < 0) {
		snprintf(why, why_len, "cannot wait for the hooks before the swap: %s", strerror(-r));
		goto out;
	}
	/*
	 * The switch: one update of one slot. The kernel returns from it only
	 * once no program that may hold the old map runs (as wait_for_hooks),
	 * so narrowing after it cannot meet a decision on the old map.
	 */
	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_policy), &zero, &inner, BPF_ANY) < 0) {
		r = -errno;
		snprintf(why, why_len, "cannot swap in the new policy: %s", strerror(errno));
		goto out;
	}
	/* Failing this, hooks keep taking their full path for the old map's ops: slower, never wrong. */
	if (live_set(k, &next) < 0 || filters_narrow(k, &fw) < 0)
		bw_log(LOG_WARNING, "cannot narrow what the hooks check to the new policy: %s", strerror(errno));
	else if (bw_kernel_demand(k, next.flags, why, why_len) < 0)
		bw_log(LOG_WARNING, "%s", why); /* a program the new policy does not need stays attached */
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
	free(fw.mem);
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

/*
 * bulwarkd at level `system`, and the one process the kernel takes for
 * bulwarkd: written before a `protect self` policy goes in, while the maps
 * still take this process's writes. A bulwarkd exec'd from its protected
 * binary already holds both (bw_protect_committed); this is the first
 * policy's way in, and harmless again.
 */
int bw_kernel_protect_self(struct bw_kernel *k)
{
	struct bw_protected_proc pp = { .level = BW_LEVEL_SYSTEM };
	struct bw_guard g = { .daemon_tgid = (__u32)getpid() };
	__u32 zero = 0, tgid = (__u32)getpid();
	struct stat st;

	/* Our mount namespace and root are the host's view: protected programs get levels only there. */
	if (stat("/proc/self/ns/mnt", &st) == 0)
		g.mnt_ns = (__u32)st.st_ino;
	if (stat("/", &st) == 0) {
		g.root_dev = bw_kernel_dev(st.st_dev);
		g.root_ino = st.st_ino;
	}

	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_protected), &tgid, &pp, BPF_ANY) < 0 ||
	    bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_guard), &zero, &g, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int bw_kernel_lock_get(struct bw_kernel *k, struct bw_lock *lk)
{
	__u32 zero = 0;

	memset(lk, 0, sizeof(*lk));
	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_lock), &zero, lk) < 0)
		return -errno;
	return 0;
}

int bw_kernel_lock_set(struct bw_kernel *k, const struct bw_lock *lk)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(k->skel->maps.bw_lock), &zero, lk, BPF_ANY) < 0)
		return -errno;
	return 0;
}

__u32 bw_kernel_level_of(struct bw_kernel *k, pid_t tgid)
{
	struct bw_protected_proc pp;
	__u32 key = (__u32)tgid;

	if (!k->skel || bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_protected), &key, &pp) < 0)
		return BW_LEVEL_NONE;
	return pp.level;
}

size_t bw_kernel_protected_count(struct bw_kernel *k)
{
	__u32 key, *prev = NULL;
	size_t n = 0;
	int fd = bpf_map__fd(k->skel->maps.bw_protected);

	while (n < 1u << 20 && bpf_map_get_next_key(fd, prev, &key) == 0) {
		n++;
		prev = &key;
	}
	return n;
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
	struct bw_live undecided = { 0 };
	__u32 key = BW_LIVE_UNDECIDED;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	/*
	 * Forks, threads (decision 102), memory and image-load ops
	 * (decision 103) no layer decides and execs the exact-file path
	 * found no entry for (decision 105) are allowed and counted in
	 * bw_live: decisions all the same. Read first, like
	 * the outcomes, so allowed only ever lags.
	 */
	if (bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_live), &key, &undecided) < 0)
		bw_log(LOG_WARNING, "cannot read the undecided ops' counts: %s", strerror(errno));
	/*
	 * Each op's outcomes before its decisions: a decision is counted
	 * before its outcome, so the decisions read last are never fewer
	 * than the outcomes read first, and allowed (which the kernel does
	 * not count, one helper call less per decision) never goes negative.
	 */
	for (__u32 op = 0; op < BW_OP_COUNT; op++) {
		uint64_t *o = out + op * BW_CNT_COUNT, blocked;

		for (__u32 c = BW_CNT_COUNT; c-- > 0;) {
			__u32 i = op * BW_CNT_COUNT + c;

			o[c] = 0;
			if (bpf_map_lookup_elem(fd, &i, vals) < 0)
				continue;
			for (int cpu = 0; cpu < ncpu; cpu++)
				o[c] += vals[cpu];
		}
		if (op == BW_OP_FORK)
			o[BW_CNT_DECISIONS] += undecided.undecided_forks;
		if (op == BW_OP_THREAD)
			o[BW_CNT_DECISIONS] += undecided.undecided_threads;
		if (op >= BW_OP_WX && op <= BW_OP_LOAD)
			o[BW_CNT_DECISIONS] += undecided.undecided_memory[op - BW_OP_WX];
		if (op == BW_OP_EXEC)
			o[BW_CNT_DECISIONS] += undecided.undecided_exec;
		blocked = o[BW_CNT_DENIED] + o[BW_CNT_WOULD_DENY];
		o[BW_CNT_ALLOWED] = o[BW_CNT_DECISIONS] > blocked ? o[BW_CNT_DECISIONS] - blocked : 0;
	}
	free(vals);
	return 0;
}

int bw_kernel_unload(struct bw_kernel *k)
{
	int r;

	/* Our own references would keep every program attached. */
	release_links(k);
	r = bw_pins_unload(k->pin_root);
	return r == -ENOENT ? 0 : r;
}

/* Pin fd at path unless path already holds the object with this id. */
static bool ensure_pinned(int fd, uint32_t id, const char *path)
{
	int cur = bpf_obj_get(path);
	bool ok = cur >= 0 && obj_id(cur) == id;

	if (cur >= 0)
		close(cur);
	if (ok)
		return false;
	if (cur >= 0 || errno != ENOENT)
		unlink(path); /* something else sits at our pin's place */
	if (bpf_obj_pin(fd, path) < 0)
		bw_log(LOG_WARNING, "cannot pin %s again: %s", path, strerror(errno));
	return true;
}

static int read_ftrace_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/ftrace_enabled", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Decision 109: the pins need no look while their directory is as the
 * last full check found it. Removing, adding or replacing a pin changes
 * the directory's ctime, and so does a utimensat that would set its
 * times back; another directory or a mount over it is another device or
 * inode. The full check costs some four system calls a pin (about 100
 * pins, every second: the daemon's idle CPU under emulation), the quick
 * one a stat. Every BW_CHECKS_QUICK_MAX + 1th check is full anyway: a
 * change within the same clock tick as the last full check's stat,
 * which ctime's coarse clock cannot tell apart, waits for that one.
 */
#define BW_CHECKS_QUICK_MAX 9

static bool pins_as_checked(struct bw_kernel *k, struct stat *now)
{
	const struct stat *was = &k->pins_dir;

	if (stat(k->pin_root, now) < 0) {
		memset(now, 0, sizeof(*now));
		return false;
	}
	/* A link attached or detached since (programs on demand): count them again. */
	if (!was->st_ino || k->quick_checks >= BW_CHECKS_QUICK_MAX || k->pins_n_links != k->n_links)
		return false;
	return now->st_dev == was->st_dev && now->st_ino == was->st_ino &&
	       now->st_ctim.tv_sec == was->st_ctim.tv_sec && now->st_ctim.tv_nsec == was->st_ctim.tv_nsec &&
	       now->st_mtim.tv_sec == was->st_mtim.tv_sec && now->st_mtim.tv_nsec == was->st_mtim.tv_nsec;
}

void bw_kernel_check_fully(struct bw_kernel *k)
{
	memset(&k->pins_dir, 0, sizeof(k->pins_dir));
}

void bw_kernel_check(struct bw_kernel *k, struct bw_integrity *out, bw_integrity_report report,
		     void *ctx)
{
	struct bpf_map *map;
	struct stat dir = { 0 };
	uint64_t before;
	char path[512];

	memset(out, 0, sizeof(*out));
	out->expected = (unsigned)k->n_links;
	out->bpffs = bpffs_mounted();
	if (out->bpffs && pins_as_checked(k, &dir)) {
		k->quick_checks++;
		out->links = k->pins_links;
		goto canary;
	}
	/* Taken before the look: a change during it shows at the next check. */
	k->pins_dir = dir;
	k->quick_checks = 0;
	if (!out->bpffs) {
		mount_bpffs();
		report(ctx, "bpffs-mounted", BPF_FS_DIR);
		out->repaired++;
	}
	if (mkdir(BW_PIN_ROOT, 0700) == 0) {
		report(ctx, "pin-dir-restored", BW_PIN_ROOT);
		out->repaired++;
	}
	for (size_t i = 0; i < k->n_links; i++) {
		struct bw_held_link *l = &k->links[i];

		if (obj_id(l->fd) == l->id)
			out->links++;
		if (ensure_pinned(l->fd, l->id, l->path)) {
			report(ctx, "pin-restored", l->path);
			out->repaired++;
		}
	}
	for (size_t i = 0; i < N_ON_DEMAND; i++) {
		if (k->demand_fds[i] < 0)
			continue;
		demand_prog_path(k, i, path, sizeof(path));
		if (ensure_pinned(k->demand_fds[i], obj_id(k->demand_fds[i]), path)) {
			report(ctx, "pin-restored", path);
			out->repaired++;
		}
	}
	bpf_object__for_each_map(map, k->skel->obj) {
		const char *pin = bpf_map__pin_path(map);
		int fd = bpf_map__fd(map);

		if (!pin || fd < 0)
			continue;
		snprintf(path, sizeof(path), "%s", pin);
		if (ensure_pinned(fd, obj_id(fd), path)) {
			report(ctx, "pin-restored", path);
			out->repaired++;
		}
	}
	k->pins_links = out->links;
	k->pins_n_links = k->n_links;
	/* Repaired: the directory changed, and the next check looks again. */
	if (out->repaired)
		bw_kernel_check_fully(k);
canary:
	before = canary_hits(k);
	kill(getpid(), 0);
	out->called = canary_hits(k) != before;
	out->ftrace_enabled = read_ftrace_enabled();
}

/*
 * Decision 90's start-up probe: does IMA hand this kernel's BPF programs a
 * SHA-256? Map a file of known content readable, with bw_hash_cfg naming
 * this process: the sleepable mmap program hashes it with
 * bpf_ima_file_hash and records what it got; compare with libsodium's.
 * 0 when it works, else -errno with why filled in.
 */
_Static_assert(BW_HASH_PROBE_FLAGS == (MAP_PRIVATE | MAP_NORESERVE | MAP_POPULATE),
	       "the probe's mmap flags");

int bw_kernel_hash_probe(struct bw_kernel *k, char *why, size_t why_len)
{
	static const char content[] = "bulwark: does IMA hash files for BPF programs?\n";
	int fd = bpf_map__fd(k->skel->maps.bw_hash_cfg), tmp = -1, r = 0;
	unsigned char want[crypto_hash_sha256_BYTES];
	struct bw_hash_cfg cfg = { 0 };
	char path[] = "/run/bulwark-ima-probe-XXXXXX", detach_why[256];
	__u32 zero = 0;
	void *m;

	if (bpf_map_lookup_elem(fd, &zero, &cfg) < 0)
		return snprintf(why, why_len, "cannot read bw_hash_cfg: %s", strerror(errno)), -EIO;
	/* The hashing program on mappings runs for the probe, whatever the policy. */
	r = bw_kernel_demand(k, live_now(k).flags | BW_POLICY_HASH, why, why_len);
	if (r < 0)
		goto out;
	cfg.probe_tgid = (uint32_t)getpid();
	cfg.probe_ret = 0;
	memset(cfg.probe_sha256, 0, sizeof(cfg.probe_sha256));
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) < 0)
		return snprintf(why, why_len, "cannot write bw_hash_cfg: %s", strerror(errno)), -EIO;
	tmp = mkstemp(path);
	if (tmp < 0 && (strcpy(path, "/tmp/bulwark-ima-probe-XXXXXX"), tmp = mkstemp(path)) < 0) {
		r = -errno;
		snprintf(why, why_len, "cannot create a probe file: %s", strerror(errno));
		goto out;
	}
	unlink(path);
	if (write(tmp, content, sizeof(content) - 1) != (ssize_t)(sizeof(content) - 1)) {
		r = -EIO;
		snprintf(why, why_len, "cannot write the probe file");
		goto out;
	}
	m = mmap(NULL, sizeof(content) - 1, PROT_READ, BW_HASH_PROBE_FLAGS, tmp, 0);
	if (m != MAP_FAILED)
		munmap(m, sizeof(content) - 1);
	crypto_hash_sha256(want, (const unsigned char *)content, sizeof(content) - 1);
	if (bpf_map_lookup_elem(fd, &zero, &cfg) < 0) {
		r = -EIO;
		snprintf(why, why_len, "cannot read bw_hash_cfg: %s", strerror(errno));
	} else if (cfg.probe_ret == 0) {
		r = -ENOSYS;
		snprintf(why, why_len, "the hashing program did not run");
	} else if (cfg.probe_ret < 0) {
		r = (int)cfg.probe_ret;
		snprintf(why, why_len, "bpf_ima_file_hash failed: %s%s", strerror((int)-cfg.probe_ret),
			 cfg.probe_ret == -EOPNOTSUPP ? " (this kernel has no IMA: CONFIG_IMA)" : "");
	} else if (cfg.probe_ret - 1 != 4 /* HASH_ALGO_SHA256 */) {
		r = -EPROTO;
		snprintf(why, why_len, "IMA hashes with algorithm %lld, not SHA-256 (boot with ima_hash=sha256)",
			 (long long)cfg.probe_ret - 1);
	} else if (memcmp(cfg.probe_sha256, want, sizeof(want)) != 0) {
		r = -EPROTO;
		snprintf(why, why_len, "IMA's SHA-256 of the probe file is not its SHA-256");
	}
out:
	if (tmp >= 0)
		close(tmp);
	if (bpf_map_lookup_elem(fd, &zero, &cfg) == 0) {
		cfg.probe_tgid = 0;
		bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY);
	}
	/* Back to what the policy in force needs. */
	if (bw_kernel_demand(k, live_now(k).flags, detach_why, sizeof(detach_why)) < 0)
		bw_log(LOG_WARNING, "%s", detach_why);
	return r;
}

int bw_kernel_hash_enable(struct bw_kernel *k, bool on)
{
	int fd = bpf_map__fd(k->skel->maps.bw_hash_cfg);
	struct bw_hash_cfg cfg = { 0 };
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &cfg) < 0)
		return -errno;
	if (cfg.enabled == (uint32_t)on)
		return 0;
	cfg.enabled = on;
	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) < 0 ? -errno : 0;
}

int bw_kernel_hash_stats(struct bw_kernel *k, uint64_t out[BW_HASH_STATS])
{
	int fd = bpf_map__fd(k->skel->maps.bw_hash_stats);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	memset(out, 0, sizeof(uint64_t) * BW_HASH_STATS);
	if (ncpu <= 0 || !(v = calloc((size_t)ncpu, sizeof(*v))))
		return -ENOMEM;
	for (__u32 i = 0; i < BW_HASH_STATS; i++)
		if (bpf_map_lookup_elem(fd, &i, v) == 0)
			for (int c = 0; c < ncpu; c++)
				out[i] += v[c];
	free(v);
	return 0;
}

/* The hash the kernel cached for an untrusted file, if any (events' target.sha256). */
bool bw_kernel_hash_cached(struct bw_kernel *k, uint64_t dev, uint64_t ino, uint8_t sha256[32])
{
	struct bw_trust_key key = { .dev = dev, .ino = ino };
	struct bw_trust_val v;

	if (!k->skel || bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.bw_hash_cache), &key, &v) < 0)
		return false;
	memcpy(sha256, v.sha256, 32);
	return true;
}

int bw_kernel_trust_map(struct bw_kernel *k)
{
	return bpf_map__fd(k->skel->maps.bw_trust);
}

int bw_kernel_trust_iter(struct bw_kernel *k)
{
	static const char name[] = "/link_bw_trust_iter";
	size_t n = strlen(name);

	for (size_t i = 0; i < k->n_links; i++) {
		size_t len = strlen(k->links[i].path);

		if (len >= n && strcmp(k->links[i].path + len - n, name) == 0) {
			int fd = bpf_iter_create(k->links[i].fd);

			return fd < 0 ? -errno : fd;
		}
	}
	return -ENOENT;
}
