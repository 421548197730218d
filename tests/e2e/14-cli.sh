#!/bin/bash
# 14-cli: the command line and start-up.  A mistake on the command line
# is one line naming it and a hint, exit status 2, and creates nothing.
# Without base_url the links follow listen (a wildcard address becomes
# loopback).  A busy port and a data directory another serve holds are
# refused with a message that says so, and the running keydird goes on
# answering; maintain and export still run beside it.  The home page says
# hkps:// for an https base_url, and port 80 for an http one without a
# port.
. "$(dirname "$0")/lib.sh"

CLILOG=$T_DIR/cli.log
T_KD_LOGS+=("$CLILOG")

# kd ARGS...: keydird in the foreground (at most 10 s: a serve that should
# have refused to start is stopped, status 124); stdout in $T_DIR/out,
# stderr in $T_DIR/err and appended to CLILOG.
kd() {
	local rc
	timeout 10 "$KEYDIRD" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	cat "$T_DIR/err" >>"$CLILOG"
	return "$rc"
}

# serve_on URL LOG ARGS...: keydird serve ARGS in the background, without
# the --base-url start_keydird adds; sets KD_PID; 0 when URL answers.
serve_on() {
	local url=$1 log=$2
	shift 2
	"$KEYDIRD" serve "$@" 2>>"$log" &
	KD_PID=$!
	T_PIDS+=("$KD_PID")
	T_KD_PIDS+=("$KD_PID")
	T_KD_LOGS+=("$log")
	wait_until 30 kd_up "$KD_PID" "$url"
}

# usage_error DESC ERE ARGS...: keydird ARGS fails with status 2 and
# exactly two lines: one matching ERE, then the hint.
usage_error() {
	local desc=$1 re=$2 st
	shift 2
	kd "$@"
	st=$?
	is "$st" 2 "$desc: exit status 2"
	is "$(wc -l <"$T_DIR/err")" 2 "$desc: two lines, not the whole usage"
	like "$(head -1 "$T_DIR/err")" "$re" "$desc: the first line names it"
	is "$(sed -n 2p "$T_DIR/err")" "Try 'keydird --help'." \
	    "$desc: the second is the hint"
}

# --- mistakes on the command line --------------------------------------------
NODIR=$T_DIR/never
usage_error "unknown option" "^keydird: unknown option '--bogus'$" \
    serve --data-dir "$NODIR" --bogus
usage_error "unknown option with a value" "'--bogus'" \
    maintain --bogus=1 --data-dir "$NODIR"
usage_error "unknown short option" "'-x'" serve -x --data-dir "$NODIR"
usage_error "option without its value" "'--listen'" \
    serve --data-dir "$NODIR" --listen
usage_error "an operand serve does not take" "'extra'" \
    serve --data-dir "$NODIR" extra
usage_error "unknown command" "^keydird: unknown command 'bogus'$" \
    bogus --data-dir "$NODIR"
usage_error "missing command" "^keydird: "
usage_error "an option before the command" "'--listen'" \
    --listen 127.0.0.1:1 serve
ok "$([ ! -e "$NODIR" ]; echo $?)" "a mistake creates no data directory"
kd --help
is "$?" 0 "--help: exit status 0"
like "$(head -1 "$T_DIR/out")" "^usage: keydird serve" "--help: the usage"
kd serve --help --data-dir "$NODIR"
is "$?" 0 "serve --help: exit status 0"
like "$(head -1 "$T_DIR/out")" "^usage: keydird serve" "serve --help: the usage"

# --- base_url follows listen ---------------------------------------------------
P1=$(free_port)
D1=$T_DIR/d1
LOG1=$T_DIR/kd1.log
serve_on "http://127.0.0.1:$P1" "$LOG1" --listen "127.0.0.1:$P1" \
    --data-dir "$D1" || bail "keydird starts on port $P1 without --base-url"
A_PID=$KD_PID
is "$(http GET "http://127.0.0.1:$P1/")" 200 "the home page"
like "$(body)" "hkp://127\.0\.0\.1:$P1 --send-keys" \
    "without base_url the page names the listen port"
like "$(cat "$LOG1")" "base url http://127\.0\.0\.1:$P1," \
    "... and so does the log"
mk_gnupghome A "$P1"
F1=$(gen_key "$A" 'Nora <nora@example.org>')
g "$A" --export --armor "$F1" >"$T_DIR/nora.asc"
is "$(http POST "http://127.0.0.1:$P1/pks/add" \
    --data-urlencode "keytext@$T_DIR/nora.asc")" 200 "HKP upload"
