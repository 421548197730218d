#!/bin/bash
# 10-export: keydird export and import.  A directory built with real gpg
# keys through the confirmation flow (a key with two addresses, one with
# none, a replaced key) is exported while the server runs, imported into an
# empty data directory and exported again: the two exports are the same
# bytes but for the header's time.  A server on the imported directory
# answers every lookup with the same bytes and ETags.  Importing into the
# original directory changes nothing, and an older export merged into a
# newer key loses nothing; bad input is refused with exit 1 and
# the line at fault.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
KP2=$(free_port)
SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
DATA=$T_DIR/data
DATA2=$T_DIR/data2
LOG=$T_DIR/keydird.log
XLOG=$T_DIR/xfer.log
T_KD_LOGS+=("$XLOG")

# kd CMD ARGS...: keydird export/import; stderr appended to XLOG and kept
# in $T_DIR/err for the last call.
kd() {
	"$KEYDIRD" "$@" 2>"$T_DIR/err"
	local rc=$?
	cat "$T_DIR/err" >>"$XLOG"
	return "$rc"
}

start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd starts on port $SP"
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" \
    --set mail_rate=1s || bail "keydird starts on port $KP"
URL=$KD_URL
ok 0 "keydird and aiosmtpd are up"

# --- the directory -----------------------------------------------------------
mk_gnupghome A "$KP"
mk_gnupghome R0 "$KP"
mk_gnupghome R1 "$KP"
AFPR=$(gen_key "$A" 'Alice <alice@example.org>')
BFPR=$(gen_key "$A" 'Bob <bob@example.org>')
g "$A" --quick-add-uid "$BFPR" 'Bob Work <bob@work.example.com>' >/dev/null 2>&1
CFPR=$(gen_key "$A" 'Carol <carol@example.org>')
K0=$(gen_key "$R0" 'Rita Old <rita@example.org>')
g "$R0" --quick-add-uid "$K0" 'Rita Old <rita@work.example.com>' >/dev/null 2>&1
K1=$(gen_key "$R1" 'Rita New <rita@example.org>')
for k in "$AFPR" "$BFPR" "$CFPR"; do
	g "$A" --export --armor "$k" >"$T_DIR/$k.asc"
done
g "$R0" --export --armor "$K0" >"$T_DIR/$K0.asc"
g "$R1" --export --armor "$K1" >"$T_DIR/$K1.asc"

publish "$URL" "$MD" "$T_DIR/$AFPR.asc" alice@example.org
ok $? "Alice is published"
publish "$URL" "$MD" "$T_DIR/$BFPR.asc" bob@example.org bob@work.example.com
ok $? "Bob is published for two addresses"
is "$(vks_upload "$URL" "$T_DIR/$CFPR.asc")" 200 "Carol is uploaded, never confirmed"
publish "$URL" "$MD" "$T_DIR/$K0.asc" rita@example.org rita@work.example.com
ok $? "Rita's old key K0 is published for two addresses"
past_second "$(date +%s)"	# mail_rate=1s, not an assertion
publish "$URL" "$MD" "$T_DIR/$K1.asc" rita@example.org
ok $? "Rita's new key K1 replaces K0 for rita@example.org"

# --- export, import into an empty directory, export again ---------------------
kd export --data-dir "$DATA" >"$T_DIR/e1.jsonl"
ok $? "export while serve runs exits 0" || diag "$(cat "$T_DIR/err")"
like "$(head -1 "$T_DIR/e1.jsonl")" \
    '^\{"format":"keydir-export","version":1,"exported":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"\}$' \
    "the header line"
is "$(wc -l <"$T_DIR/e1.jsonl")" 6 "a header and five keys"
is "$(tail -n +2 "$T_DIR/e1.jsonl" | jq -r .fpr | sort -c && echo sorted)" \
    sorted "keys sorted by fingerprint"
is "$(tail -n +2 "$T_DIR/e1.jsonl" | jq -c --arg f "$BFPR" \
    'select(.fpr == $f) | [.had_address, [.addresses[].address]]')" \
    '[true,["bob@example.org","bob@work.example.com"]]' \
    "Bob's line: had_address and both addresses, sorted"
