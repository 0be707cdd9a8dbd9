#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# chart.sh KIND DAT PNG TITLE YLABEL: one chart of a benchmark report, drawn
# by gnuplot from the report's data file. DAT is a table: a header row
# naming the columns, then one row per item, its name first, NaN where a
# value is missing. Column names that are numbers are rule counts (0: an
# empty policy); any other name is used as it is.
#   bars   one cluster per row, one bar per column, log scale
#   lines  x = the rule counts (10 and up, log scale), one line per row:
#          how a row's cost moves with the size of the policy
set -eu
kind=$1 dat=$2 png=$3 title=$4 ylabel=$5
command -v gnuplot >/dev/null || {
	echo "chart: gnuplot is missing: run \`make deps\` (it installs gnuplot-nox)" >&2
	exit 1
}
# Column names as titles ("floor", "empty policy", "1000 rules"), as gnuplot statements.
ncols=$(($(head -n 1 "$dat" | wc -w) - 1))
titles=$(head -n 1 "$dat" | awk '{
	for (i = 2; i <= NF; i++) {
		t = $i
		if ($i ~ /^[0-9]+$/) { n = $i + 0; t = n == 0 ? "empty policy" : n " rules" }
		printf "T[%d] = \"%s\"\n", i - 1, t
	}
}')
case $kind in
bars)
	gnuplot <<GP
set terminal pngcairo noenhanced size 1600,700 font ",10"
set output "$png"
set title "$title"
set ylabel "$ylabel"
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -35 left
set key top left
set grid ytics
array T[$ncols]
$titles
plot for [i=2:$((ncols + 1))] "$dat" using i:xtic(1) skip 1 title T[i-1]
GP
	;;
lines)
	# Transposed: one row per rule count (10 and up), one column per item.
	t=$(mktemp)
	awk 'NR == 1 { for (i = 2; i <= NF; i++) head[i] = $i; next }
	     { name[NR] = $1; for (i = 2; i <= NF; i++) v[NR, i] = $i; rows = NR; cols = NF }
	     END {
		printf "rules"; for (r = 2; r <= rows; r++) printf " %s", name[r]; print ""
		for (i = 2; i <= cols; i++) {
			if (head[i] !~ /^[0-9]+$/ || head[i] + 0 < 10) continue
			printf "%s", head[i]; for (r = 2; r <= rows; r++) printf " %s", v[r, i]; print ""
		}
	     }' "$dat" >"$t"
	gnuplot <<GP
set terminal pngcairo noenhanced size 1200,700 font ",10"
set output "$png"
set title "$title"
set xlabel "rules in the policy"
set ylabel "$ylabel"
set logscale xy
set key outside right
set grid
plot for [i=2:$(head -n 1 "$t" | wc -w)] "$t" using 1:i with linespoints title columnheader(i)
GP
	rm -f "$t"
	;;
*)
	echo "chart: KIND is bars or lines" >&2
	exit 2
	;;
esac
