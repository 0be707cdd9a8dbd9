#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Process control end to end: rights on other processes (read, write,
# signal with signal sets, control), creation control (fork, thread, the
# sticky no-children mark), and process notifications checked against a
# known process tree. Every deny asserts the caller's exact errno and the
# daemon's event; every deny has an allow of the same call beside it.
source "$(dirname "$0")/lib.sh" || exit 1
setup

P=$WORK/p
mkdir -p "$P/subj" "$P/tgt"
for p in subj/attacker subj/friend subj/nofork subj/nothread subj/sticky tgt/agent tgt/other; do
	cp "$BWTRY" "$P/$p"
done
A=$P/subj/attacker F=$P/subj/friend AGENT=$P/tgt/agent OTHER=$P/tgt/other

# Line numbers matter: events are checked against them.
cat >"$WORK/process.policy" <<POL
deny write exe=$AGENT from exe=$A
deny control exe=$AGENT from exe=$A
deny signal exe=$AGENT from exe=$A
allow signal exe=$AGENT from exe=$A with signals=HUP,USR1 log
allow read exe=$AGENT from exe=$A with log
allow write exe=$AGENT from exe=$F with log
allow signal exe=$AGENT from exe=$F with log
allow control exe=$AGENT from exe=$F with log
deny fork any from exe=$P/subj/nofork
deny thread any from exe=$P/subj/nothread
deny fork any from exe=$P/subj/sticky with sticky
allow fork any from exe=$F with log
allow thread any from exe=$F with log
POL
L_WRITE=1 L_CONTROL=2 L_SIGNAL=3 L_SIGALLOW=4 L_READ=5 L_FWRITE=6 L_FSIGNAL=7 L_FCONTROL=8
L_NOFORK=9 L_NOTHREAD=10 L_STICKY=11 L_FFORK=12 L_FTHREAD=13

EXPLAIN_POLICY=$WORK/process.policy
check "process policy checks clean" "$BULWARK" policy check --strict "$WORK/process.policy"
# --- no policy in force: a fork is counted as "no policy", not taken by the
# fast path for ops no rule decides (bw_live's installed, decision 102)
start_daemon || { fail "daemon start without a policy"; exit 1; }
np=$(counter fork no_policy)
check "no policy: fork works" "$BWTRY" fork >/dev/null
check "no policy: the fork is counted as no policy" test "$(counter fork no_policy)" -ge $((np + 1))
stop_daemon
# A process whose exec bulwark never saw: its state emptied (reset_kernel),
# as for a process started before bulwark's first start. Events name it all
# the same, from its exe file at the event (decision 103), not from /proc.
"$AGENT" target >"$WORK/early.out" 2>&1 &
EARLY=$!
for ((i = 0; i < 50; i++)); do grep -q '^target ' "$WORK/early.out" && break; sleep 0.1; done
reset_kernel

start_daemon --policy "$WORK/process.policy" || { fail "daemon start"; exit 1; }
expect_op "unseen exec: kill(SIGTERM) of a target bulwark never saw exec denied" EPERM $L_SIGNAL blocked "$A" kill "$EARLY" TERM
expect_eq "unseen exec: the event names the target's program" "$AGENT" "$(event_field .target.exe)"
expect_eq "unseen exec: named by the kernel, not from /proc" "[]" "$(event_field '[.flags[]? | select(. == "exe-from-proc" or . == "exe-unknown")] | tostring')"
kill -KILL "$EARLY"
wait "$EARLY" 2>/dev/null

explain_agrees "signal KILL" "signal exe=$AGENT as exe=$A with signals=KILL" blocked $L_SIGNAL
explain_agrees "signal HUP" "signal exe=$AGENT as exe=$A with signals=HUP" allowed $L_SIGALLOW
explain_agrees "write" "write exe=$AGENT as exe=$A" blocked $L_WRITE
explain_agrees "read" "read exe=$AGENT as exe=$A" allowed $L_READ
explain_agrees "fork" "fork any as exe=$P/subj/nofork" blocked $L_NOFORK
explain_agrees "fork, permitted" "fork any as exe=$F" allowed $L_FFORK

