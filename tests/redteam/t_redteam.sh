#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Red team (issue "Self-protection"): root attacks a protected bulwarkd and
# a protected dummy agent. Every attack runs twice:
#  - under an open policy (no `protect`): it must succeed, so a broken
#    attack cannot pass as a blocked one;
#  - under `protect self` and `protect AGENT level=antimalware`: it must
#    fail with the exact errno, and the daemon must report a deny by the
#    `protect` gate.
# Next to each deny, the same act on an unprotected process or file must
# still work. Afterwards the daemon still runs, with the same policy hash
# and generation.
#
# Protection is on until the signed unload at the end; run-suite runs the
# red-team files after every other one.
source "$(dirname "$0")/../vm/lib.sh" || exit 1
setup fresh # (lib.sh: loads the programs itself, nothing kept)

T=$WORK/rt
PIN=/sys/fs/bpf/bulwark
mkdir -p "$T/agent" "$T/conf" "$T/bin" "$T/other" "$T/nothing" "$T/mnt" "$T/bpf2"
cp "$BWTRY" "$T/nothing/x"
cp "$BWTRY" "$T/agent/agent"
cp "$BWTRY" "$T/plain"
# The daemon runs from a copy: replacing it must fail, and must never touch the build.
cp "$BULWARKD" "$T/bin/bulwarkd"
BULWARKD=$T/bin/bulwarkd
echo decoy >"$T/bin/evil"

OPEN_POLICY=$WORK/open.policy
PROT_POLICY=$WORK/protect.policy
cat >"$OPEN_POLICY" <<EOF
deny exec $T/nothing/**
EOF
cat >"$PROT_POLICY" <<EOF
deny exec $T/nothing/**
protect self
protect $T/agent/** level=antimalware
protect $T/conf/** level=vendor
EOF

# The trust database in a directory of its own: `protect self` guards that
# directory whole (decision 79), so it must not be $WORK, which the tests write.
TDB=$WORK/tdb
export BULWARK_TRUST_DB=$TDB/trust.db

reset_conf() { rm -rf "$T/conf" && mkdir -p "$T/conf" && echo original >"$T/conf/settings"; }
ino() { stat -c %i "$1"; }

AGENT=
AGENT_ADDR=
AGENT_FD=
# spawn_agent: start the dummy agent (a bwtry target) from its protected directory.
spawn_agent() {
	local out=$WORK/agent.out i
	[[ -n $AGENT ]] && kill -9 "$AGENT" 2>/dev/null
	: >"$out"
	"$T/agent/agent" target >"$out" 2>&1 &
	AGENT=$!
	for ((i = 0; i < 50; i++)); do
		grep -q '^target' "$out" && break
		sleep 0.1
	done
	AGENT_ADDR=$(sed -n 's/.*addr=\(0x[0-9a-f]*\).*/\1/p' "$out")
	AGENT_FD=$(sed -n 's/.* fd=\([0-9]*\).*/\1/p' "$out")
}
PLAIN=
spawn_plain() {
	"$T/plain" target >/dev/null 2>&1 &
	PLAIN=$!
	sleep 0.2
}

# protected_event NAME FILTER: a deny by the protect gate matching FILTER.
protected_event() {
	wait_event "$1" ".action == \"blocked\" and .rule.gate == \"protect\" and ($2)"
}

# cmd_result NAME WANT COMMAND...: WANT is ok, or EPERM (the command fails
# and says "Operation not permitted", strerror(EPERM)).
cmd_result() {
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [[ $want == ok && $rc -eq 0 ]]; then
		pass "$name: succeeds"
	elif [[ $want == EPERM && $rc -ne 0 && $out == *"Operation not permitted"* ]]; then
		pass "$name: EPERM"
	else
		fail "$name: wanted $want, got rc=$rc: $out"
		return 1
	fi
}

