#!/bin/bash
# 44-nodes-cache: the per-node lookup cache (lookup_cache, README
# "PostgreSQL") on three nodes of one database, and a fourth node without
# it (lookup_cache=0) as the reference for what the store says.  The
# promise: a removed or replaced address is answered by no node more than
# one second after the removal commits.
#
# Every node's cache is warmed (each lookup asked three times: VKS by
# email, fingerprint and key id, a signing subkey's fingerprint and key
# id, HKP get and index, /search, WKD).  That the nodes answer from it:
# with every table of the database locked, the three answer every warmed
# lookup but WKD's (not cached: it reads the database) at once while the
# reference node waits.  Then, polled every
# 20 ms on every node from the moment the request is sent (the times are
# diag lines):
#   - an address removed by a signed request through node 1: 404 on
#     every node within 1 s; the key's other lookups (fingerprint, key
#     id, subkey) answer on every node as on the reference node;
#   - a key replaced for an address (a confirmation POSTed to node 2):
#     every node answers the new key within 1 s;
#   - every keydird-listen backend terminated just before a whole key is
#     removed through the reference node: still 404 everywhere within
#     1 s; the listeners come back and the caches serve again.
# Starts its own cluster, so it runs under plain `make e2e` too.
. "$(dirname "$0")/lib.sh"

CL=$E2E_ROOT/tests/pg/cluster.sh
own_cluster URL
ok 0 "a throwaway PostgreSQL cluster"
q() { psql -X -q -At "$URL" "$@" 2>/dev/null; }

SP=$(free_port)
start_smtp "$SP" "$T_DIR/smtp" || bail "aiosmtpd starts"
MD=$T_DIR/smtp/Maildir
OPTS=(--set "database=$URL" --smtp "smtp://127.0.0.1:$SP" --set mail_rate=1s
    --set wkd_domains=example.org)
declare -a NP NU
for n in 1 2 3 4; do
	NP[$n]=$(free_port)
	[ "$n" = 4 ] && cache=0 || cache=16M
	if [ "$n" != 1 ]; then
		mkdir -p "$T_DIR/node$n"
		cp -p "$T_DIR/node1/server-key.pgp" "$T_DIR/node1/session.key" \
		    "$T_DIR/node$n/"
		t_own "$T_DIR/node$n"
	fi
	start_keydird "${NP[$n]}" "$T_DIR/node$n" "$T_DIR/n$n.log" "${OPTS[@]}" \
	    --set "lookup_cache=$cache" || bail "node $n starts"
	NU[$n]=$KD_URL
done
ok 0 "nodes 1-3 with a lookup cache, node 4 without, on one database"
is "$(q -c "SELECT count(*) >= 3 FROM pg_stat_activity
    WHERE application_name = 'keydird-listen'")" t \
    "... each caching node listens (keydird-listen)"

craft() { "$PY" "$E2E_ROOT/tests/e2e/pgpcraft.py" "$@"; }
craft cert --seed rita --uid 'Rita <rita@example.org>' \
    --uid 'Rita <rita@work.example.org>' --sub rita-sig:02:yes \
    --sub rita-enc:0c:no >"$T_DIR/rita.asc"
craft cert --seed zoe --uid 'Zoe <zoe@example.org>' \
    --sub zoe-sig:02:yes >"$T_DIR/zoe.asc"
craft cert --seed max --uid 'Max <max@example.org>' \
    --sub max-sig:02:yes >"$T_DIR/max.asc"
craft cert --seed bo0 --uid 'Bo <bo@example.org>' >"$T_DIR/bo0.asc"
craft cert --seed bo1 --uid 'Bo New <bo@example.org>' >"$T_DIR/bo1.asc"
R=$(craft fpr --seed rita)
RS=$(craft fpr --seed rita-sig)
Z=$(craft fpr --seed zoe)
ZS=$(craft fpr --seed zoe-sig)
M=$(craft fpr --seed max)
MS=$(craft fpr --seed max-sig)
B0=$(craft fpr --seed bo0)
B1=$(craft fpr --seed bo1)
publish_soon "${NU[1]}" "$MD" "$T_DIR/rita.asc" rita@example.org \
    rita@work.example.org &&
    publish_soon "${NU[2]}" "$MD" "$T_DIR/zoe.asc" zoe@example.org &&
    publish_soon "${NU[2]}" "$MD" "$T_DIR/max.asc" max@example.org &&
    publish_soon "${NU[3]}" "$MD" "$T_DIR/bo0.asc" bo@example.org
