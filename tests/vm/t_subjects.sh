#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Subject selectors end to end: exe (exact and tree, nested classes),
# parent, uid, gid, cgroup (with descendants created after the load), and
# conjunctions. Every case asserts the caller's errno, the daemon's event,
# and that `bulwark policy explain` (offline and live) predicts the
# kernel's decision and names the same rule.
source "$(dirname "$0")/lib.sh" || exit 1
setup

S=$WORK/s
mkdir -p "$S/prog" "$S/apps/nested" "$S/tgt/deep"
for p in prog/A prog/B prog/E apps/C apps/nested/D; do cp "$BWTRY" "$S/$p"; done
for t in x y z deep/w; do cp /usr/bin/true "$S/tgt/$t"; done
cp /usr/bin/bash "$S/prog/shell"
CG=/sys/fs/cgroup
rmdir "$CG/bwt/ok" "$CG/bwt/sub" "$CG/bwt" 2>/dev/null
mkdir -p "$CG/bwt/ok"
BASH_EXE=$(readlink -f /proc/$$/exe)

cat >"$WORK/subjects.policy" <<POL
allow exec $S/tgt/**
deny exec $S/tgt/x from exe=$S/prog/A
deny exec $S/tgt/** from exe=$S/apps/**
allow exec $S/tgt/y from exe=$S/apps/nested/**
deny exec $S/tgt/z from parent=$S/prog/B
deny exec $S/tgt/y from uid=4242
deny exec $S/tgt/z from gid=4343
deny exec $S/tgt/x from cgroup=/bwt
allow exec $S/tgt/x from cgroup=/bwt/ok
deny exec $S/tgt/x from exe=$S/prog/B uid=4242
audit exec $S/tgt/deep/** from uid=4242
POL
check "subjects policy checks clean" "$BULWARK" policy check --strict "$WORK/subjects.policy"
start_daemon --policy "$WORK/subjects.policy" || { fail "daemon start"; exit 1; }
# A cgroup created after the load is still covered by its ancestor's rule.
mkdir -p "$CG/bwt/sub"

# explain_agrees NAME QUERY ERRNO LINE: offline and live explain both
# predict ERRNO (0 = runs) and, when LINE is set, the deciding rule.
explain_agrees() {
	local name=$1 query=$2 want=$3 line=$4 mode out action rl
	for mode in offline live; do
		if [[ $mode == offline ]]; then
			out=$("$BULWARK" policy explain --json --policy "$WORK/subjects.policy" $query 2>&1)
		else
			out=$("$BULWARK" policy explain --json $query 2>&1)
		fi
		action=$(jq -r .action <<<"$out" 2>/dev/null)
		rl=$(jq -r '.rule.line // "none"' <<<"$out" 2>/dev/null)
		if [[ ($want == EPERM && $action == blocked) || ($want == 0 && $action != blocked && -n $action) ]] &&
			[[ -z $line || $rl == "$line" ]]; then
			pass "$name: $mode explain agrees ($action, rule ${rl})"
		else
			fail "$name: $mode explain disagrees with the kernel (want $want, rule $line): $out"
		fi
	done
}

# case_run NAME WANT LINE CGROUP QUERY_SUBJECT TARGET CMD...: run CMD (which
# ends in an in-place exec of TARGET) in CGROUP; the exec'ing process must
# see WANT; a deny must be reported with rule LINE; explain must agree.
case_run() {
	local name=$1 want=$2 line=$3 cg=$4 subj=$5 target=$6
	shift 6
	TRY_OUT=$(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG$cg" "$@" 2>&1)
	TRY_RC=$?
	local pid
	pid=$(sed -n 's/^pid=\([0-9]*\) .*rc=-1.*/\1/p' <<<"$TRY_OUT" | tail -n 1)
	if [[ $want == EPERM ]]; then
		if [[ $TRY_OUT == *"errno=EPERM"* && -n $pid ]]; then
			pass "$name: exec $(basename "$target") fails with EPERM"
			wait_event "$name" ".process.pid == $pid and .action == \"blocked\" and .rule.line == $line" &&
				expect_eq "$name: event target" "$target" "$(event_field .target.path)"
		else
			fail "$name: wanted EPERM, got rc=$TRY_RC: $TRY_OUT"
		fi
	else
		if [[ $TRY_OUT != *"errno=EPERM"* && $TRY_OUT != *"rc=-1"* && ($TRY_RC -eq 0 || $TRY_OUT == *"exit=0"*) ]]; then
			pass "$name: exec $(basename "$target") succeeds"
		else
			fail "$name: wanted success, got rc=$TRY_RC: $TRY_OUT"
		fi
	fi
	explain_agrees "$name" "exec $target as $subj cgroup=$cg" "$want" "$line"
}

as() { echo setpriv --reuid="$1" --regid="$2" --clear-groups --; }
base="parent=$BASH_EXE"

