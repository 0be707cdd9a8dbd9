#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds of bulwark side by side, per hook, above the floor, in one boot:
# the tool for "what does this piece of a hook cost". Build a variant in a
# worktree under build/ (the VM sees the repository), then:
#   BENCH_BUILDS="main:build v1:build/exp/v1/build" \
#   BULWARK_VM_PASSENV=BENCH_BUILDS BULWARK_VM_SMP=1 vm/run --kernel 6.1 -- bench/variants.sh
# Each NAME:DIR is a build directory holding a bulwarkd and a bulwark
# (relative to the repository). Configurations, rounds interleaved (floor,
# then each build in turn): 10 rules of every shape the workloads meet,
# then the same without fork and thread rules (against.sh's small and
# no-fork policies). Workloads: fork+exit, pthread_create, an exec storm,
# a dlopen loop. Prints ns per call and above the floor, per round, for
# the hooks against.sh reports and file_open (where the real files below
# overlays are recorded, decision 110); writes nothing under bench/results (a
# study's numbers go into the decision that used them, with this command).
# Variables: BENCH_BUILDS (default: build only), BENCH_ROUNDS (2).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
W=/tmp/bw-bench-variants
rm -rf "$W" && mkdir -p "$W/files"
ROUNDS=${BENCH_ROUNDS:-2}
BUILDS=${BENCH_BUILDS:-this:build}

"$repo/bench/policy-shapes.py" "$W"

workloads() {
	"$B/bench/opbench" fork 1000 >/dev/null
	"$B/bench/opbench" thread 500 >/dev/null
	"$B/bench/execloop" 200 /bin/true >/dev/null
	"$B/bench/dlopenloop" 500 "$B/bench/dlopenlib.so" >/dev/null
}
BENCH_NAME=variants
. "$repo/bench/lib.sh"

"$B/bulwark" unload >/dev/null 2>&1 || true
: >"$W/stats"
for r in $(seq "$ROUNDS"); do
	floor_on
	measure floor "$r" fl_
	floor_off
	# Each round starts one build later (ABC, BCA, CAB): the build right
	# after the floor is not always the same one.
	read -ra order <<<"$BUILDS"
	for ((i = 0; i < ${#order[@]}; i++)); do
		nb=${order[$(((i + r - 1) % ${#order[@]}))]}
		name=${nb%%:*} dir=$repo/${nb#*:}
		[[ -x $dir/bulwarkd ]] || { echo "variants: no $dir/bulwarkd" >&2; exit 1; }
		daemon_on "$dir" "$W/small.policy"
		measure "$name-10" "$r" bw_
		"$dir/bulwark" policy load "$W/nofork.policy" >/dev/null
		measure "$name-nofork" "$r" bw_
		"$dir/bulwark" unload >/dev/null
		wait
	done
	echo "variants: round $r of $ROUNDS done" >&2
done

python3 - "$W/stats" "$(uname -r)" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(lambda: [0, 0])
for line in open(sys.argv[1]):
    cfg, rnd, hook, cnt, ns = line.split()
    h = hook.removeprefix("bpf_lsm_").removeprefix("btf_trace_")
    runs[(cfg, rnd, h)][0] += int(cnt)
    runs[(cfg, rnd, h)][1] += int(ns)
def per_call(cfg, h):
    v = [ns / cnt for (c, r, hh), (cnt, ns) in sorted(runs.items()) if c == cfg and hh == h and cnt]
    return (statistics.median(v), v) if v else (None, [])
cfgs = sorted({c for c, _, _ in runs} - {"floor"})
print(f"# Builds side by side, {sys.argv[2]}: ns per call (median over rounds), above the floor, and each round\n")
print("| attach point | configuration | ns | above floor | rounds |")
print("| --- | --- | ---: | ---: | --- |")
for h in ["task_alloc", "sched_process_fork", "bprm_check_security", "bprm_committed_creds", "mmap_file", "file_open"]:
    f, fr = per_call("floor", h)
    if not f:
        continue
    print(f"| {h} | floor | {f:.0f} | 0 | {' '.join(f'{x:.0f}' for x in fr)} |")
    for c in cfgs:
        m, v = per_call(c, h)
        if m:
            print(f"| {h} | {c} | {m:.0f} | {m - f:.0f} | {' '.join(f'{x:.0f}' for x in v)} |")
PY
