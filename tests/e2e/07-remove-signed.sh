#!/bin/bash
# 07-remove-signed: POST /api/v1/remove with a statement signed by the key
# itself.  Removal of a list of addresses (inline signature) and of the
# whole key (cleartext signature); every refusal (replay, stale date, wrong
# server, foreign signer, tampered text, unsigned text, an address not on
# the key, an unknown key) with its status and message, and nothing changed;
# a signature by a signing subkey; a revoked key signing its own removal,
# which leaves its tombstone (the primary key with its revocation, no user
# ID, no subkey) findable by fingerprint and key id, every address 404,
# and a second signed removal is refused (409): a tombstone stays.
# Mail goes to the server's Maildir (no --smtp).
#
# How a user removes a key or some of its addresses (the commands this test
# runs, with FPR the primary fingerprint):
#
#   cat >removal.txt <<EOF
#   keydir-request: remove
#   server: keys.example.org
#   fingerprint: FPR
#   addresses: all
#   nonce: $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
#   date: $(date -u +%Y-%m-%dT%H:%M:%SZ)
#   EOF
#   gpg -u 'FPR!' --clearsign removal.txt          # writes removal.txt.asc
#   curl -H 'Content-Type: text/plain' --data-binary @removal.txt.asc \
#       https://keys.example.org/api/v1/remove
#
# server: the host[:port] of the directory's base URL, exactly.
# addresses: "all" deletes the key; "a@example.org, b@example.net" only
#   unpublishes those addresses (each must be published with this key).
# nonce: 16 to 128 printable characters without spaces, never used before.
# date: RFC 3339 UTC, within 15 minutes of the server's clock.
# Instead of --clearsign, `gpg -u 'FPR!' --sign --armor removal.txt` (an
# inline signature) works too; so does a signing subkey:
#   gpg --quick-add-key FPR ed25519 sign            # then upload the key again
#   gpg -u 'SUBKEYID!' --clearsign removal.txt
# A revoked key may still sign its own removal; `addresses: all` then
# unpublishes every address but keeps the key's revocation (answer
# {"fingerprint", "removed": "all", "kept": "revocation"}), so that nobody
# can hide that it was revoked.  gpg refuses to sign with a key it knows is
# revoked: sign before importing the revocation certificate
#   sed 's/^:-----BEGIN/-----BEGIN/' ~/.gnupg/openpgp-revocs.d/FPR.rev |
#       gpg --import
# (or sign in a copy of the GNUPGHOME that has not imported it).
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
OTHER=$(free_port)	# another server authority, for "wrong server"
DATA=$T_DIR/data
MD=$DATA/mail
LOG=$T_DIR/keydird.log
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts on port $KP"
URL=$KD_URL
AUTH=127.0.0.1:$KP

mk_gnupghome A "$KP"
mk_gnupghome S "$KP"		# scratch home for inspecting answers

# clearsign SIGNER OUT (statement on stdin); inline SIGNER OUT
clearsign() {
	g "$A" -u "$1" --clearsign >"$2" 2>/dev/null
}
inline() {
	g "$A" -u "$1" --sign --armor >"$2" 2>/dev/null
}


# snap: SNAP, the state (lib.sh) as keydird state shows it now.  state
# ends the test when keydird state fails, and the snapshot must hold every
# field, so no "nothing changed" below can compare two empty strings.
snap() {
	SNAP=$(state)
	like "$SNAP" '^[0-9]+ [1-9][0-9]* [0-9]+ [0-9]+ [0-9]+ [^ ]+@[^ ]+=[0-9A-F]{40}[^ ]* "[0-9a-f]{32}"[^ ]*$' \
	    "snapshot taken ($SNAP)"
}

# refused WANT_CODE ERE DESCRIPTION (after a remove): the status, a JSON
# error matching ERE, the database as in SNAP, $STILL still found by email
STILL=kate@example.org
refused() {
	local code=$1 want=$2 re=$3 desc=$4
	is "$code" "$want" "$desc: $want"
	like "$(header Content-Type)" "application/json" "... JSON answer"
	like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "$re" "... error /$re/"
	is "$(state)" "$SNAP" "... nothing changed (keydird state)"
	is "$(http GET "$URL/vks/v1/by-email/$STILL")" 200 \
	    "... $STILL still published"
}