# --- exe: exact file, tree, nested tree
case_run "exe exact" EPERM 2 / "exe=$S/prog/A $base uid=0 gid=0" "$S/tgt/x" "$S/prog/A" run "$S/tgt/x"
case_run "exe exact, other program" 0 1 / "exe=$S/prog/B $base uid=0 gid=0" "$S/tgt/x" "$S/prog/B" run "$S/tgt/x"
case_run "exe tree beats any-subject rule on the same tree" EPERM 3 / "exe=$S/apps/C $base uid=0 gid=0" "$S/tgt/y" "$S/apps/C" run "$S/tgt/y"
case_run "nested exe tree: more specific object allows" 0 4 / "exe=$S/apps/nested/D $base uid=0 gid=0" "$S/tgt/y" "$S/apps/nested/D" run "$S/tgt/y"
case_run "nested exe class inherits the outer tree's deny" EPERM 3 / "exe=$S/apps/nested/D $base uid=0 gid=0" "$S/tgt/z" "$S/apps/nested/D" run "$S/tgt/z"

# --- parent: the exec'ing process's parent program
case_run "parent" EPERM 5 / "exe=$S/prog/A parent=$S/prog/B uid=0 gid=0" "$S/tgt/z" "$S/prog/B" exec "$S/prog/A" run "$S/tgt/z"
case_run "parent, other parent" 0 1 / "exe=$S/prog/A parent=$S/prog/A uid=0 gid=0" "$S/tgt/z" "$S/prog/A" exec "$S/prog/A" run "$S/tgt/z"

# --- uid and gid (effective ids)
case_run "uid" EPERM 6 / "exe=$S/prog/B $base uid=4242 gid=0" "$S/tgt/y" $(as 4242 0) "$S/prog/B" run "$S/tgt/y"
case_run "uid, other user" 0 1 / "exe=$S/prog/B $base uid=4241 gid=0" "$S/tgt/y" $(as 4241 0) "$S/prog/B" run "$S/tgt/y"
case_run "gid" EPERM 7 / "exe=$S/prog/B $base uid=0 gid=4343" "$S/tgt/z" $(as 0 4343) "$S/prog/B" run "$S/tgt/z"
case_run "gid, other group" 0 1 / "exe=$S/prog/B $base uid=0 gid=4344" "$S/tgt/z" $(as 0 4344) "$S/prog/B" run "$S/tgt/z"

# --- cgroup: the cgroup and its descendants; a nested class wins
case_run "cgroup created after the load" EPERM 8 /bwt/sub "exe=$S/prog/B $base uid=0 gid=0" "$S/tgt/x" "$S/prog/B" run "$S/tgt/x"
case_run "cgroup itself" EPERM 8 /bwt "exe=$S/prog/B $base uid=0 gid=0" "$S/tgt/x" "$S/prog/B" run "$S/tgt/x"
case_run "nested cgroup allows" 0 9 /bwt/ok "exe=$S/prog/B $base uid=0 gid=0" "$S/tgt/x" "$S/prog/B" run "$S/tgt/x"

# --- conjunction: all selectors must match; it outranks exe alone
case_run "exe+uid conjunction" EPERM 10 / "exe=$S/prog/B $base uid=4242 gid=0" "$S/tgt/x" $(as 4242 0) "$S/prog/B" run "$S/tgt/x"
case_run "exe+uid, exe only" 0 1 / "exe=$S/prog/B $base uid=0 gid=0" "$S/tgt/x" "$S/prog/B" run "$S/tgt/x"
case_run "exe+uid, uid only" 0 1 / "exe=$S/prog/E $base uid=4242 gid=0" "$S/tgt/x" $(as 4242 0) "$S/prog/E" run "$S/tgt/x"

# --- audit rule with a subject: runs, reported as audit
case_run "audit with uid" 0 11 / "exe=$S/prog/B $base uid=4242 gid=0" "$S/tgt/deep/w" $(as 4242 0) "$S/prog/B" run "$S/tgt/deep/w"
wait_event "audit with uid" ".target.path == \"$S/tgt/deep/w\" and .decision == \"audit\" and .process.uid == 4242 and .rule.line == 11"

# --- a reload renumbers classes: no task may keep its old class.
# The shell starts under policy 1 as class 1 (denied x); policy 2 gives
# class 1 to prog/A instead. A stale cached class would deny the shell.
cat >"$WORK/p1.policy" <<POL
deny exec $S/tgt/x from exe=$S/prog/shell
POL
cat >"$WORK/p2.policy" <<POL
deny exec $S/tgt/x from exe=$S/prog/A
POL
"$BULWARK" policy load "$WORK/p1.policy" >/dev/null
"$S/prog/shell" -c "exec $S/tgt/x" 2>/dev/null
expect_eq "shell denied under policy 1" 126 $?
"$S/prog/shell" -c "sleep 2; exec $S/tgt/x" 2>/dev/null &
shell_pid=$!
sleep 0.5
check "policy 2 loads while the shell waits" "$BULWARK" policy load "$WORK/p2.policy"
wait "$shell_pid"
expect_eq "the waiting shell is judged by policy 2 (class cache invalidated)" 0 $?
TRY_OUT=$("$S/prog/A" run "$S/tgt/x" 2>&1)
expect_eq "prog/A, class 1 under policy 2, is denied" "rc=-1 errno=EPERM" "$(grep -o 'rc=-1 errno=EPERM' <<<"$TRY_OUT")"

