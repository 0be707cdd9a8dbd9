#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Memory controls end to end: W^X (wx), executable anonymous memory
# (anon-exec, including code written into a private file mapping), and code
# from nameless files (memfd-exec: memfd, deleted files), each through mmap,
# mprotect and execve. Every deny asserts the caller's exact errno and the
# daemon's event; the same call by a JIT the policy exempts is allowed and
# reported; ordinary file mappings stay untouched.
source "$(dirname "$0")/lib.sh" || exit 1
setup

M=$WORK/m
mkdir -p "$M/subj"
cp "$BWTRY" "$M/subj/attacker"
cp "$BWTRY" "$M/subj/jit"
A=$M/subj/attacker J=$M/subj/jit
head -c 8192 /dev/zero >"$M/data"

# Line numbers matter: events are checked against them.
cat >"$WORK/memory.policy" <<POL
deny wx any
allow wx any from exe=$J with log
deny anon-exec any
allow anon-exec any from exe=$J with log
deny memfd-exec any
allow memfd-exec any from exe=$J with log
POL
L_WX=1 L_JWX=2 L_ANON=3 L_JANON=4 L_MEMFD=5 L_JMEMFD=6
EXPLAIN_POLICY=$WORK/memory.policy

check "memory policy checks clean" "$BULWARK" policy check --strict "$WORK/memory.policy"
start_daemon --policy "$WORK/memory.policy" || { fail "daemon start"; exit 1; }

# --- wx: writable and executable at once
expect_op "wx: anonymous RWX mmap denied" EPERM $L_WX blocked "$A" wx-anon
expect_eq "wx: event op" wx "$(event_field .op)"
expect_eq "wx: event via" mmap "$(event_field .via)"
expect_eq "wx: event names anonymous memory" anonymous "$(event_field .target.memory)"
expect_op "wx: allowed to the JIT" 0 $L_JWX allowed "$J" wx-anon
expect_op "wx: RWX private file mapping denied" EPERM $L_WX blocked "$A" wx-file "$M/data"
expect_eq "wx: event names the file" "$M/data" "$(event_field .target.path)"
expect_op "wx: mprotect to RWX denied" EPERM $L_WX blocked "$A" mprotect-wx
expect_eq "wx: mprotect event via" mprotect "$(event_field .via)"
expect_op "wx: mprotect to RWX allowed to the JIT" 0 $L_JWX allowed "$J" mprotect-wx

# --- anon-exec: code the process wrote itself
expect_op "anon-exec: anonymous R|X mmap denied" EPERM $L_ANON blocked "$A" anon-exec -
expect_eq "anon-exec: event op" anon-exec "$(event_field .op)"
expect_op "anon-exec: allowed to the JIT" 0 $L_JANON allowed "$J" anon-exec -
expect_op "anon-exec: RW then R|X (a JIT's flip) denied" EPERM $L_ANON blocked "$A" mprotect-anon-x
expect_eq "anon-exec: flip event via" mprotect "$(event_field .via)"
expect_op "anon-exec: the JIT's flip allowed" 0 $L_JANON allowed "$J" mprotect-anon-x
expect_op "anon-exec: a written private file mapping made executable denied" EPERM $L_ANON blocked "$A" textrel "$M/data"
expect_eq "anon-exec: the text relocation names its file" "$(stat -c %i "$M/data")" "$(event_field .target.ino)"
expect_op "anon-exec: the same for the JIT" 0 $L_JANON allowed "$J" textrel "$M/data"

# System V shared memory attached executable (shmat SHM_EXEC) never passes mmap.
expect_op "wx: shmat(SHM_EXEC) read-write denied" EPERM $L_WX blocked "$A" shm-exec
expect_eq "wx: shmat event via" shmat "$(event_field .via)"
expect_op "anon-exec: shmat(SHM_EXEC|SHM_RDONLY) denied" EPERM $L_ANON blocked "$A" shm-exec-ro
expect_op "shmat(SHM_EXEC) allowed to the JIT" 0 $L_JANON allowed "$J" shm-exec
expect_op "shmat without SHM_EXEC is no memory decision" 0 "" "" "$A" shm-rw

