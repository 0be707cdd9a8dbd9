// SPDX-License-Identifier: MIT
/*
 * bwtry: perform one operation the way an attacker or a user would, and
 * print exactly what the caller saw, so tests assert on the real errno:
 *
 *   bwtry exec PATH [ARG...]   fork, then execve in the child
 *   bwtry execveat PATH        as exec, by execveat(dirfd of PATH's directory, name)
 *   bwtry fexecve PATH [ARG...]  as exec, by an open descriptor (execveat AT_EMPTY_PATH)
 *   bwtry run PATH [ARG...]    execve in this process (no fork), so the
 *                              subject is bwtry's copy and its parent
 *   bwtry mmap PATH            map the file PROT_READ|PROT_EXEC
 *   bwtry mprotect PATH        map it PROT_READ, then mprotect to add PROT_EXEC
 *   bwtry anon-exec -          map anonymous memory PROT_READ|PROT_EXEC
 *   bwtry dlopen PATH          dlopen(PATH, RTLD_NOW); on failure dlerror()'s text
 *                              is printed first (ld.so keeps no errno), errno=EIO
 *
 * Memory controls:
 *   bwtry wx-anon | wx-file PATH   map anonymous memory (PATH, private) read-write-execute
 *   bwtry mprotect-wx          map anonymous memory read-write, then mprotect it RWX
 *   bwtry mprotect-anon-x      map anonymous memory read-write, write, mprotect it R|X
 *                              (what a JIT does)
 *   bwtry textrel PATH         map PATH private read-write, write a byte, mprotect R|X
 *   bwtry memfd-exec | memfd-map   copy bwtry into a memfd, then exec it (running
 *                              `bwtry noop`) or map it PROT_EXEC
 *   bwtry deleted-exec DIR     copy bwtry into DIR, open it, unlink it, exec it
 *   bwtry shm-exec | shm-exec-ro | shm-rw   attach a new System V segment with
 *                              SHM_EXEC (read-write, or SHM_RDONLY), or without it
 *   bwtry noop                 exit 0
 *
 * Process operations (PID is another process, ADDR a hex address in it):
 *   bwtry target               become a target: print "target pid=N addr=0x.. fd=N",
 *                              report SIGHUP/SIGUSR1 as "sig N" lines, pause forever;
 *                              with BW_TARGET_UNTIL_EOF set, until its stdin reaches
 *                              end of file (a protected target no signal reaches ends
 *                              itself when the test closes the pipe)
 *   bwtry attach|seize PID     ptrace it (then detach)
 *   bwtry mem-read|mem-write PID ADDR   open /proc/PID/mem, then 1-byte pread/pwrite
 *   bwtry vm-read|vm-write PID ADDR     process_vm_readv / process_vm_writev, 1 byte
 *   bwtry getfd PID FD         pidfd_open + pidfd_getfd
 *   bwtry kill PID SIG | tgkill PID TID SIG | pidfd-signal PID SIG | sigqueue PID SIG
 *   bwtry sigio PID SIG        make PID the owner of a pipe with F_SETSIG SIG, then
 *                              write to it: the kernel signals PID (the caller sees
 *                              nothing either way; only the target can tell)
 *   bwtry setpriority PID N | sched PID | sched-attr PID | prlimit PID | ioprio PID
 *   bwtry move-pages PID [ADDR]  move_pages query (nodes NULL): of ADDR's page, adding
 *                              " status=<node or -errno>" on success, else of no pages
 *   bwtry migrate-pages PID    migrate_pages from node 0 to node 0
 *   bwtry fork | vfork | clone | thread | spawn PATH [ARG...]
 *   bwtry threads-then-fork    start a thread, try fork, report " thread=alive|dead"
 *   bwtry set-exe PATH         prctl(PR_SET_MM_EXE_FILE): pass for another program
 *   bwtry race-mem PID N       N openat2 opens of /proc/PID/mem while a thread flips
 *                              open_how.flags (" escaped=<opens that came back O_RDWR>")
 *   bwtry write-file PATH VALUE   open PATH for writing and write VALUE (a sysctl)
 *   bwtry socket-family N      socket(N, SOCK_DGRAM): for a family not loaded, the
 *                              kernel runs kernel.modprobe (a module request)
 *   bwtry crash                die of SIGSEGV, dumping core through core_pattern
 *   bwtry mount-bind SRC DST | mount-fs TYPE DST | umount PATH   mount(2) and umount2(2)
 *   bwtry truncate PATH        truncate(2) to 0 bytes: by path, no open for writing
 *   bwtry signal-storm PID SIG N   kill(PID, SIG) N times: " denied=<EPERM count>"
 *   bwtry traceme PATH         fork; the child asks to be traced (PTRACE_TRACEME) and
 *                              execs PATH (running `PATH noop`): errno of that exec
 *                              (0 when it started traced; the child is then killed)
 *   bwtry tree                 a known process tree for notification tests:
 *                              "tree parent=P child=A grandchild=B thread=T"
 *
 * Kernel operations (a junk PATH gets past bulwark and is refused by the
 * kernel itself, ENOEXEC: that is how an allowed load shows):
 *   bwtry finit-module PATH | init-module PATH   load PATH as a module (by fd, from memory)
 *   bwtry kexec-file PATH [INITRD]   kexec_file_load PATH (and INITRD); a staged
 *                              kernel is unloaded again (KEXEC_FILE_UNLOAD)
 *   bwtry kexec-load           kexec_load with no segments (unloads: 0 when allowed)
 *   bwtry ioperm               ioperm(0x80, 1, on), then off: lockdown ioport
 *   bwtry kcore                open /proc/kcore: lockdown kcore
 *   bwtry bpf-load             BPF_PROG_LOAD of a two-instruction socket filter
 *   bwtry bpf-map              BPF_MAP_CREATE of a one-entry array (not a `bpf` decision)
 *
 * Attacks by root's own BPF programs and the tty (tests/redteam/t_attack.sh):
 *   bwtry bpf-ro-clear PIN KEY   open a pinned map read-only, then rewrite it from a
 *                              program of our own: delete KEY (hash) or zero it (array)
 *   bwtry bpf-ro-flood PIN SECS  fill a pinned ring buffer (opened read-only) with junk
 *   bwtry bpf-in-proc TGID SECS kill SIG | write ADDR BYTE   a raw tracepoint program
 *                              that signals TGID (bpf_send_signal) or writes its memory
 *                              (bpf_probe_write_user) in its own context
 *   bwtry handle-write MOUNTDIR PATH VALUE   name_to_handle_at PATH, drop the dentry
 *                              cache, open_by_handle_at for writing, append VALUE
 *   bwtry tiocsti TTY CODE     push a byte into a terminal's input (^C = 3, ^Z = 26)
 *   bwtry target-busy [MB]     as target, but making a system call every 100 ms and
 *                              printing "buf C" when its buffer's first byte changes;
 *                              with MB, it first allocates and touches MB MiB
 *
 * Failures of multi-step operations add " step=<the step that failed>".
 *
 * Output: one line "pid=<acting process> parent=<bwtry> rc=<n> errno=<NAME>".
 * Exit: 0 if the operation succeeded, 1 if it failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sched.h>
#include <linux/bpf.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case ENOEXEC: return "ENOEXEC";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EAGAIN: return "EAGAIN";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

/*
 * The child reports execve's errno through a close-on-exec pipe. at: use
 * execveat relative to a descriptor of the file's directory instead.
 */
