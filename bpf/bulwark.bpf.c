// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bulwark's LSM programs. Each hook only names its operation and object and
 * hands over to the shared decision path in decide.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "decide.bpf.h"
#include "protect.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#ifdef BW_BUILD_SALT
/* Only makes this object another build (BPF_SALT=1, the upgrade test). */
const volatile __u32 bw_build_salt = BW_BUILD_SALT;
#endif

/*
 * A hook argument as a plain number, for NULL checks. Newer verifiers (6.12)
 * assume pointer arguments of LSM hooks are never NULL and delete the
 * check as dead code, but some hooks do pass NULL (mmap_file for anonymous
 * memory, task_kill for signals not sent by the current task).
 */
static __always_inline __u64 bw_raw_arg(unsigned long long *ctx, int n)
{
	__u64 v = 0;

	/* The trampoline's copy, a number to the verifier; no probe read (decision 110). */
	bpf_get_func_arg(ctx, n, &v);
	return v;
}

#define PROT_WRITE 0x2
#define PROT_EXEC 0x4
#define VM_EXEC 0x4
#define VM_SHARED 0x8

/*
 * The task's own program was judged when it was exec'd; mapping its
 * segments again is not a new decision. Without this, a rule such as
 * `deny exec any from exe=/usr/sbin/nginx` would stop nginx mapping itself.
 */
static __always_inline bool bw_is_own_exe(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->mm->exe_file == file; /* plain loads: BTF pointers (decision 106) */
}

/* A file with no name left in any filesystem: a memfd, shm, or a deleted file. */
static __always_inline bool bw_is_nameless(struct file *file)
{
	return file->f_path.dentry->d_inode->__i_nlink == 0;
}

/*
 * A memory control (wx, anon-exec, memfd-exec): a decision of its own,
 * with the file if there is one. path is NULL where bpf_d_path is not
 * allowed; dev and ino still name the file then. d is the hook's one
 * decision, reused: the BPF stack has no room for a second.
 */
static __always_inline int bw_memory(struct bw_decision *d, __u32 op, __u32 hook,
				     struct file *file, struct path *path)
{
	__builtin_memset(d, 0, sizeof(*d));
	if (bw_undecided_memory(d, op, hook))
		return 0;
	if (file)
		bw_inode_id(BPF_CORE_READ(file, f_path.dentry), &d->dev, &d->ino);
	bw_decide_default(d, op, hook, 0);
	if (file && !path)
		d->event_flags |= BW_EVF_PATH_ERR;
	return bw_conclude(d, path, NULL);
}

/*
 * Self-protection reads image-load control's verdict (decision 78): while
 * the policy uses trust objects (`trusted`, `untrusted`, `sha256:`), a
 * protected level is earned only by a trusted image, and a protected
 * process maps only trusted code. The verdict is bw_trust_of, the one
 * the `trusted` object uses: one code path for both.
 */
static __always_inline bool bw_image_trusted(struct bw_decision *d, struct file *file)
{
	/* d's dev and ino are the scratch (trust.bpf.h): the mmap hook has no stack to spare */
	return bw_trust_of(bw_addr(file), (struct bw_trust_out *)&d->dev, 0) == BW_TRUST_YES;
}

/*
 * A protected process maps only trusted code while trust is in use: an
 * untrusted library (DT_NEEDED, dlopen, a file mounted over a trusted
 * one) is refused by the protect gate, whatever the rules say, as
 * Windows refuses an image below a protected process's signing level.
 * path is NULL where bpf_d_path is not allowed.
 */
static __always_inline int bw_protect_untrusted_load(struct bw_decision *d, struct file *file,
						      __u32 hook, struct path *path)
{
	__u32 need;

	/* The policy's flag first: bw_live, an array, where the level is a hash lookup. */
	if (!bw_policy_has(BW_POLICY_TRUST))
		return 0;
	need = bw_current_level();
	if (!need || bw_image_trusted(d, file))
		return 0;
	__builtin_memset(d, 0, sizeof(*d));
	bw_protect_deny(d, BW_OP_LOAD, hook, need, BW_LEVEL_NONE);
	bw_inode_id(BPF_CORE_READ(file, f_path.dentry), &d->dev, &d->ino);
	d->event_flags |= BW_EVF_UNTRUSTED;
	if (!path)
		d->event_flags |= BW_EVF_PATH_ERR;
	return bw_conclude(d, path, NULL);
}

/*
 * Every decision of an executable mapping but the common one
 * (bw_mmap_file), in a function of its own that the common mapping never
 * enters. anon: file is NULL (anonymous memory).
 */
static __noinline int bw_mmap_decide(struct file *file, unsigned long prot, bool anon)
{
	struct bw_decision d = {};
	int rc;

	if (!anon && !bw_is_own_exe(file)) {
		bw_decide_file(&d, BW_OP_EXEC, BW_HOOK_MMAP, file);
		rc = bw_conclude(&d, &file->f_path, NULL);
		if (rc)
			return rc;
		/* Image load: a library, ld.so's program, dlopen: `load` rules. */
		__builtin_memset(&d, 0, sizeof(d));
		bw_decide_file(&d, BW_OP_LOAD, BW_HOOK_MMAP, file);
		rc = bw_conclude(&d, &file->f_path, NULL);
		if (!rc)
			rc = bw_protect_untrusted_load(&d, file, BW_HOOK_MMAP, &file->f_path);
		if (rc)
			return rc;
	}
	if (prot & PROT_WRITE) {
		rc = anon ? bw_memory(&d, BW_OP_WX, BW_HOOK_MMAP, NULL, NULL) :
			    bw_memory(&d, BW_OP_WX, BW_HOOK_MMAP, file, &file->f_path);
		if (rc)
			return rc;
	}
	if (anon)
		return bw_memory(&d, BW_OP_ANON_EXEC, BW_HOOK_MMAP, NULL, NULL);
	if (bw_is_nameless(file) && !bw_is_own_exe(file))
		return bw_memory(&d, BW_OP_MEMFD_EXEC, BW_HOOK_MMAP, file, &file->f_path);
	return 0;
}

/*
 * Running a file's code without execve: ld.so given the program as an
 * argument, dlopen, or any executable mapping. `exec` rules cover these
 * too, or `ld.so /denied/prog` would walk around every exec rule. Then the
 * memory controls: writable and executable at once, executable anonymous
 * memory, the code of a nameless file.
 */
SEC("lsm/mmap_file")
int BPF_PROG(bw_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	__u32 key = BW_LIVE_SUPERSET;
	struct bw_live *live;
	bool anon;

	/*
	 * Most mappings are not executable (ld.so maps each library readable
	 * first): they return before the argument's read, a helper call. Not
	 * a load through the argument: 6.12 takes hook arguments for trusted
	 * and loads through them unguarded, so a NULL file would oops.
	 */
	if (ret || !(prot & PROT_EXEC))
		return ret;
	anon = !bw_raw_arg(ctx, 0);
	/*
	 * The common executable mapping is answered here, in a few dozen
	 * instructions (decision 110): a named file's code, not writable, that
	 * is the process's own program (judged at its exec), or that the
	 * exact-file path settles (no entry: counted, and no trust rule in
	 * force) while no `load` rule is (counted as bw_undecided_memory
	 * does). bw_mmap_decide would decide nothing more for it.
	 */
	if (!anon && !(prot & PROT_WRITE) && !bw_is_nameless(file)) {
		if (bw_is_own_exe(file))
			return 0;
		live = bpf_map_lookup_elem(&bw_live, &key);
		if (live && live->installed && !(live->ops & (1u << BW_OP_LOAD)) &&
		    bw_exact_none(file, BW_OP_EXEC) == 2) {
			key = BW_LIVE_UNDECIDED;
			live = bpf_map_lookup_elem(&bw_live, &key);
			if (live) {
				__sync_fetch_and_add(&live->undecided_memory[(BW_OP_LOAD - BW_OP_WX) & 3], 1);
				return 0;
			}
		}
	}
	return bw_mmap_decide(file, prot, anon);
}

/*
 * Map it readable first, then make it executable: the same decisions. Code
 * a process wrote itself is anonymous memory: an anonymous mapping, or a
 * private file mapping whose pages were written (a text relocation).
 */
