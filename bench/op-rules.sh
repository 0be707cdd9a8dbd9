#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cost of process control (fork+exit, pthread_create+join, kill(pid, 0), a
# 1-byte process_vm_readv) and of kernel operations (a bpf() map lookup, a
# BPF program load, ioperm), on the bare kernel, with bulwark and no rules,
# with 12 rules and with 10,000 of the same shapes (so the last two differ
# only in the number of rules), in one run, rounds interleaved so drift
# hits every configuration alike.
# Needs root and a kernel that runs BPF LSM: `make bench` runs it in vm/run.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
ROUNDS=${BENCH_ROUNDS:-3}
RULES=${BENCH_PROC_RULES:-10000}
W=/tmp/bw-bench-ops
rm -rf "$W" && mkdir -p "$W"

# 10,000 rules over every process and kernel operation, none of which
# matches the benchmark (it runs as root): the kernel still classifies the
# subject (and target) in every dimension the rules use and looks the keys up.
python3 - "$W" "$RULES" <<'PY'
import sys
w, n = sys.argv[1], int(sys.argv[2])
ops = ["write", "read", "control", "signal", "fork", "thread", "bpf", "lockdown"]
with open(f"{w}/big.policy", "w") as f:
    for i in range(n):
        op = ops[i % len(ops)]
        who, tgt = 20000 + i, 40000 + i
        if op in ("fork", "thread", "bpf"):
            f.write(f"deny {op} any from uid={who}\n")
        elif op == "lockdown":
            f.write(f"deny lockdown integrity from uid={who}\n")
        elif op == "signal":
            f.write(f"deny signal uid={tgt} from uid={who} with signals=KILL,TERM\n")
        else:
            f.write(f"deny {op} uid={tgt} from uid={who}\n")
with open(f"{w}/big.policy") as big, open(f"{w}/small.policy", "w") as f:
    f.writelines(big.readlines()[:12])
with open(f"{w}/none.policy", "w") as f:
    f.write("# no rules: bulwark's hooks run and find nothing\n")
PY

declare -A N=([fork]=${BENCH_FORKS:-3000} [thread]=${BENCH_THREADS:-3000}
	[kill0]=${BENCH_SIGNALS:-300000} [vmread]=${BENCH_READS:-300000}
	[bpflookup]=${BENCH_LOOKUPS:-300000} [bpfload]=${BENCH_LOADS:-3000} [ioperm]=${BENCH_IOPERMS:-300000}
	[open]=${BENCH_OPENS:-300000} [procopen]=${BENCH_OPENS:-300000})
read -r -a WORKLOADS <<<"${BENCH_WORKLOADS:-fork thread kill0 vmread bpflookup bpfload ioperm open procopen}"

start() {
	"$B/bulwarkd" --policy "$1" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 600); do "$B/bulwark" status >/dev/null 2>&1 && return; sleep 0.1; done
	echo "bulwarkd did not start" >&2; cat "$W/daemon.log" >&2; exit 1
}
stop() { "$B/bulwark" unload >/dev/null; wait; }
# sample CONFIG: one measurement of every workload, appended to $W/CONFIG.WORKLOAD
sample() {
	local w
	for w in "${WORKLOADS[@]}"; do
		"$B/bench/opbench" "$w" "${N[$w]}" >>"$W/$1.$w"
	done
}

"$B/bulwark" unload >/dev/null 2>&1 || true
for r in $(seq "$ROUNDS"); do
	sample bare
	start "$W/none.policy"
	sample none
	"$B/bulwark" policy load "$W/small.policy" >/dev/null
	sample small
	"$B/bulwark" policy load "$W/big.policy" >/dev/null
	rules=$("$B/bulwark" status --json | jq -r .policy.rules)
	sample big
	stop
	echo "round $r done ($rules rules loaded)"
done
median() { sort -n "$1" | sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p"; }
echo "kernel $(uname -r), $ROUNDS rounds, medians in ns per operation (ratio to bare):"
printf '  %-22s %9s %18s %18s %18s %12s\n' workload bare "no rules" "12 rules" "$RULES rules" "10k/12"
for w in "${WORKLOADS[@]}"; do
	b=$(median "$W/bare.$w") n=$(median "$W/none.$w") s=$(median "$W/small.$w") g=$(median "$W/big.$w")
	awk -v w="$w" -v k="${N[$w]}" -v b="$b" -v n="$n" -v s="$s" -v g="$g" 'BEGIN {
		printf "  %-22s %9d %9d (%.3f) %9d (%.3f) %9d (%.3f) %12.3f\n", w " (x" k ")", b, n, n / b, s, s / b, g, g / b, g / s
	}'
done
