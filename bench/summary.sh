#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# summary.sh [DIR]: the Benchmarks issue's goals, one table. Every benchmark
# that measures a goal writes its findings beside its report (REPORT.goals:
# goal, measured, status, cause; tab-separated); this gathers the newest of
# each measure (hooks, fapolicyd, daemon, events, against-REV), whatever
# kernel it ran on, in DIR (bench/results), writes DIR/DATE-summary.md and
# prints it. Exits non-zero when no report has goals.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$repo/bench/results}
out=$dir/$(date -u +%Y-%m-%d)-summary.md
# Newest first (by mtime here, by the name's date below); a kind is the measure
# the report's name ends with (DATE-KERNEL-what). Reports of one date on two
# kernels: the one written last wins, so run it right after the benchmarks.
mapfile -t files < <(ls -1t "$dir"/*.goals 2>/dev/null || true)
if [[ ${#files[@]} -eq 0 ]]; then
	echo "summary: no *.goals in $dir: run make bench first" >&2
	exit 1
fi
python3 - "$out" "${files[@]}" <<'PY'
import os, re, sys
out, files = sys.argv[1], sys.argv[2:]
# Newest by the date in the name first, then by mtime (the order ls gave):
# a fresh clone gives every file the same mtime.
files.sort(key=lambda f: os.path.basename(f)[:10], reverse=True)
seen, rows = set(), []
for path in files:
    name = os.path.basename(path)[:-len(".goals")]
    m = re.search(r"-(hooks|fapolicyd|daemon|events|against-[^.]+)$", name)
    kind = m.group(1) if m else name[len("YYYY-MM-DD-"):]
    if kind in seen:
        continue
    seen.add(kind)
    for line in open(path):
        goal, got, status, cause = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
        rows.append((goal, got, status, cause, name))
with open(out, "w") as f:
    f.write("# The Benchmarks issue's goals, from the newest reports\n\n")
    f.write("Emulated (qemu TCG) unless a report's kernel runs on hardware: only ratios are claims. "
            "Each row names the report it comes from (bench/results/REPORT.md).\n\n")
    f.write("| goal | measured | status | why, where missed | report |\n| --- | --- | --- | --- | --- |\n")
    for goal, got, status, cause, name in rows:
        f.write(f"| {goal} | {got} | {'**' + status + '**' if status in ('met', 'missed') else status} | {cause} | {name} |\n")
print(open(out).read(), end="")
PY
echo "summary: wrote $out" >&2
