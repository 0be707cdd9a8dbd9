#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An upgrade without a gap: an older bulwarkd (build/upgrade-from, see
# scripts/build-upgrade-from) enforces a policy; it is stopped and this
# build's bulwarkd takes over while an exec hammer runs. No denied exec
# gets through, a marked process stays marked, and afterwards the kernel
# runs exactly one set of bulwark programs: this build's.
source "$(dirname "$0")/lib.sh" || exit 1
setup fresh # (lib.sh: loads the programs itself, nothing kept)

OLD=$REPO/build/upgrade-from/build
if [[ ! -x $OLD/bulwarkd ]]; then
	fail "upgrade: no older build in $OLD (make upgrade-from)"
	exit 1
fi
echo "upgrading from: $(cat "$REPO/build/upgrade-from/FROM")"
T=$WORK/t
mkdir -p "$T/bad"
cp "$BWTRY" "$T/bad/prog"
cp "$BWTRY" "$T/ok"
cp /bin/bash "$T/marked-sh"
POLICY=$WORK/upgrade.policy
cat >"$POLICY" <<EOF
deny exec $T/bad/**
deny fork any from exe=$T/marked-sh with sticky
EOF
programs() { bpftool prog show -j | jq '[.[] | select(.name | startswith("bw_"))] | length'; }
link_pins() { find /sys/fs/bpf/bulwark -maxdepth 1 -name 'link_*' | wc -l; }
# Programs attached on demand (decision 108) that no policy needs now: pinned, not linked.
idle_programs() {
	local p
	for p in /sys/fs/bpf/bulwark/prog_*; do
		[[ -e $p && ! -e /sys/fs/bpf/bulwark/link_${p##*/prog_} ]] && echo "$p"
	done | wc -l
}

# --- the older build enforces
"$OLD/bulwarkd" --policy "$POLICY" --events "$WORK/old-events.json" 2>>"$DAEMON_LOG" &
old_pid=$!
for ((i = 0; i < 300; i++)); do "$OLD/bulwark" status >/dev/null 2>&1 && break; sleep 0.1; done
expect_exec_errno "older build denies" EPERM "$T/bad/prog" noop
old_gen=$("$OLD/bulwark" status --json | jq -r .policy.generation)
old_programs=$(programs)
check "older build runs programs ($old_programs)" test "$old_programs" -gt 5

# A process marked by the older build: a shell that may never fork again.
mkfifo "$WORK/go"
"$T/marked-sh" -c "read x <$WORK/go; /bin/true; echo rc=\$? >$WORK/marked.out" 2>"$WORK/marked.err" &
marked=$!
for ((i = 0; i < 50; i++)); do [[ $(readlink /proc/$marked/exe) == "$T/marked-sh" ]] && break; sleep 0.1; done

# --- the hammer: exec the denied program until told to stop
hammer() {
	local n=0 out
	while [[ ! -e $WORK/stop ]]; do
		out=$("$BWTRY" exec "$T/bad/prog" noop 2>&1)
		# anything but the refusal is a leak (or an unexplained failure)
		[[ $out == *"errno=EPERM"* ]] || echo "$out" >>"$WORK/leaks"
		n=$((n + 1))
		echo "$n" >"$WORK/hammer.count"
	done
}
hammer &
hammer_pid=$!
for ((i = 0; i < 100; i++)); do [[ $(cat "$WORK/hammer.count" 2>/dev/null) -ge 3 ]] && break; sleep 0.1; done

# --- the upgrade: stop the old daemon (its pins keep enforcing), start ours
kill -TERM "$old_pid"
wait "$old_pid" 2>/dev/null
before=$(cat "$WORK/hammer.count")
start_daemon --policy "$POLICY" || { fail "upgrade: new daemon did not start"; touch "$WORK/stop"; exit 1; }
started=$(cat "$WORK/hammer.count")
for ((i = 0; i < 300; i++)); do [[ $(cat "$WORK/hammer.count") -ge $((started + 10)) ]] && break; sleep 0.1; done
touch "$WORK/stop"
wait "$hammer_pid"
total=$(cat "$WORK/hammer.count")
check "hammer ran through the upgrade ($before before, $started at takeover, $total in all)" \
	test "$total" -gt "$((started + 5))"
if [[ -s $WORK/leaks ]]; then
	fail "upgrade: denied execs got through: $(head -n 3 "$WORK/leaks")"
else
	pass "upgrade: no denied exec got through ($total tries)"
fi

# --- one set of programs: ours
links=$("$BULWARK" status --json | jq -r .enforcement.links.expected)
expected=$((links + $(idle_programs)))
expect_eq "upgrade: bpftool shows exactly one set of programs" "$expected" "$(programs)"
expect_eq "upgrade: one link pin per attached program" "$links" "$(link_pins)"
check "upgrade: nothing left staged" test ! -e /sys/fs/bpf/bulwark_next
check "upgrade: this build is recorded" test -e /sys/fs/bpf/bulwark/bw_build
expect_eq "upgrade: enforcement on" on "$("$BULWARK" status --json | jq -r .enforcement.state)"
expect_eq "upgrade: policy generation continues" "$((old_gen + 1))" \
	"$("$BULWARK" status --json | jq -r .policy.generation)"
expect_exec_errno "new build denies" EPERM "$T/bad/prog" noop
wait_event "new build denies" ".process.pid == $TRY_PID and .action == \"blocked\" and .rule.line == 1"
expect_exec_ok "new build allows" "$T/ok" noop

# --- the mark survived the upgrade
echo go >"$WORK/go"
wait "$marked" 2>/dev/null
check "marked shell could not fork after the upgrade" grep -qi "fork" "$WORK/marked.err"
wait_event "marked shell: sticky denial by the new build" \
	".process.pid == $marked and .op == \"fork\" and .action == \"blocked\" and (.flags | index(\"sticky\") != null)"

# --- a restart of the same build adopts: still one set
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon --policy "$POLICY" || { fail "restart"; exit 1; }
expect_eq "restart of the same build adopts: one set of programs" "$expected" "$(programs)"
expect_eq "restart: adopted" true "$("$BULWARK" status --json | jq -r .adopted)"

teardown
