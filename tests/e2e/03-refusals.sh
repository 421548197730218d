#!/bin/bash
# 03-refusals: every way a request is refused, with the status and the
# message a user sees, and proof that nothing changed: the counts of keys,
# addresses, outbox rows and tokens (keydird state) and the Maildir are the
# same.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
MD=$DATA/mail
LOG=$T_DIR/keydird.log
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts on port $KP"
URL=$KD_URL

mk_gnupghome A "$KP"
mk_gnupghome S "$KP"

# snapshot / unchanged: the state before and the check after a refusal.
snapshot() {
	SNAP="$(state_counts "$DATA")|$(mail_count "$MD")"
}
unchanged() {
	local now
	# a refused request must not queue mail: give the mailer a moment to
	# show what it would have delivered
	now="$(state_counts "$DATA")|$(mail_count "$MD")"
	is "$now" "$SNAP" "$1: nothing changed (keys addresses outbox tokens|mails)"
}
# hkp_add URL FILE: POST /pks/add keytext=FILE (form-encoded)
hkp_add() {
	http POST "$1/pks/add" --data-urlencode "keytext@$2"
}
# vks_raw URL JSON: POST /vks/v1/upload with a literal JSON body
vks_raw() {
	http POST "$1/vks/v1/upload" -H 'Content-Type: application/json' \
	    --data-binary "$2"
}

# a published key, so that "nothing changed" has something to not change
FPR=$(gen_key "$A" 'Frank <frank@example.org>')
g "$A" --export --armor "$FPR" >"$T_DIR/frank.asc"
vks_upload "$URL" "$T_DIR/frank.asc" >/dev/null
vks_request "$URL" "$(jq -r .token "$T_DIR/body")" frank@example.org >/dev/null
wait_until 20 has_mail "$MD" frank@example.org
is "$(confirm "$(link_of "$(mail_to "$MD" frank@example.org)")")" 200 \
    "setup: frank@example.org published"

# --- garbage ---------------------------------------------------------------
snapshot
code=$(vks_raw "$URL" '{"keytext":"this is not a key"}')
is "$code" 400 "VKS garbage: 400"
is "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "Parsing of key data failed." \
    "VKS garbage: message"
code=$(vks_raw "$URL" '{"keytext":"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"}')
is "$code" 400 "VKS broken armor: 400"
code=$(vks_raw "$URL" '{"nokeytext":1}')
is "$code" 400 "VKS without keytext: 400"
is "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "No key uploaded." \
    "VKS without keytext: message"
printf 'garbage garbage' >"$T_DIR/garbage.txt"
code=$(hkp_add "$URL" "$T_DIR/garbage.txt")
is "$code" 400 "HKP garbage: 400"
like "$(body)" "Parsing of key data failed" "HKP garbage: message"
code=$(http POST "$URL/pks/add" --data 'nokeytext=1')
is "$code" 400 "HKP without keytext: 400"
unchanged "garbage"

# --- secret keys --------------------------------------------------------------
g "$A" --export-secret-keys --armor "$FPR" >"$T_DIR/secret.asc"
snapshot
code=$(vks_upload "$URL" "$T_DIR/secret.asc")
is "$code" 400 "VKS secret key: 400"
is "$(jq -r .error "$T_DIR/body" 2>/dev/null)" \
    "Whoops, please don't upload secret keys!" "VKS secret key: message"
code=$(hkp_add "$URL" "$T_DIR/secret.asc")
is "$code" 400 "HKP secret key: 400"
like "$(body)" "Whoops, please don't upload secret keys!" "HKP secret key: message"
out=$(g "$A" --status-fd 1 --export-secret-keys "$FPR" | base64 -w0)
jq -n --arg k "$out" '{keytext: $k}' >"$T_DIR/req.json"
code=$(http POST "$URL/vks/v1/upload" -H 'Content-Type: application/json' \
    --data-binary @"$T_DIR/req.json")
is "$code" 400 "VKS secret key as base64 binary: 400"
unchanged "secret keys"

# --- unconfirmed, GET does not publish, used/expired/rejected links -------------------------
G=$(gen_key "$A" 'Grace <grace@example.org>')
g "$A" --export --armor "$G" >"$T_DIR/grace.asc"
code=$(vks_upload "$URL" "$T_DIR/grace.asc")
GTOK=$(jq -r .token "$T_DIR/body")
is "$(http GET "$URL/vks/v1/by-email/grace%40example.org")" 404 \
    "uploaded, not confirmed: by-email 404"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=grace@example.org")" 404 \
    "uploaded, not confirmed: HKP get by address 404"
