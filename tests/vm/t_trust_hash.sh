#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rules by hash match content under any name (decision 90): with
# `deny exec sha256:X` and `deny load sha256:Y` and NO untrusted rule, the
# kernel hashes untrusted images with IMA (once per file version, cached)
# so that a copy of a denied tool (`cp /usr/bin/nc /tmp/x`), a hardlink or
# a symlink to it is refused like the original, a different or modified
# file runs, a file written to the denied content is refused at its next
# exec, and one written away from it runs again. Each deny asserts the
# errno and the event (rule line, target.sha256); each allow sits next to
# a deny. The status counters show a hash computed once and then cached.
#
# BW_BUILD=DIR runs it against another build's bulwarkd and bulwark (e.g.
# main's, before decision 90: the copy runs there).
source "$(dirname "$0")/lib.sh" || exit 1
if [[ -n ${BW_BUILD:-} ]]; then
	BULWARKD=$BW_BUILD/bulwarkd
	BULWARK=$BW_BUILD/bulwark
	echo "   using the build in $BW_BUILD"
fi
setup

export BULWARK_TRUST_DB=$WORK/trust.db
T=$WORK/t
mkdir -p "$T"
LIB=$REPO/build/tests/trust-lib.so
MARK=$T/mark

cp /usr/bin/true "$T/denied" && printf 'D' >>"$T/denied"     # the "denied tool"
cp /usr/bin/true "$T/other" && printf 'O' >>"$T/other"       # another program
cp "$T/denied" /tmp/bw-hash-copy                              # a copy: another inode
ln /tmp/bw-hash-copy "$T/copy-hardlink"                       # the copy's inode, another name
ln -sf /tmp/bw-hash-copy "$T/copy-symlink"
cp "$T/denied" "$T/mod"                                       # a copy, one byte changed
size=$(stat -c %s "$T/mod")
printf 'E' | dd of="$T/mod" bs=1 seek=$((size - 1)) conv=notrunc status=none
cp "$T/other" "$T/to-denied"                                  # written to the denied content later
cp "$T/denied" "$T/away"                                      # written away from it later
cp /usr/bin/true "$T/twice" && printf 'T' >>"$T/twice"        # the cache counters
cp "$LIB" "$T/denied.so" && printf 'L' >>"$T/denied.so"       # a denied library
cp "$T/denied.so" "$T/denied-copy.so"
cp "$LIB" "$T/other.so" && printf 'P' >>"$T/other.so"         # another library
H=$(sha256sum "$T/denied" | cut -d' ' -f1)
HO=$(sha256sum "$T/other" | cut -d' ' -f1)
HL=$(sha256sum "$T/denied.so" | cut -d' ' -f1)

cat >"$WORK/hash.policy" <<POL
deny exec sha256:$H
deny load sha256:$HL
POL
start_daemon || { fail "daemon start"; exit 1; }
out=$("$BULWARK" policy load "$WORK/hash.policy" 2>&1)
check "policy with sha256: rules and no trust loads ($out)" test $? -eq 0
st=$("$BULWARK" status --json)
expect_eq "status: IMA hashing available" true "$(jq -r .trust.hash.available <<<"$st")"
# Decision 108: the hashing programs are attached while a policy names a hash.
PINS=/sys/fs/bpf/bulwark
check "sha256: rules: the exec hashing program is attached" test -e "$PINS/link_bw_hash_bprm"
check "sha256: rules: the mapping hashing program is attached" test -e "$PINS/link_bw_hash_mmap"
expect_eq "sha256: rules: every held link attached" true \
	"$(jq -r '.enforcement.links.attached == .enforcement.links.expected' <<<"$st")"

hash_event() { # NAME PATH OP LINE SHA256: a blocked decision on PATH by this process
	if wait_event "$1" ".type == \"decision\" and .process.pid == $TRY_PID and .target.path == \"$2\" and .action == \"blocked\" and .op == \"$3\" and .rule.line == $4"; then
		expect_eq "$1: event sha256" "$5" "$(event_field .target.sha256)"
		expect_eq "$1: untrusted, hashed" "false hashed" \
			"$(event_field .target.trusted) $(event_field '.flags | map(select(. == "hashed")) | join(",")')"
	fi
}