# --- keys ----------------------------------------------------------------------
K=$(gen_key "$A" 'Kate Sign <kate@example.org>')
like "$K" '^[0-9A-F]{40}$' "gpg made Kate's key K" || bail "no key"
g "$A" --quick-add-uid "$K" 'Kate Home <kate@home.example.net>' >/dev/null 2>&1
g "$A" --export --armor "$K" >"$T_DIR/k.asc"
publish "$URL" "$MD" "$T_DIR/k.asc" kate@example.org kate@home.example.net
ok $? "K is published for kate@example.org and kate@home.example.net" ||
    bail "cannot publish K"
L=$(gen_key "$A" 'Larry Other <larry@example.org>')
g "$A" --export --armor "$L" >"$T_DIR/l.asc"
publish "$URL" "$MD" "$T_DIR/l.asc" larry@example.org
ok $? "L is published for larry@example.org" || bail "cannot publish L"

snap

# --- refusals: nothing changes ------------------------------------------------------
statement "$K" all >"$T_DIR/plain.txt"
refused "$(remove "$T_DIR/plain.txt")" 400 "not a signed message" \
    "unsigned statement"

statement "$K" all "$AUTH" "$(rfc3339 -1200)" | clearsign "$K!" "$T_DIR/stale.asc"
refused "$(remove "$T_DIR/stale.asc")" 400 "stale date" \
    "date 20 minutes ago"
statement "$K" all "$AUTH" "$(rfc3339 1200)" | clearsign "$K!" "$T_DIR/future.asc"
refused "$(remove "$T_DIR/future.asc")" 400 "stale date" \
    "date 20 minutes ahead"

statement "$K" all "127.0.0.1:$OTHER" | clearsign "$K!" "$T_DIR/server.asc"
refused "$(remove "$T_DIR/server.asc")" 400 "wrong server" \
    "statement for another server (127.0.0.1:$OTHER)"

statement "$K" all | clearsign "$L!" "$T_DIR/foreign.asc"
refused "$(remove "$T_DIR/foreign.asc")" 403 "^not signed by this key" \
    "K's statement signed by L"

statement "$K" kate@home.example.net | clearsign "$K!" "$T_DIR/good.asc"
sed 's/^addresses: .*/addresses: all/' "$T_DIR/good.asc" >"$T_DIR/tamper1.asc"
ok "$(cmp -s "$T_DIR/good.asc" "$T_DIR/tamper1.asc"; [ $? = 1 ]; echo $?)" \
    "tampered copy differs in the addresses line"
refused "$(remove "$T_DIR/tamper1.asc")" 403 "^the signature is not good" \
    "signed text edited (addresses: all instead of one)"
sed -E 's/^(nonce: )(.)/\1Z/' "$T_DIR/good.asc" >"$T_DIR/tamper2.asc"
refused "$(remove "$T_DIR/tamper2.asc")" 403 "^the signature is not good" \
    "signed text edited (one character of the nonce)"

statement "$K" larry@example.org | clearsign "$K!" "$T_DIR/notmine.asc"
refused "$(remove "$T_DIR/notmine.asc")" 400 "larry@example.org is not published for this key" \
    "list naming an address of another key"
statement "$K" "kate@example.org, nobody@example.org" |
    clearsign "$K!" "$T_DIR/partly.asc"
refused "$(remove "$T_DIR/partly.asc")" 400 "nobody@example.org is not published" \
    "list with one published and one unknown address (all or nothing)"

U=$(gen_key "$A" 'Una Known <una@example.org>')	# never uploaded
statement "$U" all | clearsign "$U!" "$T_DIR/unknown.asc"
refused "$(remove "$T_DIR/unknown.asc")" 404 "No key found" \
    "statement for a key the directory does not have"

