#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Allowlisting against the peer (issue 12, issue 14 section 2): bulwark's
# `deny exec untrusted` + `deny load untrusted` against fapolicyd (Debian's
# package) with equivalent rules and the same trusted files, and the bare
# kernel, rounds interleaved (bare, bulwark, fapolicyd, bare, ...) in one
# boot. Workloads, each run as the benchmark's uid (the rules name it, so
# the harness itself is not judged):
#   exec storm of a static busybox, exec storm of a dynamic `true` (ld.so
#   and libc mapped per exec), and a dlopen loop (bench/dlopenloop: every
#   dlopen opens and maps the library, dlclose unmaps it).
# Before each configuration is timed it must enforce: an untrusted copy of
# busybox must fail to run and an untrusted copy of the library must fail
# to load, and bulwark's counters or fapolicyd's deny log must show it;
# under the bare kernel both must work (the denial comes from the
# configuration, not from the copies). Any miss stops the run.
# A fourth configuration, the floor (bench/floor-gen: an empty program on
# every attach point bulwark uses, loaded by bench/floorload), separates
# what any BPF LSM pays for its attachments from bulwark's decisions.
# The wall clock is read with kernel.bpf_stats_enabled off (its two clock
# reads per program call would be paid by the floor and bulwark only);
# bulwark's programs' own time is read in a separate pass with it on.
# Writes bench/results/DATE-KERNEL-fapolicyd.md and prints it, then
# "bench: N passed, N failed". Needs root and a kernel that runs BPF LSM:
# `make bench` runs it in vm/run on 6.1 and 6.12.
#
# Variables: BENCH_ROUNDS (3), BENCH_EXECS_STATIC (200), BENCH_EXECS_DYN
# (100), BENCH_DLOPENS (2000): operations per sample; BENCH_UID (4242);
# FAPOLICYD_INTEGRITY (size: fapolicyd.conf's integrity, none, size or
# sha256).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
ROUNDS=${BENCH_ROUNDS:-3}
NS=${BENCH_EXECS_STATIC:-200}
ND=${BENCH_EXECS_DYN:-100}
NL=${BENCH_DLOPENS:-2000}
U=${BENCH_UID:-4242}
INTEGRITY=${FAPOLICYD_INTEGRITY:-size}
W=/tmp/bw-fapolicyd-bench

# fapolicyd's paths are fixed (/etc/fapolicyd, /var/lib/fapolicyd,
# /run/fapolicyd): in a mount namespace of our own, scratch directories
# are bind-mounted there, and fapolicyd's fanotify marks land on this
# namespace's copies of the mounts, so nothing outside it is judged.
if [[ ${BW_FAPOLICYD_NS:-} != 1 ]]; then
	exec env BW_FAPOLICYD_NS=1 unshare -m --propagation private "$0" "$@"
fi
for t in fapolicyd setpriv jq; do
	command -v "$t" >/dev/null || { echo "fapolicyd.sh: $t missing (make deps)" >&2; exit 1; }
done

rm -rf "$W" && mkdir -p "$W/bin" "$W/lib" "$W/untrusted" "$W/fapo/etc/trust.d" "$W/fapo/var" "$W/fapo/run"
chmod 755 "$W" "$W/bin" "$W/lib" "$W/untrusted"
bb=$(type -P busybox)
cp "$bb" "$W/bin/busybox"
cp "$(type -P true)" "$W/bin/true"
cp "$B/bench/execloop" "$B/bench/dlopenloop" "$W/bin/"
cp "$B/bench/dlopenlib.so" "$W/lib/bench1.so"
cp "$B/bench/dlopenlib.so" "$W/lib/bench2.so"
cp "$bb" "$W/untrusted/busybox"
cp "$B/bench/dlopenlib.so" "$W/untrusted/bench.so"
file -L "$W/bin/busybox" | grep -q 'statically linked' || { echo "fapolicyd.sh: $bb is not static" >&2; exit 1; }
file -L "$W/bin/true" | grep -q 'dynamically linked' || { echo "fapolicyd.sh: true is not dynamic" >&2; exit 1; }

# The trusted files, the same for both: the programs, the libraries, and
# what they map (ld.so, libc), by their real paths (fapolicyd matches the
# path the kernel reports; bulwark keys its entry by the real file). And
# bulwarkd itself: bulwarkd refuses a `deny exec untrusted` policy that
# would not let it start again.
mapfile -t deps < <(ldd "$W/bin/true" "$W/bin/execloop" "$W/bin/dlopenloop" "$W/lib/bench1.so" |
	awk '/^\t/ && $2 == "=>" && $3 ~ /^\// { print $3 } /^\t\// { print $1 }' | xargs -r realpath | sort -u)
