#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Persistent client layers across a restart, and who may commit layer
# rules under protection (issue 13; decisions 97 and 98).
#  - a granted vendor (uid 4242, its agent program) commits a persistent
#    `deny exec`, leaves; bulwarkd is killed (SIGKILL) and started again:
#    the exec is still EPERM with an event naming the layer, a binary not
#    denied still runs, the layer is listed, the saved file is bulwarkd's
#    (0600); another granted identity cannot take the layer; the same
#    identity takes it back and removes the rule; the exec runs, and runs
#    after one more restart (the removal was saved too);
#  - root drops a departed vendor's persistent layer (unprotected);
#  - a corrupt saved file: bulwarkd starts, says so in one line, keeps the
#    file aside, enforces what the policy says;
#  - locked with `protect self`: root's layer-open is refused (EACCES,
#    with the reason in the reply and the log) unless the policy grants
#    root `layer`; the granted vendor's open and deny still work; root
#    cannot rewrite the saved file (the protect gate, EPERM). A signed
#    unload ends it.
source "$(dirname "$0")/lib.sh" || exit 1
setup
BWLAYER=$REPO/build/tests/bwlayer
T=$WORK/lp
mkdir -p "$T" && chmod 755 "$WORK" "$T"
cp "$BWLAYER" "$T/agent" # the vendor's program
cp "$BWLAYER" "$T/rootagent" # root's client program
for f in p free q never; do cp /usr/bin/true "$T/$f"; done
# bulwark's persistent directory (the trust database's): a directory of its own.
TDB=$WORK/tdb
export BULWARK_TRUST_DB=$TDB/trust.db
SAVED=$TDB/layers.json
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@"; }

POLICY=$WORK/admin.policy
cat >"$POLICY" <<POL
deny exec $T/never
grant layer from uid=4242 exe=$T/agent
grant layer from uid=4243 exe=$T/agent
POL
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

layers() { "$BULWARK" status --json | jq -c '[.layers[] | "\(.name) \(.altitude) \(.connected) \(.rules | length)"]'; }
wait_layers() {
	local i
	for ((i = 0; i < 100; i++)); do [[ $(layers) == "$1" ]] && return 0; sleep 0.1; done
	return 1
}
# restart_killed: SIGKILL bulwarkd (no goodbye, nothing saved at exit) and start it again.
restart_killed() {
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	start_daemon --policy "$POLICY"
}

# --- a persistent deny, its client gone, bulwarkd killed and started again
client_open v 4242 "$T/agent" vend 500
expect_eq "the granted vendor opens its layer" "open rc=0" "$OPEN"
client_cmd v begin
client_cmd v "padd deny exec $T/p"
id=$(sed -n 's/^| id=//p' "$WORK/v.out" | tail -n 1)
client_cmd v "add deny exec $T/free"
client_cmd v commit
expect_eq "its transaction commits" "commit rc=0" "$ANSWER"
expect_exec_errno "the persistent deny, client connected" EPERM "$T/p"
client_close v
check "the client left: its persistent rule stays" wait_layers '["vend 500 false 1"]'
expect_exec_ok "its other rule went with it" "$T/free"
check "the persistent rule is saved ($SAVED)" test -s "$SAVED"
expect_eq "... readable by bulwarkd alone" 600 "$(stat -c %a "$SAVED" 2>/dev/null)"
gen0=$("$BULWARK" status --json | jq -r .policy.generation)

restart_killed
check "bulwarkd started again after SIGKILL" kill -0 "$DAEMON_PID"
check "the first swap after the restart kept the layer" \
	test "$("$BULWARK" status --json | jq -r .policy.generation)" -gt "$gen0"
expect_eq "the layer is listed after the restart" '["vend 500 false 1"]' "$(layers)"
d0=$(counter exec denied)
expect_exec_errno "the persistent deny after a restart" EPERM "$T/p"
if wait_event "the denial after the restart names the layer" \
	".process.pid == $TRY_PID and .action == \"blocked\" and .target.path == \"$T/p\""; then
	expect_eq "denial layer after restart" vend "$(event_field .layer.name)"
	expect_eq "denial rule after restart" "vend: deny exec $T/p" "$(event_field '.rule.file + ": " + .rule.text')"
fi
check "the denied counter moved" test "$(counter exec denied)" -gt "$d0"
expect_exec_ok "a binary not denied still runs after the restart" "$T/free"
no_event "no denial of it" ".process.pid == $TRY_PID and .action == \"blocked\""
expect_exec_errno "the administrator's deny after the restart" EPERM "$T/never"

# Another granted identity cannot take the restored layer.
client_open h 4243 "$T/agent" vend 500
check "another granted uid cannot take the restored layer ($OPEN)" test "$OPEN" != "open rc=0"
client_close h
expect_exec_errno "... whose rule still denies" EPERM "$T/p"
# The same identity takes it back and removes the rule.
client_open v 4242 "$T/agent" vend 500
expect_eq "the same identity takes the restored layer back" "open rc=0" "$OPEN"
check "... with its rule and id ($id)" grep -q "\"id\":$id," "$WORK/v.out"
client_cmd v begin
client_cmd v "remove $id"
client_cmd v commit
expect_eq "it removes its persistent rule" "commit rc=0" "$ANSWER"
expect_exec_ok "removed: the exec runs" "$T/p"
no_event "no denial of the removed rule" ".process.pid == $TRY_PID and .action == \"blocked\""
client_close v
check "no rule left: the layer goes" wait_layers '[]'
restart_killed
expect_eq "after another restart: no layer" '[]' "$(layers)"
expect_exec_ok "after another restart the removed rule stays removed" "$T/p"

