#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Kernel integrity end to end: module loads (finit_module by file,
# init_module from memory), kexec (kexec_file_load, kexec_load), lockdown
# reasons, and BPF program loads. Every deny asserts the caller's exact
# errno and the daemon's event; every deny has an allow of the same call
# beside it. A junk image that bulwark lets through is refused by the
# kernel itself with ENOEXEC: that is how an allowed load shows.
source "$(dirname "$0")/lib.sh" || exit 1
setup

K=$WORK/k
mkdir -p "$K/subj" "$K/allowed" "$K/other"
for p in attacker loader memloader; do cp "$BWTRY" "$K/subj/$p"; done
A=$K/subj/attacker L=$K/subj/loader M=$K/subj/memloader
head -c 4096 /dev/urandom >"$K/allowed/junk.ko"
cp "$K/allowed/junk.ko" "$K/other/junk.ko"
JUNK=$K/allowed/junk.ko OTHERJUNK=$K/other/junk.ko

# Line numbers matter: events are checked against them.
cat >"$WORK/kernel.policy" <<POL
deny module any
allow module $K/allowed/** from exe=$L with log
allow module $K/allowed/** from exe=$M with log
deny kexec any
allow kexec $K/allowed/** from exe=$L with log
allow kexec any from exe=$M with log
deny lockdown integrity
allow lockdown ioport from exe=$L with log
allow lockdown module-signature from exe=$L with log
allow lockdown kexec from exe=$M
deny lockdown kcore from exe=$A
deny bpf any from exe=$A
allow bpf any from exe=$L with log
POL
L_MODULE=1 L_LMODULE=2 L_MMODULE=3 L_KEXEC=4 L_LKEXEC=5 L_MKEXEC=6 L_INTEGRITY=7
L_IOPORT=8 L_MODSIG=9 L_KCORE=11 L_BPF=12 L_LBPF=13

check "kernel policy checks clean" "$BULWARK" policy check --strict "$WORK/kernel.policy"
start_daemon --policy "$WORK/kernel.policy" || { fail "daemon start"; exit 1; }

# expect_k NAME ERRNO LINE ACTION EXE OP ARGS...: run `EXE OP ARGS`; the
# caller must see exactly ERRNO (0 = success). A rule LINE means the daemon
# must report a decision with that ACTION by that rule from this process.
expect_k() {
	local name=$1 want=$2 line=$3 action=$4 exe=$5 op=$6
	shift 6
	local out=$("$exe" "$op" "$@" 2>&1) rc=$?
	local pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out")
	local want_ok=no got_ok=no
	[[ $want == 0 ]] && want_ok=yes
	[[ $rc -eq 0 ]] && got_ok=yes
	if [[ $out == *" errno=$want"* && $want_ok == "$got_ok" ]]; then
		pass "$name: $(basename "$exe") $op gives errno=$want"
	else
		fail "$name: $(basename "$exe") $op $*: wanted errno=$want, got rc=$rc: $out"
		return 1
	fi
	[[ -n $line ]] || return 0
	wait_event "$name" ".process.pid == $pid and .action == \"$action\" and .rule.line == $line"
}

# explain_agrees NAME QUERY ACTION LINE: offline and live explain predict
# the kernel's decision below, and the rule.
explain_agrees() {
	local name=$1 query=$2 want=$3 line=$4 mode out
	for mode in offline live; do
		if [[ $mode == offline ]]; then
			out=$("$BULWARK" policy explain --json --policy "$WORK/kernel.policy" $query 2>&1)
		else
			out=$("$BULWARK" policy explain --json $query 2>&1)
		fi
		if [[ $(jq -r .action <<<"$out" 2>/dev/null) == "$want" &&
			$(jq -r '.rule.line // "none"' <<<"$out" 2>/dev/null) == "$line" ]]; then
			pass "explain $name ($mode): $want by line $line"
		else
			fail "explain $name ($mode): wanted $want by line $line, got: $out"
		fi
	done
}

# --- module: finit_module judges the file, init_module only `any`
expect_k "module: finit_module denied" EPERM $L_MODULE blocked "$A" finit-module "$JUNK"
expect_eq "module: event op" module "$(event_field .op)"
expect_eq "module: event via" finit_module "$(event_field .via)"
expect_eq "module: event names the file" "$JUNK" "$(event_field .target.path)"
expect_k "module: finit_module of an allowed file reaches the kernel" ENOEXEC $L_LMODULE allowed "$L" finit-module "$JUNK"
expect_k "module: finit_module of a file outside the tree denied" EPERM $L_MODULE blocked "$L" finit-module "$OTHERJUNK"
expect_k "module: init_module from memory denied" EPERM $L_MODULE blocked "$L" init-module "$JUNK"
expect_eq "module: init_module event via" init_module "$(event_field .via)"
expect_eq "module: init_module event has no file" "from memory" "$(event_field .target.image)"
expect_k "module: init_module denied to others" EPERM $L_MODULE blocked "$A" init-module "$JUNK"
# The file is allowed, but an unsigned module is a lockdown decision too.
expect_k "lockdown: unsigned module refused" EPERM $L_INTEGRITY blocked "$M" finit-module "$JUNK"
expect_eq "lockdown: event names module-signature" module-signature "$(event_field .target.reason)"
expect_eq "lockdown: event op" lockdown "$(event_field .op)"
wait_event "lockdown: unsigned module allowed for the loader" ".op == \"lockdown\" and .target.reason == \"module-signature\" and .action == \"allowed\" and .rule.line == $L_MODSIG"

# --- kexec: kexec_file_load judges the file, kexec_load only `any`
expect_k "kexec: kexec_file_load denied" EPERM $L_KEXEC blocked "$A" kexec-file "$JUNK"
expect_eq "kexec: event via" kexec_file_load "$(event_field .via)"
expect_eq "kexec: event names the file" "$JUNK" "$(event_field .target.path)"
expect_k "kexec: kexec_file_load of an allowed file reaches the kernel" ENOEXEC $L_LKEXEC allowed "$L" kexec-file "$JUNK"
expect_k "kexec: kexec_file_load outside the tree denied" EPERM $L_KEXEC blocked "$L" kexec-file "$OTHERJUNK"
expect_k "kexec: kexec_load denied" EPERM $L_KEXEC blocked "$A" kexec-load
expect_eq "kexec: kexec_load event via" kexec_load "$(event_field .via)"
expect_k "kexec: kexec_load denied to a file-only loader" EPERM $L_KEXEC blocked "$L" kexec-load
expect_k "kexec: kexec_load allowed" 0 $L_MKEXEC allowed "$M" kexec-load

# --- lockdown reasons: groups, a carved-out reason, a per-subject reason
expect_k "lockdown: ioperm denied (integrity)" EPERM $L_INTEGRITY blocked "$A" ioperm
expect_eq "lockdown: event names ioport" ioport "$(event_field .target.reason)"
expect_eq "lockdown: event via" lockdown "$(event_field .via)"
expect_k "lockdown: ioperm allowed for the loader" 0 $L_IOPORT allowed "$L" ioperm
expect_k "lockdown: /proc/kcore denied to the attacker" EPERM $L_KCORE blocked "$A" kcore
expect_eq "lockdown: event names kcore" kcore "$(event_field .target.reason)"
expect_k "lockdown: /proc/kcore opens for others" 0 "" "" "$L" kcore
no_event "lockdown: no rule for the loader's kcore" ".op == \"lockdown\" and .target.reason == \"kcore\" and .process.exe == \"$L\""

# --- bpf: program loads judged, maps not
expect_k "bpf: BPF_PROG_LOAD denied" EPERM $L_BPF blocked "$A" bpf-load
expect_eq "bpf: event names the command" prog-load "$(event_field .target.command)"
expect_k "bpf: BPF_PROG_LOAD allowed" 0 $L_LBPF allowed "$L" bpf-load
expect_k "bpf: BPF_PROG_LOAD with no rule" 0 "" "" "$M" bpf-load
expect_k "bpf: BPF_MAP_CREATE is not a bpf decision" 0 "" "" "$A" bpf-map
no_event "bpf: map creation reported nothing" ".op == \"bpf\" and .target.command != \"prog-load\""

# --- explain agrees with the kernel
explain_agrees "module file" "module $JUNK as exe=$A" blocked $L_MODULE
explain_agrees "module file, loader" "module $JUNK as exe=$L" allowed $L_LMODULE
explain_agrees "module from memory" "module any as exe=$L" blocked $L_MODULE
explain_agrees "kexec from memory" "kexec any as exe=$M" allowed $L_MKEXEC
explain_agrees "lockdown ioport" "lockdown ioport as exe=$A" blocked $L_INTEGRITY
explain_agrees "lockdown ioport, loader" "lockdown ioport as exe=$L" allowed $L_IOPORT
explain_agrees "lockdown kcore" "lockdown kcore as exe=$A" blocked $L_KCORE
explain_agrees "bpf" "bpf any as exe=$A" blocked $L_BPF
explain_agrees "bpf, loader" "bpf any as exe=$L" allowed $L_LBPF

# --- counters
check "counters: module denials counted" test "$(counter module denied)" -ge 4
check "counters: lockdown denials counted" test "$(counter lockdown denied)" -ge 3
check "counters: bpf decisions counted" test "$(counter bpf decisions)" -ge 3

# --- a policy that would lock bulwarkd out of its own restart is refused
sha=$("$BULWARK" status --json | jq -r .policy.sha256)
printf 'deny bpf any\n' >"$WORK/selflock.policy"
out=$("$BULWARK" policy load "$WORK/selflock.policy" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"selflock.policy:1:1: error: this policy refuses bulwarkd itself \`bpf any\`"* && $out == *"hint: allow it"* ]]; then
	pass "self-lock: deny bpf for everyone is refused with the rule's position"
else
	fail "self-lock: wanted a refusal naming selflock.policy:1, got rc=$rc: $out"
fi
printf 'allow bpf any from exe=%s\ndeny lockdown any\n' "$BULWARKD" >"$WORK/selflock2.policy"
out=$("$BULWARK" policy load "$WORK/selflock2.policy" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"selflock2.policy:2:1: error: this policy refuses bulwarkd itself \`lockdown bpf-read-kernel\`"* ]]; then
	pass "self-lock: deny lockdown any is refused (bulwarkd's verifier needs bpf-read-kernel)"
else
	fail "self-lock: wanted a refusal naming selflock2.policy:2, got rc=$rc: $out"
fi
expect_eq "self-lock: the previous policy stays" "$sha" "$("$BULWARK" status --json | jq -r .policy.sha256)"
expect_k "self-lock: enforcement unchanged" EPERM $L_BPF blocked "$A" bpf-load
printf 'allow bpf any from exe=%s\nallow lockdown bpf-read-kernel from exe=%s\ndeny bpf any\ndeny lockdown any\n' \
	"$BULWARKD" "$BULWARKD" >"$WORK/locked.policy"
check "self-lock: a policy that allows bulwarkd loads" "$BULWARK" policy load "$WORK/locked.policy"

# --- fail closed: with the daemon gone, the pinned programs still decide,
# and a new daemon adopts them under the strict policy.
stop_daemon
expect_k "fail closed: bpf denied with no daemon" EPERM "" "" "$L" bpf-load
expect_k "fail closed: kcore denied with no daemon" EPERM "" "" "$L" kcore
start_daemon || { fail "daemon restart under a strict kernel policy"; exit 1; }
pass "daemon restarts under a policy denying bpf and lockdown to everyone else"
expect_k "after restart: bpf still denied" EPERM 3 blocked "$L" bpf-load
check "no ring buffer drops" test "$("$BULWARK" status --json | jq .ringbuf_drops)" -eq 0

# --- examples/kernel-lockdown.policy, for real. The guest's / is a
# throw-away overlay, where exact-file rules cannot match: each program the
# example names becomes a copy on tmpfs bind-mounted at its path, and
# bulwarkd runs from where the example expects it.
EXAMPLE=$REPO/examples/kernel-lockdown.policy
line_of() { grep -n -x -F -- "$1" "$EXAMPLE" | cut -d: -f1; }
stop_daemon
"$BULWARK" unload >/dev/null 2>&1
mkdir -p "$WORK/bind" /usr/lib/modules
BOUND=()
for f in /usr/bin/kmod /usr/lib/systemd/systemd-udevd /usr/lib/systemd/systemd /usr/local/sbin/bulwarkd; do
	src=$f
	[[ $f == */bulwarkd ]] && src=$BULWARKD
	[[ -e $src ]] || src=/dev/null
	install -m 755 "$src" "$WORK/bind/$(basename "$f")"
	[[ -e $f ]] || install -D -m 755 /dev/null "$f"
	mount --bind "$WORK/bind/$(basename "$f")" "$f" && BOUND+=("$f")