static int try_exec_how(char **argv, int at)
{
	int pfd[2], status, err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return perror("pipe2"), 2;
	pid = fork();
	if (pid < 0)
		return perror("fork"), 2;
	if (pid == 0) {
		close(pfd[0]);
		if (at == 2) {
			/* fexecve: by an open descriptor, execveat(fd, "", AT_EMPTY_PATH) */
			int fd = open(argv[0], O_RDONLY | O_CLOEXEC);

			if (fd >= 0)
				syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
		} else if (at) {
			char dir[4096];
			const char *slash = strrchr(argv[0], '/');
			int dfd;

			snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - argv[0]) : 1,
				 slash ? argv[0] : ".");
			dfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
			if (dfd >= 0)
				syscall(SYS_execveat, dfd, slash ? slash + 1 : argv[0], argv, environ, 0);
		} else {
			execve(argv[0], argv, environ);
		}
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) != sizeof(err))
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return perror("waitpid"), 2;
	if (n == sizeof(err)) {
		printf("pid=%d parent=%d rc=-1 errno=%s\n", pid, getpid(), errno_name(err));
		return 1;
	}
	printf("pid=%d parent=%d rc=0 errno=0 exit=%d\n", pid, getpid(), WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static int try_exec(char **argv)
{
	return try_exec_how(argv, 0);
}

/* In place: on success PATH replaces us and reports nothing itself. */
static int run_in_place(char **argv)
{
	execve(argv[0], argv, environ);
	printf("pid=%d parent=%d rc=-1 errno=%s\n", getpid(), getppid(), errno_name(errno));
	return 1;
}

static int report(long rc, int err)
{
	printf("pid=%d parent=%d rc=%ld errno=%s\n", getpid(), getppid(), rc, errno_name(rc < 0 ? err : 0));
	return rc < 0;
}

static int try_map(const char *path, bool via_mprotect)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return perror(path), 2;
	p = mmap(NULL, 4096, PROT_READ | (via_mprotect ? 0 : PROT_EXEC), MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return report(-1, errno);
	if (via_mprotect) {
		int rc = mprotect(p, 4096, PROT_READ | PROT_EXEC);

		return report(rc, errno);
	}
	return report(0, 0);
}

/*
 * dlopen: ld.so maps the library itself and reports failure only as
 * dlerror() text ("...: failed to map segment from shared object"; errno
 * is not kept), so that text is printed for the test to read.
 */
static int try_dlopen(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const char *why;

	if (h)
		return report(0, 0);
	why = dlerror();
	printf("dlerror: %s\n", why ? why : "(none)");
	return report(-1, EIO);
}

/* Like report(), with the failing step named. */
static int report_step(long rc, int err, const char *step)
{
	printf("pid=%d parent=%d rc=%ld errno=%s", getpid(), getppid(), rc,
	       errno_name(rc < 0 ? err : 0));
	if (rc < 0 && step)
		printf(" step=%s", step);
	printf("\n");
	return rc < 0;
}

static char target_buf[64];

static void on_signal(int sig)
{
	char line[16];
	int n = snprintf(line, sizeof(line), "sig %d\n", sig);

	if (write(STDOUT_FILENO, line, n) < 0)
		_exit(3);
}

static __attribute__((noreturn)) int be_target(void)
{
	int fd = open("/dev/null", O_RDONLY);

	memset(target_buf, 'B', sizeof(target_buf));
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGHUP, on_signal);
	signal(SIGUSR1, on_signal);
	printf("target pid=%d addr=%p fd=%d\n", getpid(), (void *)target_buf, fd);
	fflush(stdout);
	if (getenv("BW_TARGET_UNTIL_EOF")) {
		char c;
		ssize_t n;

		while ((n = read(STDIN_FILENO, &c, 1)) != 0)
			if (n < 0 && errno != EINTR)
				break;
		exit(0);
	}
	for (;;)
		pause();
}

static int parse_signal(const char *s)
{
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < 65; sig++) {
		const char *name = sigabbrev_np(sig);

		if (name && strcasecmp(name, s) == 0)
			return sig;
	}
	return atoi(s);
}