ok $? "rita, zoe, max and bo published" || bail "cannot publish"
# bo's second key: asked for, its confirmation kept for later
is "$(vks_upload "${NU[2]}" "$T_DIR/bo1.asc")" 200 "bo's new key uploaded"
NB=$(mails_to "$MD" bo@example.org)
sleep 1.1	# mail_rate=1s
is "$(vks_request "${NU[2]}" "$(jq -r .token "$T_DIR/body")" \
    bo@example.org)" 200 "... its confirmation asked for"
wait_until 20 has_more_mails "$MD" bo@example.org "$NB"
LB1=$(link_of "$(mail_to "$MD" bo@example.org)")
like "$LB1" /verify/ "... and mailed" || bail "no confirmation link"

wkd() {		# the WKD path of ADDR (advanced method)
	local h
	h=$("$(gpgconf --list-dirs libexecdir)/gpg-wks-client" \
	    --print-wkd-hash "$1" | cut -d' ' -f1)
	echo ".well-known/openpgpkey/${1#*@}/hu/$h?l=${1%@*}"
}
# paths ADDR FPR [SUBKEY_FPR]: every kind of lookup of one key
paths() {
	printf '%s\n' "vks/v1/by-email/$1" "vks/v1/by-fingerprint/$2" \
	    "vks/v1/by-keyid/${2:24}" "pks/lookup?op=get&options=mr&search=$1" \
	    "pks/lookup?op=index&options=mr&search=$1" \
	    "pks/lookup?op=get&options=mr&search=0x$2" "search?q=$1"
	[ "${1#*@}" != example.org ] || wkd "$1"	# the one WKD domain
	[ -z "${3:-}" ] || printf '%s\n' "vks/v1/by-fingerprint/$3" \
	    "vks/v1/by-keyid/${3:24}"
}
mapfile -t WARM < <(paths rita@example.org "$R" "$RS";
    paths rita@work.example.org "$R"; paths zoe@example.org "$Z" "$ZS";
    paths bo@example.org "$B0")
get() {		# get URL PATH [CURL ARGS]: the status
	http GET "$1/$2" -H 'Host: openpgpkey.example.org' "${@:3}"
}
warm() {	# every node's cache: each lookup three times, all 200
	local n p bad=0
	for n in 1 2 3; do
		for p in "${WARM[@]}"; do
			for _ in 1 2 3; do
				[ "$(get "${NU[$n]}" "$p")" = 200 ] ||
				    { bad=$((bad + 1)); diag "node $n: $p"; }
			done
		done
	done
	is "$bad" 0 "$1: ${#WARM[@]} lookups three times on nodes 1-3, all 200"
}
warm "warm"

# locked: every table of the database locked by another session; what
# answers comes from memory
TABLES=$(q -c "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ')
    FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
lock_all() {
	PGAPPNAME=kd-locker psql -X -q "$URL" -c "BEGIN; LOCK TABLE $TABLES IN
	    ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT" \
	    >/dev/null 2>&1 &
	LOCKER=$!
	T_PIDS+=("$LOCKER")
	wait_for 10 "[ \"\$(q -c \"SELECT wait_event FROM pg_stat_activity
	    WHERE application_name = 'kd-locker'\")\" = PgSleep ]"
}
unlock_all() {
	q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	    WHERE application_name = 'kd-locker'" >/dev/null
	wait "$LOCKER" 2>/dev/null
}
# from_memory DESCRIPTION PATH...: nodes 1-3 answer at once, with the
# tables locked, every PATH but WKD's (which the cache does not keep)
from_memory() {
	local what=$1 n p bad=0 paths
	shift
	mapfile -t paths < <(printf '%s\n' "$@" | grep -v '^\.well-known/')
	set -- "${paths[@]}"
	lock_all
	ok $? "$what: every table locked ($(echo "$TABLES" | tr -cd , |
	    wc -c | awk '{print $1 + 1}') tables)"
	for n in 1 2 3; do
		for p; do
			[ "$(get "${NU[$n]}" "$p" --max-time 1)" = 200 ] ||
			    { bad=$((bad + 1)); diag "node $n: $p"; }
			[ "$bad" -lt 5 ] || break 2	# no cache: 1 s each
		done
	done
	is "$bad" 0 "$what: nodes 1-3 answer $# lookups each within 1 s"
	is "$(get "${NU[4]}" "$1" --max-time 1)" 000 \
	    "$what: node 4 (no cache) waits for the database"
	unlock_all
}
from_memory "warmed" "${WARM[@]}"

