#!/bin/bash
# 13-revocation: signed removal (POST /api/v1/remove) and revocation, with
# keys and signatures made by pgpcraft.py so that every time is exact; and
# the confirmation page of one_address_per_key, which must agree with what
# confirming does.
#
# Server 1 (defaults, Maildir):
#   - a statement signed by a revoked signing subkey, or by an
#     authentication-only subkey, is refused (403 "signed by a subkey that
#     is revoked or may not sign"); a good signing subkey of the same key
#     then removes an address (control);
#   - the signature must be made within 15 minutes of the statement's date:
#     an expired key signing inside its validity a statement dated now is
#     400, the same key signing now is 403 (not good), a signature 20
#     minutes after or before the date is 400, one 5 minutes before is 200;
#   - a revoked primary key signing `addresses: all` leaves its tombstone
#     (200 {"removed":"all","kept":"revocation"}): by fingerprint and key id
#     (VKS, HKP) the primary key with its revocation and no user ID or
#     subkey, every address 404; a second signed request is refused (409:
#     the tombstone is never removed);
#     a subkey of the revoked key signs nothing;
#   - `keydird maintain --now NOW+60d` keeps revoked keys, even one that
#     never had an address (while it deletes an unrevoked one);
#   - export and import into a fresh directory keep the tombstone (same
#     bytes and ETag from a server on the imported directory).
# Every refusal changes nothing: the same counts, address owners and ETags
# (keydird state), no nonce stored, the key served by fingerprint, only its
# confirmed addresses found.
# Server 2 (one_address_per_key=1): key K with a, b, c; a is published; the
#   page of b says confirming unpublishes a (hidden field effects); c is
#   confirmed by a plain POST; b's POST with the old effects publishes
#   nothing and shows a fresh page naming c; a garbage or wrong effects
#   publishes nothing; the fresh page's effects publishes b and unpublishes c.
. "$(dirname "$0")/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
export PYTHONDONTWRITEBYTECODE=1

# pc ARGS...: pgpcraft.py
pc() {
	"$PY" "$HERE/pgpcraft.py" "$@"
}

KP=$(free_port)
DATA=$T_DIR/data
MD=$DATA/mail
LOG=$T_DIR/keydird.log
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts on port $KP"
URL=$KD_URL
AUTH=127.0.0.1:$KP

mk_gnupghome S "$KP"		# scratch home for inspecting answers

DAY=86400
T0=$(date +%s)

# inspect FILE: gpg --list-packets of a key file
inspect() {
	g "$S" --list-packets <"$1" 2>&1
}


# snap: SNAP and NONCES, the state (lib.sh) and the nonce count as keydird
# state shows them now (state ends the test when keydird state fails, and
# the snapshot must hold every field: no "nothing changed" is vacuous)
snap() {
	SNAP=$(state)
	NONCES=$(nonces)
	like "$SNAP $NONCES" '^[1-9][0-9]* [0-9]+ [0-9]+ [0-9]+ [0-9]+ [^ ]+ "[0-9a-f]{32}"[^ ]* [0-9]+$' \
	    "snapshot taken ($(cut -d' ' -f1-5 <<<"$SNAP"))"
}

nonces() {
	state_of "$DATA" .nonces
}

# uid_addrs FILE: the addresses of the user IDs in a key file, sorted, on
# one line
uid_addrs() {
	key_uids "$S" "$1" | sed -n 's/.*<\(.*\)>$/\1/p' | sort | tr '\n' ' ' |
	    sed 's/ $//'
}

