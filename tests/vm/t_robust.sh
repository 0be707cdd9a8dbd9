#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Robustness of the vendor API (issue 13 section 6): bad clients cannot
# crash or block bulwarkd, and never touch enforcement.
#  - malformed messages each get an error reply, and the daemon answers
#    the next request;
#  - a client that dies in the middle of a transaction leaves nothing
#    applied and no layer behind;
#  - a subscriber that reads nothing for 60 s (or more, until the storm
#    has overflowed it) while an exec storm runs
#    (process notifications for every exec and exit): bulwarkd answers
#    status throughout, denies and allows as before during the storm, and
#    what the subscriber received plus what it was told it dropped is
#    at least every storm notification (none lost silently); status counts
#    the drops. A subscriber as stalled that asked for refusals only loses
#    nothing: bulwarkd filters by the classes asked for.
source "$(dirname "$0")/lib.sh" || exit 1
setup
BWSUB=$REPO/build/tests/bwsub
BWLAYER=$REPO/build/tests/bwlayer
CTL=$REPO/tests/vm/ctl.py
EXECLOOP=$REPO/build/bench/execloop
SOCK=/run/bulwark/bulwarkd.sock
T=$WORK/r
mkdir -p "$T"
cp /usr/bin/true "$T/ok"
cp /usr/bin/true "$T/bad"
cp /usr/bin/true "$T/storm"
POLICY=$WORK/robust.policy
cat >"$POLICY" <<POL
deny exec $T/bad
notify exec exit
POL
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

responsive() { timeout 30 "$BULWARK" status --json >/dev/null 2>&1; }

# --- malformed messages
big=$(head -c 70000 /dev/zero | tr '\0' x)
msgs=('not json' '{"cmd":' '{"cmd":42}' '[]' '{"cmd":"txn-commit"}' '{"cmd":"txn-add","rules":7}'
	'{"cmd":"layer-open","name":"","altitude":-1}' "{\"cmd\":\"status\",\"pad\":\"$big\"}")
