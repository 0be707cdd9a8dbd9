#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The control protocol and the daemon's robustness: bad requests get error
# replies and change nothing; a client that never reads stalls nobody and
# nobody's replies are torn; a second daemon refuses to start and leaves
# the first one's socket alone; SIGHUP reloads the policy; events raised
# under a policy storm name their own generation's rule; readiness is
# signalled, not guessed.
source "$(dirname "$0")/lib.sh" || exit 1
setup

CTL="python3 $REPO/tests/vm/ctl.py"
SOCK=/run/bulwark/bulwarkd.sock
T=$WORK/t
mkdir -p "$T/bad"
cp /usr/bin/true "$T/bad/prog"
cp /usr/bin/true "$T/ok"
printf '# protocol\ndeny exec %s/bad/**\n' "$T" >"$WORK/good.policy"
printf 'deny exec %s/bad/**\ndney exec %s/ok\n' "$T" "$T" >"$WORK/typo.policy"

alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }
gen() { "$BULWARK" status --json | jq -r .policy.generation; }

start_daemon --policy "$WORK/good.policy" || { fail "daemon start"; exit 1; }
gen0=$(gen)

# --- bad requests: an error reply each, and the daemon keeps serving
# reply_is NAME REQUEST ERRNO MESSAGE
reply_is() {
	local out
	out=$($CTL "$SOCK" send "$2" 2>&1)
	if [[ $(jq -r .ok <<<"$out" 2>/dev/null) == false &&
		$(jq -r .errno <<<"$out" 2>/dev/null) == "$3" &&
		$(jq -r .error <<<"$out" 2>/dev/null) == "$4" ]]; then
		pass "$1: errno $3, '$4'"
	else
		fail "$1: wanted errno $3 '$4', got: $out"
	fi
	check "$1: daemon still running" alive
}
reply_is "null cmd" '{"cmd":null}' 22 "field 'cmd' must be a string"
reply_is "numeric cmd" '{"cmd":3}' 22 "field 'cmd' must be a string"
reply_is "missing cmd" '{"path":"/x"}' 22 "field 'cmd' is required"
reply_is "null path" '{"cmd":"policy-load","path":null}' 22 "field 'path' must be a string"
reply_is "missing path" '{"cmd":"policy-load"}' 22 "field 'path' is required"
reply_is "relative path" '{"cmd":"policy-load","path":"good.policy"}' 22 "field 'path' must be an absolute path"
reply_is "null query" '{"cmd":"explain","query":null}' 22 "field 'query' must be a string"
reply_is "boolean query" '{"cmd":"explain","query":true}' 22 "field 'query' must be a string"
reply_is "string backlog" '{"cmd":"events","backlog":"yes"}' 22 "field 'backlog' must be a boolean"
reply_is "unknown command" '{"cmd":"reboot"}' 95 "unknown command 'reboot'"
reply_is "unknown version" '{"v":2,"cmd":"status"}' 93 "protocol version 2 is not supported (this bulwarkd speaks version 1)"
reply_is "not JSON" 'status' 22 "malformed request: not one JSON object"
out=$($CTL "$SOCK" send '{"v":1,"cmd":"status"}' '{"cmd":"status"}')
expect_eq "versioned and unversioned status both answered" "true true" "$(jq -r .ok <<<"$out" | xargs)"
expect_eq "bad requests changed no policy" "$gen0" "$(gen)"
expect_exec_errno "policy still enforced after bad requests" EPERM "$T/bad/prog"
wait_event "policy still enforced after bad requests" ".process.pid == $TRY_PID and .action == \"blocked\""

# --- a client that never reads stalls nobody, and its own lines stay whole
# Rejected loads with long diagnostics make a backlog far bigger than a
# socket buffer.
for ((i = 0; i < 300; i++)); do printf 'dney exec %s/ok%d\n' "$T" "$i"; done >"$WORK/long.policy"
for ((i = 0; i < 60; i++)); do "$BULWARK" policy load "$WORK/long.policy" >/dev/null 2>&1; done
n_backlog=$("$BULWARK" events --json | wc -l)
check "backlog holds the rejected loads ($n_backlog events)" test "$n_backlog" -ge 60
bytes=$("$BULWARK" events --json | wc -c)
check "backlog is bigger than a socket buffer ($bytes bytes)" test "$bytes" -gt 400000
rm -f "$WORK/hog" "$WORK/hog.go"
$CTL "$SOCK" hog "$WORK/hog" >"$WORK/hog.out" &
hog=$!
for ((i = 0; i < 600; i++)); do grep -q sent "$WORK/hog.out" && break; sleep 0.1; done
good=0
# (through libbulwark, the CLI: python takes about 1 s to start under TCG)
for ((i = 0; i < 20; i++)); do
	out=$("$BULWARK" status --json)
	[[ $("$JQ" -r '.ok and (.daemon_pid == '"$DAEMON_PID"')' <<<"$out" 2>/dev/null) == true ]] && good=$((good + 1))
