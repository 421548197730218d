#!/bin/bash
# 06-replace: an address that already has a published key K0 gets another
# key K1.  The confirmation mail says so (Subject, K0 named with its
# fingerprint in groups of four and its creation date, K0 and K1 both
# attached), the page says confirming replaces K0; after the POST the
# address gives K1 (VKS, the key-identifier API, HKP), K0 is still served by
# fingerprint without that user ID (and with its other, still confirmed
# address), and a notice reaches the address naming both fingerprints.
# Mail goes through aiosmtpd.  `--set mail_rate=1s`: the server sends one
# confirmation mail per address per mail_rate (default 10 min).
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log

start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd starts on port $SP"
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" \
    --set mail_rate=1s || bail "keydird starts on port $KP"
URL=$KD_URL
ok 0 "keydird and aiosmtpd are up"

# one home per key: both carry a user ID with the same address
mk_gnupghome H0 "$KP"
mk_gnupghome H1 "$KP"
mk_gnupghome S "$KP"		# scratch home for inspecting answers

ADDR=rita@example.org
WORK=rita@work.example.com
groups4() {
	printf '%s' "$1" | sed -E 's/(....)/\1 /g; s/ $//'
}

# --- K0: published for both addresses ---------------------------------------
# K0 made on 2025-03-01, so that its creation date in the mail is told
# apart from the time it was uploaded
g "$H0" --faked-system-time 20250301T101500 --quick-gen-key \
    "Rita Old <$ADDR>" future-default default never >/dev/null 2>&1
K0=$(fpr_of "$H0" "Rita Old <$ADDR>")
like "$K0" '^[0-9A-F]{40}$' "gpg made the old key K0" || bail "no key"
g "$H0" --quick-add-uid "$K0" "Rita Old <$WORK>" >/dev/null 2>&1
g "$H0" --export --armor "$K0" >"$T_DIR/k0.asc"
publish "$URL" "$MD" "$T_DIR/k0.asc" "$ADDR" "$WORK"
ok $? "K0 is published for $ADDR and $WORK" || bail "cannot publish K0"
T0=$(date +%s)		# the last confirmation mail to $ADDR went out by now
K0C=$(g "$H0" --with-colons --list-keys "$K0" | awk -F: '$1 == "pub" {print $6; exit}')
K0DATE=$(date -u -d "@$K0C" '+%Y-%m-%d %H:%M UTC')
n_addr=$(mails_to "$MD" "$ADDR")
is "$n_addr" 1 "one mail to $ADDR so far"

# --- K1: the new key, a confirmation is requested -----------------------------
K1=$(gen_key "$H1" "Rita New <$ADDR>")
like "$K1" '^[0-9A-F]{40}$' "gpg made the new key K1" || bail "no key"
g "$H1" --export --armor "$K1" >"$T_DIR/k1.asc"
past_second "$T0"	# mail_rate=1s, not an assertion
code=$(vks_upload "$URL" "$T_DIR/k1.asc")
is "$code" 200 "K1 upload: 200"
is "$(jq -r --arg a "$ADDR" '.status[$a]' "$T_DIR/body")" unpublished \
    "K1 upload: $ADDR unpublished for K1"
code=$(vks_request "$URL" "$(jq -r .token "$T_DIR/body")" "$ADDR")
is "$code" 200 "K1 request-verify: 200"
is "$(jq -r --arg a "$ADDR" '.status[$a]' "$T_DIR/body")" pending \
    "K1 request-verify: pending"

wait_until 20 has_more_mails "$MD" "$ADDR" "$n_addr"
M=$(mail_to "$MD" "$ADDR")
is "$(mails_to "$MD" "$ADDR")" 2 "a second mail reaches $ADDR" ||
    { diag "$(tail -20 "$LOG")"; bail "no replacement mail"; }
is "$(mail_part "$M" subject)" "Confirm the new key for this address" \
    "mail: Subject says new key"
BODY=$(mail_part "$M" body)
like "$BODY" "$(groups4 "$K1")" "mail: names K1 in groups of 4"
like "$BODY" "$(groups4 "$K0")" "mail: names K0 in groups of 4"
like "$BODY" "created $K0DATE" "mail: names K0's creation date ($K0DATE)"
like "$BODY" "REPLACES" "mail: says confirming replaces the key"
is "$(mail_part "$M" atttype)" "application/pgp-keys application/pgp-keys" \
    "mail: two application/pgp-keys attachments"
