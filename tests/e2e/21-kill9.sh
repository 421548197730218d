#!/bin/bash
# 21-kill9: keydird killed with SIGKILL at random moments while clients
# upload and confirm, and restarted each time.  Three curl clients upload
# (VKS) and ask for confirmation, a gpg client sends keys over HKP (which
# mails at once), and a fifth client confirms every link that arrives at
# the SMTP server (tests/e2e/smtpsink.py, slowed down so that the mailer
# always has mail in flight).  After each kill the crash image of the
# database passes PRAGMA integrity_check and the mails the killed process
# had leased go out within a minute of the restart (not after the lease of
# the dead process).  At the end every acknowledged upload is stored,
# every acknowledged confirmation published, every acknowledged request
# mailed, and the outbox empty.  The figures go to docs/RELIABILITY.md.
. "$(dirname "$0")/lib.sh"

ROUNDS=${KILL_ROUNDS:-6}
KP=$(free_port)
SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
KEYS=$T_DIR/keys
OUT=$T_DIR/out		# what the clients were told, one file per kind
mkdir -p "$OUT" "$T_DIR/snap"
KDARGS=(--smtp "smtp://127.0.0.1:$SP" --set mail_retry_min=1
    --set mail_retry_max=2)

craft_certs "$KEYS" 160 kill9 || bail "pgpcraft makes 160 certs"
mkdir -p "$SMTPDIR"
printf 'delay 0.2\n' >"$SMTPDIR/control"
start_sink "$SP" "$SMTPDIR" || bail "the SMTP sink starts"
start_keydird "$KP" "$DATA" "$LOG" "${KDARGS[@]}" || bail "keydird starts"
URL=$KD_URL
ok 0 "keydird and a slow SMTP server (0.2 s a mail) are up"

# --- the clients -------------------------------------------------------------

# post W PATH FILE: POST the JSON FILE; the status (000: no answer), the
# body in $OUT/W.body.
post() {
	curl -s -o "$OUT/$1.body" -w '%{http_code}' --max-time 20 \
	    -H 'Content-Type: application/json' --data-binary @"$3" \
	    "$URL$2" 2>/dev/null
}

# vks_client W FIRST LAST: upload keys FIRST..LAST and ask to verify each
# address, each step again until acknowledged; stops at $T_DIR/stop.
vks_client() {
	local w=$1 i fpr addr code tok
	while read -r i fpr addr; do
		[ "$i" -ge "$2" ] && [ "$i" -le "$3" ] || continue
		[ -e "$T_DIR/stop" ] && break
		while :; do
			code=$(post "$w" /vks/v1/upload "$KEYS/$i.json")
			if [ "$code" = 200 ] &&
			    tok=$(jq -er .token "$OUT/$w.body" 2>/dev/null); then
				echo "$fpr" >>"$OUT/uploaded"
				break
			fi
			echo "upload $code" >>"$OUT/failed"
			sleep 0.2
		done
		jq -n --arg t "$tok" --arg a "$addr" \
		    '{token: $t, addresses: [$a]}' >"$OUT/$w.req"
		while :; do
			code=$(post "$w" /vks/v1/request-verify "$OUT/$w.req")
			if [ "$code" = 200 ] && [ "$(jq -r --arg a "$addr" \
			    '.status[$a]' "$OUT/$w.body")" = pending ]; then
				echo "$addr" >>"$OUT/requested"
				break
			fi
			echo "request-verify $code" >>"$OUT/failed"
			sleep 0.2
		done
		sleep 0.5
	done <"$KEYS/list"
}

# gpg_client HOME FIRST LAST: gpg --send-keys (HKP, which mails every
# address) for keys FIRST..LAST, again until gpg says it worked; a
# refused connection makes dirmngr shun the host, so it is restarted.
gpg_client() {
	local h=$1 i fpr addr
	while read -r i fpr addr; do
		[ "$i" -ge "$2" ] && [ "$i" -le "$3" ] || continue
		[ -e "$T_DIR/stop" ] && break
		g "$h" --import "$KEYS/$i.asc" >/dev/null 2>&1
		until g "$h" --send-keys "$fpr" >>"$OUT/gpg.log" 2>&1; do
			echo "gpg --send-keys" >>"$OUT/failed"
			GNUPGHOME=$h gpgconf --kill dirmngr
			sleep 0.2
		done
		echo "$fpr" >>"$OUT/uploaded"
		echo "$addr" >>"$OUT/requested"
		sleep 0.5
	done <"$KEYS/list"
}