SEC("lsm/file_mprotect")
int BPF_PROG(bw_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct bw_decision d = {};
	unsigned long vm_flags;
	struct file *file;
	int rc;

	if (ret || !(prot & PROT_EXEC))
		return ret;
	file = vma->vm_file;
	if (prot & PROT_WRITE) {
		rc = bw_memory(&d, BW_OP_WX, BW_HOOK_MPROTECT, file, NULL);
		if (rc)
			return rc;
	}
	vm_flags = vma->vm_flags; /* plain loads: the vma is a BTF pointer (decision 106) */
	if (vm_flags & VM_EXEC)
		return 0; /* already executable: decided when it became so */
	if (!file || (!(vm_flags & VM_SHARED) && vma->anon_vma))
		return bw_memory(&d, BW_OP_ANON_EXEC, BW_HOOK_MPROTECT, file, NULL);
	if (bw_is_own_exe(file))
		return 0;
	__builtin_memset(&d, 0, sizeof(d));
	bw_decide_file(&d, BW_OP_EXEC, BW_HOOK_MPROTECT, file);
	/* bpf_d_path is not allowed in this hook: dev and ino still name it. */
	d.event_flags |= BW_EVF_PATH_ERR;
	rc = bw_conclude(&d, NULL, NULL);
	if (rc)
		return rc;
	__builtin_memset(&d, 0, sizeof(d));
	bw_decide_file(&d, BW_OP_LOAD, BW_HOOK_MPROTECT, file);
	d.event_flags |= BW_EVF_PATH_ERR;
	rc = bw_conclude(&d, NULL, NULL);
	if (!rc)
		rc = bw_protect_untrusted_load(&d, file, BW_HOOK_MPROTECT, NULL);
	if (rc || !bw_is_nameless(file))
		return rc;
	return bw_memory(&d, BW_OP_MEMFD_EXEC, BW_HOOK_MPROTECT, file, NULL);
}

#define SHM_RDONLY 010000
#define SHM_EXEC 0100000

/*
 * shmat(SHM_EXEC) maps System V shared memory executable without passing
 * mmap_file: writable too unless SHM_RDONLY. Its contents are whatever
 * processes wrote there, so it is anonymous memory to the policy.
 */
SEC("lsm/shm_shmat")
int BPF_PROG(bw_shm_shmat, struct kern_ipc_perm *perm, char *shmaddr, int shmflg, int ret)
{
	struct bw_decision d = {};
	int rc;

	if (ret || !(shmflg & SHM_EXEC))
		return ret;
	if (!(shmflg & SHM_RDONLY)) {
		rc = bw_memory(&d, BW_OP_WX, BW_HOOK_SHMAT, NULL, NULL);
		if (rc)
			return rc;
	}
	return bw_memory(&d, BW_OP_ANON_EXEC, BW_HOOK_SHMAT, NULL, NULL);
}

#define CLONE_THREAD 0x00010000
#define PF_KTHREAD 0x00200000

/* An enforced `deny fork ... with sticky` decided: the process gets the mark. */
static __always_inline bool bw_sticky_denied(const struct bw_decision *d)
{
	return d->verdict == BW_VERDICT_DENY && (d->rule_flags & BW_RULE_STICKY) &&
	       !(d->rule_flags & BW_RULE_AUDIT) && !(d->event_flags & BW_EVF_STICKY);
}

/*
 * Would the current task be denied fork by a sticky rule? Then mark it:
 * the mark outlives the program (it survives exec) and the policy, so an
 * exploited server that execs a shell still cannot spawn anything.
 */
static __always_inline void bw_mark_nochild(struct bw_task_state *ts, struct bw_decision *d)
{
	if (!ts || ts->nochild)
		return;
	bw_decide_task(d, BW_OP_FORK, BW_HOOK_CLONE, NULL);
	if (bw_sticky_denied(d))
		ts->nochild = d->rule_id;
	__builtin_memset(d, 0, sizeof(*d));
}

/* The process's mark, onto the thread that is about to become its leader. */
static __always_inline void bw_carry_mark(struct task_struct *thread)
{
	struct bw_task_state *leader = bw_state_mine(thread), *ts;

	if (!leader || !leader->nochild)
		return;
	ts = bpf_task_storage_get(&bw_task_state, thread, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts)
		ts->nochild = leader->nochild;
	else
		bw_count(BW_OP_FORK, BW_CNT_HELPER_ERR);
}

/*
 * A protected program never starts traced by a subject below its level:
 * neither after PTRACE_TRACEME nor under a tracer already attached, or
 * the tracer would own the protected process from its first instruction.
 */
static __always_inline int bw_protect_traced_exec(struct bw_decision *d, struct linux_binprm *bprm,
						   struct task_struct *task)
{
	__u32 rule_id, need, have;

	if (!task->ptrace)
		return 0;
	need = bw_protected_file(BPF_CORE_READ(bprm, file, f_path.dentry), false, &rule_id);
	if (!need)
		return 0;
	have = bw_level_of(BPF_CORE_READ(task, parent)); /* the tracer */
	if (have >= need)
		return 0;
	__builtin_memset(d, 0, sizeof(*d));
	bw_protect_deny(d, BW_OP_EXEC, BW_HOOK_EXEC, need, have);
	d->arg = rule_id;
	return bw_conclude(d, &bprm->file->f_path, NULL);
}

/*
 * A protected program's image must be trusted while the policy uses
 * trust (decision 78): else root, who chose what lies at its path before
 * protection was in force (or copied it into a protected tree then),
 * would run code of its own at the program's level. The exec is refused,
 * as Windows refuses to start a protected process whose image is not
 * signed at its level: a code-integrity failure, reported by the
 * `protect` gate with `trusted: false`.
 */
static __always_inline int bw_protect_untrusted_exec(struct bw_decision *d, struct linux_binprm *bprm)
{
	struct dentry *dentry;
	__u32 rule_id, need;

	if (!bw_policy_has(BW_POLICY_TRUST))
		return 0;
	dentry = bprm->file->f_path.dentry;
	need = bw_protected_file(dentry, false, &rule_id);
	if (!need || bw_image_trusted(d, bprm->file))
		return 0;
	__builtin_memset(d, 0, sizeof(*d));
	bw_protect_deny(d, BW_OP_EXEC, BW_HOOK_EXEC, need, BW_LEVEL_NONE);
	d->arg = rule_id;
	bw_inode_id(dentry, &d->dev, &d->ino);
	d->event_flags |= BW_EVF_UNTRUSTED;
	return bw_conclude(d, &bprm->file->f_path, NULL);
}

/*
 * The level of a process that exec'd: the new program's `protect` level,
 * or none. Level `system` is bulwarkd's, and only one process holds it:
 * while a bulwarkd lives, another exec of its binary gets no level.
 */
static __always_inline void bw_protect_committed(struct linux_binprm *bprm, bool protects)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_protected_proc pp = {};
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct bw_guard *g;

	if (protects)
		pp.level = bw_protected_file(BPF_CORE_READ(bprm, file, f_path.dentry), false, &pp.rule_id);
	/*
	 * Only in the host's file system view: in a chroot or another mount
	 * namespace, root chooses which libraries and which ld.so.preload the
	 * protected program would load.
	 */
	if (pp.level && !bw_host_view(task))
		pp.level = BW_LEVEL_NONE;
	if (pp.level == BW_LEVEL_SYSTEM) {
		g = bpf_map_lookup_elem(&bw_guard, &bw_zero_key);
		if (!g || (g->daemon_tgid && g->daemon_tgid != tgid))
			pp.level = BW_LEVEL_NONE;
		else
			g->daemon_tgid = tgid;
	}
	if (!pp.level) {
		if (bpf_map_lookup_elem(&bw_protected, &tgid))
			bpf_map_delete_elem(&bw_protected, &tgid);
		return;
	}
	pp.start_time = BPF_CORE_READ(task, group_leader, start_time);
	pp.task = (__u64)BPF_CORE_READ(task, group_leader);
	if (bpf_map_update_elem(&bw_protected, &tgid, &pp, BPF_ANY))
		bw_count(BW_OP_PROTECT, BW_CNT_HELPER_ERR); /* full: bulwarkd reports it */
}

/*
 * The marks an exec keeps, before its decision. A frame of its own beside
 * bw_bprm_decide's, not inside it: a fork decision below the exec's
 * would pass the 512-byte stack.
 */
static __noinline int bw_bprm_marks(struct task_struct *cur)
{
	struct bw_decision d = {};

	/*
	 * A thread that execs becomes its process's group leader, and the
	 * state on the leader it replaces goes with the old leader: it takes
	 * the process's mark along.
	 */
	if (cur != cur->group_leader)
		bw_carry_mark(cur);
	/* A sticky program that execs keeps its mark, even if it never forked. */
	if (bw_policy_has(BW_POLICY_STICKY))
		bw_mark_nochild(bpf_task_storage_get(&bw_task_state, cur, 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE), &d);
	return 0;
}

/*
 * Everything bprm_check_security decides but the common exec
 * (bw_bprm_check) and the marks (bw_bprm_marks): the exec rules, the
 * tracer and trust gates, a nameless file. A function of its own, so
 * that the common exec never reaches its code.
 */
