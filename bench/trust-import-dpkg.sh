#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `bulwark trust import dpkg` over the whole package set, timed: too slow
# for the test suite under TCG (tests/vm/t_trust_dpkg.sh imports a subset
# with --package), so it is measured here. Writes only its own database
# (/tmp/bw-dpkg-bench/trust.db). Run it in vm/run (the guest's package set
# is the host's) or on a host: it reads package files, changes none.
#   BENCH_IMPORT_TIMEOUT=SECS stops a run that takes longer (default: none).
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
W=/tmp/bw-dpkg-bench
rm -rf "$W" && mkdir -p "$W"
t0=$EPOCHREALTIME
if [[ -n ${BENCH_IMPORT_TIMEOUT:-} ]]; then
	timeout "$BENCH_IMPORT_TIMEOUT" "$repo/build/bulwark" trust --db "$W/trust.db" import dpkg >"$W/out" 2>&1
else
	"$repo/build/bulwark" trust --db "$W/trust.db" import dpkg >"$W/out" 2>&1
fi
rc=$?
secs=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $t0}")
grep -v '^/' "$W/out" | tail -n 3
echo "trust import dpkg: rc=$rc in $secs s under $(uname -r) ($(nproc) CPUs)"
if [[ $rc -eq 124 ]]; then
	n=$(sqlite3 "$W/trust.db" 'SELECT count(*) FROM files' 2>/dev/null || echo '?')
	echo "stopped after ${BENCH_IMPORT_TIMEOUT} s with $n files committed"
fi
