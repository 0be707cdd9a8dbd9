#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-hook cost against the floor. The floor is an empty BPF program
# (return 0) on every attach point bulwark uses (bench/floor-gen); the
# kernel's own statistics (kernel.bpf_stats_enabled) give each program's
# runs and nanoseconds. Configurations, rounds interleaved (ABAB...) in one
# boot so drift hits each alike: the floor; bulwark with 10 rules; and,
# unless QUICK=1, bulwark with 10,000 rules of the same shapes (the slope).
# Same workloads in each: process control, opens, bpf(), an exec storm.
# Writes bench/results/DATE-KERNEL-hooks.md (QUICK=1: build/bench/results/,
# a smoke run is not a result to keep) and prints it, then a line
# "bench: N passed, N failed": whether the report came out whole.
# Needs root and a kernel that runs BPF LSM: `make bench` runs it in vm/run.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
QUICK=${QUICK:-0}
ROUNDS=${BENCH_ROUNDS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}
BIG=${BENCH_HOOK_RULES:-10000}
SCALE=$([[ $QUICK == 1 ]] && echo 10 || echo 1)
W=/tmp/bw-bench-hooks
rm -rf "$W" && mkdir -p "$W/files"
results=$repo/bench/results
[[ $QUICK == 1 ]] && results=$B/bench/results
OUT=$results/$(date -u +%Y-%m-%d)-$(uname -r)-hooks.md
mkdir -p "$(dirname "$OUT")"

# Rules of every shape the workloads meet, none matching them (they run as
# root): each decision classifies and looks up, then allows.
python3 - "$W" "$BIG" <<'PY'
import sys
w, n = sys.argv[1], int(sys.argv[2])
def rules(k):
    ops = ["exec", "write", "read", "control", "signal", "fork", "thread", "bpf", "lockdown", "load"]
    out = []
    for i in range(k):
        op, who, tgt = ops[i % len(ops)], 20000 + i, 40000 + i
        if op in ("exec", "load"):
            open(f"{w}/files/f{i}", "w").close()
            out.append(f"deny {op} {w}/files/f{i}\n")
        elif op in ("fork", "thread", "bpf"):
            out.append(f"deny {op} any from uid={who}\n")
        elif op == "lockdown":
            out.append(f"deny lockdown integrity from uid={who}\n")
        elif op == "signal":
            out.append(f"deny signal uid={tgt} from uid={who} with signals=KILL,TERM\n")
        else:
            out.append(f"deny {op} uid={tgt} from uid={who}\n")
    return out
open(f"{w}/small.policy", "w").writelines(rules(10))
if n:
    open(f"{w}/big.policy", "w").writelines(rules(n))
PY

workloads() {
	local o=$B/bench/opbench
	"$o" fork $((3000 / SCALE)) >/dev/null
	"$o" thread $((3000 / SCALE)) >/dev/null
	"$o" kill0 $((100000 / SCALE)) >/dev/null
	"$o" vmread $((100000 / SCALE)) >/dev/null
	"$o" open $((100000 / SCALE)) >/dev/null
	"$o" procopen $((100000 / SCALE)) >/dev/null
	"$o" bpflookup $((100000 / SCALE)) >/dev/null
	"$B/bench/execloop" $((1000 / SCALE)) /bin/true >/dev/null
}

BENCH_NAME=hook-cost
. "$repo/bench/lib.sh"
bulwark_on() {
	"$B/bulwarkd" --policy "$1" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 900); do "$B/bulwark" status >/dev/null 2>&1 && return; sleep 0.1; done
	echo "hook-cost: bulwarkd did not start" >&2
	cat "$W/daemon.log" >&2
	exit 1
}
bulwark_off() { "$B/bulwark" unload >/dev/null; wait; }
# measure CONFIG PREFIX ROUND: the workloads, then each program's runs and time
measure() {
	sysctl -qw kernel.bpf_stats_enabled=1
	workloads
	sysctl -qw kernel.bpf_stats_enabled=0
	"$B/bench/hookstats" "$2" | sed "s/^/$1 $3 /" >>"$W/stats"
}

