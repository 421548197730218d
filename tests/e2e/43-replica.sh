#!/bin/bash
# 43-replica: lookups from a streaming replica (database_read, README
# "PostgreSQL").  A throwaway primary and a hot standby made from it with
# pg_basebackup -R (tests/pg/cluster.sh replica); two keydird nodes with
# database = the primary and database_read = the replica, node 1 without
# a lookup cache (every lookup goes to a database), node 2 with one.
# A key published through the nodes is found by every kind of lookup;
# on node 1 each kind runs its statement on the replica (a keydird-read
# backend there), and N lookups make at least N table scans on it.  With
# the replica's replay paused, an address removed through keydird is 404
# on both nodes within a second of the removal being sent (a stale
# replica is not used: the primary answers), and stays so; with the
# replica stopped every lookup still answers, from the primary; started
# again, the replica serves node 1's lookups again.  Starts its own
# cluster, so it runs under plain `make e2e` too.
. "$(dirname "$0")/lib.sh"

CL=$E2E_ROOT/tests/pg/cluster.sh
own_cluster URL
PGR=$(mktemp -d "${TMPDIR:-/tmp}/keydir-nodes.XXXXXX") && chmod 755 "$PGR" ||
    bail "a directory for the replica"
PG_DIRS+=("$PGR")
RURL=$("$CL" replica "$PGD/c" "$PGR/c") ||
    bail "a streaming replica (tests/pg/cluster.sh replica)"
ok 0 "a throwaway primary and a streaming replica of it"
q() { psql -X -q -At "$@" 2>/dev/null; }
is "$(q "$RURL" -c 'SELECT pg_is_in_recovery()')" t \
    "... the replica is a hot standby"
is "$(q "$URL" -c "SELECT state FROM pg_stat_replication")" streaming \
    "... streaming from the primary"

SP=$(free_port)
start_smtp "$SP" "$T_DIR/smtp" || bail "aiosmtpd starts"
MD=$T_DIR/smtp/Maildir
OPTS=(--set "database=$URL" --set "database_read=$RURL"
    --smtp "smtp://127.0.0.1:$SP" --set mail_rate=1s
    --set wkd_domains=example.org)
P1=$(free_port)
start_keydird "$P1" "$T_DIR/node1" "$T_DIR/n1.log" "${OPTS[@]}" \
    --set lookup_cache=0 || bail "node 1 (no lookup cache) starts"
U1=$KD_URL
node_dir "$T_DIR/node1" "$T_DIR/node2" || bail "node 2's directory"
P2=$(free_port)
start_keydird "$P2" "$T_DIR/node2" "$T_DIR/n2.log" "${OPTS[@]}" \
    --set lookup_cache=16M || bail "node 2 (a lookup cache) starts"
U2=$KD_URL
ok 0 "two nodes reading from the replica, node 2 with a lookup cache"

# kim: two addresses, a back-signed signing subkey, an encryption subkey
craft() { "$PY" "$E2E_ROOT/tests/e2e/pgpcraft.py" "$@"; }
craft cert --seed kim --uid 'Kim <kim@example.org>' \
    --uid 'Kim <kim@work.example.org>' --sub kim-sig:02:yes \
    --sub kim-enc:0c:no >"$T_DIR/kim.asc" || bail "pgpcraft makes kim's key"
K=$(craft fpr --seed kim)
KS=$(craft fpr --seed kim-sig)
publish_soon "$U1" "$MD" "$T_DIR/kim.asc" kim@example.org \
    kim@work.example.org
ok $? "kim's key published for both addresses" || bail "cannot publish"
wkd() {		# the WKD path of ADDR (advanced method)
	local h
	h=$("$(gpgconf --list-dirs libexecdir)/gpg-wks-client" \
	    --print-wkd-hash "$1" | cut -d' ' -f1)
	echo ".well-known/openpgpkey/${1#*@}/hu/$h?l=${1%@*}"
}
KINDS=("vks/v1/by-email/kim@example.org" "vks/v1/by-fingerprint/$K"
    "vks/v1/by-keyid/${K:24}" "vks/v1/by-fingerprint/$KS"
    "vks/v1/by-keyid/${KS:24}"
    "pks/lookup?op=get&options=mr&search=kim@example.org"
    "pks/lookup?op=index&options=mr&search=0x$K"
    "search?q=kim@example.org" "$(wkd kim@example.org)")