# --- exec: the original, a copy, a hardlink and a symlink are denied; others run
expect_exec_errno "the denied program" EPERM "$T/denied"
hash_event "the denied program" "$T/denied" exec 1 "$H"
expect_exec_ok "another program runs" "$T/other"
expect_exec_errno "a copy in /tmp" EPERM /tmp/bw-hash-copy
hash_event "a copy in /tmp" /tmp/bw-hash-copy exec 1 "$H"
expect_exec_errno "a hardlink of the copy" EPERM "$T/copy-hardlink"
hash_event "a hardlink of the copy" "$T/copy-hardlink" exec 1 "$H"
expect_exec_errno "a symlink to the copy" EPERM "$T/copy-symlink"
hash_event "a symlink to the copy" /tmp/bw-hash-copy exec 1 "$H"
expect_exec_ok "a copy with one byte changed runs" "$T/mod"
expect_try "the copy by execveat" execveat EPERM /tmp/bw-hash-copy
hash_event "execveat" /tmp/bw-hash-copy exec 1 "$H"
expect_try "the copy by fexecve" fexecve EPERM /tmp/bw-hash-copy
hash_event "fexecve" /tmp/bw-hash-copy exec 1 "$H"
printf '#!%s\n' /tmp/bw-hash-copy >"$T/script.sh" && chmod +x "$T/script.sh"
expect_exec_errno "a #! script whose interpreter is the copy" EPERM "$T/script.sh"
hash_event "#! interpreter" /tmp/bw-hash-copy exec 1 "$H"
printf '#!%s\n' "$T/other" >"$T/script-ok.sh" && chmod +x "$T/script-ok.sh"
expect_exec_ok "a #! script with another interpreter runs" "$T/script-ok.sh"
try_exec /lib64/ld-linux-x86-64.so.2 /tmp/bw-hash-copy
if [[ $TRY_RC -eq 0 && $TRY_OUT == *"exit=127"* ]]; then pass "ld.so COPY: the mapping is refused, ld.so exits 127"; else fail "ld.so COPY: $TRY_OUT"; fi
wait_event "ld.so COPY" ".process.pid == $TRY_PID and .target.path == \"/tmp/bw-hash-copy\" and .action == \"blocked\" and .rule.line == 1"
try_exec /lib64/ld-linux-x86-64.so.2 "$T/other"
if [[ $TRY_RC -eq 0 && $TRY_OUT == *"exit=0"* ]]; then pass "ld.so OTHER runs"; else fail "ld.so OTHER: $TRY_OUT"; fi
# An allowed untrusted program's event carries its hash too (audit it).
cat >"$WORK/audit.policy" <<POL
deny exec sha256:$H
deny load sha256:$HL
audit exec sha256:$HO
POL
"$BULWARK" policy load "$WORK/audit.policy" >/dev/null 2>&1
expect_exec_ok "another program, audited" "$T/other"
if wait_event "audit event of an untrusted program" ".process.pid == $TRY_PID and .decision == \"audit\""; then
	expect_eq "audit event: sha256 of the untrusted program" "$HO" "$(event_field .target.sha256)"
fi
"$BULWARK" policy load "$WORK/hash.policy" >/dev/null 2>&1

# --- load: dlopen of a copy of the denied library is refused; another loads
rm -f "$MARK"
TRY_OUT=$(BW_TRUST_MARK=$MARK "$BWTRY" dlopen "$T/denied-copy.so" 2>&1)
TRY_RC=$?
TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
if [[ $TRY_RC -ne 0 && $TRY_OUT == *"failed to map segment from shared object"* ]]; then
	pass "dlopen of a copy of the denied library fails to map it"
else
	fail "dlopen of a copy of the denied library: $TRY_OUT"
fi
hash_event "dlopen of the copy" "$T/denied-copy.so" load 2 "$HL"
check "dlopen of the copy: its code did not run" test ! -e "$MARK"
BW_TRUST_MARK=$MARK expect_try "dlopen of another library" dlopen 0 "$T/other.so"
check "another library: its code ran" grep -q "loaded pid=$TRY_PID" "$MARK"
rm -f "$MARK"
try_exec /usr/bin/env LD_PRELOAD="$T/denied-copy.so" BW_TRUST_MARK="$MARK" "$T/other"
if [[ $TRY_OUT == *"exit=0"* && ! -e $MARK ]]; then pass "LD_PRELOAD of the copy: not loaded, the program runs"; else fail "LD_PRELOAD of the copy: $TRY_OUT"; fi

# mprotect adding PROT_EXEC (a non-sleepable hook: no hashing there): the
# copy's hash is cached from the mapping above, so it is refused; a file
# never mapped executable nor exec'd is decided with its hash unknown
# (flag hash-unknown, counted): sha256: rules cannot match it (docs/trust.md).
expect_try "mprotect PROT_EXEC of the copy (hash cached)" mprotect EPERM "$T/denied-copy.so"
wait_event "mprotect of the copy" ".process.pid == $TRY_PID and .op == \"exec\" and .via == \"mprotect\" and .action == \"blocked\" and .rule.line == 2 or .process.pid == $TRY_PID and .op == \"load\" and .via == \"mprotect\" and .action == \"blocked\" and .rule.line == 2"
cp "$T/denied.so" "$T/never-mapped.so"
u0=$("$BULWARK" status --json | jq -r .trust.hash.unknown)
expect_try "mprotect PROT_EXEC of a copy never mapped executable (known gap)" mprotect 0 "$T/never-mapped.so"
u1=$("$BULWARK" status --json | jq -r .trust.hash.unknown)
check "the gap is counted as hash-unknown ($u0 -> $u1)" test "$u1" -gt "$u0"