# --- removal of one address (inline signature), replay ------------------------------
statement "$K" kate@example.org | inline "$K!" "$T_DIR/one.asc"
like "$(head -1 "$T_DIR/one.asc")" "BEGIN PGP MESSAGE" "gpg --sign --armor made an inline signed message"
code=$(remove "$T_DIR/one.asc")
is "$code" 200 "list removal: 200"
is "$(jq -c . "$T_DIR/body")" "{\"fingerprint\":\"$K\",\"removed\":1}" \
    "... {fingerprint, removed: 1}"
is "$(http GET "$URL/vks/v1/by-email/kate%40example.org")" 404 \
    "kate@example.org: by-email 404"
is "$(http GET "$URL/api/v1/lookup/kate@example.org")" 404 \
    "kate@example.org: /api/v1/lookup 404"
is "$(http GET "$URL/pks/lookup?op=index&options=mr&search=kate@example.org")" 404 \
    "kate@example.org: HKP index 404"
is "$(http GET "$URL/vks/v1/by-email/kate%40home.example.net")" 200 \
    "kate@home.example.net: still published"
code=$(http GET "$URL/vks/v1/by-fingerprint/$K")
is "$code" 200 "K still by fingerprint"
is "$(key_uids "$S" "$T_DIR/body")" "Kate Home <kate@home.example.net>" \
    "... with only the user ID still published"

snap
STILL=kate@home.example.net
refused "$(remove "$T_DIR/one.asc")" 409 "already used" \
    "the same signed request again (replayed nonce)"

# --- removal of the whole key (cleartext signature) -----------------------------------
n_tok=$(state_of "$DATA" .tokens.total)
k_tok=$(key_state "$DATA" "$K" '.tokens | length')
like "$k_tok" '^[1-9]' "K has tokens stored ($k_tok of $n_tok)"
statement "$K" all | clearsign "$K!" "$T_DIR/all.asc"
like "$(head -1 "$T_DIR/all.asc")" "BEGIN PGP SIGNED MESSAGE" "gpg --clearsign made a cleartext signed message"
code=$(remove "$T_DIR/all.asc")
is "$code" 200 "removal of all: 200"
is "$(jq -c . "$T_DIR/body")" "{\"fingerprint\":\"$K\",\"removed\":\"all\"}" \
    "... {fingerprint, removed: all}"
is "$(http GET "$URL/vks/v1/by-fingerprint/$K")" 404 "K: by-fingerprint 404"
is "$(http GET "$URL/vks/v1/by-keyid/${K:24}")" 404 "K: by-keyid 404"
is "$(http GET "$URL/vks/v1/by-email/kate%40home.example.net")" 404 \
    "kate@home.example.net: by-email 404"
is "$(http GET "$URL/api/v1/lookup/kate@home.example.net")" 404 \
    "kate@home.example.net: /api/v1/lookup 404"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=0x$K")" 404 \
    "K: HKP get by fingerprint 404"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=kate@home.example.net")" 404 \
    "K: HKP get by address 404"
err=$("$KEYDIRD" state --data-dir "$DATA" "$K" 2>&1 >/dev/null)
rc=$?
printf '%s\n' "$err" >>"$T_DIR/state.log"
like "$rc $err" "^1 .*no key $K in the directory$" \
    "keydird state K: exit 1, no such key"
is "$(state_of "$DATA" .tokens.total)" $((n_tok - k_tok)) \
    "... and its $k_tok tokens are gone with it"
is "$(http GET "$URL/vks/v1/by-email/larry%40example.org")" 200 \
    "L is untouched"

# --- one address named twice ---------------------------------------------------------------
# Addresses are compared normalised, so "larry@example.org, Larry@Example.ORG"
# names one published address twice.  Removing it once (200, removed 1) or
# refusing the list as malformed (400 naming the duplicate) are both
# honest; a 400 saying that the published address "is not published for
# this key" is not.
statement "$L" "larry@example.org, Larry@Example.ORG" | clearsign "$L!" "$T_DIR/dup.asc"
code=$(remove "$T_DIR/dup.asc")
like "$code" '^(200|400)$' "list naming larry@example.org twice: 200 or 400 ($code)"
unlike "$(jq -r '.error // empty' "$T_DIR/body" 2>/dev/null)" "is not published" \
    "... not refused as 'not published' (it is published on this key)"
