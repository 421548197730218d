#!/bin/bash
# 42-nodes-kill: two keydird nodes on one PostgreSQL database, two
# clients uploading keys through the first, which is killed with SIGKILL
# mid-way; the clients then go on through the second, as behind a load
# balancer.  Every upload a node acknowledged (200) is there, found by
# fingerprint on the surviving node, and the killed node, restarted,
# serves them too.
. "$(dirname "$0")/lib.sh"

command -v psql >/dev/null || bail "psql is missing (make deps-test)"
PGD=$(mktemp -d "${TMPDIR:-/tmp}/keydir-nodes.XXXXXX") && chmod 755 "$PGD" ||
    bail "a directory for PostgreSQL"
PG_DIRS+=("$PGD")	# lib.sh stops it at the end, after the nodes
DBURL=$("$E2E_ROOT/tests/pg/cluster.sh" start "$PGD/c") ||
    bail "a PostgreSQL cluster (tests/pg/cluster.sh)"
OPTS=(--set "database=$DBURL")
KEYS=$T_DIR/keys
craft_certs "$KEYS" 60 nk || bail "pgpcraft makes 60 certs"

P1=$(free_port)
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1.log" "${OPTS[@]}" ||
    bail "node 1 starts"
U1=$KD_URL
K1=$KD_PID
mkdir -p "$T_DIR/node2"
cp -p "$T_DIR/node1/server-key.pgp" "$T_DIR/node1/session.key" \
    "$T_DIR/node2/"
t_own "$T_DIR/node2"
P2=$(free_port)
start_keydird "$P2" "$T_DIR/node2" "$T_DIR/n2.log" "${OPTS[@]}" ||
    bail "node 2 starts"
U2=$KD_URL
ok 0 "two nodes on one database"

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
stop_pid "$K1" KILL
N_AT_KILL=$(wc -l <"$T_DIR/acked")
ok 0 "node 1 killed with SIGKILL after $N_AT_KILL acknowledged uploads"
wait "$CA" "$CB"
is "$(sort -u "$T_DIR/acked" | wc -l | tr -d ' ')" 60 \
    "all 60 uploads acknowledged in the end (through node 2 after the kill)"
missing=0
while read -r fpr; do
	[ "$(http GET "$U2/vks/v1/by-fingerprint/$fpr")" = 200 ] ||
	    missing=$((missing + 1))
done < <(sort -u "$T_DIR/acked")
is "$missing" 0 "every acknowledged upload is found on node 2"
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1b.log" "${OPTS[@]}" ||
    bail "node 1 restarts"
missing=0
while read -r fpr; do
	[ "$(http GET "$U1/vks/v1/by-fingerprint/$fpr")" = 200 ] ||
	    missing=$((missing + 1))
done < <(sort -u "$T_DIR/acked")
is "$missing" 0 "... and on node 1, restarted"
done_testing