# process_attacks MODE: every act on the agent; MODE open (must work) or protected.
process_attacks() {
	local mode=$1 want=EPERM ops op
	[[ $mode == open ]] && want=0
	ops=("kill 9" "pidfd-signal 9" "sigqueue 9" "kill 19" "attach" "seize" "mem-read ADDR"
		"mem-write ADDR" "vm-read ADDR" "vm-write ADDR" "getfd FD" "setpriority 10" "prlimit"
		"sched" "ioprio")
	for op in "${ops[@]}"; do
		spawn_agent # first: the address and fd are the new agent's
		local args=${op/ADDR/$AGENT_ADDR}
		args=${args/FD/$AGENT_FD}
		local verb=${args%% *} rest=
		[[ $args == *" "* ]] && rest=${args#* }
		local errno=$want
		# a read-only /proc/PID/mem open is refused by ptrace_access_check, which the
		# kernel reports as EACCES (mm_access); a write-open already at file_open
		[[ $mode == protected && $verb == mem-read ]] && errno=EACCES
		# shellcheck disable=SC2086
		expect_try "$mode $verb" "$verb" "$errno" "$AGENT" $rest
		if [[ $mode == protected ]]; then
			protected_event "$mode $verb" ".target.pid == $AGENT"
			kill -0 "$AGENT" 2>/dev/null && pass "$mode $verb: agent alive" ||
				fail "$mode $verb: agent died"
		fi
	done
	spawn_agent
	expect_try "$mode tgkill STOP one thread" tgkill "$want" "$AGENT" "$AGENT" 19
	# SIGIO: make the agent own a pipe with F_SETSIG SIGKILL, then write to it (the
	# kernel sends the signal; the caller sees nothing either way)
	spawn_agent
	"$BWTRY" sigio "$AGENT" 9 >/dev/null 2>&1
	sleep 0.3
	if [[ $mode == open ]]; then
		kill -0 "$AGENT" 2>/dev/null && fail "$mode sigio: the agent should be dead" || pass "$mode sigio kills"
	else
		check "$mode sigio: the agent is alive" kill -0 "$AGENT"
		protected_event "$mode sigio" ".via == \"sigio\" and .target.pid == $AGENT"
	fi
	spawn_agent
	# oom_score_adj: the OOM killer's aim, through /proc (also the task/TID path)
	expect_try "$mode oom_score_adj" write-file "$want" "/proc/$AGENT/oom_score_adj" 1000
	[[ $mode == protected ]] && protected_event "$mode oom_score_adj" ".target.pid == $AGENT"
	expect_try "$mode task oom_score_adj" write-file "$want" "/proc/$AGENT/task/$AGENT/oom_score_adj" 1000
	# harmless signals stay allowed: the existence probe and SIGCONT
	expect_try "$mode kill 0 allowed" kill 0 "$AGENT" 0
	expect_try "$mode SIGCONT allowed" kill 0 "$AGENT" 18
	# PTRACE_TRACEME, then exec of the protected program
	expect_try "$mode traceme+exec" traceme "$want" "$T/agent/agent"
	[[ $mode == protected ]] && protected_event "$mode traceme+exec" ".op == \"exec\""
	# the loader's injection: the protected program must not run with LD_PRELOAD
	local out rc
	out=$(LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 "$T/agent/agent" noop 2>&1)
	rc=$?
	if [[ $mode == open ]]; then
		expect_eq "$mode LD_PRELOAD runs" 0 "$rc"
	else
		expect_eq "$mode LD_PRELOAD killed before it runs" 137 "$rc"
		protected_event "$mode LD_PRELOAD" ".op == \"exec\" and .via == \"execve\""
		out=$("$T/agent/agent" noop 2>&1)
		expect_eq "$mode agent without LD_PRELOAD runs" 0 "$?"
	fi
}

# file_attacks MODE: every change to a protected file or its tree.
file_attacks() {
	local mode=$1 want=EPERM f=$T/conf/settings n
	[[ $mode == open ]] && want=ok
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode write" "$want" sh -c "echo x >>$f"
	[[ $mode == protected ]] && protected_event "$mode write" ".op == \"protect\" and .target.ino == $n"
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode truncate -s 0" "$want" truncate -s 0 "$f" # opens for writing first
	[[ $mode == protected ]] && protected_event "$mode truncate -s 0" ".via == \"open\" and .target.ino == $n"
	reset_conf
	local errno=EPERM
	[[ $mode == open ]] && errno=0
	expect_try "$mode truncate(2) by path" truncate "$errno" "$f"
	[[ $mode == protected ]] && protected_event "$mode truncate(2)" ".process.pid == $TRY_PID and .via == \"setattr\" and .target.ino == $n"
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode chmod" "$want" chmod 777 "$f"
	[[ $mode == protected ]] && protected_event "$mode chmod" ".via == \"setattr\" and .target.ino == $n"
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode chown" "$want" chown 1:1 "$f"
	[[ $mode == protected ]] && protected_event "$mode chown" ".via == \"setattr\" and .target.ino == $n"
	reset_conf
	# utimensat by path (-c: no open for writing): only inode_setattr sees it
	n=$(ino "$f")
	local mtime
	mtime=$(stat -c %Y "$f")
	cmd_result "$mode utimensat (touch -c -d)" "$want" touch -c -d @86400 "$f"
	if [[ $mode == protected ]]; then
		protected_event "$mode utimensat" ".via == \"setattr\" and .target.ino == $n"
		expect_eq "$mode utimensat: mtime unchanged" "$mtime" "$(stat -c %Y "$f")"
	else
		expect_eq "$mode utimensat: mtime changed" 86400 "$(stat -c %Y "$f")"
	fi
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode unlink" "$want" rm -f "$f"
	[[ $mode == protected ]] && protected_event "$mode unlink" ".via == \"unlink\" and .target.ino == $n"
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode rename away" "$want" mv "$f" "$T/other/stolen"
	[[ $mode == protected ]] && protected_event "$mode rename away" ".via == \"rename\" and .target.ino == $n"
	reset_conf
	n=$(ino "$T/conf") # the name is replaced inside the protected tree: its directory refuses
	echo evil >"$T/other/evil"
	cmd_result "$mode rename over" "$want" mv -f "$T/other/evil" "$f"
	[[ $mode == protected ]] && protected_event "$mode rename over" ".via == \"rename\" and .target.ino == $n"
	reset_conf
	n=$(ino "$f")
	cmd_result "$mode hard link out" "$want" ln "$f" "$T/other/hl"
	[[ $mode == protected ]] && protected_event "$mode hard link out" ".via == \"create\" and .target.ino == $n"
	rm -f "$T/other/hl"
	reset_conf
	n=$(ino "$T/conf")
	cmd_result "$mode create in tree" "$want" touch "$T/conf/new"
	[[ $mode == protected ]] && protected_event "$mode create in tree" ".via == \"create\" and .target.ino == $n"
	reset_conf
	n=$(ino "$T/conf")
	cmd_result "$mode mkdir in tree" "$want" mkdir "$T/conf/d"
	[[ $mode == protected ]] && protected_event "$mode mkdir in tree" ".via == \"create\" and .target.ino == $n"
	reset_conf
	expect_try "$mode bind mount over" mount-bind "$errno" "$T/other" "$T/conf"
	umount "$T/conf" 2>/dev/null
	expect_try "$mode bind mount over a parent" mount-bind "$errno" "$T/other" "$T"
	umount "$T" 2>/dev/null
	TRY_OUT=$(unshare -m "$BWTRY" mount-bind "$T/other" "$T/conf" 2>&1)
	expect_eq "$mode unshare -m + bind mount" "errno=$errno" "$(grep -o 'errno=[A-Z0-9]*' <<<"$TRY_OUT")"
	[[ $mode == protected ]] && protected_event "$mode mount" ".via == \"mount\""
	# allow paths: an unprotected file and mountpoint
	echo x >"$T/other/free"
	cmd_result "$mode unprotected file write" ok sh -c "echo y >>$T/other/free"
	cmd_result "$mode unprotected rm" ok rm "$T/other/free"
	expect_try "$mode unprotected bind mount" mount-bind 0 "$T/other" "$T/mnt"
	umount "$T/mnt" 2>/dev/null
}

# trustdb_attacks MODE: root adding rows to the trust database, or SQLite
# files beside it (a -wal is read as part of the database), under its
# default name and through the CLI (decision 79).
trustdb_attacks() {
	local mode=$1 want=EPERM db=$BULWARK_TRUST_DB n dn out rc
	[[ $mode == open ]] && want=ok
	n=$(ino "$db")
	dn=$(ino "$TDB")
	out=$("$BULWARK" trust add "$T/plain" 2>&1)
	rc=$?
	if [[ $mode == open ]]; then
		check "open trust add by root: $out" test $rc -eq 0
	else
		if [[ $rc -eq 77 && $out == *"protect self"* ]]; then pass "protected trust add refused (exit 77, says why)"; else
			fail "protected trust add: wanted exit 77 naming protect self, got rc=$rc: $out"; fi
		protected_event "$mode trust add" ".via == \"open\" and .target.ino == $n"
		out=$("$BULWARK" trust list 2>&1)
		if [[ $? -eq 0 && $out == *"$T/agent/agent"* && $out != *"$T/plain"* ]]; then
			pass "protected trust list still works for root, without root's row"
		else
			fail "protected trust list: $out"
		fi
		out=$(BULWARK=$BULWARK sh "$REPO/packaging/apt/apt-trust-hook" 2>&1)
		rc=$?
		if [[ $rc -eq 0 && $out == *"guarded by \`protect self\`"* ]]; then pass "apt hook under protect self: says so, exit 0"; else
			fail "apt hook under protect self: rc=$rc: $out"; fi
	fi
	cmd_result "$mode write to the trust database" "$want" sh -c "printf x >>$db"
	[[ $mode == protected ]] && protected_event "$mode trust db write" ".via == \"open\" and .target.ino == $n"
	# bulwarkd's reads leave a -wal (and -shm) there: writing frames into it
	# is the attack; where there is none, creating one is.
	cmd_result "$mode write or create trust.db-wal beside it" "$want" sh -c "printf x >>$db-wal"
	[[ $mode == protected ]] && protected_event "$mode trust db -wal" \
		"(.via == \"open\" and .target.path == \"$db-wal\") or (.via == \"create\" and .target.ino == $dn)"
	[[ $mode == open ]] && rm -f "$db-wal"
	echo evil >"$T/other/evil.db"
	cmd_result "$mode rename over the trust database" "$want" mv -f "$T/other/evil.db" "$db"
	[[ $mode == protected ]] && protected_event "$mode trust db rename" ".via == \"rename\" and (.target.ino == $n or .target.ino == $dn)"
	cmd_result "$mode unlink the trust database" "$want" rm -f "$db"
	[[ $mode == protected ]] && protected_event "$mode trust db unlink" ".via == \"unlink\" and .target.ino == $n"
	cmd_result "$mode rename its directory away" "$want" mv "$TDB" "$T/other/tdb"
	if [[ $mode == open ]]; then
		# a fresh database for the protected round, with one row
		rm -rf "$TDB" "$T/other/tdb"
		"$BULWARK" trust add "$T/agent/agent" >/dev/null 2>&1
		check "trust database recreated" test -s "$db"
	else
		check "trust database unchanged" test "$(ino "$db")" = "$n"
	fi
}

# cgroup_attacks MODE: stop or starve the agent through its cgroup.
CG=/sys/fs/cgroup/bw-redteam
cgroup_attacks() {
	local mode=$1 want=EPERM f
	[[ $mode == open ]] && want=ok
	[[ -d /sys/fs/cgroup && -e /sys/fs/cgroup/cgroup.procs ]] || { fail "$mode: no cgroup v2 here"; return; }
	mkdir -p "$CG/inner" "$CG/frozen"
	echo "+memory +pids" >"$CG/cgroup.subtree_control" 2>/dev/null
	# the agent starts inside the test cgroup: this shell steps in to start it
	local home
	home=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)
	echo $$ >"$CG/inner/cgroup.procs"
	spawn_agent
	echo $$ >"$home/cgroup.procs"
	expect_eq "$mode the agent starts in the test cgroup" "0::/bw-redteam/inner" "$(cat /proc/"$AGENT"/cgroup)"
	# moved into a cgroup frozen beforehand, it would stop as surely as by cgroup.freeze
	echo 1 >"$CG/frozen/cgroup.freeze"
	local errno=EPERM
	[[ $mode == open ]] && errno=0
	expect_try "$mode move the agent into a frozen cgroup" write-file "$errno" "$CG/frozen/cgroup.procs" "$AGENT"
	if [[ $mode == protected ]]; then
		protected_event "$mode cgroup move" ".process.pid == $TRY_PID and .via == \"cgroup_move\" and .target.pid == $AGENT"
		expect_eq "$mode the agent stays where it was" "0::/bw-redteam/inner" "$(cat /proc/"$AGENT"/cgroup)"
	fi
	echo "$AGENT" >"$CG/inner/cgroup.procs" 2>/dev/null
	echo 0 >"$CG/frozen/cgroup.freeze"
	# allow path: an unprotected process moves freely
	sleep 30 &
	local free=$!
	cmd_result "$mode move an unprotected process" ok sh -c "echo $free >$CG/frozen/cgroup.procs"
	kill -9 "$free" 2>/dev/null
	for f in memory.max pids.max; do
		[[ -e $CG/inner/$f ]] || continue
		cmd_result "$mode write $f of its cgroup" "$want" sh -c "echo 1 >$CG/inner/$f"
		echo max >"$CG/inner/$f" 2>/dev/null
	done
	cmd_result "$mode cgroup.freeze of the cgroup above it" "$want" sh -c "echo 1 >$CG/cgroup.freeze"
	echo 0 >"$CG/cgroup.freeze" 2>/dev/null
	[[ $mode == protected ]] && protected_event "$mode cgroup" ".via == \"cgroup\""
	cmd_result "$mode cgroup.kill of its cgroup" "$want" sh -c "echo 1 >$CG/inner/cgroup.kill"
	sleep 0.2
	if [[ $mode == protected ]]; then
		check "$mode agent survived its cgroup's kill" kill -0 "$AGENT"
		# an empty cgroup next to it stays the admin's
		mkdir -p "$CG/free"
		cmd_result "$mode freeze of a cgroup without protected processes" ok sh -c "echo 1 >$CG/free/cgroup.freeze"
		echo 0 >"$CG/free/cgroup.freeze"
	fi
	kill -9 "$AGENT" 2>/dev/null
	sleep 0.2
	rmdir "$CG/inner" "$CG/free" "$CG/frozen" 2>/dev/null
}