is "$(http GET "$URL/pks/lookup?op=index&options=mr&search=grace@example.org")" 404 \
    "uploaded, not confirmed: HKP index by address 404"
is "$(http GET "$URL/vks/v1/by-fingerprint/$G")" 200 "by-fingerprint 200"
pk=$(g "$S" --list-packets <"$T_DIR/body" 2>&1)
like "$pk" ':public key packet:' "... the key"
unlike "$pk" ':user ID packet:' "... with no user ID packet"
unlike "$(body)" 'grace' "... and the address nowhere in it"
is "$(http GET "$URL/pks/lookup?op=index&options=mr&search=0x$G")" 200 \
    "HKP index by fingerprint 200"
unlike "$(body)" 'grace@example\.org' "... lists no unconfirmed user ID"

vks_request "$URL" "$GTOK" grace@example.org >/dev/null
wait_until 20 has_mail "$MD" grace@example.org
GLINK=$(link_of "$(mail_to "$MD" grace@example.org)")
snapshot
is "$(http GET "$GLINK")" 200 "GET on the link: 200"
is "$(http GET "$GLINK")" 200 "GET on the link again: 200"
is "$(http HEAD "$GLINK" -I)" 200 "HEAD on the link: 200"
is "$(http GET "$URL/vks/v1/by-email/grace%40example.org")" 404 \
    "GET on the link does not publish"
unchanged "GET on the link"
is "$(key_state "$DATA" "$G" '[.tokens[] | select(.address == "grace@example.org")
    | "\(.kind) \(.used)"] | join(",")')" "verify 0" \
    "GET on the link leaves the token unused"

is "$(confirm "$GLINK")" 200 "POST on the link publishes"
snapshot
code=$(confirm "$GLINK")
is "$code" 410 "the link reused: 410"
like "$(body)" "already used" "... the page says already used"
code=$(http GET "$GLINK")
is "$code" 410 "GET on a used link: 410"
like "$(body)" "already used" "... already used"
code=$(http POST "$GLINK/reject")
is "$code" 410 "reject on a used link: 410"
is "$(http GET "$URL/vks/v1/by-email/grace%40example.org")" 200 \
    "... the address stays published"
unchanged "a reused link"

code=$(http GET "$URL/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
is "$code" 404 "an unknown token: 404"
like "$(body)" "not valid" "... the page says not valid"
is "$(http POST "$URL/verify/short")" 404 "a malformed token: 404"
is "$(http POST "$GLINK/whatever")" 404 "LINK/whatever: 404"

# expired: a second server whose links live 3 s (token_ttl=3s)
KP3=$(free_port)
DATA3=$T_DIR/data3
start_keydird "$KP3" "$DATA3" "$T_DIR/keydird3.log" --set token_ttl=3s ||
    bail "keydird with token_ttl=3s starts"
URL3=$KD_URL
H=$(gen_key "$A" 'Heidi <heidi@example.org>')
g "$A" --export --armor "$H" >"$T_DIR/heidi.asc"
vks_upload "$URL3" "$T_DIR/heidi.asc" >/dev/null
vks_request "$URL3" "$(jq -r .token "$T_DIR/body")" heidi@example.org >/dev/null
wait_until 20 has_mail "$DATA3/mail" heidi@example.org
HLINK=$(link_of "$(mail_to "$DATA3/mail" heidi@example.org)")
is "$(key_state "$DATA3" "$H" '[.tokens[] | select(.address == "heidi@example.org")
    | "\(.kind) \(.expires - .created)"] | join(",")')" "verify 3" \
    "the link lives token_ttl (3 s)"
