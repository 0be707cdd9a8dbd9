#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Monitor, then lockdown (docs/trust.md), as Santa's users know it:
#  1. monitor: `deny exec untrusted with audit` and `deny load untrusted
#     with audit`: an untrusted program runs and an untrusted library
#     loads, each reported as would-deny, nothing blocked;
#  2. `bulwark trust suggest` turns those events into the `trust add`
#     commands that would have allowed them, and names nothing trusted;
#  3. the administrator runs them and switches to lockdown (the same rules
#     without `with audit`): what was suggested runs and loads with no
#     deny, while a program and a library nobody trusted are refused with
#     EPERM and a blocked event.
source "$(dirname "$0")/lib.sh" || exit 1
setup

export BULWARK_TRUST_DB=$WORK/trust.db
T=$WORK/m
mkdir -p "$T"
cp /usr/bin/true "$T/app" && printf 'a' >>"$T/app"      # the fleet's own tool, not yet trusted
cp /usr/bin/true "$T/stranger" && printf 's' >>"$T/stranger"   # never seen in monitoring
cp "$REPO/build/tests/trust-lib.so" "$T/libapp.so"
cp "$REPO/build/tests/trust-lib.so" "$T/libstranger.so"

# the code this test runs, and its libraries (t_trust.sh explains the
# choice); with teardown's (pkill, bwreset), which runs under lockdown and
# so keeps the programs for the next file
files=(/lib64/ld-linux-x86-64.so.2 "$BULWARK" "$BULWARKD" "$BWTRY" "$BWRESET")
for p in bash sh dash true env cat rm sleep grep sed awk mawk jq gojq timeout mkfifo date kill head tail cut sort wc cp ls id pkill pgrep; do
	f=$(type -P "$p") && [[ $f == /* ]] && files+=("$f" "$(readlink -f "$f")")
done
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)
mapfile -t libs < <(ldd "${files[@]}" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(0x/ {print $1}' | sort -u)
"$BULWARK" trust add "${files[@]}" "${libs[@]}" /usr/lib/x86_64-linux-gnu/libnss_files.so.2 >"$WORK/add.out" 2>&1
check "the test's own code trusted" test $? -eq 0 || cat "$WORK/add.out"

cat >"$WORK/monitor.policy" <<POL
deny exec untrusted with audit
deny load untrusted with audit
POL
sed 's/ with audit//' "$WORK/monitor.policy" >"$WORK/lockdown.policy"
start_daemon --policy "$WORK/monitor.policy" || { fail "daemon start"; exit 1; }

# --- 1. monitor: reported, not blocked
expect_exec_ok "monitor: the untrusted tool runs" "$T/app"
wait_event "monitor: reported as would-deny" \
	".type == \"decision\" and .process.pid == $TRY_PID and .op == \"exec\" and .action == \"would-deny\" and .target.path == \"$T/app\" and .target.trusted == false"
expect_try "monitor: the untrusted library loads" dlopen 0 "$T/libapp.so"
wait_event "monitor: load reported as would-deny" \
	".type == \"decision\" and .process.pid == $TRY_PID and .via == \"mmap\" and .action == \"would-deny\" and .target.path == \"$T/libapp.so\""
expect_exec_ok "monitor: trusted code runs" /usr/bin/true
n=$(jq -c "select(.type == \"decision\" and .target.path == \"/usr/bin/true\" and .action != \"allowed\")" "$EV" | wc -l)
expect_eq "monitor: trusted code is not reported" 0 "$n"

# --- 2. suggest
out=$("$BULWARK" trust suggest 2>&1)
check "suggest runs against bulwarkd's backlog" test $? -eq 0
echo "$out" | sed 's/^/   /'
check "suggest names the tool" grep -qx "bulwark trust add $T/app *# exec" <<<"$out"
# an executable mapping meets `exec` rules (ld.so FILE) and then `load` rules: both are named
check "suggest names the library" grep -qx "bulwark trust add $T/libapp.so *# exec, load" <<<"$out"
check "suggest names nothing trusted" test "$(grep -c '/usr/bin/true\|/bin/bash' <<<"$out")" -eq 0
check "suggest names nothing it did not see" test "$(grep -c stranger <<<"$out")" -eq 0

# --- 3. the administrator applies it, then locks down
while read -r cmd; do
	eval "\"\$BULWARK\" ${cmd#bulwark }" >>"$WORK/apply.out" 2>&1 || fail "applying: $cmd"
done < <(grep '^bulwark trust add ' <<<"$out" | sed 's/ *#.*//')
out=$("$BULWARK" policy load "$WORK/lockdown.policy" 2>&1)
check "lockdown policy loads ($out)" test $? -eq 0
expect_exec_ok "lockdown: the suggested tool runs" "$T/app"
expect_try "lockdown: the suggested library loads" dlopen 0 "$T/libapp.so"
n=$(jq -c "select(.type == \"decision\" and .action == \"blocked\" and (.target.path == \"$T/app\" or .target.path == \"$T/libapp.so\"))" "$EV" | wc -l)
expect_eq "lockdown: no deny for what was suggested" 0 "$n"
expect_exec_errno "lockdown: a program never trusted" EPERM "$T/stranger"
wait_event "lockdown: blocked" \
	".type == \"decision\" and .process.pid == $TRY_PID and .op == \"exec\" and .action == \"blocked\" and .target.path == \"$T/stranger\""
TRY_OUT=$("$BWTRY" dlopen "$T/libstranger.so" 2>&1)
TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
check "lockdown: a library never trusted fails to map ($TRY_OUT)" grep -q "failed to map segment" <<<"$TRY_OUT"
wait_event "lockdown: load blocked" \
	".type == \"decision\" and .process.pid == $TRY_PID and .via == \"mmap\" and .action == \"blocked\" and .target.path == \"$T/libstranger.so\""
teardown