static __noinline int bw_bprm_decide(struct linux_binprm *bprm, struct task_struct *cur)
{
	struct file *file = bprm->file;
	struct bw_decision d = {};
	int ret;

	bw_decide_file(&d, BW_OP_EXEC, BW_HOOK_EXEC, file);
	ret = bw_conclude(&d, &file->f_path, NULL);
	if (!ret)
		ret = bw_protect_traced_exec(&d, bprm, cur);
	if (!ret)
		ret = bw_protect_untrusted_exec(&d, bprm);
	if (ret || !bw_is_nameless(bprm->file))
		return ret;
	/* fexecve of a memfd or a deleted file: code with no name to judge it by */
	return bw_memory(&d, BW_OP_MEMFD_EXEC, BW_HOOK_EXEC, bprm->file, &bprm->file->f_path);
}

/* bprm->unsafe: the task was traced when the exec began (include/linux/security.h) */
#define BW_LSM_UNSAFE_PTRACE 2

/*
 * Called for the binary and again for every interpreter it names (shebang,
 * binfmt_misc), so a denied interpreter cannot be reached through a script.
 * The common exec is answered here, in a few dozen instructions and no
 * helper call: no sticky rule, no mark to carry (none may exist, or the
 * process's own leader execs), no tracer, a named file, and the
 * exact-file path finds no entry (and counts the exec), so no trust rule
 * is in force either (bw_exact_none) and nothing in bw_bprm_marks or
 * bw_bprm_decide could refuse or record. Under emulation a hook pays for
 * every page of code and every call it reaches, even code that decides
 * nothing (decision 110). The tracer comes from bprm->unsafe, set before
 * this hook while the exec holds cred_guard_mutex, which every attach
 * takes: a task not traced then is not traced now (PTRACE_TRACEME is the
 * task's own call).
 */
SEC("lsm/bprm_check_security")
int BPF_PROG(bw_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct task_struct *cur = NULL;
	struct file *file = bprm->file;
	struct bw_live *live;
	__u32 zero = 0;

	if (ret)
		return ret;
	live = bpf_map_lookup_elem(&bw_live, &zero);
	if (live && !(live->flags & BW_POLICY_STICKY) && !(bprm->unsafe & BW_LSM_UNSAFE_PTRACE) &&
	    !bw_is_nameless(file)) {
		if (live->marks)
			cur = bpf_get_current_task_btf();
		if ((!cur || cur == cur->group_leader) && bw_exact_none(file, BW_OP_EXEC) == 2)
			return 0;
	}
	if (!cur)
		cur = bpf_get_current_task_btf();
	bw_bprm_marks(cur);
	return bw_bprm_decide(bprm, cur);
}

#define PR_SET_MM 35
#define PR_SET_MM_EXE_FILE 13
#define PR_SET_MM_MAP 14

/*
 * A program's identity is the file it was exec'd from. prctl(PR_SET_MM,
 * PR_SET_MM_EXE_FILE or PR_SET_MM_MAP) lets a process with
 * CAP_SYS_RESOURCE swap /proc/self/exe for any other file, and so pass for
 * another program in every `exe=` and `parent=` rule. While a policy names
 * programs, that is refused (and reported as an exec by prctl).
 */
SEC("lsm/task_prctl")
int BPF_PROG(bw_task_prctl, int option, unsigned long arg2, unsigned long arg3,
	     unsigned long arg4, unsigned long arg5, int ret)
{
	struct bw_decision d = {};
	struct bw_rule_val *meta = NULL;
	__u32 zero = 0;
	void *policy;

	if (ret)
		return ret;
	if (option != PR_SET_MM || (arg2 != PR_SET_MM_EXE_FILE && arg2 != PR_SET_MM_MAP))
		return 0;
	policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (policy)
		meta = bpf_map_lookup_elem(policy, &bw_meta_key);
	if (!meta || !((meta->dims | meta->tdims) & ((1u << BW_DIM_EXE) | (1u << BW_DIM_PARENT))))
		return 0;
	bw_gate_deny(&d, BW_OP_EXEC, BW_HOOK_PRCTL, BW_GATE_PRCTL_EXE);
	d.event_flags = BW_EVF_PATH_ERR; /* no file: the program it wanted to become */
	return bw_conclude(&d, NULL, NULL);
}

/*
 * After a successful exec the task's identity is its new image. Events
 * name it from its exe file when they happen (bw_name_file), so state is
 * made here only for what needs it (decision 103): the program class
 * under a policy whose rules name programs, the no-children mark under a
 * sticky rule, the name its exit event will carry (the exe file is gone
 * by then) under a policy with exit notifications. A state kept from an
 * earlier exec is left: its class is cached by policy serial (this policy
 * never computes one), its name by exec id (bw_exit_state).
 *
 * bw_live's superset says first whether any of that, or a protection
 * level, can be in force: if not, no META hash (decision 105). The class
 * is only a cache (bw_classify computes a missing one), so the superset
 * costs nothing if it is wrong that way.
 */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(bw_bprm_committed, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bw_rule_val *meta = NULL;
	struct bw_decision d = {};
	struct bw_task_state *ts;
	__u32 zero = 0, need = 0;
	struct bw_live *live;
	bool classes = false;
	void *policy = NULL;
	long n;

	live = bpf_map_lookup_elem(&bw_live, &zero); /* key on the stack: decision 102 */
	if (!live || (live->flags & (BW_POLICY_STICKY | BW_POLICY_NOTIFY_EXIT)) || live->exe_classes)
		policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (policy)
		meta = bpf_map_lookup_elem(policy, &bw_meta_key);
	if (meta) {
		need = meta->flags & (BW_POLICY_STICKY | BW_POLICY_NOTIFY_EXIT);
		/* Only a policy whose rules name programs (exe=) needs the class. */
		classes = (meta->dims | meta->tdims) & (1u << BW_DIM_EXE);
	}
	if (need || classes) {
		/* After de_thread: current is its process's group leader. */
		ts = bw_state_own(task);
		if (!ts) {
			bw_count(BW_OP_EXEC, BW_CNT_HELPER_ERR);
		} else {
			ts->flags = 0;
			ts->class_serial = 0;
			ts->exe[0] = 0;
			ts->exec_id = 0;
			if (classes)
				ts->class_serial = bw_class_cache(bw_exe_class_now(policy, bprm->file),
								  meta->serial);
			if (need & BW_POLICY_NOTIFY_EXIT) {
				n = bpf_d_path(&bprm->file->f_path, ts->exe, sizeof(ts->exe));
				if (n < 0) {
					ts->exe[0] = 0;
					ts->flags = n == -36 ? BW_EVF_EXE_TRUNC : BW_EVF_EXE_UNKNOWN;
					bw_count(BW_OP_EXEC, BW_CNT_HELPER_ERR);
				}
				ts->exec_id = task->self_exec_id;
			}
			/* The new program may be one a sticky rule names. */
			if (need & BW_POLICY_STICKY)
				bw_mark_nochild(ts, &d);
		}
	}
	bw_protect_committed(bprm, !live || (live->ops & (1u << BW_OP_PROTECT)));
	return 0;
}

/* Decide an operation on a process, enforce it, report it. */
static __always_inline int bw_task_op(__u32 op, __u32 hook, struct task_struct *target, __u32 arg,
				      bool report)
{
	struct bw_decision d = {};

	d.arg = arg;
	if (!target || !bw_protect_task(&d, op, hook, target))
		bw_decide_task(&d, op, hook, target);
	if (!report)
		d.rule_flags |= BW_RULE_QUIET;
	return bw_conclude(&d, NULL, target);
}

/* A process acting on itself (or its own threads) is not governed. */
static __always_inline bool bw_is_self(struct task_struct *p)
{
	return BPF_CORE_READ(p, tgid) == bpf_get_current_pid_tgid() >> 32;
}

/*
 * fork, vfork, clone, clone3, posix_spawn and thread creation all pass
 * here. A thread shares its process's state; a child process reads its
 * creator's until it execs or needs its own (bw_state_own). Kernel
 * threads spawning kernel threads are the kernel, not a subject.
 */
