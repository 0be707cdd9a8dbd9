#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# This build against another commit's, per hook, above the floor, in one
# boot. The other build is the one the upgrade test starts from
# (scripts/build-upgrade-from, which `make bench` runs: 9e6aa24, the commit
# the Benchmarks issue measured); BENCH_AGAINST=DIR names another build
# directory holding a bulwarkd and a bulwark. Configurations, rounds interleaved
# (ABAB...) so drift hits each alike:
#   floor           empty programs on bulwark's attach points (bench/floor-gen)
#   REV / this      each build in turn, with the same three policies:
#     10 rules      every shape the workloads meet (exec, fork, thread,
#                   signal, ptrace, control, bpf, lockdown), none matching
#     110k rules    100,000 exact exec rules plus 10,000 of those shapes
#     no fork rules the 10-rule policy without its fork and thread rules: what a
#                   fork costs when the policy says nothing about forks
# Workloads: fork+exit, pthread_create, an exec storm of a dynamic binary
# (bprm_check, bprm_committed_creds, mmap_file of ld.so and libc) and a
# dlopen loop (mmap_file). ns per call from kernel.bpf_stats_enabled.
# Writes bench/results/DATE-KERNEL-against-REV.md (QUICK=1: build/bench/),
# then "bench: N passed, N failed": whether the report came out whole.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
T=${BENCH_THIS:-$B} # the build measured as "this"
A=${BENCH_AGAINST:-$B/upgrade-from/build}
REV=$(cat "$A/../FROM" 2>/dev/null || basename "$A")
REV=${REV// /-}
QUICK=${QUICK:-0}
ROUNDS=${BENCH_ROUNDS:-$([[ $QUICK == 1 ]] && echo 1 || echo 2)}
SCALE=${BENCH_SCALE:-$([[ $QUICK == 1 ]] && echo 10 || echo 4)} # the workloads below, divided: 4 keeps make bench near 20 minutes
W=/tmp/bw-bench-against
rm -rf "$W" && mkdir -p "$W/files"
results=$repo/bench/results
[[ $QUICK == 1 ]] && results=$B/bench/results
OUT=$results/$(date -u +%Y-%m-%d)-$(uname -r)-against-$REV.md
mkdir -p "$(dirname "$OUT")"
[[ -x $A/bulwarkd ]] || { echo "against: no $A/bulwarkd: run scripts/build-upgrade-from" >&2; exit 1; }

"$repo/bench/policy-shapes.py" "$W" "$([[ $QUICK == 1 ]] && echo 10000 || echo 100000)"

# Forks and threads are cheap next to execs and carry the fork goal, whose
# margin is under a microsecond: twice SCALE's share, to keep their spread down.
workloads() {
	"$B/bench/opbench" fork $((4000 / SCALE)) >/dev/null
	"$B/bench/opbench" thread $((4000 / SCALE)) >/dev/null
	"$B/bench/execloop" $((500 / SCALE)) /bin/true >/dev/null
	"$B/bench/dlopenloop" $((2000 / SCALE)) "$B/bench/dlopenlib.so" >/dev/null
}
BENCH_NAME=against
. "$repo/bench/lib.sh"
daemon_off() { "$1/bulwark" unload >/dev/null; wait; }
# policy_load DIR POLICY: that build's `policy load`. 9e6aa24's client gives
# up after 30 s, and its daemon goes on to install the 110k-rule policy (the
# Benchmarks issue saw it; a run here failed on it once): then wait until
# its status shows the policy's rules in force.
policy_load() {
	local want got t0=$SECONDS
	"$1/bulwark" policy load "$2" >/dev/null 2>>"$W/cli.log" && return
	want=$(grep -c . "$2")
	while ((SECONDS - t0 < 900)); do
		got=$("$1/bulwark" status --json 2>/dev/null | jq -r '.policy.rules // 0' 2>/dev/null || true)
		if [[ $got == "$want" ]]; then
			echo "against: $1: the load of $2 outlived the client; in force after $((SECONDS - t0)) s" >&2
			return
		fi
		sleep 1
	done
	echo "against: $1 did not install $2: $(tail -n 3 "$W/cli.log")" >&2
	exit 1
}
# build CONFIG-PREFIX DIR ROUND: one build through the three policies
build_round() {
	daemon_on "$2" "$W/small.policy"
	measure "$1-10" "$3" bw_
	policy_load "$2" "$W/nofork.policy"
	measure "$1-nofork" "$3" bw_
	policy_load "$2" "$W/big.policy"
	measure "$1-110k" "$3" bw_
	daemon_off "$2"
}

"$B/bulwark" unload >/dev/null 2>&1 || true
: >"$W/stats"
for r in $(seq "$ROUNDS"); do
	floor_on
	measure floor "$r" fl_
	floor_off
	if ((r % 2)); then
		build_round base "$A" "$r"
		build_round this "$T" "$r"
	else
		build_round this "$T" "$r"
		build_round base "$A" "$r"
	fi
	echo "against: round $r of $ROUNDS done" >&2
done

python3 - "$W/stats" "$ROUNDS" "$QUICK" "$REV" "$(uname -r)" "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo tree)" "${OUT%.md}" >"$OUT" <<'PY'
import sys, statistics, collections
path, rounds, quick, rev, kernel, head, base = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
runs = collections.defaultdict(lambda: [0, 0])
for line in open(path):
    cfg, rnd, hook, cnt, ns = line.split()
    h = hook.removeprefix("bpf_lsm_").removeprefix("btf_trace_")
    runs[(cfg, rnd, h)][0] += int(cnt)
    runs[(cfg, rnd, h)][1] += int(ns)
def per_call(cfg, h):
    v = [ns / cnt for (c, r, hh), (cnt, ns) in runs.items() if c == cfg and hh == h and cnt]
    return statistics.median(v) if v else None
def spread(cfg, h):
    v = [ns / cnt for (c, r, hh), (cnt, ns) in runs.items() if c == cfg and hh == h and cnt]
    return (max(v) - min(v)) / statistics.median(v) * 100 if len(v) > 1 else 0
hooks = ["task_alloc", "sched_process_fork", "bprm_check_security", "bprm_committed_creds",
         "mmap_file", "sched_process_exec", "sched_process_exit"]
print(f"# This build ({head}) against {rev}, above the floor: {kernel}\n")
print(f"Emulated (qemu TCG) unless the kernel runs on hardware: only differences and ratios are claims. "
      f"{rounds} round(s), configurations interleaved in one boot; ns per call from kernel.bpf_stats_enabled, "
      f"median over rounds (spread: (max-min)/median). Above floor = bulwark's ns minus the empty program's "
      f"on the same attach point. Cut = {rev}'s cost above the floor / this build's." +
      (" QUICK run: fewer operations, one round, 10,000 exec rules instead of 100,000." if quick else "") + "\n")
policies = (("10", "10 rules"), ("110k", "110k rules"), ("nofork", "no fork rules"))
goal_hooks = ["task_alloc", "bprm_check_security", "bprm_committed_creds", "mmap_file"]
missed = []
with open(base + ".dat", "w") as dat:
    dat.write("hook " + " ".join(f"{who},{label.replace(' ', '-')}" for _, label in policies for who in (rev, "this")) + "\n")
    for h in goal_hooks:
        f = per_call("floor", h)
        vals = []
        for pol, _ in policies:
            for who in ("base", "this"):
                v = per_call(f"{who}-{pol}", h)
                vals.append(f"{v - f:.0f}" if v and f else "NaN")
        dat.write(h + " " + " ".join(vals) + "\n")
for pol, label in policies:
    print(f"\n## {label}\n")
    print(f"| attach point | floor ns | {rev} ns | this ns | {rev} above floor | this above floor | cut | this / floor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for h in hooks:
        f, b, t = per_call("floor", h), per_call(f"base-{pol}", h), per_call(f"this-{pol}", h)
        if not f:
            continue
        if not t:
            # No program of this build ran there: attached only while a policy needs it (decision 108).
            print(f"| {h} | {f:.0f} | " + (f"{b:.0f}" if b else "-") + " | not attached | "
                  + (f"{b - f:.0f}" if b else "-") + f" | {-f:.0f} | all | 0x |")
            continue
        ta = t - f
        ba = (b - f) if b else None
        cut = f"{ba / ta:.1f}x" if ba is not None and ta > 0 else ("all" if ba and ta <= 0 else "-")
        if h in goal_hooks and pol != "nofork" and not (ba is not None and (ta <= 0 or ba / ta >= 4)):
            missed.append(f"{h} ({label}, {cut})")
        print(f"| {h} | {f:.0f} | " + (f"{b:.0f}" if b else "-") + f" | {t:.0f} (±{spread(f'this-{pol}', h):.0f}%) | "
              + (f"{ba:.0f}" if ba is not None else "-") + f" | {ta:.0f} | {cut} | {t / f:.2f}x |")
fork_hooks = ["task_alloc", "sched_process_fork"]
f = sum(per_call("floor", h) or 0 for h in fork_hooks)
t = sum(per_call("this-nofork", h) or 0 for h in fork_hooks)
b = sum(per_call("base-nofork", h) or 0 for h in fork_hooks)
print(f"\nA fork with no fork rules (task_alloc + sched_process_fork): floor {f:.0f} ns, {rev} {b:.0f} ns "
      f"({b / f:.1f}x the floor), this build {t:.0f} ns ({t / f:.1f}x the floor).")
print("\nThe Benchmarks issue's goals: at least 4x less above the floor than " + rev + " on " + ", ".join(goal_hooks)
      + " with 10 and 110k rules: " + ("**met**." if not missed else "**missed** on " + "; ".join(missed) + ".")
      + f" A fork within 2x of the floor with no fork rules: " + ("**met**" if t <= 2 * f else "**missed**")
      + f" ({t / f:.1f}x).")
name = base.rsplit("/", 1)[-1]
print(f"\n![ns above the floor, {rev} and this build]({name}.png)")
cuts = []
for h in goal_hooks:
    for pol in ("10", "110k"):
        fl, b4, t4 = per_call("floor", h), per_call(f"base-{pol}", h), per_call(f"this-{pol}", h)
        if fl and b4 and t4 and t4 > fl:
            cuts.append(f"{h} {pol}: {(b4 - fl) / (t4 - fl):.1f}x")
with open(base + ".goals", "w") as g:
    g.write(f"4x less above the floor than {rev} on the four hooks, 10 and 110k rules\t" + "; ".join(cuts) + "\t"
            + ("met" if not missed else "missed") + "\t" + ("" if not missed else
            "under emulation a hook pays for each page of code and each kernel call it reaches after a "
            "context switch (qemu's translation-block lookups); bulwark's exec and mapping fast paths are "
            "down to the exact-file path's frame and a few map pages (decision 110), while 9e6aa24's cost "
            "moves by 2x between boots and one-CPU runs spread by up to +-100% "
            "(performance.md, Twelfth round)") + "\n")
    g.write(f"a fork within 2x of the floor when no rule names forks\t{t / f:.1f}x the floor ({rev}: {b / f:.1f}x)\t"
            + ("met" if t <= 2 * f else "missed") + "\t" + ("" if t <= 2 * f else
            "task_alloc's fast path reads bw_live, and sched_process_fork is attached only for fork "
            "notifications (decision 108); one-CPU runs spread widely (performance.md, Eighth round)")
            + "\n")
PY
"$repo/bench/chart.sh" bars "${OUT%.md}.dat" "${OUT%.md}.png" \
	"ns per call above the floor: $REV and this build ($(uname -r), emulated)" "ns above the floor (log)"
cat "$OUT"
echo "against: wrote $OUT" >&2
rows=$(grep -cE '^\| (task_alloc|bprm_check_security|bprm_committed_creds|mmap_file) \| [0-9]+ \| [0-9]+ \| [0-9]+' "$OUT" || true)
if [[ $rows -ge 12 ]]; then
	echo "bench: 1 passed, 0 failed"
else
	echo "bench: 0 passed, 1 failed (the report lacks rows for the four hooks in each policy)"
	exit 1
fi
