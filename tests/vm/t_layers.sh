#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Client layers (issue 13, decision 81): vendors' rules beside the
# administrator's policy, decided in the kernel, deny-wins, through
# libbulwark only (tests/vm/bwlayer.c).
#  - A allows and B denies the same exec: denied (EPERM), the event names
#    B's layer and rule; B leaves: A's allow applies and the exec runs;
#  - the policy's deny and a client's allow: denied, by the policy;
#  - a persistent rule outlives its client; the client takes it back;
#  - an invalid rule fails the whole transaction with file:line:col
#    diagnostics in the client's name, nothing applied, the earlier
#    rules still in force;
#  - a transaction open when its client dies is discarded;
#  - process operations (signal, ptrace, fork) and sysctl writes in
#    layers: A allows and B denies, denied with B's event, the same call
#    on a bystander allowed; B leaves, A's allow applies;
#  - explain answers across layers; one altitude per client; a client
#    past the bound is refused with ENOSPC.
source "$(dirname "$0")/lib.sh" || exit 1
setup
BWLAYER=$REPO/build/tests/bwlayer
T=$WORK/l
mkdir -p "$T"
for f in x admin-denied p y z h free; do cp /usr/bin/true "$T/$f"; done
POLICY=$WORK/admin.policy
cat >"$POLICY" <<POL
# the administrator's layer
deny exec $T/admin-denied
POL
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

# lstart NAME ALTITUDE: a bwlayer reading commands from a fifo; waits for its open.
declare -A LFD LPID
lstart() {
	local name=$1 alt=$2 i fd
	rm -f "$WORK/$name.in" && mkfifo "$WORK/$name.in"
	"$BWLAYER" "$name" "$alt" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	LPID[$name]=$!
	exec {fd}>"$WORK/$name.in"
	LFD[$name]=$fd
	for ((i = 0; i < 100; i++)); do
		lreply "$name"
		((REPLIES > 0)) && break
		sleep 0.1
	done
}
# lreply NAME: the answers so far in REPLIES; the last one's REPLY_RC and
# REPLY_TEXT (its "| " lines). Bash alone: an exec costs about 100 ms
# under TCG, and this runs for every command and every poll.
lreply() {
	local line lines
	REPLIES=0 REPLY_RC= REPLY_TEXT=
	mapfile -t lines <"$WORK/$1.out"
	for line in "${lines[@]}"; do
		if [[ $line =~ ^[a-z]+\ rc=(.*)$ ]]; then
			REPLIES=$((REPLIES + 1)) REPLY_RC=${BASH_REMATCH[1]} REPLY_TEXT=
		elif [[ $line == "| "* ]]; then
			REPLY_TEXT+=${line:2}$'\n'
		fi
	done
	REPLY_TEXT=${REPLY_TEXT%$'\n'}
}
# lcmd NAME COMMAND...: send one command, wait for its answer.
lcmd() {
	local name=$1 n i
	shift
	lreply "$name"
	n=$REPLIES
	echo "$*" >&"${LFD[$name]}"
	for ((i = 0; i < 300; i++)); do
		lreply "$name"
		((REPLIES > n)) && break
		sleep 0.1
	done
}
# lquit NAME [die]: the client frees itself (quit) or exits without a word (die); wait for it.
lquit() {
	local name=$1 how=${2:-quit}
	local fd=${LFD[$name]}
	echo "$how" >&"$fd"
	exec {fd}>&-
	wait "${LPID[$name]}" 2>/dev/null
}
# wait_status JQ: until bulwarkd's status satisfies JQ (it handled a client's departure:
# the swap that drops its rules happens before it answers the next request).
wait_status() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $("$BULWARK" status --json | jq -r "$1") == true ]] && return 0
		sleep 0.1
	done
	fail "status never satisfied $1: $("$BULWARK" status --json | jq -c .layers)"
	return 1
}
# commit_ok NAME WHAT: commit, which must succeed.
commit_ok() {
	lcmd "$1" commit
	expect_eq "$2: commit" 0 "$REPLY_RC"
}
denied() { counter exec denied; }
# The generation after a swap: layer changes are policy loads.
gen() { "$BULWARK" status --json | jq -r .policy.generation; }

expect_exec_ok "no layer yet" "$T/x"