# statement FPR ADDRS NODE SEED: a removal signed by the key SEED for NODE
signed() {
	statement "$1" "$2" "127.0.0.1:${NP[$3]}" | craft clearsign --seed "$4"
}
# as_reference WHAT PATH...: nodes 1-3 answer each PATH as node 4 does
# (status, ETag, bytes; a page's links name its own node)
as_reference() {
	local what=$1 n p c4 e4 bad=0
	shift
	for p; do
		c4=$(get "${NU[4]}" "$p")
		e4=$(header ETag)
		sed "s|${NU[4]#http://}|NODE|g" "$T_DIR/body" >"$T_DIR/ref.body"
		for n in 1 2 3; do
			if [ "$(get "${NU[$n]}" "$p")" != "$c4" ] ||
			    [ "$(header ETag)" != "$e4" ] ||
			    ! sed "s|${NU[$n]#http://}|NODE|g" "$T_DIR/body" |
			    cmp -s - "$T_DIR/ref.body"; then
				bad=$((bad + 1))
				diag "node $n: $p: $(get "${NU[$n]}" "$p") $(header ETag), node 4: $c4 $e4"
			fi
		done
	done
	is "$bad" 0 "$what: nodes 1-3 answer $# lookups as node 4 does"
}

# 1. an address removed through node 1
signed "$R" rita@example.org 1 rita >"$T_DIR/rm1.asc"
CHECKS=()
for n in 1 2 3; do
	CHECKS+=("n$n-email ${NU[$n]}/vks/v1/by-email/rita@example.org 404"
	    "n$n-hkp ${NU[$n]}/pks/lookup?op=get&options=mr&search=rita@example.org 404"
	    "n$n-wkd ${NU[$n]}/$(wkd rita@example.org) 404 openpgpkey.example.org"
	    "n$n-search ${NU[$n]}/search?q=rita@example.org 404")
done
race_poll "$T_DIR/race1" 2.5 \
    "POST ${NU[1]}/api/v1/remove $T_DIR/rm1.asc text/plain" "${CHECKS[@]}"
race_within "$T_DIR/race1" 1000 \
    "rita@example.org removed through node 1: 404 on every node within 1 s"
is "$(get "${NU[4]}" "pks/lookup?op=index&options=mr&search=0x$R")" 200 \
    "node 4: rita's key is found by fingerprint"
like "$(body)" 'rita(@|%40)work\.example\.org' "... with rita@work"
unlike "$(body)" 'rita(@|%40)example\.org' \
    "... and no longer has rita@example.org"
as_reference "after the removal" "vks/v1/by-fingerprint/$R" \
    "vks/v1/by-keyid/${R:24}" "vks/v1/by-fingerprint/$RS" \
    "vks/v1/by-keyid/${RS:24}" "pks/lookup?op=get&options=mr&search=0x$R" \
    "pks/lookup?op=index&options=mr&search=0x$R" "search?q=$R" \
    "vks/v1/by-email/rita@work.example.org" "$(wkd rita@work.example.org)" \
    "vks/v1/by-email/rita@example.org"

# 2. bo's address replaced: the confirmation of the new key on node 2
CHECKS=()
for n in 1 2 3; do
	CHECKS+=("n$n-email ${NU[$n]}/vks/v1/by-email/bo@example.org key:$B1"
	    "n$n-hkp ${NU[$n]}/pks/lookup?op=get&options=mr&search=bo@example.org key:$B1"
	    "n$n-wkd ${NU[$n]}/$(wkd bo@example.org) key:$B1 openpgpkey.example.org"
	    "n$n-index ${NU[$n]}/pks/lookup?op=index&options=mr&search=bo@example.org text:$B1")
done
race_poll "$T_DIR/race2" 2.5 "POST ${NU[2]}/verify/${LB1##*/}" "${CHECKS[@]}"
race_within "$T_DIR/race2" 1000 \
    "bo@example.org replaced through node 2: every node answers the new key within 1 s"
as_reference "after the replacement" "vks/v1/by-fingerprint/$B0" \
    "vks/v1/by-keyid/${B0:24}" "pks/lookup?op=index&options=mr&search=0x$B0" \
    "vks/v1/by-fingerprint/$B1" "vks/v1/by-email/bo@example.org"

