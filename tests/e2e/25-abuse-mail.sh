#!/bin/bash
# 25-abuse-mail: the abuse limits on mail and storage, with GnuPG, curl
# and a real SMTP server (aiosmtpd).
#   fan-out   a key with 30 addresses uploaded with HKP /pks/add mails
#             the first 10 (max_mails_per_upload); the answer says, per
#             address, what was done and why not; request-verify mails
#             10 more; gpg --send-keys the last 10
#   rate      a signed submission of that key to a server with
#             mail_global_rate 10/1m: the answer says the same in JSON; the
#             20 mails go out 10 a minute, in order, none lost (the
#             outbox's sent times show it, no clock is read)
#   client    max_unconfirmed_per_client 3: the fourth new key from one
#             address gets 429 with Retry-After and is not stored; gpg
#             fails; once a key is confirmed, another is taken
#   room      max_unconfirmed_bytes: a new key pushes out the oldest
#             never-confirmed key, never an older published one
. "$(dirname "$0")/lib.sh"

SP=$(free_port)
start_smtp "$SP" "$T_DIR/smtp" || bail "aiosmtpd starts on port $SP"
MD=$T_DIR/smtp/Maildir
KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" ||
    bail "keydird starts on port $KP"
URL=$KD_URL

# the rate server, started now: its minute runs while the rest is tested
RP=$(free_port)
RDATA=$T_DIR/rdata
RMD=$T_DIR/rsmtp/Maildir
RSP=$(free_port)
start_smtp "$RSP" "$T_DIR/rsmtp" || bail "a second aiosmtpd starts"
start_keydird "$RP" "$RDATA" "$T_DIR/rate.log" --smtp "smtp://127.0.0.1:$RSP" \
    --set mail_global_rate=10/1m --set max_mails_per_upload=20 ||
    bail "keydird (mail_global_rate 10/1m) starts on port $RP"
RURL=$KD_URL

mk_gnupghome H "$KP"
u() { printf 'u%d@many.example' "$1"; }
g "$H" --quick-gen-key "User 0 <$(u 0)>" future-default default never \
    >/dev/null 2>&1
M=$(fpr_of "$H" "$(u 0)")
for i in $(seq 1 29); do
	g "$H" --quick-add-uid "$M" "User $i <$(u "$i")>" >/dev/null 2>&1
done
g "$H" --armor --export "$M" >"$T_DIR/many.asc"
is "$(key_uids "$H" "$T_DIR/many.asc" | grep -c '@many.example')" 30 \
    "a key with 30 addresses, u0 to u29 in this order ($M)"
is "$(key_uids "$H" "$T_DIR/many.asc" | sed -n '11p')" "User 10 <$(u 10)>" \
    "... the eleventh is u10"

# --- rate: the signed submission goes first, its minute runs meanwhile ---
http GET "$RURL/api/v1/server-key" >/dev/null
SFPR=$(header Keydir-Fingerprint)
g "$H" --import "$T_DIR/body" >/dev/null 2>&1
jq -n --rawfile k "$T_DIR/many.asc" --arg s "127.0.0.1:$RP" \
    '{action: "publish", server: $s, key: $k}' >"$T_DIR/sub.json"
g "$H" --trust-model always -u "$M" -r "$SFPR" --sign --encrypt \
    -o "$T_DIR/sub.pgp" "$T_DIR/sub.json" >/dev/null 2>&1
is "$(http POST "$RURL/api/v1/submit" --data-binary "@$T_DIR/sub.pgp")" 200 \
    "a signed submission of the key to the rate server: 200"
cp "$T_DIR/body" "$T_DIR/sub.answer"
is "$(jq -r '"\(.mails) \(.signed)"' "$T_DIR/sub.answer")" "20 true" \
    "... 20 mails (its max_mails_per_upload)"
is "$(jq -r '[.mail[] | .result] | group_by(.) | map("\(.[0]):\(length)") | join(" ")' \
    "$T_DIR/sub.answer")" "mailed:20 over_limit:10" \
    "... the answer names each address: 20 mailed, 10 over the limit"
