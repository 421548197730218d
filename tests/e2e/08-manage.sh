#!/bin/bash
# 08-manage: removal by mail, for an owner who lost the key.
# POST /api/v1/manage answers the same whether or not the address is
# published (and mails nothing for an unknown address); the mail carries
# BASE/manage/TOKEN; GET shows a page and changes nothing; POST unpublishes
# the address (the key stays by fingerprint without it); the link works once.
# Removal links have their own per-address mail_rate (default 10 min),
# apart from confirmations: a removal link can be asked for right after the
# confirmation mail, and a second request within mail_rate answers the same
# and mails nothing.  Mail goes through aiosmtpd.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log

start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd starts on port $SP"
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" ||
    bail "keydird starts on port $KP"
URL=$KD_URL
ok 0 "keydird and aiosmtpd are up"

mk_gnupghome A "$KP"
mk_gnupghome S "$KP"

# manage_json ADDR / manage_form ADDR: POST /api/v1/manage; prints the status
manage_json() {
	jq -n --arg a "$1" '{address: $a}' >"$T_DIR/req.json"
	http POST "$URL/api/v1/manage" -H 'Content-Type: application/json' \
	    --data-binary @"$T_DIR/req.json"
}
manage_form() {
	http POST "$URL/api/v1/manage" --data-urlencode "address=$1"
}

M1=mia@example.org
M2=mia@other.example.net
F=$(gen_key "$A" "Mia Manage <$M1>")
like "$F" '^[0-9A-F]{40}$' "gpg made Mia's key" || bail "no key"
g "$A" --quick-add-uid "$F" "Mia Other <$M2>" >/dev/null 2>&1
g "$A" --export --armor "$F" >"$T_DIR/mia.asc"
publish "$URL" "$MD" "$T_DIR/mia.asc" "$M1" "$M2"
ok $? "Mia's key is published for $M1 and $M2" || bail "cannot publish"

# --- the request (within mail_rate of the confirmation mails) ---------------------
n1=$(mails_to "$MD" "$M1")
n_all=$(mail_count "$MD")
out0=$(state_of "$DATA" .outbox.total)
code=$(manage_json nobody@example.org)
is "$code" 200 "manage for an unknown address: 200"
like "$(header Content-Type)" "application/json" "... JSON"
UNKNOWN=$(body)
like "$(jq -r .status "$T_DIR/body")" "." "... with a status text"
is "$(state_of "$DATA" .outbox.total)" "$out0" \
    "... and no mail queued for it"

code=$(manage_json "$M1")
is "$code" 200 "manage for $M1 (JSON): 200"
is "$(body)" "$UNKNOWN" "... the very same answer as for the unknown address"
code=$(manage_form Nobody@Example.ORG)
is "$code" 200 "manage as a form for an unknown address: 200"
is "$(body)" "$UNKNOWN" "... the same answer"

out1=$(state_of "$DATA" .outbox.total)
is "$out1" $((out0 + 1)) "... one mail queued for $M1"
code=$(manage_json "$M1")
is "$code 	$(body)" "200 	$UNKNOWN" "manage for $M1 again, within mail_rate: the same answer"
is "$(state_of "$DATA" .outbox.total)" "$out1" "... and no second mail"

wait_until 20 has_more_mails "$MD" "$M1" "$n1"
M=$(mail_to "$MD" "$M1")
is "$(mails_to "$MD" "$M1")" $((n1 + 1)) "a mail reaches $M1"
wait_for 10 '[ "$(unsent "$DATA")" = 0 ]'
is "$(mail_count "$MD")" $((n_all + 1)) \
    "only that one mail went out (none for the unknown address)"
is "$(mails_to "$MD" nobody@example.org)" 0 "no mail to nobody@example.org"
is "$(mail_part "$M" subject)" "Remove your address from the key directory" \
    "mail: Subject"
BODY=$(mail_part "$M" body)
like "$BODY" "$(printf '%s' "$F" | sed -E 's/(....)/\1 /g; s/ $//')" \
    "mail: names the key in groups of 4"
LINK=$(mail_link "$M" manage)
like "$LINK" "^$URL/manage/[A-Za-z0-9_-]{43}\$" "mail: the link is BASE/manage/TOKEN"

# --- GET looks, POST acts ------------------------------------------------------------
before=$(state_counts "$DATA")
code=$(http GET "$LINK")
is "$code" 200 "GET on the link: 200"
like "$(body)" "$M1" "GET page names the address"
like "$(page_text)" "$F" "GET page names the fingerprint"
like "$(body)" "<form method=\"post\" action=\"$LINK\"" "GET page has the form"
is "$(state_counts "$DATA")" "$before" "GET changed nothing (keydird state)"
is "$(http GET "$URL/vks/v1/by-email/$M1")" 200 "after GET: $M1 still published"

code=$(confirm "$LINK")
is "$code" 200 "POST on the link: 200"
like "$(body)" "no longer published" "the page says so"
is "$(http GET "$URL/vks/v1/by-email/$M1")" 404 "$M1: by-email 404"
is "$(http GET "$URL/api/v1/lookup/$M1")" 404 "$M1: /api/v1/lookup 404"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=$M1")" 404 "$M1: HKP get 404"
code=$(http GET "$URL/vks/v1/by-fingerprint/$F")
is "$code" 200 "the key is still served by fingerprint"
is "$(key_uids "$S" "$T_DIR/body")" "Mia Other <$M2>" \
    "... without the user ID of $M1, with the other one"
is "$(http GET "$URL/vks/v1/by-email/$M2")" 200 "$M2 still published"

code=$(confirm "$LINK")
is "$code" 410 "POST on the used link: 410"
code=$(http GET "$LINK")
is "$code" 410 "GET on the used link: 410"

# --- the form, for the other address ---------------------------------------------------
n2=$(mails_to "$MD" "$M2")
code=$(manage_form "$M2")
is "$code 	$(body)" "200 	$UNKNOWN" "manage for $M2 as a form: 200, the same answer"
wait_until 20 has_more_mails "$MD" "$M2" "$n2"
L2=$(mail_link "$(mail_to "$MD" "$M2")" manage)
like "$L2" "^$URL/manage/" "a removal link reaches $M2"
is "$(http GET "$L2")" 200 "its GET page: 200"
like "$(body)" "$M2" "... names $M2"

# --- refusals ----------------------------------------------------------------------------
code=$(http POST "$URL/api/v1/manage" -H 'Content-Type: application/json' \
    --data-binary '{"addr":"x@example.org"}')
is "$code" 400 "manage without an address: 400"
like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "address" "... JSON error"
code=$(http GET "$URL/manage/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
is "$code" 404 "an unknown manage token: 404"
code=$(http POST "$URL/manage/nonsense")
is "$code" 404 "a malformed manage token: 404"

done_testing
