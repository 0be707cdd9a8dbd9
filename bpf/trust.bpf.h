/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Image-load control: is a file one the trust database vouches for?
 *
 * bulwarkd fills bw_trust from the trust database (src/daemon/trust.c):
 * for each file it verified, the real file's identity -> its ctime, size
 * and SHA-256. A file counts as trusted only while its inode still has
 * that ctime and size. Every write, truncate, fallocate, chmod or other
 * attribute change moves ctime, so trust ends with the change, even if
 * the inode was evicted and read back, with no daemon round trip. The
 * hooks also delete the entry at a write-open and a truncate (belt and
 * braces: a change within one tick of the ctime clock keeps ctime).
 *
 * An entry also names the file system instance (superblock) it was
 * verified on: umount, change the image, mount again, and the file has
 * the same dev, ino, ctime and size but other bytes. Each superblock
 * created while these programs run gets a number of its own
 * (bw_sb_instance), never reused; one from before keeps its address.
 *
 * The decision stays hash lookups: two here (the file, its superblock),
 * then the rule lookups. The decision programs hash nothing. While the
 * policy has `sha256:` rules, a sleepable program on the same hook, run
 * before the decision, asks IMA for an untrusted file's SHA-256 once per
 * file version and caches it in bw_hash_cache, under the same identity
 * and the same validity checks as the trust map (decision 90); the
 * decision then reads the cache.
 */
#ifndef BULWARK_TRUST_BPF_H
#define BULWARK_TRUST_BPF_H

#ifndef ENOMEM
#define ENOMEM 12
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 20);
	__type(key, struct bw_trust_key);
	__type(value, struct bw_trust_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_trust SEC(".maps");

/*
 * IMA's SHA-256 of untrusted images (decision 90), keyed like bw_trust and
 * valid under the same checks (ctime, size, file system instance); the
 * write-open and truncate hooks delete entries too. LRU: a host that runs
 * more distinct untrusted files than this hashes the oldest again when
 * they come back, nothing worse. 16,384 entries of 80 bytes, preallocated
 * (LRU maps always are): about 2.5 MiB with the map's own overhead.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 14);
	__type(key, struct bw_trust_key);
	__type(value, struct bw_trust_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_hash_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bw_hash_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_hash_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BW_HASH_STATS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_hash_stats SEC(".maps");

static __always_inline void bw_hash_count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&bw_hash_stats, &i);

	if (c)
		__sync_fetch_and_add(c, 1);
}

/*
 * Superblock address -> its instance number, from a counter that only
 * grows (bw_sb_seq, starting at 1: never a kernel address). Set when the
 * superblock is allocated, deleted when it is freed; a superblock with no
 * entry (older than the programs) is known by its address, which a later
 * superblock at that address cannot reuse: that one gets a number.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 16);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_sb_instance SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bw_sb_seq SEC(".maps");

/*
 * A new superblock: a new instance number. If none can be recorded (the
 * map full: 65,536 live superblocks), the mount is refused rather than
 * let the new superblock pass for an old one at the same address.
 */
SEC("lsm/sb_alloc_security")
int BPF_PROG(bw_sb_alloc, struct super_block *sb, int ret)
{
	__u64 key = (__u64)sb, n;
	__u64 *seq;

	if (ret)
		return ret;
	seq = bpf_map_lookup_elem(&bw_sb_seq, &bw_zero_key);
	if (!seq)
		return -ENOMEM;
	n = __sync_fetch_and_add(seq, 1) + 1;
	if (bpf_map_update_elem(&bw_sb_instance, &key, &n, BPF_ANY))
		return -ENOMEM;
	return 0;
}

SEC("lsm/sb_free_security")
int BPF_PROG(bw_sb_free, struct super_block *sb)
{
	__u64 key = (__u64)sb;

	bpf_map_delete_elem(&bw_sb_instance, &key);
	return 0;
}

/* The instance of the file system an inode belongs to (see bw_sb_instance). */
static __always_inline __u64 bw_sb_instance_of(struct inode *inode)
{
	__u64 key = (__u64)BPF_CORE_READ(inode, i_sb);
	__u64 *n = bpf_map_lookup_elem(&bw_sb_instance, &key);

	return n ? *n : key;
}

/* ctime moved out of struct inode's timespec: __i_ctime (6.6), then _sec/_nsec (6.11). */
struct inode___v611 {
	time64_t i_ctime_sec;
	u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

static __always_inline void bw_inode_ctime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	struct inode___v611 *n = (void *)inode;
	struct inode___v66 *m = (void *)inode;

	if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
		*sec = BPF_CORE_READ(n, i_ctime_sec);
		*nsec = BPF_CORE_READ(n, i_ctime_nsec);
	} else if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		*sec = BPF_CORE_READ(m, __i_ctime.tv_sec);
		*nsec = BPF_CORE_READ(m, __i_ctime.tv_nsec);
	} else {
		*sec = BPF_CORE_READ(inode, i_ctime.tv_sec);
		*nsec = BPF_CORE_READ(inode, i_ctime.tv_nsec);
	}
}

