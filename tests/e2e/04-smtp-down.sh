#!/bin/bash
# 04-smtp-down: the outbox.  Requests are acknowledged while the SMTP
# server is down; once it is up every mail arrives exactly once; a mail
# acknowledged before a kill -9 of keydird still arrives after a restart,
# when the row the killed process left becomes due.  Needs `--set
# mail_retry_min=1` so the mailer retries within seconds.  The outbox is
# read with keydird state --outbox.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
SP=$(free_port)		# nothing listens here yet
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
KDARGS=(--smtp "smtp://127.0.0.1:$SP" --set mail_retry_min=1 --set mail_retry_max=2)

start_keydird "$KP" "$DATA" "$LOG" "${KDARGS[@]}" ||
    bail "keydird starts with SMTP down"
URL=$KD_URL
ok 0 "keydird is up, SMTP on port $SP is down"

mk_gnupghome A "$KP"

# upload_and_request NAME ADDR: VKS upload + request-verify; sets CODE, STATUS
upload_and_request() {
	local f
	f=$(gen_key "$A" "$1 <$2>")
	g "$A" --export --armor "$f" >"$T_DIR/$1.asc"
	vks_upload "$URL" "$T_DIR/$1.asc" >/dev/null
	CODE=$(vks_request "$URL" "$(jq -r .token "$T_DIR/body")" "$2")
	STATUS=$(jq -r --arg a "$2" '.status[$a]' "$T_DIR/body" 2>/dev/null)
}

for n in 1 2 3; do
	upload_and_request "User$n" "user$n@example.org"
	is "$CODE $STATUS" "200 pending" "SMTP down: request-verify $n answered 200 pending"
done
is "$(unsent "$DATA")" 3 "three outbox rows, unsent"
# failed: outbox rows unsent, tried, with an error recorded
FAILED='[.[] | select(.sent == null and .attempts > 0 and .last_error != null)] | length'
wait_for 15 '[ "$(outbox_state "$DATA" "$FAILED")" = 3 ]'
is "$(outbox_state "$DATA" "$FAILED")" 3 \
    "the mailer tried each and recorded the error"
is "$(mail_count "$MD")" 0 "no mail delivered"

start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd starts on port $SP"
ok 0 "SMTP is up"
wait_for 60 '[ "$(mail_count "$MD")" -ge 3 ]'
is "$(mail_count "$MD")" 3 "all three mails arrive"
wait_for 10 '[ "$(unsent "$DATA")" = 0 ]'
is "$(unsent "$DATA")" 0 \
    "the outbox rows are marked sent"
# nothing more may come: give the mailer a few passes to misbehave
wait_for 3 '[ "$(mail_count "$MD")" -gt 3 ]'
for n in 1 2 3; do
	is "$(mails_to "$MD" "user$n@example.org")" 1 "user$n@example.org got exactly one mail"
done
L1=$(link_of "$(mail_to "$MD" user1@example.org)")
is "$(confirm "$L1")" 200 "the delayed link works"
is "$(http GET "$URL/vks/v1/by-email/user1%40example.org")" 200 \
    "user1@example.org published"

# --- kill -9 with an acknowledged mail not yet sent ---------------------------------
stop_pid "$SMTP_PID" TERM
wait_until 10 bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$SP) 2>/dev/null"
ok $? "SMTP is down again"
# a keydird that retries a failed mail only after 6 s, so that the row it
# leaves when killed is not due yet when the next process starts
stop_pid "$KD_PID" TERM
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" \
    --set mail_retry_min=6 --set mail_retry_max=6 ||
    bail "keydird restarts with mail_retry_min=6"
upload_and_request User4 user4@example.org
is "$CODE $STATUS" "200 pending" "request-verify 4 acknowledged while SMTP is down"
U4='.[] | select(.rcpt == "user4@example.org")'
wait_for 10 '[ "$(outbox_state "$DATA" "[$U4 | select(.sent == null and .attempts == 1)] | length")" = 1 ]'
is "$(outbox_state "$DATA" "[$U4 | \"\(.sent) \(.attempts)\"] | join(\",\")")" "null 1" \
    "its mail waits in the outbox, tried once"
stop_pid "$KD_PID" KILL
ok 0 "keydird killed with SIGKILL"
# the killed process set the row's next attempt 6 s after the failure
DUE=$(outbox_state "$DATA" "$U4 | .next_attempt")
like "$((DUE - $(date +%s)))" '^[1-6]$' \
    "the row it left is due in a few seconds ($DUE), not leased"
n0=$(mail_count "$MD")

start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd restarts on port $SP"
start_keydird "$KP" "$DATA" "$LOG" "${KDARGS[@]}" ||
    bail "keydird restarts on the same data"
ok 0 "keydird restarted with SMTP up"
# the new process finds the row not yet due at start: its mailer must
# honour next_attempt of rows left by the old one and wake up for it
ok "$([ "$(date +%s)" -lt "$DUE" ]; echo $?)" \
    "the row is not due yet after the restart (due at $DUE)"
wait_until 10 has_mail "$MD" user4@example.org
ok $? "a row left by the killed process, due after the restart, goes out within 10 s" ||
    diag "$(kd_state "$DATA" --outbox | grep user4@) now $(date +%s)"
wait_until 60 has_mail "$MD" user4@example.org
is "$(mails_to "$MD" user4@example.org)" 1 "the acknowledged mail arrives after the restart"
is "$(mail_count "$MD")" $((n0 + 1)) "... and no other mail went out again"
L4=$(link_of "$(mail_to "$MD" user4@example.org)")
is "$(confirm "$L4")" 200 "its link works"
is "$(http GET "$URL/vks/v1/by-email/user4%40example.org")" 200 \
    "user4@example.org published"
is "$(http GET "$URL/vks/v1/by-email/user1%40example.org")" 200 \
    "user1@example.org still published"

done_testing