static int ptrace_it(pid_t pid, bool seize)
{
	long rc = ptrace(seize ? PTRACE_SEIZE : PTRACE_ATTACH, pid, NULL, NULL);
	int err = errno;

	if (rc == 0) {
		if (seize) {
			ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
		}
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return report(rc, err);
}

static int proc_mem(pid_t pid, unsigned long addr, bool writing)
{
	char path[64], c = 'W';
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, writing ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return report_step(-1, errno, "open");
	n = writing ? pwrite(fd, &c, 1, (off_t)addr) : pread(fd, &c, 1, (off_t)addr);
	if (n != 1)
		return report_step(-1, n < 0 ? errno : EIO, "io");
	printf("pid=%d parent=%d rc=0 errno=0 byte=%c\n", getpid(), getppid(), c);
	return 0;
}

/*
 * The openat2 race: one thread opens /proc/PID/mem with open_how.flags
 * while another flips those flags between O_RDWR and O_RDONLY. A
 * decision that re-reads open_how from user memory after the kernel
 * copied it can see O_RDONLY for an open the kernel does as O_RDWR.
 * "escaped" counts opens that came back read-write.
 */
struct open_how_v0 {
	uint64_t flags, mode, resolve;
};

static volatile struct open_how_v0 race_how;
static volatile bool race_stop;

static void *flip_flags(void *arg)
{
	(void)arg;
	while (!race_stop)
		race_how.flags = race_how.flags == O_RDWR ? O_RDONLY : O_RDWR;
	return NULL;
}

static int mem_race(pid_t pid, int tries)
{
	int escaped = 0, denied = 0, readonly = 0, last_err = 0;
	pthread_t flipper;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	race_how.flags = O_RDWR;
	if (pthread_create(&flipper, NULL, flip_flags, NULL))
		return report_step(-1, EAGAIN, "thread");
	for (int i = 0; i < tries; i++) {
		int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, (void *)&race_how,
				      sizeof(race_how));

		if (fd < 0) {
			denied++;
			last_err = errno;
			continue;
		}
		if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR)
			escaped++;
		else
			readonly++;
		close(fd);
	}
	race_stop = true;
	pthread_join(flipper, NULL);
	printf("pid=%d parent=%d rc=0 errno=%s escaped=%d denied=%d readonly=%d\n", getpid(),
	       getppid(), errno_name(last_err), escaped, denied, readonly);
	return 0;
}

/* Write VALUE to PATH, as `echo VALUE > PATH` would: open, then write. */
static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return report_step(-1, errno, "open");
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return report_step(-1, errno, "write");
	return report(0, 0);
}

static int vm_rw(pid_t pid, unsigned long addr, bool writing)
{
	char c = 'V';
	struct iovec local = { &c, 1 }, remote = { (void *)addr, 1 };
	ssize_t n = writing ? process_vm_writev(pid, &local, 1, &remote, 1, 0) :
			      process_vm_readv(pid, &local, 1, &remote, 1, 0);

	return report(n, errno);
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int get_fd(pid_t pid, int fd)
{
	int pidfd = pidfd_of(pid);

	if (pidfd < 0)
		return report_step(-1, errno, "pidfd_open");
	long rc = syscall(SYS_pidfd_getfd, pidfd, fd, 0);

	return report(rc, errno);
}

static int send_signal(const char *how, pid_t pid, pid_t tid, int sig)
{
	long rc;

	if (strcmp(how, "kill") == 0) {
		rc = kill(pid, sig);
	} else if (strcmp(how, "tgkill") == 0) {
		rc = syscall(SYS_tgkill, pid, tid, sig);
	} else if (strcmp(how, "pidfd-signal") == 0) {
		int pidfd = pidfd_of(pid);

		if (pidfd < 0)
			return report_step(-1, errno, "pidfd_open");
		rc = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
	} else {
		siginfo_t si = { 0 };

		si.si_signo = sig;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		rc = syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
	}
	return report(rc, errno);
}

static int sigio(pid_t pid, int sig)
{
	int p[2], rc;

	if (pipe(p) < 0)
		return report_step(-1, errno, "pipe");
	if (fcntl(p[0], F_SETOWN, pid) < 0)
		return report_step(-1, errno, "setown");
	if (fcntl(p[0], F_SETSIG, sig) < 0)
		return report_step(-1, errno, "setsig");
	if (fcntl(p[0], F_SETFL, O_ASYNC) < 0)
		return report_step(-1, errno, "async");
	rc = write(p[1], "x", 1) == 1 ? 0 : -1;
	return report(rc, errno); /* errno read after the call: argument order is unspecified */
}

/* Swap /proc/self/exe for PATH (the kernel itself refuses while ours is mapped: EBUSY). */
static int set_exe(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long rc;

	if (fd < 0)
		return report_step(-1, errno, "open");
	rc = prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0);
	return report(rc, errno);
}

struct sched_attr_v0 {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

static int control(const char *how, pid_t pid, int n)
{
	long rc;

	if (strcmp(how, "setpriority") == 0) {
		rc = setpriority(PRIO_PROCESS, pid, n);
	} else if (strcmp(how, "sched") == 0) {
		struct sched_param sp = { 0 };

		rc = sched_setscheduler(pid, SCHED_OTHER, &sp);
	} else if (strcmp(how, "sched-attr") == 0) {
		struct sched_attr_v0 attr = { .size = sizeof(attr), .sched_policy = SCHED_OTHER };

		rc = syscall(SYS_sched_setattr, pid, &attr, 0);
	} else if (strcmp(how, "prlimit") == 0) {
		struct rlimit cur;

		if (prlimit(pid, RLIMIT_NOFILE, NULL, &cur) < 0)
			return report_step(-1, errno, "get");
		rc = prlimit(pid, RLIMIT_NOFILE, &cur, NULL);
	} else { /* ioprio: class best-effort (2), level 4 */
		rc = syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, pid, (2 << 13) | 4);
	}
	return report(rc, errno);
}

/*
 * Both reach security_task_movememory() once the pid resolves and passes
 * ptrace_may_access(): move_pages for any count, even a query (nodes NULL),
 * in find_mm_struct(); migrate_pages after the node masks check out.
 */
