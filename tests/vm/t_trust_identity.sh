#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Trust follows the file's real identity, not its path, and ends when the
# file system under it is replaced (docs/trust.md, "Identity"):
# - bind mounts: a trusted file bind-mounted elsewhere stays trusted (the
#   same inode); an untrusted file or library bind-mounted over a trusted
#   path is refused through that path, and the trusted file still runs
#   through another name;
# - btrfs: a snapshot's copy of a trusted file (same inode number, another
#   subvolume device) is another file, untrusted until trusted, and a
#   change to either copy leaves the other's trust alone;
# - the remount attack: a trusted file on a loop-mounted ext4 is changed
#   offline (umount, one byte written into the image at the file's block,
#   mount again on the same loop device: same dev, ino, ctime and size);
#   the changed file must not run as trusted, and bulwarkd must not trust
#   it again at its next sync, also after a write-open dropped its entry.
#
# The rules name one subject (bwtry), so the rest of the test session
# needs no trust: `deny exec untrusted from exe=$BWTRY`.
source "$(dirname "$0")/lib.sh" || exit 1
setup

export BULWARK_TRUST_DB=$WORK/trust.db
T=$WORK/t
mkdir -p "$T"
LIB=$REPO/build/tests/trust-lib.so
cp /usr/bin/true "$T/good" && printf 'g' >>"$T/good"   # trusted
ln "$T/good" "$T/good-link"                            # the same inode, another name
cp /usr/bin/true "$T/evil" && printf 'e' >>"$T/evil"   # untrusted
cp "$T/good" "$T/victim"                               # trusted, then renamed over
cp "$LIB" "$T/good.so"                                 # a trusted library
cp "$LIB" "$T/evil.so" && printf 'e' >>"$T/evil.so"    # an untrusted one

# btrfs needs its module before the policy load (the kernel learns its
# inode layout then: kernel.c, fill_fs_layout).
BTRFS_WHY=
modprobe loop 2>/dev/null
modprobe ext4 2>/dev/null
modprobe btrfs 2>"$WORK/modprobe.err" || BTRFS_WHY="modprobe btrfs: $(cat "$WORK/modprobe.err")"
[[ -z $BTRFS_WHY ]] && ! command -v mkfs.btrfs >/dev/null && BTRFS_WHY="no mkfs.btrfs (make deps installs btrfs-progs)"