SEC("lsm/task_alloc")
int BPF_PROG(bw_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	bool thread = clone_flags & CLONE_THREAD;
	__u32 op = thread ? BW_OP_THREAD : BW_OP_FORK, key = BW_LIVE_SUPERSET;
	struct bw_task_state *mine;
	struct task_struct *cur;
	struct bw_decision d = {};
	struct bw_live *live;
	__u32 nochild;
	int rc;

	if (ret)
		return ret;
	/*
	 * No rule in force can match the creator (no layer decides the op, or
	 * none names its uid: decision 104) and no process can carry a mark:
	 * allowed without a task-storage read or a hash (decision 101), and
	 * counted in bw_live itself, so only that map's memory is touched
	 * (decision 102): bulwarkd adds the count to the op's decisions. With
	 * no policy at all the full path counts it as such. When no layer
	 * decides the op at all, the creator is not even looked at (decision
	 * 108): a kernel thread's fork is counted then, with the others.
	 */
	live = bpf_map_lookup_elem(&bw_live, &key);
	if (live && live->installed && !(live->ops & (1u << op)) && (thread || !live->marks))
		goto undecided;
	cur = bpf_get_current_task_btf();
	if (cur->flags & PF_KTHREAD)
		return 0;
	if (live && (thread || !live->marks) && bw_live_skips(live, op, cur)) {
undecided:
		key = BW_LIVE_UNDECIDED;
		live = bpf_map_lookup_elem(&bw_live, &key);
		if (live)
			__sync_fetch_and_add(thread ? &live->undecided_threads : &live->undecided_forks, 1);
		return 0;
	}
	/*
	 * The mark belongs to the process: on its group leader, read by every
	 * thread. Only a fork asks for it, and only once some process may
	 * carry one (bw_live's marks): a task-storage lookup is several
	 * microseconds under emulation (decision 103).
	 */
	mine = !thread && (!live || live->marks) ? bw_state_mine(cur) : NULL;
	nochild = mine ? mine->nochild : 0;
	if (!thread && nochild) {
		struct bw_rule_val *meta;

		/* Marked for life: no live rule is asked, and none can lift it. */
		bw_policy_begin(&d, BW_OP_FORK, BW_HOOK_CLONE, &meta);
		d.verdict = BW_VERDICT_DENY;
		d.rule_id = nochild;
		d.rule_flags = BW_RULE_STICKY;
		d.event_flags = BW_EVF_STICKY;
	} else {
		/*
		 * One op the verifier does not know: else it checks the whole
		 * decision twice, once for fork and once for thread.
		 */
		bpf_probe_read_kernel(&op, sizeof(op), &op);
		bw_decide_task(&d, op, BW_HOOK_CLONE, NULL);
	}
	rc = bw_conclude(&d, NULL, NULL);
	/* A live sticky rule denied it: mark the process, as its exec would have. */
	if (!thread && bw_sticky_denied(&d)) {
		mine = bw_state_own(cur);
		if (mine && !mine->nochild)
			mine->nochild = d.rule_id;
	}
	/* The child gets no state: events name its program from its exe file. */
	return rc;
}

#define PTRACE_MODE_READ 0x01
#define PTRACE_MODE_ATTACH 0x02
#define PTRACE_MODE_NOAUDIT 0x04
#define FMODE_WRITE 0x2
/* x86_64 system call numbers, to tell which right an ATTACH check is for. */
#define NR_open 2
#define NR_openat 257
#define NR_process_vm_readv 310
#define NR_openat2 437
#define PROC_SUPER_MAGIC 0x9fa0

/*
 * The kernel asks for ATTACH on paths that only read: opening
 * /proc/PID/mem read-only, and process_vm_readv. The system call being
 * served tells them apart. Anything unrecognised counts as write: the
 * stricter right.
 */
static __always_inline __u32 bw_ptrace_right(unsigned int mode)
{
	struct pt_regs *regs;
	__u32 *mode_of_open;
	__u32 open_mode;
	long nr;

	if (!(mode & PTRACE_MODE_ATTACH))
		return BW_OP_READ;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return BW_OP_WRITE;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr == NR_process_vm_readv)
		return BW_OP_READ;
	if (nr != NR_open && nr != NR_openat && nr != NR_openat2)
		return BW_OP_WRITE;
	/*
	 * An open of /proc/PID/mem: the mode the kernel already copied and
	 * checked, recorded by file_open just before ->open asks us. Never
	 * the caller's memory: a racing thread could rewrite open_how after
	 * the kernel read it.
	 */
	mode_of_open = bpf_task_storage_get(&bw_open_mode, bpf_get_current_task_btf(), 0, 0);
	if (!mode_of_open)
		return BW_OP_WRITE;
	open_mode = *mode_of_open;
	*mode_of_open = 0;
	if (!(open_mode & BW_OPEN_MODE_SET))
		return BW_OP_WRITE;
	return open_mode & FMODE_WRITE ? BW_OP_WRITE : BW_OP_READ;
}

/*
 * Reading and writing another process: ptrace attach and seize (and so
 * PEEK and POKE), /proc/PID/mem, environ and maps, process_vm_readv and
 * writev, pidfd_getfd, kcmp. NOAUDIT checks are the kernel deciding what
 * to show (ps reading /proc): decided and counted, never reported.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(bw_ptrace_access, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	if (bw_is_self(child))
		return 0;
	return bw_task_op(bw_ptrace_right(mode), BW_HOOK_PTRACE, child, 0,
			  !(mode & PTRACE_MODE_NOAUDIT));
}

/*
 * The daemon's liveness probe: its kill(self, 0) proves that the kernel
 * still calls bulwark's programs (nothing switched ftrace or the links
 * off). Only the daemon's own probe counts.
 */
static __always_inline void bw_canary_hit(void)
{
	struct bw_canary *c;
	__u32 zero = 0;

	struct task_struct *leader = BPF_CORE_READ(bpf_get_current_task_btf(), group_leader);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct bw_protected_proc *pp;

	c = bpf_map_lookup_elem(&bw_canary, &zero);
	if (!c || !c->tgid || c->tgid != tgid)
		return;
	__sync_fetch_and_add(&c->hits, 1);
	/*
	 * bulwarkd registered itself from user space, which knows neither its
	 * start time nor where its task is: its probe fills them in.
	 */
	pp = bpf_map_lookup_elem(&bw_protected, &tgid);
	if (pp && !pp->task) {
		pp->start_time = BPF_CORE_READ(leader, start_time);
		pp->task = (__u64)leader;
	}
}

/*
 * kill, tkill, tgkill, pidfd_send_signal, rt_(tg)sigqueueinfo, and
 * kill(-pgrp) once per member. A non-NULL cred means the sender is not
 * the current task (USB async I/O completions): not a subject's act.
 */
SEC("lsm/task_kill")
int BPF_PROG(bw_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	if (bw_raw_arg(ctx, 3))
		return 0;
	if (bw_is_self(p)) {
		if (!sig)
			bw_canary_hit();
		return 0;
	}
	return bw_task_op(BW_OP_SIGNAL, BW_HOOK_KILL, p, sig, true);
}

#define SIGIO 29

/*
 * A signal delivered because someone made the target the owner of a file
 * (fcntl F_SETOWN, F_SETSIG): the kernel sends it without task_kill, from
 * the context of the I/O that triggered it. The subject is that task (the
 * writer, in the attack this closes: own a pipe, F_SETSIG SIGKILL, write);
 * a target signalled by its own I/O is exempt as for any self-signal.
 */
SEC("lsm/file_send_sigiotask")
int BPF_PROG(bw_file_send_sigiotask, struct task_struct *tsk, struct fown_struct *fown, int sig,
	     int ret)
{
	struct bw_decision d = { .arg = sig ? sig : SIGIO };

	if (ret)
		return ret;
	if (bw_is_self(tsk))
		return 0;
	if (!bw_protect_task(&d, BW_OP_SIGNAL, BW_HOOK_SIGIO, tsk))
		bw_decide_task(&d, BW_OP_SIGNAL, BW_HOOK_SIGIO, tsk);
	return bw_conclude(&d, NULL, tsk);
}

/* The `control` right: one op, five hooks. */
static __always_inline int bw_control(struct task_struct *p, __u32 hook)
{
	if (bw_is_self(p))
		return 0;
	return bw_task_op(BW_OP_CONTROL, hook, p, 0, true);
}

SEC("lsm/task_setnice")
int BPF_PROG(bw_task_setnice, struct task_struct *p, int nice, int ret)
{
	return ret ? ret : bw_control(p, BW_HOOK_NICE);
}

SEC("lsm/task_setscheduler")
int BPF_PROG(bw_task_setscheduler, struct task_struct *p, int ret)
{
	return ret ? ret : bw_control(p, BW_HOOK_SCHED);
}

SEC("lsm/task_setioprio")
int BPF_PROG(bw_task_setioprio, struct task_struct *p, int ioprio, int ret)
{
	return ret ? ret : bw_control(p, BW_HOOK_IOPRIO);
}

SEC("lsm/task_setrlimit")
int BPF_PROG(bw_task_setrlimit, struct task_struct *p, unsigned int resource,
	     struct rlimit *new_rlim, int ret)
{
	return ret ? ret : bw_control(p, BW_HOOK_RLIMIT);
}

SEC("lsm/task_movememory")
int BPF_PROG(bw_task_movememory, struct task_struct *p, int ret)
{
	return ret ? ret : bw_control(p, BW_HOOK_MOVEMEM);
}

/*
 * The file whose data an open reaches: under an overlay (6.1 opens the
 * real file under the overlay's path) the real file, by its own dentry.
 */
