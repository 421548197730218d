#!/bin/bash
# 11-integrity: what an attacker can upload must never make the directory
# answer with the wrong key or an unconfirmed address.  Keys crafted with
# tests/e2e/pgpcraft.py (Ed25519, exact packets) are uploaded to a running
# keydird; after each attack every lookup path (VKS by-email, by-fingerprint
# and by-keyid, HKP get and index, /api/v1/lookup, the confirmation mail's
# attachment) shows the right key with only confirmed user IDs.
#
#   v3 keys (key id = low 64 bits of the modulus, free to choose)    refused
#   a subkey bound without a back-signature (someone else's primary
#     or signing subkey, any key flags)                         not indexed
#   a key id or subkey fingerprint several keys hold         all answered
#   user IDs with NUL, CR, LF or other control characters            refused
#   "bob@x <alice@y>", "bob@x, Alice <alice@y>"          carry no address
#   local parts with %, ! or a leading |                 carry no address
#   a certification before the first user ID               400, not 500
#   a user ID given twice                                   400, not 500
#
# keydird republish brings what an older keydird indexed and published (made
# here with SQL, sqlite_legacy_state in lib.sh) under these rules.  At the
# end every kind of key this test got the server to accept is exported and
# imported into a fresh directory: import refuses none of it.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
KP2=$(free_port)
DATA=$T_DIR/data
DATA2=$T_DIR/data2
MD=$DATA/mail
LOG=$T_DIR/keydird.log
export PYTHONDONTWRITEBYTECODE=1
CRAFT="$PY $(dirname "$0")/pgpcraft.py"

start_keydird "$KP" "$DATA" "$LOG" --set mail_rate=1s ||
    bail "keydird starts on port $KP"
URL=$KD_URL
mk_gnupghome S "$KP"		# scratch home: reads answers, imports nothing

# craft NAME ARGS...: pgpcraft.py cert ARGS > $T_DIR/NAME.asc
craft() {
	local n=$1
	shift
	$CRAFT cert "$@" >"$T_DIR/$n.asc"
}

# keys_in FILE: one line per key in FILE, "FPR [sub:FPR]... [uid:UID]...",
# as gpg reads it (nothing imported).
keys_in() {
	g "$S" --with-colons --import-options show-only --import <"$1" \
	    2>/dev/null | awk -F: '
	    $1 == "pub" { if (k != "") print k; k = ""; w = "p"; next }
	    $1 == "sub" { w = "s"; next }
	    $1 == "fpr" && w == "p" { k = $10; w = ""; next }
	    $1 == "fpr" && w == "s" { k = k " sub:" $10; w = ""; next }
	    $1 == "uid" { k = k " uid:" $10 }
	    END { if (k != "") print k }'
}

# served PATH: the keys an answer holds (keys_in), or "404" and the like.
served() {
	local code
	code=$(http GET "$URL/$1")
	if [ "$code" = 200 ]; then
		keys_in "$T_DIR/body"
	else
		echo "$code"
	fi
}

# primaries PATH: the primary fingerprints of an answer, sorted, on one line.
primaries() {
	served "$1" | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//'
}

# index_fprs SEARCH: the pub: fingerprints of HKP op=index, sorted.
index_fprs() {
	http GET "$URL/pks/lookup?op=index&options=mr&search=$1" >/dev/null
	awk -F: '$1 == "pub" {print $2}' "$T_DIR/body" | sort | tr '\n' ' ' |
	    sed 's/ $//'
}

# upload NAME: VKS upload of $T_DIR/NAME.asc; prints the status.
upload() {
	vks_upload "$URL" "$T_DIR/$1.asc"
}

# rows: the counts of keys, key ids, addresses, tokens and outbox rows
# (keydird state).
rows() {
	state_of "$DATA" '"\(.keys) \(.keyids) \(.addresses) \(.tokens.total) \(.outbox.total)"'
}

NOW=$(date +%s)
AF=$($CRAFT fpr --seed alice)
AK=${AF:24}

