#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every policy in examples/ must pass `bulwark policy check --strict`
# cleanly on a system that has what it names. Each example's needs are
# listed here and built into a scratch root (checked with --root); the
# same check against an empty root must fail, so a pass is never vacuous.
# Prints "examples: N passed, N failed".
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
BULWARK=$repo/build/bulwark
passed=0
failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }

# What each example expects the system to have: files, and dirs ending in /.
declare -A needs=(
	[demo.policy]="/tmp/bulwark-demo/downloads/ /tmp/bulwark-demo/tools/netcat /tmp/bulwark-demo/tools/updater /tmp/bulwark-demo/bin/agent"
	[webserver.policy]="/usr/sbin/nginx /usr/bin/ /var/www/ /tmp/ /dev/shm/"
	[workstation.policy]="/usr/bin/python3 /usr/bin/perl /opt/ /tmp/ /var/tmp/ /dev/shm/"
	[kernel-lockdown.policy]="/usr/lib/modules/ /usr/bin/kmod /usr/lib/systemd/systemd-udevd /usr/lib/systemd/systemd /usr/local/sbin/bulwarkd"
	[vendor-agent.policy]="/opt/acme/bin/acme-agent /opt/acme/bin/acme-uninstall /opt/acme/libexec/acme-scan /usr/bin/dpkg"
)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for ex in "$repo"/examples/*.policy; do
	name=$(basename "$ex")
	if [[ -z ${needs[$name]+x} ]]; then
		bad "$name: tests/examples/check.sh does not list what it needs"
		continue
	fi
	root=$scratch/${name%.policy}
	mkdir -p "$root" "$scratch/empty"
	for n in ${needs[$name]}; do
		if [[ $n == */ ]]; then
			mkdir -p "$root$n"
		else
			mkdir -p "$root$(dirname "$n")" && install -m 755 /dev/null "$root$n"
		fi
	done
	if out=$("$BULWARK" policy check --strict --root "$root" "$ex" 2>&1); then
		ok "$name checks clean"
	else
		bad "$name: $out"
	fi
	if "$BULWARK" policy check --root "$scratch/empty" "$ex" >/dev/null 2>&1; then
		bad "$name passes even without the files it names"
	else
		ok "$name fails without the files it names"
	fi
done
echo "examples: $passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