# start_target EXE: a long-lived target; sets TPID, TADDR, TFD, TOUT.
start_target() {
	TOUT=$(mktemp "$WORK/target.XXXXXX")
	"$1" target >"$TOUT" 2>&1 &
	TPID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q '^target ' "$TOUT" && break
		sleep 0.1
	done
	TADDR=$(sed -n 's/^target .*addr=\(0x[0-9a-f]*\).*/\1/p' "$TOUT")
	TFD=$(sed -n 's/^target .*fd=\([0-9]*\).*/\1/p' "$TOUT")
}

# expect_proc NAME ERRNO OP LINE EXE ARGS...: expect_op, with the action
# the errno implies (blocked for an error, allowed for success).
expect_proc() {
	local name=$1 want=$2 op=$3 line=$4 exe=$5 action=allowed
	shift 5
	[[ $want != 0 ]] && action=blocked
	expect_op "$name" "$want" "$line" "$action" "$exe" "$op" "$@"
}
start_target "$AGENT"
AG=$TPID AG_ADDR=$TADDR AG_FD=$TFD AG_OUT=$TOUT
start_target "$OTHER"
OT=$TPID OT_ADDR=$TADDR OT_FD=$TFD

# --- write: ptrace attach and seize, /proc/PID/mem, process_vm_writev, pidfd_getfd
for op in attach seize; do
	expect_proc "write: $op denied" EPERM $op $L_WRITE "$A" "$AG"
	check_target=$(event_field '.target.pid')
	expect_eq "write: $op event names the target" "$AG" "$check_target"
	expect_eq "write: $op event op" write "$(event_field .op)"
	expect_proc "write: $op of another program allowed" 0 $op "" "$A" "$OT"
	expect_proc "write: $op by a permitted subject" 0 $op $L_FWRITE "$F" "$AG"
done
# /proc/PID/mem reports a refused access check as EACCES (proc_mem_open)
expect_proc "write: /proc/PID/mem open for write denied" EACCES mem-write $L_WRITE "$A" "$AG" "$AG_ADDR"
check "write: /proc/PID/mem denial is at open" grep -q "step=open" <<<"$("$A" mem-write "$AG" "$AG_ADDR" 2>&1)"
expect_proc "write: /proc/PID/mem write by a permitted subject" 0 mem-write $L_FWRITE "$F" "$AG" "$AG_ADDR"
expect_proc "write: process_vm_writev denied" EPERM vm-write $L_WRITE "$A" "$AG" "$AG_ADDR"
expect_proc "write: process_vm_writev permitted" 0 vm-write $L_FWRITE "$F" "$AG" "$AG_ADDR"
expect_proc "write: pidfd_getfd denied" EPERM getfd $L_WRITE "$A" "$AG" "$AG_FD"
expect_proc "write: pidfd_getfd permitted" 0 getfd $L_FWRITE "$F" "$AG" "$AG_FD"
expect_proc "write: pidfd_getfd of another program" 0 getfd "" "$A" "$OT" "$OT_FD"

# --- rights downgrade: the same pair keeps read access
expect_proc "downgrade: process_vm_readv still works" 0 vm-read $L_READ "$A" "$AG" "$AG_ADDR"
expect_eq "downgrade: read event op" read "$(event_field .op)"
expect_proc "downgrade: /proc/PID/mem read still works" 0 mem-read $L_READ "$A" "$AG" "$AG_ADDR"
expect_proc "downgrade: kill(SIGKILL) denied" EPERM kill $L_SIGNAL "$A" "$AG" KILL
expect_eq "downgrade: signal event names SIGKILL" SIGKILL "$(event_field .signal)"

