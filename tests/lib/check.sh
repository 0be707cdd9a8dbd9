#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# libbulwark as a vendor gets it (docs/api.md, "Stability and quality"):
#   1. exports: every symbol libbulwark.so exports is a bw_ function that
#      bulwark.h declares, listed in src/lib/libbulwark.map at the version
#      node it is exported with; every function bulwark.h declares is
#      exported; nothing internal leaks out; the ABI matches the committed
#      baseline (abidiff);
#   2. the library's objects hold no mutable static or thread-local data
#      and call nothing that aborts, exits, prints or is not thread-safe;
#   3. `make install DESTDIR=...` stages bulwark.h, the library and
#      bulwark.pc; tests/lib/consumer.c is built from that alone through
#      `pkg-config --cflags --libs bulwark` (C99, C++, static) and run.
# Prints "lib: N passed, N failed".
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$repo/build}
[[ $build == /* ]] || build=$repo/$build
so=$build/libbulwark.so
ar=$build/libbulwark.a
map=$repo/src/lib/libbulwark.map
hdr=$repo/include/bulwark/bulwark.h
passed=0
failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# --- 1. exports --------------------------------------------------------------
# "name@@NODE" for every defined dynamic symbol but the version nodes themselves.
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort >"$scratch/exported"
# "name@@NODE" for every global of the map.
awk '/^LIBBULWARK_[0-9.]+[ \t]*\{/ { node = $1 }
     /^[ \t]+global:/ { global = 1; next }
     /^[ \t]+local:/ { global = 0; next }
     /^\}/ { global = 0 }
     global && /^[ \t]+[A-Za-z_][A-Za-z0-9_]*;/ { gsub(/[ \t;]/, ""); print $0 "@@" node }' \
	"$map" | sort >"$scratch/mapped"
# Functions the public header declares (a line that starts a declaration).
grep -oE '^[a-z][a-z0-9_ ]*[ *]bw_[a-z0-9_]+\(' "$hdr" | grep -oE 'bw_[a-z0-9_]+' | sort -u \
	>"$scratch/declared"
sed 's/@@.*//' "$scratch/mapped" | sort -u >"$scratch/mapped-names"

n_exp=$(wc -l <"$scratch/exported")
if [[ $n_exp -gt 0 ]]; then ok "libbulwark.so exports $n_exp symbols"; else bad "libbulwark.so exports nothing"; fi

stray=$(grep -v '^bw_' "$scratch/exported")
if [[ -z $stray ]]; then ok "every exported symbol is a bw_ symbol"; else bad "exported, not bw_: $stray"; fi

if diff -u "$scratch/mapped" "$scratch/exported" >"$scratch/d1"; then
	ok "exports are exactly the map's symbols, each at its version node"
else
	bad "exports and src/lib/libbulwark.map differ (- map, + exported):"; sed -n '3,$p' "$scratch/d1"
fi

if diff -u "$scratch/declared" "$scratch/mapped-names" >"$scratch/d2"; then
	ok "the map lists exactly the $(wc -l <"$scratch/declared") functions bulwark.h declares"
else
	bad "bulwark.h and src/lib/libbulwark.map differ (- header, + map):"; sed -n '3,$p' "$scratch/d2"
fi

dups=$(sed 's/@@.*//' "$scratch/mapped" | sort | uniq -d)
if [[ -z $dups ]]; then ok "no symbol is in two version nodes"; else bad "in two nodes: $dups"; fi

soname=$(objdump -p "$so" | awk '$1 == "SONAME" { print $2 }')
if [[ $soname == libbulwark.so.0 ]]; then ok "soname $soname"; else bad "soname '$soname', want libbulwark.so.0"; fi

# The ABI against the committed baseline (make abi-check).
if ! command -v abidiff >/dev/null; then
	bad "abidiff not found: install abigail-tools (make deps)"
elif make -s -C "$repo" BUILD="$build" abi-check >"$scratch/abi.log" 2>&1; then
	ok "ABI compatible with src/lib/libbulwark.abi (abidiff)"
else
	bad "ABI differs from src/lib/libbulwark.abi (an intended change: make abi-baseline, and say so):"
	cat "$scratch/abi.log"
fi

# Every public function documented, and the generated reference current.
if "$repo/scripts/api-reference" >"$scratch/reference.md" 2>"$scratch/reference.err"; then
	if diff -u "$repo/docs/api/reference.md" "$scratch/reference.md" >"$scratch/d3"; then
		ok "docs/api/reference.md documents every function, and is current"
	else
		bad "docs/api/reference.md is stale: make api-reference"; head -n 20 "$scratch/d3"
	fi
else
	bad "scripts/api-reference:"; cat "$scratch/reference.err"
fi

# --- 2. the objects ----------------------------------------------------------
# Mutable data with static storage (.data, .bss, TLS); tables of pointers
# sit in .data.rel.ro, which is read-only after relocation.
globals=$(objdump -t "$ar" | awk '/ O / && ($4 ~ /^\.(data|bss|tdata|tbss)/) && $4 !~ /^\.data\.rel\.ro/ { print $NF " (" $4 ")" }')
if [[ -z $globals ]]; then
	ok "no mutable static or thread-local data in libbulwark.a"
else
	bad "mutable static data in libbulwark.a: $(echo $globals)"
fi

forbidden='abort|exit|_exit|__assert_fail|stdout|stderr|printf|__printf_chk|puts|putchar|perror|vprintf|__vprintf_chk|err|errx|warn|warnx|getpwnam|getgrnam|getpwuid|getgrgid|strtok|gmtime|localtime|ctime|asctime|setenv|putenv|setlocale|rand|signal|sigaction'
called=$(nm -u "$ar" | awk '{ print $2 }' | grep -xE "$forbidden" | sort -u)
if [[ -z $called ]]; then
	ok "libbulwark.a calls nothing that aborts, exits, prints or is not thread-safe"
else
	bad "libbulwark.a calls: $(echo $called)"
fi

# --- 3. installed, through pkg-config ----------------------------------------
stage=$scratch/stage
prefix=/usr
if make -s -C "$repo" BUILD="$build" install DESTDIR="$stage" PREFIX="$prefix" >"$scratch/install.log" 2>&1; then
	ok "make install DESTDIR=... stages the library"
else
	bad "make install failed:"; tail -n 20 "$scratch/install.log"
fi
for f in include/bulwark/bulwark.h lib/libbulwark.so.0 lib/libbulwark.so lib/libbulwark.a lib/pkgconfig/bulwark.pc \
	share/man/man3/libbulwark.3; do
	if [[ -e $stage$prefix/$f ]]; then ok "installed $prefix/$f"; else bad "not installed: $prefix/$f"; fi
done

export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$stage$prefix/lib/pkgconfig
want=$(sed -n 's/^#define BULWARK_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$hdr" | paste -sd.)
got=$(pkg-config --modversion bulwark 2>&1)
if [[ $got == "$want" ]]; then ok "pkg-config --modversion bulwark: $got"; else bad "pkg-config version '$got', header says $want"; fi
cflags=$(pkg-config --cflags bulwark) && libs=$(pkg-config --libs bulwark)
cflags=${cflags%% } libs=${libs%% }
if [[ $? -eq 0 && $cflags == "-I$stage$prefix/include" && $libs == *-lbulwark* ]]; then
	ok "pkg-config --cflags --libs bulwark: $cflags $libs"
else
	bad "pkg-config --cflags --libs bulwark: '$cflags' '$libs'"
fi

consumer=$repo/tests/lib/consumer.c
# Only what pkg-config says: not the source tree's include/ nor build/.
if cc -std=c99 -pedantic -Wall -Wextra -Werror $cflags -o "$scratch/consumer" "$consumer" $libs \
	>"$scratch/cc.log" 2>&1; then
	ok "a C99 consumer builds against the installed header and library"
else
	bad "the C99 consumer does not build:"; cat "$scratch/cc.log"
fi
if LD_LIBRARY_PATH=$stage$prefix/lib ldd "$scratch/consumer" | grep -q "$stage$prefix/lib/libbulwark.so.0"; then
	ok "the consumer links libbulwark.so.0 (the staged one)"
else
	bad "the consumer does not link the staged libbulwark.so.0: $(ldd "$scratch/consumer" 2>&1 | grep bulwark)"
fi
mkdir -p "$scratch/run"
if LD_LIBRARY_PATH=$stage$prefix/lib "$scratch/consumer" "$scratch/run" >"$scratch/run.log" 2>&1; then
	ok "the consumer runs: $(grep -c '^ok' "$scratch/run.log") checks"
else
	bad "the consumer failed:"; cat "$scratch/run.log"
fi

if ! command -v c++ >/dev/null; then
	bad "no C++ compiler: install g++ (make deps)"
else
	if c++ -x c++ -std=c++11 -Wall -Wextra -Werror $cflags -o "$scratch/consumer++" "$consumer" $libs \
		>"$scratch/cxx.log" 2>&1 && mkdir -p "$scratch/run++" &&
		LD_LIBRARY_PATH=$stage$prefix/lib "$scratch/consumer++" "$scratch/run++" >/dev/null 2>&1; then
		ok "the same consumer builds and runs as C++ (extern \"C\")"
	else
		bad "the C++ consumer:"; cat "$scratch/cxx.log"
	fi
fi

static_libs=$(pkg-config --static --libs bulwark)
if cc -std=c99 $cflags -o "$scratch/consumer-static" "$consumer" \
	$(sed "s|-lbulwark|-l:libbulwark.a|" <<<"$static_libs") >"$scratch/cc-static.log" 2>&1 &&
	! ldd "$scratch/consumer-static" | grep -q libbulwark && mkdir -p "$scratch/run-static" &&
	"$scratch/consumer-static" "$scratch/run-static" >/dev/null 2>&1; then
	ok "a static consumer links with pkg-config --static and runs"
else
	bad "the static consumer:"; cat "$scratch/cc-static.log"
fi

echo "lib: $passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