if [ "$code" = 200 ]; then
	is "$(jq -c . "$T_DIR/body")" "{\"fingerprint\":\"$L\",\"removed\":1}" \
	    "... {fingerprint, removed: 1}"
	is "$(http GET "$URL/vks/v1/by-email/larry%40example.org")" 404 \
	    "... larry@example.org: by-email 404"
else
	is "$(http GET "$URL/vks/v1/by-email/larry%40example.org")" 200 \
	    "... larry@example.org still published"
fi

# --- signed by a signing subkey ------------------------------------------------------------
SF=$(gen_key "$A" 'Sam Sub <sam@example.org>')
g "$A" --export --armor "$SF" >"$T_DIR/s.asc"
publish "$URL" "$MD" "$T_DIR/s.asc" sam@example.org
ok $? "Sam's key is published for sam@example.org" || bail "cannot publish"
g "$A" --quick-add-key "$SF" ed25519 sign >/dev/null 2>&1
SUB=$(g "$A" --with-colons --list-keys "$SF" |
    awk -F: '$1 == "sub" && $12 ~ /s/ {s = 1; next} s && $1 == "fpr" {print $10; exit}')
like "$SUB" '^[0-9A-F]{40}$' "gpg --quick-add-key added a signing subkey"
g "$A" --export --armor "$SF" >"$T_DIR/s2.asc"
n_out=$(state_of "$DATA" .outbox.total)
code=$(vks_upload "$URL" "$T_DIR/s2.asc")
is "$code" 200 "re-upload with the subkey: 200"
is "$(state_of "$DATA" .outbox.total)" "$n_out" "... queues no mail"
code=$(http GET "$URL/vks/v1/by-fingerprint/$SF")
like "$(g "$S" --with-colons --import-options show-only --import <"$T_DIR/body" 2>/dev/null)" \
    "fpr:+$SUB:" "... and the server has the subkey"
statement "$SF" all | clearsign "${SUB:24}!" "$T_DIR/sub.asc"
like "$(g "$A" --status-fd 1 --verify "$T_DIR/sub.asc" 2>/dev/null)" \
    "VALIDSIG $SUB .* $SF" "gpg signed with the subkey, not the primary"
code=$(remove "$T_DIR/sub.asc")
is "$code" 200 "removal signed by the subkey: 200" || diag "$(body)"
is "$(jq -r .removed "$T_DIR/body")" all "... removed all"
is "$(http GET "$URL/vks/v1/by-fingerprint/$SF")" 404 "Sam's key: by-fingerprint 404"
is "$(http GET "$URL/vks/v1/by-email/sam%40example.org")" 404 "sam@example.org: by-email 404"

# --- a revoked key signs its own removal: its tombstone stays ------------------------------
R=$(gen_key "$A" 'Rob Revoked <rob@example.org>')
g "$A" --export --armor "$R" >"$T_DIR/r.asc"
publish "$URL" "$MD" "$T_DIR/r.asc" rob@example.org
ok $? "Rob's key is published for rob@example.org" || bail "cannot publish"
like "$(g "$S" --list-packets <"$T_DIR/body" 2>&1)" "public sub key packet" \
    "... with its encryption subkey"
# sign first: gpg will not sign with a key it knows is revoked
statement "$R" all | clearsign "$R!" "$T_DIR/rev.asc"
statement "$R" all | clearsign "$R!" "$T_DIR/rev2.asc"
ok "$([ -s "$T_DIR/rev.asc" ] && [ -s "$T_DIR/rev2.asc" ]; echo $?)" \
    "two removals are signed before the revocation is imported"