# --- signal: kill, tgkill, pidfd_send_signal, rt_sigqueueinfo; signal sets
expect_proc "signal: kill(SIGTERM) denied" EPERM kill $L_SIGNAL "$A" "$AG" TERM
expect_eq "signal: event names SIGTERM" SIGTERM "$(event_field .signal)"
expect_proc "signal: tgkill(SIGTERM) denied" EPERM tgkill $L_SIGNAL "$A" "$AG" "$AG" TERM
expect_proc "signal: pidfd_send_signal(SIGKILL) denied" EPERM pidfd-signal $L_SIGNAL "$A" "$AG" KILL
expect_proc "signal: rt_sigqueueinfo(SIGUSR2) denied" EPERM sigqueue $L_SIGNAL "$A" "$AG" USR2
expect_proc "signal set: SIGHUP delivered" 0 kill $L_SIGALLOW "$A" "$AG" HUP
expect_proc "signal set: SIGUSR1 by tgkill delivered" 0 tgkill $L_SIGALLOW "$A" "$AG" "$AG" USR1
for ((i = 0; i < 30; i++)); do grep -q '^sig 10' "$AG_OUT" && break; sleep 0.1; done
check "signal set: the target received SIGHUP" grep -q '^sig 1$' "$AG_OUT"
check "signal set: the target received SIGUSR1" grep -q '^sig 10$' "$AG_OUT"
check "signal set: the target survived KILL and TERM" kill -0 "$AG"
# F_SETOWN + F_SETSIG: the kernel delivers the signal itself, from the
# writer's context. The caller cannot see a refusal; the target can.
"$A" sigio "$AG" KILL >/dev/null 2>&1
sleep 0.5
check "sigio: SIGKILL through F_SETSIG does not reach the target" kill -0 "$AG"
wait_event "sigio: reported" ".op == \"signal\" and .via == \"sigio\" and .target.pid == $AG and .signal == \"SIGKILL\" and .action == \"blocked\""
"$A" sigio "$AG" HUP >/dev/null 2>&1
for ((i = 0; i < 30; i++)); do [[ $(grep -c '^sig 1$' "$AG_OUT") -ge 2 ]] && break; sleep 0.1; done
check "sigio: SIGHUP through F_SETSIG is delivered (the allowed set)" test "$(grep -c '^sig 1$' "$AG_OUT")" -ge 2
# The same calls, allowed: other programs may be killed by the attacker.
for sig in KILL TERM; do
	start_target "$OTHER"
	expect_proc "signal: kill(SIG$sig) of another program allowed" 0 kill "" "$A" "$TPID" $sig
	wait "$TPID" 2>/dev/null
	rc=$?
	expect_eq "signal: SIG$sig ended the other program" $((128 + $(kill -l $sig))) $rc
done
start_target "$OTHER"
expect_proc "signal: tgkill(SIGTERM) of another program allowed" 0 tgkill "" "$A" "$TPID" "$TPID" TERM
wait "$TPID" 2>/dev/null
expect_proc "signal: pidfd_send_signal by a permitted subject" 0 pidfd-signal $L_FSIGNAL "$F" "$AG" HUP
expect_proc "signal: rt_sigqueueinfo by a permitted subject" 0 sigqueue $L_FSIGNAL "$F" "$AG" USR1
check "signal: kill(pid, 0) is not in the default set" grep -q "rc=0 errno=0" <<<"$("$A" kill "$AG" 0 2>&1)"

# --- control: setpriority, sched_setscheduler, sched_setattr, prlimit,
# ioprio_set, move_pages (migrate_pages needs a NUMA kernel: same hook)
for op in setpriority sched sched-attr prlimit ioprio move-pages; do
	args=("$AG")
	[[ $op == setpriority ]] && args+=(5)
	expect_proc "control: $op denied" EPERM $op $L_CONTROL "$A" "${args[@]}"
	expect_eq "control: $op event op" control "$(event_field .op)"
	expect_proc "control: $op permitted" 0 $op $L_FCONTROL "$F" "${args[@]}"
done
expect_proc "control: setpriority of another program" 0 setpriority "" "$A" "$OT" 5

# --- creation: fork (and every way to it), threads, exec
for op in fork vfork clone; do
	expect_proc "fork: $op denied" EPERM $op $L_NOFORK "$P/subj/nofork"
	expect_eq "fork: $op event op" fork "$(event_field .op)"
	expect_proc "fork: $op permitted" 0 $op $L_FFORK "$F"
