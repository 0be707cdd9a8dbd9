#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libbulwark's subscriptions (issue "libbulwark for vendors"): a vendor's
# own event loop (tests/vm/bwsub.c) polls the subscription's fd and
# dispatches; callbacks get typed notifications in the daemon's order.
#  - a denial reaches a decision subscriber with its op, action, pid, exe
#    and target, and an allowed exec next to it does not;
#  - kinds filter: a policy subscriber gets the load, not the denial, and
#    the decision subscriber not the load;
#  - a subscriber that stops reading during a storm of denials is told how
#    many events it missed: what it received plus what it was told it
#    dropped is every event the daemon published, and status counts the
#    same drops.
source "$(dirname "$0")/lib.sh" || exit 1
setup
BWSUB=$REPO/build/tests/bwsub
T=$WORK/s
mkdir -p "$T/bad"
cp "$BWTRY" "$T/bad/prog"
cp "$BWTRY" "$T/ok"
POLICY=$WORK/sub.policy
cat >"$POLICY" <<POL
deny exec $T/bad/**
deny signal exe=$T/target with signals=USR1
POL
cp "$BWTRY" "$T/target"
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

# sub NAME OUT ARGS...: start bwsub in the background, wait until it listens
sub() {
	local name=$1 out=$2 i
	shift 2
	"$BWSUB" "$@" >"$out" 2>&1 &
	SUB_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^subscribed' "$out" && return 0
		sleep 0.1
	done
	fail "$name: bwsub never subscribed: $(cat "$out")"
	return 1
}

# --- decisions, typed
sub "decisions" "$WORK/dec.out" 1 20 "$T/bad/prog"
dec=$SUB_PID
sub "policy" "$WORK/pol.out" 4 20 "$POLICY"
pol=$SUB_PID
expect_exec_ok "allowed exec" "$T/ok" noop
ok_pid=$TRY_PID
expect_exec_errno "denied exec" EPERM "$T/bad/prog" noop
bad_pid=$TRY_PID
"$BULWARK" policy load "$POLICY" >/dev/null || fail "policy load"
wait "$dec" "$pol"
echo "   decision subscriber: $(grep -c '^note' "$WORK/dec.out") notes; policy subscriber: $(grep -c '^note' "$WORK/pol.out")"
check "the denial, with its fields through the accessors" \
	grep -qx "note kind=1 op=exec action=blocked pid=$bad_pid exe=$BWTRY target=$T/bad/prog" "$WORK/dec.out"
check "nothing for the allowed exec (no log rule)" test "$(grep -c "pid=$ok_pid " "$WORK/dec.out")" -eq 0
check "the decision subscriber gets decisions only" test "$(grep '^note' "$WORK/dec.out" | grep -vc '^note kind=1 ')" -eq 0
check "the policy subscriber gets the load" grep -q "^note kind=4 op=loaded " "$WORK/pol.out"
check "the policy subscriber gets no decision" test "$(grep -c '^note kind=1 ' "$WORK/pol.out")" -eq 0
check "no error from either" test "$(grep -c '^error\|^dispatch' "$WORK/dec.out" "$WORK/pol.out" | awk -F: '{s += $2} END {print s}')" -eq 0

# --- a slow subscriber is told what it missed
"$T/target" target >"$WORK/target.out" 2>&1 &
victim=$!
sleep 0.5
drops0=$("$BULWARK" status --json | jq -r .subscriber_drops)
ring0=$("$BULWARK" status --json | jq -r .ringbuf_drops)
touch "$WORK/stall"
sub "slow subscriber" "$WORK/slow.out" 1 3 "" "$WORK/stall"
out=$("$BWTRY" signal-storm "$victim" 10 6000 2>&1)
denied=$(sed -n 's/.*denied=\([0-9]*\).*/\1/p' <<<"$out")
check "the storm's signals were denied ($out)" test "${denied:-0}" -eq 6000
published_by=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out")
sleep 3 # let bulwarkd publish the storm while the subscriber reads nothing
rm "$WORK/stall"
wait "$SUB_PID"
kill -9 "$victim" 2>/dev/null
ring=$(( $("$BULWARK" status --json | jq -r .ringbuf_drops) - ring0 ))
drops=$(( $("$BULWARK" status --json | jq -r .subscriber_drops) - drops0 ))
got=$(grep -c "^note kind=1 op=signal action=blocked pid=$published_by " "$WORK/slow.out")
told=$(sed -n 's/^dropped=\([0-9]*\).*/\1/p' "$WORK/slow.out")
published=$(jq -c "select(.type == \"decision\" and .process.pid == $published_by)" "$EV" | wc -l)
echo "   storm: 6000 denied, $ring lost in the ring buffer, $published published, $got received, $told dropped as told"
check "the slow subscriber was told it dropped some (${told:-none})" test "${told:-0}" -gt 0
expect_eq "received plus told-dropped is every event published" "$published" "$((got + told))"
expect_eq "status counts the same drops" "$told" "$drops"
expect_eq "every denial accounted for: published plus ring-buffer drops" 6000 "$((published + ring))"

# --- image loads: `notify image` reports every exec and executable mapping
LIB=$T/lib.so
cp "$REPO/build/tests/trust-lib.so" "$LIB"
{ cat "$POLICY"; echo "notify image"; } >"$WORK/image.policy"
"$BULWARK" policy load "$WORK/image.policy" >/dev/null || fail "notify image policy load"
cp "$T/ok" "$T/sentinel" # run last: the subscriber stops at its note, after the others
sub "images" "$WORK/img.out" 1 20 "$T/sentinel"
expect_exec_ok "an exec, reported" "$T/ok" noop
exec_pid=$TRY_PID
expect_try "a dlopen, reported" dlopen 0 "$LIB"
load_pid=$TRY_PID
expect_exec_ok "the sentinel" "$T/sentinel" noop
wait "$SUB_PID"
check "the exec is a notification" grep -qx "note kind=1 op=exec action=allowed pid=$exec_pid exe=[^ ]* target=$T/ok" "$WORK/img.out"
check "the library mapping is a notification" grep -qx "note kind=1 op=load action=allowed pid=$load_pid exe=$BWTRY target=$LIB" "$WORK/img.out"
wait_event "the image event names the file" \
	".process.pid == $load_pid and .op == \"load\" and .target.path == \"$LIB\" and .target.ino == $(stat -c %i "$LIB") and .rule.text == \"notify image\""
expect_exec_errno "a deny still decides under notify image" EPERM "$T/bad/prog" noop
wait_event "a deny still decides under notify image" ".process.pid == $TRY_PID and .action == \"blocked\" and .rule.line == 1"
teardown