static int move_mem(const char *how, pid_t pid, const char *addr)
{
	long rc;

	if (strcmp(how, "move-pages") == 0) {
		void *page = (void *)(addr ? strtoul(addr, NULL, 16) & ~(unsigned long)(getpagesize() - 1) : 0);
		int status = 0;

		rc = syscall(SYS_move_pages, pid, addr ? 1 : 0, &page, NULL, &status, 0);
		if (rc == 0 && addr) {
			printf("pid=%d parent=%d rc=0 errno=0 status=%d\n", getpid(), getppid(), status);
			return 0;
		}
	} else {
		unsigned long node0 = 1;

		rc = syscall(SYS_migrate_pages, pid, 64, &node0, &node0);
	}
	return report(rc, errno);
}

static volatile bool spin_stop;

static void *spin(void *arg)
{
	volatile unsigned long *counter = arg;

	while (!spin_stop)
		(*counter)++;
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Process creation, each way; the child does nothing and exits 0. */
static int create(const char *how, char **argv)
{
	pid_t pid;
	int err;

	if (strcmp(how, "thread") == 0) {
		pthread_t t;

		err = pthread_create(&t, NULL, nothing, NULL);
		if (err == 0)
			pthread_join(t, NULL);
		return report(err ? -1 : 0, err);
	}
	if (strcmp(how, "spawn") == 0) {
		err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
		if (err == 0)
			waitpid(pid, NULL, 0);
		return report(err ? -1 : 0, err);
	}
	if (strcmp(how, "fork") == 0)
		pid = fork();
	else if (strcmp(how, "vfork") == 0)
		pid = vfork();
	else
		pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		_exit(0);
	err = errno;
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return report(pid, err);
}

/* A thread that runs before and after a refused fork. */
static int threads_then_fork(void)
{
	volatile unsigned long counter = 0;
	unsigned long before;
	pthread_t t;
	pid_t pid;
	int err;

	if ((err = pthread_create(&t, NULL, spin, (void *)&counter)) != 0)
		return report_step(-1, err, "thread");
	pid = fork();
	if (pid == 0)
		_exit(0);
	err = errno;
	if (pid > 0)
		waitpid(pid, NULL, 0);
	before = counter;
	usleep(100000);
	printf("pid=%d parent=%d rc=%d errno=%s thread=%s\n", getpid(), getppid(), pid < 0 ? -1 : 0,
	       errno_name(pid < 0 ? err : 0), counter != before ? "alive" : "dead");
	spin_stop = true;
	pthread_join(t, NULL);
	return pid < 0;
}

static void *report_tid(void *arg)
{
	*(pid_t *)arg = gettid();
	return NULL;
}

/*
 * parent -> A -> B, B execs /bin/true, A exits 3; the parent also runs one
 * thread. Pids travel back through a pipe.
 */
static int tree(void)
{
	int pfd[2], status;
	pid_t a, b = 0, tid = 0;
	pthread_t t;

	if (pipe(pfd) < 0)
		return perror("pipe"), 2;
	a = fork();
	if (a < 0)
		return perror("fork"), 2;
	if (a == 0) {
		pid_t bb = fork();

		if (bb == 0) {
			execl("/bin/true", "/bin/true", (char *)NULL);
			_exit(127);
		}
		if (bb < 0 || write(pfd[1], &bb, sizeof(bb)) != sizeof(bb))
			_exit(2);
		/* 3 only when B ran /bin/true and it exited 0 */
		_exit(waitpid(bb, &status, 0) == bb && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 3 : 4);
	}
	close(pfd[1]);
	if (read(pfd[0], &b, sizeof(b)) != sizeof(b))
		return perror("read"), 2;
	waitpid(a, &status, 0);
	if (pthread_create(&t, NULL, report_tid, &tid) != 0)
		return perror("pthread_create"), 2;
	pthread_join(t, NULL);
	printf("tree parent=%d child=%d grandchild=%d thread=%d\n", getpid(), a, b, tid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 3 && tid > 0 ? 0 : 1;
}

/* The whole file, for init_module (which takes the image from memory). */
static void *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		return perror(path), exit(2), NULL;
	buf = malloc(st.st_size + 1);
	*len = (size_t)read(fd, buf, st.st_size);
	close(fd);
	return buf;
}

static int kernel_load(const char *how, const char *path, const char *initrd)
{
	long rc;

	if (strcmp(how, "init-module") == 0) {
		size_t len;
		void *buf = slurp(path, &len);

		rc = syscall(SYS_init_module, buf, len, "");
	} else {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return perror(path), 2;
		if (strcmp(how, "finit-module") == 0) {
			rc = syscall(SYS_finit_module, fd, "", 0);
		} else {
			/* cmdline "" (its length counts the NUL); flag 4: KEXEC_FILE_NO_INITRAMFS */
			int ifd = initrd ? open(initrd, O_RDONLY | O_CLOEXEC) : -1;

			if (initrd && ifd < 0)
				return perror(initrd), 2;
			rc = syscall(SYS_kexec_file_load, fd, ifd, 1UL, "", initrd ? 0UL : 4UL);
			if (rc == 0) {
				int err = errno;

				syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 1UL); /* KEXEC_FILE_UNLOAD */
				errno = err;
			}
		}
	}
	return report(rc, errno);
}

static long bpf_cmd(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int bpf_try(bool load)
{
	/* r0 = 0; exit */
	struct bpf_insn insns[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 },
				     { .code = BPF_JMP | BPF_EXIT } };
	union bpf_attr attr = { 0 };
	long fd;

	if (load) {
		attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
		attr.insns = (uintptr_t)insns;
		attr.insn_cnt = 2;
		attr.license = (uintptr_t)"GPL";
		fd = bpf_cmd(BPF_PROG_LOAD, &attr);
	} else {
		attr.map_type = BPF_MAP_TYPE_ARRAY;
		attr.key_size = 4;
		attr.value_size = 4;
		attr.max_entries = 1;
		fd = bpf_cmd(BPF_MAP_CREATE, &attr);
	}
	return report(fd, errno);
}

