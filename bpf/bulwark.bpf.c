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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Called for the binary and again for every interpreter it names (shebang,
 * binfmt_misc), so a denied interpreter cannot be reached through a script.
 */
SEC("lsm/bprm_check_security")
int BPF_PROG(bw_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct bw_decision d = {};
	struct bw_event *e;
	int rc;

	if (ret)
		return ret;
	bw_decide_file(&d, BW_OP_EXEC, BW_HOOK_EXEC, bprm->file);
	rc = bw_enforce(&d);
	e = bw_event_begin(&d);
	if (e) {
		bw_event_path(e, &bprm->file->f_path);
		bw_event_submit(e);
	}
	return rc;
}

#define PROT_EXEC 0x4
#define VM_EXEC 0x4

/*
 * The task's own program was judged when it was exec'd; mapping its
 * segments again is not a new decision. Without this, a rule such as
 * `deny exec any from exe=/usr/sbin/nginx` would stop nginx mapping itself.
 */
static __always_inline bool bw_is_own_exe(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, mm, exe_file) == file;
}

/*
 * Running a file's code without execve: ld.so given the program as an
 * argument, dlopen, or any executable mapping. `exec` rules cover these
 * too, or `ld.so /denied/prog` would walk around every exec rule.
 */
SEC("lsm/mmap_file")
int BPF_PROG(bw_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct bw_decision d = {};
	struct bw_event *e;
	int rc;

	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC) || bw_is_own_exe(file))
		return 0;
	bw_decide_file(&d, BW_OP_EXEC, BW_HOOK_MMAP, file);
	rc = bw_enforce(&d);
	e = bw_event_begin(&d);
	if (e) {
		bw_event_path(e, &file->f_path);
		bw_event_submit(e);
	}
	return rc;
}

/* Map it readable first, then make it executable: the same decision. */
SEC("lsm/file_mprotect")
int BPF_PROG(bw_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct bw_decision d = {};
	struct bw_event *e;
	struct file *file;
	int rc;

	if (ret)
		return ret;
	if (!(prot & PROT_EXEC) || (BPF_CORE_READ(vma, vm_flags) & VM_EXEC))
		return 0;
	file = BPF_CORE_READ(vma, vm_file);
	if (!file)
		return 0; /* anonymous memory: the memory controls' business */
	if (bw_is_own_exe(file))
		return 0;
	bw_decide_file(&d, BW_OP_EXEC, BW_HOOK_MPROTECT, file);
	rc = bw_enforce(&d);
	e = bw_event_begin(&d);
	if (e) {
		/* bpf_d_path is not allowed in this hook: dev and ino still name it. */
		e->flags |= BW_EVF_PATH_ERR;
		bw_event_submit(e);
	}
	return rc;
}

/*
 * After a successful exec the task's identity is its new image: remember
 * its path so later events name the subject without asking /proc, and its
 * program class under the active policy.
 */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(bw_bprm_committed, struct linux_binprm *bprm)
{
	struct bw_rule_key mkey = { .op = BW_OP_NONE, .kind = BW_OBJ_META };
	struct bw_rule_val *meta = NULL;
	struct bw_task_state *ts;
	__u32 zero = 0;
	void *policy;
	long n;

	ts = bpf_task_storage_get(&bw_task_state, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		bw_count(BW_OP_EXEC, BW_CNT_HELPER_ERR);
		return 0;
	}
	ts->flags = 0;
	ts->serial = 0;
	ts->exe_class = 0;
	policy = bpf_map_lookup_elem(&bw_policy, &zero);
	if (policy)
		meta = bpf_map_lookup_elem(policy, &mkey);
	if (meta && (meta->combos & ~1u)) {
		ts->exe_class = bw_exe_class(policy, bprm->file);
		ts->serial = meta->serial;
	}
	n = bpf_d_path(&bprm->file->f_path, ts->exe, sizeof(ts->exe));
	if (n < 0) {
		ts->exe[0] = 0;
		ts->flags = n == -36 ? BW_EVF_EXE_TRUNC : BW_EVF_EXE_UNKNOWN;
		bw_count(BW_OP_EXEC, BW_CNT_HELPER_ERR);
	}
	return 0;
}

/* Children and threads start with their creator's state. */
SEC("lsm/task_alloc")
int BPF_PROG(bw_task_alloc, struct task_struct *task, unsigned long clone_flags, int ret)
{
	struct bw_task_state *parent, *child;

	if (ret)
		return ret;
	parent = bw_current_state();
	if (!parent)
		return 0;
	child = bpf_task_storage_get(&bw_task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!child) {
		bw_count(BW_OP_FORK, BW_CNT_HELPER_ERR);
		return 0;
	}
	bpf_probe_read_kernel(child, sizeof(*child), parent);
	return 0;
}