# 3. every listener terminated just before a key is removed
mapfile -t WARM < <(paths zoe@example.org "$Z" "$ZS";
    paths rita@work.example.org "$R")
warm "zoe warmed"
signed "$Z" all 4 zoe >"$T_DIR/rm3.asc"
CHECKS=()
for n in 1 2 3; do
	CHECKS+=("n$n-email ${NU[$n]}/vks/v1/by-email/zoe@example.org 404"
	    "n$n-fpr ${NU[$n]}/vks/v1/by-fingerprint/$Z 404"
	    "n$n-keyid ${NU[$n]}/vks/v1/by-keyid/${Z:24} 404"
	    "n$n-subkey ${NU[$n]}/vks/v1/by-fingerprint/$ZS 404")
done
KILLED=$(q -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'keydird-listen'")
race_poll "$T_DIR/race3" 2.5 \
    "POST ${NU[4]}/api/v1/remove $T_DIR/rm3.asc text/plain" "${CHECKS[@]}"
ok "$([ "${KILLED:-0}" -ge 3 ]; echo $?)" \
    "every keydird-listen backend terminated ($KILLED)"
race_within "$T_DIR/race3" 1000 \
    "then zoe's key removed through node 4: 404 on every node within 1 s"
as_reference "after the removal" "vks/v1/by-keyid/${ZS:24}" \
    "pks/lookup?op=get&options=mr&search=0x$Z" "search?q=zoe@example.org" \
    "$(wkd zoe@example.org)"
wait_for 10 "[ \"\$(q -c \"SELECT count(*) >= 3 FROM pg_stat_activity
    WHERE application_name = 'keydird-listen'\")\" = t ]"
ok $? "the nodes listen again"
mapfile -t WARM < <(paths rita@work.example.org "$R" "$RS")
warm "rewarmed"
from_memory "listening again" "${WARM[@]}"

# 4. the listeners kept away: the database takes no new connection for
# 1.5 s (as while it restarts, or is full), and a key is removed
# meanwhile; its notification reaches no listener.  The caches must not
# serve it past 1 s, while away nor when they listen again (a node that
# cannot open a connection meanwhile may fail a lookup: that serves
# nothing, so the checks are "not 200" here, and the answers after it
# are 404 as on node 4)
mapfile -t WARM < <(paths max@example.org "$M" "$MS")
warm "max warmed"
signed "$M" all 4 max >"$T_DIR/rm4.asc"
CHECKS=()
for n in 1 2 3; do
	CHECKS+=("n$n-email ${NU[$n]}/vks/v1/by-email/max@example.org !200"
	    "n$n-fpr ${NU[$n]}/vks/v1/by-fingerprint/$M !200"
	    "n$n-keyid ${NU[$n]}/vks/v1/by-keyid/${M:24} !200"
	    "n$n-subkey ${NU[$n]}/vks/v1/by-fingerprint/$MS !200")
done
PU=${URL/\/\/\/keydir/\/\/\/postgres}	# the postgres database, for the cut
allow() { psql -X -q "$PU" -c "ALTER DATABASE keydir ALLOW_CONNECTIONS $1"; }
allow false
KILLED=$(psql -X -q -At "$PU" -c "SELECT count(pg_terminate_backend(pid))
    FROM pg_stat_activity WHERE application_name = 'keydird-listen'")
(sleep 1.5; allow true) &
race_poll "$T_DIR/race4" 3 \
    "POST ${NU[4]}/api/v1/remove $T_DIR/rm4.asc text/plain" "${CHECKS[@]}"
wait $!
ok "$([ "${KILLED:-0}" -ge 3 ]; echo $?)" \
    "new connections refused, every keydird-listen backend terminated ($KILLED)"
race_within "$T_DIR/race4" 1000 \
    "max's key removed meanwhile through node 4: served by no node after 1 s"
wait_for 10 "[ \"\$(q -c \"SELECT count(*) >= 3 FROM pg_stat_activity
    WHERE application_name = 'keydird-listen'\")\" = t ]"
ok $? "connections taken again: the nodes listen again"
as_reference "after it" "vks/v1/by-email/max@example.org" \
    "vks/v1/by-fingerprint/$M" "vks/v1/by-keyid/${MS:24}" \
    "pks/lookup?op=index&options=mr&search=max@example.org"
done_testing