# served URL FPR PUB UNPUB: FPR is served by fingerprint with exactly the
# user IDs of the addresses PUB (space separated, sorted); each of PUB is
# found for FPR by VKS, HKP and /api/v1/lookup; each of UNPUB is found by
# none of them.
served() {
	local u=$1 f=$2 pub=$3 unpub=$4 a code
	code=$(http GET "$u/vks/v1/by-fingerprint/$f")
	is "$code" 200 "... ${f:0:8} still served by fingerprint"
	is "$(uid_addrs "$T_DIR/body")" "$pub" \
	    "... with the user IDs of its confirmed addresses only ($pub)"
	for a in $pub; do
		code=$(http GET "$u/vks/v1/by-email/$a")
		is "$code:$(key_fprs "$S" "$T_DIR/body")" "200:$f" \
		    "... $a: VKS by-email finds it"
		code=$(http GET "$u/pks/lookup?op=get&options=mr&search=$a")
		is "$code:$(key_fprs "$S" "$T_DIR/body")" "200:$f" \
		    "... $a: HKP get finds it"
		code=$(http GET "$u/api/v1/lookup/$a")
		is "$code:$(jq -r .fingerprint "$T_DIR/body" 2>/dev/null)" \
		    "200:$f" "... $a: /api/v1/lookup names it"
	done
	for a in $unpub; do
		is "$(http GET "$u/vks/v1/by-email/$a"):$(http GET \
		    "$u/pks/lookup?op=get&options=mr&search=$a"):$(http GET \
		    "$u/api/v1/lookup/$a")" "404:404:404" \
		    "... $a (not confirmed): 404 by VKS, HKP and /api/v1/lookup"
	done
}

# refused CODE WANT ERE DESCRIPTION: after a remove: the status, a JSON
# error matching ERE, the database as in SNAP, no nonce stored, and the
# key $KEY served as before (published $PUB, not $UNPUB)
refused() {
	local code=$1 want=$2 re=$3 desc=$4
	is "$code" "$want" "$desc: $want"
	like "$(header Content-Type)" "application/json" "... JSON answer"
	like "$(jq -r .error "$T_DIR/body" 2>/dev/null)" "$re" "... error /$re/"
	is "$(state)" "$SNAP" "... nothing changed (keydird state)"
	is "$(nonces)" "$NONCES" "... no nonce stored ($NONCES)"
	served "$URL" "$KEY" "$PUB" "$UNPUB"
}

# ============================================================================
# 1. a revoked subkey signs nothing
# ============================================================================
C1=$((T0 - DAY))
pc cert --seed rs-primary --created "$C1" \
    --uid 'Rita Sub <rita@example.org>' --uid 'Rita Two <rita@two.example>' \
    --sub rs-sign-revoked:02:yes --sub rs-sign-good:02:yes \
    --sub rs-auth:20:yes --revoked-sub 1 >"$T_DIR/rs.asc"
RS=$(pc fpr --seed rs-primary --created "$C1")
like "$RS" '^[0-9A-F]{40}$' "pgpcraft made key RS (three subkeys, the first revoked)" ||
    bail "no pgpcraft"
publish "$URL" "$MD" "$T_DIR/rs.asc" rita@example.org rita@two.example
ok $? "RS is published for rita@example.org and rita@two.example" ||
    bail "cannot publish RS"
code=$(http GET "$URL/vks/v1/by-fingerprint/$RS")
like "$(inspect "$T_DIR/body")" "sigclass 0x28" \
    "the server has the subkey revocation of RS"
is "$(inspect "$T_DIR/body" | grep -c 'public sub key packet')" 3 \
    "... and its three subkeys"

KEY=$RS PUB="rita@example.org rita@two.example" UNPUB=""
snap
E_DEAD='^signed by a subkey that is revoked or may not sign$'

statement "$RS" all | pc clearsign --seed rs-primary --created "$C1" \
    --sub-seed rs-sign-revoked >"$T_DIR/rs-all.asc"
like "$(sed -n '/BEGIN PGP SIGNATURE/,/END PGP SIGNATURE/p' "$T_DIR/rs-all.asc" |
    g "$S" --list-packets 2>&1)" \
    "keyid $(pc keyid --seed rs-sign-revoked --created "$C1")" \
    "the statement is signed by the revoked subkey"
refused "$(remove "$T_DIR/rs-all.asc")" 403 "$E_DEAD" \
    "addresses: all signed by the revoked subkey"

statement "$RS" rita@two.example | pc clearsign --seed rs-primary \
    --created "$C1" --sub-seed rs-sign-revoked >"$T_DIR/rs-one.asc"
refused "$(remove "$T_DIR/rs-one.asc")" 403 "$E_DEAD" \
    "one address signed by the revoked subkey"