static __always_inline struct dentry *bw_real_dentry(struct file *file)
{
	struct dentry *dentry = BPF_CORE_READ(file, f_path.dentry);
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	if (inode && inode != BPF_CORE_READ(dentry, d_inode))
		return bw_inode_alias(inode);
	return dentry;
}

/*
 * A write-open of a process's own file in /proc (/proc/PID/oom_score_adj,
 * attr/, timerslack_ns, comm, /proc/PID/task/TID/...): an act on that
 * process, refused below its protection level. The file's inode names
 * the process by its struct pid. Returns nonzero when refused.
 */
static __noinline int bw_protect_proc_file(struct file *file, struct inode *inode)
{
	struct pid *pid = BPF_CORE_READ(container_of(inode, struct proc_inode, vfs_inode), pid);
	struct bw_decision d = {};
	struct hlist_node *first;
	struct task_struct *task;

	if (!pid)
		return 0;
	first = BPF_CORE_READ(pid, tasks[0].first); /* PIDTYPE_PID */
	if (!first)
		return 0;
	task = (void *)first - bpf_core_field_offset(struct task_struct, pid_links);
	if (BPF_CORE_READ(task, tgid) == bpf_get_current_pid_tgid() >> 32)
		return 0;
	if (!bw_protect_task(&d, BW_OP_WRITE, BW_HOOK_OPEN, task))
		return 0;
	return bw_conclude(&d, &file->f_path, NULL);
}

/*
 * Opens. For files outside /proc: a write-open of a protected file is
 * refused below its level. Then, for procfs only, three jobs:
 *  - remember the mode of the open, so ptrace_access_check, which the
 *    kernel calls from ->open of /proc/PID/mem right after this hook, can
 *    tell a read-only open from one that writes (bw_ptrace_right);
 *  - refuse a write to a protected process's own files below its level;
 *  - judge a write to a sysctl that steers the kernel: the gate first
 *    (ftrace_enabled switches every BPF LSM program off; a process under
 *    the no-children mark must not choose what the kernel spawns), then
 *    the policy's `sysctl` rules.
 * A write needs an fd opened for writing, so judging the open covers
 * write(2), io_uring and splice alike.
 */
static __always_inline int bw_proc_open(struct file *file, struct inode *inode, __u32 f_mode)
{
	struct bw_sysctl_val *guard;
	struct bw_sysctl_key key = {};
	struct bw_task_state *ts;
	struct bw_decision d = {};
	struct dentry *dentry;
	__u32 *mode_of_open;

	mode_of_open = bpf_task_storage_get(&bw_open_mode, bpf_get_current_task_btf(), 0,
					    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (mode_of_open)
		*mode_of_open = f_mode | BW_OPEN_MODE_SET;
	else
		bw_count(BW_OP_READ, BW_CNT_HELPER_ERR);
	if (!(f_mode & FMODE_WRITE))
		return 0;
	if (bw_protect_proc_file(file, inode))
		return -EPERM;
	/* sysrq: the OOM killer on demand (f), or every process killed (e, i) */
	if (bw_name_is(BPF_CORE_READ(file, f_path.dentry), "sysrq-trigger", 14) &&
	    bw_protect_self_only(BPF_CORE_READ(file, f_path.dentry), &file->f_path, BW_HOOK_OPEN))
		return -EPERM;
	if (!BPF_CORE_READ(container_of(inode, struct proc_inode, vfs_inode), sysctl_entry))
		return 0;
	ts = bw_state_mine(bpf_get_current_task_btf());
	dentry = BPF_CORE_READ(file, f_path.dentry);
	bpf_probe_read_kernel_str(key.name, sizeof(key.name), BPF_CORE_READ(dentry, d_name.name));
	bpf_probe_read_kernel_str(key.dir, sizeof(key.dir),
				  BPF_CORE_READ(dentry, d_parent, d_name.name));
	guard = bpf_map_lookup_elem(&bw_sysctls, &key);
	if (!guard)
		return 0;
	d.arg = guard->id;
	if (guard->gate == BW_GATE_TAMPER && bw_policy_installed())
		bw_gate_deny(&d, BW_OP_SYSCTL, BW_HOOK_OPEN, BW_GATE_TAMPER);
	else if (guard->gate == BW_GATE_HELPER && ts && ts->nochild)
		bw_gate_deny(&d, BW_OP_SYSCTL, BW_HOOK_OPEN, BW_GATE_HELPER);
	else
		bw_decide_default(&d, BW_OP_SYSCTL, BW_HOOK_OPEN, guard->id);
	d.arg = guard->id;
	return bw_conclude(&d, &file->f_path, NULL);
}

SEC("lsm/file_open")
int BPF_PROG(bw_file_open, struct file *file, int ret)
{
	struct inode *inode;
	__u32 f_mode;

	if (ret)
		return ret;
	bw_real_file_opened(file);
	/* Plain loads of the BTF pointer: a read-only open calls no helper (decision 106). */
	f_mode = file->f_mode;
	if (file->f_inode->i_sb->s_magic != PROC_SUPER_MAGIC && !(f_mode & FMODE_WRITE))
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	if (BPF_CORE_READ(inode, i_sb, s_magic) != PROC_SUPER_MAGIC) {
		/* Its content may change now: no longer trusted (trust.bpf.h). */
		bw_trust_revoke_inode(inode);
		if (BPF_CORE_READ(inode, i_sb, s_magic) == BW_CGROUP2_MAGIC)
			return bw_protect_cgroup_file(file);
		if (BPF_CORE_READ(inode, i_sb, s_magic) == BW_CGROUP1_MAGIC)
			return bw_protect_self_only(BPF_CORE_READ(file, f_path.dentry), &file->f_path,
						    BW_HOOK_CGROUP);
		return bw_protect_change(bw_real_dentry(file), &file->f_path, BW_HOOK_OPEN, false);
	}
	return bw_proc_open(file, inode, f_mode);
}

/*
 * A module request: the kernel is about to run modprobe, as root, because
 * the current task asked for something it lacks (a socket family, a
 * filesystem, a device). A process under the no-children mark must not
 * get a process spawned on its behalf this way (the `helper` gate). The
 * module itself, if modprobe loads one, is a `module` decision as usual.
 */
SEC("lsm/kernel_module_request")
int BPF_PROG(bw_kernel_module_request, char *kmod_name, int ret)
{
	struct bw_decision d = {};
	struct bw_task_state *ts;
	struct bw_event *e;
	int rc;

	if (ret)
		return ret;
	ts = bw_state_mine(bpf_get_current_task_btf());
	if (!ts || !ts->nochild)
		return 0;
	bw_gate_deny(&d, BW_OP_MODULE, BW_HOOK_MODULE_REQUEST, BW_GATE_HELPER);
	rc = bw_enforce(&d);
	e = bw_event_begin(&d);
	if (e) {
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), kmod_name);
		bw_event_submit(e);
	}
	return rc;
}

/* ---- kernel integrity: module, kexec, lockdown, bpf ------------------- */

#define PF_KTHREAD 0x00200000

/*
 * The kernel's own work is not a process's decision: a kernel thread that
 * asks (boot-time preloaded BPF, a kworker's lockdown check) is exempt.
 */
static __always_inline bool bw_is_kthread(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, flags) & PF_KTHREAD;
}

/* The op a kernel_read_file / kernel_load_data id stands for; 0 = not ours. */
static __always_inline __u32 bw_kernel_load_op(int id, bool from_file)
{
	if (from_file) {
		if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
			return BW_OP_MODULE;
		if (id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_IMAGE) ||
		    id == bpf_core_enum_value(enum kernel_read_file_id, READING_KEXEC_INITRAMFS))
			return BW_OP_KEXEC;
		return 0;
	}
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return BW_OP_MODULE;
	if (id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_IMAGE) ||
	    id == bpf_core_enum_value(enum kernel_load_data_id, LOADING_KEXEC_INITRAMFS))
		return BW_OP_KEXEC;
	return 0;
}

/* finit_module and kexec_file_load: the image is a file, judged as exec judges one. */
SEC("lsm/kernel_read_file")
int BPF_PROG(bw_kernel_read_file, struct file *file, enum kernel_read_file_id id, bool contents,
	     int ret)
{
	struct bw_decision d = {};
	__u32 op = bw_kernel_load_op(id, true);

	if (ret || !op || bw_is_kthread())
		return ret;
	bw_decide_file(&d, op, BW_HOOK_READ_FILE, file);
	return bw_conclude(&d, &file->f_path, NULL);
}

/* init_module and kexec_load: an image from memory has no file: only `any` rules apply. */
SEC("lsm/kernel_load_data")
int BPF_PROG(bw_kernel_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	struct bw_decision d = {};
	__u32 op = bw_kernel_load_op(id, false);

	if (ret || !op || bw_is_kthread())
		return ret;
	bw_decide_default(&d, op, BW_HOOK_LOAD_DATA, 0);
	return bw_conclude(&d, NULL, NULL);
}

