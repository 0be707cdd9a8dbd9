#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Booted with a kernel command line whose lsm= lacks bpf (tests/run does
# this through BULWARK_VM_APPEND). LSM programs would load and attach yet
# never run, so bulwarkd must refuse, in one line that says what to do.
source "$(dirname "$0")/../vm/lib.sh" || exit 1
setup

check "bpf is really missing from lsm=" bash -c '! grep -qw bpf /sys/kernel/security/lsm'
printf 'deny exec %s/**\n' "$WORK" >"$WORK/p.policy"
out=$("$BULWARKD" --policy "$WORK/p.policy" 2>&1)
expect_eq "bulwarkd refuses to start" 1 "$?"
check "one line of explanation" test "$(grep -c . <<<"$out")" -eq 1
check "it says to add bpf to lsm=" grep -qE "BPF LSM is not active \(lsm=[a-z,]+\): add bpf to the kernel command line, e.g. lsm=[a-z,]+,bpf" <<<"$out"
check "nothing left pinned" test ! -e /sys/fs/bpf/bulwark
out=$("$BULWARKD" --probe 2>&1)
expect_eq "probe says no" 1 "$?"