statement "$RS" all | pc clearsign --seed rs-primary --created "$C1" \
    --sub-seed rs-auth >"$T_DIR/rs-auth.asc"
refused "$(remove "$T_DIR/rs-auth.asc")" 403 "$E_DEAD" \
    "addresses: all signed by the authentication-only subkey"

# control: the good signing subkey of the same key may
statement "$RS" rita@two.example | pc clearsign --seed rs-primary \
    --created "$C1" --sub-seed rs-sign-good >"$T_DIR/rs-good.asc"
code=$(remove "$T_DIR/rs-good.asc")
is "$code" 200 "control: one address signed by the good signing subkey: 200" ||
    diag "$(body)"
is "$(jq -cS . "$T_DIR/body")" "{\"fingerprint\":\"$RS\",\"removed\":1}" \
    "... {fingerprint, removed: 1}"
is "$(nonces)" $((NONCES + 1)) "... its nonce is stored"
PUB="rita@example.org" UNPUB="rita@two.example"
served "$URL" "$RS" "$PUB" "$UNPUB"

# ============================================================================
# 2. the signature is made when the statement says
# ============================================================================
# E: created 3 days ago, expired 1 day after that (2 days ago)
CE=$((T0 - 3 * DAY))
pc cert --seed exp-key --created "$CE" --expires-after "$DAY" \
    --uid 'Eli Expired <eli@example.org>' \
    --uid 'Eli Other <eli@other.example>' >"$T_DIR/e.asc"
E=$(pc fpr --seed exp-key --created "$CE")
publish "$URL" "$MD" "$T_DIR/e.asc" eli@example.org
ok $? "the expired key E is published for eli@example.org (not eli@other.example)" ||
    diag "$(body)"
KEY=$E PUB="eli@example.org" UNPUB="eli@other.example"
snap

# (a) signed inside the key's validity, dated now
statement "$E" all | pc clearsign --seed exp-key --created "$CE" \
    --sig-time $((CE + 3600)) >"$T_DIR/e-back.asc"
refused "$(remove "$T_DIR/e-back.asc")" 400 \
    "signature.*within 15 minutes|within 15 minutes.*signature" \
    "expired key, signature made while it was valid (3 days ago), statement dated now"
# (b) signed now: the key has expired
statement "$E" all | pc clearsign --seed exp-key --created "$CE" \
    --sig-time "$(date +%s)" >"$T_DIR/e-now.asc"
refused "$(remove "$T_DIR/e-now.asc")" 403 "^the signature is not good$" \
    "expired key, signature made now"

# V: valid, created a day ago
CV=$((T0 - DAY))
pc cert --seed valid-key --created "$CV" \
    --uid 'Vera Valid <vera@example.org>' \
    --uid 'Vera Other <vera@other.example>' >"$T_DIR/v.asc"
V=$(pc fpr --seed valid-key --created "$CV")
publish "$URL" "$MD" "$T_DIR/v.asc" vera@example.org
ok $? "the valid key V is published for vera@example.org (not vera@other.example)" ||
    bail "cannot publish V"
KEY=$V PUB="vera@example.org" UNPUB="vera@other.example"
snap

# (c) signature 20 minutes after the statement's date
now=$(date +%s)
statement "$V" all "$AUTH" "$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)" |
    pc clearsign --seed valid-key --created "$CV" \
    --sig-time $((now + 1200)) >"$T_DIR/v-late.asc"
refused "$(remove "$T_DIR/v-late.asc")" 400 "within 15 minutes" \
    "valid key, statement dated now, signature made 20 minutes later"
# ... and 20 minutes before it
now=$(date +%s)
statement "$V" all "$AUTH" "$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)" |
    pc clearsign --seed valid-key --created "$CV" \
    --sig-time $((now - 1200)) >"$T_DIR/v-early.asc"
refused "$(remove "$T_DIR/v-early.asc")" 400 "within 15 minutes" \
    "valid key, statement dated now, signature made 20 minutes earlier"

# (d) control: signature 5 minutes before the date
now=$(date +%s)
statement "$V" all "$AUTH" "$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)" |
    pc clearsign --seed valid-key --created "$CV" \
    --sig-time $((now - 300)) >"$T_DIR/v-ok.asc"