# --- a change of content: the cached hash is no longer valid
expect_exec_ok "before it is written to the denied content" "$T/to-denied"
cat "$T/denied" >"$T/to-denied"
expect_exec_errno "written to the denied content" EPERM "$T/to-denied"
hash_event "written to the denied content" "$T/to-denied" exec 1 "$H"
expect_exec_errno "before it is written away from the denied content" EPERM "$T/away"
hash_event "before written away" "$T/away" exec 1 "$H"
printf 'A' | dd of="$T/away" bs=1 seek=100 conv=notrunc status=none
expect_exec_ok "written away from the denied content" "$T/away"

# --- hashed once, then cached
hstat() { "$BULWARK" status --json | jq -r ".trust.hash.$1"; }
"$BWTRY" exec "$T/other" >/dev/null 2>&1   # the commands below, hashed before counting
c0=$(hstat computed) k0=$(hstat cached)
expect_exec_ok "first exec of a new file" "$T/twice"
c1=$(hstat computed) k1=$(hstat cached)
expect_exec_ok "second exec of the same file" "$T/twice"
c2=$(hstat computed) k2=$(hstat cached)
echo "   hash counters: computed $c0 -> $c1 -> $c2, cached $k0 -> $k1 -> $k2"
expect_eq "first exec: hashed once" 1 $((c1 - c0))
expect_eq "second exec: not hashed again" 0 $((c2 - c1))
check "second exec: served from the cache" test $((k2 - k1)) -ge 1
expect_eq "no hashing failed" 0 "$(hstat failed)"

# --- a policy without sha256: rules pays nothing: hashing is off
cat >"$WORK/nohash.policy" <<POL
deny exec $T/denied
POL
"$BULWARK" policy load "$WORK/nohash.policy" >/dev/null 2>&1
c0=$(hstat computed) k0=$(hstat cached)
cp "$T/other" "$T/fresh" && printf 'F' >>"$T/fresh"
expect_exec_ok "no sha256: rules: a new file runs" "$T/fresh"
expect_exec_errno "no sha256: rules: the path rule still denies" EPERM "$T/denied"
c1=$(hstat computed) k1=$(hstat cached)
expect_eq "no sha256: rules: nothing hashed or looked up" "0 0" "$((c1 - c0)) $((k1 - k0))"
expect_exec_ok "no sha256: rules: the copy runs (only its path was named)" /tmp/bw-hash-copy
check "no sha256: rules: the exec hashing program is detached" test ! -e "$PINS/link_bw_hash_bprm"
check "no sha256: rules: the mapping hashing program is detached" test ! -e "$PINS/link_bw_hash_mmap"
check "no sha256: rules: the programs stay pinned for the next policy" \
	test -e "$PINS/prog_bw_hash_bprm" -a -e "$PINS/prog_bw_hash_mmap"
hash_ids=$( (bpftool -j prog show name bw_hash_bprm; bpftool -j prog show name bw_hash_mmap) 2>/dev/null |
	jq -r 'if type == "array" then .[] else . end | .id')
linked=$(bpftool -j link show 2>/dev/null | jq -r '.[].prog_id')
check "no sha256: rules: the hashing programs are loaded ($(echo $hash_ids))" test -n "$hash_ids"
check "no sha256: rules: no link runs them" test -z "$(comm -12 <(sort <<<"$hash_ids") <(sort <<<"$linked"))"
st=$("$BULWARK" status --json)
expect_eq "no sha256: rules: every held link attached" true \
	"$(jq -r '.enforcement.links.attached == .enforcement.links.expected' <<<"$st")"
"$BULWARK" policy load "$WORK/hash.policy" >/dev/null 2>&1
expect_exec_errno "sha256: rules again: attached again, the copy is denied" EPERM /tmp/bw-hash-copy
hash_event "sha256: rules again: the copy's denial" /tmp/bw-hash-copy exec 1 "$H"
expect_exec_ok "sha256: rules again: another program runs" "$T/other"
"$BULWARK" policy load "$WORK/nohash.policy" >/dev/null 2>&1

# An unload while the hashing programs are attached removes them too, and
# says it did (it waited for each link's program, which their program
# pins kept alive: "unload incomplete" before the fix).
"$BULWARK" policy load "$WORK/hash.policy" >/dev/null 2>&1
check "unload with hashing attached: its links are pinned" test -e "$PINS/link_bw_hash_bprm"
out=$("$BULWARK" unload 2>&1)
rc=$?
check "unload with hashing attached succeeds ($out)" test "$rc" -eq 0
check "unload with hashing attached: complete" test -z "$(grep -i incomplete <<<"$out")"
left=$(bpftool -j prog show | jq '[.[] | select(.name | startswith("bw_"))] | length')
expect_eq "unload with hashing attached: no bulwark program left" 0 "$left"

rm -f /tmp/bw-hash-copy
teardown
