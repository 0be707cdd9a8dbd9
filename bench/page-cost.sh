#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What one page of code or data costs a BPF LSM program under this VM
# (bench/page-cost.bpf.c): five builds of one task_alloc program that run
# the same instructions and differ only in how many pages those reach.
# Each is loaded alone (bench/floorload), rounds interleaved, fork+exit
# as the workload; ns per call from kernel.bpf_stats_enabled. Prints the
# table and the cost per extra page (far minus near, over the 7 extra
# pages). A study behind the hot-path work (performance.md); `make
# bench-more` runs it. Variables: BENCH_ROUNDS (3), BENCH_FORKS (2000).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
W=/tmp/bw-bench-pages
rm -rf "$W" && mkdir -p "$W"
ROUNDS=${BENCH_ROUNDS:-3}
FORKS=${BENCH_FORKS:-2000}
names=(empty code-near code-far data-one data-far)
workloads() { "$B/bench/opbench" fork "$FORKS" >/dev/null; }
BENCH_NAME=page-cost
. "$repo/bench/lib.sh"

"$B/bulwark" unload >/dev/null 2>&1 || true
: >"$W/stats"
for r in $(seq "$ROUNDS"); do
	for v in 0 1 2 3 4; do
		"$B/bench/floorload" "$B/bench/page-cost-$v.bpf.o" >"$W/load.out" 2>&1 &
		pid=$!
		for _ in $(seq 300); do grep -q '^ready' "$W/load.out" && break; sleep 0.1; done
		grep -q '^ready' "$W/load.out" || { echo "page-cost: variant $v did not load: $(cat "$W/load.out")" >&2; exit 1; }
		measure "${names[$v]}" "$r" pg_
		kill -TERM "$pid"
		wait "$pid"
	done
	echo "page-cost: round $r of $ROUNDS done" >&2
done
python3 - "$W/stats" "$(uname -r)" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    cfg, rnd, hook, cnt, ns = line.split()
    if int(cnt):
        runs[cfg].append(int(ns) / int(cnt))
print(f"# page-cost, {sys.argv[2]}: ns per task_alloc call, median over rounds [each round]\n")
print("| variant | ns | rounds |\n| --- | ---: | --- |")
med = {}
for cfg in ("empty", "code-near", "code-far", "data-one", "data-far"):
    v = runs.get(cfg, [])
    med[cfg] = statistics.median(v) if v else float("nan")
    print(f"| {cfg} | {med[cfg]:.0f} | {' '.join(f'{x:.0f}' for x in v)} |")
print(f"\nper extra code page: {(med['code-far'] - med['code-near']) / 7:.0f} ns; "
      f"per extra data page: {(med['data-far'] - med['data-one']) / 7:.0f} ns")
PY