code=$(remove "$T_DIR/v-ok.asc")
is "$code" 200 "control: valid key, signature 5 minutes before the date: 200" ||
    diag "$(body)"
is "$(jq -cS . "$T_DIR/body")" "{\"fingerprint\":\"$V\",\"removed\":\"all\"}" \
    "... {fingerprint, removed: all}"
is "$(http GET "$URL/vks/v1/by-fingerprint/$V")" 404 "... V (not revoked) is deleted"
is "$(http GET "$URL/vks/v1/by-email/vera@example.org")" 404 \
    "... vera@example.org: by-email 404"

# ============================================================================
# 3. a revoked primary key: its removal leaves the tombstone
# ============================================================================
CR=$((T0 - DAY))
R_ARGS=(--seed rev-key --created "$CR" --uid 'Rob Revoked <rob@example.org>'
    --uid 'Rob Work <rob@work.example>' --sub rev-enc:0c:no
    --sub rev-sign:02:yes)
pc cert "${R_ARGS[@]}" >"$T_DIR/r.asc"
R=$(pc fpr --seed rev-key --created "$CR")
RSIG=$(pc fpr --seed rev-sign --created "$CR")
RENC=$(pc fpr --seed rev-enc --created "$CR" --algo cv25519)
publish "$URL" "$MD" "$T_DIR/r.asc" rob@example.org rob@work.example
ok $? "R is published for rob@example.org and rob@work.example" ||
    bail "cannot publish R"
# a backup from before R was revoked, for section 5
"$KEYDIRD" export --data-dir "$DATA" >"$T_DIR/before.jsonl" 2>>"$T_DIR/xfer0.log"
pc cert "${R_ARGS[@]}" --revoked >"$T_DIR/r-rev.asc"
is "$(vks_upload "$URL" "$T_DIR/r-rev.asc")" 200 "upload of R's revocation: 200"
code=$(http GET "$URL/vks/v1/by-fingerprint/$R")
like "$(inspect "$T_DIR/body")" "sigclass 0x20" \
    "... R is served with its revocation"
is "$(inspect "$T_DIR/body" | grep -c 'public sub key packet')" 2 \
    "... and (before its removal) its two subkeys"

KEY=$R PUB="" UNPUB="rob@example.org rob@work.example"
snap
statement "$R" all | pc clearsign --seed rev-key --created "$CR" \
    --sub-seed rev-sign >"$T_DIR/r-sub.asc"
refused "$(remove "$T_DIR/r-sub.asc")" 403 "$E_DEAD" \
    "addresses: all signed by the (good) signing subkey of the revoked R"

# the removal by the revoked primary key
statement "$R" all | pc clearsign --seed rev-key --created "$CR" \
    >"$T_DIR/r-all.asc"
code=$(remove "$T_DIR/r-all.asc")
is "$code" 200 "addresses: all signed by the revoked primary key: 200" ||
    diag "$(body)"
is "$(jq -cS . "$T_DIR/body")" \
    "{\"fingerprint\":\"$R\",\"kept\":\"revocation\",\"removed\":\"all\"}" \
    '... {"fingerprint":R,"removed":"all","kept":"revocation"}'
is "$(nonces)" $((NONCES + 1)) "... its nonce is stored"

# tombstone FILE DESCRIPTION: the key file is R's tombstone
tombstone() {
	local p
	p=$(inspect "$1")
	is "$(key_fprs "$S" "$1")" "$R" "$2: the key is R"
	like "$p" "sigclass 0x20" "... with its key revocation signature"
	unlike "$p" "user ID packet" "... no user ID"
	unlike "$p" "public sub key packet" "... no subkey"
}

code=$(http GET "$URL/vks/v1/by-fingerprint/$R")
is "$code" 200 "R by fingerprint: 200"
tombstone "$T_DIR/body" "VKS by-fingerprint"
cp "$T_DIR/body" "$T_DIR/tomb1.asc"
TOMB_ETAG=$(header ETag)
is "$(http GET "$URL/vks/v1/by-keyid/${R:24}")" 200 "R by key id: 200"
tombstone "$T_DIR/body" "VKS by-keyid"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=0x$R")" 200 \
    "HKP get 0x+fingerprint: 200"