done
expect_eq "20 complete status replies while a client does not read" 20 "$good"
expect_exec_errno "enforcement reported while a client does not read" EPERM "$T/bad/prog"
wait_event "events flow while a client does not read" ".process.pid == $TRY_PID and .action == \"blocked\""
touch "$WORK/hog.go"
wait "$hog"
read -r hog_result <"$WORK/hog" 2>/dev/null
lines=$(sed -n 's/.*lines=\([0-9]*\).*/\1/p' <<<"$hog_result")
expect_eq "the slow reader's backlog is whole, then ends" "bad=0 end=yes" "$(grep -o 'bad=.*' <<<"$hog_result")"
check "the slow reader got the whole backlog ($lines lines)" test "${lines:-0}" -gt "$n_backlog"

# --- a client that floods requests and reads nothing is dropped, counted
dropped0=$("$BULWARK" status --json | jq -r '.clients_dropped // "absent"')
expect_eq "status counts dropped clients" 0 "$dropped0"
$CTL "$SOCK" flood 20000 >"$WORK/flood.out" 2>&1
check "the flooding client was disconnected" grep -q closed "$WORK/flood.out"
expect_eq "one client dropped over its output bound" 1 "$("$BULWARK" status --json | jq -r .clients_dropped)"
check "daemon still running after the flood" alive

# --- a second daemon refuses to start and leaves the socket alone
out=$(timeout 120 "$BULWARKD" --policy "$WORK/good.policy" --events "$WORK/ev2.json" 2>&1)
rc=$?
expect_eq "second bulwarkd exits 1" 1 "$rc"
check "second bulwarkd says why, in one line" test "$(grep -c 'another bulwarkd' <<<"$out")" -eq 1
echo "  second daemon said: $out"
expect_eq "first daemon's socket still answers" "$DAEMON_PID" "$("$BULWARK" status --json | jq -r .daemon_pid)"
out=$(timeout 120 "$BULWARKD" --state-dir "$WORK/state2" --events "$WORK/ev2.json" 2>&1)
expect_eq "a daemon with another state dir refuses a live socket" 1 "$?"
check "it names the live socket" grep -q "$SOCK" <<<"$out"
expect_eq "the socket still answers the first daemon" "$DAEMON_PID" "$("$BULWARK" status --json | jq -r .daemon_pid)"

# --- SIGHUP reloads the policy from where it was loaded
g=$(gen)
kill -HUP "$DAEMON_PID"
wait_event "SIGHUP reload" '.type == "policy" and .event == "loaded" and .reason == "sighup"'
expect_eq "SIGHUP loaded the same file" "$WORK/good.policy" "$(event_field .policy.path)"
check "daemon alive after SIGHUP" alive
expect_eq "SIGHUP: generation +1" $((g + 1)) "$(gen)"
cp "$WORK/good.policy" "$WORK/good.saved"
cp "$WORK/typo.policy" "$WORK/good.policy"
kill -HUP "$DAEMON_PID"
wait_event "SIGHUP with a bad file" '.type == "policy" and .event == "rejected" and .reason == "sighup"'
check "rejection names the error" grep -q "unknown statement 'dney'" <<<"$(event_field .diagnostics)"
expect_eq "bad file on SIGHUP: generation unchanged" $((g + 1)) "$(gen)"
check "bad file on SIGHUP: last_load_error set" test "$("$BULWARK" status --json | jq -r '.last_load_error != null')" = true
expect_exec_errno "bad file on SIGHUP: old policy enforces" EPERM "$T/bad/prog"
expect_exec_ok "bad file on SIGHUP: old policy allows" "$T/ok"
cp "$WORK/good.saved" "$WORK/good.policy"
check "daemon alive after SIGHUP with a bad file" alive

