#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Atomic replacement: a process keeps exec'ing a denied binary while the
# policy is swapped 200 times between two policies that both deny it (one
# by tree, one by inode). If any decision ever saw half a policy or no
# policy, the binary would run once and leave a mark. A corrupt policy
# loaded in the middle is rejected and changes nothing. The daemon killed
# in the middle of a large load leaves one whole policy in force.
source "$(dirname "$0")/lib.sh" || exit 1
setup

T=$WORK/t
mkdir -p "$T/bad" "$T/other"
cp /usr/bin/touch "$T/bad/mark"   # if it ever runs, it creates $WORK/RAN
cp /usr/bin/true "$T/other/prog"
printf 'deny exec %s/bad/**\nallow exec %s/other/prog with log\n' "$T" "$T" >"$WORK/a.policy"
printf 'deny exec %s/bad/mark\ndeny exec %s/other/**\nmode enforce\n' "$T" "$T" >"$WORK/b.policy"
printf 'deny exec %s/bad/**\nthis is not a policy\n' "$T" >"$WORK/corrupt.policy"

start_daemon --policy "$WORK/a.policy" || { fail "daemon start"; exit 1; }
# Generations count every load since the programs were loaded, which may
# be earlier than this file (the suite keeps them between files: bwreset).
gen0=$("$BULWARK" status --json | jq -r .policy.generation)

# The hammer: exec the denied binary until told to stop, tallying errnos.
start_hammer() {
	rm -f "$WORK/stop" "$WORK/tally"
	(
		n=0 eperm=0
		while [[ ! -e $WORK/stop ]]; do
			out=$("$BWTRY" exec "$T/bad/mark" "$WORK/RAN")
			n=$((n + 1))
			[[ $out == *"errno=EPERM"* ]] && eperm=$((eperm + 1))
		done
		echo "$n $eperm" >"$WORK/tally"
	) &
	hammer=$!
}
stop_hammer() {
	touch "$WORK/stop"
	wait "$hammer"
	read -r n eperm <"$WORK/tally"
}
start_hammer

loads=0 load_failures=0
for i in $(seq 1 200); do
	if ((i % 2)); then p=b; else p=a; fi
	"$BULWARK" policy load "$WORK/$p.policy" >/dev/null 2>&1 && loads=$((loads + 1)) || load_failures=$((load_failures + 1))
	if ((i == 100)); then
		sha=$("$BULWARK" status --json | jq -r .policy.sha256)
		"$BULWARK" policy load "$WORK/corrupt.policy" >/dev/null 2>&1
		expect_eq "corrupt policy mid-loop is rejected" 1 "$?"
		expect_eq "corrupt policy changed nothing" "$sha" "$("$BULWARK" status --json | jq -r .policy.sha256)"
		wait_event "the rejection is a policy event" \
			".type == \"policy\" and .event == \"rejected\" and .reason == \"request\" and .path == \"$WORK/corrupt.policy\" and (.diagnostics | contains(\"corrupt.policy:2:\"))"
	fi
done
stop_hammer

expect_eq "200 reloads succeeded" "200 0" "$loads $load_failures"
expect_eq "generation counts every load" "$((gen0 + 200))" "$("$BULWARK" status --json | jq -r .policy.generation)"
check "the binary never ran" test ! -e "$WORK/RAN"
check "the hammer really ran during the reloads ($n execs)" test "$n" -ge 20
expect_eq "every exec attempt saw EPERM" "$n" "$eperm"
# The last load was a.policy: its allow rule with `log` reports allows.
expect_exec_ok "allowed program after the loop" "$T/other/prog"
wait_event "allow with log is reported" ".process.pid == $TRY_PID and .action == \"allowed\" and .decision == \"allow\""