trusted=("$W/bin/busybox" "$W/bin/true" "$W/bin/execloop" "$W/bin/dlopenloop" "$W/lib/bench1.so" "$W/lib/bench2.so"
	"${deps[@]}" "$(realpath "$B/bulwarkd")")

export BULWARK_TRUST_DB=$W/trust.db
"$B/bulwark" trust add "${trusted[@]}" >/dev/null
for f in "${trusted[@]}"; do
	echo "$f $(stat -c %s "$f") $(sha256sum "$f" | cut -d' ' -f1)"
done >"$W/fapo/etc/fapolicyd.trust"

# bulwark: the issue's allowlisting, for the benchmark's uid.
cat >"$W/bulwark.policy" <<POL
deny exec untrusted from uid=$U
deny load untrusted from uid=$U
POL
# fapolicyd: the same, in its terms (fapolicyd.rules(5), the shipped
# rules' shapes). fanotify shows fapolicyd opens and execs, not mappings,
# so "load" is its rule on opening a shared library; `ld.so FILE` opens
# FILE as a plain open, which its ld_so pattern catches (bulwark denies
# the mapping). Everything else, and every other uid, is allowed.
cat >"$W/fapo/etc/compiled.rules" <<RULES
deny perm=any uid=$U pattern=ld_so : all
allow perm=execute uid=$U : trust=1
deny perm=execute uid=$U : all
allow perm=open uid=$U : ftype=application/x-sharedlib trust=1
deny perm=open uid=$U : ftype=application/x-sharedlib
allow perm=any all : all
RULES
# Debian's shipped settings, except: the file backend only (Debian builds
# no rpm backend), the file systems the benchmark's files are on, root
# (the scratch directories are root's), no report file.
# (bulwarkd's own file is left out: fapolicyd never sees it run.)
fstypes=$(for f in "$W/bin/busybox" "${deps[@]}"; do findmnt -no FSTYPE -T "$f"; done | sort -u | paste -sd,)
cat >"$W/fapo/etc/fapolicyd.conf" <<CONF
permissive = 0
nice_val = 14
q_size = 640
uid = 0
gid = 0
do_stat_report = 0
detailed_report = 0
db_max_size = 50
subj_cache_size = 1549
obj_cache_size = 8191
watch_fs = $fstypes
trust = file
integrity = $INTEGRITY
rpm_sha256_only = 0
allow_filesystem_mark = 0
CONF
mkdir -p /etc/fapolicyd /var/lib/fapolicyd /run/fapolicyd
mount --bind "$W/fapo/etc" /etc/fapolicyd
mount --bind "$W/fapo/var" /var/lib/fapolicyd
mount --bind "$W/fapo/run" /run/fapolicyd

as_u() { setpriv --reuid="$U" --regid="$U" --clear-groups -- "$@"; }
# The nanoseconds bulwark's programs ran (kernel.bpf_stats_enabled).
bpf_ns() { "$B/bench/hookstats" bw_ | awk '{ n += $3 } END { printf "%d\n", n }'; }
# one N CMD...: CMD's wall-clock ns per operation (statistics off), then
# bulwark's programs' ns per operation in a second, untimed pass with
# statistics on (0 where no bulwark program is attached).
one() {
	local n=$1 t0 t1 w
	shift
	w=$(as_u "$@")
	t0=$(bpf_ns)
	sysctl -qw kernel.bpf_stats_enabled=1
	as_u "$@" >/dev/null
	sysctl -qw kernel.bpf_stats_enabled=0
	t1=$(bpf_ns)
	echo "$w $(((t1 - t0) / n))"
}
# The three workloads, one line: per workload the wall-clock ns per
# operation and bulwark's programs' ns per operation.
workloads() {
	echo "$(one "$NS" "$W/bin/execloop" "$NS" "$W/bin/busybox" true)" \
		"$(one "$ND" "$W/bin/execloop" "$ND" "$W/bin/true")" \
		"$(one "$NL" "$W/bin/dlopenloop" "$NL" "$W/lib/bench1.so" "$W/lib/bench2.so")"
}
# probe: 0 when both untrusted copies were refused, 2 when both worked,
# 1 otherwise; the trusted originals must work in every configuration.
probe() {
	local denied=0
	as_u "$W/bin/busybox" true || { echo "fapolicyd.sh: $1: trusted busybox refused" >&2; exit 1; }
	as_u "$W/bin/dlopenloop" 1 "$W/lib/bench1.so" >/dev/null || { echo "fapolicyd.sh: $1: trusted library refused" >&2; exit 1; }
	as_u "$W/untrusted/busybox" true 2>>"$W/probe.log" || denied=$((denied + 1))
	as_u "$W/bin/dlopenloop" 1 "$W/untrusted/bench.so" >/dev/null 2>>"$W/probe.log" || denied=$((denied + 1))
	echo $((2 - denied))
}
fail() { echo "fapolicyd.sh: $*" >&2; echo "bench: 0 passed, 1 failed"; exit 1; }

