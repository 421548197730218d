#!/bin/bash
# 46-nodes-maint: scheduled maintenance runs on one node at a time.  Two
# keydird nodes on one PostgreSQL database run a pass every second
# (maintain_every=1s); a session of psql then holds the nonces table
# locked for six seconds, so the pass that gets there waits inside its
# clean-up unit.  Only one node's pass may be waiting at any moment: the
# other node, finding the maintenance turn taken, skips its passes (and
# says so) until the first is through.  Without the turn both passes
# would wait on the table at once, which the check below sees.
. "$(dirname "$0")/lib.sh"

own_cluster URL
OPTS=(--set "database=$URL" --set maintain_every=1s)

P1=$(free_port)
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1.log" "${OPTS[@]}" ||
    bail "node 1 starts"
node_dir "$T_DIR/node1" "$T_DIR/node2" || bail "node 2's directory"
P2=$(free_port)
start_keydird "$P2" "$T_DIR/node2" "$T_DIR/n2.log" "${OPTS[@]}" ||
    bail "node 2 starts"
ok 0 "two nodes on one database, maintenance every second"
sleep 2

# keydird's sessions waiting for a lock (the nodes' pool connections)
waiting() {
	psql -Atq "$URL" -c "SELECT count(*) FROM pg_stat_activity WHERE
	    datname = current_database() AND wait_event_type = 'Lock' AND
	    application_name <> 'psql'"
}
psql -q "$URL" -c "BEGIN; LOCK TABLE nonces IN ACCESS EXCLUSIVE MODE;
    SELECT pg_sleep(6); COMMIT;" >/dev/null 2>&1 &
LOCKER=$!
T_PIDS+=("$LOCKER")
sleep 1
max=0 seen=""
for i in $(seq 1 20); do
	n=$(waiting)
	seen="$seen$n"
	[ "${n:-0}" -gt "$max" ] && max=$n
	sleep 0.2
done
is "$max" 1 "one node's pass at a time waited on the locked table ($seen)"
wait "$LOCKER"
# once the table is free the waiting pass ends, and passes go on
wait_for 10 "[ \"\$(waiting)\" = 0 ]"
ok $? "no pass waits once the table is free"
skips=$(cat "$T_DIR/n1.log" "$T_DIR/n2.log" |
    grep -c "another node's pass is running")
ok "$([ "$skips" -ge 2 ]; echo $?)" \
    "the other node skipped its passes meanwhile ($skips times)"
# a pass that failed says "maintenance: WHY"; one that did work, a count
is "$(grep -h 'maintenance: ' "$T_DIR/n1.log" "$T_DIR/n2.log" |
    grep -v "another node's pass is running" |
    grep -vc 'maintenance: [0-9]')" 0 "no maintenance pass failed"
done_testing