# --- the same between two exact-file policies (decision 106) -------------
# Both name the binary by its file alone, so every exec takes the
# exact-file path, which reads bw_file_filter before the rule map. The
# two name different other files, so every swap widens the filter to
# both and narrows it to the new one: a narrowing that dropped the
# binary's bit, or came before the swap, would let it run once.
mkdir -p "$T/exact"
{
	printf 'deny exec %s/bad/mark\ndeny exec %s/other/prog\n' "$T" "$T"
	for i in $(seq 1 50); do : >"$T/exact/x$i" && printf 'deny exec %s/exact/x%s\n' "$T" "$i"; done
} >"$WORK/x.policy"
{
	printf 'deny exec %s/bad/mark\n' "$T"
	for i in $(seq 1 50); do : >"$T/exact/y$i" && printf 'deny exec %s/exact/y%s\n' "$T" "$i"; done
} >"$WORK/y.policy"
start_hammer
loads=0 load_failures=0
for i in $(seq 1 60); do
	if ((i % 2)); then p=x; else p=y; fi
	"$BULWARK" policy load "$WORK/$p.policy" >/dev/null 2>&1 && loads=$((loads + 1)) || load_failures=$((load_failures + 1))
done
stop_hammer
expect_eq "exact policies: 60 reloads succeeded" "60 0" "$loads $load_failures"
check "exact policies: the hammer ran during the reloads ($n execs)" test "$n" -ge 10
expect_eq "exact policies: every exec attempt saw EPERM" "$n" "$eperm"
check "exact policies: the binary never ran" test ! -e "$WORK/RAN"
# The last load was y: other/prog is named by x only.
expect_exec_ok "exact policies: a file the policy in force does not name runs" "$T/other/prog"
"$BULWARK" policy load "$WORK/x.policy" >/dev/null
expect_exec_errno "exact policies: the same file once the policy names it" EPERM "$T/other/prog"
wait_event "exact policies: its denial is reported" ".process.pid == $TRY_PID and .action == \"blocked\""
"$BULWARK" policy load "$WORK/a.policy" >/dev/null

# --- the daemon killed in the middle of a large load -----------------------
# 50,000 rules take seconds to compile and fill under emulation; SIGKILL
# lands inside that. Whatever the moment, the kernel holds one whole policy
# (the old one, or the new one if the swap had happened), never a part.
python3 - "$T" >"$WORK/big.policy" <<'PY'
import os, sys
t = sys.argv[1]
os.makedirs(f"{t}/many", exist_ok=True)
print(f"deny exec {t}/bad/**")
for i in range(50000):
    open(f"{t}/many/f{i}", "w").close()
    print(f"deny exec {t}/many/f{i}")
PY
cp /usr/bin/true "$T/many/f49999" && chmod 755 "$T/many/f49999" # same inode, now a program
old_sha=$("$BULWARK" status --json | jq -r .policy.sha256)
start_hammer
"$BULWARK" policy load "$WORK/big.policy" >/dev/null 2>&1 &
loader=$!
sleep 0.5
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
wait "$loader"
load_rc=$?
start_daemon || { fail "daemon restart after SIGKILL"; exit 1; }
stop_hammer
now_sha=$("$BULWARK" status --json | jq -r .policy.sha256)
big_sha=$(sha256sum "$WORK/big.policy" | cut -c1-64)
if [[ $now_sha == "$old_sha" && $load_rc -ne 0 ]]; then
	pass "SIGKILL mid-load: the old policy is whole and in force"
elif [[ $now_sha == "$big_sha" ]]; then
	pass "SIGKILL after the swap: the new policy is whole and in force"
else
	fail "SIGKILL mid-load: policy $now_sha is neither the old $old_sha nor the new $big_sha (load rc $load_rc)"
fi
check "the hammer ran across the kill ($n execs)" test "$n" -ge 1
check "the binary never ran while the daemon died" test ! -e "$WORK/RAN"
expect_eq "every exec attempt saw EPERM across the kill" "$n" "$eperm"
check "the big policy loads afterwards" "$BULWARK" policy load "$WORK/big.policy"
expect_exec_errno "a rule from the big policy" EPERM "$T/many/f49999"
wait_event "big policy reports" ".process.pid == $TRY_PID and .action == \"blocked\""
teardown