# ---- open policy: every attack must succeed --------------------------------
start_daemon --policy "$OPEN_POLICY" || { fail "daemon start (open policy)"; exit 1; }
"$BULWARK" trust add "$T/agent/agent" >/dev/null 2>&1
process_attacks open
file_attacks open
trustdb_attacks open
cgroup_attacks open
cmd_result "open bpftool map update bw_guard" ok \
	bpftool map update pinned "$PIN/bw_guard" key 0 0 0 0 value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
# bw_live says which ops the hooks may skip (decision 101): cleared, every fork would skip its rules
LIVE_BYTES=$(bpftool map show pinned "$PIN/bw_live" -j | jq .bytes_value)
cmd_result "open bpftool map update bw_live" ok \
	bpftool map update pinned "$PIN/bw_live" key 0 0 0 0 value $(printf '0 %.0s' $(seq "$LIVE_BYTES"))
# bw_real_files holds the real files below overlays (decision 110): a forged record would name another file
cmd_result "open bpftool map update bw_real_files" ok \
	bpftool map update pinned "$PIN/bw_real_files" key 0 0 0 0 value $(printf '0 %.0s' $(seq 56))
cmd_result "open rename over the daemon binary" ok mv -f "$T/bin/evil" "$T/bin/bulwarkd.moved"
mv -f "$T/bin/bulwarkd.moved" "$T/bin/evil" 2>/dev/null
PROG_ID=$(bpftool prog show -j | jq '[.[] | select(.name == "bw_bprm_check")][0].id')
cmd_result "open bpftool prog show of bulwark's program" ok bpftool prog show id "$PROG_ID"
cmd_result "open kill -9 of bulwarkd" ok kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon --policy "$OPEN_POLICY" || { fail "daemon restart (open policy)"; exit 1; }