HEXP=$(key_state "$DATA3" "$H" '.tokens[] | select(.address == "heidi@example.org")
    | .expires')
wait_for 10 "[ \"\$(date +%s)\" -gt $HEXP ]"
SNAP3="$(state_counts "$DATA3")|$(mail_count "$DATA3/mail")"
code=$(http GET "$HLINK")
is "$code" 410 "GET on an expired link: 410"
like "$(body)" "expired" "... the page says expired"
code=$(confirm "$HLINK")
is "$code" 410 "POST on an expired link: 410"
like "$(body)" "expired" "... expired"
is "$(http GET "$URL3/vks/v1/by-email/heidi%40example.org")" 404 \
    "... not published"
is "$(state_counts "$DATA3")|$(mail_count "$DATA3/mail")" "$SNAP3" \
    "an expired link: nothing changed (keys addresses outbox tokens|mails)"

# rejected
I=$(gen_key "$A" 'Ivan <ivan@example.org>')
g "$A" --export --armor "$I" >"$T_DIR/ivan.asc"
vks_upload "$URL" "$T_DIR/ivan.asc" >/dev/null
ITOK=$(jq -r .token "$T_DIR/body")
vks_request "$URL" "$ITOK" ivan@example.org >/dev/null
wait_until 20 has_mail "$MD" ivan@example.org
ILINK=$(link_of "$(mail_to "$MD" ivan@example.org)")
is "$(http GET "$ILINK")" 200 "the page for ivan@example.org"
like "$(body)" "$ILINK/reject" "... offers to reject"
code=$(http POST "$ILINK/reject")
is "$code" 200 "POST LINK/reject: 200"
like "$(body)" "discarded" "... the page says discarded"
snapshot
code=$(confirm "$ILINK")
is "$code" 410 "confirming a rejected link: 410"
is "$(http GET "$URL/vks/v1/by-email/ivan%40example.org")" 404 \
    "a rejected address is not published"
unchanged "a rejected link"

# --- mail rate limit ------------------------------------------------------------
n0=$(mails_to "$MD" ivan@example.org)
code=$(vks_request "$URL" "$ITOK" ivan@example.org)
is "$code" 200 "request-verify again within 10 minutes: 200"
is "$(jq -r '.status["ivan@example.org"]' "$T_DIR/body")" pending \
    "... status pending"
like "$(grep 'ivan@example.org' "$LOG" | tail -1)" "rate limited" \
    "... keydird logs the rate limit"
J=$(gen_key "$A" 'Judy <judy@example.org>')
g "$A" --export --armor "$J" >"$T_DIR/judy.asc"
vks_upload "$URL" "$T_DIR/judy.asc" >/dev/null
JTOK=$(jq -r .token "$T_DIR/body")
vks_request "$URL" "$JTOK" judy@example.org >/dev/null
wait_until 20 has_mail "$MD" judy@example.org
snapshot
code=$(vks_request "$URL" "$JTOK" judy@example.org)
is "$(jq -r '.status["judy@example.org"]' "$T_DIR/body")" pending \
    "request-verify while a link is out: pending"
unchanged "a second request-verify"
# the mailer works asynchronously: wait until the outbox is drained, then count
wait_for 10 '[ "$(unsent "$DATA")" = 0 ]'
is "$(mails_to "$MD" ivan@example.org)" "$n0" "no second mail to ivan@example.org"
is "$(mails_to "$MD" judy@example.org)" 1 "no second mail to judy@example.org"

# --- lookups that are refused ------------------------------------------------------------
code=$(http GET "$URL/pks/lookup?op=get&options=mr&search=0x${FPR:32}")
is "$code" 400 "HKP short key id: 400"
like "$(body)" "^Search by short key ids is not supported, sorry!" "... message"
code=$(http GET "$URL/pks/lookup?search=frank@example.org")
is "$code" 400 "HKP without op: 400"
code=$(http GET "$URL/pks/lookup?op=vindex&search=frank@example.org")
is "$code" 501 "HKP op=vindex: 501"
code=$(http GET "$URL/pks/lookup?op=get")
is "$code" 400 "HKP without search: 400"
code=$(http GET "$URL/vks/v1/by-fingerprint/1234")
is "$code" 400 "by-fingerprint malformed: 400"
code=$(http GET "$URL/vks/v1/by-fingerprint/${FPR:0:39}Z")
is "$code" 400 "by-fingerprint with a non-hex digit: 400"
code=$(http GET "$URL/vks/v1/by-keyid/${FPR:32}")
is "$code" 400 "by-keyid with 8 digits: 400"
code=$(http GET "$URL/vks/v1/by-email/not-an-address")
is "$code" 400 "by-email not an address: 400"
code=$(http GET "$URL/no/such/path")
is "$code" 404 "unknown path: 404"
code=$(http GET "$URL/vks/v1/upload")
is "$code" 405 "GET on the upload path: 405"

# --- user IDs with CR/LF (made with sq; gpg refuses to make them) ---------------------------
if command -v sq >/dev/null 2>&1; then
	crlf=0
	for uid in $'Mallory\r\nBcc: victim@example.org <mallory@example.org>' \
	    $'Mallory <mallory2@example.org\r\nBcc: victim2@example.org>'; do
		crlf=$((crlf + 1))
		sq key generate --userid "$uid" --export "$T_DIR/crlf$crlf.key" \
		    >/dev/null 2>&1
		sq key extract-cert "$T_DIR/crlf$crlf.key" -o "$T_DIR/crlf$crlf.pgp" \
		    >/dev/null 2>&1
		sq armor "$T_DIR/crlf$crlf.pgp" -o "$T_DIR/crlf$crlf.asc" >/dev/null 2>&1
		like "$(g "$S" --list-packets "$T_DIR/crlf$crlf.pgp" 2>&1)" \
		    'user ID packet: ".*\\x0d\\x0a' "sq made user ID $crlf with CR LF"
		snapshot
		code=$(hkp_add "$URL" "$T_DIR/crlf$crlf.asc")
		wait_for 10 '[ "$(unsent "$DATA")" = 0 ]'
		if [ "$code" != 200 ]; then
			is "$code" 400 "CR/LF user ID $crlf: refused with 400"
			like "$(body)" "control character" \
			    "... the message names the control character"
			unchanged "CR/LF user ID $crlf"
		else
			diag "CR/LF user ID $crlf was taken: $(body)"
		fi
		is "$(grep -lis 'victim' "$MD"/new/* 2>/dev/null | wc -l)" 0 \
		    "CR/LF user ID $crlf: no mail names the victim"
		is "$(grep -lis '^Bcc:' "$MD"/new/* 2>/dev/null | wc -l)" 0 \
		    "CR/LF user ID $crlf: no mail has a Bcc header"
	done
	# the first one has a valid address: if mailed, only to it
	m=$(mail_to "$MD" mallory@example.org)
	if [ -n "$m" ]; then
		is "$(mail_part "$m" to)" "mallory@example.org" \
		    "CR/LF user ID 1: the mail goes only to the address"
	fi
	is "$(mail_to "$MD" mallory2@example.org)" "" \
	    "CR/LF user ID 2 (CR LF inside the address): never mailed"
	is "$(keys_state "$DATA" '[.[].addresses[].address
	    | select(test("victim|mallory2"; "i"))] | length')" 0 \
	    "no address with CR/LF is stored"
