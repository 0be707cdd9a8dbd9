#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A package upgrade does not open a deny (issue "Image-load control"): a
# small .deb built here is installed with dpkg, `deny exec` names its
# program, and the same package at a higher version is installed over it.
# dpkg unpacks the new program beside the old and renames it over, so the
# name holds a new file; bulwarkd follows it (only root can write where it
# lives) and the new program is denied like the old, while a program next
# to it runs. dpkg works on a root of its own (--root) on a tmpfs that
# only root can write: exact-file rules cannot name files on the VM's
# overlay root, and the host's package database stays untouched.
source "$(dirname "$0")/lib.sh" || exit 1
setup

S=/var/lib/bwpkg
R=$S/root
TOOL=$R/usr/bin/bw-pkgtool
umount "$S" 2>/dev/null
mkdir -p "$S" && mount -t tmpfs -o mode=0755 bwpkg "$S"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/usr/bin"
: >"$R/var/lib/dpkg/status"
cp /usr/bin/true "$R/usr/bin/bw-neighbour"

# build_deb VERSION: bw-pkgtool at VERSION, its program a copy of true that differs by version
build_deb() {
	local d=$WORK/src-$1
	mkdir -p "$d/DEBIAN" "$d/usr/bin"
	cp /usr/bin/true "$d/usr/bin/bw-pkgtool" && printf '%s' "$1" >>"$d/usr/bin/bw-pkgtool"
	printf 'Package: bw-pkgtool\nVersion: %s\nArchitecture: amd64\nMaintainer: bulwark tests <tests@bulwark.invalid>\nDescription: a program a policy denies\n' "$1" >"$d/DEBIAN/control"
	dpkg-deb --build --root-owner-group "$d" "$WORK/bw-pkgtool_$1.deb" >/dev/null
}
install_deb() { dpkg --root="$R" --log=/dev/null -i "$WORK/bw-pkgtool_$1.deb" >>"$WORK/dpkg.out" 2>&1; }
installed() { dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Version}' bw-pkgtool; }
generation() { "$BULWARK" status --json | jq -r .policy.generation; }

build_deb 1.0 && build_deb 2.0
install_deb 1.0
expect_eq "version 1.0 installed" 1.0 "$(installed)"
POLICY=$WORK/package.policy
echo "deny exec $TOOL" >"$POLICY"
start_daemon --policy "$POLICY" || { fail "daemon start"; exit 1; }
gen=$(generation)

expect_exec_errno "the packaged program is denied" EPERM "$TOOL"
wait_event "the packaged program is denied" ".process.pid == $TRY_PID and .action == \"blocked\" and .op == \"exec\" and .rule.line == 1"
expect_exec_ok "its neighbour runs" "$R/usr/bin/bw-neighbour"

ino_before=$(stat -c %i "$TOOL")
install_deb 2.0
check "dpkg upgraded it ($(tail -n 1 "$WORK/dpkg.out"))" test "$(installed)" = 2.0
check "the name holds a new file ($ino_before -> $(stat -c %i "$TOOL"))" test "$(stat -c %i "$TOOL")" != "$ino_before"
for ((i = 0; i < 100; i++)); do
	[[ $(generation) -gt $gen ]] && break
	sleep 0.1
done
check "bulwarkd followed the upgrade (generation $gen -> $(generation))" test "$(generation)" -gt "$gen"
wait_event "the upgrade is a drift event, followed" \
	".type == \"policy\" and .event == \"drift\" and .path == \"$TOOL\" and .followed == true"
expect_exec_errno "the upgraded program is still denied" EPERM "$TOOL"
wait_event "the upgraded program is still denied" ".process.pid == $TRY_PID and .action == \"blocked\" and .op == \"exec\" and .rule.line == 1"
expect_exec_ok "its neighbour still runs" "$R/usr/bin/bw-neighbour"
out=$("$BULWARK" policy explain --json exec "$TOOL")
expect_eq "explain agrees after the upgrade" "deny" "$(jq -r .decision <<<"$out")"

teardown
umount "$S" && rmdir "$S"
exit 0
