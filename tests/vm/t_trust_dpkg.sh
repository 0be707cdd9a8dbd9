#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `bulwark trust import dpkg` on the guest's own package set (docs/trust.md,
# "dpkg"): one byte of a real file of coreutils is changed in place (same
# size), the import reports its trusted and rejected counts, names that
# file, exits 1, and does not trust it; in the kernel that file is refused
# (EPERM and an event) while an untouched file of the same package runs.
#
# A full import hashes every package's code (2.7 GiB on the development
# host): minutes under TCG, so the suite imports a sizeable subset with
# --package (bench/trust-import-dpkg.sh times the full one). The guest's /
# is a throwaway overlay of the host's root: the file is changed only there.
source "$(dirname "$0")/lib.sh" || exit 1
setup

export BULWARK_TRUST_DB=$WORK/trust.db
PKGS=(coreutils bash libc6 dash sed grep)
MOD=/usr/bin/tac   # coreutils: changed by hand
KEEP=/bin/cat      # coreutils: untouched (dpkg names it so; /bin is /usr/bin)

# vm/run's root: an overlay whose lower layer is the host's root over 9p.
if ! awk '$2 == "/" && $3 == "overlay"' /proc/mounts | grep -q 'lowerdir=/mnt/host'; then
	fail "/ is not vm/run's throwaway overlay ($(stat -f -c %T /)): refusing to change $MOD"
	exit 0
fi
check "$MOD belongs to coreutils" grep -qx "$MOD" /var/lib/dpkg/info/coreutils.list

size=$(stat -c %s "$MOD")
last=$(tail -c 1 "$MOD" | od -An -tu1 | tr -d ' ')
printf "\\$(printf %03o $(((last + 1) % 256)))" | dd of="$MOD" bs=1 seek=$((size - 1)) conv=notrunc status=none
expect_eq "$MOD changed in place, same size" "$size" "$(stat -c %s "$MOD")"

args=()
for p in "${PKGS[@]}"; do args+=(--package "$p"); done
t0=$EPOCHREALTIME
"$BULWARK" trust import dpkg "${args[@]}" >"$WORK/import.out" 2>&1
rc=$?
secs=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $t0}")
summary=$(grep '^imported ' "$WORK/import.out")
echo "   ${PKGS[*]}: $summary ($secs s under $(uname -r))"
expect_eq "import with a hand-modified file exits 1" 1 "$rc"
trusted=$(sed -n 's/.*trusted \([0-9]*\) files.*/\1/p' <<<"$summary")
failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$summary")
check "import reports the packages and trusted count ($summary)" \
	test "${summary#imported ${#PKGS[@]} packages}" != "$summary" -a "${trusted:-0}" -gt 200
expect_eq "import reports one rejected file" 1 "$failed"
check "import names the modified file" grep -q "$MOD: does not match dpkg's md5sum for coreutils; not trusted" "$WORK/import.out" ||
	cat "$WORK/import.out"
list=$("$BULWARK" trust list)
check "the modified file is not in the database" test -z "$(awk -v f="$MOD" '$NF == f' <<<"$list")"
check "an untouched file of the same package is" test -n "$(awk -v f="$KEEP" '$NF == f' <<<"$list")"
check "its source is the package" grep -q "dpkg:coreutils" <<<"$(awk -v f="$KEEP" '$NF == f' <<<"$list")"

# bwtry's own start maps ld.so and libc (libc6, imported): the rules name
# only it, so the rest of the session runs as before.
cat >"$WORK/dpkg.policy" <<POL
deny exec untrusted from exe=$BWTRY
POL
start_daemon || { fail "daemon start"; exit 1; }
out=$("$BULWARK" policy load "$WORK/dpkg.policy" 2>&1)
check "policy loads ($out)" test $? -eq 0
expect_exec_ok "untouched package file" "$KEEP" /dev/null
expect_exec_errno "hand-modified package file" EPERM "$MOD" /dev/null
wait_event "hand-modified package file" ".type == \"decision\" and .process.pid == $TRY_PID and .target.path == \"$MOD\" and .action == \"blocked\" and .target.trusted == false"
teardown
