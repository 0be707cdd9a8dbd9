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
allow lockdown kexec from exe=$L with log
POL
L_MODULE=1 L_LMODULE=2 L_MMODULE=3 L_KEXEC=4 L_LKEXEC=5 L_MKEXEC=6 L_INTEGRITY=7
L_IOPORT=8 L_MODSIG=9 L_KCORE=11 L_BPF=12 L_LBPF=13 L_LKEXECSIG=14

EXPLAIN_POLICY=$WORK/kernel.policy
check "kernel policy checks clean" "$BULWARK" policy check --strict "$WORK/kernel.policy"
start_daemon --policy "$WORK/kernel.policy" || { fail "daemon start"; exit 1; }

# --- module: finit_module judges the file, init_module only `any`
expect_op "module: finit_module denied" EPERM $L_MODULE blocked "$A" finit-module "$JUNK"
expect_eq "module: event op" module "$(event_field .op)"
expect_eq "module: event via" finit_module "$(event_field .via)"
expect_eq "module: event names the file" "$JUNK" "$(event_field .target.path)"
expect_op "module: finit_module of an allowed file reaches the kernel" ENOEXEC $L_LMODULE allowed "$L" finit-module "$JUNK"
expect_op "module: finit_module of a file outside the tree denied" EPERM $L_MODULE blocked "$L" finit-module "$OTHERJUNK"
expect_op "module: init_module from memory denied" EPERM $L_MODULE blocked "$L" init-module "$JUNK"
expect_eq "module: init_module event via" init_module "$(event_field .via)"
expect_eq "module: init_module event has no file" "from memory" "$(event_field .target.image)"
expect_op "module: init_module denied to others" EPERM $L_MODULE blocked "$A" init-module "$JUNK"
# The file is allowed, but an unsigned module is a lockdown decision too.
expect_op "lockdown: unsigned module refused" EPERM $L_INTEGRITY blocked "$M" finit-module "$JUNK"
expect_eq "lockdown: event names module-signature" module-signature "$(event_field .target.reason)"
expect_eq "lockdown: event op" lockdown "$(event_field .op)"
wait_event "lockdown: unsigned module allowed for the loader" ".op == \"lockdown\" and .target.reason == \"module-signature\" and .action == \"allowed\" and .rule.line == $L_MODSIG"