# confirmer: POST every confirmation link that arrives, again until an
# answer comes; records the address on 200 (and on 410, used, apart).
confirmer() {
	local f link addr code
	touch "$OUT/handled"
	while [ ! -e "$T_DIR/stop.confirmer" ]; do
		for f in "$MD"/new/*; do
			[ -e "$f" ] || continue
			grep -qxF "$f" "$OUT/handled" && continue
			link=$(link_of "$f")
			addr=$(mail_part "$f" to | tr -d '<> ')
			code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
			    --max-time 20 "$link" 2>/dev/null)
			case $code in
			200) echo "$addr" >>"$OUT/confirmed" ;;
			410) echo "$addr" >>"$OUT/used" ;;
			*) echo "confirm $code" >>"$OUT/failed"; continue ;;
			esac
			echo "$f" >>"$OUT/handled"
		done
		sleep 0.2
	done
}

mk_gnupghome GH "$KP"
touch "$OUT/uploaded" "$OUT/requested" "$OUT/confirmed" "$OUT/used" \
    "$OUT/failed"
vks_client a 1 40 & T_PIDS+=($!); CLIENTS=($!)
vks_client b 41 80 & T_PIDS+=($!); CLIENTS+=($!)
vks_client c 81 120 & T_PIDS+=($!); CLIENTS+=($!)
gpg_client "$GH" 121 160 & T_PIDS+=($!); CLIENTS+=($!)
confirmer & T_PIDS+=($!); CONFIRMER=$!

# --- the kills ---------------------------------------------------------------

# leased: the ids of unsent rows whose next attempt is more than 5 min
# away: with mail_retry_max=2 only a lease (10 min) sets that.
LEASED='[.[] | select(.sent == null and (.failed // null) == null and .next_attempt > (now | floor) + 300) | .id]
    | if length == 0 then "-" else join(" ") end'

sent_all() {	# sent_all IDS: every row among IDS is sent
	local ids=$1
	[ "$(outbox_state "$DATA" "[.[] | select(.sent == null and
	    ([.id] | inside([$(echo "$ids" | tr ' ' ',')])))] | length")" = 0 ]
}

INFLIGHT=0
MAXWAIT=0
for round in $(seq "$ROUNDS"); do
	sleep "$(printf '%d.%03d' $((1 + RANDOM % 2)) $((RANDOM % 1000)))"
	stop_pid "$KD_PID" KILL
	ids=$(outbox_state "$DATA" "$LEASED")
	[ "$ids" = - ] && ids=
	n=$(echo "$ids" | wc -w)
	INFLIGHT=$((INFLIGHT + n))
	# the crash image: the database and its WAL as the kill left them,
	# checked on a copy so that keydird's own recovery is what runs next
	if [ "${KD_STORE:-sqlite}" = pg ]; then
		# the database server was not killed: nothing to check
		skip "round $round: the crash image is SQLite's (PostgreSQL's" \
		    "server was not killed)"
	else
		rm -f "$T_DIR/snap/"*
		cp "$DATA/keydir.db" "$T_DIR/snap/"
		[ -e "$DATA/keydir.db-wal" ] &&
		    cp "$DATA/keydir.db-wal" "$T_DIR/snap/"
		res=$(sqlite3 "$T_DIR/snap/keydir.db" \
		    'PRAGMA integrity_check;' 'PRAGMA foreign_key_check;' 2>&1)
		is "$res" ok \
		    "round $round: killed; the crash image passes integrity_check"
	fi
	start_keydird "$KP" "$DATA" "$LOG" "${KDARGS[@]}" ||
	    bail "round $round: keydird restarts"
	t0=$(date +%s.%N)
	if [ "$n" -gt 0 ]; then
		wait_for 60 "sent_all '$ids'"
		ok $? "round $round: the $n mails in flight at the kill went out within 60 s of the restart" ||
		    diag "$(kd_state "$DATA" --outbox | grep -E "\"id\": ?($(echo "$ids" | tr ' ' '|'))[,}]")"
		secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" \
		    'BEGIN {printf "%.1f", b - a}')
		diag "round $round: $n mails in flight, all sent ${secs} s after the restart"
		MAXWAIT=$(awk -v a="$secs" -v b="$MAXWAIT" \
		    'BEGIN {print (a > b ? a : b)}')
	else
		diag "round $round: no mail in flight at the kill"
	fi
done
ok "$([ "$INFLIGHT" -gt 0 ]; echo $?)" \
    "mail was in flight at some kill ($INFLIGHT rows over $ROUNDS rounds)"

# --- the end: let every client finish ------------------------------------
touch "$T_DIR/stop"
for p in "${CLIENTS[@]}"; do
	wait "$p"
done
NUP=$(sort -u "$OUT/uploaded" | wc -l)
NREQ=$(sort -u "$OUT/requested" | wc -l)
# every acknowledged request gets its mail, and every mail its answer
all_mailed() {
	local a
	while read -r a; do
		grep -q " $a " "$MD/deliveries" || return 1
	done < <(sort -u "$OUT/requested")
}
wait_for 90 all_mailed
ok $? "every acknowledged request ($NREQ) was mailed"
wait_for 60 '[ "$(sort -u "$OUT/handled" | wc -l)" -ge "$(mail_count "$MD")" ]'
ok $? "every mail was answered"
touch "$T_DIR/stop.confirmer"
wait "$CONFIRMER"
wait_for 30 '[ "$(unsent "$DATA")" = 0 ]'
is "$(unsent "$DATA")" 0 "the outbox is empty"

STORED=$(keys_state "$DATA" '.[].fpr' | sort)
missing=$(sort -u "$OUT/uploaded" | comm -23 - <(echo "$STORED"))
is "$missing" "" "every acknowledged upload ($NUP) is stored"
OWNERS=$(keys_state "$DATA" '.[] | .fpr as $f | .addresses[] | "\(.address) \($f)"' | sort)
NCONF=$(sort -u "$OUT/confirmed" | wc -l)
want=$(sort -u "$OUT/confirmed" | while read -r a; do
	awk -v a="$a" '$3 == a {print a, $2}' "$KEYS/list"
done | sort)
missing=$(comm -23 <(echo "$want") <(echo "$OWNERS"))
is "$missing" "" "every acknowledged confirmation ($NCONF) is published"
bad=0
while read -r a; do
	[ "$(http GET "$URL/vks/v1/by-email/$a")" = 200 ] || bad=$((bad + 1))
done < <(sort -u "$OUT/confirmed")
is "$bad" 0 "... and found by address"
ok "$([ "$NCONF" -gt 0 ] && [ "$NUP" -ge 20 ]; echo $?)" \
    "the clients got work done ($NUP uploads, $NCONF confirmations)"

stop_pid "$KD_PID" TERM
if [ "${KD_STORE:-sqlite}" = pg ]; then
	skip "integrity_check is SQLite's (PostgreSQL keeps its own)"
else
	res=$(sqlite3 "$DATA/keydir.db" 'PRAGMA integrity_check;' \
	    'PRAGMA foreign_key_check;' 2>&1)
	is "$res" ok "after the last stop the database passes integrity_check"
fi

NMAIL=$(mail_count "$MD")
NDUP=$(awk '{print $2}' "$MD/deliveries" | sort | uniq -d | wc -l)
diag "figures: $ROUNDS kills; $NUP uploads and $NREQ requests acknowledged," \
    "$NCONF confirmations (+$(sort -u "$OUT/used" | wc -l) links already used);" \
    "$(wc -l <"$OUT/failed") client attempts without an answer;" \
    "$INFLIGHT mails in flight at the kills, the slowest round's all sent" \
    "${MAXWAIT} s after its restart; $NMAIL mails, $NDUP addresses mailed twice"

done_testing
