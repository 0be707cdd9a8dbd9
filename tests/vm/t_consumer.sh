#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every public function against a real bulwarkd (issue 13): the vendor's
# program tests/lib/consumer.c, built as tests/lib/check.sh builds it on
# the host (the installed header and libbulwark.so.0 only, through
# pkg-config, strict C99), runs its `live` part here: layers and a
# transaction deciding a real exec (EPERM), the subscription seeing that
# refusal with every accessor, status, explain, events, trust sync, a
# refused policy, lock, signed load, and a signed unload that ends it.
source "$(dirname "$0")/lib.sh" || exit 1
setup
stage=$WORK/stage
if make -s -C "$REPO" install DESTDIR="$stage" PREFIX=/usr >"$WORK/install.log" 2>&1; then
	pass "make install DESTDIR=... stages the library"
else
	fail "make install: $(tail -n 5 "$WORK/install.log")"
fi
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig
if cc -std=c99 -pedantic -Wall -Wextra -Werror $(pkg-config --cflags bulwark) -o "$WORK/consumer" \
	"$REPO/tests/lib/consumer.c" $(pkg-config --libs bulwark) 2>"$WORK/cc.log"; then
	pass "the consumer builds through pkg-config against the staged install"
else
	fail "the consumer does not build: $(cat "$WORK/cc.log")"
fi
check "it links the staged libbulwark.so.0" \
	grep -q "$stage/usr/lib/libbulwark.so.0" <<<"$(LD_LIBRARY_PATH=$stage/usr/lib ldd "$WORK/consumer")"

cp /usr/bin/true "$WORK/program" && printf 'consumer test\n' >>"$WORK/program"
start_daemon || { fail "daemon start"; exit 1; }
mkdir -p "$WORK/run"
LD_LIBRARY_PATH=$stage/usr/lib "$WORK/consumer" "$WORK/run" live "$WORK/program" >"$WORK/consumer.log" 2>&1
rc=$?
sed 's/^/    /' "$WORK/consumer.log"
check "the consumer's live part passes every check ($(grep -c '^ok - live' "$WORK/consumer.log") live checks)" \
	test $rc -eq 0 -a "$(grep -c '^ok - live' "$WORK/consumer.log")" -ge 32
# The kernel's side of its refusal, as bulwarkd reported it.
wait_event "the layer's refusal" ".action == \"blocked\" and .target.path == \"$WORK/program\" and .layer.name == \"consumer\""
for ((i = 0; i < 300; i++)); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
	fail "the signed unload did not stop bulwarkd"
	# Locked if it failed after bw_client_lock: end the lock with its key.
	if [[ -e $WORK/run/live.key ]]; then
		"$BULWARK" sign --key "$WORK/run/live.key" --version 999 unload -o "$WORK/unload.sig" >/dev/null 2>&1
		"$BULWARK" unload --signature "$WORK/unload.sig" >/dev/null 2>&1
	fi
	"$BULWARK" unload >/dev/null 2>&1
else
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	check "the signed unload stopped bulwarkd and removed its pins" test ! -e /sys/fs/bpf/bulwark
fi
expect_exec_ok "nothing enforced after the unload" "$WORK/program"
teardown
