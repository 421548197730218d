#!/bin/bash
# 24-privilege: keydird refuses to work as root without --user; started as
# root with it, serve switches to that account for good (its ids and
# groups, no capabilities) and serves; the data directory must belong to
# it.  As whoever runs the test: --user can only name that account, and
# serve's sandbox keeps its writes to the data directory: a Maildir linked
# to a folder outside, writable for the account, gets no mail until the
# sandbox is turned off.  Unprivileged, the root part is a TAP skip.
. "$(dirname "$0")/lib.sh"

T_KD_LOGS+=("$T_DIR/kd.log")

# kdr ARGS...: keydird as whoever runs the test (root or not); stderr in
# $T_DIR/err, appended to kd.log.
kdr() {
	timeout 20 "$KEYDIRD_BIN" "$@" </dev/null >/dev/null 2>"$T_DIR/err"
	local rc=$?
	cat "$T_DIR/err" >>"$T_DIR/kd.log"
	return "$rc"
}

# kdu ARGS...: keydird as the account the tests run it as (nobody when
# root, else the caller); like kdr.
kdu() {
	timeout 20 "$KEYDIRD" "$@" </dev/null >/dev/null 2>"$T_DIR/err"
	local rc=$?
	cat "$T_DIR/err" >>"$T_DIR/kd.log"
	return "$rc"
}

# proc_field PID NAME: the values of NAME in /proc/PID/status, separated
# by single spaces.
proc_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ +/, ""); print; exit }' \
	    "/proc/$1/status"
}

# sorted LIST: the words of LIST, sorted numerically, one space apart.
sorted() {
	printf '%s\n' $1 | sort -n | xargs
}

# key NAME ADDR PORT: a new key in a fresh GNUPGHOME, armored into
# $T_DIR/NAME.asc
key() {
	local kh f
	mk_gnupghome kh "$3"
	f=$(gen_key "$kh" "$1 <$2>") || return 1
	g "$kh" --export --armor "$f" >"$T_DIR/$1.asc"
}

# --- as root ------------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	skip "not root: the refusal of root and the switch to --user need root"
else
	P=$(free_port)
	D=$T_DIR/refused
	kdr serve --listen "127.0.0.1:$P" --data-dir "$D"
	is "$?" 1 "root without --user: exit status 1"
	like "$(cat "$T_DIR/err")" \
	    "fatal: refusing to run as root: give --user NAME" \
	    "... says to give --user"
	is "$(wc -l <"$T_DIR/err")" 1 "... in one line"
	ok "$([ ! -e "$D" ]; echo $?)" "... and makes no data directory"
	for c in maintain import export state republish rotate-key; do
		kdr "$c" --data-dir "$D"
		is "$?" 1 "keydird $c as root without --user: exit status 1"
		like "$(cat "$T_DIR/err")" "refusing to run as root" \
		    "... refused"
	done
	kdr serve --listen "127.0.0.1:$P" --data-dir "$D" --user root
	is "$?" 1 "--user root: exit status 1"
	like "$(cat "$T_DIR/err")" "'root' is root: name an account" \
	    "... refused as root"
	kdr serve --listen "127.0.0.1:$P" --data-dir "$D" \
	    --user no-such-keydir-user
	is "$?" 1 "--user naming no account: exit status 1"
	like "$(cat "$T_DIR/err")" "user 'no-such-keydir-user': no such account" \
	    "... says so"

	# a data directory that is not the account's
	R=$T_DIR/rootdir
	mkdir -m 700 "$R"
	kdr serve --listen "127.0.0.1:$P" --data-dir "$R" --user "$T_USER"
	is "$?" 1 "a data directory root owns: exit status 1"
	like "$(cat "$T_DIR/err")" \
	    "'$R' belongs to uid 0, not to '$T_USER' .*: chown -R $T_USER: '$R'" \
	    "... names the owner and the chown that fixes it"
	ok "$(port_open "$P"; [ $? != 0 ]; echo $?)" "... nothing listens"
	chown "$T_USER:" "$R"
	: >"$R/server-key.pgp"
	kdr maintain --data-dir "$R" --user "$T_USER"
	is "$?" 1 "a file in it root owns (left by a root run): exit status 1"
	like "$(cat "$T_DIR/err")" "'$R/server-key.pgp' belongs to uid 0" \
	    "... names the file"
	# its own, but inside a directory the account may not enter (a
	# checkout in root's home): SQLite opens the database by its full path
	C=$T_DIR/closed
	mkdir -m 700 "$C" "$C/data"
	chown "$T_USER:" "$C/data"
	kdr serve --listen "127.0.0.1:$P" --data-dir "$C/data" --user "$T_USER"
	is "$?" 1 "a data directory inside one closed to the account: exit status 1"
	like "$(cat "$T_DIR/err")" \
	    "'$T_USER' cannot reach the data directory '.*/closed/data': it may not enter '.*/closed'" \
	    "... names the directory that keeps it out"
	ok "$(port_open "$P"; [ $? != 0 ]; echo $?)" "... nothing listens"

	# the switch
	D=$T_DIR/data
	KEYDIRD=$KEYDIRD_BIN start_keydird "$P" "$D" "$T_DIR/root.log" \
	    --user "$T_USER" || bail "keydird starts as root with --user"
	PID=$KD_PID
	NU=$(id -u "$T_USER")
	NG=$(id -g "$T_USER")
	is "$(stat -c %U:%a "$D")" "$T_USER:700" \
	    "the data directory it made belongs to $T_USER, mode 0700"
	is "$(proc_field "$PID" Uid)" "$NU $NU $NU $NU" \
	    "real, effective, saved and file-system uid: $T_USER's"
	is "$(proc_field "$PID" Gid)" "$NG $NG $NG $NG" \
	    "... and gid: $T_USER's"
	is "$(sorted "$(proc_field "$PID" Groups)")" \
	    "$(sorted "$(id -G "$T_USER")")" "groups: $T_USER's, none of root's"
	is "$(proc_field "$PID" CapPrm) $(proc_field "$PID" CapEff)" \
	    "0000000000000000 0000000000000000" "no capability left"
	like "$(cat "$T_DIR/root.log")" "info: running as '$T_USER'" \
	    "the log says whom it runs as"
	key ann ann@example.org "$P" || bail "a key for ann"
	publish "$KD_URL" "$D/mail" "$T_DIR/ann.asc" ann@example.org
	ok "$?" "upload, mail, confirmation and lookup work after the switch"
	is "$(find "$D" ! -user "$T_USER" | head -3)" "" \
	    "every file in the data directory belongs to $T_USER"
	stop_pid "$PID" TERM
	is "$?" 0 "SIGTERM: exit status 0"
