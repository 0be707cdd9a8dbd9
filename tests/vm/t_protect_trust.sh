#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Self-protection reads image-load control (decision 78): while the policy
# uses trust objects, a program named by `protect FILE level=L` gets its
# level only from a trusted image, and a protected process maps only
# trusted code.
#
# The attacks, each of which succeeds without the decision (run this file
# against a build before it: the untrusted image runs at level
# antimalware, the untrusted library's code runs inside the protected
# process):
#  - root placed untrusted code in a protected tree (before bulwarkd
#    started, or on a host where the file's protection was not in force)
#    and runs it to get the tree's level: the exec is refused, EPERM, a
#    `protect` gate event with `trusted: false`;
#  - a protected process maps an untrusted library: dlopen, mprotect
#    adding PROT_EXEC, and a trusted library hidden by a bind mount of an
#    untrusted one: refused, with the event.
# Next to each: the trusted protected program runs protected, maps a
# trusted library; an unprotected program maps the untrusted library; the
# untrusted image runs once trusted; and a policy without trust objects
# keeps the old meaning (protection by identity alone).
source "$(dirname "$0")/lib.sh" || exit 1
setup

export BULWARK_TRUST_DB=$WORK/trust.db
T=$WORK/pt
mkdir -p "$T/agent" "$T/lib"
LIB=$REPO/build/tests/trust-lib.so
MARK=$T/mark
cp "$BWTRY" "$T/agent/agent"   # the protected program, trusted
cp "$BWTRY" "$T/agent/evil"    # root's code in the protected tree: another inode, untrusted
cp "$BWTRY" "$T/plain"         # unprotected and untrusted
cp "$LIB" "$T/lib/good.so"     # trusted
cp "$LIB" "$T/lib/evil.so"     # untrusted
cp "$LIB" "$T/lib/bind.so"     # trusted, then hidden by a bind mount of evil.so