tombstone "$T_DIR/body" "HKP get by fingerprint"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=0x${R:24}")" 200 \
    "HKP get 0x+key id: 200"
tombstone "$T_DIR/body" "HKP get by key id"
for a in rob@example.org rob@work.example; do
	is "$(http GET "$URL/vks/v1/by-email/$a")" 404 "$a: VKS by-email 404"
	is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=$a")" 404 \
	    "$a: HKP get 404"
	is "$(http GET "$URL/api/v1/lookup/$a")" 404 "$a: /api/v1/lookup 404"
done
is "$(key_state "$DATA" "$R" '.addresses | length')" 0 \
    "keydird state: no address of R is left"
like "$(grep -F "signed removal of $R" "$LOG")" "revocation" \
    "keydird logs that R is kept as its revocation"

# the same request again (replay), then a new one
snap
code=$(remove "$T_DIR/r-all.asc")
is "$code" 409 "the same signed request again (replayed nonce): 409"
is "$(state)" "$SNAP" "... nothing changed (keydird state)"
statement "$R" all | pc clearsign --seed rev-key --created "$CR" \
    >"$T_DIR/r-all2.asc"
code=$(remove "$T_DIR/r-all2.asc")
is "$code" 409 "a second signed addresses: all (new nonce): 409, the tombstone stays" ||
    diag "$(body)"
is "$(jq -r .error "$T_DIR/body")" \
    "This key is revoked and was removed: only its revocation is kept, and that is never removed." \
    "... saying so"
is "$(nonces)" "$NONCES" "... its nonce is not used up"
code=$(http GET "$URL/vks/v1/by-fingerprint/$R")
is "$code" 200 "... R by fingerprint: still 200"
tombstone "$T_DIR/body" "... after the second removal"
ok "$(cmp -s "$T_DIR/body" "$T_DIR/tomb1.asc"; echo $?)" \
    "... the same tombstone bytes"
is "$(header ETag)" "$TOMB_ETAG" "... and ETag"

# the old, unrevoked key uploaded again adds nothing to the tombstone
is "$(vks_upload "$URL" "$T_DIR/r.asc")" 200 "R's old key uploaded again: 200"
is "$(jq -c .status "$T_DIR/body")" "{}" "... it offers no address"
code=$(http GET "$URL/vks/v1/by-fingerprint/$R")
tombstone "$T_DIR/body" "... R by fingerprint is still the tombstone"
is "$(http GET "$URL/vks/v1/by-fingerprint/$RSIG")" 404 \
    "... its signing subkey is not indexed again"
code=$(remove "$T_DIR/r-all2.asc")
is "$code" 409 "... and a removal is still refused"

# ============================================================================
# 4. maintain keeps revoked keys
# ============================================================================
CU=$((T0 - 2 * DAY))
pc cert --seed rev-never --created "$CU" --uid 'Una Never <una@example.org>' \
    --sub rev-never-enc:0c:no --revoked >"$T_DIR/u.asc"
U=$(pc fpr --seed rev-never --created "$CU")
pc cert --seed plain-never --created "$CU" \
    --uid 'Nick Never <nick@example.org>' >"$T_DIR/n.asc"
N=$(pc fpr --seed plain-never --created "$CU")
is "$(vks_upload "$URL" "$T_DIR/u.asc")" 200 \
    "upload of U, revoked, never with an address: 200"
is "$(vks_upload "$URL" "$T_DIR/n.asc")" 200 \
    "upload of N, not revoked, never confirmed: 200"
is "$(key_state "$DATA" "$U" .had_address),$(key_state "$DATA" "$N" .had_address)" \
    "false,false" "U and N never had an address"

kd_maintain "$(rfc3339 $((60 * DAY)))" --data-dir "$DATA" --base-url "$URL"
ok $? "maintain --now NOW+60d exits 0"
like "$MAINT_OUT" 'unconfirmed keys deleted 1(,|$)' \
    "... deleted one unconfirmed key ($MAINT_OUT)"
is "$(http GET "$URL/vks/v1/by-fingerprint/$N")" 404 \
    "N (not revoked, never confirmed): deleted, 404"