/*
 * The running kernel's lockdown reasons in bulwark's numbering, filled by
 * the daemon from the kernel's BTF before loading (see abi.h).
 */
const volatile __u8 bw_lockdown_ids[BW_LOCKDOWN_IDS] = {};

SEC("lsm/locked_down")
int BPF_PROG(bw_locked_down, enum lockdown_reason what, int ret)
{
	struct bw_decision d = {};
	__u32 reason;

	if (ret || bw_is_kthread())
		return ret;
	/* Past the table: the kernel numbers confidentiality reasons last. */
	reason = (__u32)what;
	if (reason < BW_LOCKDOWN_IDS) {
		/* The mask the verifier needs: clang would drop it as redundant. */
		asm volatile("" : "+r"(reason));
		reason = bw_lockdown_ids[reason & (BW_LOCKDOWN_IDS - 1)];
	} else {
		reason = BW_LOCKDOWN_OTHER_CONFIDENTIALITY;
	}
	if (!reason)
		return 0; /* LOCKDOWN_NONE and the group markers */
	d.arg = reason;
	bw_decide_default(&d, BW_OP_LOCKDOWN, BW_HOOK_LOCKDOWN, reason);
	return bw_conclude(&d, NULL, NULL);
}

/*
 * The bpf() commands that put code into the kernel or change where it
 * runs: loading a program, and attaching or detaching one. Everything else
 * (maps, queries, pinning) is not a `bpf` decision.
 */
#define BW_BPF_JUDGED ((1ull << BPF_PROG_LOAD) | (1ull << BPF_PROG_ATTACH) | \
		       (1ull << BPF_PROG_DETACH) | (1ull << BPF_RAW_TRACEPOINT_OPEN) | \
		       (1ull << BPF_LINK_CREATE) | (1ull << BPF_LINK_UPDATE) | \
		       (1ull << BPF_LINK_DETACH))

/*
 * Program types that act on other processes or on the kernel's own
 * decisions: bpf_send_signal (kill a protected process without
 * task_kill), bpf_probe_write_user (write its memory), fmod_ret on
 * security_* (skip bulwark's programs), extension and struct_ops. Under
 * `protect self`, only a subject at level antimalware or above loads
 * them; networking and cgroup programs stay everyone's.
 */
#define BW_BPF_TRACING_TYPES ((1ull << BPF_PROG_TYPE_KPROBE) | (1ull << BPF_PROG_TYPE_TRACEPOINT) | \
			      (1ull << BPF_PROG_TYPE_PERF_EVENT) | (1ull << BPF_PROG_TYPE_RAW_TRACEPOINT) | \
			      (1ull << BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE) | \
			      (1ull << BPF_PROG_TYPE_TRACING) | (1ull << BPF_PROG_TYPE_STRUCT_OPS) | \
			      (1ull << BPF_PROG_TYPE_EXT) | (1ull << BPF_PROG_TYPE_LSM) | \
			      (1ull << BPF_PROG_TYPE_SYSCALL))

static __always_inline bool bw_protect_bpf_load(struct bw_decision *d, __u32 type)
{
	__u32 have;

	if (type > 63 || !((1ull << type) & BW_BPF_TRACING_TYPES) ||
	    !bw_policy_has(BW_POLICY_PROTECT_SELF))
		return false;
	have = bw_current_level();
	if (have >= BW_LEVEL_ANTIMALWARE)
		return false;
	bw_protect_deny(d, BW_OP_BPF, BW_HOOK_BPF, BW_LEVEL_ANTIMALWARE, have);
	return true;
}

SEC("lsm/bpf")
int BPF_PROG(bw_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	struct bw_decision d = {};

	if (cmd < 0 || cmd > 63 || !((1ull << cmd) & BW_BPF_JUDGED) || bw_is_kthread())
		return 0;
	d.arg = cmd;
	if (cmd != BPF_PROG_LOAD || !bw_protect_bpf_load(&d, BPF_CORE_READ(attr, prog_type)))
		bw_decide_default(&d, BW_OP_BPF, BW_HOOK_BPF, 0);
	d.arg = cmd;
	return bw_conclude(&d, NULL, NULL);
}

/* ---- a protected process moved to another cgroup (protect.bpf.h) ------- */

SEC("fexit/cgroup_procs_write_start")
int bw_cgroup_move_start(__u64 *ctx)
{
	__u64 task = 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* the arguments differ between 6.1 and 6.12; the return value is the process */
	if (bpf_get_func_ret(ctx, &task) || !task || task >= (__u64)-4095)
		return 0;
	if (bw_level_of((struct task_struct *)task))
		bpf_map_update_elem(&bw_cgroup_moving, &tid, &task, BPF_ANY);
	return 0;
}

SEC("fentry/cgroup_procs_write_finish")
int bw_cgroup_move_finish(__u64 *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&bw_cgroup_moving, &tid);
	return 0;
}

#define MAY_WRITE 0x2

/*
 * Every path walk passes here: a mask test, then the superblock's magic,
 * and the one lookup only for writes to cgroup v2 files.
 */
SEC("lsm/inode_permission")
int BPF_PROG(bw_inode_permission, struct inode *inode, int mask, int ret)
{
	if (ret || !(mask & MAY_WRITE) || BPF_CORE_READ(inode, i_sb, s_magic) != BW_CGROUP2_MAGIC)
		return ret;
	return bw_protect_cgroup_move();
}

/* ---- protected files: names, attributes, mounts ----------------------- */

/*
 * The namespace operations use the inode hooks: they also run for what
 * overlayfs does on the real filesystem below, and their signatures are
 * the same on 6.1 and 6.12.
 */
