#!/bin/bash
# 32-wks: the Web Key Service round trip with real GnuPG, as an MTA would
# drive keydird: gpg-wks-client --supported and --create (which read the
# policy, the submission address and the submission key by WKD, over
# the TLS front of lib.sh's wkd_front), the submission piped into
# keydird receive, the confirmation request read from keydird's Maildir
# and answered by gpg-wks-client --receive, the answer piped into
# keydird receive, then WKD serves the key and gpg-wks-client --check
# finds it; a second key for the address through WKS, whose request
# names the published key, replaces it with a notice.  Refusals, each
# changing nothing and exiting 65 (EX_DATAERR)
# for the MTA: the response again (its nonce used), a response with a
# wrong nonce, one for an address outside wkd_domains, a submission
# whose sender's address is not on the key, a key that cannot encrypt
# (not even stored), malformed MIME.
. "$(dirname "$0")/lib.sh"

wkd_front_check
WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
[ -x "$WKSC" ] || bail "gpg-wks-client is missing (package gpg-wks-client)"

P=$(free_port)
DATA=$T_DIR/data
OPTS=(--set wkd_domains=example.org
    --set submission_address=key-submission@example.org --set mail_rate=1s)
start_keydird "$P" "$DATA" "$T_DIR/kd.log" "${OPTS[@]}" ||
    bail "keydird starts"
wkd_front "$P"
# receive: as the MTA's pipe runs it, beside serve, on the same data
receive() {
	"$KEYDIRD" receive --data-dir "$DATA" --base-url "$KD_URL" "${OPTS[@]}" \
	    <"$1" >"$T_DIR/receive.out" 2>"$T_DIR/receive.err"
}

mk_gnupghome GH "$P"
C=$(gen_key "$GH" "Carol <carol@example.org>") || bail "a key for carol"
chmod 755 "$T_DIR"	# nobody's keydird reads the mails put here

NS_HOME=$GH in_ns "$T_DIR/supported.out" "$WKSC" -v --supported \
    carol@example.org
is "$?" 0 "gpg-wks-client --supported: the provider supports WKS"
NS_HOME=$GH in_ns "$T_DIR/c1.eml" "$WKSC" --create "$C" carol@example.org
is "$?" 0 "gpg-wks-client --create: a submission"
like "$(grep -i '^Content-Type' "$T_DIR/c1.eml" | head -1)" \
    "multipart/encrypted" "... PGP/MIME encrypted"
chmod 644 "$T_DIR"/*.eml

# refusals of a submission: malformed, and a sender not on the key
printf 'From: carol@example.org\nTo: key-submission@example.org\nContent-Type: multipart/mixed; boundary=x\n\n--x\nnever closed\n' \
    >"$T_DIR/bad.eml"
chmod 644 "$T_DIR/bad.eml"
receive "$T_DIR/bad.eml"
is "$?" 65 "malformed MIME: EX_DATAERR" 
sed 's/^From: .*/From: dave@example.org/' "$T_DIR/c1.eml" >"$T_DIR/dave.eml"
chmod 644 "$T_DIR/dave.eml"
N0=$(mail_count "$DATA/mail")
receive "$T_DIR/dave.eml"
is "$?" 65 "carol's key sent as from dave@example.org: EX_DATAERR"
like "$(cat "$T_DIR/receive.err")" "no user ID with the sender" "... why"
is "$(mail_count "$DATA/mail")" "$N0" "... and no mail"

receive "$T_DIR/c1.eml"
is "$?" 0 "keydird receive takes the submission"
wait_until 10 has_mail "$DATA/mail" carol@example.org
REQ=$(mail_to "$DATA/mail" carol@example.org)
ok "$([ -n "$REQ" ]; echo $?)" "the confirmation request is in the Maildir"
like "$(grep -i '^Wks-Phase' "$REQ")" "confirm" "... Wks-Phase: confirm"
like "$(grep -ci 'application/vnd.gnupg.wks' "$REQ")" '^[1-9]' \
    "... an application/vnd.gnupg.wks part"
is "$(http GET "$KD_URL/vks/v1/by-email/carol@example.org")" 404 \
    "carol@example.org is not published yet"
cp "$REQ" "$T_DIR/c2.eml"
chmod 644 "$T_DIR/c2.eml"

NS_HOME=$GH in_ns "$T_DIR/c3.eml" "$WKSC" --receive <"$T_DIR/c2.eml"
is "$?" 0 "gpg-wks-client --receive decrypts it and answers"
chmod 644 "$T_DIR/c3.eml"
like "$(grep -i '^To:' "$T_DIR/c3.eml")" "key-submission@example.org" \
    "... to the submission address"

# a response with a wrong nonce, and one for an address outside
# wkd_domains: encrypted to the server key as gpg-wks-client would
g "$GH" --import <(curl -s "$KD_URL/api/v1/server-key") 2>/dev/null
SRV=$(curl -s -D - -o /dev/null "$KD_URL/api/v1/server-key" |
    tr -d '\r' | sed -n 's/^Keydir-Fingerprint: //Ip')
