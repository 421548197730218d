#!/bin/bash
# layercheck: the tree's boundaries hold.  On a copy of the sources, each
# kind of stray include (a layer above, a library that is not the
# layer's, another folder's private header) and a clock read in the
# rules make scripts/layercheck fail with a message naming the file, and
# a stray include of a layer above does not compile.  The tree as it is
# passes.  Needs no keydird.
. "$(dirname "$0")/lib.sh"

SRC=$E2E_ROOT
C=$T_DIR/tree
mkdir -p "$C"
cp -r "$SRC/Makefile" "$SRC/lib" "$SRC/src" "$SRC/scripts" "$C/"

lc() {	# run layercheck on the copy
	make -s -C "$C" layers | (cd "$C" && scripts/layercheck) >"$T_DIR/lc" 2>&1
}

lc
ok $? "the tree as it is passes layercheck"

# inject FILE LINE: add LINE before the first #include of FILE in the copy
inject() {
	cp "$SRC/$1" "$C/$1"
	sed -i "0,/^#include/s//$(printf '%s' "$2" | sed 's/[&/\]/\\&/g')\n#include/" "$C/$1"
}
restore() { cp "$SRC/$1" "$C/$1"; }

check() {	# check FILE LINE PATTERN DESCRIPTION
	inject "$1" "$2"
	lc
	local st=$?
	ok $((st == 0)) "$4: layercheck fails"
	like "$(cat "$T_DIR/lc")" "$3" "... naming it ($(head -1 "$T_DIR/lc"))"
	restore "$1"
}

check src/daemon/http/h_keys.c '#include "pgp.h"' \
    'h_keys.c:[0-9]+: "pgp.h" is in src/daemon/pgp/, a layer http/ may not include' \
    "http/ including pgp/ (a lookup must not parse keys)"
check src/daemon/directory/directory.c '#include "http.h"' \
    'directory.c:[0-9]+: "http.h" is in src/daemon/http/, a layer directory/ may not include' \
    "directory/ including http/ (a layer above)"
check src/daemon/directory/directory.c '#include <sqlite3.h>' \
    'directory.c:[0-9]+: <sqlite3.h> belongs to sqlite/, not directory/' \
    "sqlite3 outside store/sqlite/"
check src/daemon/mail/mailer.c '#include <rnp/rnp.h>' \
    'mailer.c:[0-9]+: <rnp/rnp.h> belongs to pgp/, not mail/' \
    "librnp outside pgp/"
check src/daemon/pgp/pgp.c '#include <curl/curl.h>' \
    'pgp.c:[0-9]+: <curl/curl.h> belongs to (client/, )?mail/, not pgp/' \
    "libcurl outside mail/"
check src/daemon/store/store.c '#include <microhttpd.h>' \
    'store.c:[0-9]+: <microhttpd.h> belongs to http/, not store/' \
    "libmicrohttpd outside http/"
check src/daemon/xfer/xfer.c '#include "directory_int.h"' \
    'xfer.c:[0-9]+: "directory_int.h" is private to src/daemon/directory/' \
    "another folder's private header"
check src/daemon/directory/directory_verify.c 'static long t0(void) { return (long)time(NULL); }' \
    'directory_verify.c:[0-9]+: the rules take the time as a parameter' \
    "a clock read in directory/"

# the compiler holds the same line: a stray include does not build
inject src/daemon/http/h_keys.c '#include "pgp.h"'
make -s -C "$C" BUILD="$T_DIR/build" "$T_DIR/build/src/daemon/http/h_keys.o" \
    >"$T_DIR/cc" 2>&1
ok $((! $?)) "http/h_keys.c including pgp.h does not compile"
like "$(cat "$T_DIR/cc")" 'pgp.h: No such file or directory' "... pgp.h is not on its path"
restore src/daemon/http/h_keys.c
make -s -C "$C" BUILD="$T_DIR/build" "$T_DIR/build/src/daemon/http/h_keys.o" \
    >"$T_DIR/cc" 2>&1
ok $? "without it, h_keys.c compiles"

done_testing