# --- 1. v3 keys ----------------------------------------------------------------
craft alice --seed alice --uid 'Alice <alice@example.org>'
publish "$URL" "$MD" "$T_DIR/alice.asc" alice@example.org
ok $? "Alice's key is published for alice@example.org" || bail "no Alice"
before=$(rows)
$CRAFT v3 --keyid "$AK" --uid 'Mallory <mallory@example.org>' >"$T_DIR/v3.asc"
is "$(upload v3)" 400 "a v3 key with Alice's key id: 400"
is "$(jq -r .error "$T_DIR/body")" \
    "v3 (PGP 2) keys are not accepted: only OpenPGP v4 keys are" \
    "... saying why"
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/v3.asc")
is "$code" 400 "... over HKP too"
is "$(rows)" "$before" "... and nothing is stored"
is "$(primaries "vks/v1/by-keyid/$AK")" "$AF" "by-keyid: Alice's key only"
is "$(primaries "pks/lookup?op=get&options=mr&search=0x$AK")" "$AF" \
    "HKP get 0xKEYID: Alice's key only"
is "$(index_fprs "0x$AK")" "$AF" "HKP index 0xKEYID: Alice's key only"

# --- 2. subkeys without a back-signature ----------------------------------------
CF=$($CRAFT fpr --seed carol)
BSF=$($CRAFT fpr --seed bobsign)
craft bob --seed bob --uid 'Bob <bob@example.org>' --sub bobsign:02:yes \
    --sub bobenc:0c:no
publish "$URL" "$MD" "$T_DIR/bob.asc" bob@example.org
ok $? "Bob is published, with a signing subkey (back-signed)"
BF=$(keys_in "$T_DIR/bob.asc" | awk '{print $1}')
is "$(primaries "vks/v1/by-fingerprint/$BSF")" "$BF" \
    "Bob's signing subkey finds Bob by fingerprint"
n=0
for spec in none:no 01:no 02:no 02:bad 0c:no 0d:no 0c+02:no; do
	n=$((n + 1))
	craft mal$n --seed mal$n --uid "Mal <mal$n@example.org>" \
	    --sub "alice:${spec%%:*}:${spec#*:}:ed25519" \
	    --sub "carol:${spec%%:*}:${spec#*:}:ed25519" \
	    --sub "bobsign:${spec%%:*}:${spec#*:}:ed25519"
	is "$(upload mal$n)" 200 "Mal$n binds Alice's and Carol's primary keys and Bob's subkey, flags ${spec%%:*}, back-signature ${spec#*:}: stored"
	MF=$(jq -r .key_fpr "$T_DIR/body")
	is "$(primaries "vks/v1/by-fingerprint/$AF") / $(primaries "vks/v1/by-keyid/$AK")" \
	    "$AF / $AF" "... Alice's fingerprint and key id still find only Alice"
	is "$(http GET "$URL/vks/v1/by-fingerprint/$CF") $(http GET "$URL/vks/v1/by-keyid/${CF:24}")" \
	    "404 404" "... Carol's key, never uploaded, is not found through Mal's"
	is "$(primaries "vks/v1/by-keyid/${BSF:24}") / $(index_fprs "0x$BSF")" \
	    "$BF / $BF" "... Bob's subkey finds only Bob (VKS, HKP index)"
	is "$(key_state "$DATA" "$MF" '[.keyids[].fpr] | join(",")')" "$MF" \
	    "... Mal's key is indexed by its primary key only"
done
craft carol --seed carol --uid 'Carol <carol@example.org>'
is "$(upload carol)" 200 "Carol uploads her own key later"
is "$(primaries "vks/v1/by-fingerprint/$CF")" "$CF" "... and by-fingerprint finds hers"
is "$(primaries "pks/lookup?op=get&options=mr&search=0x${CF:24}")" "$CF" \
    "... and so does HKP by key id"

# --- 3. collisions ---------------------------------------------------------------
# Bob's signing subkey, back-signed, also in Eve's key: whoever holds that
# secret key may do that, so both keys have a claim.
craft eve --seed eve --uid 'Eve <eve@example.org>' --sub bobsign:02:yes
is "$(upload eve)" 200 "Eve's key with Bob's back-signed subkey: stored"
EF=$(jq -r .key_fpr "$T_DIR/body")
both=$(printf '%s\n%s\n' "$BF" "$EF" | sort | tr '\n' ' ' | sed 's/ $//')
is "$(primaries "vks/v1/by-keyid/${BSF:24}")" "$both" \
    "by-keyid of the shared subkey answers both keys"