# bwtry's own start maps ld.so and its libraries under its exe's rules.
mapfile -t libs < <(ldd "$BWTRY" /usr/bin/true | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(0x/ {print $1}' | sort -u)
"$BULWARK" trust add "$T/good" "$T/victim" "$T/good.so" "${libs[@]}" >"$WORK/add.out" 2>&1
check "trust add" test $? -eq 0 || cat "$WORK/add.out"
cat >"$WORK/id.policy" <<POL
deny exec untrusted from exe=$BWTRY
deny load untrusted from exe=$BWTRY
POL
start_daemon || { fail "daemon start"; exit 1; }
out=$("$BULWARK" policy load "$WORK/id.policy" 2>&1)
check "policy loads ($out)" test $? -eq 0

deny_event() { # NAME PATH [VIA]: a blocked decision on PATH by this process, untrusted
	local via=
	[[ -n ${3:-} ]] && via=" and .via == \"$3\""
	wait_event "$1" ".type == \"decision\" and .process.pid == $TRY_PID and .target.path == \"$2\" and .action == \"blocked\" and .target.trusted == false$via"
}

expect_exec_ok "trusted file" "$T/good"
expect_exec_errno "untrusted file" EPERM "$T/evil"
deny_event "untrusted file" "$T/evil"
expect_try "trusted library" mmap 0 "$T/good.so"
expect_try "untrusted library" mmap EPERM "$T/evil.so"
deny_event "untrusted library" "$T/evil.so" mmap

# --- bind mounts: the mount changes which inode a path leads to, never an
# inode's bytes, so trust follows the inode the path reaches.
mkdir -p "$T/elsewhere" && : >"$T/elsewhere/prog" && : >"$T/elsewhere/lib.so"
mount --bind "$T/good" "$T/elsewhere/prog"
mount --bind "$T/good.so" "$T/elsewhere/lib.so"
expect_exec_ok "bind: a trusted file bind-mounted elsewhere" "$T/elsewhere/prog"
expect_try "bind: a trusted library bind-mounted elsewhere" mmap 0 "$T/elsewhere/lib.so"
mount --bind "$T/evil" "$T/good"
expect_exec_errno "bind: an untrusted file mounted over a trusted path" EPERM "$T/good"
deny_event "bind: mounted over a trusted path" "$T/good"
expect_exec_ok "bind: the trusted file through its hardlink" "$T/good-link"
expect_exec_ok "bind: the trusted file through its other bind mount" "$T/elsewhere/prog"
mount --bind "$T/evil.so" "$T/good.so"
expect_try "bind: an untrusted library mounted over a trusted one" mmap EPERM "$T/good.so"
deny_event "bind: library mounted over a trusted one" "$T/good.so" mmap
umount "$T/good.so" "$T/good"
expect_exec_ok "bind: the trusted path after the umount" "$T/good"
expect_try "bind: the trusted library after the umount" mmap 0 "$T/good.so"
umount "$T/elsewhere/prog" "$T/elsewhere/lib.so"

# --- a rename over a trusted file: the name now leads to another inode.
expect_exec_ok "rename: the trusted file before" "$T/victim"
cp "$T/evil" "$T/evil-r" && mv -f "$T/evil-r" "$T/victim"
expect_exec_errno "rename: an untrusted file renamed over a trusted one" EPERM "$T/victim"
deny_event "rename: renamed over a trusted one" "$T/victim"
"$BULWARK" trust sync >/dev/null 2>&1
expect_exec_errno "rename: ... also after a trust sync" EPERM "$T/victim"
wait_event "rename: the sync rejects the row" ".type == \"trust\" and .event == \"rejected\" and .path == \"$T/victim\""

# --- btrfs: a snapshot shares inode numbers (and ctimes) with its source,
# in a subvolume of its own (another anonymous device): another file.
B=$WORK/btrfs
mkdir -p "$B"
if [[ -z $BTRFS_WHY ]]; then
	truncate -s 160M "$WORK/btrfs.img" && mkfs.btrfs -q "$WORK/btrfs.img" &&
		mount -o loop "$WORK/btrfs.img" "$B" && btrfs subvolume create "$B/sv" >/dev/null &&
		cp "$T/good" "$B/sv/prog" && sync || BTRFS_WHY="could not make a btrfs on a loop device"
fi
if [[ -n $BTRFS_WHY ]]; then
	fail "btrfs checks not run: $BTRFS_WHY"
else
	"$BULWARK" trust add "$B/sv/prog" >/dev/null 2>&1
	expect_exec_ok "btrfs: a trusted file in a subvolume" "$B/sv/prog"
	btrfs subvolume snapshot "$B/sv" "$B/snap" >/dev/null
	expect_eq "btrfs: the snapshot's copy has the same inode number" "$(stat -c %i "$B/sv/prog")" "$(stat -c %i "$B/snap/prog")"
	check "btrfs: ... on another device ($(stat -c %d "$B/sv/prog") vs $(stat -c %d "$B/snap/prog"))" \
		test "$(stat -c %d "$B/sv/prog")" != "$(stat -c %d "$B/snap/prog")"
	expect_exec_errno "btrfs: the snapshot's copy, untrusted until trusted" EPERM "$B/snap/prog"
	deny_event "btrfs: snapshot copy" "$B/snap/prog"
	"$BULWARK" trust add "$B/snap/prog" >/dev/null 2>&1
	expect_exec_ok "btrfs: the snapshot's copy, trusted" "$B/snap/prog"
	size=$(stat -c %s "$B/snap/prog")
	printf 'S' | dd of="$B/snap/prog" bs=1 seek=$((size - 1)) conv=notrunc status=none
	expect_exec_errno "btrfs: the snapshot's copy, changed" EPERM "$B/snap/prog"
	deny_event "btrfs: snapshot copy changed" "$B/snap/prog"
	expect_exec_ok "btrfs: the original, untouched by the snapshot's change" "$B/sv/prog"
	"$BULWARK" trust add "$B/snap/prog" >/dev/null 2>&1
	printf 'V' | dd of="$B/sv/prog" bs=1 seek=$((size - 1)) conv=notrunc status=none
	expect_exec_errno "btrfs: the original, changed" EPERM "$B/sv/prog"
	deny_event "btrfs: original changed" "$B/sv/prog"
	expect_exec_ok "btrfs: the snapshot's copy, untouched by the original's change" "$B/snap/prog"
	umount "$B"
fi

# --- the remount attack: same loop device, same dev, ino, ctime and size,
# other bytes. Trust belongs to the file system instance that was verified.
E=$WORK/ext
mkdir -p "$E"
IMG=$WORK/ext.img
if truncate -s 16M "$IMG" && mkfs.ext4 -q -F "$IMG" && LOOP=$(losetup -f --show "$IMG") &&
	mount "$LOOP" "$E" && cp "$T/good" "$E/prog" && sync; then
	pass "ext4 on $LOOP"
	"$BULWARK" trust add "$E/prog" >/dev/null 2>&1
	expect_exec_ok "remount: the trusted file before" "$E/prog"
	before=$(stat -c '%d %i %Z.%z %s' "$E/prog")
	sum_before=$(sha256sum <"$E/prog")
	ino=$(stat -c %i "$E/prog")
	size=$(stat -c %s "$E/prog")
	umount "$E"
	# Its last byte, written into the image where the file's block is: no
	# inode of the file system changes.
	bs=$(dumpe2fs -h "$IMG" 2>/dev/null | sed -n 's/^Block size: *//p')
	blk=$(debugfs -R "bmap <$ino> $(((size - 1) / bs))" "$IMG" 2>/dev/null)
	printf 'X' | dd of="$IMG" bs=1 seek=$((blk * bs + (size - 1) % bs)) conv=notrunc status=none
	sync
	echo 3 >/proc/sys/vm/drop_caches
	mount "$LOOP" "$E"
	after=$(stat -c '%d %i %Z.%z %s' "$E/prog")
	expect_eq "remount: same dev, ino, ctime and size" "$before" "$after"
	check "remount: other bytes" test "$sum_before" != "$(sha256sum <"$E/prog")"
	expect_exec_errno "remount: the file changed offline is not trusted" EPERM "$E/prog"
	deny_event "remount: changed offline" "$E/prog"
	# bulwarkd's next sync must not trust it again by its unchanged stat.
	"$BULWARK" trust sync >/dev/null 2>&1
	expect_exec_errno "remount: ... nor after a trust sync" EPERM "$E/prog"
	deny_event "remount: after a sync" "$E/prog"
	wait_event "remount: the sync rejects it" ".type == \"trust\" and .event == \"rejected\" and .path == \"$E/prog\""
	# A write-open drops the kernel's entry; the sync that follows must
	# hash the file, not believe its stat.
	: >>"$E/prog"
	"$BULWARK" trust sync >/dev/null 2>&1
	expect_exec_errno "remount: ... nor after a write-open and a sync" EPERM "$E/prog"
	deny_event "remount: after a write-open and a sync" "$E/prog"
	"$BULWARK" trust add "$E/prog" >/dev/null 2>&1
	expect_exec_ok "remount: trust add of the new content" "$E/prog"
	umount "$E"
	losetup -d "$LOOP"
else
	fail "remount: could not make an ext4 on a loop device"
fi

teardown