is "$(jq -r --arg a "$(u 19)" --arg b "$(u 20)" '"\(.mail[$a].result) \(.mail[$b].result)"' \
    "$T_DIR/sub.answer")" "mailed over_limit" "... in the key's order"
like "$(jq -r .message "$T_DIR/sub.answer")" \
    "$(u 20): not mailed: at most 20 confirmation mails go out per upload" \
    "... and says so in words, as HKP does"

# --- fan-out ----------------------------------------------------------------
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/many.asc")
cp "$T_DIR/body" "$T_DIR/hkp.answer"
is "$code" 200 "HKP add of the key: 200"
like "$(head -1 "$T_DIR/hkp.answer")" "^Upload successful: key $M\.$" \
    "the answer names the key"
is "$(grep -c ': a confirmation mail is on its way; open the link in it to publish this address\.$' \
    "$T_DIR/hkp.answer")" 10 "... 10 addresses: mailed"
is "$(grep -c ': not mailed: at most 10 confirmation mails go out per upload\.  Upload the key again to have the next ones mailed, or ask for this address with request-verify\.$' \
    "$T_DIR/hkp.answer")" 20 "... 20: not mailed, the cap named, what to do"
ok "$(for i in $(seq 0 29); do grep -q "^$(u "$i"): " "$T_DIR/hkp.answer" || echo "$i"; done |
    wc -l)" "... every address has its line"
like "$(grep "^$(u 9): " "$T_DIR/hkp.answer")$(grep "^$(u 10): " "$T_DIR/hkp.answer")" \
    "on its way.*not mailed" "... the first ten in the key's order"
TOK=$(grep -o '{"token": "[^"]*"' "$T_DIR/hkp.answer" | sed 's/.*"token": "//; s/"$//')
ok "$([ -n "$TOK" ]; echo $?)" "... and the session token for request-verify"
wait_for 30 '[ "$(mail_count "$MD")" -ge 10 ] && [ "$(unsent "$DATA")" = 0 ]'
is "$(mail_count "$MD")" 10 "exactly 10 mails went out"
is "$(for i in $(seq 0 29); do mails_to "$MD" "$(u "$i")"; done | tr -d ' \n')" \
    "111111111100000000000000000000" "... one to each of u0 to u9"
like "$(mail_part "$(mail_to "$MD" "$(u 3)")" body)" "/verify/" \
    "... each a confirmation with its link"

args=()
for i in $(seq 10 29); do args+=("$(u "$i")"); done
is "$(vks_request "$URL" "$TOK" "${args[@]}")" 200 \
    "request-verify for the other 20: 200"
cp "$T_DIR/body" "$T_DIR/rv.answer"
is "$(jq -r '"\(.mails) \([.mail[] | select(.result == "mailed")] | length) \([.mail[] | select(.result == "over_limit")] | length)"' \
    "$T_DIR/rv.answer")" "10 10 10" "... mails 10: the first 10 asked, 10 over the limit"
is "$(jq -r --arg a "$(u 20)" '.status[$a]' "$T_DIR/rv.answer")" unpublished \
    "... one over the limit stays unpublished (VKS status)"
wait_for 30 '[ "$(mail_count "$MD")" -ge 20 ] && [ "$(unsent "$DATA")" = 0 ]'
is "$(for i in $(seq 0 29); do mails_to "$MD" "$(u "$i")"; done | tr -d ' \n')" \
    "111111111111111111110000000000" "... one more each to u10 to u19"

# gpg --send-keys: u0-u19 are within mail_rate, so this mails the rest
g "$H" --send-keys "$M" >"$T_DIR/send.out" 2>&1
ok $? "gpg --send-keys of the key"
wait_for 30 '[ "$(mail_count "$MD")" -ge 30 ] && [ "$(unsent "$DATA")" = 0 ]'
is "$(for i in $(seq 0 29); do mails_to "$MD" "$(u "$i")"; done | tr -d ' \n')" \
    "111111111111111111111111111111" \
    "... the last 10 mailed: one mail to each of the 30 addresses, never two"
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/many.asc")
like "$(grep "^$(u 25): " "$T_DIR/body")" \
    "^$(u 25): not mailed: a confirmation mail went to this address a short while ago \(use its link\), and another can go after [0-9-]+ [0-9:]+ UTC\.$" \
    "HKP add again: a rate-limited address says until when"