wait_until 20 link_in_log "$LOG1" nora@example.org
like "$(link_in_log "$LOG1" nora@example.org)" \
    "^http://127\.0\.0\.1:$P1/verify/" "the confirmation link has that port"

P2=$(free_port)
serve_on "http://127.0.0.1:$P2" "$T_DIR/kd2.log" --listen "0.0.0.0:$P2" \
    --data-dir "$T_DIR/d2" || bail "keydird starts on 0.0.0.0:$P2"
http GET "http://127.0.0.1:$P2/" >/dev/null
like "$(body)" "hkp://127\.0\.0\.1:$P2 --send-keys" \
    "listen 0.0.0.0: base_url on 127.0.0.1"
stop_pid "$KD_PID" TERM

P3=$(free_port)
if serve_on "http://[::1]:$P3" "$T_DIR/kd3.log" --listen "[::]:$P3" \
    --data-dir "$T_DIR/d3"; then
	http GET "http://[::1]:$P3/" >/dev/null
	like "$(body)" "hkp://\[::1\]:$P3 --send-keys" \
	    "listen [::]: base_url on [::1]"
	stop_pid "$KD_PID" TERM
else
	ok 0 "# SKIP no IPv6 here"
fi

# --- the port is in use ---------------------------------------------------------
kd serve --listen "127.0.0.1:$P1" --data-dir "$T_DIR/other"
is "$?" 1 "a second keydird on the same port: exit status 1"
like "$(cat "$T_DIR/err")" \
    "cannot listen on 127\.0\.0\.1:$P1: address already in use" \
    "... says the address is in use"
unlike "$(cat "$T_DIR/err")" "port 0" "... and names no port 0"
ok "$([ ! -e "$T_DIR/other" ]; echo $?)" "... and creates no data directory"
is "$(http GET "http://127.0.0.1:$P1/")" 200 "the first one still answers"

# --- the data directory is in use ---------------------------------------------
P4=$(free_port)
kd serve --listen "127.0.0.1:$P4" --data-dir "$D1"
is "$?" 1 "a second serve on the same data directory: exit status 1"
is "$(wc -l <"$T_DIR/err")" 1 "... one line"
like "$(cat "$T_DIR/err")" \
    "data directory '$D1' is in use by another keydird serve \(pid $A_PID\)" \
    "... naming the data directory and the pid of the first"
ok "$(port_open "$P4"; [ $? != 0 ]; echo $?)" "... nothing listens on its port"
is "$(http GET "http://127.0.0.1:$P1/vks/v1/by-fingerprint/$F1")" 200 \
    "the first one still answers"
kd maintain --data-dir "$D1"
is "$?" 0 "maintain runs while serve does"
kd export --data-dir "$D1"
is "$?" 0 "export runs while serve does"
like "$(cat "$T_DIR/out")" "$F1" "... and exports the key"

stop_pid "$A_PID" TERM
is "$?" 0 "the first serve stops"
serve_on "http://127.0.0.1:$P4" "$LOG1" --listen "127.0.0.1:$P4" \
    --data-dir "$D1"
ok $? "once it stopped, a serve on the same data directory starts"
stop_pid "$KD_PID" TERM

# --- hkps:// for an https base_url ------------------------------------------------
P5=$(free_port)
serve_on "http://127.0.0.1:$P5" "$T_DIR/kd5.log" --listen "127.0.0.1:$P5" \
    --data-dir "$T_DIR/d5" --base-url https://keys.example.org/ ||
    bail "keydird starts with an https base_url"
http GET "http://127.0.0.1:$P5/" >/dev/null
like "$(body)" "--keyserver hkps://keys\.example\.org --send-keys" \
    "https base_url: the page says hkps://"
unlike "$(body)" "hkp://" "... and never hkp://"
stop_pid "$KD_PID" TERM

# gpg takes hkp:// without a port for port 11371
P6=$(free_port)
serve_on "http://127.0.0.1:$P6" "$T_DIR/kd6.log" --listen "127.0.0.1:$P6" \
    --data-dir "$T_DIR/d6" --base-url http://keys.example.org ||
    bail "keydird starts with an http base_url without a port"
http GET "http://127.0.0.1:$P6/" >/dev/null
like "$(body)" "--keyserver hkp://keys\.example\.org:80 --send-keys" \
    "http base_url without a port: the page says port 80"

done_testing
