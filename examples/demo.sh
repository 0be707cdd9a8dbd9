#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: start bulwarkd with examples/demo.policy, run commands that
# are allowed and denied, and show what the caller saw and what bulwark
# reported. Runs itself inside the test VM when this kernel cannot run
# BPF LSM programs. Exits non-zero if any step does not behave as shown.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
BULWARKD=$repo/build/bulwarkd
BULWARK=$repo/build/bulwark
BWTRY=$repo/build/tests/bwtry
D=/tmp/bulwark-demo

if [[ ${1:-} != --here ]]; then
	if [[ $(id -u) -eq 0 && ! -e /sys/fs/bpf/bulwark ]] && "$BULWARKD" --probe 2>/dev/null; then
		exec "$0" --here
	fi
	echo ">>> this kernel cannot run BPF LSM programs: running the demo in the test VM (vm/run)"
	exec vm/run -- "$0" --here
fi

bold=$(tput bold 2>/dev/null || true) plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
ok=1
expect() { # expect WANT_ERRNO PATH: run it and show what the caller saw
	expect_try "$1" exec "$2"
}
expect_try() { # expect_try WANT_ERRNO OP ARGS...: one bwtry operation
	local want=$1 out
	shift
	printf '$ bwtry %s\n' "$*"
	out=$("$BWTRY" "$@")
	printf '  %s\n' "$out"
	[[ $out == *"errno=$want"* ]] || { echo "  !! expected errno=$want"; ok=0; }
}

step "Setting up $D"
rm -rf "$D" && mkdir -p "$D/downloads" "$D/tools" "$D/bin"
cp /usr/bin/true "$D/downloads/invoice.pdf.exe"
cp /usr/bin/true "$D/tools/netcat"
cp /usr/bin/true "$D/tools/updater"
cp /usr/bin/true "$D/bin/hello"
cp "$BWTRY" "$D/bin/agent"
ln "$D/tools/netcat" "$D/bin/innocent-name"       # a hardlink: same inode
ln -s "$D/downloads/invoice.pdf.exe" "$D/bin/open-me"  # a symlink into the tree
sed 's/^/  /' examples/demo.policy

# start_daemon ARGS...: start bulwarkd and wait until it says it is ready
# (the policy in force, the socket listening): never a guess at how long
# that takes. A daemon that dies first closes the pipe unsaid.
start_daemon() {
	rm -f "$D/ready" && mkfifo "$D/ready" || exit 1
	"$BULWARKD" "$@" --events "$D/events.json" --ready-fd 3 3>"$D/ready" 2>>"$D/daemon.log" &
	pid=$!
	local ready=
	read -r -t 600 ready <"$D/ready"
	if [[ $ready != READY=1 ]]; then
		sed 's/^/  /' "$D/daemon.log"
		kill -0 "$pid" 2>/dev/null && echo "!! bulwarkd was not ready after 600 s" ||
			echo "!! bulwarkd exited before it was ready (log above)"
		exit 1
	fi
}

step "Starting bulwarkd"
: >"$D/daemon.log"
start_daemon --policy examples/demo.policy
sed 's/^/  /' "$D/daemon.log"
"$BULWARK" status | sed 's/^/  /'

step "Allowed: an ordinary program"
expect 0 "$D/bin/hello"
step "Denied: anything in downloads/ (EPERM comes from the kernel)"
expect EPERM "$D/downloads/invoice.pdf.exe"
step "Denied: a symlink pointing into downloads/"
expect EPERM "$D/bin/open-me"
step "Denied: netcat under another name (a hardlink is the same inode)"
expect EPERM "$D/bin/innocent-name"
step "Allowed but audited: the updater"
expect 0 "$D/tools/updater"

step "Process control: the agent cannot be attached to or killed, HUP still reaches it"
"$D/bin/agent" target >"$D/agent.out" &
agent=$!
for _ in $(seq 600); do grep -q '^target' "$D/agent.out" && break; sleep 0.1; done
expect_try EPERM attach "$agent"
expect_try EPERM kill "$agent" KILL
expect_try 0 kill "$agent" HUP
for _ in $(seq 300); do grep -q '^sig 1$' "$D/agent.out" && break; sleep 0.1; done
kill -0 "$agent" && grep -q '^sig 1$' "$D/agent.out" && echo "  the agent is alive and got SIGHUP" ||
	{ echo "  !! the agent should be alive and have SIGHUP"; ok=0; }

# Events arrive through the ring buffer: wait for them, boundedly.
for _ in $(seq 300); do [[ $(grep -c '"action":"blocked"' "$D/events.json") -ge 5 ]] && break; sleep 0.2; done
step "What bulwark reported (bulwark events)"
"$BULWARK" events | sed 's/^/  /'
step "The same events as JSON (one object per line)"
jq -c 'select(.type == "decision")' "$D/events.json" | head -n 2 | jq . | sed 's/^/  /'
[[ $(grep -c '"action":"blocked"' "$D/events.json") -ge 5 ]] || { echo "  !! expected 5 blocked events"; ok=0; }

step "A policy with a typo is rejected, and the old one stays in force"
printf 'deny exec %s/bin/hello\ndney exec %s/tools/updater\n' "$D" "$D" >"$D/typo.policy"
"$BULWARK" policy load "$D/typo.policy" 2>&1 | sed 's/^/  /'
expect EPERM "$D/downloads/invoice.pdf.exe"
expect 0 "$D/bin/hello"
step "Policy changes are events too: who loaded what, and what was refused"
jq -c 'select(.type == "policy") | {event, reason, by: .by.exe, path: (.path // .policy.path)}' "$D/events.json" |
	sed 's/^/  /'