is "$(grep -c 'on its way' "$T_DIR/body")" 0 "... and nothing is mailed"
curl -s -X POST "$(link_of "$(mail_to "$MD" "$(u 0)")")" >/dev/null
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/many.asc")
is "$(grep "^$(u 0): " "$T_DIR/body")" "$(u 0): already published." \
    "once confirmed: already published"

# --- client: new keys without a confirmed address per day -------------------
CP=$(free_port)
CDATA=$T_DIR/cdata
start_keydird "$CP" "$CDATA" "$T_DIR/client.log" --smtp "smtp://127.0.0.1:$SP" \
    --set max_unconfirmed_per_client=3 ||
    bail "keydird (max_unconfirmed_per_client 3) starts on port $CP"
CURL_=$KD_URL
mk_gnupghome C "$CP"
for i in 1 2 3 4; do
	F[$i]=$(gen_key "$C" "Client $i <c$i@example.org>")
	g "$C" --armor --export "${F[$i]}" >"$T_DIR/c$i.asc"
done
for i in 1 2 3; do
	is "$(vks_upload "$CURL_" "$T_DIR/c$i.asc")" 200 "new key $i from 127.0.0.1: 200"
	[ "$i" = 1 ] && TOK1=$(jq -r .token "$T_DIR/body")
done
before=$(state_counts "$CDATA")
code=$(http POST "$CURL_/pks/add" --data-urlencode "keytext@$T_DIR/c4.asc")
is "$code" 429 "the fourth new key within a day, HKP: 429"
RA=$(header Retry-After)
ok "$([ "${RA:-0}" -gt 86000 ] && [ "$RA" -le 86400 ]; echo $?)" \
    "... Retry-After: when the first is a day old ($RA s)"
like "$(body)" "^Too many new keys from your address: at most 3 keys that have no confirmed address are taken from one address in 24 hours\.  Try again after [0-9-]+ [0-9:]+ UTC" \
    "... the text says why and when"
is "$(state_counts "$CDATA")" "$before" "... nothing stored, nothing mailed"
is "$(http GET "$CURL_/vks/v1/by-fingerprint/${F[4]}")" 404 "... not found by fingerprint"
is "$(vks_upload "$CURL_" "$T_DIR/c4.asc")" 429 "VKS upload of it: 429"
like "$(jq -r .error "$T_DIR/body")" "^Too many new keys" "... a JSON error"
ok "$([ -n "$(header Retry-After)" ]; echo $?)" "... with Retry-After"
g "$C" --send-keys "${F[4]}" >"$T_DIR/csend.out" 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "gpg --send-keys of it fails"
is "$(vks_upload "$CURL_" "$T_DIR/c2.asc")" 200 \
    "a key it stored before: 200 (not a new key)"
cm=$(mails_to "$MD" c1@example.org)
is "$(vks_request "$CURL_" "$TOK1" c1@example.org)" 200 "key 1: request-verify"
wait_until 30 has_more_mails "$MD" c1@example.org "$cm"
is "$(confirm "$(link_of "$(mail_to "$MD" c1@example.org)")")" 200 \
    "... confirmed: it counts no more"
is "$(http POST "$CURL_/pks/add" --data-urlencode "keytext@$T_DIR/c4.asc")" 200 \
    "so the fourth is taken now"
is "$(http GET "$CURL_/vks/v1/by-fingerprint/${F[4]}")" 200 "... and found"

# --- room: the oldest never-confirmed key makes room ------------------------
mk_gnupghome R "$KP"
P=$(gen_key "$R" "Published <p@example.org>")
g "$R" --armor --export "$P" >"$T_DIR/p.asc"
for i in 1 2 3 4; do
	K[$i]=$(gen_key "$R" "Room $i <r$i@example.org>")
	g "$R" --armor --export "${K[$i]}" >"$T_DIR/r$i.asc"
done
# each key's size as the directory counts it, on a scratch server
SP2=$(free_port)
start_keydird "$SP2" "$T_DIR/sdata" "$T_DIR/scratch.log" ||
    bail "a scratch keydird starts"
