#!/bin/bash
# 40-nodes: three keydird nodes on one PostgreSQL database (a throwaway
# cluster, tests/pg/cluster.sh), as behind a load balancer: each node has
# its own data directory (lock, Maildir) and the same server key and
# session key (copied from the first, as an operator would).  A key
# uploaded on the first node is asked for on the second and confirmed on
# the third, and every node answers it; two keys confirmed for one
# address at once on two nodes, each POST carrying what its page said
# confirming does: exactly one publishes, the other gets a fresh page
# naming the key that won; a removal on one node is seen by the others
# within a second (each node has its lookup cache; 44-nodes-cache times it).
. "$(dirname "$0")/lib.sh"

own_cluster URL
ok 0 "a throwaway PostgreSQL cluster"
DB=(--set "database=$URL" --set mail_rate=1s)

# node N: its data directory, port and URL
declare -a NP NU ND
for n in 1 2 3; do
	ND[$n]=$T_DIR/node$n
	NP[$n]=$(free_port)
done
start_keydird "${NP[1]}" "${ND[1]}" "$T_DIR/n1.log" "${DB[@]}" ||
    bail "node 1 starts"
NU[1]=$KD_URL
# the keys every node must share: the server key (submissions, its
# fingerprint in answers) and the session key (upload tokens)
for n in 2 3; do
	mkdir -p "${ND[$n]}"
	cp -p "${ND[1]}/server-key.pgp" "${ND[1]}/session.key" "${ND[$n]}/"
	t_own "${ND[$n]}"
	start_keydird "${NP[$n]}" "${ND[$n]}" "$T_DIR/n$n.log" "${DB[@]}" ||
	    bail "node $n starts"
	NU[$n]=$KD_URL
done
ok 0 "three nodes on one database"
fp() { curl -s -D - -o /dev/null "$1/api/v1/server-key" | tr -d '\r' |
    sed -n 's/^Keydir-Fingerprint: //Ip'; }
is "$(fp "${NU[2]}") $(fp "${NU[3]}")" "$(fp "${NU[1]}") $(fp "${NU[1]}")" \
    "... with one server key"

mk_gnupghome GH "${NP[1]}"
A=$(gen_key "$GH" "Ana <ana@example.org>") || bail "a key for ana"
g "$GH" --armor --export "$A" >"$T_DIR/ana.asc"

# upload on node 1, ask on node 2, confirm on node 3
is "$(vks_upload "${NU[1]}" "$T_DIR/ana.asc")" 200 "uploaded on node 1"
TOK=$(jq -r .token "$T_DIR/body")
is "$(vks_request "${NU[2]}" "$TOK" ana@example.org)" 200 \
    "its upload token works on node 2"
