# SPDX-License-Identifier: MIT
# Helpers for the privileged suite. Sourced by tests/vm/t_*.sh, which run
# as root on a kernel that runs BPF LSM (inside vm/run on this host).
#
# Every check records one pass or fail line in $BW_RESULTS; the runner
# counts them. A check never passes by default: it passes only when what
# it asserts was observed.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BULWARKD=$REPO/build/bulwarkd
BULWARK=$REPO/build/bulwark
BWTRY=$REPO/build/tests/bwtry
: "${BW_RESULTS:=/tmp/bw-results}"
WORK=${WORK:-/tmp/bwtest}
EV=$WORK/events.json
DAEMON_LOG=$WORK/daemon.log
DAEMON_PID=

pass() { echo "ok   - $*"; echo "pass $*" >>"$BW_RESULTS"; }
fail() { echo "FAIL - $*"; echo "fail $*" >>"$BW_RESULTS"; }

# check NAME COMMAND...: pass if the command exits 0.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# try_exec PATH...: run bwtry, leaving its output in $TRY_OUT, pid in $TRY_PID.
try_exec() {
	TRY_OUT=$("$BWTRY" exec "$@" 2>&1)
	TRY_RC=$?
	TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
	TRY_PARENT=$(sed -n 's/.* parent=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
}

# expect_try NAME OP ERRNO ARGS...: run `bwtry OP ARGS`; the caller must
# see exactly ERRNO (0 for success). Sets TRY_PID to the acting process.
expect_try() {
	local name=$1 op=$2 want=$3
	shift 3
	TRY_OUT=$("$BWTRY" "$op" "$@" 2>&1)
	TRY_RC=$?
	TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
	local want_ok=no got_ok=no
	[[ $want == 0 ]] && want_ok=yes
	[[ $TRY_RC -eq 0 ]] && got_ok=yes
	if [[ $TRY_OUT == *" errno=$want"* && $want_ok == "$got_ok" ]]; then
		pass "$name: $op $1 gives errno=$want"
	else
		fail "$name: $op $1: wanted errno=$want, got: $TRY_OUT"
	fi
}

# expect_exec_errno NAME ERRNO PATH: the caller must see exactly ERRNO.
expect_exec_errno() {
	local name=$1 want=$2
	shift 2
	try_exec "$@"
	if [[ $TRY_RC -eq 1 && $TRY_OUT == *"errno=$want"* ]]; then
		pass "$name: exec $1 fails with $want"
	else
		fail "$name: exec $1: wanted errno=$want, got: $TRY_OUT"
	fi
}

expect_exec_ok() {
	local name=$1
	shift
	try_exec "$@"
	if [[ $TRY_RC -eq 0 && $TRY_OUT == *"exit=0"* ]]; then
		pass "$name: exec $1 succeeds"
	else
		fail "$name: exec $1: wanted success, got: $TRY_OUT"
	fi
}

# The helpers below run a JSON filter for nearly every check. Under TCG
# jq 1.6 takes about 400 ms to start (it compiles its builtins each time),
# gojq about 100 ms; gojq reads long streams more slowly (about 0.15 ms
# a line against 0.06), which pays off below a few thousand events, as
# nearly every file has (docs/testing.md, Duration). Same filters; gojq
# prints object keys sorted.
JQ=$(type -P gojq || echo jq)

# wait_event NAME JQ_FILTER [SECONDS]: an event matching the filter must
# appear in the daemon's JSON stream. Leaves the match in $EVENT.
wait_event() {
	local name=$1 filter=$2 secs=${3:-20} i
	for ((i = 0; i < secs * 5; i++)); do
		EVENT=$("$JQ" -cn "first(inputs | select($filter))" "$EV" 2>/dev/null)
		if [[ -n $EVENT ]]; then
			pass "$name: event seen"
			return 0
		fi
		sleep 0.2
	done
	fail "$name: no event matching $filter"
	echo "  events so far:" && tail -n 5 "$EV" 2>/dev/null | sed 's/^/    /'
	return 1
}

# no_event NAME JQ_FILTER: after giving the daemon time, nothing matches.
no_event() {
	local name=$1 filter=$2
	sleep 1
	if [[ -z $("$JQ" -cn "first(inputs | select($filter))" "$EV" 2>/dev/null) ]]; then
		pass "$name: no event"
	else
		fail "$name: unexpected event matching $filter"
	fi
}

# event_field JQ_EXPR: read a field of the last matched $EVENT.
event_field() { "$JQ" -r "$1" <<<"$EVENT"; }

# expect_eq NAME WANT GOT
expect_eq() {
	if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1: wanted '$2', got '$3'"; fi
}

# expect_op NAME ERRNO LINE ACTION EXE OP ARGS...: run `EXE OP ARGS` (a
# bwtry copy); the caller must see exactly ERRNO (0 = success). A rule LINE
# means the daemon must report a decision with that ACTION by that rule
# from this process.
expect_op() {
	local name=$1 want=$2 line=$3 action=$4 exe=$5 op=$6
	shift 6
	local out rc pid want_ok=no got_ok=no
	out=$("$exe" "$op" "$@" 2>&1)
	rc=$?
	pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out" | head -n 1)
	[[ $want == 0 ]] && want_ok=yes
	[[ $rc -eq 0 ]] && got_ok=yes
	if [[ $out == *" errno=$want"* && $want_ok == "$got_ok" ]]; then
		pass "$name: $(basename "$exe") $op gives errno=$want"
	else
		fail "$name: $(basename "$exe") $op $*: wanted errno=$want, got rc=$rc: $out"
		return 1
	fi
	[[ -n $line ]] || return 0
	wait_event "$name" ".process.pid == $pid and .action == \"$action\" and .rule.line == $line"
}

# explain_agrees NAME QUERY ACTION LINE: explain, offline from
# $EXPLAIN_POLICY and live from the daemon, predicts ACTION (blocked or
# allowed) by the rule on LINE, as the kernel decides below it.
explain_agrees() {
	local name=$1 query=$2 want=$3 line=$4 mode out
	for mode in offline live; do
		if [[ $mode == offline ]]; then
			out=$("$BULWARK" policy explain --json --policy "$EXPLAIN_POLICY" $query 2>&1)
		else
			out=$("$BULWARK" policy explain --json $query 2>&1)
		fi
		if [[ $("$JQ" -r .action <<<"$out" 2>/dev/null) == "$want" &&
			$("$JQ" -r '.rule.line // "none"' <<<"$out" 2>/dev/null) == "$line" ]]; then
			pass "explain $name ($mode): $want by line $line"
		else
			fail "explain $name ($mode): wanted $want by line $line, got: $out"
		fi
	done
}

counter() { # counter OP NAME
	"$BULWARK" status --json | "$JQ" -r ".counters.\"$1\".$2"
}

# start_daemon ARGS...: start bulwarkd and wait (boundedly) until it says it
# is ready: the policy in force and the socket listening. A daemon that
# dies first closes the pipe without a word.
start_daemon() {
	local ready= t0=$EPOCHREALTIME
	rm -f "$WORK/ready" && mkfifo "$WORK/ready" || return 1
	"$BULWARKD" "$@" --events "$EV" --ready-fd 3 3>"$WORK/ready" 2>>"$DAEMON_LOG" &
	DAEMON_PID=$!
	read -r -t 600 ready <"$WORK/ready"
	[[ -n ${BW_STARTS:-} ]] && awk "BEGIN {print $EPOCHREALTIME - $t0}" >>"$BW_STARTS"
	[[ $ready == READY=1 ]] && return 0
	echo "bulwarkd did not come up; its log:" && cat "$DAEMON_LOG"
	return 1
}

stop_daemon() {
	[[ -n $DAEMON_PID ]] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# A clean slate for each test file: no daemon, no policy, no work dir.
# The verified programs of the last file are kept (a first start verifies
# them all: 11 s on 6.1, 20 s on 6.12 under TCG) and tests/vm/bwreset gives
# their maps the state a fresh load gives: no policy in force, counters
# zeroed, trust map and every process's task storage empty, the event ring
# buffer drained; the policy generation goes on (serials are never reused).
# Where it cannot (locked mode, a protected process alive, a staged
# generation, another build's maps), everything is unloaded as before. A
# file that tests loading or unloading itself, or must start from nothing,
# calls `setup fresh`: everything is unloaded, and unloaded again at its
# teardown.
BW_FRESH=
BWRESET=$REPO/build/tests/bwreset

# reset_kernel: bwreset, or unload where it refuses. No daemon may run.
reset_kernel() {
	local out
	if [[ -z $BW_FRESH ]] && out=$("$BWRESET" 2>&1); then
		echo "# $out"
		return 0
	fi
	[[ -n $out ]] && echo "# $out; unloading"
	"$BULWARK" unload >/dev/null 2>&1
	if [[ -e /sys/fs/bpf/bulwark ]]; then
		echo "# bulwark is still pinned after unload"
		return 1
	fi
	return 0
}

# Every bulwarkd gone (bounded), whoever started it.
kill_daemons() {
	local i
	pkill -x bulwarkd 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		pgrep -x bulwarkd >/dev/null || return 0
		sleep 0.1
	done
	pkill -9 -x bulwarkd 2>/dev/null
	sleep 0.5
}

setup() {
	[[ ${1:-} == fresh ]] && BW_FRESH=1
	stop_daemon
	kill_daemons
	reset_kernel
	# Persistent client layers (decision 97) beside the default trust database: one file's are not the next's.
	rm -rf "$WORK" /run/bulwark /var/lib/bulwark/layers.json*
	mkdir -p "$WORK"
	: >"$EV"
	: >"$DAEMON_LOG"
}

teardown() {
	stop_daemon
	# A `setup fresh` file (the red team) may leave a protected bulwarkd
	# that no signal reaches: as before, only the unload is tried.
	[[ -n $BW_FRESH ]] || kill_daemons
	reset_kernel
}

# A vendor's client through libbulwark (a bwlayer copy), driven line by
# line through a fifo: t_grant.sh, t_layers_persist.sh.
# client_open NAME UID PROGRAM LAYER ALTITUDE: PROGRAM as UID opens LAYER
# at ALTITUDE; its first answer ("open rc=R") in $OPEN.
declare -A LFD LPID
client_open() {
	local name=$1 u=$2 prog=$3 i fd
	rm -f "$WORK/$name.in" && mkfifo "$WORK/$name.in"
	setpriv --reuid="$u" --regid="$u" --clear-groups -- "$prog" "$4" "$5" \
		<"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
	LPID[$name]=$!
	exec {fd}>"$WORK/$name.in"
	LFD[$name]=$fd
	for ((i = 0; i < 100; i++)); do grep -q '^open rc=' "$WORK/$name.out" && break; sleep 0.1; done
	OPEN=$(grep -m1 '^open rc=' "$WORK/$name.out")
}
# client_cmd NAME COMMAND: one command; its answer line in $ANSWER.
client_cmd() {
	local name=$1 n i
	n=$(grep -cE '^[a-z]+ rc=' "$WORK/$name.out")
	echo "$2" >&"${LFD[$name]}"
	for ((i = 0; i < 300; i++)); do [[ $(grep -cE '^[a-z]+ rc=' "$WORK/$name.out") -gt $n ]] && break; sleep 0.1; done
	ANSWER=$(grep -E '^[a-z]+ rc=' "$WORK/$name.out" | tail -n 1)
}
# client_close NAME: the client quits and frees itself; wait for it.
client_close() {
	local fd=${LFD[$1]}
	echo quit >&"$fd" 2>/dev/null
	exec {fd}>&-
	wait "${LPID[$1]}" 2>/dev/null
}