done
BULWARKD=/usr/local/sbin/bulwarkd
cp "$JUNK" /usr/lib/modules/bulwark-test-junk.ko
start_daemon --policy "$EXAMPLE" || { fail "daemon start with the example policy"; exit 1; }
pass "example: kernel-lockdown.policy loads"
expect_k "example: ioperm" EPERM "$(line_of "deny lockdown integrity")" blocked "$A" ioperm
expect_k "example: /proc/kcore" EPERM "$(line_of "deny lockdown confidentiality")" blocked "$A" kcore
expect_k "example: BPF_PROG_LOAD" EPERM "$(line_of "deny bpf any")" blocked "$A" bpf-load
expect_k "example: kexec_load" EPERM "$(line_of "deny kexec any")" blocked "$A" kexec-load
expect_k "example: finit_module outside kmod" EPERM "$(line_of "deny module any")" blocked "$A" finit-module /usr/lib/modules/bulwark-test-junk.ko
# kmod may load from /usr/lib/modules, but an unsigned module is refused.
ln -sf /usr/bin/kmod "$WORK/insmod" # kmod is insmod when called by that name
out=$("$WORK/insmod" /usr/lib/modules/bulwark-test-junk.ko 2>&1)
if [[ $? -ne 0 && $out == *"Operation not permitted"* ]]; then
	pass "example: kmod insmod of an unsigned module fails with EPERM"
else
	fail "example: kmod insmod of an unsigned module: $out"
fi
wait_event "example: the unsigned module refused by lockdown" ".op == \"lockdown\" and .target.reason == \"module-signature\" and .process.exe == \"/usr/bin/kmod\" and .action == \"blocked\" and .rule.line == $(line_of "deny lockdown module-signature")"
no_event "example: kmod's module file itself was not refused" ".op == \"module\" and .process.exe == \"/usr/bin/kmod\""
stop_daemon
start_daemon || { fail "bulwarkd restarts under the example policy"; exit 1; }
pass "example: bulwarkd restarts under its own lockdown policy"
expect_k "example: after restart, BPF_PROG_LOAD" EPERM "$(line_of "deny bpf any")" blocked "$A" bpf-load
rm -f /usr/lib/modules/bulwark-test-junk.ko

teardown
for f in "${BOUND[@]}"; do umount "$f"; done