for u in "$U1" "$U2"; do
	bad=
	for p in "${KINDS[@]}"; do
		[ "$(http GET "$u/$p" -H 'Host: openpgpkey.example.org')" = 200 ] ||
		    bad="$bad $p"
	done
	is "${bad:-none}" none "$u: every kind of lookup finds kim's key"
done
is "$(q "$RURL" -c "SELECT count(*) > 0 FROM pg_stat_activity
    WHERE application_name = 'keydird-read'")" t \
    "the nodes hold connections to the replica (keydird-read)"

# on_replica PATH: node 1 answers PATH 200, and a keydird-read backend of
# the replica started a statement over tables (FROM: not a probe of its
# WAL position) between the request's sending and its answer; three tries
on_replica() {
	local t0 t1 code
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		code=$(http GET "$U1/$1" -H 'Host: openpgpkey.example.org')
		t1=$(date +%s.%N)
		[ "$code" = 200 ] || return 1
		[ "$(q "$RURL" -c "SELECT count(*) FROM pg_stat_activity
		    WHERE application_name = 'keydird-read'
		    AND extract(epoch FROM query_start) BETWEEN $t0 AND $t1
		    AND query ~* '\\mfrom\\M'")" -gt 0 ] 2>/dev/null && return 0
	done
	return 1
}
bad=
for p in "${KINDS[@]}"; do
	on_replica "$p" || bad="$bad $p"
done
is "${bad:-none}" none "node 1 runs every kind of lookup on the replica"

# N lookups on node 1: at least N table scans on the replica (its
# statistics reach pg_stat_user_tables within about 10 s)
SCANS="SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0)
    FROM pg_stat_user_tables"