# One python for all (it takes about 1 s to start under TCG), a connection each.
mapfile -t replies < <(timeout 60 python3 "$CTL" "$SOCK" each "${msgs[@]}" 2>&1)
for ((i = 1; i <= ${#msgs[@]}; i++)); do
	msg=${msgs[i - 1]}
	reply=${replies[i - 1]:0:300}
	if [[ $reply == *'"error"'* || $reply == "<eof>" ]]; then
		pass "malformed message $i: refused ($reply)"
	else
		fail "malformed message $i (${msg:0:40}): wanted an error reply, got: $reply"
	fi
done
# (each message's own reply above shows the daemon alive after the ones before)
check "bulwarkd answers after the malformed messages" responsive

# --- a client dies in the middle of a transaction
rm -f "$T/half.in" && mkfifo "$T/half.in"
"$BWLAYER" half 300 <"$T/half.in" >"$T/half.out" 2>&1 &
HALF=$!
exec {HFD}>"$T/half.in"
printf 'begin\nadd deny exec %s\n' "$T/ok" >&"$HFD"
for ((n = 0; n < 100; n++)); do [[ $(grep -c '^add rc=0' "$T/half.out") -ge 1 ]] && break; sleep 0.1; done
check "the half-open transaction holds a rule ($(tr '\n' ' ' <"$T/half.out"))" grep -q '^add rc=0' "$T/half.out"
kill -9 "$HALF"
wait "$HALF" 2>/dev/null
exec {HFD}>&-
for ((n = 0; n < 100; n++)); do
	[[ $("$BULWARK" status --json | jq -r '[.layers[]?.name] | index("half") == null') == true ]] && break
	sleep 0.1
done
check "its layer went with it" test "$("$BULWARK" status --json | jq -r '[.layers[]?.name] | index("half") == null')" = true
expect_exec_ok "nothing of its transaction applied" "$T/ok"

# --- a subscriber that never reads, 60 s under an exec storm
drops0=$("$BULWARK" status --json | jq -r .subscriber_drops)
touch "$T/stall"
"$BWSUB" 2 5 "" "$T/stall" >"$T/slow.out" 2>&1 &
SUB=$!
# A second one, as stalled, asks for refusals only (BW_NOTIFY_DENIAL):
# bulwarkd filters for it, so the storm never fills its queue.
"$BWSUB" 128 5 "" "$T/stall" >"$T/denials.out" 2>&1 &
DSUB=$!
for ((n = 0; n < 100; n++)); do grep -q '^subscribed' "$T/slow.out" && grep -q '^subscribed' "$T/denials.out" && break; sleep 0.1; done
check "the slow subscribers are subscribed" grep -q '^subscribed' "$T/slow.out" "$T/denials.out"
# At least 60 s, and until the storm has published more than the stalled
# subscriber can hold (the backlog's 1,024 lines and its socket's buffer):
# a one-CPU guest execs half as fast as a two-CPU one (at most 180 s).
timeout 180 "$EXECLOOP" 1000000 "$T/storm" >/dev/null 2>&1 &
STORM=$!
storm_start=$SECONDS
alive=0 rounds=0 denied=0 allowed=0
while kill -0 "$STORM" 2>/dev/null; do
	if ((SECONDS - storm_start >= 60)) &&
		[[ $(grep -cE "\"exe\": ?\"$T/storm\"" "$EV") -ge 3000 ]]; then
		kill "$STORM" 2>/dev/null
		break
	fi
	rounds=$((rounds + 1))
	responsive && alive=$((alive + 1))
	try_exec "$T/bad"
	[[ $TRY_RC -eq 1 && $TRY_OUT == *"errno=EPERM"* ]] && denied=$((denied + 1))
	try_exec "$T/ok"
	[[ $TRY_RC -eq 0 && $TRY_OUT == *"exit=0"* ]] && allowed=$((allowed + 1))
	sleep 2
done
wait "$STORM"
storms=$(jq -c "select(.type == \"process\" and .event == \"exec\" and .process.exe == \"$T/storm\")" "$EV" | wc -l)
echo "   storm: $storms execs of the storm reported in $((SECONDS - storm_start)) s; $rounds checks during it"
check "the storm ran ($storms execs reported)" test "$storms" -gt 100
expect_eq "bulwarkd answered status every time during the storm" "$rounds" "$alive"
expect_eq "the denied program was refused every time during the storm" "$rounds" "$denied"
expect_eq "the allowed program ran every time during the storm" "$rounds" "$allowed"
wait_event "a refusal during the storm is reported" ".action == \"blocked\" and .target.path == \"$T/bad\""
rm "$T/stall"
wait "$SUB" "$DSUB"
got=$(grep -c '^note kind=2 ' "$T/slow.out")
told=$(sed -n 's/^dropped=\([0-9]*\).*/\1/p' "$T/slow.out")
drops=$(($("$BULWARK" status --json | jq -r .subscriber_drops) - drops0))
# Every storm notification went to the subscriber, received or counted
# as dropped: that bounds received + told from below; all process
# notifications ever published bound it from above (the subscriber also
# saw the test's own commands, which it may have received or dropped).
storm_published=$(jq -c "select(.type == \"process\" and .process.exe == \"$T/storm\")" "$EV" | wc -l)
published=$(jq -c 'select(.type == "process")' "$EV" | wc -l)
echo "   slow subscriber: $got received, ${told:-?} dropped as told, status counts $drops; storm notifications $storm_published, all process notifications $published"
check "the slow subscriber was told it dropped some (${told:-none})" test "${told:-0}" -gt 0
expect_eq "status counts the same drops" "${told:-none}" "$drops"
check "every storm notification was received or counted as dropped ($got + ${told:-0} >= $storm_published)" \
	test "$((got + ${told:-0}))" -ge "$storm_published"
check "nothing counted twice ($got + ${told:-0} <= $published)" test "$((got + ${told:-0}))" -le "$published"
dgot=$(grep -c "^note kind=1 op=exec action=blocked .* target=$T/bad$" "$T/denials.out")
dall=$(grep -c '^note ' "$T/denials.out")
dtold=$(sed -n 's/^dropped=\([0-9]*\).*/\1/p' "$T/denials.out")
echo "   denial-only subscriber: $dall notes, $dgot refusals of $T/bad, ${dtold:-?} dropped"
expect_eq "the denial-only subscriber got every refusal during the storm" "$rounds" "$dgot"
expect_eq "... and nothing else" "$dgot" "$dall"
expect_eq "... and lost nothing: bulwarkd filtered the storm out of its queue" 0 "${dtold:-none}"
check "bulwarkd is alive and answers after it all" responsive
teardown