# --- kexec: kexec_file_load judges the file, kexec_load only `any`
expect_op "kexec: kexec_file_load denied" EPERM $L_KEXEC blocked "$A" kexec-file "$JUNK"
expect_eq "kexec: event via" kexec_file_load "$(event_field .via)"
expect_eq "kexec: event names the file" "$JUNK" "$(event_field .target.path)"
expect_op "kexec: kexec_file_load of an allowed file reaches the kernel" ENOEXEC $L_LKEXEC allowed "$L" kexec-file "$JUNK"
expect_op "kexec: kexec_file_load outside the tree denied" EPERM $L_KEXEC blocked "$L" kexec-file "$OTHERJUNK"
expect_op "kexec: kexec_load denied" EPERM $L_KEXEC blocked "$A" kexec-load
expect_eq "kexec: kexec_load event via" kexec_load "$(event_field .via)"
expect_op "kexec: kexec_load denied to a file-only loader" EPERM $L_KEXEC blocked "$L" kexec-load
expect_op "kexec: kexec_load allowed" 0 $L_MKEXEC allowed "$M" kexec-load
# A real kernel image: it passes the kernel's probe, its missing signature
# asks `lockdown kexec`, then the initramfs file is judged. Allowed, the
# kernel is really staged (bwtry unloads it again).
VMLINUZ=$(ls /boot/vmlinuz-"$(uname -r)" "$REPO"/.vm-cache/*/root/boot/vmlinuz-"$(uname -r)" 2>/dev/null | head -n 1)
if [[ -z $VMLINUZ ]]; then
	fail "kexec: no vmlinuz for $(uname -r) in /boot or $REPO/.vm-cache"
else
	cp "$VMLINUZ" "$K/allowed/vmlinuz"
	expect_op "kexec: a real kernel and initramfs are staged" 0 $L_LKEXEC allowed "$L" kexec-file "$K/allowed/vmlinuz" "$JUNK"
	wait_event "kexec: its missing signature was a lockdown decision" ".op == \"lockdown\" and .target.reason == \"kexec\" and .rule.line == $L_LKEXECSIG"
	expect_op "kexec: an initramfs outside the tree denied" EPERM $L_KEXEC blocked "$L" kexec-file "$K/allowed/vmlinuz" "$OTHERJUNK"
	expect_eq "kexec: the refused file is the initramfs" "$OTHERJUNK" "$(event_field .target.path)"
fi

# --- lockdown reasons: groups, a carved-out reason, a per-subject reason
expect_op "lockdown: ioperm denied (integrity)" EPERM $L_INTEGRITY blocked "$A" ioperm
expect_eq "lockdown: event names ioport" ioport "$(event_field .target.reason)"
expect_eq "lockdown: event via" lockdown "$(event_field .via)"
expect_op "lockdown: ioperm allowed for the loader" 0 $L_IOPORT allowed "$L" ioperm
expect_op "lockdown: /proc/kcore denied to the attacker" EPERM $L_KCORE blocked "$A" kcore
expect_eq "lockdown: event names kcore" kcore "$(event_field .target.reason)"
expect_op "lockdown: /proc/kcore opens for others" 0 "" "" "$L" kcore
no_event "lockdown: no rule for the loader's kcore" ".op == \"lockdown\" and .target.reason == \"kcore\" and .process.exe == \"$L\""

# --- bpf: program loads judged, maps not
expect_op "bpf: BPF_PROG_LOAD denied" EPERM $L_BPF blocked "$A" bpf-load
expect_eq "bpf: event names the command" prog-load "$(event_field .target.command)"
expect_op "bpf: BPF_PROG_LOAD allowed" 0 $L_LBPF allowed "$L" bpf-load
expect_op "bpf: BPF_PROG_LOAD with no rule" 0 "" "" "$M" bpf-load
expect_op "bpf: BPF_MAP_CREATE is not a bpf decision" 0 "" "" "$A" bpf-map
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
expect_op "self-lock: enforcement unchanged" EPERM $L_BPF blocked "$A" bpf-load
printf 'allow bpf any from exe=%s\nallow lockdown bpf-read-kernel from exe=%s\ndeny bpf any\ndeny lockdown any\n' \
	"$BULWARKD" "$BULWARKD" >"$WORK/locked.policy"
check "self-lock: a policy that allows bulwarkd loads" "$BULWARK" policy load "$WORK/locked.policy"

# --- fail closed: with the daemon gone, the pinned programs still decide.
# A new daemon then starts under the strict policy and must load a program
# afresh (its pin is removed, as after an upgrade that adds a hook): the
# verifier asks lockdown bpf-read-kernel, which this policy allows bulwarkd.
stop_daemon
expect_op "fail closed: bpf denied with no daemon" EPERM "" "" "$L" bpf-load
expect_op "fail closed: kcore denied with no daemon" EPERM "" "" "$L" kcore
FRESH=/sys/fs/bpf/bulwark/link_bw_kernel_load_data
rm "$FRESH"
restart_fresh() { # restart_fresh NAME: bulwarkd comes back and re-creates $FRESH
	: >"$DAEMON_LOG"
	if start_daemon && [[ -e $FRESH ]] && grep -q "attached 1 new" "$DAEMON_LOG"; then
		pass "$1"
	else
		fail "$1: $(cat "$DAEMON_LOG")"
		exit 1
	fi
}
restart_fresh "daemon restarts and loads a program under a policy denying bpf and lockdown to all else"
expect_op "after restart: bpf still denied" EPERM 3 blocked "$L" bpf-load
check "no ring buffer drops" test "$("$BULWARK" status --json | jq .ringbuf_drops)" -eq 0

# --- examples/kernel-lockdown.policy, for real. The guest's / is a
# throw-away overlay, where exact-file rules cannot match: each program the
# example names becomes a copy on tmpfs bind-mounted at its path, and
# bulwarkd runs from where the example expects it.
EXAMPLE=$REPO/examples/kernel-lockdown.policy
line_of() { grep -n -x -F -- "$1" "$EXAMPLE" | cut -d: -f1; }
X_INTEGRITY=$(line_of "deny lockdown integrity") X_CONF=$(line_of "deny lockdown confidentiality")
X_BPF=$(line_of "deny bpf any") X_KEXEC=$(line_of "deny kexec any") X_MODULE=$(line_of "deny module any")
X_MODSIG=$(line_of "deny lockdown module-signature")
check "example: every rule the checks name is in it" test -n "$X_INTEGRITY" -a -n "$X_CONF" -a -n "$X_BPF" \
	-a -n "$X_KEXEC" -a -n "$X_MODULE" -a -n "$X_MODSIG"
# Out from under the self-lock policy (it allows only $BULWARKD, not the copy
# below): no policy, the programs kept (lib.sh, reset_kernel; it unloads
# where it cannot). The example's own restart below still loads a program.
stop_daemon
reset_kernel
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
expect_op "example: ioperm" EPERM "$X_INTEGRITY" blocked "$A" ioperm
expect_op "example: /proc/kcore" EPERM "$X_CONF" blocked "$A" kcore
expect_op "example: BPF_PROG_LOAD" EPERM "$X_BPF" blocked "$A" bpf-load
expect_op "example: kexec_load" EPERM "$X_KEXEC" blocked "$A" kexec-load
expect_op "example: finit_module outside kmod" EPERM "$X_MODULE" blocked "$A" finit-module /usr/lib/modules/bulwark-test-junk.ko
# kmod may load from /usr/lib/modules, but an unsigned module is refused.
ln -sf /usr/bin/kmod "$WORK/insmod" # kmod is insmod when called by that name
out=$("$WORK/insmod" /usr/lib/modules/bulwark-test-junk.ko 2>&1)
if [[ $? -ne 0 && $out == *"Operation not permitted"* ]]; then
	pass "example: kmod insmod of an unsigned module fails with EPERM"
else
	fail "example: kmod insmod of an unsigned module: $out"
fi
wait_event "example: the unsigned module refused by lockdown" ".op == \"lockdown\" and .target.reason == \"module-signature\" and .process.exe == \"/usr/bin/kmod\" and .action == \"blocked\" and .rule.line == $X_MODSIG"
no_event "example: kmod's module file itself was not refused" ".op == \"module\" and .process.exe == \"/usr/bin/kmod\""
stop_daemon
rm "$FRESH"
restart_fresh "example: bulwarkd restarts and loads a program under its own lockdown policy"
expect_op "example: after restart, BPF_PROG_LOAD" EPERM "$X_BPF" blocked "$A" bpf-load
rm -f /usr/lib/modules/bulwark-test-junk.ko

teardown
for f in "${BOUND[@]}"; do umount "$f"; done