SEC("lsm/inode_unlink")
int BPF_PROG(bw_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	return ret ? ret : bw_protect_change(dentry, NULL, BW_HOOK_UNLINK, false);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(bw_inode_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	return ret ? ret : bw_protect_change(dentry, NULL, BW_HOOK_UNLINK, false);
}

/*
 * Both ends: the name moved away (and whatever protects it), the
 * directory it moves into, and a file it would replace (or, for
 * RENAME_EXCHANGE, move away).
 */
SEC("lsm/inode_rename")
int BPF_PROG(bw_inode_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	ret = bw_protect_change(old_dentry, NULL, BW_HOOK_RENAME, false);
	if (!ret) {
		/* a directory above a protected file: moving it lets a stand-in take its path */
		__u32 rule_id, need = bw_protected_above(old_dentry, &rule_id);

		ret = bw_protect_file_gate(old_dentry, NULL, BW_HOOK_RENAME, need, rule_id);
	}
	if (!ret)
		ret = bw_protect_entry(new_dentry, BW_HOOK_RENAME);
	if (!ret)
		ret = bw_protect_change(new_dentry, NULL, BW_HOOK_RENAME, false);
	return ret;
}

/* A hard link is a second name for the file: outside its tree, it would be unprotected. */
SEC("lsm/inode_link")
int BPF_PROG(bw_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry,
	     int ret)
{
	if (ret)
		return ret;
	ret = bw_protect_change(old_dentry, NULL, BW_HOOK_CREATE, false);
	return ret ? ret : bw_protect_entry(new_dentry, BW_HOOK_CREATE);
}

SEC("lsm/inode_create")
int BPF_PROG(bw_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	return ret ? ret : bw_protect_entry(dentry, BW_HOOK_CREATE);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(bw_inode_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	return ret ? ret : bw_protect_entry(dentry, BW_HOOK_CREATE);
}

SEC("lsm/inode_mknod")
int BPF_PROG(bw_inode_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev,
	     int ret)
{
	return ret ? ret : bw_protect_entry(dentry, BW_HOOK_CREATE);
}

SEC("lsm/inode_symlink")
int BPF_PROG(bw_inode_symlink, struct inode *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	return ret ? ret : bw_protect_entry(dentry, BW_HOOK_CREATE);
}

SEC("lsm/path_chmod")
int BPF_PROG(bw_path_chmod, const struct path *path, umode_t mode, int ret)
{
	return ret ? ret : bw_protect_change(BPF_CORE_READ(path, dentry), NULL, BW_HOOK_SETATTR, false);
}

SEC("lsm/path_chown")
int BPF_PROG(bw_path_chown, const struct path *path, __u64 uid, __u64 gid, int ret)
{
	return ret ? ret : bw_protect_change(BPF_CORE_READ(path, dentry), NULL, BW_HOOK_SETATTR, false);
}

/* truncate(2), ftruncate(2) and open with O_TRUNC. */
SEC("lsm/path_truncate")
int BPF_PROG(bw_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	ret = bw_protect_change(BPF_CORE_READ(path, dentry), NULL, BW_HOOK_SETATTR, false);
	if (!ret)
		bw_trust_revoke_inode(BPF_CORE_READ(path, dentry, d_inode));
	return ret;
}

/*
 * Every other attribute change, utimensat's timestamps among them: chmod,
 * chown and truncate meet the path hooks first. 6.12 added the mount's
 * idmap in front of the dentry (6.1: dentry, iattr), so the dentry is
 * found by the argument count the trampoline records rather than by a
 * fixed position: one program for both kernels.
 */
SEC("lsm/inode_setattr")
int bw_inode_setattr(__u64 *ctx)
{
	__u64 dentry = 0;

	if (bpf_get_func_arg(ctx, bpf_get_func_arg_cnt(ctx) == 3 ? 1 : 0, &dentry) || !dentry)
		return 0;
	return bw_protect_change((struct dentry *)dentry, NULL, BW_HOOK_SETATTR, false);
}

/* The first argument is the mount's user namespace (6.1) or idmap (6.12): unused. */
SEC("lsm/inode_setxattr")
int BPF_PROG(bw_inode_setxattr, void *idmap, struct dentry *dentry, const char *name)
{
	return bw_protect_change(dentry, NULL, BW_HOOK_XATTR, false);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(bw_inode_removexattr, void *idmap, struct dentry *dentry, const char *name)
{
	return bw_protect_change(dentry, NULL, BW_HOOK_XATTR, false);
}

#define FS_IOC_SETFLAGS 0x40086602u
#define FS_IOC_FSSETXATTR 0x401c5820u

#define TIOCSTI 0x5412u
#define TIOCSIG 0x40045436u

/*
 * chattr: the immutable and append-only flags are set through ioctl, on a
 * read-only fd. TIOCSTI and TIOCSIG: keystrokes or a signal pushed into a
 * terminal reach its foreground process group without task_kill (^C, ^Z
 * of a protected process's terminal): bulwarkd's level only, under
 * `protect self`.
 */
SEC("lsm/file_ioctl")
int BPF_PROG(bw_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	if (cmd == TIOCSTI || cmd == TIOCSIG)
		return bw_protect_self_only(BPF_CORE_READ(file, f_path.dentry), NULL, BW_HOOK_IOCTL);
	if (cmd != FS_IOC_SETFLAGS && cmd != FS_IOC_FSSETXATTR)
		return 0;
	return bw_protect_change(bw_real_dentry(file), NULL, BW_HOOK_IOCTL, false);
}

/*
 * Something mounted where it would hide or replace a protected file: on
 * the file, inside its tree, or on any directory above it, in any mount
 * namespace (the dentry is the same in every copy of a mount).
 */
static __always_inline int bw_protect_mountpoint(struct dentry *dentry, __u32 hook)
{
	__u32 rule_id, need = bw_protected_file(dentry, false, &rule_id);

	if (!need)
		need = bw_protected_above(dentry, &rule_id);
	return bw_protect_file_gate(dentry, NULL, hook, need, rule_id);
}

#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_SHARED (1 << 20)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_UNBINDABLE (1 << 17)

/*
 * mount(2). A remount, or a change of propagation only, shows the same
 * files: not judged.
 */
SEC("lsm/sb_mount")
int BPF_PROG(bw_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret || (flags & MS_REMOUNT))
		return ret;
	if ((flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) && !(flags & (MS_BIND | MS_MOVE)))
		return 0;
	return bw_protect_mountpoint(BPF_CORE_READ(path, dentry), BW_HOOK_MOUNT);
}

/* move_mount(2): onto a guarded place, or moving away the mount that holds protected files. */
SEC("lsm/move_mount")
int BPF_PROG(bw_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return ret;
	ret = bw_protect_mountpoint(BPF_CORE_READ(to_path, dentry), BW_HOOK_MOUNT);
	return ret ? ret : bw_protect_mountpoint(BPF_CORE_READ(from_path, dentry), BW_HOOK_MOUNT);
}

/* umount(2) of a mount whose root is protected or above something protected (bpffs, /usr). */
SEC("lsm/sb_umount")
int BPF_PROG(bw_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	return ret ? ret : bw_protect_mountpoint(BPF_CORE_READ(mnt, mnt_root), BW_HOOK_UMOUNT);
}

/*
 * An fd to one of bulwark's own BPF objects (their names start with bw_):
 * under `protect self`, bulwarkd's alone. name: the object's name, in the
 * kernel. The event names the object in target.path.
 */
static __always_inline int bw_protect_bpf_object(const char *name, __u32 hook)
{
	struct bw_decision d = {};
	struct bw_event *e;
	char prefix[4] = {};
	__u32 have;
	int ret;

	bpf_probe_read_kernel(prefix, 3, name);
	if (prefix[0] != 'b' || prefix[1] != 'w' || prefix[2] != '_')
		return 0;
	if (!bw_policy_has(BW_POLICY_PROTECT_SELF))
		return 0;
	have = bw_current_level();
	if (have >= BW_LEVEL_SYSTEM)
		return 0;
	bw_protect_deny(&d, BW_OP_PROTECT, hook, BW_LEVEL_SYSTEM, have);
	ret = bw_enforce(&d);
	e = bw_event_begin(&d);
	if (e) {
		bpf_probe_read_kernel_str(e->path, 16, name); /* BPF_OBJ_NAME_LEN */
		bw_event_submit(e);
	}
	return ret;
}

/*
 * An fd to one of bulwark's maps, by id, by pin, or a new map of that
 * name: nobody but bulwarkd rewrites rules, levels, the lock or the guard.
 * Read-only fds too: a program of root's own that is handed one may still
 * write the map (the verifier does not check an fd's mode).
 */
SEC("lsm/bpf_map")
int BPF_PROG(bw_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	return ret ? ret : bw_protect_bpf_object(map->name, BW_HOOK_BPF_MAP);
}

/*
 * An fd to one of bulwark's programs, by id: with one, root could attach
 * an extension program (freplace) over one of the decision path's global
 * functions and decide nothing. Other programs' fds stay available.
 */
SEC("lsm/bpf_prog")
int BPF_PROG(bw_bpf_prog, struct bpf_prog *prog, int ret)
{
	struct bpf_prog_aux *aux = BPF_CORE_READ(prog, aux);

	return ret ? ret : bw_protect_bpf_object(aux->name, BW_HOOK_BPF_PROG);
}

/*
 * Process notifications: opt-in per policy (`notify exec fork exit
 * thread`). With none asked for, each costs two map lookups and returns.
 */
static __always_inline struct bw_event *bw_notify_begin(__u32 flag, __u32 what)
{
	struct bw_event *e;

	if (!bw_policy_has(flag))
		return NULL;
	e = bw_event_reserve(BW_EV_PROCESS, BW_OP_NONE);
	if (e)
		e->what = what;
	return e;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(bw_notify_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid, tgid, zero = 0;
	struct bw_live *live = bpf_map_lookup_elem(&bw_live, &zero); /* key on the stack: decision 102 */
	bool thread;
	struct bw_event *e;

	/* Neither notification in force: return before reading anything (decision 101). */
	if (live && !(live->flags & (BW_POLICY_NOTIFY_FORK | BW_POLICY_NOTIFY_THREAD)))
		return 0;
	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	thread = pid != tgid;
	e = bw_notify_begin(thread ? BW_POLICY_NOTIFY_THREAD : BW_POLICY_NOTIFY_FORK,
			    thread ? BW_PROC_THREAD_START : BW_PROC_FORK);
	if (!e)
		return 0;
	e->target_pid = pid;
	e->target_tgid = tgid;
	bw_event_submit(e);
	return 0;
}

/* After the exec: the task already has its new identity and arguments. */
/*
 * The loader's code-injection variables: with any of them, ld.so would map
 * code the protected program did not ask for, before its first
 * instruction. Compared as three 8-byte words after "LD_".
 */
#define BW_ENV_SCAN_MAX (256u << 10)
#define BW_ENV_WORD 24

struct bw_env_scan {
	unsigned long p, end;
	int at_start; /* p is the start of a variable */
	int found;    /* 1: an injection variable; -1: the environment could not be read */
	char buf[BW_ENV_WORD];
};

static __always_inline bool bw_env_is(const char *buf, const char *name, int len)
{
	for (int i = 0; i < len; i++)
		if (buf[i] != name[i])
			return false;
	return true;
}

static long bw_env_step(__u32 i, void *ctx)
{
	struct bw_env_scan *s = ctx;
	long n;

	if (s->p >= s->end)
		return 1;
	n = bpf_probe_read_user_str(s->buf, sizeof(s->buf), (void *)s->p);
	if (n <= 0) {
		s->found = -1;
		return 1;
	}
	if (s->at_start && (bw_env_is(s->buf, "LD_PRELOAD=", 11) || bw_env_is(s->buf, "LD_AUDIT=", 9) ||
			    bw_env_is(s->buf, "LD_LIBRARY_PATH=", 16))) {
		s->found = 1;
		return 1;
	}
	/* A whole variable read (n counts its NUL), or the next piece of a long one. */
	s->at_start = n < (long)sizeof(s->buf);
	s->p += s->at_start ? n : sizeof(s->buf) - 1;
	return 0;
}

/*
 * A protected program started with a code-injection variable: killed
 * before it returns to user space, so ld.so never maps the injected code.
 * An environment too large to read whole is refused the same way: the
 * scan cannot prove it clean. Reported as a refused exec.
 */
static __always_inline void bw_protect_env(struct task_struct *p, struct linux_binprm *bprm)
{
	struct bw_env_scan s = {};
	struct bw_decision d = {};
	__u32 need = bw_level_of(p);

	if (!need)
		return;
	s.p = BPF_CORE_READ(p, mm, env_start);
	s.end = BPF_CORE_READ(p, mm, env_end);
	s.at_start = 1;
	if (s.end - s.p > BW_ENV_SCAN_MAX)
		s.found = -1;
	else
		bpf_loop(BW_ENV_SCAN_MAX / (BW_ENV_WORD - 1) + 1, bw_env_step, &s, 0);
	if (!s.found)
		return;
	bw_protect_deny(&d, BW_OP_EXEC, BW_HOOK_EXEC, need, BW_LEVEL_NONE);
	d.arg = BPF_CORE_READ(bpf_get_current_task_btf(), tgid);
	bw_inode_id(BPF_CORE_READ(bprm, file, f_path.dentry), &d.dev, &d.ino);
	d.event_flags |= BW_EVF_PATH_ERR;
	if (bw_enforce(&d))
		bpf_send_signal(9 /* SIGKILL */);
	bw_conclude_event(&d);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bw_notify_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	unsigned long start, end, len;
	struct bw_event *e;

	bw_protect_env(p, bprm);
	e = bw_notify_begin(BW_POLICY_NOTIFY_EXEC, BW_PROC_EXEC);
	if (!e)
		return 0;
	/* argv, NUL-separated, bounded by the event's path field */
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > sizeof(e->path)) {
		len = sizeof(e->path);
		e->flags |= BW_EVF_ARGV_TRUNC;
	}
	if (len && bpf_probe_read_user(e->path, len & (sizeof(e->path) - 1 | sizeof(e->path)),
				       (void *)start))
		e->flags |= BW_EVF_PATH_ERR;
	e->arg = len;
	e->target_pid = old_pid;
	bw_event_submit(e);
	return 0;
}

/*
 * Every thread passes here. The process has ended when its last thread
 * does (signal->live reached 0); the group leader's state makes sure that
 * is reported once even when threads exit together.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bw_notify_exit, struct task_struct *p)
{
	__u32 policy_flags = 0, pid = p->pid, tgid = p->tgid; /* plain loads: decision 106 */
	__u32 zero = 0; /* on the stack, not in .rodata: a page less (decision 102) */
	bool last = p->signal->live.counter == 0;
	struct bw_task_state *ts;
	struct bw_guard *g;
	struct bw_event *e;

	/* A protected process's level ends with it; bulwarkd's ends its claim on `system`. */
	if (last) {
		if (bpf_map_lookup_elem(&bw_protected, &tgid))
			bpf_map_delete_elem(&bw_protected, &tgid);
		g = bpf_map_lookup_elem(&bw_guard, &zero);
		if (g && g->daemon_tgid == tgid)
			g->daemon_tgid = 0;
	}

	if (bw_policy_has(BW_POLICY_NOTIFY_EXIT))
		policy_flags |= BW_POLICY_NOTIFY_EXIT;
	if (pid != tgid && bw_policy_has(BW_POLICY_NOTIFY_THREAD))
		policy_flags |= BW_POLICY_NOTIFY_THREAD;
	if (!policy_flags)
		return 0;
	if (pid != tgid && (policy_flags & BW_POLICY_NOTIFY_THREAD)) {
		e = bw_notify_begin(BW_POLICY_NOTIFY_THREAD, BW_PROC_THREAD_EXIT);
		if (e) {
			e->target_pid = pid;
			e->target_tgid = tgid;
			e->arg = BPF_CORE_READ(p, exit_code);
			bw_event_submit(e);
		}
	}
	if (!last || !(policy_flags & BW_POLICY_NOTIFY_EXIT))
		return 0;
	ts = bpf_task_storage_get(&bw_task_state, p->group_leader, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts && __sync_fetch_and_add(&ts->exited, 1))
		return 0;
	e = bw_notify_begin(BW_POLICY_NOTIFY_EXIT, BW_PROC_EXIT);
	if (!e)
		return 0;
	/*
	 * The mm is gone (exit_mm runs first), and with it the exe file: the
	 * name is the one its exec kept, if that exec is the one it runs.
	 */
	if (ts && ts->exec_id && ts->exec_id == p->self_exec_id) {
		bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), ts->exe);
		e->flags = (e->flags & ~(BW_EVF_EXE_UNKNOWN | BW_EVF_EXE_TRUNC)) | ts->flags;
	}
	e->target_pid = tgid;
	e->target_tgid = tgid;
	e->arg = BPF_CORE_READ(p, exit_code);
	bw_event_submit(e);
	return 0;
}