bulwark_on() {
	"$B/bulwarkd" --policy "$W/bulwark.policy" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 900); do "$B/bulwark" status >/dev/null 2>&1 && return; sleep 0.1; done
	cat "$W/daemon.log" >&2
	fail "bulwarkd did not start"
}
bulwark_off() { "$B/bulwark" unload >/dev/null; wait; }
counter() { "$B/bulwark" status --json | jq -r ".counters.$1.denied // 0"; }
fapolicyd_on() {
	: >"$W/fapolicyd.log"
	fapolicyd --debug-deny >>"$W/fapolicyd.log" 2>&1 &
	FAPO=$!
	for _ in $(seq 1200); do
		grep -q 'Starting to listen for events' "$W/fapolicyd.log" && return
		kill -0 "$FAPO" 2>/dev/null || break
		sleep 0.1
	done
	cat "$W/fapolicyd.log" >&2
	fail "fapolicyd did not start"
}
fapolicyd_off() { kill -TERM "$FAPO"; wait "$FAPO" || true; }
floor_on() {
	"$B/bench/floorload" "$B/bench/floor.bpf.o" >"$W/floor.out" 2>&1 &
	FLOOR=$!
	for _ in $(seq 300); do grep -q '^ready' "$W/floor.out" && return; sleep 0.1; done
	fail "the floor did not load: $(cat "$W/floor.out")"
}
floor_off() { kill -TERM "$FLOOR"; wait "$FLOOR"; }

"$B/bulwark" unload >/dev/null 2>&1 || true
sysctl -qw kernel.bpf_stats_enabled=0
: >"$W/samples"
for r in $(seq "$ROUNDS"); do
	[[ $(probe bare) == 2 ]] || fail "bare kernel: an untrusted copy did not run ($(tail -n 2 "$W/probe.log"))"
	echo "bare $r $(workloads)" >>"$W/samples"

	floor_on
	[[ $(probe floor) == 2 ]] || fail "floor: an untrusted copy did not run"
	echo "floor $r $(workloads)" >>"$W/samples"
	floor_off

	bulwark_on
	e0=$(counter exec) l0=$(counter load)
	[[ $(probe bulwark) == 0 ]] || fail "bulwark: an untrusted copy was not refused"
	e1=$(counter exec) l1=$(counter load)
	# Two refusals: the exec, and the library's mapping (exec rules judge an
	# executable mapping first, so it may count as exec or as load).
	((e1 + l1 >= e0 + l0 + 2)) || fail "bulwark: refusals not counted (exec $e0 -> $e1, load $l0 -> $l1)"
	echo "bulwark $r $(workloads)" >>"$W/samples"
	bulwark_off

	fapolicyd_on
	[[ $(probe fapolicyd) == 0 ]] || fail "fapolicyd: an untrusted copy was not refused"
	grep -q "dec=deny.*path=$W/untrusted/busybox" "$W/fapolicyd.log" || fail "fapolicyd: no deny logged for the busybox copy"
	grep -q "dec=deny.*path=$W/untrusted/bench.so" "$W/fapolicyd.log" || fail "fapolicyd: no deny logged for the library copy"
	echo "fapolicyd $r $(workloads)" >>"$W/samples"
	fapolicyd_off
	echo "fapolicyd.sh: round $r of $ROUNDS: $(tail -n 4 "$W/samples" | paste -sd' ')" >&2
done

results=$repo/bench/results
mkdir -p "$results"
OUT=$results/$(date -u +%Y-%m-%d)-$(uname -r)-fapolicyd.md
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$W/samples" "$(uname -r)" "$commit" "$ROUNDS" "$NS" "$ND" "$NL" "$INTEGRITY" "$(dpkg-query -W -f='${Version}' fapolicyd 2>/dev/null)" "${OUT%.md}" >"$OUT" <<'PY'
import sys, statistics
path, kernel, commit, rounds, ns, nd, nl, integ, fver, base = sys.argv[1:]
data = {}
for line in open(path):
    cfg, r, *v = line.split()
    data.setdefault(cfg, []).append([float(x) for x in v])
