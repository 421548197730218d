#!/bin/bash
# 18-recovery: key recovery data (claim 3).  It is kept only from a
# signed submission of its key (at most 64 KiB; a newer one replaces it)
# and handed back only through a link mailed to a published address of
# that key: the request answers the same whether or not there is data,
# the link works once, the hand-out mails a notice, and requests are rate
# limited per address.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
MD=$DATA/mail

start_keydird "$KP" "$DATA" "$LOG" --set mail_rate=2s ||
    bail "keydird starts on port $KP"
URL=$KD_URL
AUTH=127.0.0.1:$KP
mk_gnupghome H "$KP"
http GET "$URL/api/v1/server-key" >/dev/null
SFPR=$(header Keydir-Fingerprint)
g "$H" --import "$T_DIR/body" >/dev/null 2>&1
K=$(gen_key "$H" "Rhea <rhea@example.org>")
g "$H" --armor --export "$K" >"$T_DIR/k.asc"

# submit_with BLOBFILE: a signed submission of K carrying BLOBFILE
submit_with() {
	jq -n --rawfile k "$T_DIR/k.asc" --arg s "$AUTH" \
	    --arg r "$(base64 -w0 "$1")" \
	    '{action: "publish", server: $s, key: $k,
	      addresses: ["rhea@example.org"], recovery: $r}' >"$T_DIR/p.json"
	rm -f "$T_DIR/m.pgp"
	g "$H" --trust-model always -u "$K" -r "$SFPR" --sign --encrypt \
	    -o "$T_DIR/m.pgp" "$T_DIR/p.json" >/dev/null 2>&1
	http POST "$URL/api/v1/submit" --data-binary "@$T_DIR/m.pgp"
}
mails_n() {
	find "$MD/new" "$MD/cur" -type f 2>/dev/null | wc -l
}
request() {
	http POST "$URL/api/v1/recovery/request" -H 'Content-Type: application/json' \
	    --data "{\"address\": \"$1\"}"
}

head -c 1000 /dev/urandom >"$T_DIR/blob1"
is "$(submit_with "$T_DIR/blob1")" 200 "a signed submission with recovery data: 200"
is "$(state_jq "$DATA" '.recovery_data')" 1 "the data is kept"
wait_until 10 has_mail "$MD" rhea@example.org
is "$(confirm "$(mail_link "$(mail_to "$MD" rhea@example.org)" verify)")" 200 \
    "the address is confirmed"

# the request: the same answer for every address; a mail only to the owner
n0=$(mails_n)
is "$(request nobody@example.org)" 200 "a request for an address not published: 200"
A_NONE=$(jq -r .status "$T_DIR/body")
is "$(mails_n)" "$n0" "... and no mail"
ls "$MD"/new >"$T_DIR/before"
is "$(request rhea@example.org)" 200 "a request for rhea@example.org: 200"
is "$(jq -r .status "$T_DIR/body")" "$A_NONE" "... the same answer"
newmail() {
	ls "$MD"/new | grep -vxF -f "$T_DIR/before" | while read -r f; do
		mail_link "$MD/new/$f" recovery
	done | head -1
}
wait_for 10 'test -n "$(newmail)"'
L=$(newmail)
like "$L" "^$URL/recovery/[A-Za-z0-9_-]{43}\$" "a mail with a recovery link"
is "$(request rhea@example.org; mails_n)" "200$((n0 + 1))" \
    "a second request within mail_rate: no second mail"

is "$(http GET "$L")" 200 "GET on the link: a page"
like "$(page_text)" "$K" "... naming the key"
is "$(http POST "$L")" 200 "POST on it: 200"
like "$(header Content-Type)" '^application/octet-stream' "... the data itself"
cmp -s "$T_DIR/body" "$T_DIR/blob1"
ok $? "... byte for byte what was submitted"
wait_for 10 'test "$(mails_n)" -ge $((n0 + 2))'
like "$(mail_part "$(mail_to "$MD" rhea@example.org)" subject)" 'downloaded' \
    "a notice of the hand-out reaches the address"
like "$(cat "$LOG")" "recovery data of $K handed out" "the hand-out is logged"
is "$(http POST "$L")" 410 "the link a second time: 410"

# a newer signed submission replaces it
head -c 2000 /dev/urandom >"$T_DIR/blob2"
past_second "$(date +%s)"
is "$(submit_with "$T_DIR/blob2")" 200 "a newer submission with other data: 200"
is "$(state_jq "$DATA" '.recovery_data')" 1 "still one blob"
sleep 2
# the link of the mail this request brings (not an older one: mail files
# of the same second sort in any order)
ls "$MD"/new >"$T_DIR/before"
is "$(request rhea@example.org)" 200 "after mail_rate, another request"
wait_for 10 'test -n "$(newmail)"'
L2=$(newmail)
is "$(http POST "$L2")" 200 "the new link hands out..."
cmp -s "$T_DIR/body" "$T_DIR/blob2"
ok $? "... the newer data"

# exported and imported with the key
"$KEYDIRD" export --data-dir "$DATA" >"$T_DIR/export.jsonl" 2>>"$LOG"
ok $? "keydird export"
is "$(grep -F "\"$K\"" "$T_DIR/export.jsonl" | jq -r .recovery.data | base64 -d | cmp -s - "$T_DIR/blob2"; echo $?)" 0 \
    "... the key's line carries its recovery data"
"$KEYDIRD" import --data-dir "$T_DIR/data2" "$T_DIR/export.jsonl" >/dev/null 2>>"$LOG"
ok $? "keydird import into an empty directory"
is "$(state_jq "$T_DIR/data2" '.recovery_data')" 1 "... keeps the recovery data"
"$KEYDIRD" export --data-dir "$T_DIR/data2" >"$T_DIR/export2.jsonl" 2>>"$LOG"
is "$(tail -n +2 "$T_DIR/export2.jsonl" | md5sum)" "$(tail -n +2 "$T_DIR/export.jsonl" | md5sum)" \
    "... and exports it again byte for byte"

# over 64 KiB: refused, nothing kept
head -c 70000 /dev/urandom >"$T_DIR/big"
before=$(state_counts "$DATA")
past_second "$(date +%s)"
is "$(submit_with "$T_DIR/big")" 413 "recovery data over 64 KiB: 413"
is "$(state_counts "$DATA")" "$before" "... nothing changed"

# gone with the key: a signed removal of the whole key deletes it
statement "$K" all >"$T_DIR/rm.txt"
g "$H" -u "$K!" --clearsign -o "$T_DIR/rm.asc" "$T_DIR/rm.txt" >/dev/null 2>&1
is "$(remove "$T_DIR/rm.asc")" 200 "a signed removal of the whole key: 200"
is "$(state_jq "$DATA" '.recovery_data')" 0 "... and its recovery data is gone"

done_testing
