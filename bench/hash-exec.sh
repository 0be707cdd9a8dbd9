#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Decision 90's cost: the first exec of a file bulwark has never seen, with
# and without `sha256:` rules in the policy (with them, IMA hashes the whole
# file once), and an exec of the same file once its hash is cached. Each
# sample execs K distinct fresh copies of a static busybox (a trailing byte
# makes each one other content) from one bash loop; the loop's own fork
# cost is the same in every column, so compare differences and ratios.
# Needs root and a kernel that runs BPF LSM (vm/run). BENCH_FILES (20)
# files per sample, BENCH_ROUNDS (3) rounds. Writes
# bench/results/DATE-KERNEL-hash-exec.md and prints it.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
K=${BENCH_FILES:-20}
ROUNDS=${BENCH_ROUNDS:-3}
W=/tmp/bw-hash-bench
rm -rf "$W" && mkdir -p "$W"
export BULWARK_TRUST_DB=$W/trust.db
bb=$(command -v busybox)
fresh() { # DIR: K new distinct copies
	mkdir -p "$1"
	for i in $(seq "$K"); do cp "$bb" "$1/busybox$i" && printf '%s' "$RANDOM$i" >>"$1/busybox$i"; done
}
# ns per exec over the K files of DIR
run() {
	local t0=$EPOCHREALTIME f
	for f in "$1"/busybox*; do "$f" true; done
	awk "BEGIN {printf \"%d\", ($EPOCHREALTIME - $t0) * 1e9 / $K}"
}
echo x >"$W/never"
echo "deny exec $W/never" >"$W/nohash.policy"
echo "deny exec sha256:$(printf 'nothing' | sha256sum | cut -d' ' -f1)" >"$W/hash.policy"
"$B/bulwark" unload >/dev/null 2>&1 || true
start() {
	"$B/bulwarkd" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 600); do "$B/bulwark" status >/dev/null 2>&1 && return; sleep 0.1; done
	echo "bulwarkd did not start" >&2; cat "$W/daemon.log" >&2; exit 1
}
declare -a bare nohash first cached
for r in $(seq "$ROUNDS"); do
	fresh "$W/r$r/a" && fresh "$W/r$r/b" && fresh "$W/r$r/c"
	bare+=("$(run "$W/r$r/a")")
	start
	"$B/bulwark" policy load "$W/nohash.policy" >/dev/null
	nohash+=("$(run "$W/r$r/b")")
	"$B/bulwark" policy load "$W/hash.policy" >/dev/null
	c0=$("$B/bulwark" status --json | jq -r .trust.hash.computed)
	first+=("$(run "$W/r$r/c")")
	c1=$("$B/bulwark" status --json | jq -r .trust.hash.computed)
	cached+=("$(run "$W/r$r/c")")
	c2=$("$B/bulwark" status --json | jq -r .trust.hash.computed)
	"$B/bulwark" unload >/dev/null
	wait || true
	echo "round $r: no bulwark ${bare[-1]} ns, no sha256 rules ${nohash[-1]} ns, sha256 rules first exec ${first[-1]} ns (hashed $((c1 - c0))), cached ${cached[-1]} ns (hashed $((c2 - c1)))" | tee -a "$W/rounds"
done
results=$repo/bench/results
mkdir -p "$results"
OUT=$results/$(date -u +%Y-%m-%d)-$(uname -r)-hash-exec.md
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
{
echo "# First exec of an unknown file, with and without sha256: rules: $(uname -r)"
echo
echo "Commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown). Emulated (qemu TCG): only differences and ratios are claims."
echo "static busybox ($(stat -c %s "$bb") bytes), $K distinct files per sample, $ROUNDS rounds, medians, per exec (bash fork+exec+wait):"
echo
echo '```'
cat "$W/rounds"
awk -v b="$(median "${bare[@]}")" -v n="$(median "${nohash[@]}")" -v f="$(median "${first[@]}")" -v c="$(median "${cached[@]}")" 'BEGIN {
	printf "  no bulwark                        %9.1f us  1.000\n", b / 1000, 1
	printf "  policy without sha256: rules      %9.1f us  %.3f\n", n / 1000, n / b
	printf "  sha256: rules, first exec (hash)  %9.1f us  %.3f\n", f / 1000, f / b
	printf "  sha256: rules, cached             %9.1f us  %.3f\n", c / 1000, c / b
	printf "  hashing adds %.1f us to a first exec; a cached one %.1f us over no sha256: rules\n", (f - n) / 1000, (c - n) / 1000
}'
echo '```'
} >"$OUT"
cat "$OUT"