# --- a policy storm under a stream of denials: each event keeps its rule
printf 'deny exec %s/bad/**\n' "$T" >"$WORK/a.policy"
printf '# b\n# b\n# b\ndeny exec %s/bad/prog\n' "$T" >"$WORK/b.policy"
rm -f "$WORK/stop"
ev_start=$(wc -l <"$EV")
denied_start=$("$BULWARK" status --json | jq -r .counters.exec.denied)
(
	while [[ ! -e $WORK/stop ]]; do "$BWTRY" exec "$T/bad/prog" >/dev/null; done
) &
hammer=$!
for ((i = 0; i < 20; i++)); do
	"$BULWARK" policy load "$WORK/a.policy" >/dev/null 2>&1 || fail "storm load a $i"
	"$BULWARK" policy load "$WORK/b.policy" >/dev/null 2>&1 || fail "storm load b $i"
done
touch "$WORK/stop"
wait "$hammer"
# Every denial of the storm reaches the file: wait for the counter's worth.
want=$(($("$BULWARK" status --json | jq -r .counters.exec.denied) - denied_start))
for ((i = 0; i < 300; i++)); do
	have=$(tail -n +$((ev_start + 1)) "$EV" | jq -c 'select(.type == "decision" and .action == "blocked")' | wc -l)
	[[ $have -ge $want ]] && break
	sleep 0.2
done
expect_eq "every denial reported ($want)" "$want" "$have"
storm=$(jq -sc --arg a "$WORK/a.policy" --arg b "$WORK/b.policy" \
	--arg ta "deny exec $T/bad/**" --arg tb "deny exec $T/bad/prog" '
	(map(select(.type == "policy" and .event == "loaded")) |
	 map({key: (.policy.generation | tostring), value: .policy.path}) | from_entries) as $by_gen |
	map(select(.type == "decision" and .action == "blocked") |
	    {p: $by_gen[.policy_generation | tostring], rule} |
	    select(.p == $a or .p == $b) |
	    {ok: (.rule != null and .rule.file == .p and
		  .rule.line == (if .p == $a then 1 else 4 end) and
		  .rule.text == (if .p == $a then $ta else $tb end))})
	| {n: length, bad: map(select(.ok | not)) | length}' "$EV")
n=$(jq -r .n <<<"$storm")
check "denials during the storm ($n)" test "$n" -ge 20
expect_eq "every storm denial names its own generation's rule" 0 "$(jq -r .bad <<<"$storm")"

# --- readiness is signalled once the policy is in force and the socket listens
stop_daemon
rm -f "$WORK/ready"
mkfifo "$WORK/ready"
"$BULWARKD" --policy "$WORK/good.policy" --events "$EV" --ready-fd 3 3>"$WORK/ready" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!
read -r -t 300 ready <"$WORK/ready"
expect_eq "--ready-fd says READY=1" "READY=1" "$ready"
expect_eq "ready means the socket answers" "$DAEMON_PID" "$("$BULWARK" status --json | jq -r .daemon_pid)"
expect_exec_errno "ready means the policy is in force" EPERM "$T/bad/prog"
rm -f "$WORK/ready2"
mkfifo "$WORK/ready2"
"$BULWARKD" --events "$WORK/ev2.json" --ready-fd 3 3>"$WORK/ready2" 2>/dev/null &
bad_pid=$!
ready=none
read -r -t 300 ready <"$WORK/ready2" || ready=eof
wait "$bad_pid"
rc=$?
expect_eq "a daemon that cannot start exits 1 and closes its ready fd unsaid" "1 eof" "$rc $ready"
stop_daemon
# sd_notify: a datagram to NOTIFY_SOCKET, no libsystemd needed.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(120)
print(s.recv(4096).decode().strip())' "$WORK/notify" >"$WORK/notify.out" &
listener=$!
for ((i = 0; i < 600; i++)); do [[ -S $WORK/notify ]] && break; sleep 0.1; done
NOTIFY_SOCKET=$WORK/notify "$BULWARKD" --events "$EV" 2>>"$DAEMON_LOG" &
DAEMON_PID=$!
wait "$listener"
check "NOTIFY_SOCKET gets READY=1" grep -qx "READY=1" "$WORK/notify.out"
expect_eq "notified means the socket answers" "$DAEMON_PID" "$("$BULWARK" status --json | jq -r .daemon_pid)"

teardown
