#!/bin/bash
# 22-smtp-faults: the SMTP server fails during a burst of uploads.  First
# it answers every RCPT with 451 (try later), then it is killed outright,
# then it comes back refusing one address for good (550).  All along
# keydird answers uploads, requests and lookups; it queues every mail and
# delivers each exactly once when SMTP is back, those to one address in
# the order they were asked for; the refused mail is recorded as failed
# (keydird state: outbox.failed, the row's SMTP reply), logged, never
# tried again, and its address stays unconfirmed.  The server is
# tests/e2e/smtpsink.py, told what to do through its control file.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
KEYS=$T_DIR/keys
PC="$PY $E2E_ROOT/tests/e2e/pgpcraft.py"
ORDER=order@example.org
BAD=bad@example.org

craft_certs "$KEYS" 17 fault || bail "pgpcraft makes the certs"
for n in 1 2 3; do	# three keys for one address, asked for in turn
	$PC cert --seed "order/$n" --uid "Order $n <$ORDER>" >"$KEYS/order$n.asc"
	OFPR[$n]=$($PC fpr --seed "order/$n")
done
$PC cert --seed bad --uid "Bad <$BAD>" >"$KEYS/bad.asc"
BADFPR=$($PC fpr --seed bad)

mkdir -p "$SMTPDIR"
: >"$SMTPDIR/control"
start_sink "$SP" "$SMTPDIR" || bail "the SMTP sink starts"
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" \
    --set mail_retry_min=1 --set mail_retry_max=4 --set mail_rate=1s ||
    bail "keydird starts"
URL=$KD_URL

# ask FILE ADDR: VKS upload of FILE (armored) and request-verify of ADDR;
# prints "UPLOAD-STATUS REQUEST-STATUS ADDRESS-STATUS"
ask() {
	local up req tok
	up=$(vks_upload "$URL" "$1")
	tok=$(jq -r .token "$T_DIR/body" 2>/dev/null)
	req=$(vks_request "$URL" "$tok" "$2")
	echo "$up $req $(jq -r --arg a "$2" '.status[$a]' "$T_DIR/body" 2>/dev/null)"
}

# lookups: the published key by address and by fingerprint, as a client
# sees them: "STATUS STATUS"
lookups() {
	echo "$(http GET "$URL/vks/v1/by-email/fault-1@example.org")" \
	    "$(http GET "$URL/vks/v1/by-fingerprint/$(awk '$1 == 1 {print $2}' "$KEYS/list")")"
}

publish "$URL" "$MD" "$KEYS/1.asc" fault-1@example.org
ok $? "with SMTP working, fault-1@example.org is published"
is "$(lookups)" "200 200" "it is found by address and by fingerprint"
# ASKED: every address a mail was asked for, and by which key, in order
ASKED=()

# --- 451 to every recipient ------------------------------------------------
printf 'tempfail *\n' >"$SINK_CTL"
bad=0
for i in 2 3 4 5 6 7; do
	a=$(awk -v i="$i" '$1 == i {print $3}' "$KEYS/list")
	r=$(ask "$KEYS/$i.asc" "$a")
	[ "$r" = "200 200 pending" ] || { bad=1; diag "$a: $r"; }
	ASKED+=("$a")
done
r=$(ask "$KEYS/order1.asc" "$ORDER")
T1=$(date +%s)		# the server's rate mark for $ORDER is no later
ASKED+=("$ORDER")
[ "$r" = "200 200 pending" ] || { bad=1; diag "$ORDER (1): $r"; }
is "$bad" 0 "SMTP answers 451: uploads and requests are answered 200, pending"
is "$(lookups)" "200 200" "... and lookups 200"
TRIED='[.[] | select(.sent == null and .attempts > 0 and (.last_error // "" | test("451")))] | length'
wait_for 20 '[ "$(outbox_state "$DATA" "$TRIED")" -ge 7 ]'
is "$(outbox_state "$DATA" "$TRIED")" 7 \
    "the mailer tried each of the 7 and kept the 451 as the last error"
wait_for 10 '[ "$(grep -c "^451 $ORDER" "$MD/refusals")" -ge 2 ]'
ok $? "... and tried again (451 twice for $ORDER)"
is "$(mail_count "$MD")" 1 "no mail delivered but the first one"

