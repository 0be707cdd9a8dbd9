#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Policy loading and the daemon's life: bad input changes nothing, the
# kernel keeps enforcing when the daemon dies, a restarted daemon adopts
# the pins, and unload really removes everything.
source "$(dirname "$0")/lib.sh" || exit 1
setup fresh # (lib.sh: loads the programs itself, nothing kept)

T=$WORK/t
mkdir -p "$T/bad"
cp /usr/bin/true "$T/bad/prog"
cp /usr/bin/true "$T/ok"
printf '# lifecycle\ndeny exec %s/bad/**\n' "$T" >"$WORK/good.policy"
printf 'deny exec %s/bad/**\ndney exec %s/ok\n' "$T" "$T" >"$WORK/typo.policy"

# --- offline check: position, caret and hint, non-zero exit
out=$("$BULWARK" policy check "$WORK/typo.policy" 2>&1)
rc=$?
expect_eq "policy check typo exits 1" 1 "$rc"
check "policy check names file:line:col" grep -qF "$WORK/typo.policy:2:1: error: unknown statement 'dney'" <<<"$out"
check "policy check gives a hint" grep -qF "hint: did you mean 'deny'?" <<<"$out"
out=$("$BULWARK" policy check "$WORK/good.policy" 2>&1)
expect_eq "policy check clean exits 0" 0 "$?"

# --- a daemon that cannot start on a bad policy touches nothing
"$BULWARKD" --policy "$WORK/typo.policy" --events "$EV" 2>"$WORK/start.err"
expect_eq "bulwarkd refuses a bad policy at start" 1 "$?"
check "start error has file:line:col" grep -qF "$WORK/typo.policy:2:1: error" "$WORK/start.err"
check "nothing attached after refused start" test ! -e /sys/fs/bpf/bulwark/link_bw_bprm_check
expect_exec_ok "no enforcement after refused start" "$T/bad/prog"

start_daemon --policy "$WORK/good.policy" || { fail "daemon start"; exit 1; }
sha=$("$BULWARK" status --json | jq -r .policy.sha256)
check "status reports a policy hash" test ${#sha} -eq 64
expect_exec_errno "good policy enforces" EPERM "$T/bad/prog"
wait_event "good policy enforces" ".process.pid == $TRY_PID and .action == \"blocked\""

# --- a rejected load leaves the previous policy in force
out=$("$BULWARK" policy load "$WORK/typo.policy" 2>&1)
expect_eq "policy load of a bad file exits 1" 1 "$?"
check "policy load reports file:line:col" grep -qF "$WORK/typo.policy:2:1: error: unknown statement 'dney'" <<<"$out"
expect_eq "policy hash unchanged after rejected load" "$sha" "$("$BULWARK" status --json | jq -r .policy.sha256)"
expect_exec_errno "old policy still enforces" EPERM "$T/bad/prog"
wait_event "old policy still enforces" ".process.pid == $TRY_PID and .action == \"blocked\""
expect_exec_ok "old policy still allows" "$T/ok"
# A policy naming a file that does not exist is rejected too.
printf 'deny exec %s/missing\n' "$T" >"$WORK/missing.policy"
out=$("$BULWARK" policy load "$WORK/missing.policy" 2>&1)
expect_eq "policy with a missing file is rejected" 1 "$?"
check "missing file error has position" grep -qF "$WORK/missing.policy:1:11: error: $T/missing: No such file or directory" <<<"$out"
expect_eq "generation unchanged after rejected loads" 1 "$("$BULWARK" status --json | jq -r .policy.generation)"

# --- kill -9: enforcement lives in the kernel, not in the daemon
denied_before=$("$BULWARK" status --json | jq -r '.counters.exec.denied')
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "daemon is gone" test -z "$(pgrep -x bulwarkd)"
expect_exec_errno "denied with the daemon dead" EPERM "$T/bad/prog"
dead_pid=$TRY_PID
expect_exec_ok "allowed with the daemon dead" "$T/ok"

# A daemon killed as it wrote a line leaves the file without its last
# newline (decision 109): the next daemon ends that line before its own.
printf '{"cut":"short"}' >>"$EV"

# --- restart: adopt the pins, same policy, counters keep counting
start_daemon || { fail "daemon restart"; exit 1; }
st=$("$BULWARK" status --json)
expect_eq "restarted daemon adopted the pins" true "$(jq -r .adopted <<<"$st")"
expect_eq "restarted daemon reports the same policy" "$sha" "$(jq -r .policy.sha256 <<<"$st")"
check "counters kept counting while the daemon was dead" test "$(jq -r .counters.exec.denied <<<"$st")" -gt "$denied_before"
check "one set of links, not two" test "$(ls /sys/fs/bpf/bulwark | grep -c '^link_bw_bprm_check')" -eq 1
# The event raised while no daemon ran waited in the pinned ring buffer.
wait_event "event from while the daemon was dead" ".process.pid == $dead_pid and .action == \"blocked\" and .rule.line == 2"
expect_exec_errno "restarted daemon enforces" EPERM "$T/bad/prog"
wait_event "restarted daemon reports" ".process.pid == $TRY_PID and .rule.file == \"$WORK/good.policy\""
check "a line cut short is ended before the next daemon's first" grep -qx '{"cut":"short"}' "$EV"
check "the line after it is a whole event" sh -c "grep -A1 -x '{\"cut\":\"short\"}' '$EV' | tail -n 1 | jq -e .time >/dev/null"
# The CLI's table view works against the adopted daemon too.
check "events table lists the denial" grep -q "blocked .*$T/bad/prog" <<<"$("$BULWARK" events)"

# --- only root may steer the daemon
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BULWARK" status 2>&1)
	rc=$?
	check "non-root status is refused" test "$rc" -ne 0
fi

# --- unload removes everything; enforcement stops
out=$("$BULWARK" unload 2>&1)
expect_eq "unload exits 0" 0 "$?"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "pins removed" test ! -e /sys/fs/bpf/bulwark
expect_exec_ok "no enforcement after unload" "$T/bad/prog"
# Trampoline programs are freed after an RCU grace period: allow for it.
progs_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		bpftool prog show 2>/dev/null | grep -qE 'bw_bprm_check|bw_task_alloc' || return 0
		sleep 0.2
	done
	bpftool prog show | grep -E -A2 'bw_bprm_check|bw_task_alloc'
	return 1
}
check "no bulwark programs left loaded" progs_gone

teardown