work = [("exec storm, static busybox", ns), ("exec storm, dynamic `true`", nd), ("dlopen + dlclose of a .so", nl)]
cfgs = ("bare", "floor", "bulwark", "fapolicyd")
print(f"# Allowlisting: bulwark against fapolicyd, {kernel}\n")
print(f"Commit {commit}; kernel {kernel}; fapolicyd {fver} (integrity = {integ}). Emulated (qemu TCG): the "
      f"times are emulated, only the ratios are claims. {rounds} rounds, configurations interleaved in one boot "
      f"(bare, floor, bulwark, fapolicyd, ...), every configuration checked to refuse an untrusted copy of the program "
      f"and of the library before it was timed (the bare kernel and the floor to run both). The floor is an empty "
      f"BPF LSM program on every attach point bulwark uses: what any BPF LSM pays for attaching there. Wall clock "
      f"with kernel.bpf_stats_enabled off. µs per operation: median over rounds, and [min-max].\n")
print("| workload | ops per sample | bare | floor | bulwark | fapolicyd | floor added | bulwark added | fapolicyd added | fapolicyd added / bulwark added |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
progs, added = [], []
def pct(x, base):
    return f"{x:+.1f} µs ({x / base * 100:+.1f}%)"
for i, (name, n) in enumerate(work):
    col = {c: [s[2 * i] / 1000 for s in data[c]] for c in cfgs}
    progs.append(statistics.median(s[2 * i + 1] for s in data["bulwark"]) / 1000)
    med = {c: statistics.median(v) for c, v in col.items()}
    cell = lambda c: f"{med[c]:.1f} [{min(col[c]):.1f}-{max(col[c]):.1f}]"
    fl, ab, af = med["floor"] - med["bare"], med["bulwark"] - med["bare"], med["fapolicyd"] - med["bare"]
    ratio = f"{af / ab:.1f}x" if ab > 0 else f"bulwark added nothing measurable ({ab:+.1f} µs)"
    print(f"| {name} | {n} | {cell('bare')} | {cell('floor')} | {cell('bulwark')} | {cell('fapolicyd')} | "
          f"{pct(fl, med['bare'])} | {pct(ab, med['bare'])} | {pct(af, med['bare'])} | {ratio} |")
    added.append((name, af, med["bulwark"] - med["floor"]))
print("\nbulwark's decisions apart from the attachment: bulwark minus the floor by the wall clock, and bulwark's programs "
      "by the kernel's accounting (kernel.bpf_stats_enabled, in a second untimed pass: the time every bw_ program ran, "
      "over the operations; the trampolines are not in it):\n")
print("| workload | bulwark minus floor, µs | fapolicyd added / that | bulwark's programs, µs per operation | fapolicyd added / bulwark's programs |")
print("| --- | ---: | ---: | ---: | ---: |")
for (name, af, bf), p in zip(added, progs):
    print(f"| {name} | {bf:+.1f} | " + (f"{af / bf:.1f}x" if bf > 0 else "-") + f" | {p:.1f} | " +
          (f"{af / p:.1f}x |" if p > 0 else "- |"))
# The goal by the kernel's accounting of bulwark's programs: by the wall clock
# an exec's run-to-run noise under emulation is larger than bulwark's cost
# (the empty floor "adds" milliseconds in some runs).
ratios = [(name, af / p if p > 0 else None) for (name, af, _), p in zip(added, progs)]
ok = all(r is None or r >= 10 for _, r in ratios)
with open(base + ".goals", "w") as g:
    g.write("10x less added latency than fapolicyd on exec plus library loading\t"
            + "; ".join(f"{n}: " + (f"{r:.1f}x" if r is not None else "bulwark's programs took nothing measurable")
                        for n, r in ratios)
            + " (fapolicyd added / bulwark's programs' time)\t" + ("met" if ok else "missed") + "\t"
            + ("" if ok else "bulwark's programs' time per operation is in the report") + "\n")
print("\nPer round (µs per operation: static, dynamic, dlopen):\n")
for c in cfgs:
    print(f"- {c}: " + "; ".join(" / ".join(f"{x / 1000:.1f}" for x in s[0::2]) for s in data[c]))
PY
cat "$OUT"
echo "fapolicyd.sh: wrote $OUT" >&2
rows=$(grep -c '^| \(exec storm\|dlopen\)' "$OUT" || true)
if [[ $rows -eq 6 ]]; then
	echo "bench: 1 passed, 0 failed"
else
	echo "bench: 0 passed, 1 failed (the report lacks a workload)"
	exit 1
fi
