#!/bin/bash
# 01-gpg-flow: the whole path with real clients.  gpg --send-keys, the
# confirmation mail read from a real SMTP server (aiosmtpd), the link, then
# gpg --recv-keys / --search-keys / --locate-external-keys from fresh homes,
# the key-identifier API, ETags, partial confirmation, and sq.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
FROM=keydir@directory.example.net

start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd starts on port $SP"
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" \
    --mail-from "$FROM" || bail "keydird starts on port $KP"
URL=$KD_URL
ok 0 "keydird and aiosmtpd are up"

# --- upload with gpg ------------------------------------------------------
mk_gnupghome A "$KP"
FPR=$(gen_key "$A" 'Alice Test <alice@example.org>')
like "$FPR" '^[0-9A-F]{40}$' "gpg made Alice's key" || bail "no key, no test"
KEYID=${FPR:24}

out=$(g "$A" --send-keys "$FPR" 2>&1)
ok $? "gpg --send-keys exits 0" || diag "$out"
like "$out" "sending key .* to hkp://127.0.0.1:$KP" "gpg says it sent the key"

wait_until 30 has_mail "$MD" alice@example.org
M=$(mail_to "$MD" alice@example.org)
ok "$([ -n "$M" ]; echo $?)" "a confirmation mail reached the SMTP server" ||
    { diag "$(tail -20 "$LOG")"; bail "no mail"; }
like "$(grep -F "mail to alice@example.org sent" "$LOG")" 'sent \(id [0-9]+\)' \
    "keydird logs the delivery"

is "$(mail_part "$M" to)" "alice@example.org" "mail: To is the address"
is "$(mail_part "$M" from)" "$FROM" "mail: From is --mail-from"
is "$(mail_part "$M" subject)" "Confirm your key for this address" \
    "mail: Subject"
BODY=$(mail_part "$M" body)
GROUPS4=$(printf '%s' "$FPR" | sed -E 's/(....)/\1 /g; s/ $//')
like "$BODY" "$GROUPS4" "mail: the body names the fingerprint in groups of 4"
like "$BODY" "alice@example\.org" "mail: the body names the address"
LINK=$(link_of "$M")
like "$LINK" "^$URL/verify/[A-Za-z0-9_-]{43}\$" "mail: the link is BASE/verify/TOKEN"
like "$(grep -E 'confirmation (link|mail) for alice@example.org ' "$LOG")" \
    "\\(key $FPR\\)" "keydird logs the confirmation request"
EXP=$(printf '%s' "$BODY" | grep -Eo 'expires on [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC' |
    sed 's/expires on //; s/ UTC//')
exp_s=$(date -u -d "$EXP" +%s 2>/dev/null || echo 0)
now=$(date -u +%s)
d=$((exp_s - now - 7 * 86400))
ok "$([ "$d" -ge -120 ] && [ "$d" -le 120 ]; echo $?)" \
    "mail: the link expires in 7 days ($EXP)"
is "$(mail_part "$M" atttype)" "application/pgp-keys" \
    "mail: the attachment is application/pgp-keys"
mail_part "$M" att >"$T_DIR/att.asc"
mk_gnupghome S "$KP"
st=$(g "$S" --status-fd 1 --import "$T_DIR/att.asc" 2>/dev/null)
like "$st" "IMPORT_OK [0-9]+ $FPR" "the attached key imports"
uids=$(g "$S" --with-colons --list-keys "$FPR" | awk -F: '$1 == "uid" {print $10}')
is "$uids" "Alice Test <alice@example.org>" \
    "the attached key has exactly the one user ID"

# --- before confirming ------------------------------------------------------
code=$(http GET "$URL/vks/v1/by-email/alice%40example.org")
is "$code" 404 "before: by-email 404"
code=$(http GET "$URL/pks/lookup?op=index&options=mr&search=alice@example.org")
is "$code" 404 "before: HKP search 404"
out=$(g "$A" --with-colons --search-keys alice@example.org 2>&1)
unlike "$out" "$FPR" "before: gpg --search-keys finds nothing"
code=$(http GET "$URL/vks/v1/by-fingerprint/$FPR")
is "$code" 200 "before: by-fingerprint 200"
pk=$(g "$S" --list-packets <"$T_DIR/body" 2>&1)
like "$pk" ":public key packet:" "before: by-fingerprint serves the key"
unlike "$pk" ":user ID packet:" "before: ... without user IDs"