response() {	# ADDRESS NONCE FILE
	local body
	body=$(printf 'Content-Type: application/vnd.gnupg.wks\nContent-Transfer-Encoding: 8bit\n\ntype: confirmation-response\nsender: key-submission@example.org\naddress: %s\nnonce: %s\n' "$1" "$2" |
	    g "$GH" --trust-model always --armor --encrypt -r "$SRV")
	printf 'From: %s\nTo: key-submission@example.org\nSubject: Key publication confirmation\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\n\n--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--b\nContent-Type: application/octet-stream\n\n%s\n--b--\n' \
	    "$1" "$body" >"$3"
	chmod 644 "$3"
}
# a submission of a key that cannot encrypt (the request could not
# reach its holder): refused before anything is stored
submission() {	# FROM KEYFILE OUT
	local body
	body=$( { printf 'Content-Type: application/pgp-keys\n\n'; cat "$2"; } |
	    g "$GH" --trust-model always --armor --encrypt -r "$SRV")
	printf 'From: %s\nTo: key-submission@example.org\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"\n\n--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--b\nContent-Type: application/octet-stream\n\n%s\n--b--\n' \
	    "$1" "$body" >"$3"
	chmod 644 "$3"
}
E=$(g "$GH" --quick-gen-key "Erin <erin@example.org>" ed25519 sign never \
    >/dev/null 2>&1; fpr_of "$GH" "Erin <erin@example.org>")
g "$GH" --armor --export "$E" >"$T_DIR/erin.asc"
submission erin@example.org "$T_DIR/erin.asc" "$T_DIR/erin.eml"
K0=$("$KEYDIRD" state --data-dir "$DATA" 2>/dev/null | jq -r .keys)
like "$K0" '^[0-9]+$' "keydird state counts the keys ($K0)"
receive "$T_DIR/erin.eml"
is "$?" 65 "a sign-only key: EX_DATAERR"
like "$(cat "$T_DIR/receive.err")" "may encrypt" "... why"
is "$("$KEYDIRD" state --data-dir "$DATA" 2>/dev/null | jq -r .keys)" "$K0" \
    "... and it is not stored"

response carol@example.org abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG \
    "$T_DIR/wrong.eml"
receive "$T_DIR/wrong.eml"
is "$?" 65 "a response with a wrong nonce: EX_DATAERR"
like "$(cat "$T_DIR/receive.err")" "not valid" "... why"
response carol@other.example anything-long-enough-to-be-a-nonce \
    "$T_DIR/other.eml"
receive "$T_DIR/other.eml"
is "$?" 65 "a response for an address outside wkd_domains: EX_DATAERR"
like "$(cat "$T_DIR/receive.err")" "wkd_domains" "... why"
is "$(http GET "$KD_URL/vks/v1/by-email/carol@example.org")" 404 \
    "... and carol@example.org is still not published"

receive "$T_DIR/c3.eml"
is "$?" 0 "keydird receive takes the confirmation response"
is "$(http GET "$KD_URL/vks/v1/by-email/carol@example.org")" 200 \
    "carol@example.org is published"
H=$(NS_HOME=$GH in_ns /dev/stdout "$WKSC" --print-wkd-hash carol@example.org |
    cut -d' ' -f1)
is "$(http GET "$KD_URL/.well-known/openpgpkey/example.org/hu/$H" \
    -H 'Host: openpgpkey.example.org')" 200 "WKD serves it"
NS_HOME=$GH in_ns "$T_DIR/check.out" "$WKSC" -v --check carol@example.org
is "$?" 0 "gpg-wks-client --check: found via WKD"
wait_until 10 has_more_mails "$DATA/mail" carol@example.org 1
like "$(mail_part "$(mail_to "$DATA/mail" carol@example.org)" subject)" \
    "published" "the published notice"

receive "$T_DIR/c3.eml"
is "$?" 65 "the same response again: EX_DATAERR (its nonce is used)"
like "$(cat "$T_DIR/receive.err")" "already used" "... why"

# a new key for carol through WKS: the request names the published key
C2=$(gen_key "$GH" "Carol New <carol@example.org>")
ok "$([ -n "$C2" ]; echo $?)" "a second key for carol"
N=$(mails_to "$DATA/mail" carol@example.org)
sleep 1	# mail_rate=1s: one request per address per second
NS_HOME=$GH in_ns "$T_DIR/n1.eml" "$WKSC" --create "$C2" carol@example.org
is "$?" 0 "gpg-wks-client --create for it" || diag "$(cat "$T_DIR/n1.eml")"
chmod 644 "$T_DIR/n1.eml"
receive "$T_DIR/n1.eml"
is "$?" 0 "its submission is taken"
wait_until 10 has_more_mails "$DATA/mail" carol@example.org "$N"
cp "$(mail_to "$DATA/mail" carol@example.org)" "$T_DIR/n2.eml"
chmod 644 "$T_DIR/n2.eml"
G=$(echo "$C" | sed 's/.\{4\}/& /g; s/ $//')
like "$(mail_part "$T_DIR/n2.eml" body)" "ANOTHER key" \
    "the request says the address has another key"
like "$(mail_part "$T_DIR/n2.eml" body)" "$G" "... and names it"
NS_HOME=$GH in_ns "$T_DIR/n3.eml" "$WKSC" --receive <"$T_DIR/n2.eml"
chmod 644 "$T_DIR/n3.eml"
receive "$T_DIR/n3.eml"
is "$?" 0 "the answer is taken"
http GET "$KD_URL/vks/v1/by-email/carol@example.org" >/dev/null
g "$GH" --import-options show-only --import --with-colons <"$T_DIR/body" \
    >"$T_DIR/now.colons" 2>/dev/null
like "$(cat "$T_DIR/now.colons")" "fpr:+$C2:" "carol@example.org is the new key's"
has_replaced() {
	local f
	for f in "$DATA"/mail/new/* "$DATA"/mail/cur/*; do
		grep -qi '^To: *<\?carol@example.org' "$f" 2>/dev/null &&
		    mail_part "$f" subject | grep -q 'was replaced' && return 0
	done
	return 1
}
wait_until 10 has_replaced
ok $? "the notice of the replacement"
done_testing
