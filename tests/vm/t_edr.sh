#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The vendor example (issue 13 section 5): examples/mini-edr, built on the
# public header and libbulwark only, against a real bulwarkd.
#  - a blocklisted binary runs once, is detected (with its process tree),
#    and mini-edr denies it in its own layer: the second exec fails with
#    EPERM, and the event names mini-edr's layer;
#  - a copy of it under another name is refused by its hash rule;
#  - a binary not on the blocklist keeps running (allow beside deny);
#  - a second client at a higher altitude allows the same binary: it stays
#    denied (deny wins across layers);
#  - mini-edr exits: its layer goes, and the binary runs again.
source "$(dirname "$0")/lib.sh" || exit 1
setup
EDR=$REPO/build/examples/mini-edr
BWLAYER=$REPO/build/tests/bwlayer
T=$WORK/edr
mkdir -p "$T"
# Copies of true made unique, so that their hashes name them alone.
cp /usr/bin/true "$T/evil" && printf 'mini-edr test: evil\n' >>"$T/evil"
cp /usr/bin/true "$T/good" && printf 'mini-edr test: good\n' >>"$T/good"
H=$(sha256sum "$T/evil" | cut -d' ' -f1)
printf '# the test blocklist\n%s  evil\n' "$H" >"$T/blocklist"
POLICY=$WORK/edr.policy
echo "notify exec exit" >"$POLICY"
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

# wait_line FILE REGEX: until FILE has a line matching REGEX (30 s); leaves it in $LINE.
wait_line() {
	local i
	for ((i = 0; i < 150; i++)); do
		LINE=$(grep -m1 -E "$2" "$1") && return 0
		sleep 0.2
	done
	return 1
}

"$EDR" --altitude 500 "$T/blocklist" >"$T/edr.out" 2>"$T/edr.err" &
EDR_PID=$!
wait_line "$T/edr.out" '^ready layer=mini-edr altitude=500 blocklist=1$'
check "mini-edr opened its layer and subscribed ($(cat "$T/edr.err"))" test $? -eq 0

before=$(counter exec denied)
expect_exec_ok "the blocklisted binary runs once: detection, not prevention" "$T/evil"
FIRST=$TRY_PID
wait_line "$T/edr.out" "^blocked exe=$T/evil sha256=$H rules=2$"
check "mini-edr detected it and committed its deny rules ($(tail -n 3 "$T/edr.out" "$T/edr.err" | tr '\n' ' '))" test $? -eq 0
wait_line "$T/edr.out" "^detected pid=$FIRST "
check "the detection names the process tree: $LINE" grep -qE "tree=evil\\($FIRST\\)<-bwtry\\([0-9]+\\)" <<<"$LINE"

expect_exec_errno "its second exec is refused in the kernel" EPERM "$T/evil"
DENIED=$TRY_PID
wait_event "the refusal" ".action == \"blocked\" and .process.pid == $DENIED and .layer.name == \"mini-edr\""
expect_eq "the deciding rule is mini-edr's" mini-edr "$(event_field .rule.file)"
check "the exec deny counter moved" test "$(counter exec denied)" -gt "$before"
wait_line "$T/edr.out" "^denied pid=$DENIED .*target=$T/evil layer=mini-edr$"
check "mini-edr saw its own refusal through its subscription" test $? -eq 0
expect_exec_ok "a binary not on the blocklist still runs" "$T/good"
# Its hash rule holds the content under any name: a copy is another file,
# never trusted, hashed by IMA at its first exec (decision 90).
cp "$T/evil" "$T/evil-copy"
expect_exec_errno "a copy under another name is refused by mini-edr's sha256: rule" EPERM "$T/evil-copy"
wait_event "the copy's refusal" ".action == \"blocked\" and .process.pid == $TRY_PID and .layer.name == \"mini-edr\" and .target.sha256 == \"$H\""

# Another vendor, higher up, allows the same binary: deny wins.
rm -f "$T/b.in" && mkfifo "$T/b.in"
"$BWLAYER" vendor-b 2000 <"$T/b.in" >"$T/b.out" 2>&1 &
B_PID=$!
exec {BFD}>"$T/b.in"
printf 'begin\nadd allow exec %s\ncommit\n' "$T/evil" >&"$BFD"
wait_line "$T/b.out" '^commit rc='
expect_eq "the second client committed its allow" "commit rc=0" "$LINE"
expect_exec_errno "allowed by a higher layer, still denied by mini-edr's" EPERM "$T/evil"
wait_event "the refusal under two layers" ".action == \"blocked\" and .process.pid == $TRY_PID and .layer.name == \"mini-edr\""

# mini-edr leaves: its layer and rules go with it.
kill -TERM "$EDR_PID"
wait "$EDR_PID"
check "mini-edr exits cleanly on SIGTERM" test $? -eq 0
for ((i = 0; i < 100; i++)); do
	[[ $("$BULWARK" status --json | jq -r '[.layers[]?.name] | index("mini-edr") == null') == true ]] && break
	sleep 0.1
done
expect_exec_ok "mini-edr gone, its layer with it: the binary runs" "$T/evil"

echo quit >&"$BFD"
exec {BFD}>&-
wait "$B_PID" 2>/dev/null
teardown
