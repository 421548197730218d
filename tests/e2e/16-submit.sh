#!/bin/bash
# 16-submit: signed submissions (claim 4).  A message encrypted to the
# server key and signed by the key it carries is taken as an upload that
# asks for confirmation of the addresses it lists; the mail says the key
# itself signed it.  Refused, each with the rule named and nothing stored
# or mailed: not encrypted, encrypted to another key, unsigned, signed by
# another key or by an encryption-only subkey (a message pgpcraft.py
# crafts), naming another server, signed more than 15 minutes ago,
# an address not on the key, a text that is not the submission format,
# and the same submission again.  GnuPG makes every message.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
MD=$DATA/mail

start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts on port $KP"
URL=$KD_URL
AUTH=127.0.0.1:$KP

mk_gnupghome H "$KP"
http GET "$URL/api/v1/server-key" >/dev/null
SFPR=$(header Keydir-Fingerprint)
g "$H" --import "$T_DIR/body" >/dev/null 2>&1
ok $? "the client imports the server key ($SFPR)"

# made a day ago, so that it can sign a message dated 20 minutes ago
g "$H" --faked-system-time "$(date -u -d '-1 day' +%Y%m%dT%H%M%S)" \
    --quick-gen-key "Sam <sam@example.org>" future-default default never \
    >/dev/null 2>&1
K=$(fpr_of "$H" sam@example.org)
O=$(gen_key "$H" "Olga <olga@example.org>")
STRANGER=$(gen_key "$H" "Nobody <nobody@example.net>")
g "$H" --armor --export "$K" >"$T_DIR/k.asc"

# payload FILE [SERVER [ADDRESSES-JSON]]: the submission text for K
payload() {
	jq -n --rawfile k "$T_DIR/k.asc" --arg s "${2:-$AUTH}" \
	    --argjson a "${3:-[\"sam@example.org\"]}" \
	    '{action: "publish", server: $s, key: $k, addresses: $a}' >"$1"
}
# submit FILE: POST it; prints the status, the answer in body
submit() {
	http POST "$URL/api/v1/submit" --data-binary "@$1"
}
# seal IN OUT GPG-ARGS...: encrypt and/or sign IN as told
seal() {
	local in=$1 out=$2
	shift 2
	rm -f "$out"
	g "$H" --trust-model always "$@" -o "$out" "$in" >/dev/null 2>&1
}
mails() {
	find "$MD/new" "$MD/cur" -type f 2>/dev/null | wc -l
}

# refused NAME STATUS PATTERN FILE: refused with that status and error,
# and nothing changed
refused() {
	local before mb
	before=$(state_counts "$DATA")
	mb=$(mails)
	is "$(submit "$4")" "$2" "$1: $2"
	like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "$3" "... $(jq -r .error "$T_DIR/body" 2>/dev/null)"
	is "$(state_counts "$DATA")" "$before" "... nothing stored"
	is "$(mails)" "$mb" "... nothing mailed"
}

payload "$T_DIR/p.json"
seal "$T_DIR/p.json" "$T_DIR/plain-signed.pgp" -u "$K" --sign
refused "signed, not encrypted" 400 'not encrypted' "$T_DIR/plain-signed.pgp"
seal "$T_DIR/p.json" "$T_DIR/other.pgp" -u "$K" -r "$O" --sign --encrypt
refused "encrypted to another key" 400 'not encrypted to this directory|cannot decrypt' "$T_DIR/other.pgp"
seal "$T_DIR/p.json" "$T_DIR/unsigned.pgp" -r "$SFPR" --encrypt
refused "encrypted, unsigned" 400 'not signed' "$T_DIR/unsigned.pgp"
seal "$T_DIR/p.json" "$T_DIR/stranger.pgp" -u "$STRANGER" -r "$SFPR" --sign --encrypt
refused "signed by another key" 403 'not signed by the submitted key' "$T_DIR/stranger.pgp"
payload "$T_DIR/p-other.json" "keys.example.org"
seal "$T_DIR/p-other.json" "$T_DIR/server.pgp" -u "$K" -r "$SFPR" --sign --encrypt
refused "naming another server" 400 'wrong server' "$T_DIR/server.pgp"
# (the server key is younger than that: gpg must be told to use it)
g "$H" --faked-system-time "$(date -u -d '-20 minutes' +%Y%m%dT%H%M%S)" \
    --ignore-time-conflict --ignore-valid-from --trust-model always \
    -u "$K" -r "$SFPR" --sign --encrypt \
    -o "$T_DIR/old.pgp" "$T_DIR/p.json" >/dev/null 2>&1