/*
 * The inode whose bytes a file holds: below an overlay (at most two
 * stacked), the real file ovl_open keeps in private_data; 6.1's mappings
 * already carry the real inode under the overlay's path.
 */
static __always_inline struct inode *bw_real_inode(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	if (inode && BPF_CORE_READ(inode, i_sb, s_magic) == BW_OVERLAYFS_MAGIC) {
		file = BPF_CORE_READ(file, private_data);
		inode = file ? BPF_CORE_READ(file, f_inode) : NULL;
	}
	if (inode && BPF_CORE_READ(inode, i_sb, s_magic) == BW_OVERLAYFS_MAGIC) {
		file = BPF_CORE_READ(file, private_data);
		inode = file ? BPF_CORE_READ(file, f_inode) : NULL;
	}
	if (inode && BPF_CORE_READ(inode, i_sb, s_magic) == BW_OVERLAYFS_MAGIC)
		return NULL; /* stacked deeper than overlayfs allows: not ours to guess */
	return inode;
}

/*
 * bw_inode_id for an inode: (dev, ino) as stat reports them, btrfs by
 * subvolume. Inline: a frame of its own below bw_decide_file would pass
 * the 512 bytes of stack the mmap hook's call chain may use.
 */
static __always_inline bool bw_inode_ident(struct inode *inode, __u64 *dev, __u64 *ino)
{
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);
	struct bw_fs_layout *l;
	void *root;

	*dev = BPF_CORE_READ(sb, s_dev);
	if (BPF_CORE_READ(sb, s_magic) == BW_BTRFS_MAGIC) {
		l = bpf_map_lookup_elem(&bw_fs_layout, &bw_zero_key);
		if (!l || !l->valid ||
		    bpf_probe_read_kernel(ino, sizeof(*ino),
					  (void *)inode - l->btrfs_vfs_inode + l->btrfs_root))
			return false;
		root = (void *)*ino;
		*dev = 0;
		if (!root || bpf_probe_read_kernel(dev, sizeof(__u32), root + l->btrfs_anon_dev))
			return false;
	}
	*ino = BPF_CORE_READ(inode, i_ino);
	return true;
}

/*
 * The trust verdict's result: the first half of the file's SHA-256, the
 * key of `sha256:` rules. Laid out as struct bw_trust_key, which it holds
 * on the way.
 */
struct bw_trust_out {
	__u64 h0, h1;
};

/*
 * Is the entry v (trust map or hash cache) still about the inode's bytes?
 * Its ctime, size and file system instance must be the inode's now. out
 * is the scratch; on success it holds the first half of the hash.
 */
static __always_inline int bw_entry_holds(struct bw_trust_val *v, struct inode *inode,
					  struct bw_trust_out *out)
{
	__u64 *sbn;

	out->h0 = 0;
	out->h1 = 0;
	bw_inode_ctime(inode, (__s64 *)&out->h0, (__u32 *)&out->h1);
	if (v->ctime_sec != (__s64)out->h0 || v->ctime_nsec != (__u32)out->h1 ||
	    v->size != (__u64)BPF_CORE_READ(inode, i_size))
		return 0;
	/* The superblock's key, in out->h0: no stack to spare. */
	out->h0 = (__u64)BPF_CORE_READ(inode, i_sb);
	sbn = bpf_map_lookup_elem(&bw_sb_instance, &out->h0);
	if ((sbn ? *sbn : out->h0) != v->sb)
		return 0;
	__builtin_memcpy(&out->h0, v->sha256, 8);
	__builtin_memcpy(&out->h1, v->sha256 + 8, 8);
	return 1;
}

/* Results of bw_trust_of. */
#define BW_TRUST_NONE 0   /* untrusted, hash unknown */
#define BW_TRUST_YES 1    /* trusted: out holds its hash */
#define BW_TRUST_HASHED 2 /* untrusted, but IMA's hash is cached and valid: out holds it */

/*
 * Is the file (its struct file, as a number) trusted now? BW_TRUST_YES
 * with out filled. Else, with hashed set (the policy has sha256: rules),
 * the hash cache's entry if it is still valid: BW_TRUST_HASHED with out
 * filled (decision 90). Else BW_TRUST_NONE. Static, not global: 6.1
 * refuses a global function's pointer argument as a map key; its only
 * callers are global (bw_decide_file) or few, so it is verified rarely.
 */
