#!/bin/bash
# 42-nodes-kill: two keydird nodes on one PostgreSQL database, two
# clients uploading keys through the first, which is killed with SIGKILL
# mid-way; the clients then go on through the second, as behind a load
# balancer.  Every upload a node acknowledged (200) is there, found by
# fingerprint on the surviving node, and the killed node, restarted,
# serves them too.
# The first node also has five confirmation mails leased, stuck in the
# middle of sending them to an SMTP server that stalls after EHLO, when
# it dies.  While it lives the second node (with a working SMTP server)
# takes none of them; once it is killed the second sends all five within
# seconds (its liveness lock gone, not after the 10-minute lease), each
# exactly once.
. "$(dirname "$0")/lib.sh"

own_cluster DBURL
OPTS=(--set "database=$DBURL" --set max_mails_per_upload=0
    --set mail_global_rate=0 --set mail_rate=1s)
KEYS=$T_DIR/keys
craft_certs "$KEYS" 60 nk || bail "pgpcraft makes 60 certs"
# one key with five addresses: five confirmation mails in one unit
MAILS=(mk-1@example.org mk-2@example.org mk-3@example.org mk-4@example.org
    mk-5@example.org)
PYTHONPATH=$E2E_ROOT/tests/e2e "$PY" - "$T_DIR/mk.asc" "${MAILS[@]}" <<'PY' ||
import sys
import pgpcraft as pc
key = pc.Key("mk/1")
sub = pc.Subkey(pc.Cv25519Key("mk/1/enc"), 0x0C, "no")
uids = [("MK <%s>" % a).encode() for a in sys.argv[2:]]
with open(sys.argv[1], "w") as f:
    f.write(pc.armor(pc.cert(key, uids, [sub])))
PY
    bail "pgpcraft makes a key with five addresses"

# node 1's SMTP server: greets, answers EHLO, then never again (each
# attempt hangs for MAIL_SEND_SECS); a line in stall.log per connection
STALL=$(free_port)
"$PY" - "$STALL" "$T_DIR/stall.log" <<'PY' &
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
def serve(c):
    with open(sys.argv[2], "a") as log:
        log.write("connected\n")
    c.sendall(b"220 stall ESMTP\r\n")
    for line in c.makefile("rb"):
        if line[:4].upper() in (b"EHLO", b"HELO"):
            c.sendall(b"250 stall\r\n")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
T_PIDS+=($!)
wait_until 20 port_open "$STALL" || bail "the stalling SMTP server starts"
SP=$(free_port)
start_sink "$SP" "$T_DIR/smtp"
MD=$T_DIR/smtp/Maildir

# outbox JQ: jq -r JQ over the shared outbox (one array)
outbox() {
	"$KEYDIRD" state --data-dir "$T_DIR/node1" --set "database=$DBURL" \
	    --outbox 2>>"$T_DIR/state.log" | jq -rs "$1"
}
# sent: how many of the five went out (the sink's deliveries)
sent() {
	[ -f "$MD/deliveries" ] && wc -l <"$MD/deliveries" | tr -d ' ' || echo 0
}

P1=$(free_port)
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1.log" "${OPTS[@]}" \
    --smtp "smtp://127.0.0.1:$STALL" || bail "node 1 starts"
U1=$KD_URL
K1=$KD_PID
is "$(vks_upload "$U1" "$T_DIR/mk.asc")" 200 "a key with five addresses uploaded on node 1"
is "$(vks_request "$U1" "$(jq -r .token "$T_DIR/body")" "${MAILS[@]}")" 200 \
    "... five confirmations asked for"
wait_for 20 "[ \"\$(outbox '[.[] | select(.leased_by != null)] | length')\" = 5 ]"
OWNER1=$(outbox '[.[] | .leased_by] | unique | join(" ")')
like "$OWNER1" '^node@[0-9a-f]{10}$' "node 1 leased all five, as its node ($OWNER1)"
wait_for 20 "[ -s '$T_DIR/stall.log' ]"
ok $? "node 1 is sending the first to its stalling SMTP server"