refused "signed 20 minutes ago" 400 'within 15 minutes' "$T_DIR/old.pgp"
payload "$T_DIR/p-addr.json" "$AUTH" '["olga@example.org"]'
seal "$T_DIR/p-addr.json" "$T_DIR/addr.pgp" -u "$K" -r "$SFPR" --sign --encrypt
refused "an address not on the key" 400 'not an address of this key' "$T_DIR/addr.pgp"
printf 'publish my key please\n' >"$T_DIR/junk.txt"
seal "$T_DIR/junk.txt" "$T_DIR/junk.pgp" -u "$K" -r "$SFPR" --sign --encrypt
refused "a text that is not a submission" 400 'not a JSON object' "$T_DIR/junk.pgp"
# signed by a subkey that may not sign (flags: encryption only): gpg and
# librnp refuse to make that, so pgpcraft.py crafts the message (and, as
# a control that the crafting is right, one signed by the primary key)
PC="$PY $E2E_ROOT/tests/e2e/pgpcraft.py"
http GET "$URL/api/v1/server-key" >/dev/null
cp "$T_DIR/body" "$T_DIR/server.asc"
$PC cert --seed sub16 --uid 'Encless <encless@example.org>' \
    --sub sub16-enc:0c:no:ed25519 >"$T_DIR/encless.asc"
jq -n --rawfile k "$T_DIR/encless.asc" --arg s "$AUTH" \
    '{action: "publish", server: $s, key: $k, addresses: ["encless@example.org"]}' \
    >"$T_DIR/p-encless.json"
$PC encsign --seed sub16 --sub-seed sub16-enc --to "$T_DIR/server.asc" \
    <"$T_DIR/p-encless.json" >"$T_DIR/encsub.pgp"
refused "signed by an encryption-only subkey" 403 'may not sign' "$T_DIR/encsub.pgp"

printf 'garbage' >"$T_DIR/garbage"
refused "not OpenPGP at all" 400 'not encrypted|cannot decrypt' "$T_DIR/garbage"

$PC encsign --seed sub16 --to "$T_DIR/server.asc" <"$T_DIR/p-encless.json" \
    >"$T_DIR/encprim.pgp"
is "$(submit "$T_DIR/encprim.pgp")" 200 \
    "the same crafted message signed by the primary key: 200 (the crafting is sound)"

# accepted: signed by the key, encrypted to the server, armored
seal "$T_DIR/p.json" "$T_DIR/good.asc" -u "$K" -r "$SFPR" --armor --sign --encrypt
is "$(submit "$T_DIR/good.asc")" 200 "a signed, encrypted submission: 200"
is "$(jq -r '.key_fpr' "$T_DIR/body")" "$K" "... for the key it carries"
is "$(jq -r '.status["sam@example.org"]' "$T_DIR/body")" pending "... sam@example.org pending"
is "$(jq -r '.mails' "$T_DIR/body")" 1 "... one confirmation mail"
is "$(jq -r '.signed' "$T_DIR/body")" true "... marked signed"
wait_until 10 has_mail "$MD" sam@example.org
M=$(mail_to "$MD" sam@example.org)
like "$(mail_part "$M" body)" 'signed by this key itself' \
    "the mail says the key itself signed the request"
L=$(mail_link "$M" verify)
is "$(confirm "$L")" 200 "the link confirms"
is "$(http GET "$URL/vks/v1/by-email/sam@example.org")" 200 "sam@example.org is published"

refused "the same submission again" 409 'already accepted' "$T_DIR/good.asc"

# binary, and no addresses listed: every address on the key
payload "$T_DIR/p-all.json" "$AUTH" '[]'
g "$H" --quick-add-uid "$K" "Sam Work <sam@work.example>" >/dev/null 2>&1
g "$H" --armor --export "$K" >"$T_DIR/k.asc"
payload "$T_DIR/p-all.json" "$AUTH" '[]'
seal "$T_DIR/p-all.json" "$T_DIR/all.pgp" -u "$K" -r "$SFPR" --sign --encrypt
is "$(submit "$T_DIR/all.pgp")" 200 "binary, no addresses listed: 200"
is "$(jq -r '.status["sam@work.example"]' "$T_DIR/body")" pending \
    "... the new address gets its confirmation"
is "$(jq -r '.status["sam@example.org"]' "$T_DIR/body")" published \
    "... the published one stays published"

done_testing