sed 's/^:-----BEGIN/-----BEGIN/' "$A/openpgp-revocs.d/$R.rev" |
    g "$A" --import >/dev/null 2>&1
like "$(g "$A" --with-colons --list-keys "$R" | awk -F: '$1 == "pub" {print $2}')" \
    '^r$' "gpg imported the revocation"
g "$A" --export --armor "$R" >"$T_DIR/r2.asc"
code=$(vks_upload "$URL" "$T_DIR/r2.asc")
is "$code" 200 "upload of the revoked key: 200"
code=$(http GET "$URL/vks/v1/by-fingerprint/$R")
is "$code" 200 "the revoked key is served by fingerprint"
like "$(g "$S" --list-packets <"$T_DIR/body" 2>&1)" "sigclass 0x20" \
    "... with its key revocation signature"
n_nonce=$(state_of "$DATA" .nonces)
code=$(remove "$T_DIR/rev.asc")
is "$code" 200 "removal signed by the (now revoked) key: 200" || diag "$(body)"
TOMB="{\"fingerprint\":\"$R\",\"kept\":\"revocation\",\"removed\":\"all\"}"
is "$(jq -cS . "$T_DIR/body")" "$TOMB" \
    '... {"fingerprint":R,"removed":"all","kept":"revocation"}'
is "$(state_of "$DATA" .nonces)" $((n_nonce + 1)) \
    "... its nonce is stored"

# tombstone DESCRIPTION (after a lookup): Rob's key with its revocation,
# no user ID, no subkey
tombstone() {
	local p
	p=$(g "$S" --list-packets <"$T_DIR/body" 2>&1)
	is "$(key_fprs "$S" "$T_DIR/body")" "$R" "$1: Rob's key"
	like "$p" "sigclass 0x20" "... with its key revocation signature"
	unlike "$p" "user ID packet" "... no user ID"
	unlike "$p" "public sub key packet" "... no subkey"
}
is "$(http GET "$URL/vks/v1/by-fingerprint/$R")" 200 "Rob's key: by-fingerprint 200"
tombstone "VKS by-fingerprint"
cp "$T_DIR/body" "$T_DIR/tomb.asc"
is "$(http GET "$URL/vks/v1/by-keyid/${R:24}")" 200 "Rob's key: by-keyid 200"
tombstone "VKS by-keyid"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=0x$R")" 200 \
    "Rob's key: HKP get by fingerprint 200"
tombstone "HKP get by fingerprint"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=0x${R:24}")" 200 \
    "Rob's key: HKP get by key id 200"
tombstone "HKP get by key id"
is "$(http GET "$URL/vks/v1/by-email/rob%40example.org")" 404 "rob@example.org: by-email 404"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=rob@example.org")" 404 \
    "rob@example.org: HKP get 404"
is "$(http GET "$URL/api/v1/lookup/rob@example.org")" 404 \
    "rob@example.org: /api/v1/lookup 404"

n_nonce=$(state_of "$DATA" .nonces)
code=$(remove "$T_DIR/rev2.asc")
is "$code" 409 "a second signed removal of all (another nonce): 409" || diag "$(body)"
like "$(jq -r .error "$T_DIR/body")" "only its revocation is kept, and that is never removed" \
    "... the tombstone is never removed"
is "$(state_of "$DATA" .nonces)" "$n_nonce" \
    "... its nonce is not used up"
is "$(http GET "$URL/vks/v1/by-fingerprint/$R")" 200 "... Rob's key: still by-fingerprint 200"
tombstone "after the second removal"
ok "$(cmp -s "$T_DIR/body" "$T_DIR/tomb.asc"; echo $?)" "... the same tombstone bytes"
is "$(http GET "$URL/vks/v1/by-email/rob%40example.org")" 404 \
    "... rob@example.org: still by-email 404"

like "$(grep -F 'signed removal of' "$LOG")" "signed removal of $K: whole key deleted" \
    "keydird logs the removals"
like "$(grep -F "signed removal of $R" "$LOG")" "revocation" \
    "... and that Rob's key is kept as its revocation"

done_testing