is "$(primaries "vks/v1/by-fingerprint/$BSF")" "$both" \
    "by-fingerprint of the shared subkey answers both keys"
is "$(grep -c 'BEGIN PGP PUBLIC KEY BLOCK' "$T_DIR/body")" 1 "... in one armor block"
is "$(primaries "pks/lookup?op=get&options=mr&search=0x$BSF")" "$both" \
    "HKP get answers both"
is "$(index_fprs "0x${BSF:24}")" "$both" "HKP index lists both"
head -1 "$T_DIR/body" | grep -q '^info:1:2' 
ok $? "... with info:1:2"
http GET "$URL/vks/v1/by-keyid/${BSF:24}" >/dev/null
et=$(header ETag)
is "$(http GET "$URL/vks/v1/by-keyid/${BSF:24}" -H "If-None-Match: $et")" 304 \
    "the joined answer has its own ETag (304 on If-None-Match)"
# A key's own primary beats any subkey entry: Dan binds Alice's primary
# key as a back-signed subkey (as Alice could, for a new key of hers).
craft dan --seed dan --uid 'Dan <dan@example.org>' --sub alice:02:yes
is "$(upload dan)" 200 "Dan's key binds Alice's primary, back-signed: stored"
DF=$(jq -r .key_fpr "$T_DIR/body")
is "$(primaries "vks/v1/by-fingerprint/$AF") / $(primaries "vks/v1/by-keyid/$AK") / $(index_fprs "0x$AK")" \
    "$AF / $AF / $AF" "Alice's own primary key wins over Dan's subkey entry"
is "$(primaries "vks/v1/by-email/alice%40example.org")" "$AF" \
    "alice@example.org still answers Alice's key"

# --- 4. user IDs with control characters ----------------------------------------
before=$(rows)
hex() { printf "$1" | od -An -tx1 | tr -d ' \n'; }
n=0
for uid in 'Alice <alice@x.example>\000<bob@y.example>' \
    'Alice <alice@x.example>\r\nBcc: bob@y.example' 'Alice\n <alice@x.example>' \
    'Alice\t<alice@x.example>' 'Al\177ice <alice@x.example>' \
    'Al\302\205ice <alice@x.example>'; do
	n=$((n + 1))
	craft ctl$n --seed ctl --uid 'Ctl <ctl@example.org>' --uid-hex "$(hex "$uid")"
	is "$(upload ctl$n)" 400 "user ID '$uid': 400"
	like "$(jq -r .error "$T_DIR/body")" '^a user ID contains a control character' \
	    "... saying why"
done
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/ctl1.asc")
is "$code" 400 "the NUL user ID over HKP: 400"
is "$(rows)" "$before" "... nothing stored, no mail"

# --- 5, 6. user IDs that carry another address, routing characters -------------
uids=('bob@hostile.example <frank@example.org>'
    'bob@hostile.example, Frank <frank@example.org>'
    'Frank <frank%hostile.example@example.org>'
    'Frank <hostile.example!frank@example.org>'
    'Frank <|/bin/sh@example.org>'
    'frank@example.org (work)')
args=()
for u in "${uids[@]}"; do args+=(--uid "$u"); done
craft frank --seed frank --uid 'Frank <frank@example.org>' "${args[@]}"
out0=$(outbox_state "$DATA" '[.[].id] | max // 0')
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/frank.asc")
is "$code" 200 "Frank's key with one honest and six hostile user IDs: HKP add 200"
is "$(outbox_state "$DATA" "[.[] | select(.id > $out0) | .rcpt] | join(\",\")")" \
    "frank@example.org" "... the only mail goes to frank@example.org"
is "$(upload frank)" 200 "VKS upload of the same key"
is "$(jq -c '.status | keys' "$T_DIR/body")" '["frank@example.org"]' \
    "... lists only frank@example.org"
FF=$(jq -r .key_fpr "$T_DIR/body")
wait_until 20 has_mail "$MD" frank@example.org || diag "no mail to frank"
att=$T_DIR/frank-att.asc
mail_part "$(mail_to "$MD" frank@example.org)" att >"$att"
is "$(keys_in "$att")" "$FF uid:Frank <frank@example.org>" \
    "the confirmation mail's key carries only Frank's honest user ID"
is "$(confirm "$(link_of "$(mail_to "$MD" frank@example.org)")")" 200 \
    "Frank confirms"
