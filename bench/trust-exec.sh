#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Image-load control, per-exec cost of the two mechanisms of issue 12, in
# one run, rounds interleaved: the bare kernel; bulwark's trust map
# (`deny exec untrusted` for the benchmark's programs: one hash lookup of
# the file, ctime and size compared, then the rule lookups); and option
# (b), IMA's bpf_ima_file_hash in a sleepable exec hook matched against a
# hash-keyed map (bench/ima.bpf.c). The program run is a static busybox
# (the exec path, not ld.so), then a 4 MiB one (IMA hashes the whole file
# when its cache has no hash: no IMA policy, as Debian boots).
# Before the trust map is timed, an untrusted copy of busybox must be
# refused. Writes bench/results/DATE-KERNEL-trust-exec.md and prints it.
# Needs root and a kernel that runs BPF LSM: `make bench` runs it in
# vm/run on 6.1 and 6.12. BENCH_EXECS (200) execs of the small file and
# BENCH_EXECS_BIG (50) of the big one per sample, BENCH_ROUNDS (3) rounds:
# IMA hashes the 4 MiB file at every exec, which dominates the run under
# emulation.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
N=${BENCH_EXECS:-200}
NB=${BENCH_EXECS_BIG:-50}
ROUNDS=${BENCH_ROUNDS:-3}
W=/tmp/bw-trust-bench
rm -rf "$W" && mkdir -p "$W/bin" "$W/big" "$W/untrusted"
cp "$(command -v busybox)" "$W/bin/busybox"
# busybox picks its applet by argv[0]'s name: the big copy keeps the name.
cp "$(command -v busybox)" "$W/big/busybox" && head -c 4194304 /dev/urandom >>"$W/big/busybox"
cp "$(command -v busybox)" "$W/untrusted/busybox"
cp "$B/bench/execloop" "$W/bin/execloop"
export BULWARK_TRUST_DB=$W/trust.db
# The rule judges execloop's own executable mappings too: its ld.so (mapped
# by the kernel past exec's point of no return, so a refusal is a SIGSEGV)
# and libc must be trusted. And bulwarkd: it refuses a `deny exec
# untrusted` policy under which it could not start again.
mapfile -t deps < <(ldd "$W/bin/execloop" | awk '/^\t/ && $2 == "=>" && $3 ~ /^\// { print $3 } /^\t\// { print $1 }' | xargs -r realpath | sort -u)
"$B/bulwark" trust add "$W/bin/busybox" "$W/big/busybox" "${deps[@]}" "$(realpath "$B/bulwarkd")" >/dev/null
cat >"$W/trust.policy" <<POL
deny exec untrusted from exe=$W/bin/execloop
POL

run() { "$W/bin/execloop" "$([[ $1 == big ]] && echo "$NB" || echo "$N")" "$W/$1/busybox" true; }
start() {
	"$B/bulwarkd" --policy "$W/trust.policy" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 600); do "$B/bulwark" status >/dev/null 2>&1 && return; sleep 0.1; done
	echo "bulwarkd did not start" >&2; cat "$W/daemon.log" >&2; exit 1
}
hashes=$(sha256sum "$W/bin/busybox" "$W/big/busybox" | cut -d' ' -f1)
"$B/bulwark" unload >/dev/null 2>&1 || true
declare -a bare bw ima bbare bbw bima
for r in $(seq "$ROUNDS"); do
	bare+=("$(run bin)") bbare+=("$(run big)")
	start
	trusted=$("$B/bulwark" status --json | jq -r .trust.trusted)
	[[ $trusted -ge 2 ]] || { echo "trust map not filled ($trusted)" >&2; exit 1; }
	if "$W/bin/execloop" 1 "$W/untrusted/busybox" true >/dev/null 2>&1; then
		echo "trust-exec.sh: an untrusted copy of busybox ran under the trust map" >&2
		exit 1
	fi
	bw+=("$(run bin)") bbw+=("$(run big)")
	denied=$("$B/bulwark" status --json | jq -r .counters.exec.denied)
	"$B/bulwark" unload >/dev/null
	wait
	IMABENCH_OBJ=$B/bench/ima.bpf.o "$B/bench/imabench" $hashes >"$W/ima.out" 2>&1 &
	ipid=$!
	for _ in $(seq 300); do grep -q attached "$W/ima.out" && break; kill -0 "$ipid" 2>/dev/null || break; sleep 0.1; done
	grep -q attached "$W/ima.out" || { echo "imabench: $(cat "$W/ima.out")" >&2; exit 1; }
	ima+=("$(run bin)") bima+=("$(run big)")
	kill -TERM "$ipid"
	wait "$ipid" || true
	counts=$(tail -n 1 "$W/ima.out")
	echo "round $r: bare ${bare[-1]} / ${bbare[-1]} ns, trust map ${bw[-1]} / ${bbw[-1]} ns (denied $denied), IMA ${ima[-1]} / ${bima[-1]} ns ($counts)" | tee -a "$W/rounds"
done
results=$repo/bench/results
mkdir -p "$results"
OUT=$results/$(date -u +%Y-%m-%d)-$(uname -r)-trust-exec.md
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
{
echo "# Trust map against IMA hashing: $(uname -r)"
echo
echo "Commit $commit. Emulated (qemu TCG): only the ratios are claims."
echo
echo '```'
cat "$W/rounds"
echo "kernel $(uname -r), $N (small) and $NB (big) fork+exec per sample, $ROUNDS rounds, medians (static busybox / busybox + 4 MiB):"
awk -v b="$(median "${bare[@]}")" -v t="$(median "${bw[@]}")" -v i="$(median "${ima[@]}")" \
    -v bb="$(median "${bbare[@]}")" -v tb="$(median "${bbw[@]}")" -v ib="$(median "${bima[@]}")" 'BEGIN {
	printf "  bare kernel         %8.1f us  1.000   %8.1f us  1.000\n", b / 1000, bb / 1000
	printf "  bulwark trust map   %8.1f us  %.3f   %8.1f us  %.3f\n", t / 1000, t / b, tb / 1000, tb / bb
	printf "  IMA hash + map      %8.1f us  %.3f   %8.1f us  %.3f\n", i / 1000, i / b, ib / 1000, ib / bb
	printf "  added per exec: trust map %.1f us / %.1f us, IMA %.1f us / %.1f us\n", (t - b) / 1000, (tb - bb) / 1000, (i - b) / 1000, (ib - bb) / 1000
}'
echo '```'
} >"$OUT"
cat "$OUT"
echo "trust-exec.sh: wrote $OUT" >&2