fi

# --- as the account keydird runs as ------------------------------------------
ME=${T_USER:-$(id -un)}
OTHER=$(getent passwd | awk -F: -v me="$(id -u "$ME")" \
    '$3 != 0 && $3 != me { print $1; exit }')
P=$(free_port)
kdu serve --listen "127.0.0.1:$P" --data-dir "$T_DIR/d2" --user root
is "$?" 1 "not root, --user root: exit status 1"
like "$(cat "$T_DIR/err")" "'root' is root" "... refused"
if [ -n "$OTHER" ]; then
	kdu serve --listen "127.0.0.1:$P" --data-dir "$T_DIR/d2" --user "$OTHER"
	is "$?" 1 "not root, --user another account: exit status 1"
	like "$(cat "$T_DIR/err")" "--user '$OTHER': only root can switch users" \
	    "... refused: only root can switch"
else
	skip "no second account to name"
fi
start_keydird "$P" "$T_DIR/d3" "$T_DIR/self.log" --user "$ME" ||
    bail "keydird starts with --user naming its own account"
is "$(proc_field "$KD_PID" Uid)" "$(id -u "$ME") $(id -u "$ME") $(id -u "$ME") $(id -u "$ME")" \
    "--user naming its own account: runs as it was"
is "$(proc_field "$KD_PID" NoNewPrivs)" 1 "the sandbox: no new privileges"
if [ -n "$(proc_field "$KD_PID" Seccomp)" ]; then
	is "$(proc_field "$KD_PID" Seccomp)" 2 "the sandbox: a seccomp filter"
else
	skip "this kernel shows no seccomp state"
fi
stop_pid "$KD_PID" TERM

# Landlock, on a request: the Maildir is a link to a folder outside the
# data directory that the account may write
P=$(free_port)
D=$T_DIR/d4
OUT=$T_DIR/outside
mkdir -p "$OUT/tmp" "$OUT/new" "$OUT/cur" "$D"
chmod 700 "$D"
ln -s "$OUT" "$D/mail"
t_own "$OUT" "$D"
start_keydird "$P" "$D" "$T_DIR/ll.log" --set mail_retry_min=1s ||
    bail "keydird starts with its Maildir outside"
if ! grep -q 'sandbox: Landlock' "$T_DIR/ll.log"; then
	skip "$(grep -o 'Landlock not used: [^;]*' "$T_DIR/ll.log")"
	stop_pid "$KD_PID" TERM
	done_testing
fi
key bob bob@example.org "$P" || bail "a key for bob"
is "$(vks_upload "$KD_URL" "$T_DIR/bob.asc")" 200 "upload"
is "$(vks_request "$KD_URL" "$(jq -r .token "$T_DIR/body")" bob@example.org)" \
    200 "request-verify"
wait_for 20 'grep -q "mail to bob@example.org failed" "$T_DIR/ll.log"'
like "$(grep 'mail to bob@example.org failed' "$T_DIR/ll.log" | head -1)" \
    "maildir \"$D/mail/tmp/.*\": Permission denied" \
    "the sandbox keeps the mail from the folder outside (EACCES)"
is "$(mail_count "$OUT")" 0 "... nothing is written there"
stop_pid "$KD_PID" TERM
start_keydird "$P" "$D" "$T_DIR/ll.log" --set mail_retry_min=1s \
    --set sandbox=off || bail "keydird restarts with sandbox = off"
like "$(cat "$T_DIR/ll.log")" "sandbox: off" "sandbox = off is logged"
wait_until 20 has_mail "$OUT" bob@example.org
ok "$?" "with sandbox = off the same mail is written there: it was the sandbox"

done_testing
