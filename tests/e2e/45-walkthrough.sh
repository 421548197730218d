#!/bin/bash
# 45-walkthrough: README's "From `make run` to three nodes", run as
# written.  A directory as `make run` leaves it (SQLite in var/, a key
# published through it), then the README's block between the
# walkthrough markers, on a throwaway PostgreSQL cluster (DB) and ports
# of this test's own (8080..8083 moved), as the account keydird runs as.
# Then what the README promises: the old key answered through the proxy
# and by every node, an upload through the proxy confirmed by the link
# of its mail (naming the proxy), and lookups going on with a node
# killed.
. "$(dirname "$0")/lib.sh"

[ -x /usr/sbin/nginx ] || bail "nginx is missing (make deps-test)"
own_cluster DB

# the working directory as after `make run`: build/keydird, var/
W=$T_DIR/walk
mkdir -p "$W/build" "$W/var"
ln -s "$KEYDIRD_BIN" "$W/build/keydird"
t_own "$W"
P=$(free_port)
# make run is SQLite's, under KD_STORE=pg too
RUN_KD=$KEYDIRD_BIN
[ -z "$T_USER" ] || RUN_KD=$T_DIR/bin/keydird
KEYDIRD=$RUN_KD start_keydird "$P" "$W/var" "$T_DIR/run.log" ||
    bail "make run's keydird"
mk_gnupghome GH "$P"
A=$(gen_key "$GH" "Ada <ada@example.org>") || bail "a key"
g "$GH" --armor --export "$A" >"$T_DIR/ada.asc"
publish "$KD_URL" "$W/var/mail" "$T_DIR/ada.asc" ada@example.org
ok $? "make run's directory: ada@example.org published"
stop_pid "$KD_PID"
ok $? "make run stopped (Ctrl-C)"

# the README's block, ports 8080..8083 moved to BASE0..BASE3: four ports
# from 10000 to 31993, below the kernel's ephemeral range (32768 up),
# that nothing holds now (bound, not only listened on)
ports_free() {
	"$PY" -c 'import socket, sys
for p in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", int(sys.argv[1] + str(p))))
    s.close()' "$1" 2>/dev/null
}
BASE=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	b=$((RANDOM % 2200 + 1000))
	ports_free "$b" && { BASE=$b; break; }
done
[ -n "$BASE" ] || bail "no four free ports for README's block"
sed -n '/<!-- walkthrough:begin -->/,/<!-- walkthrough:end -->/p' \
    "$E2E_ROOT/README.md" | sed '1,2d; $d' | sed '$d' |
    sed "s/127\.0\.0\.1:808\([0-3]\|\\\$n\)/127.0.0.1:${BASE}\1/g" \
    >"$T_DIR/walk.sh"
like "$(head -1 "$T_DIR/walk.sh")" '^# move the directory' \
    "README's walkthrough block found"
like "$(tail -1 "$T_DIR/walk.sh")" 'nginx' "... up to starting the proxy"
! grep -q '127\.0\.0\.1:808' "$T_DIR/walk.sh" ||
    bail "a port of README's block was not moved (walk.sh)"
AS=()
[ -z "$T_USER" ] || AS=(setpriv --reuid="$(id -u "$T_USER")" \
    --regid="$(id -g "$T_USER")" --clear-groups --)
(cd "$W" && DB=$DB "${AS[@]}" bash -e "$T_DIR/walk.sh") \
    >"$T_DIR/walk.out" 2>&1
ok $? "the block ran without an error" || diag "$(cat "$T_DIR/walk.out")"
# what it started, for the cleanup (a node's shell may not have run
# keydird yet: waited for)
node_pid() {
	pgrep -f -- "keydird serve .*--listen 127.0.0.1:${BASE}$1 " | head -1
}
for n in 1 2 3; do
	wait_for 10 "[ -n \"\$(node_pid $n)\" ]"
	NPID[$n]=$(node_pid "$n")
	[ -z "${NPID[$n]}" ] || T_PIDS+=("${NPID[$n]}")
	T_KD_LOGS+=("$W/node$n.log")
done
LBPID=$(cat "$W/lb.pid" 2>/dev/null)
[ -z "$LBPID" ] || T_PIDS+=("$LBPID")
LB=http://127.0.0.1:${BASE}0
for n in 1 2 3; do
	wait_until 30 kd_up "${NPID[$n]:-0}" "http://127.0.0.1:${BASE}$n"
	ok $? "node $n answers" ||
	    diag "pid ${NPID[$n]:-none}; node$n.log: $(tail -20 "$W/node$n.log")"
done
wait_until 10 curl -sf -o /dev/null "$LB/"
ok $? "the proxy answers"

# the key make run published: through the proxy and on each node
is "$(http GET "$LB/vks/v1/by-email/ada@example.org")" 200 \
    "ada@ through the proxy"
for n in 1 2 3; do
	is "$(http GET "http://127.0.0.1:${BASE}$n/vks/v1/by-fingerprint/$A")" \
	    200 "ada's key on node $n"
done
is "$(http GET "$LB/vks/v1/by-fingerprint/$A")" 200 "the key itself"
like "$(body)" 'BEGIN PGP PUBLIC KEY BLOCK' "... armored"

# a new key through the proxy: its mail names the proxy, any node sends it
B=$(gen_key "$GH" "Bea <bea@example.org>") || bail "bea's key"
g "$GH" --armor --export "$B" >"$T_DIR/bea.asc"
is "$(vks_upload "$LB" "$T_DIR/bea.asc")" 200 "bea's key uploaded via the proxy"
TOK=$(jq -r .token "$T_DIR/body")
is "$(vks_request "$LB" "$TOK" bea@example.org)" 200 "verification asked"
bea_link() {
	local f
	f=$(grep -l -F "bea@example.org" "$W"/node*/mail/new/* \
	    "$W"/node*/mail/cur/* 2>/dev/null | head -1)
	[ -n "$f" ] && link_of "$f"
}
wait_for 20 "[ -n \"\$(bea_link)\" ]"
L=$(bea_link)
like "$L" "^$LB/verify/" "the link names the public address"
is "$(confirm "$L")" 200 "confirmed through the proxy"
for n in 1 2 3; do
	wait_until 2 curl -sf -o /dev/null \
	    "http://127.0.0.1:${BASE}$n/vks/v1/by-email/bea@example.org"
	ok $? "node $n answers bea@ within a second or two"
done

# a node killed: the proxy goes on with the others
[ -n "${NPID[2]}" ] || bail "node 2's process was not found"
stop_pid "${NPID[2]}" KILL
fails=0
for i in $(seq 1 12); do
	[ "$(http GET "$LB/vks/v1/by-email/ada@example.org")" = 200 ] ||
	    fails=$((fails + 1))
done
is "$fails" 0 "12 lookups through the proxy with node 2 killed: all answered"
kill "$LBPID" 2>/dev/null

done_testing