# --- files keep their own rules: no memory decision for named, unmodified code
expect_op "files: R|X mmap of a named file" 0 "" "" "$A" mmap "$M/data"
expect_op "files: R then mprotect R|X of an unwritten mapping" 0 "" "" "$A" mprotect "$M/data"
expect_op "files: programs still run" 0 "" "" "$A" exec /usr/bin/true
no_event "files: none of that was a memory decision" ".process.exe == \"$A\" and .target.path == \"$M/data\" and .op != \"wx\""

# --- memfd-exec: code from a file with no name
expect_op "memfd-exec: fexecve of a memfd denied" EPERM $L_MEMFD blocked "$A" memfd-exec
expect_eq "memfd-exec: event op" memfd-exec "$(event_field .op)"
expect_eq "memfd-exec: event via" execve "$(event_field .via)"
check "memfd-exec: event names the memfd" grep -q '^/memfd:bwtry' <<<"$(event_field .target.path)"
expect_op "memfd-exec: allowed to the JIT" 0 $L_JMEMFD allowed "$J" memfd-exec
expect_op "memfd-exec: executable mmap of a memfd denied" EPERM $L_MEMFD blocked "$A" memfd-map
expect_eq "memfd-exec: mmap event via" mmap "$(event_field .via)"
expect_op "memfd-exec: executable mmap allowed to the JIT" 0 $L_JMEMFD allowed "$J" memfd-map
expect_op "memfd-exec: exec of a deleted file denied" EPERM $L_MEMFD blocked "$A" deleted-exec "$M"
expect_op "memfd-exec: exec of a deleted file allowed to the JIT" 0 $L_JMEMFD allowed "$J" deleted-exec "$M"

# --- explain agrees with the kernel
explain_agrees "wx" "wx any as exe=$A" blocked $L_WX
explain_agrees "wx, JIT" "wx any as exe=$J" allowed $L_JWX
explain_agrees "anon-exec" "anon-exec any as exe=$A" blocked $L_ANON
explain_agrees "anon-exec, JIT" "anon-exec any as exe=$J" allowed $L_JANON
explain_agrees "memfd-exec" "memfd-exec any as exe=$A" blocked $L_MEMFD
explain_agrees "memfd-exec, JIT" "memfd-exec any as exe=$J" allowed $L_JMEMFD

# --- audit mode: the same calls go through, reported as would-deny
printf 'mode audit\ndeny wx any\ndeny anon-exec any\n' >"$WORK/memory-audit.policy"
check "audit policy loads" "$BULWARK" policy load "$WORK/memory-audit.policy"
expect_op "audit: RWX mmap goes through" 0 "" "" "$A" wx-anon
wait_event "audit: reported as would-deny" ".process.exe == \"$A\" and .op == \"wx\" and .action == \"would-deny\" and .rule.line == 2"
check "counters: memory denials counted" test "$(counter wx denied)" -ge 3
# --- ops no layer decides (decision 103): memfd-exec and load have no rule
# in this policy. They are allowed, and counted as decisions all the same
# (in bw_live, added by bulwarkd), as the full path would count them.
md=$(counter memfd-exec decisions) ma=$(counter memfd-exec allowed) ld=$(counter load decisions)
expect_op "undecided: memfd code runs under a policy with no memfd-exec rule" 0 "" "" "$A" memfd-exec
expect_op "undecided: a library loads under a policy with no load rule" 0 "" "" "$A" dlopen "$(readlink -f /lib/x86_64-linux-gnu/libm.so.6)"
check "undecided: memfd-exec counted as a decision" test "$(counter memfd-exec decisions)" -ge $((md + 1))
check "undecided: memfd-exec counted as allowed" test "$(counter memfd-exec allowed)" -ge $((ma + 1))
check "undecided: load counted as decisions (ld.so, libc, libm)" test "$(counter load decisions)" -ge $((ld + 3))
no_event "undecided: no load event" ".op == \"load\""
check "no ring buffer drops" test "$("$BULWARK" status --json | jq .ringbuf_drops)" -eq 0

teardown
