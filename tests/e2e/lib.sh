# tests/e2e/lib.sh: shared helpers for the end-to-end tests.
#
# Each test script sources this file, starts what it needs (keydird,
# aiosmtpd, GnuPG homes) through the helpers below, asserts with ok/is/like,
# and ends with done_testing.  Everything lives under one mktemp directory;
# the EXIT trap stops every process started here (by pid), runs
# `gpgconf --kill all` for every GNUPGHOME made here and removes the
# directory.  Output is TAP; the plan line comes last.
#
# KEYDIRD: the binary under test (default: build/keydird of this checkout).
# KEEP_TMP=1 keeps the temp directory for a post-mortem.

set -u

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KEYDIRD=${KEYDIRD:-$E2E_ROOT/build/keydird}
PY=/usr/bin/python3		# Debian's python3 (has aiosmtpd, email)
export LC_ALL=C.UTF-8 TZ=UTC

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/keydir-e2e.XXXXXX") || exit 1
T_N=0
T_FAIL=0
T_DONE=0
T_PIDS=()		# every background process started here
T_KD_PIDS=()		# the keydird ones among them
T_KD_LOGS=()		# every keydird log, checked for sanitizer reports
T_HOMES=()		# every GNUPGHOME made here
T_MAIN=$$		# this script's shell: fatal signals it from $(...) too
exec 7>&1 8>&2		# its stdout and stderr, for t_fatal

[ -x "$KEYDIRD" ] || { echo "1..0 # SKIP no keydird at $KEYDIRD"; exit 0; }

# As root, keydird refuses to work on a data directory unless --user
# names the account to switch to (README, "Privileges").  The tests run it
# as it runs unprivileged: as T_USER (nobody), through a copy of the
# binary in T_DIR (which T_USER owns, so keydird can make its data
# directories there), with the client beside it for the tests that look
# for it next to keydird.  KEYDIRD_BIN stays the binary as given, for
# 24-privilege, which starts it as root.  A test that makes a directory
# or file for keydird to write into gives it to T_USER with t_own.
KEYDIRD_BIN=$KEYDIRD
T_USER=
if [ "$(id -u)" = 0 ]; then
	T_USER=nobody
	mkdir "$T_DIR/bin" &&
	    cp "$KEYDIRD" "$T_DIR/bin/keydird.bin" &&
	    ln -s "$(dirname "$KEYDIRD")/keydir" "$T_DIR/bin/keydir" &&
	    printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --clear-groups -- "%s" "$@"\n' \
		"$(id -u "$T_USER")" "$(id -g "$T_USER")" \
		"$T_DIR/bin/keydird.bin" >"$T_DIR/bin/keydird" &&
	    chmod 755 "$T_DIR/bin" "$T_DIR/bin/keydird" &&
	    chown "$T_USER:" "$T_DIR" || exit 1
	KEYDIRD=$T_DIR/bin/keydird
fi

# KD_STORE=pg: every data directory's store is a database of its own in
# a throwaway PostgreSQL cluster of this script (tests/pg/cluster.sh,
# beside T_DIR, which is keydird's account's alone; stopped at the end).
# KEYDIRD becomes a wrapper that gives every command the database of its
# --data-dir (made on first use), so the tests run unchanged.
PG_DIR=
PG_URL=
PG_DIRS=()	# clusters a script starts itself (tests/pg/cluster.sh DIR/c)
if [ "${KD_STORE:-sqlite}" = pg ]; then
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/keydir-pg.XXXXXX") &&
	    chmod 755 "$PG_DIR" || exit 1
	PG_URL=$("$E2E_ROOT/tests/pg/cluster.sh" start "$PG_DIR/c") || {
		"$E2E_ROOT/tests/pg/cluster.sh" stop "$PG_DIR/c"
		rmdir "$PG_DIR"
		echo "Bail out! a PostgreSQL cluster (tests/pg/cluster.sh)"
		exit 1
	}
	mkdir -p "$T_DIR/pgbin"
	# named keydird, with the client beside it (19, 20 look there)
	ln -s "$(dirname "$KEYDIRD")/keydir" "$T_DIR/pgbin/keydir"
	cat >"$T_DIR/pgbin/keydird" <<WRAP