static __noinline int bw_trust_of(__u64 file_addr, struct bw_trust_out *out, __u32 hashed)
{
	struct file *file = (struct file *)file_addr;
	struct bw_trust_val *v;
	struct inode *inode;

	/*
	 * out is the scratch: the identity (the map's key), then the ctime,
	 * then the hash. This call chain has no stack to spare (mmap_file).
	 */
	if (!out || !file)
		return BW_TRUST_NONE;
	inode = bw_real_inode(file);
	if (!inode || !bw_inode_ident(inode, &out->h0, &out->h1))
		return BW_TRUST_NONE;
	v = bpf_map_lookup_elem(&bw_trust, out);
	if (v && bw_entry_holds(v, inode, out))
		return BW_TRUST_YES;
	if (!hashed || !bw_inode_ident(inode, &out->h0, &out->h1))
		return BW_TRUST_NONE;
	v = bpf_map_lookup_elem(&bw_hash_cache, out);
	if (v && bw_entry_holds(v, inode, out))
		return BW_TRUST_HASHED;
	return BW_TRUST_NONE;
}

/*
 * The sleepable half of decision 90: before a decision on an untrusted
 * image, make sure bw_hash_cache holds its SHA-256 (IMA's). Runs on the
 * same hook as the decision, attached after it, so the trampoline runs
 * it first. Touches only array, LRU hash and hash maps, which 6.1 allows
 * sleepable programs. Does nothing unless the policy in force has sha256:
 * rules (bw_hash_cfg.enabled, set by bulwarkd), or the file is bulwarkd's
 * start-up probe (probe set: the process is the probing daemon).
 */
static __always_inline void bw_hash_image(struct file *file, bool probe)
{
	struct bw_trust_val v = {};
	struct bw_trust_key k = {};
	struct bw_trust_val *c;
	struct bw_hash_cfg *cfg;
	struct inode *inode;
	__s64 sec2 = 0;
	__u32 nsec2 = 0;
	long n;

	cfg = bpf_map_lookup_elem(&bw_hash_cfg, &bw_zero_key);
	if (!cfg)
		return;
	if (probe) {
		if (!cfg->probe_tgid || cfg->probe_tgid != (__u32)(bpf_get_current_pid_tgid() >> 32))
			return;
		n = bpf_ima_file_hash(file, v.sha256, sizeof(v.sha256));
		__builtin_memcpy(cfg->probe_sha256, v.sha256, sizeof(v.sha256));
		cfg->probe_ret = n < 0 ? n : n + 1;
		return;
	}
	if (!cfg->enabled)
		return;
	inode = bw_real_inode(file);
	if (!inode || !bw_inode_ident(inode, &k.dev, &k.ino))
		return;
	bw_inode_ctime(inode, &v.ctime_sec, &v.ctime_nsec);
	v.size = BPF_CORE_READ(inode, i_size);
	v.sb = bw_sb_instance_of(inode);
	/* Trusted now: the trust map has its hash. */
	c = bpf_map_lookup_elem(&bw_trust, &k);
	if (c && c->ctime_sec == v.ctime_sec && c->ctime_nsec == v.ctime_nsec && c->size == v.size &&
	    c->sb == v.sb)
		return;
	/*
	 * Known and unchanged: nothing to hash. Unless someone holds it open
	 * for writing: stores through a writable shared mapping need not move
	 * ctime, so its bytes are only known as of now.
	 */
	c = bpf_map_lookup_elem(&bw_hash_cache, &k);
	if (c && c->ctime_sec == v.ctime_sec && c->ctime_nsec == v.ctime_nsec && c->size == v.size &&
	    c->sb == v.sb && BPF_CORE_READ(inode, i_writecount.counter) <= 0) {
		bw_hash_count(BW_HASH_CACHED);
		return;
	}
	n = bpf_ima_file_hash(file, v.sha256, sizeof(v.sha256));
	/* The identity was read before the bytes: a change meanwhile moves ctime. */
	bw_inode_ctime(inode, &sec2, &nsec2);
	if (n != HASH_ALGO_SHA256 || sec2 != v.ctime_sec || nsec2 != v.ctime_nsec ||
	    (__u64)BPF_CORE_READ(inode, i_size) != v.size) {
		bpf_map_delete_elem(&bw_hash_cache, &k);
		bw_hash_count(BW_HASH_FAILED);
		return;
	}
	if (bpf_map_update_elem(&bw_hash_cache, &k, &v, BPF_ANY))
		bw_hash_count(BW_HASH_FAILED);
	else
		bw_hash_count(BW_HASH_COMPUTED);
}

/*
 * Trust ends when the content can change: a write-open (through any name
 * or hardlink: the inode is the key), a truncate. Called from file_open
 * and path_truncate; costs one delete on a hash map.
 */
static __always_inline void bw_trust_revoke_inode(struct inode *inode)
{
	struct bw_trust_key k = {};

	if (inode && bw_inode_ident(inode, &k.dev, &k.ino)) {
		bpf_map_delete_elem(&bw_trust, &k);
		bpf_map_delete_elem(&bw_hash_cache, &k);
	}
}

#endif /* BULWARK_TRUST_BPF_H */
