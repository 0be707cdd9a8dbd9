#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What a start of bulwarkd costs on this kernel: the verifier's work per
# program (bench/verify-cost), then one real daemon start (load, attach,
# pin) and a restart of the same build, which adopts the pinned programs.
# Needs root and a kernel that runs BPF LSM: `make bench` runs it in vm/run.
#
#   verify-cost.sh [--build DIR] [--no-daemon] [PROGRAM...]
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
B=$repo/build
daemon=yes
while [[ $# -gt 0 ]]; do
	case $1 in
	--build) B=$(cd "$2" && pwd); shift ;;
	--no-daemon) daemon=no ;;
	*) break ;;
	esac
	shift
done
echo "== kernel $(uname -r), $B"
"$B/bench/verify-cost" "$B/bulwark.bpf.o" "$@"
[[ $daemon == yes ]] || exit 0
W=/tmp/bw-verify
rm -rf "$W" && mkdir -p "$W" /tmp/bw-verify-denied
echo 'deny exec /tmp/bw-verify-denied/**' >"$W/p.policy"
start() {
	local t0 t1 ready=
	rm -f "$W/ready" && mkfifo "$W/ready"
	t0=$(date +%s.%N)
	"$B/bulwarkd" --policy "$W/p.policy" --events "$W/ev.json" --ready-fd 3 \
		3>"$W/ready" 2>>"$W/daemon.log" &
	pid=$!
	read -r -t 900 ready <"$W/ready" || true
	t1=$(date +%s.%N)
	echo "$1: $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s to ready ($ready)"
}
start "daemon start, nothing pinned"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
start "daemon restart, same build (adopts)"
# unload ends the daemon too
"$B/bulwark" unload >/dev/null
wait "$pid" 2>/dev/null || true
