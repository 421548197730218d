#!/bin/bash
# 17-rotate-key: keydird rotate-key makes a new server key; the old one
# is kept (mode 0600) and still decrypts submissions for server_key_grace,
# then a start of serve deletes it and submissions encrypted to it are
# refused.  The new key is served and published under the submission
# address; the old one stays findable by fingerprint.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
SUB=key-submission@keys.example.org
ARGS=(--data-dir "$DATA" --set submission_address=$SUB)

start_keydird "$KP" "$DATA" "$LOG" --set submission_address=$SUB ||
    bail "keydird starts on port $KP"
URL=$KD_URL
AUTH=127.0.0.1:$KP
mk_gnupghome H "$KP"
http GET "$URL/api/v1/server-key" >/dev/null
F1=$(header Keydir-Fingerprint)
g "$H" --import "$T_DIR/body" >/dev/null 2>&1
K=$(gen_key "$H" "Tess <tess@example.org>")
g "$H" --quick-add-uid "$K" "Tess <tess@work.example>" >/dev/null 2>&1
g "$H" --armor --export "$K" >"$T_DIR/k.asc"

# sealed_to SERVERFPR ADDRESS OUT: a submission for ADDRESS, to SERVERFPR
sealed_to() {
	jq -n --rawfile k "$T_DIR/k.asc" --arg s "$AUTH" --arg a "$2" \
	    '{action: "publish", server: $s, key: $k, addresses: [$a]}' \
	    >"$T_DIR/p.json"
	rm -f "$3"
	g "$H" --trust-model always -u "$K" -r "$1" --sign --encrypt \
	    -o "$3" "$T_DIR/p.json" >/dev/null 2>&1
}
sealed_to "$F1" tess@example.org "$T_DIR/to-old.pgp"

stop_pid "$KD_PID"
"$KEYDIRD" rotate-key "${ARGS[@]}" >"$T_DIR/out" 2>>"$LOG"
ok $? "keydird rotate-key exits 0"
F2=$(sed -n 's/^new server key \([0-9A-F]\{40\}\);.*/\1/p' "$T_DIR/out")
like "$F2" '^[0-9A-F]{40}$' "... names the new key ($(cat "$T_DIR/out"))"
like "$(cat "$T_DIR/out")" "$F1 is superseded" "... and the old one as superseded"
OLDF=$(ls "$DATA"/server-keys/superseded-*-"$F1".pgp 2>/dev/null)
[ -n "$OLDF" ]
ok $? "the old key is kept in server-keys/"
is "$(stat -c %a "$OLDF")" 600 "... mode 0600"

start_keydird "$KP" "$DATA" "$LOG" --set submission_address=$SUB ||
    bail "keydird starts again"
is "$(http GET "$URL/api/v1/server-key")" 200 "after the restart: 200"
is "$(header Keydir-Fingerprint)" "$F2" "... the new key"
is "$(header Keydir-Superseded)" "$F1" "... the old one listed as superseded"
g "$H" --import "$T_DIR/body" >/dev/null 2>&1
is "$(http GET "$URL/vks/v1/by-email/$SUB")" 200 "the submission address: 200"
is "$(key_fprs "$H" "$T_DIR/body")" "$F2" "... answers the new key"
is "$(http GET "$URL/vks/v1/by-fingerprint/$F1")" 200 "the old key is still found by fingerprint"
like "$(cat "$LOG")" "server key $F1 superseded: still decrypts until" \
    "the log says the old key still decrypts"

is "$(http POST "$URL/api/v1/submit" --data-binary "@$T_DIR/to-old.pgp")" 200 \
    "a submission encrypted to the old key, within its grace: 200"
sealed_to "$F2" tess@work.example "$T_DIR/to-new.pgp"
is "$(http POST "$URL/api/v1/submit" --data-binary "@$T_DIR/to-new.pgp")" 200 \
    "one encrypted to the new key: 200"

# past the grace period the old key is deleted and decrypts nothing
stop_pid "$KD_PID"
sleep 2
start_keydird "$KP" "$DATA" "$LOG" --set submission_address=$SUB \
    --set server_key_grace=1s || bail "keydird starts with a short grace"
like "$(cat "$LOG")" "server key $F1 deleted" "past server_key_grace the old key is deleted"
[ ! -e "$OLDF" ]
ok $? "... its file is gone"
sealed_to "$F1" tess@example.org "$T_DIR/late.pgp"
is "$(http POST "$URL/api/v1/submit" --data-binary "@$T_DIR/late.pgp")" 400 \
    "a submission encrypted to it now: 400"
like "$(jq -r .error "$T_DIR/body")" "not encrypted to this directory|cannot decrypt" \
    "... $(jq -r .error "$T_DIR/body")"

"$KEYDIRD" rotate-key --data-dir "$T_DIR/empty" >"$T_DIR/out" 2>"$T_DIR/err"
is $? 1 "rotate-key without a server key: exit 1"
like "$(cat "$T_DIR/err")" "no server key" "... saying so"

done_testing
