#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# File identity under a root attacker: the same file reached through
# overlayfs (lowerdir = a denied tree, or its parent; an exact-file rule's
# file; ld.so, execveat, mmap, mprotect; nested
# overlays; copy-up), btrfs subvolumes (their own devices, repeated inode
# numbers), and a tree directory swapped away (mv app app.old; mkdir app)
# whose old tree must stay denied. Every denial asserts the
# caller's errno and the daemon's event by pid, next to an allowed file of
# the same kind through the same path.
source "$(dirname "$0")/lib.sh" || exit 1
setup

D=$WORK/data  # the real files, on the VM's /tmp tmpfs
O=$WORK/ovl   # overlay mount points, upper and work directories
mkdir -p "$D/den/sub" "$D/ok" "$D/files" "$D/cls" "$O"
cp /usr/bin/true "$D/den/prog"
cp /usr/bin/true "$D/den/sub/prog2"
cp /usr/bin/true "$D/ok/okprog"
cp /usr/bin/true "$D/files/exact"
cp /usr/bin/true "$D/files/fine"
cp "$BWTRY" "$D/cls/bwtry"

# Root's own place for the directory swap: only there does bulwarkd follow.
S=/var/lib/bwident
umount "$S" 2>/dev/null
mkdir -p "$S" && mount -t tmpfs -o mode=0755 bwident "$S"
mkdir -p "$S/app" "$S/other"
cp /usr/bin/true "$S/app/tool"
cp /usr/bin/true "$S/other/prog"

# btrfs: a filesystem with two subvolumes whose files have the same inode
# numbers (every subvolume numbers its own from 256).
B=$WORK/btrfs
BTRFS=no
umount "$B" 2>/dev/null
mkdir -p "$B"
if modprobe btrfs && { modprobe loop || true; } && truncate -s 160M "$WORK/btrfs.img" &&
	mkfs.btrfs -q "$WORK/btrfs.img" && mount -o loop "$WORK/btrfs.img" "$B" &&
	btrfs subvolume create "$B/sv1" >/dev/null && btrfs subvolume create "$B/sv2" >/dev/null; then
	for sv in sv1 sv2; do
		mkdir "$B/$sv/den"
		cp /usr/bin/true "$B/$sv/den/prog"
		cp /usr/bin/true "$B/$sv/exact"
		cp /usr/bin/true "$B/$sv/ok"
	done
	BTRFS=yes
	pass "btrfs with two subvolumes"
else
	fail "btrfs: could not make a btrfs with two subvolumes (module, loop, btrfs-progs?)"
fi