node_dir "$T_DIR/node1" "$T_DIR/node2" || bail "node 2's directory"
P2=$(free_port)
start_keydird "$P2" "$T_DIR/node2" "$T_DIR/n2.log" "${OPTS[@]}" \
    --smtp "smtp://127.0.0.1:$SP" || bail "node 2 starts"
U2=$KD_URL
ok 0 "two nodes on one database"
sleep 3		# node 2's drain looks every 2 s
is "$(sent)/$(outbox '[.[] | select(.leased_by == "'"$OWNER1"'")] | length')" \
    0/5 "node 2 takes none of a live node's leases: none sent, five still node 1's"

# client W FIRST LAST: upload keys FIRST..LAST through node 1, and
# through node 2 once node 1 does not answer; each until acknowledged
client() {
	local w=$1 i fpr addr code url=$U1
	while read -r i fpr addr; do
		[ "$i" -ge "$2" ] && [ "$i" -le "$3" ] || continue
		while :; do
			code=$(curl -s -o "$T_DIR/$w.body" -w '%{http_code}' \
			    --max-time 20 -H 'Content-Type: application/json' \
			    --data-binary @"$KEYS/$i.json" \
			    "$url/vks/v1/upload" 2>/dev/null)
			if [ "$code" = 200 ]; then
				echo "$fpr" >>"$T_DIR/acked"
				break
			fi
			url=$U2		# the balancer's next node
			sleep 0.1
		done
	done <"$KEYS/list"
}
: >"$T_DIR/acked"
client a 1 30 &
CA=$!
client b 31 60 &
CB=$!
wait_for 60 "[ \$(wc -l <'$T_DIR/acked') -ge 10 ]"
is "$(sent)" 0 "nothing sent yet: node 1 still holds the five"
T_KILL=$(date +%s%N)
stop_pid "$K1" KILL
N_AT_KILL=$(wc -l <"$T_DIR/acked")
ok 0 "node 1 killed with SIGKILL after $N_AT_KILL acknowledged uploads"
wait_for 30 "[ \$(sent) -ge 5 ]"
T_SENT=$(date +%s%N)
MS=$(((T_SENT - T_KILL) / 1000000))
diag "node 1's five leased mails went out from node 2 $MS ms after the kill"
ok "$([ "$(sent)" -ge 5 ] && [ "$MS" -le 5000 ]; echo $?)" \
    "node 1's leased mails sent by node 2 within 5 s of the kill ($MS ms)"
wait "$CA" "$CB"
is "$(sort -u "$T_DIR/acked" | wc -l | tr -d ' ')" 60 \
    "all 60 uploads acknowledged in the end (through node 2 after the kill)"
missing=0
while read -r fpr; do
	[ "$(http GET "$U2/vks/v1/by-fingerprint/$fpr")" = 200 ] ||
	    missing=$((missing + 1))
done < <(sort -u "$T_DIR/acked")
is "$missing" 0 "every acknowledged upload is found on node 2"
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1b.log" "${OPTS[@]}" \
    --smtp "smtp://127.0.0.1:$SP" ||
    bail "node 1 restarts"
missing=0
while read -r fpr; do
	[ "$(http GET "$U1/vks/v1/by-fingerprint/$fpr")" = 200 ] ||
	    missing=$((missing + 1))
done < <(sort -u "$T_DIR/acked")
is "$missing" 0 "... and on node 1, restarted"
sleep 3		# a mail sent twice would be there by now
awk '{print $2}' "$MD/deliveries" | sort >"$T_DIR/got"
printf '%s\n' "${MAILS[@]}" | sort >"$T_DIR/want"
cmp -s "$T_DIR/got" "$T_DIR/want"
ok $? "each of the five delivered exactly once: $(tr '\n' ' ' <"$T_DIR/got")"
is "$(grep -c 'mail to mk-.* sent' "$T_DIR/n2.log")" 5 "... all by node 2"
is "$(outbox '[.[] | select(.sent == null)] | length')" 0 \
    "the outbox says all five sent"
done_testing