[[ $(jq -c 'select(.type == "policy" and .event == "rejected")' "$D/events.json" | wc -l) -eq 1 ]] ||
	{ echo "  !! expected the rejected policy as an event"; ok=0; }

step "Kill the daemon with SIGKILL: enforcement stays in the kernel"
kill -KILL $pid; wait $pid 2>/dev/null
expect EPERM "$D/downloads/invoice.pdf.exe"

step "Counters (a restarted daemon adopts the pinned programs)"
start_daemon
"$BULWARK" status | sed 's/^/  /'

step "A vendor's EDR on libbulwark (examples/mini-edr): a blocklisted program runs once, never twice"
cp /usr/bin/true "$D/bin/dropper" && printf 'demo dropper\n' >>"$D/bin/dropper"
sha256sum "$D/bin/dropper" | cut -d' ' -f1 >"$D/blocklist"
{ cat examples/demo.policy; echo "notify exec exit   # process notifications, for the EDR's tree"; } >"$D/edr.policy"
"$BULWARK" policy load "$D/edr.policy" | sed 's/^/  /'
"$repo/build/examples/mini-edr" --altitude 500 "$D/blocklist" >"$D/edr.out" 2>&1 &
edr=$!
wait_edr() { for _ in $(seq 300); do grep -q "$1" "$D/edr.out" && return 0; sleep 0.1; done; return 1; }
wait_edr '^ready' && sed -n 's/^ready/  mini-edr: ready/p' "$D/edr.out"
expect 0 "$D/bin/dropper"
wait_edr '^blocked' || { echo "  !! mini-edr did not block the dropper"; ok=0; }
sed -n 's/^\(detected\|blocked\)/  mini-edr: \1/p' "$D/edr.out"
expect EPERM "$D/bin/dropper"
wait_edr '^denied' || { echo "  !! mini-edr did not see its refusal"; ok=0; }
sed -n 's/^denied/  mini-edr: denied/p' "$D/edr.out"
kill -TERM "$edr"; wait "$edr" 2>/dev/null
# bulwarkd drops a departed client's layer in its next turn: wait for that, boundedly.
for _ in $(seq 100); do
	[[ $("$BULWARK" status --json | jq -r '[.layers[]?.name] | index("mini-edr") == null') == true ]] && break
	sleep 0.1
done
echo "  mini-edr stopped: its layer and rules went with it"
expect 0 "$D/bin/dropper"

step "Self-protection: lock bulwark with a key, then protect it and an agent"
"$BULWARK" key gen "$D/admin" | sed 's/^/  /'
"$BULWARK" lock "$D/admin.pub" | sed 's/^/  /'
mkdir -p "$D/protected" && cp "$BWTRY" "$D/protected/edr-agent"
printf 'include "%s"\nprotect self\nprotect %s/protected/** level=antimalware\n' \
	"$repo/examples/demo.policy" "$D" >"$D/protect.policy"
sed 's/^/  /' "$D/protect.policy"
echo '$ bulwark policy load (unsigned: refused, the daemon is locked)'
"$BULWARK" policy load "$D/protect.policy" 2>&1 | sed 's/^/  /'
"$BULWARK" sign --key "$D/admin.key" --version 1 policy "$D/protect.policy" | sed 's/^/  /'
"$BULWARK" policy load "$D/protect.policy" 2>&1 | sed 's/^/  /' # with protect.policy.sig
"$D/protected/edr-agent" target >"$D/edr.out" &
edr=$!
for _ in $(seq 600); do grep -q '^target' "$D/edr.out" && break; sleep 0.1; done

step "Root cannot kill the protected agent, nor bulwarkd, nor unload it"
expect_try EPERM kill "$edr" KILL
expect_try EPERM attach "$edr"
expect_try EPERM kill "$pid" KILL
echo '$ bulwark unload'
out=$("$BULWARK" unload 2>&1)
printf '  %s\n' "$out"
[[ $out == *"signed"* ]] || { echo "  !! unload should have been refused"; ok=0; }
echo '$ rm -rf /sys/fs/bpf/bulwark'
rm -rf /sys/fs/bpf/bulwark 2>&1 | head -n 2 | sed 's/^/  /'
[[ -e /sys/fs/bpf/bulwark/bw_policy ]] || { echo "  !! the pins should still be there"; ok=0; }
kill -0 "$edr" && kill -0 "$pid" && echo "  the agent and bulwarkd are alive" ||
	{ echo "  !! the agent and bulwarkd should be alive"; ok=0; }
jq -c 'select(.rule.gate == "protect") | {op, via, target: (.target.pid // .target.path), required: .rule.required_level}' \
	"$D/events.json" 2>/dev/null | head -n 4 | sed 's/^/  /'

step "Unload: a payload signed with the lock's key, version 2, detaches everything"
"$BULWARK" sign --key "$D/admin.key" --version 2 unload -o "$D/unload.sig" | sed 's/^/  /'
"$BULWARK" unload --signature "$D/unload.sig" | sed 's/^/  /'
wait $pid 2>/dev/null
kill -KILL "$edr" 2>/dev/null
kill -KILL "$agent" 2>/dev/null
expect 0 "$D/downloads/invoice.pdf.exe"

if [[ $ok -eq 1 ]]; then
	step "Demo finished: every step behaved as shown"
	exit 0
fi
step "Demo FAILED: a step did not behave as expected"
exit 1
