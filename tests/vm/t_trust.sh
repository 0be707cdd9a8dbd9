#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Image-load control end to end (docs/trust.md, "In the kernel"): with
# `deny exec untrusted` and `deny load untrusted` in force and the system's
# code trusted, bash, coreutils and python3 still run, and every other way
# to run code is refused with EPERM and an event, then allowed once the
# file is trusted: an untrusted binary, through a symlink in /usr/local/bin,
# a hardlink, execveat, fexecve, `ld.so FILE`, LD_PRELOAD, LD_AUDIT,
# LD_LIBRARY_PATH, /etc/ld.so.preload, dlopen, a #! script (and its
# interpreter), a trusted binary copied and modified. Trust ends when a
# byte changes (a write-open), or its inode changes without a write
# (chmod: ctime alone), and `trust add` gives it back. Rules by hash,
# load rules alone, subject selectors, and the fail-closed refusal of a
# policy that would trust nothing.
#
# What is trusted: not all of /usr (hashing 5 GiB under TCG takes minutes),
# but the programs this test and its helpers run, their libraries (ldd),
# ld.so and python3's extension modules: the same code path as a full
# import, at a size the VM hashes in seconds (the time is printed).
source "$(dirname "$0")/lib.sh" || exit 1
setup

export BULWARK_TRUST_DB=$WORK/trust.db
T=$WORK/t
mkdir -p "$T"
LDSO=/lib64/ld-linux-x86-64.so.2
LIB=$REPO/build/tests/trust-lib.so
MARK=$T/mark
ULB=/usr/local/bin/bw-trust-x

cp /usr/bin/true "$T/x"                      # an untrusted program (a copy: another inode)
ln "$T/x" "$T/x-hardlink"                    # the same inode, another name
mkdir -p /usr/local/bin && ln -sf "$T/x" "$ULB"   # a trusted directory, an untrusted target
cp /usr/bin/true "$T/mod" && printf 'M' >>"$T/mod"   # a trusted binary, copied and modified
cp "$LIB" "$T/evil.so"                       # an untrusted library
cp "$LIB" "$T/lib2.so"                       # another, for load rules
mkdir -p "$T/libdir" && cp "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)" "$T/libdir/libc.so.6"   # an untrusted libc
printf '#!/bin/sh\nexit 0\n' >"$T/script.sh" && chmod +x "$T/script.sh"
printf '#!%s\n' "$T/x" >"$T/script-x.sh" && chmod +x "$T/script-x.sh"   # an untrusted interpreter
cp /usr/bin/true "$T/rv" && printf 'r' >>"$T/rv"     # trusted, then changed
cp /usr/bin/true "$T/rv2" && printf 's' >>"$T/rv2"   # trusted, then chmod'ed
cp /usr/bin/true "$T/rv3" && printf 't' >>"$T/rv3" && ln "$T/rv3" "$T/rv3-link"   # written through a hardlink, truncated
cp /usr/bin/true "$T/h" && printf 'h' >>"$T/h"       # trusted, denied by its hash
cp /usr/bin/true "$T/h2" && printf 'i' >>"$T/h2"     # trusted, audited by its hash
cp "$BWTRY" "$T/bwtry-allowed"                       # a program allowed untrusted loads
H=$(sha256sum "$T/h" | cut -d' ' -f1)
H2=$(sha256sum "$T/h2" | cut -d' ' -f1)

# --- a policy that would trust nothing is refused (fail closed, with the way out)
cat >"$WORK/trust.policy" <<POL
deny exec untrusted
deny load untrusted
deny exec sha256:$H
audit exec sha256:$H2
POL
start_daemon || { fail "daemon start"; exit 1; }
out=$("$BULWARK" policy load "$WORK/trust.policy" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"trust.policy:1:11: error: no file is trusted"* && $out == *"hint: trust the system's code first"* ]]; then
	pass "empty trust database: policy refused with file:line:col and a hint"
else
	fail "empty trust database: wanted a refusal at trust.policy:1:11, got rc=$rc: $out"
fi
expect_exec_ok "nothing in force after the refusal" "$T/x"

# --- trust the code this test runs
progs=(bash sh dash true env ls cat cp rm ln mkdir chmod stat sleep head tail wc sed grep awk mawk
	jq gojq timeout mkfifo dd printf sha256sum cut date kill setpriv python3 python3.11 id truncate)
