# SPDX-License-Identifier: MIT
# Shared by the benchmarks that measure against the floor (hook-cost.sh,
# against.sh). Needs B (the build directory), W (the work directory) and
# BENCH_NAME (for messages) set by the caller.

# The floor: empty programs on bulwark's attach points (bench/floor-gen), until unloaded.
floor_on() {
	"$B/bench/floorload" "$B/bench/floor.bpf.o" >"$W/floor.out" 2>&1 &
	FLOOR=$!
	for _ in $(seq 300); do grep -q '^ready' "$W/floor.out" && return; sleep 0.1; done
	echo "$BENCH_NAME: the floor did not load: $(cat "$W/floor.out")" >&2
	exit 1
}
floor_off() { kill -TERM "$FLOOR"; wait "$FLOOR"; }