for p in vks/v1/by-email/frank%40example.org "vks/v1/by-fingerprint/$FF" \
    "vks/v1/by-keyid/${FF:24}" "pks/lookup?op=get&options=mr&search=frank@example.org" \
    "pks/lookup?op=get&options=mr&search=0x$FF"; do
	is "$(served "$p")" "$FF uid:Frank <frank@example.org>" \
	    "$p: Frank's key with only the honest user ID"
done
http GET "$URL/pks/lookup?op=index&options=mr&search=0x$FF" >/dev/null
is "$(grep -c '^uid:' "$T_DIR/body")" 1 "HKP index: one uid: line"
like "$(grep '^uid:' "$T_DIR/body")" '^uid:Frank%20<frank@example.org>:' \
    "... Frank's honest one"
for a in frank%25hostile.example%40example.org hostile.example%21frank%40example.org \
    %7C%2Fbin%2Fsh%40example.org; do
	is "$(http GET "$URL/vks/v1/by-email/$a") $(http GET "$URL/api/v1/lookup/$a")" \
	    "400 400" "$a is not an address here (by-email, api lookup)"
done
is "$(http GET "$URL/api/v1/lookup/bob%40hostile.example")" 404 \
    "bob@hostile.example was never published"

# --- 9. a certification before the first user ID --------------------------------
before=$(rows)
craft cbu --seed cbu --uid 'Cbu <cbu@example.org>' --cert-before-uid
is "$(upload cbu)" 400 "a certification before the first user ID: 400"
is "$(jq -r .error "$T_DIR/body")" \
    "malformed key: a user ID certification comes before the first user ID" \
    "... saying what is wrong"
is "$(rows)" "$before" "... nothing stored"
# librnp keeps a repeated user ID but cannot remove either copy later
craft dup --seed dup --uid 'Dup Other <dup@example.net>' \
    --uid 'Dup <dup@example.org>' --uid 'Dup <dup@example.org>'
is "$(upload dup)" 400 "a user ID given twice: 400, not 500"
is "$(jq -r .error "$T_DIR/body")" \
    "a user ID appears twice in the key: each may be given once" \
    "... saying what is wrong"
is "$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/dup.asc")" 400 \
    "... over HKP too"
is "$(rows)" "$before" "... nothing stored"

# --- keydird republish: what an older keydird left behind -----------------------
# (that state is written with SQLite's SQL into the database file)
sqlite_only "the state an older keydird left is written into the SQLite file"
# Its index had Mal's flagless binding of Vic's key (never uploaded), and
# it published gina@example.org from 'bob@hostile.example <gina@...>'.
VF=$($CRAFT fpr --seed vic)
craft gina --seed gina --uid 'bob@hostile.example <gina@example.org>'
is "$(upload gina)" 200 "Gina's key with only a hostile user ID: stored, no address"
GF=$(jq -r .key_fpr "$T_DIR/body")
M1=$(keys_in "$T_DIR/mal1.asc" | awk '{print $1}')
sqlite_legacy_state "$DATA" "INSERT INTO keyids (fpr, keyid, cert, cid, pos)
    SELECT '$VF', '${VF:24}', fpr, id, 9 FROM certs WHERE fpr = '$M1';
    INSERT INTO addresses (address, cid, published, verified) SELECT
    'gina@example.org', id, 1, 1 FROM certs WHERE fpr = '$GF'"
is "$(key_state "$DATA" "$M1" '[.keyids[].fpr] | join(",")') / $(key_state "$DATA" "$GF" '[.addresses[].address] | join(",")')" \
    "$M1,$VF / gina@example.org" \
    "(keydird state: Mal's key indexed under Vic's id, gina@ published for Gina's)"
is "$(primaries "vks/v1/by-fingerprint/$VF") / $(primaries "vks/v1/by-email/gina%40example.org")" \
    "$M1 / $GF" "(the state an older keydird left: Vic's id finds Mal, gina@ is published)"
# and it stored Nick's key with a user ID that hides a second address
# behind a NUL, and published ann@example.org from it
craft nick --seed nick --uid 'Nick <nick@example.org>'
is "$(upload nick)" 200 "Nick's key: stored"
NF=$(jq -r .key_fpr "$T_DIR/body")
$CRAFT cert --seed nick --uid 'Nick <nick@example.org>' --uid-hex \
    "$(hex 'Ann <ann@example.org>\000<bob@y.example>')" --binary >"$T_DIR/nick-nul.pgp"