is "$(mail_part "$M" attname | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "$(printf '%s.asc\n' "${K0:24}" "${K1:24}" | sort | tr '\n' ' ')" \
    "mail: attachments are K0KEYID.asc and K1KEYID.asc"
mail_part "$M" "att=${K0:24}.asc" >"$T_DIR/att0.asc"
mail_part "$M" "att=${K1:24}.asc" >"$T_DIR/att1.asc"
is "$(key_fprs "$S" "$T_DIR/att0.asc")" "$K0" "attachment ${K0:24}.asc is K0"
is "$(key_uids "$S" "$T_DIR/att0.asc")" "Rita Old <$ADDR>
Rita Old <$WORK>" "... as published (both confirmed user IDs)"
is "$(key_fprs "$S" "$T_DIR/att1.asc")" "$K1" "attachment ${K1:24}.asc is K1"
is "$(key_uids "$S" "$T_DIR/att1.asc")" "Rita New <$ADDR>" \
    "... with the user ID to be confirmed"

LINK=$(link_of "$M")
like "$LINK" "^$URL/verify/[A-Za-z0-9_-]{43}\$" "mail: the link"
code=$(http GET "$LINK")
is "$code" 200 "GET on the link: 200"
like "$(body)" "replaces" "GET page says confirming replaces the old key"
like "$(page_text)" "$K0" "GET page names K0"
like "$(page_text)" "$K1" "GET page names K1"
code=$(http GET "$URL/api/v1/lookup/$ADDR")
is "$code $(jq -r .fingerprint "$T_DIR/body")" "200 $K0" \
    "before the POST the address still gives K0"

# --- confirm ----------------------------------------------------------------------
n_addr=$(mails_to "$MD" "$ADDR")
code=$(confirm "$LINK")
is "$code" 200 "POST on the link: 200"
like "$(body)" "now published" "the page says published"

code=$(http GET "$URL/vks/v1/by-email/$ADDR")
is "$code" 200 "by-email: 200"
cp "$T_DIR/body" "$T_DIR/byemail.asc"
is "$(key_fprs "$S" "$T_DIR/byemail.asc")" "$K1" "by-email gives K1"
is "$(key_uids "$S" "$T_DIR/byemail.asc")" "Rita New <$ADDR>" \
    "... with its confirmed user ID"
code=$(http GET "$URL/api/v1/lookup/$ADDR")
is "$code $(jq -r .fingerprint "$T_DIR/body")" "200 $K1" "/api/v1/lookup gives K1"
code=$(http GET "$URL/pks/lookup?op=get&options=mr&search=$ADDR")
is "$code $(key_fprs "$S" "$T_DIR/body")" "200 $K1" "HKP get by address gives K1"
code=$(http GET "$URL/pks/lookup?op=index&options=mr&search=$ADDR")
is "$code" 200 "HKP index by address: 200"
like "$(body)" "$K1" "... lists K1"
unlike "$(body)" "$K0" "... and no longer K0"

code=$(http GET "$URL/vks/v1/by-fingerprint/$K0")
is "$code" 200 "K0 is still served by fingerprint"
cp "$T_DIR/body" "$T_DIR/k0-now.asc"
is "$(key_uids "$S" "$T_DIR/k0-now.asc")" "Rita Old <$WORK>" \
    "... without the user ID of $ADDR, with the other confirmed one"
code=$(http GET "$URL/api/v1/lookup/$WORK")
is "$code $(jq -r .fingerprint "$T_DIR/body")" "200 $K0" \
    "$WORK still gives K0"

# --- the notice -----------------------------------------------------------------
wait_until 20 has_more_mails "$MD" "$ADDR" "$n_addr"
N=$(mail_to "$MD" "$ADDR")
is "$(mails_to "$MD" "$ADDR")" 3 "a notice reaches $ADDR"
is "$(mail_part "$N" subject)" "Your key for this address was replaced" \
    "notice: Subject"
NB=$(mail_part "$N" body | tr '\n' ' ')
like "$NB" "$(groups4 "$K1").*It was: +$(groups4 "$K0")" \
    "notice: names the new key K1, then the old one K0"
is "$(mails_to "$MD" "$WORK")" 1 "no mail to the other address $WORK"
wait_for 10 '[ "$(unsent "$DATA")" = 0 ]'
is "$(unsent "$DATA")" 0 "nothing left in the outbox"

code=$(confirm "$LINK")
is "$code" 410 "the used link: 410"

done_testing