POLICY=$WORK/identity.policy
cat >"$POLICY" <<POL
deny exec $D/den/**
deny exec $D/files/exact
deny exec $D/ok/okprog from exe=$D/cls/bwtry
deny exec $S/app/**
POL
[[ $BTRFS == yes ]] && cat >>"$POLICY" <<POL
deny exec $B/sv1/den/**
deny exec $B/sv1/exact
POL
EXPLAIN_POLICY=$POLICY
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }

# ovl NAME LOWER [UPPER]: mount an overlay at $O/NAME (read-only without
# UPPER, with an empty second layer: overlayfs wants two lowers then).
ovl() {
	local opts="lowerdir=$2"
	mkdir -p "$O/$1" "$O/empty"
	[[ -n $3 ]] || opts="$opts:$O/empty"
	if [[ -n $3 ]]; then
		mkdir -p "$3" "$O/$1.work"
		opts="$opts,upperdir=$3,workdir=$O/$1.work"
	fi
	mount -t overlay overlay -o "$opts" "$O/$1" || fail "mount overlay $1 ($opts)"
}

# denied NAME LINE HOW PATH: bwtry HOW PATH is refused with EPERM and the
# daemon reports a block by rule LINE from that very process.
denied() {
	local name=$1 line=$2 how=$3 path=$4
	if [[ $how == exec || $how == execveat ]]; then
		TRY_OUT=$("$BWTRY" "$how" "$path" 2>&1)
		TRY_RC=$?
		TRY_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$TRY_OUT")
		if [[ $TRY_RC -eq 1 && $TRY_OUT == *"errno=EPERM"* ]]; then
			pass "$name: $how $path fails with EPERM"
		else
			fail "$name: $how $path: wanted EPERM, got: $TRY_OUT"
			return 1
		fi
	else
		expect_try "$name" "$how" EPERM "$path" || return 1
		[[ $TRY_OUT == *"errno=EPERM"* ]] || return 1
	fi
	wait_event "$name" ".process.pid == $TRY_PID and .action == \"blocked\" and .rule.line == $line"
}

# allowed NAME HOW PATH: bwtry HOW PATH succeeds (and an exec'd file ran).
allowed() {
	local name=$1 how=$2 path=$3
	if [[ $how == exec || $how == execveat ]]; then
		TRY_OUT=$("$BWTRY" "$how" "$path" 2>&1)
		if [[ $? -eq 0 && $TRY_OUT == *"exit=0"* ]]; then
			pass "$name: $how $path succeeds"
		else
			fail "$name: $how $path: wanted success, got: $TRY_OUT"
		fi
	else
		expect_try "$name" "$how" 0 "$path"
	fi
}

# --- the real files themselves (the baseline every overlay case builds on)
denied "real denied tree" 1 exec "$D/den/prog"
allowed "real allowed file" exec "$D/ok/okprog"

# --- overlay whose lowerdir is the denied tree (plus an allowed layer)
ovl tree "$D/den:$D/ok"
denied "overlay lowerdir=denied tree" 1 exec "$O/tree/prog"
check "overlay event names the path used" \
	test "$(event_field .target.path)" = "$O/tree/prog"
check "overlay event says the real file decided" \
	grep -q "real-file" <<<"$(event_field '.flags | join(",")')"
denied "overlay lowerdir=denied tree, below" 1 exec "$O/tree/sub/prog2"
allowed "overlay lowerdir=denied tree: allowed layer" exec "$O/tree/okprog"
denied "overlay: execveat" 1 execveat "$O/tree/prog"
allowed "overlay: execveat of an allowed file" execveat "$O/tree/okprog"
denied "overlay: mmap PROT_EXEC" 1 mmap "$O/tree/prog"
allowed "overlay: mmap PROT_EXEC of an allowed file" mmap "$O/tree/okprog"
denied "overlay: mprotect +exec" 1 mprotect "$O/tree/prog"
allowed "overlay: mprotect +exec of an allowed file" mprotect "$O/tree/okprog"

# ld.so maps the program: no execve, the mmap_file decision must hold.
ldso=$(readlink -f /lib64/ld-linux-x86-64.so.2)
out=$("$ldso" "$O/tree/prog" 2>&1)
expect_eq "overlay: ld.so cannot run a denied program" 127 "$?"
wait_event "overlay: ld.so cannot run a denied program" \
	".via == \"mmap\" and .target.path == \"$O/tree/prog\" and .action == \"blocked\" and .rule.line == 1"
out=$("$ldso" "$O/tree/okprog" 2>&1)
expect_eq "overlay: ld.so runs an allowed program" 0 "$?"

# --- overlay whose lowerdir is the denied tree's parent
ovl parent "$D"
denied "overlay lowerdir=parent" 1 exec "$O/parent/den/prog"
denied "overlay lowerdir=parent, below" 1 exec "$O/parent/den/sub/prog2"
allowed "overlay lowerdir=parent: allowed file" exec "$O/parent/ok/okprog"

# --- an exact-file rule's file through an overlay
ovl files "$D/files"
denied "overlay: exact-file rule" 2 exec "$O/files/exact"
allowed "overlay: the file next to it" exec "$O/files/fine"

# --- an overlay over an overlay: both layers are looked through
ovl nested "$O/tree"
denied "nested overlay" 1 exec "$O/nested/prog"
allowed "nested overlay: allowed file" exec "$O/nested/okprog"

# --- explain agrees with the kernel for the overlay paths
explain_agrees "overlay lowerdir=denied tree" "exec $O/tree/prog" blocked 1
explain_agrees "overlay: allowed layer" "exec $O/tree/okprog" allowed none
explain_agrees "overlay: exact-file rule" "exec $O/files/exact" blocked 2

# --- copy-up: writing a lower file through a writable overlay copies it
# to the upper directory. That copy is a new real file, outside the denied
# tree: as `cp den/prog /elsewhere`, it runs (tree rules are locations,
# exact rules inodes). Before the copy-up it is the lower file, denied.
ovl up "$D/den" "$O/up.upper"
denied "writable overlay before copy-up" 1 exec "$O/up/prog"
cat "$O/up/prog" >>"$O/up/prog.tmp" && cat "$O/up/prog.tmp" >"$O/up/prog" && rm -f "$O/up/prog.tmp"
check "copy-up put the file in the upper directory" test -f "$O/up.upper/prog"
allowed "a copied-up file is a new file (documented)" exec "$O/up/prog"
check "the lower file is still denied" bash -c "'$BWTRY' exec '$D/den/prog' | grep -q errno=EPERM"

for m in up nested files parent tree; do umount "$O/$m"; done

# --- btrfs: rules name a subvolume's files (stat's device is the
# subvolume's), and the same inode numbers in another subvolume are other
# files.
if [[ $BTRFS == yes ]]; then
	expect_eq "btrfs: the subvolumes share inode numbers" "$(stat -c %i "$B/sv1/exact")" \
		"$(stat -c %i "$B/sv2/exact")"
	denied "btrfs tree rule" 5 exec "$B/sv1/den/prog"
	denied "btrfs exact-file rule" 6 exec "$B/sv1/exact"
	allowed "btrfs: same inode, other subvolume" exec "$B/sv2/exact"
	allowed "btrfs: same tree, other subvolume" exec "$B/sv2/den/prog"
	allowed "btrfs: a file next to them" exec "$B/sv1/ok"
	denied "btrfs: mmap of the exact file" 6 mmap "$B/sv1/exact"
	allowed "btrfs: mmap, other subvolume" mmap "$B/sv2/exact"
	explain_agrees "btrfs tree rule" "exec $B/sv1/den/prog" blocked 5
	explain_agrees "btrfs exact-file rule" "exec $B/sv1/exact" blocked 6
	explain_agrees "btrfs: same inode, other subvolume" "exec $B/sv2/exact" allowed none
fi

# --- directory swap: a deployment moves the tree away and makes a new one.
# bulwarkd follows the path to the new directory (t_drift.sh) and must
# keep denying the old tree, which holds the same files.
denied "swap: before" 4 exec "$S/app/tool"
gen=$("$BULWARK" status --json | jq -r .policy.generation)
mv "$S/app" "$S/app.old" && mkdir "$S/app" && cp /usr/bin/true "$S/app/tool2"
for ((i = 0; i < 100; i++)); do
	[[ $("$BULWARK" status --json | jq -r .policy.generation) != "$gen" ]] && break
	sleep 0.1
done
check "swap: the daemon re-resolved" test "$("$BULWARK" status --json | jq -r .policy.generation)" != "$gen"
denied "swap: the new directory is denied" 4 exec "$S/app/tool2"
denied "swap: the old tree stays denied" 4 exec "$S/app.old/tool"
allowed "swap: a file elsewhere runs" exec "$S/other/prog"
check "swap: status lists the old identity" test \
	"$("$BULWARK" status --json | jq -r ".policy.retired[] | select(.path == \"$S/app\") | .ino")" = \
	"$(stat -c %i "$S/app.old")"
out=$("$BULWARK" policy explain --json exec "$S/app.old/tool" 2>&1)
expect_eq "swap: explain (live) says the old tree is blocked" "blocked 4" \
	"$(jq -r '.action + " " + (.rule.line|tostring)' <<<"$out" 2>/dev/null)"
expect_eq "swap: explain names the old directory" "$S/app.old/**" "$(jq -r .matched <<<"$out" 2>/dev/null)"
# A second swap keeps both old trees.
gen=$("$BULWARK" status --json | jq -r .policy.generation)
mv "$S/app" "$S/app.old2" && mkdir "$S/app"
for ((i = 0; i < 100; i++)); do
	[[ $("$BULWARK" status --json | jq -r .policy.generation) != "$gen" ]] && break
	sleep 0.1
done
denied "swap twice: the first old tree" 4 exec "$S/app.old/tool"
denied "swap twice: the second old tree" 4 exec "$S/app.old2/tool2"
# An explicit load resolves every path as it is now: the admin's decision.
check "explicit load" "$BULWARK" policy load "$POLICY"
allowed "after an explicit load the old tree is the admin's" exec "$S/app.old/tool"

# --- the exact-file path (decision 105): a policy whose exec rules all name
# exact files, by anyone, is decided with one lookup per view, not the
# search. The same files through the same overlays, ld.so, mappings and
# subvolumes must get the search's answers.
EXACT=$WORK/exact.policy
printf 'deny exec %s\n' "$D/files/exact" >"$EXACT"
[[ $BTRFS == yes ]] && printf 'deny exec %s\n' "$B/sv1/exact" >>"$EXACT"
check "exact-only policy loads" "$BULWARK" policy load "$EXACT"
EXPLAIN_POLICY=$EXACT
before=$(counter exec allowed)
denied "exact path: the file itself" 1 exec "$D/files/exact"
allowed "exact path: the file next to it" exec "$D/files/fine"
allowed "exact path: the file next to it, again" exec "$D/files/fine"
# Counted in bw_live by the kernel, added to the decisions by bulwarkd.
check "exact path: allowed execs are counted" test "$(counter exec allowed)" -ge $((before + 2))
ovl files "$D/files"
ovl nested "$O/files"
ovl up "$D/files" "$O/up2.upper"
for m in files nested up; do
	denied "exact path, overlay $m: exec" 1 exec "$O/$m/exact"
	allowed "exact path, overlay $m: exec of the file next to it" exec "$O/$m/fine"
	denied "exact path, overlay $m: execveat" 1 execveat "$O/$m/exact"
	denied "exact path, overlay $m: mmap PROT_EXEC" 1 mmap "$O/$m/exact"
	allowed "exact path, overlay $m: mmap of the file next to it" mmap "$O/$m/fine"
	denied "exact path, overlay $m: mprotect +exec" 1 mprotect "$O/$m/exact"
done
out=$("$ldso" "$O/nested/exact" 2>&1)
expect_eq "exact path: ld.so cannot run the file through two overlays" 127 "$?"
wait_event "exact path: ld.so through two overlays is a mapping's denial" \
	".via == \"mmap\" and .target.path == \"$O/nested/exact\" and .action == \"blocked\" and .rule.line == 1"
explain_agrees "exact path: overlay" "exec $O/files/exact" blocked 1
explain_agrees "exact path: overlay, the file next to it" "exec $O/files/fine" allowed none
# Decision 110: on 6.1 an overlay opens its real file with the overlay's
# path, and file_open records that file's identity for the decisions that
# follow (no probe read); 6.12 opens a backing file with its own path, and
# records nothing. The denials above are those records' answers on 6.1.
allowed "exact path: exec through the overlay once more" exec "$O/files/fine"
records=$(bpftool map dump name bw_real_files -j 2>/dev/null |
	jq --argjson ino "$(stat -c %i "$D/files/fine")" \
		'[.[] | .formatted.value | select(.file != 0 and .ino == $ino and .magic == 16914836)] | length')
if [[ $(uname -r) == 6.1.* ]]; then
	check "6.1: the real file's open left its record (${records:-none})" test "${records:-0}" -ge 1
else
	expect_eq "$(uname -r): a backing file leaves no record" 0 "${records:-0}"
fi
# The decision reads the record: root who may write bulwark's maps (no
# `protect self`; t_redteam shows it refused under protection) makes the
# record of the denied file's real file name the file next to it, and a
# mapping of that very open file is allowed; put back, it is denied again.
# A record that is another file's (its address), another overlay inode's,
# or being written (an odd sequence) is not taken, forged or not.
if [[ $(uname -r) == 6.1.* ]]; then
	# map_exact: mmap PROT_EXEC of descriptor 7 (inherited), as python sees it
	map_exact() {
		python3 -c 'import mmap, os
try:
    mmap.mmap(7, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
    print("errno=0 pid=%d" % os.getpid())
except OSError as e:
    print("errno=%d pid=%d" % (e.errno, os.getpid()))'
	}
	# mapped NAME ERRNO: map_exact gives ERRNO, and the daemon reports a
	# block of the file by rule 1 from that process exactly when it is EPERM
	mapped() {
		local out pid
		out=$(map_exact)
		pid=${out#*pid=}
		expect_eq "$1" "errno=$2" "${out%% *}"
		if [[ $2 == 1 ]]; then
			wait_event "$1" ".process.pid == $pid and .via == \"mmap\" and .target.path == \"$O/files/exact\" and .action == \"blocked\" and .rule.line == 1"
		else
			no_event "$1" ".process.pid == $pid and .action == \"blocked\""
		fi
	}
	# forge HOW: rewrite the records of the denied file's real inode to name
	# the file next to it, and with HOW (ok, addr, above, seq) one field
	# more wrong; the originals go to $WORK/records. restore: put them back.
	forge() {
		python3 - "$1" "$(stat -c %i "$D/files/exact")" "$(stat -c %i "$D/files/fine")" "$WORK/records" <<'PY'
import json, struct, subprocess, sys
how, old, new, keep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
pin = "/sys/fs/bpf/bulwark/bw_real_files"
kept = []
for e in json.loads(subprocess.check_output(["bpftool", "map", "dump", "pinned", pin, "-j"])):
    v = e["formatted"]["value"]
    if v["file"] == 0 or v["ino"] != old or v["seq"] % 2:
        continue
    raw = bytes(int(x, 16) for x in e["value"])
    kept.append({"key": e["key"], "value": ["%02x" % b for b in raw]})
    # struct bw_real_file: seq 0, file 8, above_dev 16, above_ino 24, dev 32, ino 40, magic 48
    f = list(struct.unpack("<7Q", raw))
    f[5] = new
    if how == "addr":
        f[1] += 8
    elif how == "above":
        f[3] += 1
    elif how == "seq":
        f[0] += 1
    subprocess.check_call(["bpftool", "map", "update", "pinned", pin, "key", "hex"]
                          + [x[2:] for x in e["key"]] + ["value", "hex"]
                          + ["%02x" % b for b in struct.pack("<7Q", *f)])
json.dump(kept, open(keep, "w"))
print(len(kept))
PY
	}
	restore() {
		python3 - "$WORK/records" <<'PY'
import json, subprocess, sys
for e in json.load(open(sys.argv[1])):
    subprocess.check_call(["bpftool", "map", "update", "pinned", "/sys/fs/bpf/bulwark/bw_real_files",
                           "key", "hex"] + [x[2:] for x in e["key"]] + ["value", "hex"] + e["value"])
PY
	}
	exec 7<"$O/files/exact"
	mapped "record: mapping the denied file through the overlay" 1
	# Opens through the VM's own overlay root (python's modules, bpftool)
	# may take the slot before the forgery or between it and the mapping:
	# open the file again then.
	# fresh HOW: a new open of the denied file, its record forged HOW
	fresh() {
		for try in 1 2 3 4 5; do
			exec 7<&- 7<"$O/files/exact"
			n=$(forge "$1")
			[[ $n -ge 1 ]] && return
		done
	}
	for how in addr above seq; do
		fresh "$how"
		mapped "record: forged with its $how wrong too ($n records) is not taken" 1
		restore
	done
	got=
	for try in 1 2 3 4 5; do
		fresh ok
		got=$(map_exact)
		restore
		[[ $got == errno=0* ]] && break
	done
	expect_eq "record: a forged record decides the mapping (root without protect self; $n records, try $try)" \
		errno=0 "${got%% *}"
	no_event "record: a forged record decides the mapping" ".process.pid == ${got#*pid=} and .action == \"blocked\""
	mapped "record: put back, the mapping is denied again" 1
	exec 7<&-
else
	check "$(uname -r): the record map is pinned" test -e /sys/fs/bpf/bulwark/bw_real_files
fi
for m in up nested files; do umount "$O/$m"; done
if [[ $BTRFS == yes ]]; then
	denied "exact path: btrfs exact file" 2 exec "$B/sv1/exact"
	allowed "exact path: btrfs, same inode, other subvolume" exec "$B/sv2/exact"
	denied "exact path: btrfs mmap" 2 mmap "$B/sv1/exact"
	allowed "exact path: btrfs mmap, other subvolume" mmap "$B/sv2/exact"
	# An overlay over each subvolume: the real files share their inode
	# number and differ by the subvolume's device, which a record does not
	# hold (decision 110: btrfs takes the probe reads).
	ovl bsv1 "$B/sv1"
	ovl bsv2 "$B/sv2"
	denied "exact path: overlay over a btrfs subvolume" 2 exec "$O/bsv1/exact"
	allowed "exact path: overlay over the other subvolume, same inode" exec "$O/bsv2/exact"
	denied "exact path: overlay over a btrfs subvolume, mmap" 2 mmap "$O/bsv1/exact"
	allowed "exact path: overlay over the other subvolume, mmap" mmap "$O/bsv2/exact"
	umount "$O/bsv1" "$O/bsv2"
fi

teardown
umount "$S"
[[ $BTRFS == yes ]] && umount "$B"