scans() { q "$RURL" -c "$SCANS"; }
lookups() {	# lookups URL ROUNDS: every kind ROUNDS times; how many not 200
	local r p n=0
	for ((r = 0; r < $2; r++)); do
		for p in "${KINDS[@]}"; do
			[ "$(http GET "$1/$p" -H 'Host: openpgpkey.example.org')" = 200 ] ||
			    n=$((n + 1))
		done
	done
	echo "$n"
}
S0=$(scans)
N=$((5 * ${#KINDS[@]}))
is "$(lookups "$U1" 5)" 0 "$N lookups on node 1: all 200"
wait_for 15 "[ \$(scans) -ge $((S0 + N)) ]"
ok $? "... and at least $N table scans on the replica ($S0 -> $(scans))"

# replay paused: the replica no longer follows the primary
N0=$(mails_to "$MD" kim@example.org)
is "$(http POST "$U2/api/v1/manage" -H 'Content-Type: application/json' \
    --data '{"address": "kim@example.org"}')" 200 "a removal link asked for"
wait_until 20 has_more_mails "$MD" kim@example.org "$N0"
ML=$(mail_link "$(mail_to "$MD" kim@example.org)" manage)
like "$ML" '/manage/' "... and mailed" || bail "no removal link"
caught_up() {	# the replica replayed what the primary had written
	local at
	at=$(q "$URL" -c 'SELECT pg_current_wal_lsn()') && [ -n "$at" ] &&
	    [ "$(q "$RURL" -c "SELECT pg_last_wal_replay_lsn() >= '$at'")" = t ]
}
wait_until 10 caught_up
q "$RURL" -c 'SELECT pg_wal_replay_pause()' >/dev/null
wait_for 10 "[ \"\$(q '$RURL' -c 'SELECT pg_get_wal_replay_pause_state()')\" = paused ]"
ok $? "the replica's replay is paused"
race_poll "$T_DIR/race1" 2.5 "POST $U2/manage/${ML##*/}" \
    "n1-email $U1/vks/v1/by-email/kim@example.org 404" \
    "n1-hkp $U1/pks/lookup?op=get&options=mr&search=kim@example.org 404" \
    "n1-wkd $U1/$(wkd kim@example.org) 404 openpgpkey.example.org" \
    "n2-email $U2/vks/v1/by-email/kim@example.org 404" \
    "n2-hkp $U2/pks/lookup?op=get&options=mr&search=kim@example.org 404" \
    "n2-wkd $U2/$(wkd kim@example.org) 404 openpgpkey.example.org"
race_within "$T_DIR/race1" 1000 \
    "removed through node 2 with replay paused: 404 on both nodes within 1 s"
is "$(q "$RURL" -c 'SELECT pg_get_wal_replay_pause_state()')" paused \
    "... while the replica was still paused"
for u in "$U1" "$U2"; do
	is "$(http GET "$u/vks/v1/by-email/kim@work.example.org") $(http GET \
	    "$u/vks/v1/by-fingerprint/$K")" "200 200" \
	    "$u, replica paused: kim@work and kim's fingerprint still answer"
done
q "$RURL" -c 'SELECT pg_wal_replay_resume()' >/dev/null
wait_until 10 caught_up
ok $? "replay resumed: the replica caught up"
is "$(http GET "$U1/vks/v1/by-email/kim@example.org") $(http GET \
    "$U2/vks/v1/by-email/kim@example.org")" "404 404" \
    "... kim@example.org stays 404 on both nodes"
on_replica "vks/v1/by-email/kim@work.example.org"
ok $? "... and node 1 reads from the replica again"

# the replica stopped: every lookup answers, from the primary
"$CL" down "$PGR/c" || bail "the replica stops"
ok 0 "the replica is stopped"
bad=0
for u in "$U1" "$U2" "$U1" "$U2"; do
	for p in vks/v1/by-email/kim@work.example.org "vks/v1/by-fingerprint/$K" \
	    "vks/v1/by-keyid/${KS:24}" "search?q=kim@work.example.org"; do
		[ "$(http GET "$u/$p" -H 'Host: openpgpkey.example.org')" = 200 ] ||
		    { bad=$((bad + 1)); diag "$u/$p: $(http GET "$u/$p")"; }
	done
	[ "$(http GET "$u/vks/v1/by-email/kim@example.org")" = 404 ] ||
	    bad=$((bad + 1))
done
is "$bad" 0 "without the replica: 20 lookups on the nodes, each answered"
# a change while it is down: the primary alone answers it
craft cert --seed lou --uid 'Lou <lou@example.org>' >"$T_DIR/lou.asc"
publish_soon "$U2" "$MD" "$T_DIR/lou.asc" lou@example.org
ok $? "a key published while the replica is down"
is "$(http GET "$U1/vks/v1/by-email/lou@example.org")" 200 \
    "... node 1 finds it"

# started again: it catches up and node 1 reads from it again
"$CL" up "$PGR/c" || bail "the replica starts again"
wait_until 20 caught_up
ok $? "the replica is up again and caught up"
wait_for 15 "on_replica vks/v1/by-email/lou@example.org"
ok $? "node 1 reads from the replica again (within 15 s)"
S0=$(scans)
N=$((3 * ${#KINDS[@]}))
KINDS[0]=vks/v1/by-email/lou@example.org
KINDS[5]="pks/lookup?op=get&options=mr&search=lou@example.org"
KINDS[7]="search?q=lou@example.org"
KINDS[8]=$(wkd lou@example.org)
is "$(lookups "$U1" 3)" 0 "$N lookups on node 1: all 200"
wait_for 15 "[ \$(scans) -ge $((S0 + N)) ]"
ok $? "... and at least $N table scans on the replica ($S0 -> $(scans))"
done_testing
