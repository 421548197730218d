#!/bin/bash
# 41-nodes-mail: two keydird nodes on one PostgreSQL database drain one
# outbox.  200 confirmation mails are queued through the first node while
# the SMTP server answers 451 to everything, so they wait in the outbox;
# a second node starts; then the server takes mail (slowly), and both
# nodes' mailers, retrying, claim
# rows at once (FOR UPDATE SKIP LOCKED leases): every mail is delivered
# exactly once, and both nodes delivered some.
. "$(dirname "$0")/lib.sh"

own_cluster URL
SP=$(free_port)
start_sink "$SP" "$T_DIR/smtp"
MD=$T_DIR/smtp/Maildir
echo "tempfail *" >"$SINK_CTL"
OPTS=(--set "database=$URL" --smtp "smtp://127.0.0.1:$SP"
    --set mail_retry_min=1s --set mail_retry_max=2s
    --set max_mails_per_upload=0 --set mail_global_rate=0
    --set mail_rate=1s)
P1=$(free_port)
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1.log" "${OPTS[@]}" ||
    bail "node 1 starts"
U1=$KD_URL
ok 0 "node 1 on the database, the SMTP server refusing for now"

# two keys of 100 addresses each: 200 confirmation mails
mk_gnupghome GH "$P1"
want=$T_DIR/want
: >"$want"
for k in 1 2; do
	F=$(gen_key "$GH" "K$k <k$k-0@example.org>") || bail "key $k"
	echo "k$k-0@example.org" >>"$want"
	for i in $(seq 1 99); do
		g "$GH" --quick-add-uid "$F" "K$k <k$k-$i@example.org>" \
		    >/dev/null 2>&1 || bail "a user ID for key $k"
		echo "k$k-$i@example.org" >>"$want"
	done
	g "$GH" --armor --export "$F" >"$T_DIR/k$k.asc"
	is "$(vks_upload "$U1" "$T_DIR/k$k.asc")" 200 "key $k uploaded on node 1"
	TOK=$(jq -r .token "$T_DIR/body")
	mapfile -t addrs < <(grep "^k$k-" "$want")
	is "$(vks_request "$U1" "$TOK" "${addrs[@]}")" 200 \
	    "... 100 confirmations asked for"
	is "$(jq -r .mails "$T_DIR/body")" 100 "... 100 mails queued"
done
sort -o "$want" "$want"

# the second node starts on the full outbox: its mailer's first pass
# meets the refusing server too, so both now retry every second or two
node_dir "$T_DIR/node1" "$T_DIR/node2" || bail "node 2's directory"
P2=$(free_port)
start_keydird "$P2" "$T_DIR/node2" "$T_DIR/n2.log" "${OPTS[@]}" ||
    bail "node 2 starts"
ok 0 "node 2 on the same database"


# the SMTP server takes mail now, a little slowly: both nodes drain
echo "delay 0.02" >"$SINK_CTL"
wait_for 180 "[ \$(wc -l <'$MD/deliveries') -ge 200 ]"
sleep 3		# anything delivered twice would arrive by now
is "$(wc -l <"$MD/deliveries" | tr -d ' ')" 200 "200 mails delivered"
awk '{print $2}' "$MD/deliveries" | sort >"$T_DIR/got"
is "$(sort -u "$T_DIR/got" | wc -l | tr -d ' ')" 200 \
    "... to 200 different recipients: none twice"
cmp -s "$T_DIR/got" "$want"
ok $? "... exactly the addresses asked for"
n1=$(grep -c 'mail to .* sent' "$T_DIR/n1.log")
n2=$(grep -c 'mail to .* sent' "$T_DIR/n2.log")
ok "$([ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && [ $((n1 + n2)) -eq 200 ]; echo $?)" \
    "both nodes delivered ($n1 and $n2)"
done_testing