mailed() {	# the newest link to ADDR in any node's Maildir
	local f
	f=$(grep -lis "^To: *<\?$1>\?\s*$" "$T_DIR"/node*/mail/new/* \
	    "$T_DIR"/node*/mail/cur/* 2>/dev/null | xargs -r ls -t | head -1)
	[ -n "$f" ] && link_of "$f"
}
wait_for 20 "[ -n \"\$(mailed ana@example.org)\" ]"
L=$(mailed ana@example.org)
L3=${NU[3]}${L#${NU[2]}}
is "$(confirm "$L3")" 200 "confirmed on node 3"
for n in 1 2 3; do
	is "$(http GET "${NU[$n]}/vks/v1/by-email/ana@example.org")" 200 \
	    "node $n answers ana@example.org"
done

# two keys for one address, confirmed at once on two nodes
B1=$(gen_key "$GH" "Bo One <bo@example.org>") || bail "bo's first key"
B2=$(gen_key "$GH" "Bo Two <bo@example.org>") || bail "bo's second key"
g "$GH" --armor --export "$B1" >"$T_DIR/b1.asc"
g "$GH" --armor --export "$B2" >"$T_DIR/b2.asc"
is "$(vks_upload "${NU[1]}" "$T_DIR/b1.asc")" 200 "bo's first key uploaded"
T1=$(jq -r .token "$T_DIR/body")
vks_request "${NU[1]}" "$T1" bo@example.org >/dev/null
wait_for 20 "[ -n \"\$(mailed bo@example.org)\" ]"
LB1=$(mailed bo@example.org)
sleep 1.1	# mail_rate=1s
is "$(vks_upload "${NU[2]}" "$T_DIR/b2.asc")" 200 "bo's second key uploaded"
T2=$(jq -r .token "$T_DIR/body")
vks_request "${NU[2]}" "$T2" bo@example.org >/dev/null
wait_for 20 "[ \"\$(mailed bo@example.org)\" != '$LB1' ]"
LB2=$(mailed bo@example.org)
ok "$([ "$LB1" != "$LB2" ]; echo $?)" "two confirmation links for bo@"
# each page says what confirming does (bo@ is published for no key yet)
effects() { http GET "$1" >/dev/null;
    sed -n 's/.*name="effects" value="\([^"]*\)".*/\1/p' "$T_DIR/body" | head -1; }
E1=$(effects "${NU[1]}/verify/${LB1##*/}")
E2=$(effects "${NU[2]}/verify/${LB2##*/}")
like "$E1 $E2" '^[0-9a-f]{32} [0-9a-f]{32}$' "both pages carry their effects"
curl -s -o "$T_DIR/r1" -w '%{http_code}' -X POST --data "effects=$E1" \
    "${NU[1]}/verify/${LB1##*/}" >"$T_DIR/c1" &
p1=$!
curl -s -o "$T_DIR/r2" -w '%{http_code}' -X POST --data "effects=$E2" \
    "${NU[2]}/verify/${LB2##*/}" >"$T_DIR/c2" &
p2=$!
wait $p1 $p2
won=0
grep -q 'is now published' "$T_DIR/r1" && won=$((won + 1))
grep -q 'is now published' "$T_DIR/r2" && won=$((won + 1))
is "$won" 1 "confirmed at once on nodes 1 and 2: exactly one publishes"
lost=$(grep -L 'is now published' "$T_DIR/r1" "$T_DIR/r2")
LOST=$(sed 's/<[^>]*>//g' "$lost" | tr -s ' \n' ' ')
like "$LOST" "Nothing was published: what confirming does has changed" \
    "... the other publishes nothing and gets a fresh page"
http GET "${NU[3]}/vks/v1/by-email/bo@example.org" >/dev/null
owner=$(g "$GH" --import-options show-only --import --with-colons \
    <"$T_DIR/body" 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
ok "$([ "$owner" = "$B1" ] || [ "$owner" = "$B2" ]; echo $?)" \
    "node 3 answers bo@ with the winner's key"
like "$(echo "$LOST" | tr -d ' ')" "Nowpublished$owner" \
    "... which the loser's page names as the key published now"

# a removal asked on node 2, done on node 1, seen by every node within a
# second (each has its lookup cache; 44-nodes-cache measures the time)
N=$(grep -lis "^To: *<\?ana@example.org>\?\s*$" "$T_DIR"/node*/mail/new/* \
    2>/dev/null | wc -l)
http POST "${NU[2]}/api/v1/manage" -H 'Content-Type: application/json' \
    --data '{"address": "ana@example.org"}' >/dev/null
wait_for 20 "[ \$(grep -lis '^To: *<\\?ana@example.org>\\?\\s*\$' $T_DIR/node*/mail/new/* 2>/dev/null | wc -l) -gt $N ]"
F=$(grep -lis "^To: *<\?ana@example.org>\?\s*$" "$T_DIR"/node*/mail/new/* |
    xargs ls -t | head -1)
ML=$(mail_link "$F" manage)
is "$(http POST "${NU[1]}/manage/${ML##*/}")" 200 "removed through node 1"
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 404 ]; }
for n in 1 2 3; do
	wait_until 1 gone "${NU[$n]}/vks/v1/by-email/ana@example.org"
	ok $? "node $n no longer answers ana@example.org (within a second)"
done
done_testing
