#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-exec cost: bare kernel vs bulwark with 10 rules vs 100,000 rules, in
# one run, rounds interleaved so drift hits every configuration alike.
# Needs root and a kernel that runs BPF LSM: `make bench` runs it in vm/run.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
N=${BENCH_EXECS:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
RULES=${BENCH_RULES:-100000}
W=/tmp/bw-bench
rm -rf "$W" && mkdir -p "$W/files" "$W/bin"
cp "$(command -v busybox)" "$W/bin/busybox"   # static: the exec path, not ld.so

# Rules need real files: identity is resolved when the policy loads.
python3 - "$W" "$RULES" <<'PY'
import os, sys
w, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open(f"{w}/files/f{i}", "w").close()
with open(f"{w}/big.policy", "w") as f:
    for i in range(n):
        f.write(f"deny exec {w}/files/f{i}\n")
with open(f"{w}/small.policy", "w") as f:
    for i in range(10):
        f.write(f"deny exec {w}/files/f{i}\n")
PY

run() { "$B/bench/execloop" "$N" "$W/bin/busybox" true; }
# The kernel's own accounting of the exec hook: total ns and calls so far.
hook_stats() {
	bpftool prog show -j 2>/dev/null |
		jq -r '[.[] | select(.name == "bw_bprm_check")][0] | "\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
# run_hooked: run(), and also set HOOK_NS to the mean ns per hook call.
run_hooked() {
	local t0 c0 t1 c1
	read -r t0 c0 < <(hook_stats)
	RESULT=$(run)
	read -r t1 c1 < <(hook_stats)
	HOOK_NS=$(( (t1 - t0) / (c1 - c0 > 0 ? c1 - c0 : 1) ))
}
sysctl -qw kernel.bpf_stats_enabled=1
start() {
	"$B/bulwarkd" --policy "$1" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 600); do "$B/bulwark" status >/dev/null 2>&1 && return; sleep 0.1; done
	echo "bulwarkd did not start" >&2; cat "$W/daemon.log" >&2; exit 1
}

"$B/bulwark" unload >/dev/null 2>&1 || true
declare -a bare small big hsmall hbig
for r in $(seq "$ROUNDS"); do
	bare+=("$(run)")
	start "$W/small.policy"
	run_hooked
	small+=("$RESULT") hsmall+=("$HOOK_NS")
	t0=$(date +%s%N)
	"$B/bulwark" policy load "$W/big.policy" >/dev/null
	t1=$(date +%s%N)
	rules=$("$B/bulwark" status --json | jq -r .policy.rules)
	run_hooked
	big+=("$RESULT") hbig+=("$HOOK_NS")
	"$B/bulwark" unload >/dev/null
	wait
	echo "round $r: bare ${bare[-1]} ns, 10 rules ${small[-1]} ns (hook ${hsmall[-1]} ns), $rules rules ${big[-1]} ns (hook ${hbig[-1]} ns); load took $(( (t1 - t0) / 1000000 )) ms"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
mb=$(median "${bare[@]}") ms=$(median "${small[@]}") mg=$(median "${big[@]}")
hs=$(median "${hsmall[@]}") hg=$(median "${hbig[@]}")
echo "kernel $(uname -r), $N fork+exec of static busybox per sample, $ROUNDS rounds, medians:"
awk -v b="$mb" -v s="$ms" -v g="$mg" -v n="$RULES" -v hs="$hs" -v hg="$hg" 'BEGIN {
	printf "  bare kernel        %8.1f us/exec  1.000\n", b / 1000
	printf "  bulwark, 10 rules  %8.1f us/exec  %.3f\n", s / 1000, s / b
	printf "  bulwark, %d rules %8.1f us/exec  %.3f\n", n, g / 1000, g / b
	printf "  %d rules vs 10 rules: %.3f\n", n, g / s
	printf "  exec hook (bw_bprm_check) per call: %d ns with 10 rules, %d ns with %d rules (%.3f)\n", hs, hg, n, hg / hs
}'