/* Anonymous (fd -1) or private file memory, mapped with prot, then mprotect'ed. */
static int map_then_protect(int fd, int prot, bool write_first, int then)
{
	char *p = mmap(NULL, 4096, prot, fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_PRIVATE, fd, 0);
	int rc;

	if (p == MAP_FAILED)
		return report_step(-1, errno, "mmap");
	if (write_first)
		p[0] = (char)0xc3; /* ret */
	if (!then)
		return report(0, 0);
	rc = mprotect(p, 4096, then);
	return report_step(rc, errno, "mprotect");
}

/* A copy of this program in a memfd (not close-on-exec: /proc/self/fd/N execs it). */
static int memfd_copy(void)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), fd = memfd_create("bwtry", 0);
	char buf[65536];
	ssize_t n;

	if (in < 0 || fd < 0)
		return perror("memfd"), exit(2), -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return perror("memfd write"), exit(2), -1;
	close(in);
	return fd;
}

/* Exec /proc/self/fd/FD with `noop`: the file is judged, not a path. */
static int exec_fd(int fd)
{
	char path[64], *argv[] = { path, "noop", NULL };

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return try_exec(argv);
}

static int deleted_exec(const char *dir)
{
	char path[4096], cmd[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/bwtry-deleted.%d", dir, getpid());
	snprintf(cmd, sizeof(cmd), "cp /proc/%d/exe %s", getpid(), path);
	if (system(cmd) != 0 || (fd = open(path, O_RDONLY)) < 0)
		return perror(path), 2;
	unlink(path);
	return exec_fd(fd);
}

/* PTRACE_TRACEME, then exec: the parent would trace the new program from its first instruction. */
static int traceme_exec(const char *path)
{
	int pipefd[2], err = 0, status;
	pid_t child;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return perror("pipe"), 2;
	child = fork();
	if (child < 0)
		return perror("fork"), 2;
	if (child == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			err = errno;
		else
			execl(path, path, "noop", (char *)NULL);
		err = err ? err : errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(3);
		_exit(1);
	}
	close(pipefd[1]);
	/* A successful exec closes the pipe (CLOEXEC) and stops the child with SIGTRAP. */
	if (read(pipefd[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	printf("pid=%d parent=%d rc=%d errno=%s\n", child, getpid(), err ? -1 : 0, errno_name(err));
	return err != 0;
}


/*
 * bwtry handle-write MOUNTDIR PATH VALUE: name PATH by a file handle, drop
 * the dentry cache, then open the handle for writing (open_by_handle_at,
 * relative to MOUNTDIR, PATH's filesystem) and append VALUE. On a disk
 * filesystem the dentry comes back disconnected: no parent above it.
 */
static int handle_write(const char *mountdir, const char *path, const char *value)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	int mount_id, mfd, fd, dc;
	ssize_t n;

	if (!fh)
		return 2;
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0) < 0)
		return report_step(-1, errno, "name_to_handle_at");
	sync();
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (dc < 0 || write(dc, "2", 1) != 1)
		return report_step(-1, errno, "drop_caches");
	close(dc);
	mfd = open(mountdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return report_step(-1, errno, "open-mountdir");
	fd = open_by_handle_at(mfd, fh, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return report_step(-1, errno, "open_by_handle_at");
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return report_step(-1, errno, "write");
	return report(0, 0);
}

/* ---- attacks with root's own BPF programs (tests/redteam/t_attack.sh) ---- */

#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i) I(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define RSH64_IMM(d, i) I(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define ST_MEM(sz, d, o, i) I(BPF_ST | BPF_MEM | (sz), d, 0, o, i)
#define JNE_IMM(d, i, o) I(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_IMM(d, i, o) I(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define CALL(f) I(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LD_MAP_FD(d, fd) I(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd), I(0, 0, 0, 0, 0)
#define LD_IMM64(d, v) I(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, (__u32)(v)), I(0, 0, 0, 0, (__u32)((__u64)(v) >> 32))

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static char bpf_log[65536];

static int prog_load(__u32 type, const struct bpf_insn *insns, size_t n)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = n;
	a.license = (__u64)(unsigned long)"GPL";
	a.log_buf = (__u64)(unsigned long)bpf_log;
	a.log_size = sizeof(bpf_log);
	a.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		fprintf(stderr, "verifier: %.2000s\n", bpf_log);
	return fd;
}

/* A pinned map, read-only: what bulwark's bpf_map hook lets anyone have. */
static int map_get_rdonly(const char *pin, struct bpf_map_info *info)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.pathname = (__u64)(unsigned long)pin;
	a.file_flags = BPF_F_RDONLY;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0)
		return fd;
	memset(info, 0, sizeof(*info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info = (__u64)(unsigned long)info;
	a.info.info_len = sizeof(*info);
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return -1;
	return fd;
}

static long prog_test_run(int prog, __u32 repeat, __u32 *retval)
{
	static char data[64];
	union bpf_attr a;
	long rc;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = prog;
	a.test.data_in = (__u64)(unsigned long)data;
	a.test.data_size_in = sizeof(data);
	a.test.repeat = repeat;
	rc = sys_bpf(BPF_PROG_TEST_RUN, &a);
	if (retval)
		*retval = a.test.retval;
	return rc;
}

/*
 * bwtry bpf-ro-clear PIN KEY: open the map PIN read-only, then have a
 * program of our own (a socket filter, run by BPF_PROG_TEST_RUN) write it
 * through that fd: a hash map loses KEY, an array map's KEY is zeroed.
 * Prints " result=N": the helper's return (0 = done).
 */
static int bpf_ro_clear(const char *pin, const char *key_s)
{
	struct bpf_insn p[600];
	struct bpf_map_info info;
	int mfd, pfd, n = 0;
	__u32 key = strtoul(key_s, NULL, 0), ret = 0;

	mfd = map_get_rdonly(pin, &info);
	if (mfd < 0)
		return report_step(-1, errno, "obj-get-rdonly");
	p[n++] = ST_MEM(BPF_W, BPF_REG_10, -4, key);
	struct bpf_insn ld[] = { LD_MAP_FD(BPF_REG_1, mfd) };
	p[n++] = ld[0];
	p[n++] = ld[1];
	p[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
	p[n++] = ADD64_IMM(BPF_REG_2, -4);
	if (info.type == BPF_MAP_TYPE_ARRAY) {
		p[n++] = CALL(BPF_FUNC_map_lookup_elem);
		p[n++] = JNE_IMM(BPF_REG_0, 0, 2);
		p[n++] = MOV64_IMM(BPF_REG_0, 2);
		p[n++] = EXIT();
		for (__u32 off = 0; off + 8 <= info.value_size && n < 590; off += 8)
			p[n++] = ST_MEM(BPF_DW, BPF_REG_0, off, 0);
		p[n++] = MOV64_IMM(BPF_REG_0, 0);
	} else {
		p[n++] = CALL(BPF_FUNC_map_delete_elem);
	}
	p[n++] = EXIT();
	pfd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, p, n);
	if (pfd < 0)
		return report_step(-1, errno, "prog-load");
	if (prog_test_run(pfd, 1, &ret) < 0)
		return report_step(-1, errno, "test-run");
	printf("pid=%d parent=%d rc=%d errno=0 map=%s type=%u result=%d\n", getpid(), getppid(),
	       (int)ret ? -1 : 0, info.name, info.type, (int)ret);
	return ret != 0;
}

/*
 * bwtry bpf-ro-flood PIN SECS: fill bulwark's ring buffer (PIN, opened
 * read-only) with junk records from our own program for SECS seconds.
 */
static int bpf_ro_flood(const char *pin, const char *secs_s)
{
	struct bpf_insn p[128];
	struct bpf_map_info info;
	int mfd, pfd, n = 0, secs = atoi(secs_s);
	long runs = 0;
	time_t end;

	mfd = map_get_rdonly(pin, &info);
	if (mfd < 0)
		return report_step(-1, errno, "obj-get-rdonly");
	for (int off = -256; off < 0; off += 8)
		p[n++] = ST_MEM(BPF_DW, BPF_REG_10, off, 0x41414141);
	for (int i = 0; i < 8; i++) {
		struct bpf_insn ld[] = { LD_MAP_FD(BPF_REG_1, mfd) };
		p[n++] = ld[0];
		p[n++] = ld[1];
		p[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
		p[n++] = ADD64_IMM(BPF_REG_2, -256);
		p[n++] = MOV64_IMM(BPF_REG_3, 256);
		p[n++] = MOV64_IMM(BPF_REG_4, 0);
		p[n++] = CALL(BPF_FUNC_ringbuf_output);
	}
	p[n++] = MOV64_IMM(BPF_REG_0, 0);
	p[n++] = EXIT();
	pfd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, p, n);
	if (pfd < 0)
		return report_step(-1, errno, "prog-load");
	end = time(NULL) + secs;
	while (time(NULL) < end) {
		if (prog_test_run(pfd, 1000, NULL) < 0)
			return report_step(-1, errno, "test-run");
		runs++;
	}
	printf("pid=%d parent=%d rc=0 errno=0 map=%s runs=%ld\n", getpid(), getppid(), info.name, runs);
	return 0;
}

static bool proc_gone(pid_t pid)
{
	char path[64], buf[512], *s;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	s = fgets(buf, sizeof(buf), f);
	fclose(f);
	s = s ? strrchr(buf, ')') : NULL;
	return s && (s[2] == 'Z' || s[2] == 'X');
}

/*
 * bwtry bpf-in-proc TGID SECS kill SIG | write ADDR BYTE: a raw tracepoint
 * program on sys_enter that, in the context of TGID (the moment it makes
 * any system call), sends itself SIG with bpf_send_signal, or writes BYTE
 * at ADDR in its memory with bpf_probe_write_user. Runs SECS seconds;
 * for kill, reports " died=yes|no".
 */
static int bpf_in_proc(int argc, char **argv)
{
	pid_t tgid = atoi(argv[2]);
	int secs = atoi(argv[3]), n = 0, pfd;
	bool kill_it = strcmp(argv[4], "kill") == 0;
	struct bpf_insn p[64];
	union bpf_attr a;
	time_t end;
	bool died = false;

	p[n++] = CALL(BPF_FUNC_get_current_pid_tgid);
	p[n++] = RSH64_IMM(BPF_REG_0, 32);
	p[n++] = JNE_IMM(BPF_REG_0, tgid, kill_it ? 2 : 7);
	if (kill_it) {
		p[n++] = MOV64_IMM(BPF_REG_1, atoi(argv[5]));
		p[n++] = CALL(BPF_FUNC_send_signal);
	} else {
		struct bpf_insn ld[] = { LD_IMM64(BPF_REG_1, strtoull(argv[5], NULL, 0)) };

		p[n++] = ST_MEM(BPF_DW, BPF_REG_10, -8, strtoul(argv[6], NULL, 0));
		p[n++] = ld[0];
		p[n++] = ld[1];
		p[n++] = MOV64_REG(BPF_REG_2, BPF_REG_10);
		p[n++] = ADD64_IMM(BPF_REG_2, -8);
		p[n++] = MOV64_IMM(BPF_REG_3, 1);
		p[n++] = CALL(BPF_FUNC_probe_write_user);
	}
	p[n++] = MOV64_IMM(BPF_REG_0, 0);
	p[n++] = EXIT();
	pfd = prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, p, n);
	if (pfd < 0)
		return report_step(-1, errno, "prog-load");
	memset(&a, 0, sizeof(a));
	a.raw_tracepoint.name = (__u64)(unsigned long)"sys_enter";
	a.raw_tracepoint.prog_fd = pfd;
	if (sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &a) < 0)
		return report_step(-1, errno, "attach");
	end = time(NULL) + secs;
	while (time(NULL) < end && !(kill_it && (died = proc_gone(tgid))))
		usleep(100000);
	printf("pid=%d parent=%d rc=0 errno=0 died=%s\n", getpid(), getppid(), died ? "yes" : "no");
	return 0;
}