# ---- protection on, locked: a lock comes first, then the protecting policy, signed ----
"$BULWARK" key gen "$WORK/lock" >/dev/null && "$BULWARK" key gen "$WORK/thief" >/dev/null
check "key gen makes a 0600 secret" test "$(stat -c %a "$WORK/lock.key")" = 600
check "bulwark lock" "$BULWARK" lock "$WORK/lock.pub"
"$BULWARK" sign --key "$WORK/lock.key" --version 1 policy "$PROT_POLICY" >/dev/null
out=$("$BULWARK" policy load "$PROT_POLICY" 2>&1)
check "protect policy loads (signed): $out" test $? -eq 0
status() { "$BULWARK" status --json; }
sha=$(status | jq -r .policy.sha256)
gen=$(status | jq -r .policy.generation)
[[ -n $sha && $sha != null ]] && pass "protected policy in force: $sha gen $gen" ||
	fail "no policy in status: $(status)"

process_attacks protected
file_attacks protected
trustdb_attacks protected
cgroup_attacks protected
spawn_plain
expect_try "unprotected process still killable" kill 0 "$PLAIN" 9
spawn_plain
expect_try "unprotected process still traceable" attach 0 "$PLAIN"
kill -9 "$PLAIN" 2>/dev/null

# bulwark itself
expect_try "kill -9 bulwarkd" kill EPERM "$DAEMON_PID" 9
protected_event "kill bulwarkd" ".target.pid == $DAEMON_PID"
expect_try "pidfd kill of bulwarkd" pidfd-signal EPERM "$DAEMON_PID" 9
expect_try "STOP bulwarkd" kill EPERM "$DAEMON_PID" 19
expect_try "ptrace bulwarkd (gdb -p)" attach EPERM "$DAEMON_PID"
expect_try "bulwarkd oom_score_adj" write-file EPERM "/proc/$DAEMON_PID/oom_score_adj" 1000
out=$("$BULWARK" unload 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"signed"* ]]; then pass "bulwark unload refused"; else
	fail "bulwark unload: rc=$rc $out"; fi