/*
 * The trust iterator: bulwarkd reads it (bpf_iter_create on its pinned
 * link) while it holds the files it verified open, and learns for each of
 * its own descriptors the identity, ctime and size the hooks will see,
 * computed by the same code (trust.bpf.h). Only the reader's own files
 * are reported.
 */
SEC("iter/task_file")
int bw_trust_iter(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct bw_trust_ident r = {};
	struct inode *inode;

	if (!task || !file || task->tgid != (bpf_get_current_pid_tgid() >> 32))
		return 0;
	r.fd = ctx->fd;
	inode = bw_real_inode(file);
	if (inode && bw_inode_ident(inode, &r.dev, &r.ino)) {
		r.ok = 1;
		bw_inode_ctime(inode, &r.ctime_sec, &r.ctime_nsec);
		r.size = BPF_CORE_READ(inode, i_size);
		r.sb = bw_sb_instance_of(inode);
		/* A writer that opened the file before it was verified (a
		 * shared writable mapping above all: its stores to a dirty
		 * page move no ctime) could change it after: bulwarkd refuses
		 * to trust a file anyone holds open for writing. */
		r.writers = BPF_CORE_READ(inode, i_writecount.counter);
	}
	bw_inode_id(BPF_CORE_READ(file, f_path.dentry), &r.pdev, &r.pino);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

/*
 * Decision 90: IMA's SHA-256 of untrusted images, for `sha256:` rules.
 * Sleepable (bpf_ima_file_hash reads the file), so apart from the
 * decision programs, on the same hooks; bulwarkd attaches these last, and
 * a trampoline runs the program attached last first, so the hash is in
 * bw_hash_cache when the decision looks. The hooks: the binary and every
 * interpreter (bprm_check_security: #!, binfmt_misc), every executable
 * mapping (mmap_file: ld.so, libraries, dlopen, `ld.so PROG`). Not
 * file_mprotect: 6.1 refuses sleepable programs there (mmap_lock is
 * held); a file first mapped readable then made executable is decided
 * with the hash cached by an earlier mapping or exec, else hash-unknown.
 */
/*
 * Hashing is wanted while the policy in force may have sha256: rules:
 * bw_live's superset says so from the page the decision reads anyway,
 * where bw_hash_cfg is a page of its own (bw_hash_image checks it too).
 */
static __always_inline bool bw_hashing(void)
{
	__u32 zero = 0; /* on the stack, not in .rodata: a page less (decision 102) */
	struct bw_live *live = bpf_map_lookup_elem(&bw_live, &zero);

	return !live || (live->flags & BW_POLICY_HASH);
}

SEC("lsm.s/bprm_check_security")
int BPF_PROG(bw_hash_bprm, struct linux_binprm *bprm, int ret)
{
	if (ret || !bw_hashing())
		return ret;
	bw_hash_image(bprm->file, false);
	return 0;
}

SEC("lsm.s/mmap_file")
int BPF_PROG(bw_hash_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!(prot & PROT_EXEC)) {
		/*
		 * bulwarkd's start-up probe maps a file readable, with flags
		 * few mappings carry: every other mapping returns here having
		 * read nothing but its arguments.
		 */
		if ((flags & BW_HASH_PROBE_FLAGS) == BW_HASH_PROBE_FLAGS && bw_raw_arg(ctx, 0))
			bw_hash_image(file, true);
		return 0;
	}
	if (!bw_hashing() || !bw_raw_arg(ctx, 0) || bw_is_own_exe(file))
		return 0;
	bw_hash_image(file, false);
	return 0;
}
