#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Authorization (issue 13 section 3, docs/policy.md "Grants"): the control
# socket is root's until the policy grants more, by uid and program.
#  - no grant: the socket is 0600 and uid 4242 cannot connect;
#  - granted: the socket opens (0666); the granted program of the granted
#    uid does what it was given (status; a layer whose deny the kernel
#    enforces, EPERM and an event naming the layer), and is refused what it
#    was not (explain, policy load, unload: EACCES, the policy and the pins
#    unchanged);
#  - the same uid with another program, or another uid, is refused;
#  - a granted client cannot take over another's layer, nor hold two;
#  - a policy without grants closes the socket again and the connected
#    client with it (its layer and rules go).
source "$(dirname "$0")/lib.sh" || exit 1
setup
BWLAYER=$REPO/build/tests/bwlayer
T=$WORK/g
mkdir -p "$T" && chmod 755 "$WORK" "$T"
cp "$BWLAYER" "$T/agent"     # the granted vendor program
cp "$BWLAYER" "$T/other"     # the same code under another file: not granted
cp "$BULWARK" "$T/cli"       # the admin CLI, granted status only
cp /usr/bin/true "$T/prog"
cp /usr/bin/true "$T/prog2"
SOCK=/run/bulwark/bulwarkd.sock
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@"; }

cat >"$WORK/none.policy" <<POL
deny exec $T/never
POL
cp /usr/bin/true "$T/never"
cat >"$WORK/grant.policy" <<POL
deny exec $T/never
grant layer,events from uid=4242 exe=$T/agent
grant layer from uid=4243 exe=$T/agent
grant status from uid=4242 exe=$T/cli
POL

# --- without grants: root's alone
start_daemon --policy "$WORK/none.policy" || { fail "daemon start"; exit 1; }
expect_eq "no grant: the socket is root's" 600 "$(stat -c %a "$SOCK")"
out=$(as 4242 "$T/cli" status 2>&1)
check "no grant: uid 4242 cannot use the socket ($out)" test $? -ne 0

# --- with grants
"$BULWARK" policy load "$WORK/grant.policy" >/dev/null 2>&1
check "the policy with grants loads" test $? -eq 0
expect_eq "granted: the socket is open to others" 666 "$(stat -c %a "$SOCK")"
expect_eq "... and its directory can be passed through" 711 "$(stat -c %a "$(dirname "$SOCK")")"
out=$(as 4242 "$T/cli" status --json 2>&1)
check "granted status: uid 4242's cli reads status" test "$(jq -r '.counters | type' <<<"$out" 2>/dev/null)" = object
gen=$("$BULWARK" status --json | jq -r .policy.generation)
out=$(as 4242 "$T/cli" policy load "$WORK/none.policy" 2>&1)
rc=$?
check "policy load is root's: refused ($out)" test $rc -ne 0 -a -n "$(grep -i 'not granted' <<<"$out")"
expect_eq "... and the policy in force is unchanged" "$gen" "$("$BULWARK" status --json | jq -r .policy.generation)"
out=$(as 4242 "$T/cli" unload 2>&1)
check "unload is root's: refused ($out)" test $? -ne 0 -a -n "$(grep -i 'not granted' <<<"$out")"
check "... and bulwark is still pinned" test -e /sys/fs/bpf/bulwark
out=$(as 4242 "$T/cli" policy explain exec "$T/prog" 2>&1)
check "explain was not granted: refused ($out)" test $? -ne 0 -a -n "$(grep -i 'not granted' <<<"$out")"
check "the refusals are in bulwarkd's log" grep -q "refused 'policy-load' is root's or not granted to uid 4242" "$DAEMON_LOG"


client_open a 4242 "$T/agent" vend 10
expect_eq "the granted program of uid 4242 opens a layer" "open rc=0" "$OPEN"
expect_exec_ok "before its rule, the program runs" "$T/prog"
client_cmd a begin
client_cmd a "padd deny exec $T/prog"
client_cmd a commit
expect_eq "its transaction commits" "commit rc=0" "$ANSWER"
expect_exec_errno "the granted client's deny is enforced in the kernel" EPERM "$T/prog"
wait_event "the refusal names its layer" ".action == \"blocked\" and .process.pid == $TRY_PID and .layer.name == \"vend\""
client_open a2 4242 "$T/agent" vend2 11
check "one layer per uid other than root: a second is refused ($OPEN)" test "$OPEN" != "open rc=0"
client_close a2

client_open o 4242 "$T/other" intruder 20
check "the same uid with another program is refused ($OPEN)" test "$OPEN" != "open rc=0"
client_close o
check "... and bulwarkd logged it" grep -q "refused control connection from uid 4242 .*$T/other" "$DAEMON_LOG"
client_open u 4244 "$T/agent" stranger 30
check "another uid with the granted program is refused ($OPEN)" test "$OPEN" != "open rc=0"
client_close u

# The persistent rule outlives its client; another granted identity cannot take the layer.
client_close a
expect_exec_errno "a persistent rule outlives its client" EPERM "$T/prog"
client_open h 4243 "$T/agent" vend 10
check "uid 4243, granted layers too, cannot take over uid 4242's layer ($OPEN)" test "$OPEN" != "open rc=0"
client_close h
expect_exec_errno "... whose rule still denies" EPERM "$T/prog"
client_open b 4242 "$T/agent" vend 10
expect_eq "its own identity takes it back" "open rc=0" "$OPEN"
client_cmd b begin
client_cmd b "add deny exec $T/prog2"
client_cmd b commit
expect_exec_errno "the taken-back layer adds a rule" EPERM "$T/prog2"

# Grants withdrawn: the socket closes and so does the client.
"$BULWARK" policy load "$WORK/none.policy" >/dev/null 2>&1
check "root loads a policy without grants" test $? -eq 0
expect_eq "no grant any more: the socket is root's again" 600 "$(stat -c %a "$SOCK")"
for ((i = 0; i < 50; i++)); do
	[[ $("$BULWARK" status --json | jq -r '[.layers[]? | select(.connected)] | length') == 0 ]] && break
	sleep 0.1
done
expect_exec_ok "the closed client's non-persistent rule went with it" "$T/prog2"
client_cmd b begin
check "the closed client can do nothing more ($ANSWER)" test "$ANSWER" != "begin rc=0"
client_close b
expect_exec_errno "root's own deny still decides" EPERM "$T/never"
teardown