out=$("$BULWARK" policy load "$OPEN_POLICY" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"signed"* ]]; then pass "policy change refused"; else
	fail "policy load under protection: rc=$rc $out"; fi
out=$("$BULWARK" lock "$WORK/thief.pub" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"already locked"* ]]; then pass "a second lock refused"; else
	fail "lock while locked: rc=$rc $out"; fi
cmd_result "policy file write" EPERM sh -c "echo 'allow exec any' >>$PROT_POLICY"
expect_try "bind mount over the policy directory" mount-bind EPERM "$T/other" "$WORK"
cmd_result "rename over the daemon binary" EPERM mv -f "$T/bin/evil" "$T/bin/bulwarkd"
cmd_result "unlink the daemon binary" EPERM rm -f "$T/bin/bulwarkd"
cmd_result "rm -r of the pin directory" EPERM rm -rf "$PIN"
check "pins still there" test -e "$PIN/bw_policy"
expect_try "umount /sys/fs/bpf" umount EPERM /sys/fs/bpf
protected_event "umount bpffs" ".via == \"umount\""
expect_try "bpffs mounted over /sys/fs/bpf" mount-fs EPERM bpf /sys/fs/bpf
expect_try "a second bpffs elsewhere still mounts" mount-fs 0 bpf "$T/bpf2"
umount "$T/bpf2" 2>/dev/null
cmd_result "bpftool map update bw_guard" EPERM \
	bpftool map update pinned "$PIN/bw_guard" key 0 0 0 0 value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
