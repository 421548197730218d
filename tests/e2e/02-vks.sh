#!/bin/bash
# 02-vks: the VKS v1 API with curl + jq: upload, request-verify, confirm,
# lookups, errors, several certs, base64, merging a new subkey, revocation,
# one key per address, and one_address_per_key.  Mail goes to the server's
# Maildir (no --smtp).
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
MD=$DATA/mail
LOG=$T_DIR/keydird.log
# one mail per address per mail_rate: 1 s (the least), so that a second
# key can ask for an address soon after the first
start_keydird "$KP" "$DATA" "$LOG" --set mail_rate=1s ||
    bail "keydird starts on port $KP"
URL=$KD_URL

mk_gnupghome A "$KP"
mk_gnupghome S "$KP"		# scratch home for inspecting answers

# inspect FILE: gpg --list-packets of a key file
inspect() {
	g "$S" --list-packets <"$1" 2>&1
}

# --- the happy path -------------------------------------------------------
FPR=$(gen_key "$A" 'Erin VKS <erin@example.org>')
like "$FPR" '^[0-9A-F]{40}$' "gpg made Erin's key" || bail "no key"
KEYID=${FPR:24}
g "$A" --export --armor "$FPR" >"$T_DIR/erin.asc"

code=$(vks_upload "$URL" "$T_DIR/erin.asc")
is "$code" 200 "upload: 200"
is "$(header Content-Type)" "application/json" "upload: JSON answer"
is "$(jq -r .key_fpr "$T_DIR/body")" "$FPR" "upload: key_fpr"
is "$(jq -r '.status["erin@example.org"]' "$T_DIR/body")" unpublished \
    "upload: status unpublished"
TOKEN=$(jq -r .token "$T_DIR/body")
like "$TOKEN" '^[A-Za-z0-9_-]{20,}$' "upload: a token"
is "$(mail_count "$MD")" 0 "upload alone sends no mail"

code=$(vks_request "$URL" "$TOKEN" erin@example.org)
is "$code" 200 "request-verify: 200"
is "$(jq -r '.status["erin@example.org"]' "$T_DIR/body")" pending \
    "request-verify: status pending"
is "$(jq -r .key_fpr "$T_DIR/body")" "$FPR" "request-verify: key_fpr"
wait_until 20 has_mail "$MD" erin@example.org
M=$(mail_to "$MD" erin@example.org)
ok "$([ -n "$M" ]; echo $?)" "request-verify: the mail arrives in the Maildir"
LINK=$(link_of "$M")
like "$LINK" "^$URL/verify/" "the mail has the link"

code=$(http GET "$URL/vks/v1/by-email/erin%40example.org")
is "$code" 404 "before confirming: by-email 404"
code=$(confirm "$LINK")
is "$code" 200 "confirm: 200"

code=$(http GET "$URL/vks/v1/by-email/erin%40example.org")
is "$code" 200 "by-email (percent-encoded) 200"
like "$(inspect "$T_DIR/body")" 'user ID packet: "Erin VKS <erin@example.org>"' \
    "by-email serves the key with the user ID"
code=$(http GET "$URL/vks/v1/by-email/erin@example.org")
is "$code" 200 "by-email (raw @) 200"
code=$(http GET "$URL/vks/v1/by-email/Erin%40Example.ORG")
is "$code" 200 "by-email in another case 200"
code=$(http GET "$URL/vks/v1/by-fingerprint/$FPR")
is "$code" 200 "by-fingerprint 200"
like "$(body)" "BEGIN PGP PUBLIC KEY BLOCK" "by-fingerprint is armored"
code=$(http GET "$URL/vks/v1/by-fingerprint/$(printf '%s' "$FPR" | tr A-F a-f)")
is "$code" 200 "by-fingerprint lower case 200"
code=$(http GET "$URL/vks/v1/by-keyid/$KEYID")
is "$code" 200 "by-keyid 200"
code=$(http GET "$URL/vks/v1/by-keyid/$(printf '%s' "$KEYID" | tr A-F a-f)")
is "$code" 200 "by-keyid lower case 200"
code=$(http GET "$URL/vks/v1/by-fingerprint/0000000000000000000000000000000000000000")
is "$code" 404 "unknown fingerprint 404"
code=$(http GET "$URL/vks/v1/by-email/nobody%40example.org")
is "$code" 404 "unknown address 404"

n0=$(mail_count "$MD")
code=$(vks_upload "$URL" "$T_DIR/erin.asc")
is "$code" 200 "re-upload: 200"
is "$(jq -r '.status["erin@example.org"]' "$T_DIR/body")" published \
    "re-upload: status published"