else
	echo "ok $((T_N += 1)) # SKIP sq is not installed (needed to make CR/LF user IDs)"
fi

# --- limits: a separate instance with max_body=4096 and max_uids=1 -------------------------
KP2=$(free_port)
DATA2=$T_DIR/data2
start_keydird "$KP2" "$DATA2" "$T_DIR/keydird2.log" --set max_body=4096 \
    --set max_uids=1 || bail "keydird with limits starts"
URL2=$KD_URL
snap2() { SNAP2="$(state_counts "$DATA2")|$(mail_count "$DATA2/mail")"; }
snap2
head -c 6000 /dev/zero | tr '\0' 'A' >"$T_DIR/pad"
jq -n --rawfile k "$T_DIR/frank.asc" --rawfile p "$T_DIR/pad" \
    '{keytext: $k, padding: $p}' >"$T_DIR/big.json"
code=$(http POST "$URL2/vks/v1/upload" -H 'Content-Type: application/json' \
    --data-binary @"$T_DIR/big.json")
is "$code" 413 "VKS body over max_body: 413"
like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "larger than 4096" \
    "... JSON error naming the limit"
{ cat "$T_DIR/frank.asc"; cat "$T_DIR/pad"; } >"$T_DIR/big.asc"
code=$(hkp_add "$URL2" "$T_DIR/big.asc")
is "$code" 413 "HKP body over max_body: 413"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$T_DIR/big.json" -H 'Transfer-Encoding: chunked' \
    "$URL2/vks/v1/upload")
is "$code" 413 "VKS chunked body over max_body: 413"
is "$(http GET "$URL2/")" 200 "the server still answers after the big bodies"

K2=$(gen_key "$A" 'Two Uids <two1@example.org>')
g "$A" --quick-add-uid "$K2" 'Two Uids <two2@example.org>' >/dev/null 2>&1
g "$A" --export --armor "$K2" >"$T_DIR/two.asc"
code=$(vks_upload "$URL2" "$T_DIR/two.asc")
is "$code" 413 "VKS key with 2 user IDs, max_uids=1: 413"
like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "too many user IDs" "... message"
code=$(hkp_add "$URL2" "$T_DIR/two.asc")
is "$code" 413 "HKP key with 2 user IDs, max_uids=1: 413"
like "$(body)" "too many user IDs" "... message"
is "$(state_counts "$DATA2")|$(mail_count "$DATA2/mail")" "$SNAP2" \
    "limits: nothing changed (keys addresses outbox tokens|mails)"
code=$(vks_upload "$URL2" "$T_DIR/frank.asc")
is "$code" 200 "a key within the limits is still taken"

done_testing