# --- A allows, B denies the same exec: denied, by B
lstart vendorA 300
expect_eq "A opens its layer" 0 "$REPLY_RC"
lcmd vendorA begin
lcmd vendorA add "allow exec $T/x with log"
commit_ok vendorA "A allows x"
expect_exec_ok "A's allow alone" "$T/x"
wait_event "A's allow is reported by A's layer" \
	".process.pid == $TRY_PID and .action == \"allowed\" and .layer.name == \"vendorA\" and .rule.file == \"vendorA\""

lstart vendorB 200
expect_eq "B opens its layer" 0 "$REPLY_RC"
g0=$(gen)
lcmd vendorB begin
lcmd vendorB add "deny exec $T/x"
commit_ok vendorB "B denies x"
check "a commit is one swap: the generation moves by one" test "$(gen)" -eq $((g0 + 1))
d0=$(denied)
expect_exec_errno "A allows, B denies" EPERM "$T/x"
if wait_event "the denial names B's layer and rule" \
	".process.pid == $TRY_PID and .action == \"blocked\" and .target.path == \"$T/x\""; then
	expect_eq "denial layer" vendorB "$(event_field .layer.name)"
	expect_eq "denial layer altitude" 200 "$(event_field .layer.altitude)"
	expect_eq "denial rule" "vendorB:1: deny exec $T/x" \
		"$(event_field '.rule.file + ":" + (.rule.line|tostring) + ": " + .rule.text')"
fi
check "the denied counter moved" test "$(denied)" -gt "$d0"

# --- explain across layers
lcmd vendorA explain "exec $T/x"
expect_eq "explain: the answer is blocked" blocked "$(jq -r .action <<<"$REPLY_TEXT")"
expect_eq "explain: by B's rule" "vendorB:1" "$(jq -r '.rule.file + ":" + (.rule.line|tostring)' <<<"$REPLY_TEXT")"
expect_eq "explain: each layer's answer" "policy:none vendorA:allow vendorB:deny" \
	"$(jq -r '[.layers[] | .name + ":" + .decision] | join(" ")' <<<"$REPLY_TEXT")"
out=$("$BULWARK" policy explain --json exec "$T/x" 2>&1)
expect_eq "bulwark policy explain agrees" "blocked vendorB" "$(jq -r '.action + " " + .rule.file' <<<"$out")"

# --- B leaves: A's allow applies
lquit vendorB
wait_status '[.layers[].name] == ["vendorA"]'
expect_exec_ok "B gone, A's allow applies" "$T/x"
wait_event "the allow after B left, by A's layer" \
	".process.pid == $TRY_PID and .action == \"allowed\" and .layer.name == \"vendorA\""
no_event "no denial after B left" ".process.pid == $TRY_PID and .action == \"blocked\""

# --- the administrator's deny and a client's allow: denied, by the policy
lcmd vendorA begin
lcmd vendorA add "allow exec $T/admin-denied with log"
commit_ok vendorA "A allows what the policy denies"
d0=$(denied)
expect_exec_errno "policy deny + client allow" EPERM "$T/admin-denied"
if wait_event "denied by the policy's layer" ".process.pid == $TRY_PID and .action == \"blocked\""; then
	expect_eq "policy's deny: layer" 0 "$(event_field .layer.index)"
	expect_eq "policy's deny: rule" "$POLICY:2" "$(event_field '.rule.file + ":" + (.rule.line|tostring)')"
fi
check "the denied counter moved (policy's deny)" test "$(denied)" -gt "$d0"
expect_exec_ok "next to it, A's allow of x" "$T/x"

# --- an invalid rule fails the whole transaction; earlier rules stay
lstart vendorC 100
lcmd vendorC begin
lcmd vendorC add "deny exec $T/z"
commit_ok vendorC "C denies z"
expect_exec_errno "C's deny of z" EPERM "$T/z"
wait_event "C's deny of z" ".process.pid == $TRY_PID and .action == \"blocked\" and .layer.name == \"vendorC\""
g0=$(gen)
lcmd vendorC begin
lcmd vendorC add "deny exec $T/y"
lcmd vendorC add "deny exce $T/free"
lcmd vendorC commit
expect_eq "an invalid rule fails the commit (EINVAL)" -22 "$REPLY_RC"
check "diagnostics point into the client's text (vendorC:1:6)" grep -q "^vendorC:1:6: error: " <<<"$REPLY_TEXT"
check "diagnostics quote the line" grep -qF "deny exce $T/free" <<<"$REPLY_TEXT"
expect_eq "nothing swapped in" "$g0" "$(gen)"
expect_exec_ok "nothing applied: the valid rule of the failed transaction" "$T/y"
expect_exec_errno "the earlier rule still in force" EPERM "$T/z"
wait_event "the earlier rule still reported" ".process.pid == $TRY_PID and .action == \"blocked\" and .layer.name == \"vendorC\""
lcmd vendorC begin
lcmd vendorC add "protect $T/free level=vendor"
lcmd vendorC commit
expect_eq "a client layer holds no protect statement" -22 "$REPLY_RC"
check "... said at its line and column" grep -q "^vendorC:1:1: error: a client layer holds allow, deny and audit rules only" <<<"$REPLY_TEXT"