# --- confining a program does not stop it mapping itself or its libraries
cat >"$WORK/confine.policy" <<POL
deny exec any from exe=$S/prog/A
allow exec /usr/lib/** from exe=$S/prog/A
allow exec $S/tgt/y from exe=$S/prog/A
POL
"$BULWARK" policy load "$WORK/confine.policy" >/dev/null
expect_exec_ok "a confined program still starts" "$S/prog/A" run "$S/tgt/y"
TRY_OUT=$("$S/prog/A" run "$S/tgt/z" 2>&1)
expect_eq "a confined program cannot exec what it is not allowed" "rc=-1 errno=EPERM" "$(grep -o 'rc=-1 errno=EPERM' <<<"$TRY_OUT")"

# --- decision 104: a decision tries only the subject masks its op's rules
# use, and a hook skips an op whose every rule names a uid the actor does
# not have (bw_live's filter of (op, uid)). The skip must never miss a
# rule: the uids the rules name are refused, every other uid runs, and a
# swap moves the filter with the policy.
cat >"$WORK/uids.policy" <<POL
deny fork any from uid=4242
deny fork any from uid=4250 gid=4343
deny exec $S/tgt/x from uid=4244
deny exec $S/tgt/y
POL
"$BULWARK" policy load "$WORK/uids.policy" >/dev/null
# uid_case NAME WANT LINE UID GID BWTRY-ARGS...: as UID:GID, the caller sees
# errno WANT; a refusal is reported with rule LINE. The runs are checked
# together after (uid_runs_reported): counted, and no refusal reported.
RAN_PIDS=()
uid_case() {
	local name=$1 want=$2 line=$3 uid=$4 gid=$5 out rc pid
	shift 5
	out=$($(as "$uid" "$gid") "$BWTRY" "$@" 2>&1)
	rc=$?
	pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' <<<"$out" | tail -n 1)
	# `run` execs in place: a run that works prints nothing of its own.
	if [[ ($want == EPERM && $out == *"errno=EPERM"* && -n $pid) ||
		($want == 0 && $rc -eq 0 && $out != *"errno=EPERM"*) ]]; then
		pass "$name: $* as $uid:$gid gives errno=$want"
	else
		fail "$name: $* as $uid:$gid: wanted errno=$want, got rc=$rc: $out"
		return
	fi
	if [[ $want == EPERM ]]; then
		wait_event "$name" ".process.pid == $pid and .process.uid == $uid and .action == \"blocked\" and .rule.line == $line"
	elif [[ -n $pid ]]; then
		RAN_PIDS+=("$pid")
	fi
}
# allowed_count OP: the OP decisions status counts as allowed.
allowed_count() {
	local n
	n=$(counter "$1" allowed)
	echo "${n/null/0}" # status leaves out an op nothing has counted yet
}
uid_runs_reported() {
	local op
	for op in fork thread exec; do
		check "uid filter: $op decisions allowed are counted" test "$(allowed_count $op)" -gt "${BEFORE[$op]}"
	done
	[[ ${#RAN_PIDS[@]} -gt 0 ]] || { fail "uid filter: no run printed its pid"; return; }
	no_event "uid filter: the forks that ran" "(.process.pid | IN($(IFS=,; echo "${RAN_PIDS[*]}"))) and .action == \"blocked\""
	RAN_PIDS=()
}
declare -A BEFORE=([fork]=$(allowed_count fork) [thread]=$(allowed_count thread) [exec]=$(allowed_count exec))
uid_case "uid filter: a uid a fork rule names" EPERM 1 4242 0 fork
uid_case "uid filter: another uid forks" 0 "" 4243 0 fork
uid_case "uid filter: vfork by another uid" 0 "" 4241 0 vfork
uid_case "uid filter: uid and gid both named" EPERM 2 4250 4343 fork
uid_case "uid filter: the uid named, not the gid" 0 "" 4250 0 fork
uid_case "uid filter: threads have no rule" 0 "" 4242 0 thread
uid_case "op masks: exec rule by uid" EPERM 3 4244 0 run "$S/tgt/x"
uid_case "op masks: exec by another uid" 0 "" 4245 0 run "$S/tgt/x"
uid_case "op masks: exec rule for anyone" EPERM 4 4245 0 run "$S/tgt/y"
uid_runs_reported
cat >"$WORK/uids2.policy" <<POL
deny fork any from uid=4243
POL
"$BULWARK" policy load "$WORK/uids2.policy" >/dev/null
uid_case "uid filter after a swap: the newly named uid" EPERM 1 4243 0 fork
uid_case "uid filter after a swap: the uid no longer named" 0 "" 4242 0 fork
no_event "uid filter after a swap: the fork that ran" ".process.pid == ${RAN_PIDS[0]:-0} and .action == \"blocked\""

teardown
rmdir "$CG/bwt/ok" "$CG/bwt/sub" "$CG/bwt" 2>/dev/null
exit 0