#!/bin/bash
# the database of --data-dir DIR in the test cluster, then keydird
dir=./var
args=("\$@")
for ((i = 0; i < \${#args[@]}; i++)); do
	case \${args[i]} in
	--data-dir) dir=\${args[i + 1]} ;;
	--data-dir=*) dir=\${args[i]#--data-dir=} ;;
	esac
done
db=d\$(printf '%s' "\$(cd "\$dir" 2>/dev/null && pwd || echo "\$dir")" | md5sum | cut -c1-16)
psql -q "$PG_URL" -c "CREATE DATABASE \$db" >/dev/null 2>&1
url='$PG_URL'
exec "$KEYDIRD" "\${args[0]}" --set "database=\${url/\/\/\/keydir/\/\/\/\$db}" "\${args[@]:1}"
WRAP
	chmod 755 "$T_DIR/pgbin" "$T_DIR/pgbin/keydird"
	KEYDIRD=$T_DIR/pgbin/keydird
fi

# t_own PATH...: when running as root, give PATH (recursively) to T_USER,
# the account keydird runs as; nothing otherwise.
t_own() {
	[ -z "$T_USER" ] || chown -R "$T_USER:" "$@"
}

# --- TAP -----------------------------------------------------------------

# ok COND_STATUS DESCRIPTION: ok when the status is 0.
ok() {
	local st=$1
	shift
	T_N=$((T_N + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $T_N - $*"
	else
		T_FAIL=$((T_FAIL + 1))
		echo "not ok $T_N - $*"
	fi
	return "$st"
}

# check DESCRIPTION CMD...: ok when the command succeeds.
check() {
	local desc=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$desc"
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$1'"
		diag "want: '$2'"
		return 1
	fi
}

# like GOT ERE DESCRIPTION (grep -E on the whole text)
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  '$(printf '%s' "$1" | head -c 600)'"
		diag "want: /$2/"
		return 1
	fi
}

# unlike GOT ERE DESCRIPTION
unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 1 "$3"
		diag "got:  '$(printf '%s' "$1" | head -c 600)'"
		diag "must not match: /$2/"
		return 1
	fi
	ok 0 "$3"
}

# skip REASON: a test not run here, visibly (TAP "ok N # skip REASON").
skip() {
	T_N=$((T_N + 1))
	echo "ok $T_N # skip $*"
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# bail DESCRIPTION: a failure after which the script cannot go on.
bail() {
	ok 1 "$*"
	done_testing
}

# --- processes -------------------------------------------------------------

# wait_until SECONDS CMD...: poll CMD every 0.1 s; 0 as soon as it succeeds.
wait_until() {
	local limit=$1 i=0 a
	shift
	for a; do	# "\$(...)" here is a literal, never run: use wait_for
		case $a in *'$('*) bail "wait_until given '$a': use wait_for" ;; esac
	done
	while [ "$i" -lt $((limit * 10)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	"$@" >/dev/null 2>&1
}

# wait_for SECONDS 'SHELL CODE': like wait_until, but the code is evaluated
# afresh on every try (so "$(...)" inside it is recomputed).
wait_for() {
	local limit=$1 i=0
	shift
	while [ "$i" -lt $((limit * 10)) ]; do
		eval "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	eval "$1" >/dev/null 2>&1
}

# unsent DATADIR: outbox rows not yet delivered.
unsent() {
	state_of "$1" .outbox.unsent
}

free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# start_keydird PORT DATADIR LOG [ARGS...]: sets KD_PID and KD_URL; 0 when
# the server answers on PORT.  The log is appended to.
# sqlite_only REASON: end a script that needs the SQLite file itself,
# visibly, under KD_STORE=pg.
sqlite_only() {
	if [ "${KD_STORE:-sqlite}" = pg ]; then
		skip "$(basename "$0") under PostgreSQL: $*"
		done_testing
	fi
}

start_keydird() {
	local port=$1 dir=$2 log=$3
	shift 3
	KD_URL=http://127.0.0.1:$port
	# the per-client limits are off: every test is one client, and
	# 26-limits turns them on (a later --set wins)
	"$KEYDIRD" serve --listen "127.0.0.1:$port" --data-dir "$dir" \
	    --base-url "$KD_URL" --set rate_limits=off "$@" 2>>"$log" &
	KD_PID=$!
	T_PIDS+=("$KD_PID")
	T_KD_PIDS+=("$KD_PID")
	T_KD_LOGS+=("$log")
	wait_until 30 kd_up "$KD_PID" "$KD_URL"
}

kd_up() {
	alive "$1" || return 2
	curl -s -o /dev/null --max-time 2 "$2/"
}

# stop_pid PID [SIGNAL]: signal and reap; prints nothing, returns the exit
# status of the process (when it was our child).
stop_pid() {
	local pid=$1 sig=${2:-TERM} i=0 rc
	alive "$pid" || { wait "$pid" 2>/dev/null; return $?; }
	# bash would print "Killed" for a SIGKILLed job: not ours to report
	[ "$sig" = KILL ] && disown "$pid" 2>/dev/null
	kill -s "$sig" "$pid" 2>/dev/null
	while alive "$pid" && [ "$i" -lt 300 ]; do
		# a zombie child answers kill -0 until reaped: ask ps
		if [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]; then
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	if [ "$i" -ge 300 ]; then
		kill -s KILL "$pid" 2>/dev/null
	fi
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	return "$rc"
}

# start_smtp PORT DIR: aiosmtpd storing every mail in DIR/Maildir/new;
# sets SMTP_PID.
start_smtp() {
	local port=$1 dir=$2
	mkdir -p "$dir/Maildir/tmp" "$dir/Maildir/new" "$dir/Maildir/cur"
	"$PY" -m aiosmtpd -n -l "127.0.0.1:$port" \
	    -c aiosmtpd.handlers.Mailbox "$dir/Maildir" \
	    >>"$dir/aiosmtpd.log" 2>&1 &
	SMTP_PID=$!
	T_PIDS+=("$SMTP_PID")
	wait_until 20 port_open "$port"
}

# start_sink PORT DIR: tests/e2e/smtpsink.py, an SMTP server storing every
# mail in DIR/Maildir/new (in order of arrival, logged in
# DIR/Maildir/deliveries) that obeys the rules in DIR/control (delay,
# tempfail, reject: see smtpsink.py), read again for every command; sets
# SMTP_PID and SINK_CTL.  DIR/control is kept across restarts.
start_sink() {
	local port=$1 dir=$2
	mkdir -p "$dir/Maildir/tmp" "$dir/Maildir/new" "$dir/Maildir/cur"
	SINK_CTL=$dir/control
	"$PY" "$E2E_ROOT/tests/e2e/smtpsink.py" "127.0.0.1:$port" \
	    "$dir/Maildir" "$SINK_CTL" >>"$dir/smtpsink.log" 2>&1 &
	SMTP_PID=$!
	T_PIDS+=("$SMTP_PID")
	wait_until 20 port_open "$port"
}

# mail_count MAILDIR: number of delivered mails.
mail_count() {
	find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l
}

# mail_to MAILDIR ADDR: the newest mail to ADDR (path), empty if none.
mail_to() {
	local f
	f=$(grep -lis "^To: *<\?$2>\?\s*$" "$1"/new/* "$1"/cur/* 2>/dev/null |
	    xargs -r ls -t 2>/dev/null | head -1)
	printf '%s' "$f"
}

# has_mail MAILDIR ADDR: true when a mail to ADDR arrived (for wait_until).
has_mail() {
	[ -n "$(mail_to "$1" "$2")" ]
}

# mails_to MAILDIR ADDR: how many mails went to ADDR.
mails_to() {
	grep -lis "^To: *<\?$2>\?\s*$" "$1"/new/* "$1"/cur/* 2>/dev/null |
	    wc -l
}

# has_more_mails MAILDIR ADDR N: more than N mails went to ADDR.
has_more_mails() {
	[ "$(mails_to "$1" "$2")" -gt "$3" ]
}

# mail_part FILE to|from|subject|body|atttype|attname|att|att=NAME: one
# piece of a mail, decoded (quoted-printable, base64, RFC 2047); att is the
# first attachment, att=NAME the one with that file name.
mail_part() {
	"$PY" - "$1" "$2" <<'EOF'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                     policy=email.policy.default)
what = sys.argv[2]
if what in ("to", "from", "subject", "date", "message-id"):
    print(str(msg[what] or ""))
    sys.exit(0)
body = msg.get_body(preferencelist=("plain",))
atts = list(msg.iter_attachments())
if what == "body":
    sys.stdout.write(body.get_content() if body else "")
elif what == "atttype":
    print(" ".join(a.get_content_type() for a in atts))
elif what == "attname":
    print(" ".join(str(a.get_filename()) for a in atts))
elif what == "att":
    if atts:
        sys.stdout.buffer.write(atts[0].get_payload(decode=True))
elif what.startswith("att="):
    for a in atts:
        if a.get_filename() == what[4:]:
            sys.stdout.buffer.write(a.get_payload(decode=True))
EOF
}

# link_of FILE: the confirmation link in a mail.
link_of() {
	mail_part "$1" body | grep -Eo 'https?://[^ ]*/verify/[A-Za-z0-9_-]{43}' |
	    head -1
}

# mail_link FILE KIND: the first BASE/KIND/TOKEN link in a mail (KIND is
# verify, manage or reverify).
mail_link() {
	mail_part "$1" body |
	    grep -Eo "https?://[^ ]*/$2/[A-Za-z0-9_-]{43}" | head -1
}

# link_in_log LOG ADDR: the newest confirmation link logged for ADDR.
link_in_log() {
	grep -F "confirmation link for $2 " "$1" | tail -1 |
	    grep -Eo 'https?://[^ ]*/verify/[A-Za-z0-9_-]{43}'
}

# --- GnuPG -------------------------------------------------------------------

# mk_gnupghome VAR PORT: a fresh GNUPGHOME whose dirmngr asks keydird on PORT;
# stored in VAR.
mk_gnupghome() {
	local h
	h=$(mktemp -d "$T_DIR/gnupg.XXXXXX")
	chmod 700 "$h"
	printf 'keyserver hkp://127.0.0.1:%s\n' "$2" >"$h/dirmngr.conf"
	printf 'allow-loopback-pinentry\n' >"$h/gpg-agent.conf"
	T_HOMES+=("$h")
	printf -v "$1" '%s' "$h"
}

# g HOME ARGS...: gpg in HOME, batch, no tty.
g() {
	local h=$1
	shift
	GNUPGHOME=$h gpg --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@"
}

# gen_key HOME 'Name <addr>': new key without passphrase; prints its fpr.
gen_key() {
	g "$1" --quick-gen-key "$2" future-default default never \
	    >/dev/null 2>&1 || return 1
	fpr_of "$1" "$2"
}

# fpr_of HOME WHAT: the primary fingerprint of the first key matching WHAT.
fpr_of() {
	g "$1" --with-colons --list-keys "$2" 2>/dev/null |
	    awk -F: '/^fpr/ {print $10; exit}'
}

# key_fprs HOME FILE: the primary fingerprints of the keys in FILE (not
# imported).
key_fprs() {
	g "$1" --with-colons --import-options show-only --import <"$2" \
	    2>/dev/null | awk -F: '$1 == "pub" {p = 1} $1 == "fpr" && p {print $10; p = 0}'
}

# key_uids HOME FILE: the user IDs (packets) in the key FILE, one a line.
key_uids() {
	g "$1" --list-packets <"$2" 2>/dev/null |
	    sed -n 's/^:user ID packet: "\(.*\)"$/\1/p'
}

# craft_certs DIR N PREFIX: N certs made by pgpcraft.py in one process (much
# faster than gpg), each Ed25519 with an X25519 subkey and the one user ID
# "PREFIX I <PREFIX-I@example.org>": DIR/I.asc (armored), DIR/I.json (a
# VKS upload body), and DIR/list with a line "I FPR ADDRESS" for each.
craft_certs() {
	mkdir -p "$1"
	PYTHONPATH=$E2E_ROOT/tests/e2e "$PY" - "$@" <<'EOF'
import json, os, sys
import pgpcraft as pc
d, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(os.path.join(d, "list"), "w") as lst:
    for i in range(1, n + 1):
        addr = "%s-%d@example.org" % (prefix, i)
        key = pc.Key("%s/%d" % (prefix, i))
        sub = pc.Subkey(pc.Cv25519Key("%s/%d/enc" % (prefix, i)), 0x0C, "no")
        armored = pc.armor(pc.cert(key, [("%s %d <%s>" % (prefix, i, addr)).encode()], [sub]))
        with open(os.path.join(d, "%d.asc" % i), "w") as f:
            f.write(armored)
        with open(os.path.join(d, "%d.json" % i), "w") as f:
            json.dump({"keytext": armored}, f)
        lst.write("%d %s %s\n" % (i, key.fpr, addr))
EOF
}

# --- HTTP --------------------------------------------------------------------

# http METHOD URL [CURL ARGS...]: body to $T_DIR/body, headers to
# $T_DIR/headers; prints the status code.
http() {
	local m=$1 u=$2
	shift 2
	: >"$T_DIR/body"
	curl -s -X "$m" -o "$T_DIR/body" -D "$T_DIR/headers" \
	    -w '%{http_code}' --max-time 30 "$@" "$u"
}

body() {
	cat "$T_DIR/body"
}

# page_text: the last body with its tags taken out, as a person reads it
# (a fingerprint shown in groups of four, one element each, reads whole)
page_text() {
	sed 's/<[^>]*>//g' "$T_DIR/body"
}

header() {
	grep -i "^$1:" "$T_DIR/headers" | head -1 | cut -d: -f2- |
	    sed 's/^ *//; s/\r$//'
}

# vks_upload URL KEYFILE: POST /vks/v1/upload; prints status, body in body.
vks_upload() {
	jq -n --rawfile k "$2" '{keytext: $k}' >"$T_DIR/req.json"
	http POST "$1/vks/v1/upload" -H 'Content-Type: application/json' \
	    --data-binary @"$T_DIR/req.json"
}

# vks_request URL TOKEN ADDR...: POST /vks/v1/request-verify.
vks_request() {
	local u=$1 tok=$2
	shift 2
	jq -n --arg t "$tok" '{token: $t, addresses: $ARGS.positional,
	    locale: ["en_US"]}' --args "$@" >"$T_DIR/req.json"
	http POST "$u/vks/v1/request-verify" \
	    -H 'Content-Type: application/json' --data-binary @"$T_DIR/req.json"
}

# confirm LINK: POST to a confirmation link; prints the status.
confirm() {
	http POST "$1"
}

# publish URL MAILDIR KEYFILE ADDR...: upload the key, request
# verification of every ADDR, confirm each with the link of the mail that
# arrives for it; 0 when every ADDR is then found by email.
publish() {
	local u=$1 md=$2 f=$3 a tok
	local -A before=()
	shift 3
	for a; do before[$a]=$(mails_to "$md" "$a"); done
	[ "$(vks_upload "$u" "$f")" = 200 ] || return 1
	tok=$(jq -r .token "$T_DIR/body")
	[ "$(vks_request "$u" "$tok" "$@")" = 200 ] || return 1
	for a; do
		wait_until 20 has_more_mails "$md" "$a" "${before[$a]}" ||
		    return 1
		[ "$(confirm "$(link_of "$(mail_to "$md" "$a")")")" = 200 ] ||
		    return 1
		wait_for "${PUBLISH_LAG:-0}" \
		    "[ \"\$(http GET '$u/vks/v1/by-email/$a')\" = 200 ]" ||
		    return 1
	done
}

# publish_soon URL MAILDIR KEYFILE ADDR...: publish, where a lookup may
# lag a confirmation by up to a second (a lookup cache, a replica:
# README "PostgreSQL"): each ADDR must be found by email within 3 s of
# its confirmation.
publish_soon() {
	PUBLISH_LAG=3 publish "$@"
}

# node_dir FROM TO: a data directory TO for another node on FROM's
# database, with FROM's server key and session key (README "PostgreSQL").
node_dir() {
	mkdir -p "$2" &&
	    cp -p "$1/server-key.pgp" "$1/session.key" "$2/" &&
	    t_own "$2"
}

# own_cluster VAR: a PostgreSQL cluster of the script's own, whatever
# KD_STORE says (tests/pg/cluster.sh; lib.sh stops it at the end, after
# the nodes): its directory in PGD, its URL in VAR.
own_cluster() {
	local u
	command -v psql >/dev/null || bail "psql is missing (make deps-test)"
	PGD=$(mktemp -d "${TMPDIR:-/tmp}/keydir-nodes.XXXXXX") &&
	    chmod 755 "$PGD" || bail "a directory for PostgreSQL"
	PG_DIRS+=("$PGD")
	u=$("$E2E_ROOT/tests/pg/cluster.sh" start "$PGD/c") ||
	    bail "a PostgreSQL cluster (tests/pg/cluster.sh)"
	printf -v "$1" '%s' "$u"
}

# --- the Web Key Directory's front: TLS on 443, names, a test CA --------------
# WKD clients fetch only https://openpgpkey.DOMAIN or https://DOMAIN on port
# 443 and trust only the system's CA bundle.  wkd_front PORT makes a
# throw-away CA and a certificate for openpgpkey.example.org and
# example.org, puts nginx on 127.0.0.1:443 in front of keydird on PORT (as
# an operator would), and writes WKD_HOSTS; in_ns runs a client in a
# private mount namespace where /etc/hosts is WKD_HOSTS and the CA bundle
# holds the test CA.  Nothing of the machine's changes.

# wkd_front_check: skip the whole script (visibly) where it cannot run.
wkd_front_check() {
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		skip "$(basename "$0") needs root and mount namespaces" \
		    "(unshare -m) here"
		done_testing
	fi
	local c
	for c in nginx openssl; do
		command -v $c >/dev/null || bail "$c is missing (make deps-test)"
	done
	port_open 443 &&
	    bail "port 443 is taken: the WKD clients fetch only there"
}

wkd_front() {
	local port=$1 ng=$T_DIR/nginx
	WKD_TLS=$T_DIR/tls
	WKD_HOSTS=$T_DIR/hosts
	WKD_LOG=$ng/access.log
	mkdir -p "$WKD_TLS" "$ng/tmp"
	(
		cd "$WKD_TLS" &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		    -subj '/CN=keydir test CA' -keyout ca.key -out ca.crt \
		    -addext 'basicConstraints=critical,CA:TRUE' \
		    -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=example.org \
		    -keyout server.key -out server.csr &&
		printf '%s\n' \
		    'subjectAltName=DNS:openpgpkey.example.org,DNS:example.org' \
		    'extendedKeyUsage=serverAuth' >ext.cnf &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile ext.cnf -out server.crt &&
		cat /etc/ssl/certs/ca-certificates.crt ca.crt >bundle.crt
	) >"$T_DIR/tls.log" 2>&1 ||
	    { cat "$T_DIR/tls.log" >&2; bail "a test CA"; }
	printf '127.0.0.1 localhost\n127.0.0.1 openpgpkey.example.org example.org\n' \
	    >"$WKD_HOSTS"
	cat >"$ng/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $ng/error.log info;
pid $ng/nginx.pid;
events { worker_connections 64; }
http {
    access_log $WKD_LOG;
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    server {
        listen 127.0.0.1:443 ssl;
        ssl_certificate $WKD_TLS/server.crt;
        ssl_certificate_key $WKD_TLS/server.key;
        location /.well-known/openpgpkey/ {
            proxy_pass http://127.0.0.1:$port;
            proxy_set_header Host \$host;
        }
    }
}
CONF
	nginx -c "$ng/nginx.conf" -e "$ng/error.log" &
	T_PIDS+=($!)
	wait_until 10 port_open 443 || bail "nginx listens on 443"
}

# in_ns OUT CMD...: CMD in the namespace, with a fresh GNUPGHOME (or
# NS_HOME's), its output in OUT; its status returned.
in_ns() {
	local out=$1 h=${NS_HOME:-}
	shift
	if [ -z "$h" ]; then
		h=$(mktemp -d "$T_DIR/wkdhome.XXXXXX")
		chmod 700 "$h"
		T_HOMES+=("$h")
	fi
	unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
	    mount --bind "$2" /etc/ssl/certs/ca-certificates.crt &&
	    shift 2 && "$@"; rc=$?; gpgconf --kill all; exit $rc' sh \
	    "$WKD_HOSTS" "$WKD_TLS/bundle.crt" env GNUPGHOME="$h" \
	    SSL_CERT_FILE="$WKD_TLS/ca.crt" "$@" >"$out" 2>&1
}

# --- how soon every node answers a change ----------------------------------

# race_poll OUT SECONDS TRIGGER CHECK...: send the request TRIGGER
# ("METHOD URL [BODYFILE [CONTENT-TYPE]]") that makes a change, and from
# the moment it is sent ask each CHECK ("NAME URL WANT [HOST]") every
# POLL_MS (default 20) ms, each check in a thread of its own, until
# SECONDS have passed.  WANT is a status (404), !STATUS (any other: !200
# for "not served", where an error serves nothing either), key:FPR (200,
# and the packets of the answer, armored or binary, hold FPR as a
# signature's issuer fingerprint: it is the key FPR) or text:STRING (200
# and the body holds STRING).  OUT gets "trigger STATUS MS" (MS: the time from sending
# to its answer) and for each CHECK "NAME MS N BAD": MS is the time since
# the trigger was sent of the first answer after which every answer was
# as WANT (-1 when the last one was not), N the number of answers, BAD
# the last answer that was not as WANT ("STATUS@MS"; - if none was).
race_poll() {
	"$PY" - "$@" <<'EOF'
import base64, http.client, os, re, sys, threading, time, urllib.parse
out, seconds, trigger = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
checks = [c.split() for c in sys.argv[4:]]
every = float(os.environ.get("POLL_MS", "20")) / 1000


def request(method, url, body=None, ctype=None, host=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    h = {"Connection": "close"}
    if host:
        h["Host"] = host
    if ctype:
        h["Content-Type"] = ctype
    try:
        c.request(method, u.path + ("?" + u.query if u.query else ""), body, h)
        r = c.getresponse()
        return r.status, r.read()
    except OSError:
        return 0, b""
    finally:
        c.close()


def holds_fpr(body, fpr):
    if b"-----BEGIN" in body:
        b64 = "".join(l for l in body.decode("ascii", "replace").splitlines()
                      if re.fullmatch(r"[A-Za-z0-9+/]+=*", l))
        try:
            body = base64.b64decode(b64)
        except ValueError:
            return False
    # an issuer fingerprint subpacket: type 33, version 4, the fingerprint
    return b"\x21\x04" + bytes.fromhex(fpr) in body


def as_wanted(want, status, body):
    if want.startswith("key:"):
        return status == 200 and holds_fpr(body, want[4:])
    if want.startswith("text:"):
        return status == 200 and want[5:].encode() in body
    if want.startswith("!"):
        return status != int(want[1:])
    return status == int(want)


go = threading.Event()
t0 = 0.0
answers = [[] for _ in checks]


def poll(i):
    url, want = checks[i][1:3]
    host = checks[i][3] if len(checks[i]) > 3 else None
    go.wait()
    while True:
        sent = time.monotonic()
        if sent >= t0 + seconds:
            break
        status, body = request("GET", url, host=host)
        answers[i].append((time.monotonic() - t0, status,
                           as_wanted(want, status, body)))
        time.sleep(max(0.0, sent + every - time.monotonic()))


threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(checks))]
for t in threads:
    t.start()
body = open(trigger[2], "rb").read() if len(trigger) > 2 else None
t0 = time.monotonic()
go.set()
status, _ = request(trigger[0], trigger[1], body,
                    trigger[3] if len(trigger) > 3 else None)
took = time.monotonic() - t0
for t in threads:
    t.join()
with open(out, "w") as f:
    f.write("trigger %d %d\n" % (status, took * 1000))
    for c, a in zip(checks, answers):
        bad = [x for x in a if not x[2]]
        if not a or not a[-1][2]:
            ms = -1
        elif not bad:
            ms = a[0][0] * 1000
        else:
            ms = min(x[0] for x in a if x[2] and x[0] > bad[-1][0]) * 1000
        f.write("%s %d %d %s\n" % (c[0], ms, len(a),
                "%d@%d" % (bad[-1][1], bad[-1][0] * 1000) if bad else "-"))
EOF
}

# race_within OUT MS DESCRIPTION: ok when race_poll's trigger was
# answered 2xx and every check in OUT settled within MS of its sending;
# each check's time is a diag line.
race_within() {
	local st=0 name ms n bad
	read -r _ name ms <"$1" || { ok 1 "$3 (race_poll wrote nothing)"; return 1; }
	diag "$3: the request was answered $name after $ms ms"
	case $name in 2??) ;; *) st=1 ;; esac
	while read -r name ms n bad; do
		diag "  $name: settled after $ms ms ($n answers, last wrong one: $bad)"
		[ "$ms" -ge 0 ] && [ "$ms" -le "$2" ] || st=1
	done < <(tail -n +2 "$1")
	[ "$(wc -l <"$1")" -gt 1 ] || st=1
	ok "$st" "$3"
}

# --- signed removal requests ------------------------------------------------

# nonce: 32 random hex digits
nonce() {
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# statement FPR ADDRESSES [SERVER [DATE [NONCE]]]: the text of a removal
# request to sign; SERVER defaults to $AUTH, DATE to now.
statement() {
	printf 'keydir-request: remove\nserver: %s\nfingerprint: %s\naddresses: %s\nnonce: %s\ndate: %s\n' \
	    "${3:-$AUTH}" "$1" "$2" "${5:-$(nonce)}" "${4:-$(rfc3339)}"
}

# remove FILE: POST the file to $URL/api/v1/remove; prints the status
remove() {
	http POST "$URL/api/v1/remove" -H 'Content-Type: text/plain' \
	    --data-binary @"$1"
}

# state: the counts of keys, addresses, tokens, nonces and outbox rows in
# $DATA, who has which address (addr_owners), and every stored key's ETag
# (in fingerprint order): what a refused request must leave as it was.
state() {
	printf '%s %s %s\n' \
	    "$(state_of "$DATA" '"\(.keys) \(.addresses) \(.tokens.total) \(.nonces) \(.outbox.total)"')" \
	    "$(addr_owners "$DATA")" \
	    "$(keys_state "$DATA" '[.[].etag] | join(",")')"
}

# addr_owners DATADIR: who has which address: ADDR=FPR,... sorted by
# address, or - when no address is published.
addr_owners() {
	keys_state "$1" '[.[] | .fpr as $f | .addresses[] | "\(.address)=\($f)"]
	    | sort | if length == 0 then "-" else join(",") end'
}

# same_answers URL1 URL2 PATH...: how many of the PATHs both servers answer
# 200 with the same bytes and ETag; each that differs is a diag line.
same_answers() {
	local u1=$1 u2=$2 p c1 c2 e1 same=0
	shift 2
	for p; do
		c1=$(http GET "$u1/$p")
		cp "$T_DIR/body" "$T_DIR/same.body"
		e1=$(header ETag)
		c2=$(http GET "$u2/$p")
		if [ "$c1" = 200 ] && [ "$c2" = 200 ] &&
		    [ "$e1" = "$(header ETag)" ] &&
		    cmp -s "$T_DIR/same.body" "$T_DIR/body"; then
			same=$((same + 1))
		else
			diag "$p: $c1 $e1 / $c2 $(header ETag)" >&2
		fi
	done
	echo "$same"
}

# rfc3339 [SECONDS]: now plus SECONDS (default 0) as 2026-01-31T12:00:00Z.
rfc3339() {
	date -u -d "@$(($(date +%s) + ${1:-0}))" +%Y-%m-%dT%H:%M:%SZ
}

# past_second T: wait (bounded, 3 s) until the clock is past the unix second
# T; with `--set mail_rate=1s` a second mail to an address asked for at T
# then goes out.  The wait is for the server's rate limit, not an assertion.
past_second() {
	wait_for 3 "[ \"\$(date +%s)\" -gt $1 ]"
}

# kd_maintain NOW ARGS...: `keydird maintain --now NOW ARGS...` (ARGS: the
# server's --data-dir, --base-url, --smtp, --set ...).  Its summary line
# goes to MAINT_OUT; stderr to $T_DIR/maintain.log, checked for sanitizer
# reports at the end.  Returns maintain's exit status.
kd_maintain() {
	local now=$1 rc
	shift
	T_KD_LOGS+=("$T_DIR/maintain.log")
	MAINT_OUT=$("$KEYDIRD" maintain --now "$now" "$@" \
	    2>>"$T_DIR/maintain.log")
	rc=$?
	return "$rc"
}

# --- what the server holds ---------------------------------------------------
# Tests never read the database: they ask `keydird state` (JSON; README.md,
# "Inspecting a directory"), which may run while serve does, so the checks
# hold whatever the store's backend.  Every helper here ends the test
# (fatal) when keydird state fails, prints nothing where it must print
# something, or a jq filter fails or gives null or nothing: no comparison
# of what they print can pass on two empty strings.

# kd_state DATADIR [FPR | --keys | --outbox]: `keydird state` on DATADIR;
# its stderr goes to $T_DIR/state.log (checked for sanitizer reports).
kd_state() {
	local dir=$1 out rc
	shift
	out=$("$KEYDIRD" state --data-dir "$dir" "$@" 2>"$T_DIR/state.err")
	rc=$?
	cat "$T_DIR/state.err" >>"$T_DIR/state.log"
	[ "$rc" = 0 ] || fatal "keydird state ${*:+$* }on $dir failed (status $rc)" \
	    "$(tail -3 "$T_DIR/state.err")"
	# only the lists (--keys, --outbox) may be empty
	[ -n "$out" ] || [ "${1:-}" = --keys ] || [ "${1:-}" = --outbox ] ||
	    fatal "keydird state ${*:+$* }on $dir printed nothing"
	printf '%s\n' "$out"
}

# state_jq DATADIR FILTER [FPR | --keys | --outbox]: jq -r FILTER over
# what keydird state prints (a list as one array).
state_jq() {
	local dir=$1 f=$2 out res slurp=
	shift 2
	out=$(kd_state "$dir" "$@") || exit 1
	case ${1:-} in --keys | --outbox) slurp=-s ;; esac
	res=$(printf '%s' "$out" | jq $slurp -r \
	    "($f) | if . == null then error(\"null\") else . end" 2>&1) ||
	    fatal "jq '$f' over keydird state ${*:+$* }on $dir failed: $res"
	[ -n "$res" ] || fatal "jq '$f' over keydird state ${*:+$* }on $dir: no output"
	printf '%s\n' "$res"
}

# state_of DATADIR FILTER: FILTER over the counts, e.g. .outbox.unsent
state_of() {
	state_jq "$1" "$2"
}

# key_state DATADIR FPR FILTER: FILTER over what is stored for the key FPR
# (fatal if there is no such key), e.g. '.addresses | length'
key_state() {
	state_jq "$1" "$3" "$2"
}

# keys_state DATADIR FILTER: FILTER over the array of every key
keys_state() {
	state_jq "$1" "$2" --keys
}

# outbox_state DATADIR FILTER: FILTER over the array of outbox rows
outbox_state() {
	state_jq "$1" "$2" --outbox
}

# state_counts DATADIR: "keys addresses outbox tokens", the counts a
# refused request must not change.
state_counts() {
	state_of "$1" '"\(.keys) \(.addresses) \(.outbox.total) \(.tokens.total)"'
}

# sqlite_legacy_state DATADIR SQL: run SQL straight on DATADIR's SQLite
# database while serve runs (WAL), to simulate the rows an older keydird
# left behind: states today's keydird never writes, set up for `keydird
# republish` to repair (11-integrity).  The only direct database access
# left in the end-to-end tests; reads ask keydird state.  Fatal when
# sqlite3 fails (its exit status is checked, -bail stops at the first
# error).
sqlite_legacy_state() {
	local out
	out=$(sqlite3 -bail -cmd '.timeout 5000' "$1/keydir.db" "$2" 2>&1) ||
	    fatal "sqlite_legacy_state: sqlite3 failed: $out"
}

# fatal MESSAGE...: end the test here with "not ok - fatal: MESSAGE", the
# plan and a failing status, also when called inside $(...): the subshell
# signals this script's shell (T_MAIN), whose USR1 trap is t_fatal.
fatal() {
	printf '%s\n' "$*" >>"$T_DIR/fatal"
	kill -s USR1 "$T_MAIN"
	exit 1
}

# t_fatal: the USR1 trap.  Writes to the script's own stdout and stderr
# (fds 7 and 8), whatever redirection was active when the signal came.
t_fatal() {
	{
		ok 1 "fatal: $(head -1 "$T_DIR/fatal" 2>/dev/null)"
		tail -n +2 "$T_DIR/fatal" 2>/dev/null | sed 's/^/# /'
		done_testing
	} >&7 2>&8
}

# --- the end -----------------------------------------------------------------

# sanitizer_check: stop every keydird (SIGTERM, so LeakSanitizer runs) and
# fail when a log holds a sanitizer report.
sanitizer_check() {
	local pid log bad=0
	for pid in "${T_KD_PIDS[@]+"${T_KD_PIDS[@]}"}"; do
		stop_pid "$pid" TERM
	done
	for log in $(printf '%s\n' "${T_KD_LOGS[@]+"${T_KD_LOGS[@]}"}" |
	    sort -u); do
		if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		    "$log" 2>/dev/null; then
			bad=1
			diag "sanitizer report in $log:"
			grep -E -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
			    "$log" | head -60 | sed 's/^/#   /'
		fi
	done
	ok "$bad" "no sanitizer report in the keydird logs"
}

# done_testing: the sanitizer check, the plan, exit with the failures.
done_testing() {
	[ "$T_DONE" = 1 ] && return
	T_DONE=1
	sanitizer_check
	echo "1..$T_N"
	[ "$T_FAIL" -gt 254 ] && T_FAIL=254
	exit "$T_FAIL"
}

t_cleanup() {
	local rc=$? pid h
	if [ "$T_DONE" != 1 ]; then
		ok 1 "the script ended before done_testing (status $rc)"
		T_DONE=1
		sanitizer_check
		echo "1..$T_N"
		rc=1
	fi
	for pid in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		stop_pid "$pid" TERM >/dev/null 2>&1
	done
	for h in "${T_HOMES[@]+"${T_HOMES[@]}"}"; do
		GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
	done
	for h in ${PG_DIR:+"$PG_DIR"} "${PG_DIRS[@]+"${PG_DIRS[@]}"}"; do
		"$E2E_ROOT/tests/pg/cluster.sh" stop "$h/c" >/dev/null 2>&1
		rmdir "$h" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T_DIR" >&2
	else
		rm -rf "$T_DIR"
	fi
	exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM
trap t_fatal USR1
T_KD_LOGS+=("$T_DIR/state.log")	# keydird state's stderr