is "$(http GET "$URL/vks/v1/by-fingerprint/$U")" 200 \
    "U (revoked, never confirmed): still by fingerprint"
like "$(inspect "$T_DIR/body")" "sigclass 0x20" "... with its revocation"
is "$(http GET "$URL/vks/v1/by-fingerprint/$R")" 200 \
    "R's tombstone: still by fingerprint"
ok "$(cmp -s "$T_DIR/body" "$T_DIR/tomb1.asc"; echo $?)" \
    "... the same tombstone bytes"
is "$(http GET "$URL/vks/v1/by-fingerprint/$RS")" 200 \
    "RS (confirmed): still by fingerprint"

# ============================================================================
# 5. export and import keep the tombstone
# ============================================================================
XLOG=$T_DIR/xfer.log
T_KD_LOGS+=("$XLOG")
"$KEYDIRD" export --data-dir "$DATA" >"$T_DIR/export.jsonl" 2>>"$XLOG"
ok $? "keydird export exits 0"
is "$(tail -n +2 "$T_DIR/export.jsonl" | jq -r --arg f "$R" \
    'select(.fpr == $f) | .fpr')" "$R" "... R is in the export"
DATA3=$T_DIR/data3
"$KEYDIRD" import --data-dir "$DATA3" "$T_DIR/export.jsonl" >/dev/null 2>>"$XLOG"
ok $? "keydird import into a fresh data directory exits 0"
KP3=$(free_port)
start_keydird "$KP3" "$DATA3" "$T_DIR/keydird3.log" ||
    bail "keydird starts on the imported directory"
URL3=$KD_URL
for q in "vks/v1/by-fingerprint/$R" "vks/v1/by-keyid/${R:24}" \
    "pks/lookup?op=get&options=mr&search=0x$R"; do
	c1=$(http GET "$URL/$q")
	cp "$T_DIR/body" "$T_DIR/b1"
	e1=$(header ETag)
	c2=$(http GET "$URL3/$q")
	e2=$(header ETag)
	is "$c2:$e2" "$c1:$e1" "imported: /$q: same status and ETag ($c1)"
	ok "$(cmp -s "$T_DIR/body" "$T_DIR/b1"; echo $?)" "... same bytes"
done
code=$(http GET "$URL3/vks/v1/by-fingerprint/$R")
tombstone "$T_DIR/body" "imported: by-fingerprint"
for a in rob@example.org rob@work.example; do
	is "$(http GET "$URL3/vks/v1/by-email/$a")" 404 "imported: $a: by-email 404"
done
is "$(http GET "$URL3/vks/v1/by-fingerprint/$U")" 200 \
    "imported: U (revoked, never confirmed) by fingerprint"
# the tombstone imported over the backup, where R still has its addresses:
# the merged key is revoked and keeps no address
DATA4=$T_DIR/data4
"$KEYDIRD" import --data-dir "$DATA4" "$T_DIR/before.jsonl" >/dev/null 2>>"$XLOG"
is "$(key_state "$DATA4" "$R" '.addresses | length')" 2 \
    "the backup from before the revocation has R with two addresses"
"$KEYDIRD" import --data-dir "$DATA4" "$T_DIR/export.jsonl" >/dev/null 2>>"$XLOG"
ok $? "the later export (R a tombstone) imports over it"
is "$(key_state "$DATA4" "$R" '"\(.revoked) \(.addresses | length)"')" "true 0" \
    "... R is revoked there and published for no address"

# ============================================================================
# 6. one_address_per_key: the page and the act agree
# ============================================================================
KP2=$(free_port)
DATA2=$T_DIR/data2
MD2=$DATA2/mail
start_keydird "$KP2" "$DATA2" "$T_DIR/keydird2.log" \
    --set one_address_per_key=1 || bail "keydird (one_address_per_key) starts"
URL2=$KD_URL
CK=$((T0 - DAY))
pc cert --seed one-addr --created "$CK" --uid 'Olga A <olga@a.example>' \
    --uid 'Olga B <olga@b.example>' --uid 'Olga C <olga@c.example>' \
    >"$T_DIR/k.asc"