sqlite_legacy_state "$DATA" "UPDATE certs SET full = X'$(od -An -tx1 -v \
    "$T_DIR/nick-nul.pgp" | tr -d ' \n')' WHERE fpr = '$NF';
    INSERT INTO addresses (address, cid, published, verified) SELECT
    'ann@example.org', id, 1, 1 FROM certs WHERE fpr = '$NF'"
is "$(primaries "vks/v1/by-email/ann%40example.org")" "$NF" \
    "(and ann@example.org answered Nick's key)"
out=$("$KEYDIRD" republish --data-dir "$DATA" 2>>"$LOG")
ok $? "keydird republish exits 0 while serve runs"
is "$out" "looked at $(state_of "$DATA" .keys) keys: 3 republished, 0 left as they were" \
    "... and writes only the three keys whose answer changes (Mal's, Gina's, Nick's)"
UPD='[.[] | "\(.fpr)=\(.updated)"] | join(",")'
upd=$(keys_state "$DATA" "$UPD")
out=$("$KEYDIRD" republish --data-dir "$DATA" 2>>"$LOG")
like "$out" ": 0 republished, 0 left as they were$" "a second run writes nothing"
is "$(keys_state "$DATA" "$UPD")" "$upd" \
    "... and no key's update time moves"
is "$(http GET "$URL/vks/v1/by-fingerprint/$VF") $(http GET "$URL/vks/v1/by-email/gina%40example.org") $(http GET "$URL/vks/v1/by-email/ann%40example.org")" \
    "404 404 404" "Vic's id finds nothing, gina@ and ann@example.org are unpublished"
is "$(key_state "$DATA" "$M1" '[.keyids[].fpr] | join(",")') / $(keys_state "$DATA" \
    '[.[].addresses[].address | select(. == "gina@example.org" or . == "ann@example.org")] | length')" \
    "$M1 / 0" "... keydird state: Mal's key indexed by its primary only, neither address stored"
"$KEYDIRD" export --data-dir "$DATA" 2>>"$LOG" | jq -r --arg f "$NF" \
    'select(.fpr == $f) | .full' | base64 -d >"$T_DIR/nick-full.pgp"
is "$(key_uids "$S" "$T_DIR/nick-full.pgp")" "Nick <nick@example.org>" \
    "... and Nick's stored key lost the user ID with the NUL"
is "$(primaries "vks/v1/by-keyid/${BSF:24}") / $(primaries "vks/v1/by-email/frank%40example.org")" \
    "$both / $FF" "what was right stays: the shared subkey, Frank's address"

# --- export, import: every kind of key accepted above -----------------------------
# published, unconfirmed, bound subkeys without back-signatures, a shared
# subkey, a foreign primary as subkey, hostile user IDs kept unpublished.
"$KEYDIRD" export --data-dir "$DATA" >"$T_DIR/e1.jsonl" 2>>"$LOG"
ok $? "export exits 0"
nkeys=$(($(wc -l <"$T_DIR/e1.jsonl") - 1))
is "$nkeys" "$(state_of "$DATA" .keys)" "... with every key"
out=$("$KEYDIRD" import --data-dir "$DATA2" "$T_DIR/e1.jsonl" 2>>"$LOG")
ok $? "import into an empty directory exits 0"
like "$out" "^imported $nkeys keys" "... and takes every key"
start_keydird "$KP2" "$DATA2" "$T_DIR/keydird2.log" ||
    bail "keydird starts on the imported directory"
paths=(vks/v1/by-email/alice%40example.org vks/v1/by-email/frank%40example.org
    "vks/v1/by-keyid/${BSF:24}" "vks/v1/by-fingerprint/$BSF" "vks/v1/by-keyid/$AK" \
    "vks/v1/by-fingerprint/$DF" "vks/v1/by-fingerprint/$CF" "vks/v1/by-fingerprint/$EF" \
    "pks/lookup?op=index&options=mr&search=0x$BSF")
is "$(same_answers "$URL" "$KD_URL" "${paths[@]}")" "${#paths[@]}" \
    "the imported directory answers the same bytes and ETags"

done_testing