code=$(http GET "$LINK")
is "$code" 200 "GET on the link: 200"
like "$(body)" "alice@example\.org" "GET page names the address"
like "$(page_text)" "$FPR" "GET page names the fingerprint"
like "$(body)" '<form method="post"' "GET page has a form to confirm"
code=$(http GET "$URL/vks/v1/by-email/alice%40example.org")
is "$code" 404 "after GET: still 404 by email"

code=$(confirm "$LINK")
is "$code" 200 "POST on the link: 200"
like "$(body)" "now published" "the page says published"
like "$(grep -F 'published alice@example.org' "$LOG")" "$FPR" \
    "keydird logs the publication"

# --- after confirming: gpg from fresh homes ---------------------------------
mk_gnupghome B "$KP"
st=$(g "$B" --status-fd 1 --recv-keys "$FPR" 2>/dev/null)
like "$st" "IMPORT_OK [0-9]+ $FPR" "gpg --recv-keys FPR imports the key"
like "$(g "$B" --with-colons -k "$FPR" | awk -F: '$1=="uid"{print $10}')" \
    '^Alice Test <alice@example.org>$' "... with the user ID"

mk_gnupghome C "$KP"
st=$(g "$C" --status-fd 1 --recv-keys "$KEYID" 2>/dev/null)
like "$st" "IMPORT_OK [0-9]+ $FPR" "gpg --recv-keys LONGKEYID imports the key"

out=$(g "$C" --with-colons --search-keys alice@example.org 2>/dev/null)
ok $? "gpg --with-colons --search-keys exits 0"
like "$out" "$FPR" "gpg --search-keys lists the fingerprint"
like "$out" "uid:Alice%20Test%20<alice@example.org>" "... and the user ID (mr format, %-escaped)"

mk_gnupghome D "$KP"
st=$(g "$D" --status-fd 1 --auto-key-locate clear,nodefault,keyserver \
    --locate-external-keys alice@example.org 2>/dev/null)
like "$st" "IMPORT_OK [0-9]+ $FPR" "gpg --locate-external-keys imports the key"
st=$(g "$D" --status-fd 1 --auto-key-locate clear,nodefault,keyserver \
    --locate-external-keys Alice@Example.ORG 2>/dev/null)
like "$st" "IMPORT_OK [0-9]+ $FPR" "... also for the address in another case"

sigs=$(g "$B" --with-colons --check-sigs "$FPR" 2>/dev/null | grep '^sig:')
n_all=$(printf '%s\n' "$sigs" | grep -c '^sig:')
n_good=$(printf '%s\n' "$sigs" | awk -F: -v k="$KEYID" '$2 == "!" && $5 == k' | wc -l)
ok "$([ "$n_all" -ge 2 ] && [ "$n_all" = "$n_good" ]; echo $?)" \
    "check-sigs: only good self-signatures ($n_good of $n_all)" ||
    diag "$sigs"

# --- the key-identifier API, caching, CORS ------------------------------------
code=$(http GET "$URL/api/v1/lookup/ALICE@EXAMPLE.ORG")
is "$code" 200 "/api/v1/lookup/ADDRESS (upper case) 200"
is "$(jq -r .fingerprint "$T_DIR/body")" "$FPR" "... fingerprint"
is "$(jq -r .keyid "$T_DIR/body")" "$KEYID" "... keyid"
is "$(jq -r .address "$T_DIR/body")" "alice@example.org" "... address normalised"
like "$(jq -r .updated "$T_DIR/body")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "... updated"
code=$(http GET "$URL/api/v1/lookup/nobody@example.org")
is "$code" 404 "/api/v1/lookup of an unknown address: 404"
like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "No key found" "... JSON error"