K=$(pc fpr --seed one-addr --created "$CK")
is "$(vks_upload "$URL2" "$T_DIR/k.asc")" 200 "K (a, b, c) uploaded"
TOK=$(jq -r .token "$T_DIR/body")
is "$(vks_request "$URL2" "$TOK" olga@a.example olga@b.example olga@c.example)" \
    200 "... verification requested for a, b and c"
for x in a b c; do
	wait_until 20 has_mail "$MD2" "olga@$x.example"
	printf -v "L$x" '%s' "$(link_of "$(mail_to "$MD2" "olga@$x.example")")"
done
like "$La $Lb $Lc" "^$URL2/verify/[^ ]+ $URL2/verify/[^ ]+ $URL2/verify/[^ ]+$" \
    "... three links arrived"

# addr_state: who has which address on server 2
addr_state() {
	addr_owners "$DATA2"
}
# effects_of: the hidden effects field of the page in the body
effects_of() {
	sed -n 's/.*name="effects" value="\([^"]*\)".*/\1/p' "$T_DIR/body" | head -1
}

is "$(confirm "$La")" 200 "a confirmed"
is "$(addr_state)" "olga@a.example=$K" "... a is published for K"

is "$(http GET "$Lb")" 200 "b's page: 200"
like "$(body)" "unpublishes.{0,20}olga@a\.example" \
    "... says confirming unpublishes a"
E1=$(effects_of)
like "$E1" '^[0-9a-f]{32}$' "... has a hidden field effects (32 hex digits)"
is "$(addr_state)" "olga@a.example=$K" "... the GET changed nothing"

is "$(http POST "$Lc")" 200 "c confirmed by a plain POST (no effects field)"
is "$(addr_state)" "olga@c.example=$K" "... c published, a unpublished"
is "$(http GET "$URL2/vks/v1/by-email/olga@a.example")" 404 "... a: by-email 404"

# b2state: the published addresses of server 2 and what by-email says
b2state() {
	printf '%s|%s|%s|%s' "$(addr_state)" \
	    "$(http GET "$URL2/vks/v1/by-email/olga@a.example")" \
	    "$(http GET "$URL2/vks/v1/by-email/olga@b.example")" \
	    "$(http GET "$URL2/vks/v1/by-email/olga@c.example")"
}
ONLY_C="olga@c.example=$K|404|404|200"

code=$(http POST "$Lb" --data "effects=$E1")
is "$code" 200 "b's POST with the old page's effects: 200"
like "$(body)" "Nothing was published" "... says nothing was published"
like "$(body)" "unpublishes.{0,20}olga@c\.example" "... names c now"
unlike "$(body)" "olga@a\.example" "... and no longer a"
E2=$(effects_of)
like "$E2" '^[0-9a-f]{32}$' "... a fresh page with an effects field"
ok "$([ "$E2" != "$E1" ]; echo $?)" "... whose effects differ from the old ones"
is "$(b2state)" "$ONLY_C" "... nothing changed: c published for K, b not"

code=$(http POST "$Lb" --data "effects=garbage%3Cx%3E")
is "$code" 200 "b's POST with a garbage effects value: 200"
like "$(body)" "Nothing was published" "... says nothing was published"
is "$(b2state)" "$ONLY_C" "... nothing changed"
code=$(http POST "$Lb" --data "effects=$(printf '0%.0s' {1..32})")
is "$code" 200 "b's POST with a wrong 32-hex-digit effects value: 200"
like "$(body)" "Nothing was published" "... says nothing was published"
is "$(b2state)" "$ONLY_C" "... nothing changed"

code=$(http POST "$Lb" --data "effects=$E2")
is "$code" 200 "b's POST with the fresh page's effects: 200"
unlike "$(body)" "Nothing was published" "... not refused"
like "$(body)" "olga@b\.example is now published" "... says b is published"
is "$(b2state)" "olga@b.example=$K|404|200|404" \
    "... b published for K, c unpublished"
code=$(http GET "$URL2/vks/v1/by-fingerprint/$K")
is "$(uid_addrs "$T_DIR/body")" "olga@b.example" \
    "... K by fingerprint carries b's user ID only"
is "$(http POST "$Lb" --data "effects=$E2")" 410 "... b's link is used up: 410"

done_testing