protected_event "bpftool map update" ".via == \"bpf_map\""
cmd_result "bpftool map update of the policy slot" EPERM \
	bpftool map update pinned "$PIN/bw_policy" key 0 0 0 0 value 0 0 0 0
cmd_result "bpftool map update of what the hooks may skip (bw_live)" EPERM \
	bpftool map update pinned "$PIN/bw_live" key 0 0 0 0 value $(printf '0 %.0s' $(seq "$LIVE_BYTES"))
# ... and the uids the rules name (decision 104): cleared, every fork rule by uid would be skipped
cmd_result "bpftool map update of the uids the rules name (bw_uid_filter)" EPERM \
	bpftool map update pinned "$PIN/bw_uid_filter" key 0 0 0 0 value 0 0 0 0 0 0 0 0
# ... and the files the rules name (decision 106): cleared, every exact exec rule would be skipped
cmd_result "bpftool map update of the files the rules name (bw_file_filter)" EPERM \
	bpftool map update pinned "$PIN/bw_file_filter" key 0 0 0 0 value 0 0 0 0 0 0 0 0
# ... and the real files below overlays (decision 110): a forged record names another file (t_identity)
cmd_result "bpftool map update of the real files below overlays (bw_real_files)" EPERM \
	bpftool map update pinned "$PIN/bw_real_files" key 0 0 0 0 value $(printf '0 %.0s' $(seq 56))