# --- the SMTP server is gone -----------------------------------------------
stop_pid "$SMTP_PID" KILL
wait_until 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$SP) 2>/dev/null"
ok $? "the SMTP server is killed"
bad=0
for i in 8 9 10 11 12; do
	a=$(awk -v i="$i" '$1 == i {print $3}' "$KEYS/list")
	r=$(ask "$KEYS/$i.asc" "$a")
	[ "$r" = "200 200 pending" ] || { bad=1; diag "$a: $r"; }
	ASKED+=("$a")
done
for n in 2 3; do	# mail_rate=1s: one mail a second to one address
	past_second "$T1"
	r=$(ask "$KEYS/order$n.asc" "$ORDER")
	T1=$(date +%s)
	[ "$r" = "200 200 pending" ] || { bad=1; diag "$ORDER ($n): $r"; }
done
r=$(ask "$KEYS/bad.asc" "$BAD")
[ "$r" = "200 200 pending" ] || { bad=1; diag "$BAD: $r"; }
is "$bad" 0 "SMTP down: uploads and requests are answered 200, pending"
is "$(lookups)" "200 200" "... and lookups 200"
REFUSED='[.[] | select(.sent == null and .attempts > 0 and (.last_error // "" | test("onnect")))] | length'
wait_for 20 '[ "$(outbox_state "$DATA" "$REFUSED")" -ge 13 ]'
is "$(outbox_state "$DATA" "$REFUSED")" 13 \
    "the mailer tried the 13 first mails to their address and kept the refused connection as the error"
is "$(outbox_state "$DATA" "[.[] | select(.rcpt == \"$ORDER\") | .attempts > 0] | map(tostring) | join(\" \")")" \
    "true false false" \
    "the second and third mail to $ORDER wait, untried, behind the first"
is "$(unsent "$DATA")" 15 "15 mails wait in the outbox"

# --- back, refusing one address for good -----------------------------------
printf 'reject %s\n' "$BAD" >"$SINK_CTL"
start_sink "$SP" "$SMTPDIR" || bail "the SMTP sink restarts"
ok 0 "SMTP is back, answering 550 for $BAD"
wait_for 60 '[ "$(unsent "$DATA")" = 0 ]'
is "$(unsent "$DATA")" 0 "the outbox drains"
is "$(mail_count "$MD")" 15 "15 mails delivered: the first and the 14 queued but the refused one"
bad=0
for a in "${ASKED[@]}"; do
	[ "$(mails_to "$MD" "$a")" = "$([ "$a" = "$ORDER" ] && echo 3 || echo 1)" ] ||
	    { bad=1; diag "$a: $(mails_to "$MD" "$a") mails"; }
done
is "$bad" 0 "each queued mail arrived exactly once"
got=$(awk -v a="$ORDER" '$2 == a {print $3}' "$MD/deliveries" |
    while read -r f; do mail_part "$MD/new/$f" attname | cut -d' ' -f1; done |
    tr '\n' ' ')
is "$got" "${OFPR[1]:24}.asc ${OFPR[2]:24}.asc ${OFPR[3]:24}.asc " \
    "the three mails to $ORDER arrived in the order asked for"

# the refused address
is "$(state_of "$DATA" .outbox.failed)" 1 "keydird state counts one failed mail"
ROW=".[] | select(.rcpt == \"$BAD\")"
like "$(outbox_state "$DATA" "$ROW | \"\(.sent) \(.failed != null) \(.last_error)\"")" \
    '^null true .*550 5\.1\.1 <bad@example\.org>: no such user here' \
    "its row: failed, with the server's reply"
like "$(grep -F "$BAD" "$LOG")" 'warn.*550' "the refusal is logged as a warning"
n0=$(grep -c "^550 $BAD" "$MD/refusals")
is "$n0" 1 "it was offered once"
# give the mailer room to retry it (mail_retry_max=4) if it were going to
printf 'reject %s\n' "$BAD" >"$SINK_CTL"
wait_for 8 '[ "$(grep -c "^550 $BAD" "$MD/refusals")" -gt 1 ]'
is "$(grep -c "^550 $BAD" "$MD/refusals")" 1 "and never again"
is "$(http GET "$URL/vks/v1/by-email/$BAD")" 404 "$BAD stays unpublished"
is "$(key_state "$DATA" "$BADFPR" '[.tokens[] | select(.kind == "verify" and .used == 0)] | length')" 1 \
    "its confirmation stays pending"

# the others confirm as usual
L=$(link_of "$(mail_to "$MD" fault-8@example.org)")
is "$(confirm "$L")" 200 "a link mailed after the outage works"
is "$(http GET "$URL/vks/v1/by-email/fault-8@example.org")" 200 \
    "fault-8@example.org published"

done_testing