TOKEN2=$(jq -r .token "$T_DIR/body")
code=$(vks_request "$URL" "$TOKEN2" erin@example.org)
is "$(jq -r '.status["erin@example.org"]' "$T_DIR/body")" published \
    "request-verify of a published address: still published"
is "$(mail_count "$MD")" "$n0" "... and no mail"

# --- errors -------------------------------------------------------------------
code=$(vks_request "$URL" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" erin@example.org)
is "$code" 400 "request-verify with a bad token: 400"
is "$(jq -r .error "$T_DIR/body")" "Upload session expired. Please try again." \
    "... Upload session expired"
code=$(vks_request "$URL" "nonsense" erin@example.org)
is "$code" 400 "request-verify with a malformed token: 400"
is "$(jq -r .error "$T_DIR/body")" "Upload session expired. Please try again." \
    "... Upload session expired"

jq -n --rawfile k "$T_DIR/erin.asc" '{keytext: $k}' >"$T_DIR/req.json"
code=$(http POST "$URL/vks/v1/upload" -H 'Content-Type: text/plain' \
    --data-binary @"$T_DIR/req.json")
is "$code" 400 "upload as text/plain: 400"
like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "application/json" \
    "... JSON error naming application/json"
code=$(http POST "$URL/vks/v1/upload" -H 'Content-Type: application/json' \
    --data-binary '{"keytext":')
is "$code" 400 "upload of broken JSON: 400"
like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "." "... with a JSON error"

# --- several certs, base64 ----------------------------------------------------------
F1=$(gen_key "$A" 'Multi One <multi1@example.org>')
F2=$(gen_key "$A" 'Multi Two <multi2@example.org>')
g "$A" --export --armor "$F1" "$F2" >"$T_DIR/two.asc"
code=$(vks_upload "$URL" "$T_DIR/two.asc")
is "$code" 200 "upload of two certs in one armor: 200"
is "$(jq -c 'sort' "$T_DIR/body" 2>/dev/null)" \
    "$(jq -cn --arg a "$F1" --arg b "$F2" '[$a, $b] | sort')" \
    "... answer is the array of the two fingerprints"
F3=$(gen_key "$A" 'Multi Three <multi3@example.org>')
F4=$(gen_key "$A" 'Multi Four <multi4@example.org>')
{ g "$A" --export --armor "$F3"; g "$A" --export --armor "$F4"; } >"$T_DIR/cat.asc"
code=$(vks_upload "$URL" "$T_DIR/cat.asc")
is "$code" 200 "upload of two armored certs concatenated: 200"
is "$(jq -c 'if type == "array" then sort else . end' "$T_DIR/body" 2>/dev/null)" \
    "$(jq -cn --arg a "$F3" --arg b "$F4" '[$a, $b] | sort')" \
    "... answer is the array of the two fingerprints" || diag "$(body)"
code=$(http GET "$URL/vks/v1/by-fingerprint/$F4")
is "$code" 200 "the second concatenated cert is stored"

F5=$(gen_key "$A" 'Base Sixtyfour <b64@example.org>')
g "$A" --export "$F5" | base64 -w 76 >"$T_DIR/b64.txt"
code=$(vks_upload "$URL" "$T_DIR/b64.txt")
is "$code" 200 "upload of base64 binary keytext: 200"
is "$(jq -r .key_fpr "$T_DIR/body")" "$F5" "... key_fpr"
is "$(jq -r '.status["b64@example.org"]' "$T_DIR/body")" unpublished \
    "... status unpublished"

# --- new subkeys merge ----------------------------------------------------------
n0=$(mail_count "$MD")
# subkey_fprs HOME FPR: the subkey fingerprints of FPR, one a line
subkey_fprs() {
	g "$1" --with-colons --with-subkey-fingerprints -k "$2" |
	    awk -F: '$1=="sub"{s=1; next} $1=="fpr" && s {print $10; s=0}'
}
before=$(subkey_fprs "$A" "$FPR")
g "$A" --quick-add-key "$FPR" cv25519 encr never >/dev/null 2>&1
ESUB=$(subkey_fprs "$A" "$FPR" | grep -vxF "$before")
g "$A" --quick-add-key "$FPR" ed25519 sign never >/dev/null 2>&1
SSUB=$(subkey_fprs "$A" "$FPR" | grep -vxF "$before" | grep -vxF "$ESUB")
ok "$([ -n "$ESUB" ] && [ -n "$SSUB" ]; echo $?)" \
    "gpg --quick-add-key added an encryption and a signing subkey"
g "$A" --export --armor "$FPR" >"$T_DIR/erin2.asc"
code=$(vks_upload "$URL" "$T_DIR/erin2.asc")
is "$code" 200 "re-upload with the new subkeys: 200"
is "$(jq -r '.status["erin@example.org"]' "$T_DIR/body")" published \
    "... the address stays published"
code=$(http GET "$URL/vks/v1/by-fingerprint/$FPR")
show=$(g "$S" --with-colons --with-subkey-fingerprints --import-options show-only \
    --import <"$T_DIR/body" 2>/dev/null)
like "$show" "fpr:+$ESUB:" "by-fingerprint now has the new encryption subkey"
like "$show" "fpr:+$SSUB:" "by-fingerprint now has the new signing subkey"
code=$(http GET "$URL/vks/v1/by-keyid/${SSUB:24}")
is "$code" 200 "by-keyid of the new signing subkey 200"
code=$(http GET "$URL/vks/v1/by-fingerprint/$SSUB")
is "$code" 200 "by-fingerprint of the new signing subkey 200"
# Hagrid's rule: only signing-capable subkeys (back-signed) are indexed
code=$(http GET "$URL/vks/v1/by-keyid/${ESUB:24}")
is "$code" 404 "by-keyid of an encryption subkey 404 (not linkable)"
code=$(http GET "$URL/vks/v1/by-email/erin%40example.org")
is "$code" 200 "by-email still 200 after the merge"
like "$(inspect "$T_DIR/body")" 'Erin VKS <erin@example.org>' "... with the user ID"
is "$(mail_count "$MD")" "$n0" "the merge sent no mail"

# --- revocation ---------------------------------------------------------------------
REV=$(GNUPGHOME=$A gpgconf --list-dirs homedir)/openpgp-revocs.d/$FPR.rev
ok "$([ -f "$REV" ]; echo $?)" "gpg left a revocation certificate"
sed 's/^:-----BEGIN/-----BEGIN/' "$REV" >"$T_DIR/rev.asc"
g "$A" --import "$T_DIR/rev.asc" >/dev/null 2>&1
like "$(g "$A" --with-colons -k "$FPR" | grep '^pub')" '^pub:r:' \
    "the key is revoked locally"
g "$A" --export --armor "$FPR" >"$T_DIR/erin-rev.asc"
code=$(vks_upload "$URL" "$T_DIR/erin-rev.asc")
is "$code" 200 "upload of the revoked key: 200"
is "$(jq -c .status "$T_DIR/body")" "{}" "... status {}"
RTOK=$(jq -r .token "$T_DIR/body")
code=$(http GET "$URL/vks/v1/by-email/erin%40example.org")
is "$code" 404 "revoked: by-email 404"
code=$(http GET "$URL/api/v1/lookup/erin%40example.org")
is "$code" 404 "revoked: /api/v1/lookup 404"
code=$(http GET "$URL/vks/v1/by-fingerprint/$FPR")
is "$code" 200 "revoked: by-fingerprint still 200"
cp "$T_DIR/body" "$T_DIR/served-rev.asc"
like "$(inspect "$T_DIR/served-rev.asc")" 'sigclass 0x20' \
    "... carries the key revocation signature"
mk_gnupghome R "$KP"
g "$R" --import "$T_DIR/erin.asc" >/dev/null 2>&1
g "$R" --import "$T_DIR/served-rev.asc" >/dev/null 2>&1
like "$(g "$R" --with-colons -k "$FPR" | grep '^pub')" '^pub:r:' \
    "... and gpg shows the key as revoked after importing it"
code=$(vks_request "$URL" "$RTOK" erin@example.org)
is "$code" 400 "request-verify for a revoked key: 400"
is "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "This key is revoked." "... This key is revoked."

# --- one key per address --------------------------------------------------------------
K1=$(gen_key "$A" 'Carol One <carol@example.org>')
g "$A" --export --armor "$K1" >"$T_DIR/k1.asc"
code=$(vks_upload "$URL" "$T_DIR/k1.asc")
vks_request "$URL" "$(jq -r .token "$T_DIR/body")" carol@example.org >/dev/null
wait_until 20 has_mail "$MD" carol@example.org
code=$(confirm "$(link_of "$(mail_to "$MD" carol@example.org)")")
is "$code" 200 "key 1 confirmed for carol@example.org"
code=$(http GET "$URL/vks/v1/by-email/carol%40example.org")
like "$(inspect "$T_DIR/body")" "keyid: ${K1:24}" "by-email serves key 1"

K2=$(gen_key "$A" 'Carol Two <carol@example.org>')
g "$A" --export --armor "$K2" >"$T_DIR/k2.asc"
n0=$(mails_to "$MD" carol@example.org)
code=$(vks_upload "$URL" "$T_DIR/k2.asc")
is "$(jq -r '.status["carol@example.org"]' "$T_DIR/body")" unpublished \
    "key 2 upload: carol@example.org unpublished for key 2"
# one mail per address per mail_rate (1 s here): past the second of key
# 1's mail, key 2 may have one
past_second "$(key_state "$DATA" "$K1" '.tokens[]
    | select(.kind == "verify" and .address == "carol@example.org") | .created')"
vks_request "$URL" "$(jq -r .token "$T_DIR/body")" carol@example.org >/dev/null
wait_until 20 has_more_mails "$MD" carol@example.org "$n0"
L2=$(link_of "$(mail_to "$MD" carol@example.org)")
ok "$([ "$(mails_to "$MD" carol@example.org)" -gt "$n0" ]; echo $?)" \
    "a mail for key 2 went out" || diag "$(grep carol "$LOG" | tail -3)"
code=$(http GET "$L2")
like "$(body)" "replaces" "the page for key 2 says it replaces key 1"
like "$(page_text)" "$K1" "... naming key 1"
code=$(confirm "$L2")
is "$code" 200 "key 2 confirmed for carol@example.org"
code=$(http GET "$URL/vks/v1/by-email/carol%40example.org")
like "$(inspect "$T_DIR/body")" "keyid: ${K2:24}" "by-email now serves key 2"
unlike "$(inspect "$T_DIR/body")" "keyid: ${K1:24}" "... and not key 1"
code=$(http GET "$URL/vks/v1/by-fingerprint/$K1")
is "$code" 200 "key 1 by fingerprint still 200"
unlike "$(inspect "$T_DIR/body")" "user ID packet" "... without the user ID"

# --- one_address_per_key (separate instance) -----------------------------------------------
KP2=$(free_port)
DATA2=$T_DIR/data2
MD2=$DATA2/mail
start_keydird "$KP2" "$DATA2" "$T_DIR/keydird2.log" --set one_address_per_key=1 ||
    bail "second keydird starts"
URL2=$KD_URL
D1=$(gen_key "$A" 'Dave <dave@one.example>')
g "$A" --quick-add-uid "$D1" 'Dave <dave@two.example>' >/dev/null 2>&1
g "$A" --export --armor "$D1" >"$T_DIR/dave.asc"
code=$(vks_upload "$URL2" "$T_DIR/dave.asc")
is "$code" 200 "one_address_per_key: upload 200"
TOK=$(jq -r .token "$T_DIR/body")
code=$(vks_request "$URL2" "$TOK" dave@one.example dave@two.example)
is "$(jq -c '.status' "$T_DIR/body")" \
    '{"dave@one.example":"pending","dave@two.example":"pending"}' \
    "one_address_per_key: both pending" || diag "$(body)"
wait_until 20 has_mail "$MD2" dave@two.example
code=$(confirm "$(link_of "$(mail_to "$MD2" dave@one.example)")")
is "$code" 200 "dave@one.example confirmed"
code=$(http GET "$URL2/vks/v1/by-email/dave%40one.example")
is "$code" 200 "dave@one.example published"
LD2=$(link_of "$(mail_to "$MD2" dave@two.example)")
code=$(http GET "$LD2")
is "$code" 200 "the page for dave@two.example: 200"
like "$(body)" "unpublishes" "... says confirming unpublishes the other address"
like "$(body)" "dave@one\.example" "... naming it"
code=$(confirm "$LD2")
is "$code" 200 "dave@two.example confirmed"
code=$(http GET "$URL2/vks/v1/by-email/dave%40two.example")
is "$code" 200 "dave@two.example published"
code=$(http GET "$URL2/vks/v1/by-email/dave%40one.example")
is "$code" 404 "dave@one.example no longer published"
code=$(http GET "$URL2/vks/v1/by-fingerprint/$D1")
pk=$(inspect "$T_DIR/body")
is "$(printf '%s\n' "$pk" | grep -c 'user ID packet')" 1 \
    "by-fingerprint has one user ID"
like "$pk" 'dave@two\.example' "... the last confirmed one"

done_testing