done
expect_proc "fork: posix_spawn denied" EPERM spawn $L_NOFORK "$P/subj/nofork" /bin/true
expect_proc "fork: posix_spawn permitted" 0 spawn $L_FFORK "$F" /bin/true
expect_proc "fork: denied program's threads still start" 0 thread "" "$P/subj/nofork"
expect_proc "thread: pthread_create denied" EPERM thread $L_NOTHREAD "$P/subj/nothread"
expect_eq "thread: event op" thread "$(event_field .op)"
expect_proc "thread: pthread_create permitted" 0 thread $L_FTHREAD "$F"
expect_proc "thread: a no-thread program can still fork" 0 fork "" "$P/subj/nothread"

# --- sticky: no child processes, for life, even after exec
expect_proc "sticky: fork denied" EPERM fork $L_STICKY "$P/subj/sticky"
expect_proc "sticky: vfork denied" EPERM vfork $L_STICKY "$P/subj/sticky"
expect_proc "sticky: clone denied" EPERM clone $L_STICKY "$P/subj/sticky"
expect_proc "sticky: posix_spawn denied" EPERM spawn $L_STICKY "$P/subj/sticky" /bin/true
out=$("$P/subj/sticky" threads-then-fork 2>&1)
check "sticky: existing threads keep working while fork is denied" \
	grep -q 'errno=EPERM.*thread=alive\|thread=alive.*errno=EPERM' <<<"$out"
# exec'ing another program keeps the mark: the "exploited server" case
out=$("$P/subj/sticky" run "$BWTRY" fork 2>&1)
pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out" | head -n 1)
if [[ $out == *"errno=EPERM"* ]]; then
	pass "sticky: the mark survives exec into an unmarked program"
	wait_event "sticky: after exec" ".process.pid == $pid and .op == \"fork\" and .action == \"blocked\" and (.flags | index(\"sticky\"))"
else
	fail "sticky: after exec the child could fork: $out"
fi
expect_proc "sticky: the same program unmarked elsewhere forks" 0 fork "" "$BWTRY"

# --- identity: a process may not pass for another program while rules name programs
expect_proc "identity: PR_SET_MM_EXE_FILE refused" EPERM set-exe "" "$A" "$F"
wait_event "identity: reported" ".process.pid == $(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$("$A" set-exe "$F" 2>&1)") and .via == \"prctl\" and .action == \"blocked\""

# --- counters agree with what was reported
check "fork denials counted" test "$(counter fork denied)" -ge 8
check "signal denials counted" test "$(counter signal denied)" -ge 5
check "write denials counted" test "$(counter write denied)" -ge 5

kill -KILL "$AG" "$OT" 2>/dev/null
wait "$AG" "$OT" 2>/dev/null

# --- notifications: a known tree, every exec, fork and exit event
cat >"$WORK/notify.policy" <<POL
notify exec fork exit thread
POL
# A marked process waits while a policy that names no fork replaces this
# one: forks skip the mark check only while no process can carry a mark
# (decision 101), so its fork must still be refused.
mkfifo "$WORK/go"
"$P/subj/sticky" run /bin/bash -c 'read -r _ <"$1"; exec "$2" fork' _ "$WORK/go" "$BWTRY" >"$WORK/late.out" 2>&1 &
LATE=$!
for ((i = 0; i < 50; i++)); do [[ $(readlink "/proc/$LATE/exe") == */bash ]] && break; sleep 0.1; done
check "notify policy loads" "$BULWARK" policy load "$WORK/notify.policy"
# Decision 108: fork notifications attach their program while a policy asks for them.
check "notify fork: the fork program is attached" test -e /sys/fs/bpf/bulwark/link_bw_notify_fork
echo go >"$WORK/go"
wait "$LATE"
check "sticky: the mark outlives the policy (fork refused under one without fork rules)" \
	grep -q 'errno=EPERM' "$WORK/late.out"