is "$(tail -n +2 "$T_DIR/e1.jsonl" | jq -c --arg f "$CFPR" \
    'select(.fpr == $f) | [.had_address, .addresses]')" '[false,[]]' \
    "Carol's line: no address"
is "$(tail -n +2 "$T_DIR/e1.jsonl" | jq -c --arg f "$K0" \
    'select(.fpr == $f) | [.addresses[].address]')" \
    '["rita@work.example.com"]' "K0 kept only its other address"
A1=$(tail -n +2 "$T_DIR/e1.jsonl" | jq -c --arg f "$AFPR" \
    'select(.fpr == $f) | .addresses[0] | [.published > 0, .verified > 0, .asked]')
is "$A1" '[true,true,0]' "Alice's address carries its dates"
is "$(key_state "$DATA" "$AFPR" '.addresses[]
    | select(.address == "alice@example.org") | "\(.published) \(.verified)"')" \
    "$(tail -n +2 "$T_DIR/e1.jsonl" | jq -r --arg f "$AFPR" \
    'select(.fpr == $f) | .addresses[0] | "\(.published) \(.verified)"')" \
    "... the ones stored (keydird state)"

out=$(kd import --data-dir "$DATA2" "$T_DIR/e1.jsonl")
ok $? "import into an empty data directory exits 0" || diag "$(cat "$T_DIR/err")"
like "$out" '^imported 5 keys, 5 addresses in [0-9.]+ s$' "import prints its summary"
kd export --data-dir "$DATA2" >"$T_DIR/e2.jsonl"
ok $? "export of the imported directory"
cmp -s <(tail -n +2 "$T_DIR/e1.jsonl") <(tail -n +2 "$T_DIR/e2.jsonl")
ok $? "the second export is the first but for the header" ||
    diag "$(diff <(tail -n +2 "$T_DIR/e1.jsonl") <(tail -n +2 "$T_DIR/e2.jsonl") | head -5)"
is "$(state_of "$DATA2" '"\(.outbox.total) \(.tokens.total)"')" "0 0" \
    "import queues no mail and makes no token"

# --- the imported directory serves the same bytes -----------------------------
start_keydird "$KP2" "$DATA2" "$T_DIR/keydird2.log" ||
    bail "keydird starts on the imported directory"
URL2=$KD_URL
paths=(vks/v1/by-email/alice%40example.org vks/v1/by-email/bob%40example.org \
    vks/v1/by-email/bob%40work.example.com vks/v1/by-email/rita%40example.org \
    vks/v1/by-email/rita%40work.example.com \
    "vks/v1/by-fingerprint/$AFPR" "vks/v1/by-fingerprint/$BFPR" \
    "vks/v1/by-fingerprint/$CFPR" "vks/v1/by-fingerprint/$K0" \
    "vks/v1/by-fingerprint/$K1" "vks/v1/by-keyid/${K0:24}" \
    "pks/lookup?op=index&options=mr&search=bob@example.org" \
    "pks/lookup?op=get&options=mr&search=0x$CFPR")
