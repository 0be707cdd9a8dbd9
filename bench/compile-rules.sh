#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host-side compile time of a 100,000-rule policy (parse, resolve every
# path with stat, sort and de-duplicate keys), through `bulwark policy check`.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
RULES=${BENCH_RULES:-100000}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
python3 - "$W" "$RULES" <<'PY'
import os, sys
w, n = sys.argv[1], int(sys.argv[2])
os.mkdir(f"{w}/files")
with open(f"{w}/big.policy", "w") as f:
    for i in range(n):
        open(f"{w}/files/f{i}", "w").close()
        f.write(f"deny exec {w}/files/f{i}\n")
PY
best=
for _ in 1 2 3; do
	t0=$(date +%s%N)
	"$repo/build/bulwark" policy check "$W/big.policy" >/dev/null
	t=$(( ($(date +%s%N) - t0) / 1000000 ))
	[[ -z $best || $t -lt $best ]] && best=$t
done
echo "compile $RULES rules on the host: best of 3 = $best ms"