files=("$LDSO" "$BULWARK" "$BULWARKD" "$BWTRY" "$T/bwtry-allowed" "$T/rv" "$T/rv2" "$T/rv3" "$T/h" "$T/h2")
for p in "${progs[@]}"; do
	f=$(type -P "$p") && [[ $f == /* ]] && files+=("$f" "$(readlink -f "$f")")
done
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)
mapfile -t libs < <(ldd "${files[@]}" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(0x/ {print $1}' | sort -u)
t0=$EPOCHREALTIME
"$BULWARK" trust add "${files[@]}" "${libs[@]}" /usr/lib/x86_64-linux-gnu/libnss_files.so.2 >"$WORK/add.out" 2>&1
add_rc=$?
"$BULWARK" trust add -r /usr/lib/python3.11/lib-dynload >>"$WORK/add.out" 2>&1
add_secs=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $t0}")
n=$("$BULWARK" trust list --json | jq length)
echo "   trusted $n files in $add_secs s under $(uname -r)"
check "trust add of the test's code" test "$add_rc" -eq 0 -a "$n" -gt 50 || cat "$WORK/add.out"

out=$("$BULWARK" policy load "$WORK/trust.policy" 2>&1)
check "policy with trust rules loads once code is trusted ($out)" test $? -eq 0
st=$("$BULWARK" status --json)
check "status reports the trust map" test "$(jq -r .trust.trusted <<<"$st")" -gt 50
wait_event "trust synced" '.type == "trust" and .event == "synced" and .trusted > 50'

# --- the system still runs
expect_exec_ok "bash" /bin/bash -c 'true'
expect_exec_ok "coreutils" /usr/bin/ls /
expect_exec_ok "python3" /usr/bin/python3 -c 'import json, socket; print(json.dumps([1]))'
expect_exec_ok "trusted program through its symlink" /bin/true

# --- untrusted: denied with EPERM and an event, next to the allow once trusted
# dlopen reports no errno: ld.so's dlerror() says the mapping failed (the
# kernel's EPERM is in the event, and in the mmap and mprotect checks).
expect_dlopen_refused() { # NAME PATH
	TRY_OUT=$("$BWTRY" dlopen "$2" 2>&1)
	TRY_RC=$?
	TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
	if [[ $TRY_RC -ne 0 && $TRY_OUT == *"$2: failed to map segment from shared object"* ]]; then
		pass "$1: dlopen $2 fails to map it"
	else
		fail "$1: dlopen $2: wanted a refused mapping, got: $TRY_OUT"
	fi
}

deny_event() { # NAME PATH [OP]: a blocked decision on PATH by this process, untrusted
	wait_event "$1" ".type == \"decision\" and .process.pid == $TRY_PID and .target.path == \"$2\" and .action == \"blocked\" and .op == \"${3:-exec}\" and .target.trusted == false and .rule.line == ${4:-1}"
}

expect_exec_errno "untrusted binary" EPERM "$T/x"
deny_event "untrusted binary" "$T/x"
# The policy has sha256: rules, so the kernel hashed the untrusted file (decision 90).
expect_eq "untrusted event carries IMA's hash" "$(sha256sum "$T/x" | cut -d' ' -f1)" "$(event_field .target.sha256)"
check "untrusted event flag" grep -q untrusted <<<"$(event_field '.flags | join(",")')"
EXPLAIN_POLICY=$WORK/trust.policy
explain_agrees "untrusted binary" "exec $T/x" blocked 1
explain_agrees "trusted program" "exec /usr/bin/true" allowed none
expect_try "untrusted binary by execveat" execveat EPERM "$T/x"
deny_event "execveat" "$T/x"
expect_try "untrusted binary by fexecve (AT_EMPTY_PATH)" fexecve EPERM "$T/x"
deny_event "fexecve" "$T/x"
expect_exec_errno "through a symlink in /usr/local/bin" EPERM "$ULB"
deny_event "through a symlink in /usr/local/bin" "$T/x"
expect_exec_errno "hardlink" EPERM "$T/x-hardlink"
deny_event "hardlink" "$T/x-hardlink"
try_exec "$LDSO" "$T/x"
if [[ $TRY_RC -eq 0 && $TRY_OUT == *"exit=127"* ]]; then pass "ld.so $T/x: the mapping is refused, ld.so exits 127"; else fail "ld.so $T/x: $TRY_OUT"; fi
wait_event "ld.so FILE" ".process.pid == $TRY_PID and .target.path == \"$T/x\" and .action == \"blocked\" and .via == \"mmap\" and .target.trusted == false"
rm -f "$MARK"
try_exec /usr/bin/env LD_PRELOAD="$T/evil.so" BW_TRUST_MARK="$MARK" /bin/true
if [[ $TRY_OUT == *"exit=0"* && ! -e $MARK ]]; then pass "LD_PRELOAD of an untrusted library: not loaded, the program runs"; else fail "LD_PRELOAD: $TRY_OUT, mark: $(cat "$MARK" 2>/dev/null)"; fi
wait_event "LD_PRELOAD" ".process.pid == $TRY_PID and .target.path == \"$T/evil.so\" and .action == \"blocked\" and .via == \"mmap\""
try_exec /usr/bin/env LD_AUDIT="$T/evil.so" /bin/true
if [[ $TRY_OUT == *"exit=0"* ]]; then pass "LD_AUDIT of an untrusted library: the program runs"; else fail "LD_AUDIT: $TRY_OUT"; fi
wait_event "LD_AUDIT" ".process.pid == $TRY_PID and .target.path == \"$T/evil.so\" and .action == \"blocked\" and .via == \"mmap\""
try_exec /usr/bin/env LD_LIBRARY_PATH="$T/libdir" /bin/true
if [[ $TRY_OUT == *"exit=127"* ]]; then pass "LD_LIBRARY_PATH to an untrusted libc: refused, ld.so exits 127"; else fail "LD_LIBRARY_PATH: $TRY_OUT"; fi
wait_event "LD_LIBRARY_PATH" ".process.pid == $TRY_PID and .target.path == \"$T/libdir/libc.so.6\" and .action == \"blocked\""
# /etc/ld.so.preload (the guest's / is a throwaway overlay): every process
# tries it; kept for one exec only.
printf '%s\n' "$T/evil.so" >/etc/ld.so.preload
try_exec /usr/bin/env BW_TRUST_MARK="$MARK" /bin/true
rm -f /etc/ld.so.preload
if [[ $TRY_OUT == *"exit=0"* && ! -e $MARK ]]; then pass "/etc/ld.so.preload of an untrusted library: not loaded"; else fail "ld.so.preload: $TRY_OUT"; fi
wait_event "/etc/ld.so.preload" ".process.pid == $TRY_PID and .target.path == \"$T/evil.so\" and .action == \"blocked\""
BW_TRUST_MARK=$MARK expect_dlopen_refused "dlopen of an untrusted library" "$T/evil.so"
wait_event "dlopen" ".process.pid == $TRY_PID and .target.path == \"$T/evil.so\" and .action == \"blocked\" and .target.trusted == false"
check "dlopen: its code did not run" test ! -e "$MARK"
expect_exec_errno "#! script" EPERM "$T/script.sh"
deny_event "#! script" "$T/script.sh"
expect_exec_errno "modified copy of a trusted binary" EPERM "$T/mod"
deny_event "modified copy" "$T/mod"

# ... allowed once trusted (trust add reaches the kernel through bulwarkd)
"$BULWARK" trust add "$T/x" "$T/evil.so" "$T/script.sh" "$T/mod" >/dev/null 2>&1
check "trust add of the test files" test $? -eq 0
expect_exec_ok "untrusted binary, now trusted" "$T/x"
expect_try "execveat, now trusted" execveat 0 "$T/x"
expect_try "fexecve, now trusted" fexecve 0 "$T/x"
expect_exec_ok "symlink, now trusted" "$ULB"
expect_exec_ok "hardlink, now trusted" "$T/x-hardlink"
try_exec "$LDSO" "$T/x"
check "ld.so FILE, now trusted ($TRY_OUT)" test "$TRY_RC" -eq 0 -a "${TRY_OUT##*exit=}" = 0
rm -f "$MARK"
try_exec /usr/bin/env LD_PRELOAD="$T/evil.so" BW_TRUST_MARK="$MARK" /bin/true
check "LD_PRELOAD, now trusted: loaded" grep -q "loaded pid=$TRY_PID" "$MARK"
rm -f "$MARK"
printf '%s\n' "$T/evil.so" >/etc/ld.so.preload
try_exec /usr/bin/env BW_TRUST_MARK="$MARK" /bin/true
rm -f /etc/ld.so.preload
check "/etc/ld.so.preload, now trusted: loaded" grep -q "loaded pid=$TRY_PID" "$MARK"
"$BULWARK" trust add "$T/libdir/libc.so.6" >/dev/null 2>&1
try_exec /usr/bin/env LD_LIBRARY_PATH="$T/libdir" /bin/true
check "LD_LIBRARY_PATH, now trusted ($TRY_OUT)" test "${TRY_OUT##*exit=}" = 0
BW_TRUST_MARK=$MARK expect_try "dlopen, now trusted" dlopen 0 "$T/evil.so"
check "dlopen, now trusted: its code ran" grep -q "loaded pid=$TRY_PID" "$MARK"
expect_exec_ok "#! script, now trusted" "$T/script.sh"
expect_exec_ok "modified copy, now trusted" "$T/mod"
# The interpreter is judged too: a trusted script cannot run an untrusted one.
"$BULWARK" trust remove "$T/x" >/dev/null 2>&1
"$BULWARK" trust add "$T/script-x.sh" >/dev/null 2>&1
expect_exec_errno "trusted #! script, untrusted interpreter" EPERM "$T/script-x.sh"
deny_event "untrusted interpreter" "$T/x"
expect_exec_errno "trust remove ends trust" EPERM "$T/x"

# --- revocation: one byte changes, the next exec is refused; trust add restores it
expect_exec_ok "trusted binary before the change" "$T/rv"
size=$(stat -c %s "$T/rv")
printf 'R' | dd of="$T/rv" bs=1 seek=$((size - 1)) conv=notrunc status=none
expect_exec_errno "one byte changed" EPERM "$T/rv"
deny_event "one byte changed" "$T/rv"
"$BULWARK" trust add "$T/rv" >/dev/null 2>&1
expect_exec_ok "trust add after the change" "$T/rv"
# Through another name: the inode is the key, a hardlink is the same file.
expect_exec_ok "trusted, with a hardlink elsewhere" "$T/rv3"
printf 'L' | dd of="$T/rv3-link" bs=1 seek=$(($(stat -c %s "$T/rv3") - 1)) conv=notrunc status=none
expect_exec_errno "written through its hardlink" EPERM "$T/rv3"
deny_event "written through its hardlink" "$T/rv3"
# A truncate to the size it has: the bytes stay, the hook still ends trust.
"$BULWARK" trust add "$T/rv3" >/dev/null 2>&1
expect_exec_ok "trusted again before a truncate" "$T/rv3"
truncate -s "$(stat -c %s "$T/rv3")" "$T/rv3"
expect_exec_errno "after a truncate" EPERM "$T/rv3"
deny_event "after a truncate" "$T/rv3"

# A change with no write and no hook on its path (chmod): the inode's
# ctime moved, so the kernel no longer counts the stored entry.
expect_exec_ok "trusted before a chmod" "$T/rv2"
chmod 0700 "$T/rv2"
expect_exec_errno "after a chmod (ctime moved)" EPERM "$T/rv2"
deny_event "after a chmod" "$T/rv2"
"$BULWARK" trust add "$T/rv2" >/dev/null 2>&1
expect_exec_ok "trust add after the chmod" "$T/rv2"

# A writer that opened the file *before* it was trusted: a shared writable
# mapping whose page is already dirty takes stores with no fault, so no
# ctime moves and no hook runs. bulwarkd must refuse to trust a file open
# for writing (the kernel reports i_writecount), else the change below
# runs as trusted code once the writer lets go.
cp /usr/bin/true "$T/mm" && printf 'm' >>"$T/mm"
coproc HOLDER { python3 -c '
import mmap, sys
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0)
m[-1] = ord("n")                # the page is dirty from here on
print("mapped", flush=True)
sys.stdin.readline()            # trust is given now
m[-1] = ord("o")                # a store to the dirty page: no fault, no ctime
m.close(); f.close()
print("changed", flush=True)
' "$T/mm"; }
read -r -t 30 line <&"${HOLDER[0]}"
ctime0=$(stat -c %Z.%z "$T/mm")
"$BULWARK" trust add "$T/mm" >/dev/null 2>&1
wait_event "trust refused while open for writing" ".type == \"trust\" and .event == \"rejected\" and .path == \"$T/mm\" and (.why | test(\"open for writing\"))"
echo go >&"${HOLDER[1]}"
read -r -t 30 line <&"${HOLDER[0]}"
wait "$HOLDER_PID" 2>/dev/null
check "the store through the mapping changed the file ($line) and moved no ctime" \
	test "$line" = changed -a "$(stat -c %Z.%z "$T/mm")" = "$ctime0" -a "$(tail -c 1 "$T/mm")" = o
expect_exec_errno "changed through a writable mapping opened before trust" EPERM "$T/mm"
deny_event "changed through a writable mapping" "$T/mm"
"$BULWARK" trust add "$T/mm" >/dev/null 2>&1
expect_exec_ok "trust add once nobody writes it" "$T/mm"

# --- overlayfs: the kernel judges the real file below. A trusted file of
# the lower layer, changed through the overlay, is copied up: a new real
# file, untrusted until trusted itself. Only where / is the VM's
# throwaway overlay (vm/README.md): never on a real root.
if [[ $(stat -f -c %T /) == overlayfs && -x /usr/bin/tac ]]; then
	OV=/usr/bin/tac
	"$BULWARK" trust add "$OV" >/dev/null 2>&1
	expect_exec_ok "overlay: a trusted lower-layer file" "$OV" /dev/null
	printf 'O' >>"$OV"
	expect_exec_errno "overlay: changed through the overlay (copied up)" EPERM "$OV"
	deny_event "overlay: copied up" "$OV"
	"$BULWARK" trust add "$OV" >/dev/null 2>&1
	expect_exec_ok "overlay: the upper file, trusted" "$OV" /dev/null
else
	echo "   (overlay checks skipped: / is $(stat -f -c %T /))"
fi

# --- rules by hash: trusted content named by its sha256
expect_exec_errno "deny exec sha256:" EPERM "$T/h"
if wait_event "deny exec sha256:" ".process.pid == $TRY_PID and .target.path == \"$T/h\" and .action == \"blocked\" and .rule.line == 3"; then
	expect_eq "hash rule event: trusted" true "$(event_field .target.trusted)"
	expect_eq "hash rule event: sha256" "$H" "$(event_field .target.sha256)"
fi
explain_agrees "deny exec sha256:" "exec $T/h" blocked 3
expect_exec_ok "audit exec sha256: runs" "$T/h2"
if wait_event "audit exec sha256:" ".process.pid == $TRY_PID and .decision == \"audit\" and .rule.line == 4"; then
	expect_eq "audit event sha256" "$H2" "$(event_field .target.sha256)"
fi

# --- load rules alone, and subject selectors
cat >"$WORK/load.policy" <<POL
deny load untrusted
allow load untrusted from exe=$T/bwtry-allowed
POL
out=$("$BULWARK" policy load "$WORK/load.policy" 2>&1)
check "load policy loads ($out)" test $? -eq 0
expect_try "load: mmap PROT_EXEC of an untrusted file" mmap EPERM "$T/lib2.so"
wait_event "load: mmap" ".process.pid == $TRY_PID and .op == \"load\" and .via == \"mmap\" and .action == \"blocked\" and .rule.line == 1"
expect_try "load: mprotect adding PROT_EXEC" mprotect EPERM "$T/lib2.so"
wait_event "load: mprotect" ".process.pid == $TRY_PID and .op == \"load\" and .via == \"mprotect\" and .action == \"blocked\""
expect_dlopen_refused "load: dlopen" "$T/lib2.so"
wait_event "load: dlopen" ".process.pid == $TRY_PID and .op == \"load\" and .action == \"blocked\" and .target.path == \"$T/lib2.so\""
expect_exec_ok "load rules leave execve to exec rules" "$T/x"
expect_op "load: the allowed program" 0 "" "" "$T/bwtry-allowed" mmap "$T/lib2.so"
expect_op "load: the allowed program, mprotect" 0 "" "" "$T/bwtry-allowed" mprotect "$T/lib2.so"
expect_try "load: a trusted library" mmap 0 "$T/evil.so"

rm -f "$ULB"
teardown
