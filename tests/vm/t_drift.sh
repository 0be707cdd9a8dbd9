#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Drift: what the policy's paths resolved to at load against what they
# are now. A replaced file (a package upgrade), a replaced directory or a
# recreated cgroup is re-resolved by the daemon on its own, from the same
# policy text, but only where only root could have replaced it, and deny
# rules keep the old file or tree too; elsewhere it is reported and not
# followed (the rules keep what they were given); edited policy text is never
# loaded behind the admin's back. Status never re-resolves and the daemon's
# own periodic check is slower than these waits: what is seen here came
# through the inotify watch. Every enforcement
# check asserts the caller's errno and, for denials, the daemon's event.
source "$(dirname "$0")/lib.sh" || exit 1
setup

# Root's own place (every directory above it root's, 0755), on tmpfs:
# exact-file rules cannot name files on the VM's overlay root.
S=/var/lib/bwdrift
U=$WORK/u # below /tmp, which everyone may write
CG=/sys/fs/cgroup
umount "$S" 2>/dev/null
mkdir -p "$S" && mount -t tmpfs -o mode=0755 bwdrift "$S"
mkdir -p "$S/bin" "$S/app/v1" "$U/app"
cp /usr/bin/true "$S/bin/x"
cp /usr/bin/true "$S/bin/y"
cp /usr/bin/true "$U/x"
cp /usr/bin/true "$S/app/v1/tool"
rmdir "$CG/bwdrift" 2>/dev/null
mkdir "$CG/bwdrift"
POLICY=$WORK/drift.policy
cat >"$POLICY" <<POL
deny exec $S/bin/x
deny exec $S/app/**
deny exec $S/bin/y from cgroup=/bwdrift
deny exec $U/app/**
deny exec $U/x
POL
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

status_field() { "$BULWARK" status --json | jq -r ".policy.$1"; }
generation() { status_field generation; }

# wait_generation NAME WANT: the daemon reaches generation WANT by itself.
wait_generation() {
	local i got
	for ((i = 0; i < 100; i++)); do
		got=$(generation)
		[[ $got == "$2" ]] && { pass "$1: generation $2"; return 0; }
		sleep 0.1
	done
	fail "$1: wanted generation $2, got $got"
	tail -n 5 "$DAEMON_LOG" | sed 's/^/    /'
	return 1
}

# wait_log NAME TEXT: the daemon logs TEXT (a fixed string).
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qF -- "$2" "$DAEMON_LOG" && { pass "$1: logged"; return 0; }
		sleep 0.1
	done
	fail "$1: the daemon never logged '$2'"
	return 1
}

# in_cgroup ERRNO LINE NAME PATH: exec PATH from inside /bwdrift.
in_cgroup() {
	local name=$3 out pid
	out=$(bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" exec "$3"' _ "$CG/bwdrift" "$BWTRY" "$4" 2>&1)
	pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out")
	if [[ $out == *"errno=$1"* ]]; then
		pass "$name: exec $(basename "$4") in the cgroup gives errno=$1"
	else
		fail "$name: exec $4 in the cgroup: wanted errno=$1, got: $out"
		return 1
	fi
	[[ -n $2 ]] && wait_event "$name" ".process.pid == $pid and .action == \"blocked\" and .rule.line == $2"
}

deny_event() { # deny_event NAME LINE: the last try_exec was blocked by LINE
	wait_event "$1" ".process.pid == $TRY_PID and .action == \"blocked\" and .rule.line == $2"
}

# --- the record, as loaded ---------------------------------------------
expect_eq "six paths recorded" 6 "$(status_field resolved)"
expect_eq "nothing drifted at load" 0 "$(status_field drift_count)"
check "status says all as loaded" grep -q "resolved:  6 paths, all as loaded" <("$BULWARK" status)
expect_exec_errno "file rule" EPERM "$S/bin/x" && deny_event "file rule" 1
expect_exec_errno "tree rule" EPERM "$S/app/v1/tool" && deny_event "tree rule" 2
in_cgroup EPERM 3 "cgroup rule" "$S/bin/y"
expect_exec_ok "outside the cgroup" "$S/bin/y"
GEN=$(generation)
SHA=$(status_field sha256)
wait_event "the start is a policy event" \
	".type == \"policy\" and .event == \"loaded\" and .reason == \"start\" and .policy.sha256 == \"$SHA\" and .policy.generation == $GEN and .by == null"

# --- a replaced file is followed: a package upgrade does not open a deny ----
# dpkg writes the new version beside the old and renames it over; the old
# inode lives on while a hard link or a running process holds it.
ln "$S/bin/x" "$S/bin/x.old"
cp /usr/bin/true "$S/bin/x.new" && printf 'v2' >>"$S/bin/x.new" && mv -f "$S/bin/x.new" "$S/bin/x"
wait_generation "replaced file re-resolved" $((GEN + 1))
wait_event "the replaced file is a drift event, followed" \
	".type == \"policy\" and .event == \"drift\" and .path == \"$S/bin/x\" and .kind == \"file\" and .now == \"changed\" and .followed == true and .rule == \"$POLICY:1\""
expect_exec_errno "the new file is denied" EPERM "$S/bin/x" && deny_event "new file" 1
expect_exec_errno "the old file stays denied under another name" EPERM "$S/bin/x.old" && deny_event "old file" 1
check "status names the old file as still denied" grep -q "file $S/bin/x was replaced; its old file" <("$BULWARK" status)
GEN=$((GEN + 1))

# --- a file others could have replaced is reported, not followed -----------
cp /usr/bin/true "$U/x.new" && printf 'u' >>"$U/x.new" && mv -f "$U/x.new" "$U/x"
wait_log "replaced file in /tmp" "file $U/x was replaced where someone other than root could have: not followed"
expect_eq "a replaced file in /tmp does not reload" "$GEN" "$(generation)"
wait_event "the file in /tmp is a drift event, not followed" \
	".type == \"policy\" and .event == \"drift\" and .path == \"$U/x\" and .kind == \"file\" and .followed == false and .rule == \"$POLICY:5\""
expect_exec_ok "the new file in /tmp is not the denied one" "$U/x"
check "status tells it is not followed" grep -q "file $U/x is a different file now, put there where not only root can write" <("$BULWARK" status)

# --- a directory others could have replaced is not followed ----------------
cp /usr/bin/true "$U/app/tool"
expect_exec_errno "tree in /tmp" EPERM "$U/app/tool" && deny_event "tree in /tmp" 4
mv "$U/app" "$U/app.old" && mkdir "$U/app" && cp /usr/bin/true "$U/app/tool"
wait_log "tree in /tmp" "directory $U/app was replaced where someone other than root could have: not followed"
expect_eq "a directory in /tmp does not reload" "$GEN" "$(generation)"
expect_exec_errno "the tree still names the old directory" EPERM "$U/app.old/tool" &&
	deny_event "old directory in /tmp" 4
expect_eq "status says it is not followed" false \
	"$("$BULWARK" status --json | jq -r ".policy.drift[] | select(.path == \"$U/app\") | .followed")"


# --- a replaced directory is re-resolved ---------------------------------
mv "$S/app" "$S/app.old"
mkdir -p "$S/app/v2"
cp /usr/bin/true "$S/app/v2/tool"
wait_generation "replaced directory re-resolved" $((GEN + 1))
wait_event "the re-resolution is a policy event" \
	".type == \"policy\" and .event == \"loaded\" and .reason == \"re-resolve\" and .policy.generation == $((GEN + 1)) and .policy.sha256 == \"$SHA\""
expect_exec_errno "tree rule on the new directory" EPERM "$S/app/v2/tool" && deny_event "new directory" 2
# The old tree holds the same files: the deny keeps covering it (decision 37).
expect_exec_errno "the old directory stays denied" EPERM "$S/app.old/v1/tool" && deny_event "old directory" 2
expect_exec_errno "re-resolving keeps the followed file" EPERM "$S/bin/x" && deny_event "followed file" 1
expect_eq "only the /tmp file and tree still drift" 2 "$(status_field drift_count)"

# --- a recreated cgroup is re-resolved -------------------------------------
rmdir "$CG/bwdrift" && mkdir "$CG/bwdrift"
wait_generation "recreated cgroup re-resolved" $((GEN + 2))
in_cgroup EPERM 3 "recreated cgroup" "$S/bin/y"
expect_exec_ok "outside the recreated cgroup" "$S/bin/y"
expect_eq "a second re-resolution still keeps the /tmp tree" 2 "$(status_field drift_count)"
expect_eq "re-resolving keeps the policy's identity" "$SHA" "$(status_field sha256)"

# --- edited policy text is the admin's to load -----------------------------
echo "# edited, not loaded yet" >>"$POLICY"
rmdir "$CG/bwdrift" && mkdir "$CG/bwdrift"
wait_log "edited policy" "was edited since policy"
wait_event "the refused re-resolution is a policy event" \
	".type == \"policy\" and .event == \"rejected\" and .reason == \"re-resolve\" and .path == \"$POLICY\""
expect_eq "no reload behind the admin's back" $((GEN + 2)) "$(generation)"
expect_eq "status lists the cgroup too" 3 "$(status_field drift_count)"
check "bulwark policy load re-resolves everything" "$BULWARK" policy load "$POLICY"
wait_event "a requested load names who asked" \
	".type == \"policy\" and .event == \"loaded\" and .reason == \"request\" and .policy.generation == $((GEN + 3)) and .by.exe == \"$BULWARK\" and .by.pid > 0"
expect_eq "nothing drifts after a load" 0 "$(status_field drift_count)"
expect_exec_errno "file rule after the load" EPERM "$S/bin/x" && deny_event "file after load" 1
in_cgroup EPERM 3 "cgroup after the load" "$S/bin/y"

# --- a missing path, and the record across a restart -----------------------
rm "$S/bin/x"
expect_eq "a deleted file shows as missing" missing \
	"$("$BULWARK" status --json | jq -r '.policy.drift[0].now')"
stop_daemon
start_daemon || { fail "daemon restart"; exit 1; }
expect_eq "the record survives a restart" 6 "$(status_field resolved)"
expect_eq "the restarted daemon sees the missing file" 1 "$(status_field drift_count)"
rmdir "$CG/bwdrift" && mkdir "$CG/bwdrift"
wait_generation "re-resolved after a restart" $((GEN + 4))
in_cgroup EPERM 3 "cgroup after restart" "$S/bin/y"

# --- a cgroup recreated while the daemon moves its watch -------------------
# Made again the moment the daemon reports it gone: the new watch comes
# after the mkdir, and only a second look finds it (before, 18 of 20 such
# rounds waited for the 20-minute full check).
out=$(python3 "$REPO/tests/vm/recreate.py" "$EV" "$CG/bwdrift" 3)
if grep -qx "recreated 3 of 3 re-resolved" <<<"$out"; then
	pass "recreated while re-watching: re-resolved each time"
else
	fail "recreated while re-watching: re-resolved each time" && sed 's/^/    /' <<<"$out"
fi
in_cgroup EPERM 3 "cgroup recreated while re-watching" "$S/bin/y"

teardown
rmdir "$CG/bwdrift" 2>/dev/null
umount "$S" && rmdir "$S"
exit 0