# --- root drops a departed vendor's persistent layer (not protected)
client_open v 4242 "$T/agent" vend 500
client_cmd v begin
client_cmd v "padd deny exec $T/p"
client_cmd v commit
client_close v
restart_killed
expect_exec_errno "restored again" EPERM "$T/p"
client_open r 0 "$T/rootagent" vend 500
expect_eq "root takes a departed vendor's layer (unprotected)" "open rc=0" "$OPEN"
rid=$(grep -o '"id":[0-9]*' "$WORK/r.out" | head -n 1 | cut -d: -f2)
client_cmd r begin
client_cmd r "remove $rid"
client_cmd r commit
expect_eq "root removes the vendor's persistent rule" "commit rc=0" "$ANSWER"
client_close r
check "the departed vendor's layer is gone" wait_layers '[]'
expect_exec_ok "dropped by root: the exec runs" "$T/p"

# --- a corrupt saved file: start anyway, say so once, keep it aside
client_open v 4242 "$T/agent" vend 500
client_cmd v begin
client_cmd v "padd deny exec $T/p"
client_cmd v commit
client_close v
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
echo '{"layers": [ {"name": ' >"$SAVED"
start_daemon --policy "$POLICY"
check "bulwarkd starts with a corrupt saved file" kill -0 "$DAEMON_PID"
check "... says so in its log, naming the file" grep -q "cannot read the saved client layers $SAVED" "$DAEMON_LOG"
check "... and keeps it aside" test -n "$(ls "$SAVED".bad* 2>/dev/null)"
expect_exec_errno "the administrator's policy is in force" EPERM "$T/never"
expect_exec_ok "... and the unreadable layer is not" "$T/p"

# --- locked, `protect self`: root needs a grant for `layer`
"$BULWARK" key gen "$WORK/lock" >/dev/null
check "bulwark lock" "$BULWARK" lock "$WORK/lock.pub"
client_open r 0 "$T/rootagent" rootvendor 700
check "locked: root's layer-open without a grant is refused ($OPEN)" test "$OPEN" = "open rc=-13"
check "... saying why" grep -q "grant layer" "$WORK/r.out"
check "... in bulwarkd's log too" grep -q "refused 'layer-open' from uid 0.*grant layer" "$DAEMON_LOG"
client_close r
PROT=$WORK/protect.policy
cat >"$PROT" <<POL
deny exec $T/never
protect self
grant layer from uid=4242 exe=$T/agent
POL
"$BULWARK" sign --key "$WORK/lock.key" --version 1 policy "$PROT" >/dev/null
out=$("$BULWARK" policy load "$PROT" 2>&1)
check "the protecting policy loads, signed ($out)" test $? -eq 0
expect_eq "protection is on" true "$("$BULWARK" status --json | jq -r .protection.self)"
client_open r 0 "$T/rootagent" rootvendor 700
check "protected: root's layer-open is refused ($OPEN)" test "$OPEN" = "open rc=-13"
check "... saying why" grep -q "grant layer" "$WORK/r.out"
client_close r
expect_eq "root opened nothing" '[]' "$(layers)"
client_open v 4242 "$T/agent" vend 500
expect_eq "protected: the granted vendor opens its layer" "open rc=0" "$OPEN"
client_cmd v begin
client_cmd v "padd deny exec $T/q"
client_cmd v commit
expect_eq "protected: the granted vendor commits" "commit rc=0" "$ANSWER"
expect_exec_errno "protected: the vendor's deny" EPERM "$T/q"
wait_event "protected: the denial names the layer" \
	".process.pid == $TRY_PID and .action == \"blocked\" and .layer.name == \"vend\""
expect_exec_ok "protected: the rest runs" "$T/free"
check "protected: the rule is saved" grep -q "deny exec $T/q" "$SAVED"
out=$(sh -c "echo '{\"layers\":[]}' >'$SAVED'" 2>&1)
check "protected: root cannot rewrite the saved layers ($out)" grep -q "Operation not permitted" <<<"$out"
wait_event "protected: the write was refused by the protect gate" \
	".action == \"blocked\" and .rule.gate == \"protect\" and (.target.path // \"\" | startswith(\"$TDB\"))"
check "... the saved rule is intact" grep -q "deny exec $T/q" "$SAVED"
client_close v

# Root granted `layer` by a signed policy may open its own layer (another
# file: `protect self` guards the policy files in force).
PROT2=$WORK/protect2.policy
cat >"$PROT2" <<POL
deny exec $T/never
protect self
grant layer from uid=4242 exe=$T/agent
grant layer from uid=0 exe=$T/rootagent
POL
"$BULWARK" sign --key "$WORK/lock.key" --version 2 policy "$PROT2" >/dev/null
out=$("$BULWARK" policy load "$PROT2" 2>&1)
check "a signed policy granting root layer loads ($out)" test $? -eq 0
client_open r 0 "$T/rootagent" rootvendor 700
expect_eq "protected: root granted layer opens a layer" "open rc=0" "$OPEN"
client_close r
client_open r 0 "$T/rootagent" vend 500
check "protected: granted root still cannot take the vendor's layer ($OPEN)" test "$OPEN" != "open rc=0"
client_close r
expect_exec_errno "... whose rule still denies" EPERM "$T/q"

"$BULWARK" sign --key "$WORK/lock.key" --version 3 unload -o "$WORK/unload.sig" >/dev/null
check "signed unload" "$BULWARK" unload --signature "$WORK/unload.sig"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
teardown