/* bwtry tiocsti TTY CODE: push the byte CODE into TTY's input, as if typed (^C = 3, ^Z = 26). */
static int tiocsti(const char *tty, const char *code)
{
	char c = (char)strtol(code, NULL, 0);
	int fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return report_step(-1, errno, "open");
	return report(ioctl(fd, TIOCSTI, &c), errno);
}

/*
 * bwtry target-busy: as target, but awake: a system call every 100 ms, as
 * any working agent makes; prints "buf C" when target_buf[0] changes.
 */
static __attribute__((noreturn)) int be_busy_target(long mb)
{
	int fd = open("/dev/null", O_RDONLY);
	char last = 'B';

	if (mb > 0) {
		char *big = malloc(mb << 20);

		for (long i = 0; big && i < mb << 20; i += 4096)
			big[i] = 1;
	}

	memset(target_buf, 'B', sizeof(target_buf));
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGHUP, on_signal);
	signal(SIGUSR1, on_signal);
	printf("target pid=%d addr=%p fd=%d\n", getpid(), (void *)target_buf, fd);
	for (;;) {
		usleep(100000);
		if (*(volatile char *)target_buf != last) {
			last = target_buf[0];
			printf("buf %c\n", last);
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "bpf-ro-clear") == 0)
		return bpf_ro_clear(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "bpf-ro-flood") == 0)
		return bpf_ro_flood(argv[2], argv[3]);
	if ((argc == 6 && strcmp(argv[4], "kill") == 0) || (argc == 7 && strcmp(argv[4], "write") == 0))
		if (strcmp(argv[1], "bpf-in-proc") == 0)
			return bpf_in_proc(argc, argv);
	if (argc == 5 && strcmp(argv[1], "handle-write") == 0)
		return handle_write(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "tiocsti") == 0)
		return tiocsti(argv[2], argv[3]);
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "target-busy") == 0)
		return be_busy_target(argc == 3 ? atol(argv[2]) : 0);

	if (argc == 3 && strcmp(argv[1], "traceme") == 0)
		return traceme_exec(argv[2]);
	/* The call first, then errno: argument evaluation order is unspecified. */
	if (argc == 4 && strcmp(argv[1], "mount-bind") == 0) {
		long rc = mount(argv[2], argv[3], NULL, MS_BIND, NULL);

		return report(rc, errno);
	}
	if (argc == 4 && strcmp(argv[1], "mount-fs") == 0) {
		long rc = mount(argv[2], argv[3], argv[2], 0, NULL);

		return report(rc, errno);
	}
	if (argc == 5 && strcmp(argv[1], "signal-storm") == 0) {
		long n = atol(argv[4]), denied = 0;

		for (long i = 0; i < n; i++)
			if (kill(atoi(argv[2]), atoi(argv[3])) < 0 && errno == EPERM)
				denied++;
		printf("pid=%d denied=%ld\n", getpid(), denied);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "truncate") == 0) {
		long rc = truncate(argv[2], 0);

		return report(rc, errno);
	}
	if (argc == 3 && strcmp(argv[1], "umount") == 0) {
		long rc = umount2(argv[2], 0);

		return report(rc, errno);
	}
	if (argc >= 3 && strcmp(argv[1], "exec") == 0)
		return try_exec(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "execveat") == 0)
		return try_exec_how(argv + 2, 1);
	if (argc >= 3 && strcmp(argv[1], "fexecve") == 0)
		return try_exec_how(argv + 2, 2);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run_in_place(argv + 2);
	if (argc == 3 && strcmp(argv[1], "mmap") == 0)
		return try_map(argv[2], false);
	if (argc == 3 && strcmp(argv[1], "mprotect") == 0)
		return try_map(argv[2], true);
	if (argc == 3 && strcmp(argv[1], "dlopen") == 0)
		return try_dlopen(argv[2]);
	if (argc == 3 && strcmp(argv[1], "anon-exec") == 0) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		return report(p == MAP_FAILED ? -1 : 0, errno);
	}
	if (argc == 2 && strcmp(argv[1], "noop") == 0)
		return 0;
	if (argc == 2 && strcmp(argv[1], "wx-anon") == 0)
		return map_then_protect(-1, PROT_READ | PROT_WRITE | PROT_EXEC, false, 0);
	if (argc == 3 && (strcmp(argv[1], "wx-file") == 0 || strcmp(argv[1], "textrel") == 0)) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return perror(argv[2]), 2;
		if (argv[1][0] == 'w')
			return map_then_protect(fd, PROT_READ | PROT_WRITE | PROT_EXEC, false, 0);
		return map_then_protect(fd, PROT_READ | PROT_WRITE, true, PROT_READ | PROT_EXEC);
	}
	if (argc == 2 && strcmp(argv[1], "mprotect-wx") == 0)
		return map_then_protect(-1, PROT_READ | PROT_WRITE, false, PROT_READ | PROT_WRITE | PROT_EXEC);
	if (argc == 2 && strcmp(argv[1], "mprotect-anon-x") == 0)
		return map_then_protect(-1, PROT_READ | PROT_WRITE, true, PROT_READ | PROT_EXEC);
	if (argc == 2 && strcmp(argv[1], "memfd-exec") == 0)
		return exec_fd(memfd_copy());
	if (argc == 2 && strcmp(argv[1], "memfd-map") == 0)
		return map_then_protect(memfd_copy(), PROT_READ | PROT_EXEC, false, 0);
	if (argc == 2 && (strncmp(argv[1], "shm-exec", 8) == 0 || strcmp(argv[1], "shm-rw") == 0)) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), err;
		int flags = strcmp(argv[1], "shm-rw") == 0 ? 0 : SHM_EXEC | (argv[1][8] ? SHM_RDONLY : 0);
		void *p;

		if (id < 0)
			return report_step(-1, errno, "shmget");
		p = shmat(id, NULL, flags);
		err = errno;
		shmctl(id, IPC_RMID, NULL);
		return report_step(p == (void *)-1 ? -1 : 0, err, "shmat");
	}
	if (argc == 3 && strcmp(argv[1], "deleted-exec") == 0)
		return deleted_exec(argv[2]);
	if (argc == 2 && strcmp(argv[1], "target") == 0)
		return be_target();
	if (argc == 3 && (strcmp(argv[1], "attach") == 0 || strcmp(argv[1], "seize") == 0))
		return ptrace_it(atoi(argv[2]), argv[1][0] == 's');
	if (argc == 4 && strncmp(argv[1], "mem-", 4) == 0)
		return proc_mem(atoi(argv[2]), strtoul(argv[3], NULL, 16), argv[1][4] == 'w');
	if (argc == 4 && strncmp(argv[1], "vm-", 3) == 0)
		return vm_rw(atoi(argv[2]), strtoul(argv[3], NULL, 16), argv[1][3] == 'w');
	if (argc == 4 && strcmp(argv[1], "getfd") == 0)
		return get_fd(atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && (strcmp(argv[1], "kill") == 0 || strcmp(argv[1], "pidfd-signal") == 0 ||
			  strcmp(argv[1], "sigqueue") == 0))
		return send_signal(argv[1], atoi(argv[2]), 0, parse_signal(argv[3]));
	if (argc == 3 && strcmp(argv[1], "set-exe") == 0)
		return set_exe(argv[2]);
	if (argc == 4 && strcmp(argv[1], "sigio") == 0)
		return sigio(atoi(argv[2]), parse_signal(argv[3]));
	if (argc == 5 && strcmp(argv[1], "tgkill") == 0)
		return send_signal(argv[1], atoi(argv[2]), atoi(argv[3]), parse_signal(argv[4]));
	if (argc >= 3 && (strcmp(argv[1], "setpriority") == 0 || strcmp(argv[1], "sched") == 0 ||
			  strcmp(argv[1], "sched-attr") == 0 || strcmp(argv[1], "prlimit") == 0 ||
			  strcmp(argv[1], "ioprio") == 0))
		return control(argv[1], atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 0);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "move-pages") == 0)
		return move_mem(argv[1], atoi(argv[2]), argc == 4 ? argv[3] : NULL);
	if (argc == 3 && strcmp(argv[1], "migrate-pages") == 0)
		return move_mem(argv[1], atoi(argv[2]), NULL);
	if (argc == 2 && (strcmp(argv[1], "fork") == 0 || strcmp(argv[1], "vfork") == 0 ||
			  strcmp(argv[1], "clone") == 0 || strcmp(argv[1], "thread") == 0))
		return create(argv[1], NULL);
	if (argc >= 3 && strcmp(argv[1], "spawn") == 0)
		return create(argv[1], argv + 2);
	if (argc == 2 && strcmp(argv[1], "threads-then-fork") == 0)
		return threads_then_fork();
	if (argc == 3 && (strcmp(argv[1], "finit-module") == 0 || strcmp(argv[1], "init-module") == 0))
		return kernel_load(argv[1], argv[2], NULL);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "kexec-file") == 0)
		return kernel_load(argv[1], argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 2 && strcmp(argv[1], "kexec-load") == 0) {
		long rc = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL);

		return report(rc, errno);
	}
	if (argc == 2 && strcmp(argv[1], "ioperm") == 0) {
		int rc = ioperm(0x80, 1, 1), err = errno;

		if (rc == 0)
			ioperm(0x80, 1, 0);
		return report(rc, err);
	}
	if (argc == 2 && strcmp(argv[1], "kcore") == 0) {
		int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);

		return report(fd, errno);
	}
	if (argc == 2 && (strcmp(argv[1], "bpf-load") == 0 || strcmp(argv[1], "bpf-map") == 0))
		return bpf_try(argv[1][4] == 'l');
	if (argc == 2 && strcmp(argv[1], "tree") == 0)
		return tree();
	if (argc == 4 && strcmp(argv[1], "race-mem") == 0)
		return mem_race(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "socket-family") == 0) {
		/* A family with no module loaded makes the kernel request one. */
		int fd = socket(atoi(argv[2]), SOCK_DGRAM, 0);

		return report(fd, errno);
	}
	if (argc == 4 && strcmp(argv[1], "write-file") == 0)
		return write_file(argv[2], argv[3]);
	if (argc == 2 && strcmp(argv[1], "crash") == 0) {
		/* Dump core through the kernel's core_pattern: the default SIGSEGV. */
		signal(SIGSEGV, SIG_DFL);
		printf("pid=%d parent=%d rc=0 errno=0 crashing\n", getpid(), getppid());
		fflush(stdout);
		raise(SIGSEGV);
		return 3;
	}
	fprintf(stderr, "usage: bwtry exec|run PATH [ARG...] | mmap PATH | mprotect PATH | target |\n"
			"       attach|seize PID | mem-read|mem-write|vm-read|vm-write PID ADDR |\n"
			"       getfd PID FD | kill|pidfd-signal|sigqueue|sigio PID SIG | tgkill PID TID SIG |\n"
			"       setpriority PID N | sched|sched-attr|prlimit|ioprio PID |\n"
			"       move-pages PID [ADDR] | migrate-pages PID |\n"
			"       fork|vfork|clone|thread | spawn PATH [ARG...] | threads-then-fork | tree | set-exe PATH\n");
	return 2;
}