# --- a transaction open when its client dies is discarded; its rules go
lcmd vendorC begin
lcmd vendorC add "deny exec $T/h"
lquit vendorC die
wait_status '[.layers[].name] == ["vendorA"]'
expect_exec_ok "half-open transaction discarded" "$T/h"
expect_exec_ok "the dead client's committed rule is gone" "$T/z"

# --- a persistent rule outlives its client
lcmd vendorA begin
lcmd vendorA padd "deny exec $T/p"
pid_line=$(grep -E '^\| id=' "$WORK/vendorA.out" | tail -n 1)
commit_ok vendorA "A's persistent deny"
lquit vendorA
wait_status '[.layers[] | .connected] == [false]'
d0=$(denied)
expect_exec_errno "persistent rule after its client left" EPERM "$T/p"
wait_event "persistent deny, A's layer" ".process.pid == $TRY_PID and .action == \"blocked\" and .layer.name == \"vendorA\""
check "the denied counter moved (persistent)" test "$(denied)" -gt "$d0"
expect_exec_ok "A's other rules went with it" "$T/x"
expect_eq "status lists the layer, not connected" "vendorA 300 false" \
	"$("$BULWARK" status --json | jq -r '.layers[] | "\(.name) \(.altitude) \(.connected)"')"
lstart vendorA 300
expect_eq "A takes its layer back" 0 "$REPLY_RC"
id=${pid_line#| id=}
lcmd vendorA begin
lcmd vendorA remove "$id"
commit_ok vendorA "A removes its persistent rule"
expect_exec_ok "removed: exec runs" "$T/p"

# --- process operations and sysctls: every category in a layer, deny-wins
for f in actor victim bystander; do cp "$BWTRY" "$T/$f"; done
# target EXE: a long-lived bwtry target; prints its pid.
target() {
	local out=$WORK/$(basename "$1").target i
	"$1" target >"$out" 2>&1 &
	for ((i = 0; i < 50; i++)); do
		grep -q '^target ' "$out" && break
		sleep 0.1
	done
	sed -n 's/^target pid=\([0-9]*\).*/\1/p' "$out"
}
VPID=$(target "$T/victim")
BPID=$(target "$T/bystander")
CORE=/proc/sys/kernel/core_pattern MODPROBE=/proc/sys/kernel/modprobe
core=$(cat $CORE) modprobe=$(cat $MODPROBE)
lstart procA 500
lcmd procA begin
lcmd procA add "allow signal exe=$T/victim from exe=$T/actor with log"
lcmd procA add "allow write exe=$T/victim from exe=$T/actor with log"
lcmd procA add "allow fork any from exe=$T/actor with log"
lcmd procA add "allow sysctl kernel.core_pattern with log"
commit_ok procA "A allows signal, ptrace, fork and a sysctl"
BWTRY=$T/actor expect_try "A's allow alone: signal" kill 0 "$VPID" HUP
wait_event "A's signal allow, by A's layer" \
	".process.pid == $TRY_PID and .op == \"signal\" and .action == \"allowed\" and .layer.name == \"procA\""
lstart procB 400
lcmd procB begin
lcmd procB add "deny signal exe=$T/victim from exe=$T/actor"
lcmd procB add "deny write exe=$T/victim from exe=$T/actor"
lcmd procB add "deny fork any from exe=$T/actor"
lcmd procB add "deny sysctl kernel.core_pattern"
commit_ok procB "B denies them"
d0=$(counter signal denied)
BWTRY=$T/actor expect_try "A allows, B denies: signal" kill EPERM "$VPID" TERM
wait_event "the signal denial names B's layer" \
	".process.pid == $TRY_PID and .op == \"signal\" and .action == \"blocked\" and .layer.name == \"procB\" and .target.pid == $VPID"
check "the signal denied counter moved" test "$(counter signal denied)" -gt "$d0"
check "the victim survived TERM" kill -0 "$VPID"
BWTRY=$T/actor expect_try "beside it, a bystander's signal" kill 0 "$BPID" HUP
BWTRY=$T/actor expect_try "A allows, B denies: ptrace" attach EPERM "$VPID"
wait_event "the ptrace denial names B's layer" \
	".process.pid == $TRY_PID and .op == \"write\" and .action == \"blocked\" and .layer.name == \"procB\""
BWTRY=$T/actor expect_try "beside it, ptrace of a bystander" attach 0 "$BPID"
BWTRY=$T/actor expect_try "A allows, B denies: fork" fork EPERM
wait_event "the fork denial names B's layer" \
	".process.pid == $TRY_PID and .op == \"fork\" and .action == \"blocked\" and .layer.name == \"procB\""
BWTRY=$T/bystander expect_try "beside it, another program forks" fork 0
BWTRY=$T/actor expect_try "A allows, B denies: sysctl write" write-file EPERM $CORE "$core"
wait_event "the sysctl denial names B's layer" \
	".process.pid == $TRY_PID and .op == \"sysctl\" and .action == \"blocked\" and .layer.name == \"procB\""
BWTRY=$T/actor expect_try "beside it, another sysctl" write-file 0 $MODPROBE "$modprobe"
lcmd procA explain "signal exe=$T/victim as exe=$T/actor with signals=TERM"
expect_eq "explain: a signal across layers" "blocked procB" "$(jq -r '.action + " " + .rule.file' <<<"$REPLY_TEXT")"
lquit procB
wait_status '[.layers[].name] == ["vendorA","procA"] or [.layers[].name] == ["procA","vendorA"]'
BWTRY=$T/actor expect_try "B gone: signal" kill 0 "$VPID" HUP
wait_event "B gone: the signal allowed by A's layer" \
	".process.pid == $TRY_PID and .op == \"signal\" and .action == \"allowed\" and .layer.name == \"procA\""
BWTRY=$T/actor expect_try "B gone: ptrace" attach 0 "$VPID"
BWTRY=$T/actor expect_try "B gone: fork" fork 0
wait_event "B gone: the fork allowed by A's layer" \
	".process.pid == $TRY_PID and .op == \"fork\" and .action == \"allowed\" and .layer.name == \"procA\""
BWTRY=$T/actor expect_try "B gone: sysctl write" write-file 0 $CORE "$core"
lquit procA
kill "$VPID" "$BPID" 2>/dev/null
wait_status '[.layers[].name] == ["vendorA"]'

# --- one client per altitude; at most 8 client layers
out=$(echo quit | "$BWLAYER" vendorD 300 2>&1)
check "an altitude taken is refused (EEXIST)" grep -q '^open rc=-17$' <<<"$out"
out=$(echo quit | "$BWLAYER" vendorA 301 2>&1)
check "a name taken is refused (EEXIST)" grep -q '^open rc=-17$' <<<"$out"
for i in 1 2 3 4 5 6 7; do lstart "fill$i" $((1000 + i)); done
expect_eq "the eighth client layer opens" 0 "$REPLY_RC"
lstart ninth 2000
expect_eq "a ninth is refused (ENOSPC)" -28 "$REPLY_RC"
check "... saying the bound" grep -q "at most 8" <<<"$REPLY_TEXT"
for i in 1 2 3 4 5 6 7; do lquit "fill$i"; done
lquit ninth
wait_status '[.layers[].name] == ["vendorA"]'

# --- eight layers with rules at once: all decide, deny-wins
for i in 1 2 3 4 5 6 7; do
	lstart "fill$i" $((1000 + i))
	lcmd "fill$i" begin
	lcmd "fill$i" add "allow exec $T/free"
	commit_ok "fill$i" "layer $i allows free"
done
lcmd vendorA begin
lcmd vendorA add "deny exec $T/free"
commit_ok vendorA "the lowest altitude denies free"
expect_exec_errno "seven allows and one deny, eight layers" EPERM "$T/free"
wait_event "denied by the eighth layer" ".process.pid == $TRY_PID and .action == \"blocked\" and .layer.name == \"vendorA\""
lquit vendorA
wait_status '.layers | length == 7'
expect_exec_ok "the deny's client left: seven allows" "$T/free"
for i in 1 2 3 4 5 6 7; do lquit "fill$i"; done
wait_status '.layers | length == 0'
expect_eq "every layer gone" 0 "$("$BULWARK" status --json | jq '.layers | length')"
expect_exec_errno "the policy alone again" EPERM "$T/admin-denied"
wait_event "the policy alone again" ".process.pid == $TRY_PID and .action == \"blocked\" and .rule.line == 2"

teardown