code=$(http GET "$URL/vks/v1/by-fingerprint/$FPR")
ET=$(header ETag)
like "$ET" '^".+"$' "by-fingerprint has an ETag"
is "$(header Access-Control-Allow-Origin)" "*" "by-fingerprint has ACAO *"
like "$(header Content-Type)" "application/pgp-keys" "Content-Type application/pgp-keys"
code=$(http GET "$URL/vks/v1/by-fingerprint/$FPR" -H "If-None-Match: $ET")
is "$code" 304 "If-None-Match with the ETag: 304"
is "$(wc -c <"$T_DIR/body")" 0 "... with no body"
code=$(http GET "$URL/vks/v1/by-email/alice%40example.org" -H 'If-None-Match: "nope"')
is "$code" 200 "If-None-Match with another ETag: 200"
code=$(http GET "$URL/pks/lookup?op=get&options=mr&search=alice@example.org" \
    -H "If-None-Match: $ET")
is "$code" 304 "HKP get answers If-None-Match too"

# --- a key with two user IDs, one confirmed -------------------------------------
BFPR=$(gen_key "$A" 'Bob Test <bob@example.org>')
g "$A" --quick-add-uid "$BFPR" 'Bob Work <bob@work.example.com>' >/dev/null 2>&1
ok $? "gpg --quick-add-uid adds Bob's second user ID"
out=$(g "$A" --send-keys "$BFPR" 2>&1)
ok $? "gpg --send-keys Bob's key" || diag "$out"
wait_until 30 has_mail "$MD" bob@work.example.com
M1=$(mail_to "$MD" bob@example.org)
M2=$(mail_to "$MD" bob@work.example.com)
ok "$([ -n "$M1" ] && [ -n "$M2" ]; echo $?)" "one mail to each of Bob's addresses"
code=$(confirm "$(link_of "$M1")")
is "$code" 200 "Bob confirms only bob@example.org"
code=$(http GET "$URL/vks/v1/by-fingerprint/$BFPR")
is "$code" 200 "Bob's key by fingerprint"
pk=$(g "$S" --list-packets <"$T_DIR/body" 2>&1)
is "$(printf '%s\n' "$pk" | grep -c ':user ID packet:')" 1 "... has one user ID packet"
like "$pk" 'user ID packet: "Bob Test <bob@example.org>"' "... the confirmed one"
unlike "$pk" 'bob@work\.example\.com' "... and not the other"
show=$(g "$S" --with-colons --import-options show-only --import <"$T_DIR/body" 2>/dev/null |
    awk -F: '$1=="uid"{print $10}')
is "$show" "Bob Test <bob@example.org>" "gpg --import-options show-only agrees"
code=$(http GET "$URL/vks/v1/by-email/bob%40work.example.com")
is "$code" 404 "the unconfirmed address is not found"

# --- Sequoia ------------------------------------------------------------------
if command -v sq >/dev/null 2>&1; then
	sq keyserver -p insecure -s "hkp://127.0.0.1:$KP" get alice@example.org \
	    -o "$T_DIR/sq.asc" >/dev/null 2>"$T_DIR/sq.err"
	ok $? "sq keyserver get alice@example.org" || diag "$(cat "$T_DIR/sq.err")"
	ins=$(sq inspect "$T_DIR/sq.asc" 2>&1)
	like "$ins" "Fingerprint: $FPR" "sq inspect shows Alice's fingerprint"
	like "$ins" "alice@example\.org" "... and her user ID"
	sq keyserver -p insecure -s "hkp://127.0.0.1:$KP" get "$KEYID" \
	    -o "$T_DIR/sq2.asc" >/dev/null 2>&1
	like "$(sq inspect "$T_DIR/sq2.asc" 2>&1)" "Fingerprint: $FPR" \
	    "sq keyserver get KEYID"
else
	echo "ok $((T_N += 1)) # SKIP sq is not installed"
fi

done_testing
