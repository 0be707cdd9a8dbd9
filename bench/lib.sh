# SPDX-License-Identifier: MIT
# Shared by the benchmarks that measure against the floor (hook-cost.sh,
# against.sh, variants.sh). Needs B (the build directory), W (the work directory),
# BENCH_NAME (for messages) and a workloads function set by the caller.

# The floor: empty programs on bulwark's attach points (bench/floor-gen), until unloaded.
floor_on() {
	"$B/bench/floorload" "$B/bench/floor.bpf.o" >"$W/floor.out" 2>&1 &
	FLOOR=$!
	for _ in $(seq 300); do grep -q '^ready' "$W/floor.out" && return; sleep 0.1; done
	echo "$BENCH_NAME: the floor did not load: $(cat "$W/floor.out")" >&2
	exit 1
}
floor_off() { kill -TERM "$FLOOR"; wait "$FLOOR"; }

# measure CONFIG ROUND PREFIX: the workloads, then what each attach point's
# programs named PREFIX* ran in them, appended to $W/stats as "CONFIG ROUND
# HOOK CALLS NS". The kernel's counters add up over a program's life and a
# daemon keeps its programs across policy loads: only the difference around
# the workloads belongs to this configuration. hookstats prints a line per
# program, and an attach point can hold two (bprm_check_security and
# mmap_file: the decision and the sleepable hash program, and the floor's
# two empty ones): the hook's calls are its busiest program's runs, its
# cost the nanoseconds of all of them. Until 2026-12-01 the runs were
# summed too, which halved the cost per call of those two hooks for every
# build that has both programs (performance.md, Sixth round).
measure() {
	"$B/bench/hookstats" "$3" >"$W/stats.before"
	sysctl -qw kernel.bpf_stats_enabled=1
	workloads
	sysctl -qw kernel.bpf_stats_enabled=0
	"$B/bench/hookstats" "$3" | awk -v cfg="$1" -v rnd="$2" '
		NR == FNR { k = $1 "#" (++before[$1]); runs[k] -= $2; ns[k] -= $3; next }
		{ k = $1 "#" (++after[$1]); runs[k] += $2; ns[k] += $3; hook[k] = $1 }
		END {
			for (k in hook) {
				h = hook[k]
				cost[h] += ns[k]
				if (runs[k] > calls[h])
					calls[h] = runs[k]
			}
			for (h in cost)
				print cfg, rnd, h, calls[h] + 0, cost[h]
		}' "$W/stats.before" - >>"$W/stats"
}

# daemon_on DIR POLICY: that build's bulwarkd with POLICY, until its CLI answers
# (its time to answer goes to stderr: a first start is mostly verification)
daemon_on() {
	local t0=$SECONDS
	"$1/bulwarkd" --policy "$2" --events /dev/null 2>>"$W/daemon.log" &
	for _ in $(seq 1800); do
		if "$1/bulwark" status >/dev/null 2>&1; then
			echo "$BENCH_NAME: $1/bulwarkd answered after $((SECONDS - t0)) s" >&2
			return
		fi
		sleep 0.1
	done
	echo "$BENCH_NAME: $1/bulwarkd did not start" >&2
	tail -20 "$W/daemon.log" >&2
	exit 1
}