# a program fd would let root attach freplace over a global function of the decision path
cmd_result "bpftool prog show of bulwark's program" EPERM bpftool prog show id "$PROG_ID"
protected_event "program fd" ".via == \"bpf_prog\""
cmd_result "other programs still load" ok "$BWTRY" bpf-load
cmd_result "other programs' maps still work" ok "$BWTRY" bpf-map

# ordinary administration
check "status works" test "$(status | jq -r .enforcement.state)" = on
out=$("$BULWARK" policy explain --json exec "$T/nothing/x" 2>&1)
expect_eq "explain works" blocked "$(jq -r .action <<<"$out" 2>/dev/null)"

# the daemon is unharmed, with the same policy
check "bulwarkd still runs" kill -0 "$DAEMON_PID"
expect_eq "same policy hash" "$sha" "$(status | jq -r .policy.sha256)"
expect_eq "same generation" "$gen" "$(status | jq -r .policy.generation)"

# ---- locked mode: only signed, newer payloads change anything -----------------
PROT2=$WORK/protect2.policy
{ cat "$PROT_POLICY"; echo "deny exec $T/other/**"; } >"$PROT2"
check "status says locked" test "$(status | jq -r .protection.locked)" = true
# refused: unsigned, signed with another key, signed for another policy, rolled back, replayed
refused() { # NAME WANT_TEXT COMMAND...
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [[ $rc -ne 0 && $out == *"$want"* ]]; then pass "locked: $name refused"; else
		fail "locked: $name: wanted a refusal saying '$want', got rc=$rc: $out"; fi
}
refused "unsigned load" "signed" "$BULWARK" policy load "$PROT2"
"$BULWARK" sign --key "$WORK/thief.key" --version 5 policy "$PROT2" -o "$WORK/thief.sig" >/dev/null
refused "load signed by another key" "bad signature" "$BULWARK" policy load --signature "$WORK/thief.sig" "$PROT2"
"$BULWARK" sign --key "$WORK/lock.key" --version 5 policy "$OPEN_POLICY" -o "$WORK/open.sig" >/dev/null
refused "signature of another policy" "signs policy" "$BULWARK" policy load --signature "$WORK/open.sig" "$PROT2"
wait_event "locked: refusal reported" '.event == "rejected"'
expect_eq "locked: refusals changed nothing" "$gen" "$(status | jq -r .policy.generation)"
"$BULWARK" sign --key "$WORK/lock.key" --version 5 policy "$PROT2" >/dev/null
check "locked: signed load accepted" "$BULWARK" policy load "$PROT2"
expect_eq "locked: version recorded" 5 "$(status | jq -r .protection.lock_version)"
expect_eq "locked: new generation" "$((gen + 1))" "$(status | jq -r .policy.generation)"
refused "replayed payload" "rolled back" "$BULWARK" policy load "$PROT2"
"$BULWARK" sign --key "$WORK/lock.key" --version 4 policy "$PROT2" -o "$WORK/old.sig" >/dev/null
refused "rolled-back version" "rolled back" "$BULWARK" policy load --signature "$WORK/old.sig" "$PROT2"
"$BULWARK" sign --key "$WORK/lock.key" --version 6 unload -o "$WORK/unload-thief.sig" >/dev/null
"$BULWARK" sign --key "$WORK/thief.key" --version 7 unload -o "$WORK/thief-unload.sig" >/dev/null
refused "unload signed by another key" "bad signature" "$BULWARK" unload --signature "$WORK/thief-unload.sig"
refused "unsigned unload" "signed" "$BULWARK" unload
check "bulwarkd still runs after the refusals" kill -0 "$DAEMON_PID"
# the signed unload ends protection and lock alike: the VM is clean again
"$BULWARK" sign --key "$WORK/lock.key" --version 6 unload -o "$WORK/unload.sig" >/dev/null
check "locked: signed unload" "$BULWARK" unload --signature "$WORK/unload.sig"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "pins gone after the signed unload" test ! -e "$PIN/bw_policy"