"$B/bulwark" unload >/dev/null 2>&1 || true
: >"$W/stats"
configs="floor small"
[[ $QUICK == 1 ]] || configs="$configs big"
for r in $(seq "$ROUNDS"); do
	floor_on
	measure floor fl_ "$r"
	floor_off
	bulwark_on "$W/small.policy"
	measure small bw_ "$r"
	if [[ $QUICK != 1 ]]; then
		"$B/bulwark" policy load "$W/big.policy" >/dev/null
		measure big bw_ "$r"
	fi
	bulwark_off
	echo "hook-cost: round $r of $ROUNDS done" >&2
done

# Per attach point and configuration: ns per call, the median over rounds
# (programs on the same attach point summed; calls from the last round).
python3 - "$W/stats" "$configs" "$ROUNDS" "$QUICK" "$BIG" "$(uname -r)" >"$OUT" <<'PY'
import sys, statistics, collections
path, configs, rounds, quick, big, kernel = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5], sys.argv[6]
runs = collections.defaultdict(lambda: [0, 0])  # (config, round, hook) -> [cnt, ns]
for line in open(path):
    cfg, rnd, hook, cnt, ns = line.split()
    h = hook.removeprefix("bpf_lsm_").removeprefix("btf_trace_")
    runs[(cfg, rnd, h)][0] += int(cnt)
    runs[(cfg, rnd, h)][1] += int(ns)
hooks = sorted({k[2] for k in runs})
def per_call(cfg, h):
    v = [ns / cnt for (c, r, hh), (cnt, ns) in runs.items() if c == cfg and hh == h and cnt]
    return statistics.median(v) if v else None
def calls(cfg, h):
    v = [cnt for (c, r, hh), (cnt, ns) in runs.items() if c == cfg and hh == h]
    return max(v) if v else 0
print(f"# Per-hook cost against the floor: {kernel}\n")
print(f"Emulated (qemu TCG) unless the kernel above runs on hardware: only the ratios and differences are claims. "
      f"{rounds} round(s), configurations interleaved; ns per call from kernel.bpf_stats_enabled, median over rounds. "
      f"floor: an empty program on each of bulwark's attach points; 10 rules: every shape the workloads meet, none matching"
      + ("" if quick else f"; {big} rules: the same shapes") + (". QUICK run: fewer operations, one round." if quick else ".") + "\n")
head = "| attach point | calls (10 rules) | floor ns | 10 rules ns | minus floor | ratio |"
sep = "| --- | ---: | ---: | ---: | ---: | ---: |"
if not quick:
    head += f" {big} rules ns | slope ns/1k rules |"
    sep += " ---: | ---: |"
print(head)
print(sep)
for h in hooks:
    f, s = per_call("floor", h), per_call("small", h)
    if s is None or not calls("small", h):
        continue
    row = f"| {h} | {calls('small', h)} | " + (f"{f:.0f}" if f else "-") + f" | {s:.0f} | " + \
          (f"{s - f:.0f} | {s / f:.1f}x |" if f else "- | - |")
    if not quick:
        g = per_call("big", h)
        row += (f" {g:.0f} | {(g - s) / (int(big) - 10) * 1000:.2f} |" if g else " - | - |")
    print(row)
never = [h for h in hooks if not calls("small", h)]
if never:
    print(f"\nNot reached by these workloads: {', '.join(never)}.")
PY
cat "$OUT"
echo "hook-cost: wrote $OUT" >&2
# The report is whole when every configuration measured the hooks the
# workloads reach: exec, open, fork and a signal at least.
rows=$(grep -cE '^\| (bprm_check_security|file_open|task_alloc|task_kill) \| [0-9]+ \| [0-9]+ \| [0-9]+ ' "$OUT" || true)
if [[ $rows -eq 4 ]]; then
	echo "bench: 1 passed, 0 failed"
else
	echo "bench: 0 passed, 1 failed (the report lacks rows for exec, open, fork or kill)"
	exit 1
fi