same=$(same_answers "$URL" "$URL2" "${paths[@]}")
n=${#paths[@]}
is "$same" "$n" "all $n lookups: same status, bytes and ETag on both servers"
is "$(http GET "$URL2/vks/v1/by-email/carol%40example.org")" 404 \
    "Carol's unconfirmed address is not published after import either"
META='"\(.first_stored) \(.had_address)"'
is "$(key_state "$DATA2" "$CFPR" "$META")" "$(key_state "$DATA" "$CFPR" "$META")" \
    "Carol keeps first_stored and had_address (for the clean-up)"

# --- import into the original directory changes nothing ------------------------
out=$(kd import --data-dir "$DATA" - <"$T_DIR/e1.jsonl")
ok $? "import into the original directory (from stdin, while serve runs)" ||
    diag "$(cat "$T_DIR/err")"
kd export --data-dir "$DATA" >"$T_DIR/e3.jsonl"
cmp -s <(tail -n +2 "$T_DIR/e1.jsonl") <(tail -n +2 "$T_DIR/e3.jsonl")
ok $? "... its export is unchanged" ||
    diag "$(diff <(tail -n +2 "$T_DIR/e1.jsonl") <(tail -n +2 "$T_DIR/e3.jsonl") | head -5)"
c=$(http GET "$URL/vks/v1/by-email/rita%40example.org")
is "$(header ETag)" "$(http GET "$URL2/vks/v1/by-email/rita%40example.org" >/dev/null; header ETag)" \
    "... and so are its ETags"

# an older export merges into a newer key: nothing is lost
g "$A" --quick-add-key "$AFPR" cv25519 encr never >/dev/null 2>&1
g "$A" --export --armor "$AFPR" >"$T_DIR/alice2.asc"
is "$(vks_upload "$URL" "$T_DIR/alice2.asc")" 200 "Alice uploads a new subkey"
kd export --data-dir "$DATA" >"$T_DIR/e4.jsonl"
out=$(kd import --data-dir "$DATA" "$T_DIR/e1.jsonl")
ok $? "the older export imports into the updated directory"
like "$(cat "$T_DIR/err")" '5 of the keys were already in the directory' \
    "... merging every key"
kd export --data-dir "$DATA" >"$T_DIR/e5.jsonl"
cmp -s <(tail -n +2 "$T_DIR/e4.jsonl") <(tail -n +2 "$T_DIR/e5.jsonl")
ok $? "... and the new subkey stays: the export is as before the import"
! cmp -s <(tail -n +2 "$T_DIR/e1.jsonl") <(tail -n +2 "$T_DIR/e4.jsonl")
ok $? "... (which differs from the older one)"

# --- refusals -------------------------------------------------------------------
refuse() {	# refuse FILE ERE DESCRIPTION: import exits 1, stderr matches
	local d
	d=$(mktemp -d "$T_DIR/bad.XXXXXX")
	t_own "$d"
	kd import --data-dir "$d" "$1" >/dev/null
	is "$?" 1 "$3: exit 1"
	like "$(cat "$T_DIR/err")" "$2" "$3: the message"
}
{ head -2 "$T_DIR/e1.jsonl"; echo '{"fpr": "12'; tail -n +3 "$T_DIR/e1.jsonl"; } \
    >"$T_DIR/bad1.jsonl"
refuse "$T_DIR/bad1.jsonl" 'line 3: not JSON' "a truncated line"
sed '4s/"full":"/"full":"!!/' "$T_DIR/e1.jsonl" >"$T_DIR/bad2.jsonl"
refuse "$T_DIR/bad2.jsonl" 'line 4: "full" is not base64' "bad base64"
{ head -1 "$T_DIR/e1.jsonl"; sed -n 2p "$T_DIR/e1.jsonl" |
    jq -c '.fpr = "0000000000000000000000000000000000000000"'; } \
    >"$T_DIR/bad3.jsonl"
refuse "$T_DIR/bad3.jsonl" 'line 2: "fpr" is not the fingerprint' \
    "a fingerprint that is not the key's"
{ echo '{"format":"keydir-export","version":2,"exported":"2026-11-28T23:30:00Z"}'
    tail -n +2 "$T_DIR/e1.jsonl"; } >"$T_DIR/v2.jsonl"
refuse "$T_DIR/v2.jsonl" 'line 1: export format version 2 is not one this keydird reads' \
    "a version this keydird does not know"
echo '{"format":"something-else","version":1}' >"$T_DIR/other.jsonl"
refuse "$T_DIR/other.jsonl" 'line 1: not a keydir export' "another format"
: >"$T_DIR/empty.jsonl"
refuse "$T_DIR/empty.jsonl" 'line 1: empty input' "an empty file"

# unknown members are ignored (a later minor addition to the format)
{ head -1 "$T_DIR/e1.jsonl" | jq -c '.generator = "x"'
    tail -n +2 "$T_DIR/e1.jsonl" | jq -c '.future = {"a": 1} |
    .addresses[]? += {"note": "x"}'; } >"$T_DIR/extra.jsonl"
out=$(kd import --data-dir "$T_DIR/data3" "$T_DIR/extra.jsonl")
ok $? "unknown members in the header and key lines are ignored" ||
    diag "$(cat "$T_DIR/err")"
like "$out" '^imported 5 keys, 5 addresses' "... and everything is imported"

done_testing