wait_event "sticky: reported under the new policy" ".process.pid == $LATE and .op == \"fork\" and .action == \"blocked\" and (.flags | index(\"sticky\"))"
# The fast path allows a fork no rule names, and counts it as the full path would.
before=$(counter fork allowed)
check "fork without fork rules: allowed" "$BWTRY" fork >/dev/null
check "fork without fork rules: counted" test "$(counter fork allowed)" -ge $((before + 2))
: >"$EV.mark"
out=$("$BWTRY" tree 2>&1)
check "tree ran" test $? -eq 0
read -r parent child grandchild thread < <(sed -n 's/^tree parent=\([0-9]*\) child=\([0-9]*\) grandchild=\([0-9]*\) thread=\([0-9]*\).*/\1 \2 \3 \4/p' <<<"$out")
if [[ -z $grandchild ]]; then
	fail "tree: no tree line: $out"
else
	wait_event "tree: parent forks A" ".type == \"process\" and .event == \"fork\" and .process.pid == $parent and .child.pid == $child"
	wait_event "tree: A forks B" ".type == \"process\" and .event == \"fork\" and .process.pid == $child and .child.pid == $grandchild"
	wait_event "tree: B execs /bin/true" ".type == \"process\" and .event == \"exec\" and .process.pid == $grandchild and .process.ppid == $child and .argv[0] == \"/bin/true\""
	expect_eq "tree: exec names the new program" "$(readlink -f /bin/true)" "$(event_field .process.exe)"
	wait_event "tree: B exits 0" ".event == \"exit\" and .process.pid == $grandchild and .exit.code == 0"
	# Its mm is gone by then: the name is the one its exec kept (exec id checked).
	expect_eq "tree: B's exit names its program" "$(readlink -f /bin/true)" "$(event_field .process.exe)"
	wait_event "tree: A exits 3" ".event == \"exit\" and .process.pid == $child and .process.ppid == $parent and .exit.code == 3"
	wait_event "tree: thread start" ".event == \"thread-start\" and .process.pid == $parent and .thread.tid == $thread"
	wait_event "tree: thread exit" ".event == \"thread-exit\" and .thread.tid == $thread"
	wait_event "tree: parent exits" ".event == \"exit\" and .process.pid == $parent"
	expect_eq "tree: the parent's exit names its program" "$BWTRY" "$(event_field .process.exe)"
	n=$(jq -c "select(.type == \"process\" and .event == \"exit\" and .process.pid == $child)" "$EV" | wc -l)
	expect_eq "tree: A's exit reported once" 1 "$n"
fi
# Programs without a plain path are named as d_path (and /proc/PID/exe)
# name them, by the kernel at the event (decision 103).
"$BWTRY" memfd-exec >/dev/null 2>&1
wait_event "names: a program run from a memfd" ".type == \"process\" and .event == \"exec\" and .process.exe == \"/memfd:bwtry (deleted)\""
"$BWTRY" deleted-exec "$WORK" >/dev/null 2>&1
wait_event "names: a program run from a deleted file" ".type == \"process\" and .event == \"exec\" and (.process.exe | startswith(\"$WORK/bwtry-deleted.\")) and (.process.exe | endswith(\" (deleted)\"))"
# Without program selectors the kernel's own check answers (EBUSY: our image is mapped).
expect_proc "identity: PR_SET_MM_EXE_FILE left to the kernel without exe= rules" EBUSY set-exe "" "$A" "$F"
# Opt-in: a policy without `notify` reports no process events.
check "policy without notify loads" "$BULWARK" policy load "$WORK/process.policy"
sleep 0.5
before=$(jq -c 'select(.type == "process")' "$EV" | wc -l)
"$BWTRY" tree >/dev/null 2>&1
sleep 1
after=$(jq -c 'select(.type == "process")' "$EV" | wc -l)
expect_eq "no notifications without notify" "$before" "$after"
check "no notify: the fork program is detached, still pinned" \
	test ! -e /sys/fs/bpf/bulwark/link_bw_notify_fork -a -e /sys/fs/bpf/bulwark/prog_bw_notify_fork
check "no ring buffer drops" test "$("$BULWARK" status --json | jq .ringbuf_drops)" -eq 0

teardown