prev=0
for i in 1 2 3 4; do
	vks_upload "$KD_URL" "$T_DIR/r$i.asc" >/dev/null
	b=$(state_of "$T_DIR/sdata" .unconfirmed.bytes)
	S[$i]=$((b - prev))
	prev=$b
done
is "$(state_of "$T_DIR/sdata" .unconfirmed.keys)" 4 \
    "sizes: ${S[1]}, ${S[2]}, ${S[3]}, ${S[4]} bytes"
# room for three; the fourth pushes the first out, whichever is larger
MAXB=$((S[2] + S[3] + (S[1] > S[4] ? S[1] : S[4])))
BP=$(free_port)
BDATA=$T_DIR/bdata
start_keydird "$BP" "$BDATA" "$T_DIR/room.log" --smtp "smtp://127.0.0.1:$SP" \
    --set "max_unconfirmed_bytes=$MAXB" ||
    bail "keydird (max_unconfirmed_bytes $MAXB) starts on port $BP"
BURL=$KD_URL
publish "$BURL" "$MD" "$T_DIR/p.asc" p@example.org
ok $? "the oldest key is published for p@example.org"
for i in 1 2 3; do
	is "$(vks_upload "$BURL" "$T_DIR/r$i.asc")" 200 "never-confirmed key $i"
done
is "$(keys_state "$BDATA" '[.[].fpr] | length')" 4 "four keys stored"
is "$(vks_upload "$BURL" "$T_DIR/r4.asc")" 200 \
    "key 4, past max_unconfirmed_bytes ($MAXB): 200"
is "$(http GET "$BURL/vks/v1/by-fingerprint/${K[1]}")" 404 \
    "the oldest never-confirmed key (1) made room"
is "$(for i in 2 3 4; do http GET "$BURL/vks/v1/by-fingerprint/${K[$i]}"; echo; done |
    tr -d '\n')" 200200200 "keys 2, 3 and 4 stay"
is "$(http GET "$BURL/vks/v1/by-email/p@example.org")" 200 \
    "the older published key stays, found by address"
is "$(state_of "$BDATA" '"\(.keys) \(.unconfirmed.keys) \(.unconfirmed.bytes)"')" \
    "4 3 $((S[2] + S[3] + S[4]))" "keydird state: 3 never-confirmed keys, their bytes"
like "$(cat "$T_DIR/room.log")" "never-confirmed key\(s\) deleted, oldest first, to make room for ${K[4]}" \
    "the log says so"

# --- rate: 10 a minute, in order, none lost ---------------------------------
# 20 queued at the start; this waits out the second minute
wait_for 150 '[ "$(unsent "$RDATA")" = 0 ] && [ "$(mail_count "$RMD")" -ge 20 ]'
is "$(state_of "$RDATA" '"\(.outbox.total) \(.outbox.sent)"')" "20 20" \
    "the rate server sent all 20 mails"
is "$(for i in $(seq 0 29); do mails_to "$RMD" "$(u "$i")"; done | tr -d ' \n')" \
    "111111111111111111110000000000" "... one to each of u0 to u19, none lost"
outbox_state "$RDATA" '[.[] | .sent] | @tsv' | tr '\t' '\n' >"$T_DIR/sent"
is "$(sort -n "$T_DIR/sent" | tr '\n' ' ')" "$(tr '\n' ' ' <"$T_DIR/sent")" \
    "... in the order queued"
# the most sent in any 60 seconds, from the sent times
busiest=$(awk '{t[NR] = $1} END {m = 0; for (i = 1; i <= NR; i++) {n = 0;
    for (j = 1; j <= NR; j++) if (t[j] >= t[i] && t[j] < t[i] + 60) n++;
    if (n > m) m = n}; print m}' "$T_DIR/sent")
is "$busiest" 10 "... never more than 10 in any minute"
first=$(head -1 "$T_DIR/sent")
ok "$([ "$(sed -n 11p "$T_DIR/sent")" -ge $((first + 60)) ]; echo $?)" \
    "... the 11th a minute after the first: the rest waited"
like "$(cat "$T_DIR/rate.log")" "mail: 10 sent in the last 60s \(mail_global_rate 10/60s\): the rest wait in the outbox" \
    "the log says mail was held back"

done_testing