POLICY=$WORK/protect-trust.policy
cat >"$POLICY" <<EOF
deny exec untrusted from uid=4242
protect $T/agent/** level=antimalware
EOF
# Protection by identity alone: no trust object in the policy.
PLAIN_POLICY=$WORK/protect-only.policy
cat >"$PLAIN_POLICY" <<EOF
protect $T/agent/** level=antimalware
EOF

start_daemon || { fail "daemon start"; exit 1; }
# `protect self` with trust objects while bulwarkd's own code is untrusted:
# its next start would be refused by the gate, so the policy is (and the
# old "nothing trusted" refusal stands behind it if this one broke).
printf 'deny exec untrusted from uid=4242\nprotect self\n' >"$WORK/self-trust.policy"
out=$("$BULWARK" policy load "$WORK/self-trust.policy" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"self-trust.policy:1:"*"bulwarkd's code"*"is not trusted"* ]]; then
	pass "protect self with trust objects refused while bulwarkd's code is untrusted"
else
	fail "protect self with trust objects, bulwarkd untrusted: wanted a refusal, got rc=$rc: $out"
fi
# The protected program's own code: itself, ld.so, its libraries and the test library's.
files=("$T/agent/agent" "$T/lib/good.so" "$T/lib/bind.so" /lib64/ld-linux-x86-64.so.2 "$BULWARKD")
mapfile -t libs < <(ldd "$BWTRY" "$LIB" "$BULWARKD" 2>/dev/null |
	awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(0x/ {print $1}' | sort -u)
"$BULWARK" trust add "${files[@]}" "${libs[@]}" >"$WORK/add.out" 2>&1
check "trust add of the protected program's code" test $? -eq 0 || cat "$WORK/add.out"
out=$("$BULWARK" policy load "$POLICY" 2>&1)
check "policy with trust objects and protect loads ($out)" test $? -eq 0

AGENT=
# The targets read this pipe until it closes: protected, no signal of
# root's ends them, so at the end the test closes it and they end
# themselves; no protected process is left, and the next file keeps the
# programs (tests/vm/bwreset refuses while one is alive).
mkfifo "$WORK/hold" && exec {HOLD}<>"$WORK/hold"
TARGETS=()
# spawn PROGRAM: start a bwtry target from PROGRAM; its pid in SPAWNED, empty if it did not start.
spawn() {
	local out=$WORK/spawn.out i
	: >"$out"
	# (the target must not hold the pipe's other end itself)
	BW_TARGET_UNTIL_EOF=1 "$1" target <"$WORK/hold" {HOLD}>&- >"$out" 2>&1 &
	SPAWNED=$!
	TARGETS+=("$SPAWNED")
	for ((i = 0; i < 50; i++)); do
		grep -q '^target' "$out" && return 0
		kill -0 "$SPAWNED" 2>/dev/null || break
		sleep 0.1
	done
	wait "$SPAWNED" 2>/dev/null
	SPAWNED=
	return 1
}
protect_event() { # NAME FILTER: a deny by the protect gate, of an untrusted image
	wait_event "$1" ".action == \"blocked\" and .rule.gate == \"protect\" and .target.trusted == false and ($2)"
}
expect_dlopen() { # NAME PROGRAM PATH ok|refused
	rm -f "$MARK"
	TRY_OUT=$(BW_TRUST_MARK=$MARK "$2" dlopen "$3" 2>&1)
	TRY_RC=$?
	TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
	if [[ $4 == ok && $TRY_RC -eq 0 ]] && grep -q "loaded pid=$TRY_PID" "$MARK" 2>/dev/null; then
		pass "$1: dlopen $3 loads it, its code runs"
	elif [[ $4 == refused && $TRY_RC -ne 0 && $TRY_OUT == *"failed to map segment"* && ! -e $MARK ]]; then
		pass "$1: dlopen $3 fails to map it, its code never runs"
	else
		fail "$1: dlopen $3: wanted $4, got rc=$TRY_RC: $TRY_OUT; mark: $(cat "$MARK" 2>/dev/null)"
	fi
}

# --- the allow path: a trusted image of a protected program runs protected
if spawn "$T/agent/agent"; then
	AGENT=$SPAWNED
	pass "trusted protected program starts"
	expect_try "trusted protected program holds its level (root's kill -9)" kill EPERM "$AGENT" 9
	wait_event "kill of the protected program" ".process.pid == $TRY_PID and .rule.gate == \"protect\" and .op == \"signal\""
else
	fail "trusted protected program did not start: $(cat "$WORK/spawn.out")"
fi

# --- attack 1: untrusted code placed in the protected tree
expect_exec_errno "untrusted image of a protected program" EPERM "$T/agent/evil" noop
protect_event "untrusted image of a protected program" ".process.pid == $TRY_PID and .op == \"exec\" and .target.path == \"$T/agent/evil\" and .rule.required_level == \"antimalware\""
if spawn "$T/agent/evil"; then
	# What the attack wins where it is not refused: root's code at level antimalware.
	EVIL=$SPAWNED
	expect_try "attack: untrusted code holds the protected level" kill 0 "$EVIL" 9
	kill -9 "$EVIL" 2>/dev/null
else
	pass "untrusted image does not run at all (no level to hold)"
fi
expect_exec_ok "an unprotected untrusted program still runs (the rule is for uid 4242)" "$T/plain" noop

# --- attack 2: an untrusted library mapped into a protected process
expect_dlopen "protected process, trusted library" "$T/agent/agent" "$T/lib/good.so" ok
expect_dlopen "protected process, untrusted library" "$T/agent/agent" "$T/lib/evil.so" refused
protect_event "protected process, untrusted library" ".process.pid == $TRY_PID and .op == \"load\" and .via == \"mmap\" and .target.path == \"$T/lib/evil.so\""
expect_dlopen "unprotected process, untrusted library" "$T/plain" "$T/lib/evil.so" ok
expect_op "protected process, mprotect adding PROT_EXEC to an untrusted file" EPERM "" "" "$T/agent/agent" mprotect "$T/lib/evil.so"
protect_event "protected process, mprotect" ".op == \"load\" and .via == \"mprotect\""
expect_op "unprotected process, mprotect of the same file" 0 "" "" "$T/plain" mprotect "$T/lib/evil.so"
# A trusted library replaced by a bind mount: the mapping is the untrusted file.
expect_dlopen "protected process, trusted library before the bind mount" "$T/agent/agent" "$T/lib/bind.so" ok
if mount --bind "$T/lib/evil.so" "$T/lib/bind.so"; then
	expect_dlopen "protected process, library bind-mounted over" "$T/agent/agent" "$T/lib/bind.so" refused
	protect_event "library bind-mounted over" ".process.pid == $TRY_PID and .op == \"load\""
	umount "$T/lib/bind.so"
else
	fail "bind mount of a library"
fi

# --- trust is what decides, not the path: trusted now, both run
"$BULWARK" trust add "$T/agent/evil" "$T/lib/evil.so" >/dev/null 2>&1
check "trust add of the attacker's files" test $? -eq 0
expect_exec_ok "protected program, image now trusted" "$T/agent/evil" noop
expect_dlopen "protected process, library now trusted" "$T/agent/agent" "$T/lib/evil.so" ok
# ... and without its row, it is refused again
"$BULWARK" trust remove "$T/agent/evil" >/dev/null 2>&1
expect_exec_errno "protected program, trust removed" EPERM "$T/agent/evil" noop

# --- a policy without trust objects: protection by identity, as before
out=$("$BULWARK" policy load "$PLAIN_POLICY" 2>&1)
check "protect-only policy loads ($out)" test $? -eq 0
if spawn "$T/agent/evil"; then
	expect_try "without trust objects an untrusted protected program runs protected" kill EPERM "$SPAWNED" 9
	EVIL=$SPAWNED
else
	fail "without trust objects the untrusted protected program should run: $(cat "$WORK/spawn.out")"
fi

exec {HOLD}>&-
# Bounded: a target that does not end here (its level refuses root's kill)
# makes bwreset refuse and unload, and is killed after the teardown.
running() { local st; read -r _ _ st _ 2>/dev/null <"/proc/$1/stat" && [[ $st != Z ]]; } # a zombie has ended
for p in "${TARGETS[@]}"; do
	for ((i = 0; i < 100; i++)); do running "$p" || break; sleep 0.1; done
done
left=$(for p in "${TARGETS[@]}"; do running "$p" && echo "$p"; done)
check "the protected targets ended themselves when the pipe closed (left: ${left:-none})" test -z "$left"
teardown
for p in "${TARGETS[@]}"; do kill -9 "$p" 2>/dev/null || :; done
