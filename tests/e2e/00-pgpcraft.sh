#!/bin/bash
# pgpcraft-selftest: checks that tests/e2e/pgpcraft.py makes what it says,
# by handing its output to gpg, sq and librnp (the OpenPGP library keydird
# uses).  Needs no keydird.  TAP, for `prove -e bash`; the plan comes last.
# A missing sq or librnp skips the checks that need it.

set -u
export LC_ALL=C.UTF-8 TZ=UTC
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
PC="$PY $HERE/pgpcraft.py"
D=$(mktemp -d "${TMPDIR:-/tmp}/pgpcraft-selftest.XXXXXX") || exit 1
N=0
FAIL=0
HOMES=()

cleanup() {
	local h
	for h in "${HOMES[@]}"; do
		GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
	done
	rm -rf "$D"
}
trap cleanup EXIT

ok() {	# ok STATUS DESCRIPTION
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		FAIL=$((FAIL + 1))
		echo "not ok $N - $2"
	fi
}
check() {	# check DESCRIPTION CMD...: ok when CMD succeeds
	local desc=$1
	shift
	"$@" >"$D/out" 2>&1
	local st=$?
	ok $st "$desc"
	[ $st -eq 0 ] || sed 's/^/# /' "$D/out"
}
is() {	# is GOT WANT DESCRIPTION
	[ "$1" = "$2" ]
	ok $? "$3"
	[ "$1" = "$2" ] || printf '#   got: %s\n# wanted: %s\n' "$1" "$2"
}
like() {	# like TEXT ERE DESCRIPTION
	grep -Eq -- "$2" <<<"$1"
	ok $? "$3"
}
unlike() {	# unlike TEXT ERE DESCRIPTION
	! grep -Eq -- "$2" <<<"$1"
	ok $? "$3"
}
skip() {	# skip COUNT REASON
	local i
	for ((i = 0; i < $1; i++)); do
		N=$((N + 1))
		echo "ok $N # SKIP $2"
	done
}
home() {	# home NAME: a fresh GNUPGHOME, exported
	export GNUPGHOME=$D/gpg-$1
	mkdir -m 700 "$GNUPGHOME"
	HOMES+=("$GNUPGHOME")
}
g() { gpg --batch --no-tty "$@"; }
HAVE_SQ=0
command -v sq >/dev/null && HAVE_SQ=1
sqq() { sq "$@" 2>/dev/null; }

$PY -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null ||
	{ echo "1..0 # SKIP no python3-cryptography"; exit 0; }
command -v gpg >/dev/null || { echo "1..0 # SKIP no gpg"; exit 0; }

# --- keys, fingerprints, determinism ---------------------------------------

A_FPR=$($PC fpr --seed alice)
A_SIG=$($PC fpr --seed alice-sig)
A_ENC=$($PC fpr --seed alice-enc --algo cv25519)
like "$A_FPR" '^[0-9A-F]{40}$' "fpr is 40 upper-case hex digits"
is "$($PC keyid --seed alice)" "${A_FPR:24}" "keyid is the low 8 octets of fpr"
unlike "$($PC fpr --seed alice --created 1700000001)" "$A_FPR" \
	"--created changes the fingerprint"

mkcert() {
	$PC cert --seed alice --uid 'Alice <alice@example.org>' \
	    --uid 'Alice Two <alice2@example.org>' \
	    --sub alice-sig:02:yes --sub alice-enc:0c:no "$@"
}
mkcert >"$D/alice.asc"
mkcert >"$D/alice2.asc"
check "the same arguments give the same cert" cmp "$D/alice.asc" "$D/alice2.asc"
mkcert --binary >"$D/alice.gpg"
home dearmor
g --dearmor <"$D/alice.asc" >"$D/alice.dearmored" 2>"$D/err"
ok $? "gpg --dearmor takes the armor (CRC24 good)"
check "--binary is the armored cert's content" cmp "$D/alice.gpg" "$D/alice.dearmored"

# --- a normal cert ---------------------------------------------------------

home alice
check "gpg imports a cert with 2 uids, a signing and an encryption subkey" \
	g --import "$D/alice.asc"
COLONS=$(g --with-colons --check-sigs "$A_FPR" 2>/dev/null)
is "$(grep -c '^sig:!' <<<"$COLONS")" 4 "gpg --check-sigs: 4 signatures good (sig!)"
unlike "$COLONS" '^sig:[^!]' "gpg --check-sigs: no signature that is not good"
like "$COLONS" "^fpr:+$A_FPR:" "gpg sees the fingerprint pgpcraft prints"
like "$COLONS" "^sub:[^:]*:[^:]*:22:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:s:" \
	"gpg: the Ed25519 subkey can sign"
like "$COLONS" "^sub:[^:]*:[^:]*:18:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:[^:]*:e:" \
	"gpg: the Cv25519 subkey can encrypt"
check "gpg encrypts to the cert (the cv25519 subkey is well-formed)" \
	g --trust-model always -r "$A_FPR" -o "$D/enc.gpg" -e "$D/alice.asc"

if [ $HAVE_SQ = 1 ]; then
	INSPECT=$(sqq inspect "$D/alice.asc")
	like "$INSPECT" "Subkey: $A_SIG" "sq: the signing subkey (with backsig) is valid"
	like "$INSPECT" "Subkey: $A_ENC" "sq: the encryption subkey (no backsig) is valid"
	unlike "$INSPECT" 'Bad Signature|Invalid' "sq: nothing bad or invalid"
else
	skip 3 "no sq"
fi

# --- cleartext signatures --------------------------------------------------

TEXT=$'Hello,  \n-----BEGIN nothing\nfrom me\t\n'
$PC clearsign --seed alice --sig-time 1700000100 <<<"$TEXT" >"$D/m-primary.asc"
$PC clearsign --seed alice --sub-seed alice-sig --sig-time 1700000100 \
	<<<"$TEXT" >"$D/m-sub.asc"
like "$(cat "$D/m-primary.asc")" '^- -----BEGIN nothing$' "clearsign dash-escapes"
g --status-fd 1 --verify "$D/m-primary.asc" >"$D/st" 2>&1
ok $? "gpg --verify: a clearsigned text by the primary"
like "$(cat "$D/st")" "VALIDSIG $A_FPR 2023-11-14 1700000100 " \
	"gpg: made by the primary at --sig-time"
g --status-fd 1 --verify "$D/m-sub.asc" >"$D/st" 2>&1
ok $? "gpg --verify: a clearsigned text by the signing subkey"
like "$(cat "$D/st")" "VALIDSIG $A_SIG .* $A_FPR\$" "gpg: made by the subkey of the primary"
sed 's/^from me/from you/' "$D/m-primary.asc" >"$D/m-forged.asc"
! g --verify "$D/m-forged.asc" >/dev/null 2>&1
ok $? "gpg --verify: a changed text does not verify"
if [ $HAVE_SQ = 1 ]; then
	check "sq verify: the text by the primary" \
		sq verify --signer-cert "$D/alice.asc" "$D/m-primary.asc"
	check "sq verify: the text by the subkey" \
		sq verify --signer-cert "$D/alice.asc" "$D/m-sub.asc"
	is "$(sqq verify --signer-cert "$D/alice.asc" "$D/m-sub.asc")" \
		$'Hello,\n-----BEGIN nothing\nfrom me' "sq verify: the signed text, dash-unescaped"
else
	skip 3 "no sq"
fi

# --- subkeys without a good back-signature ---------------------------------

$PC cert --seed bob --uid 'Bob <bob@example.org>' --sub bob-no:02:no \
	--sub bob-bad:02:bad >"$D/bob.asc"
$PC clearsign --seed bob --sub-seed bob-no --sig-time 1700000100 \
	<<<"hi" >"$D/m-bob-no.asc"
$PC clearsign --seed bob --sub-seed bob-bad --sig-time 1700000100 \
	<<<"hi" >"$D/m-bob-bad.asc"
home bob
g --import "$D/bob.asc" >/dev/null 2>&1
! g --verify "$D/m-bob-no.asc" >"$D/st" 2>&1
ok $? "gpg --verify: no signature by a signing subkey without backsig"
like "$(cat "$D/st")" "not cross-certified" "gpg: ... because it is not cross-certified"
! g --verify "$D/m-bob-bad.asc" >/dev/null 2>&1
ok $? "gpg --verify: no signature by a signing subkey with a bad backsig"
if [ $HAVE_SQ = 1 ]; then
	INSPECT=$(sqq inspect "$D/bob.asc")
	unlike "$INSPECT" "Subkey: $($PC fpr --seed bob-no)" \
		"sq: a signing subkey with no backsig is not valid"
	unlike "$INSPECT" "Subkey: $($PC fpr --seed bob-bad)" \
		"sq: a signing subkey with a bad backsig is not valid"
	is "$(grep -c 'Bad Signature' <<<"$INSPECT")" 2 "sq: both their bindings are bad"
	! sq verify --signer-cert "$D/bob.asc" "$D/m-bob-no.asc" >/dev/null 2>&1
	ok $? "sq verify: no signature by the subkey without backsig"
else
	skip 4 "no sq"
fi

# --- the attack: another key's primary as my subkey ------------------------

$PC cert --seed mallory --uid 'Mallory <m@example.org>' --sub alice:02:yes \
	--binary >"$D/mallory.gpg"
PKTS=$(g --list-packets "$D/mallory.gpg" 2>&1)
like "$PKTS" "keyid: ${A_FPR:24}" "--sub alice: the subkey is alice's primary key"
if [ $HAVE_SQ = 1 ]; then
	like "$(sqq inspect "$D/mallory.gpg")" "Subkey: $A_FPR" \
		"sq: and it is a valid subkey of mallory's cert"
else
	skip 1 "no sq"
fi

# --- malformed and odd certs -----------------------------------------------

PKTS=$($PC cert --seed c --uid 'C <c@example.org>' --cert-before-uid --binary |
	g --list-packets 2>&1 | grep -E '^:|sigclass')
is "$(head -3 <<<"$PKTS" | tr '\n\t' '| ')" \
	":public key packet:|:signature packet: algo 22, keyid $($PC keyid --seed c)| version 4, created 1700000000, md5len 0, sigclass 0x13|" \
	"--cert-before-uid: a 0x13 right after the public key packet"

PKTS=$($PC cert --seed n --uid-hex 4e554c00203c6e406578616d706c652e6f72673e \
	--uid 'bob@x <alice@y>' --binary | g --list-packets 2>&1)
like "$PKTS" ':user ID packet: "NUL\\x00 <n@example.org>"' "--uid-hex: a NUL in a user ID"
like "$PKTS" ':user ID packet: "bob@x <alice@y>"' "--uid: taken as it is"

home odd
$PC cert --seed d --uid 'D <d@example.org>' --revoked | g --import >/dev/null 2>&1
like "$(g --with-colons --list-keys "$($PC fpr --seed d)" 2>/dev/null)" '^pub:r:' \
	"--revoked: gpg sees the key revoked"
$PC cert --seed e --uid 'E <e@example.org>' --expires-after 60 | g --import >/dev/null 2>&1
like "$(g --with-colons --list-keys "$($PC fpr --seed e)" 2>/dev/null)" \
	'^pub:e:[^:]*:[^:]*:[^:]*:1700000000:1700000060:' "--expires-after: gpg sees the key expired"
$PC cert --seed f --uid 'F <f@example.org>' --sub f1:02:yes --sub f2:0c:no \
	--revoked-sub 2 | g --import >/dev/null 2>&1
COLONS=$(g --with-colons --list-options show-unusable-subkeys --list-keys \
	"$($PC fpr --seed f)" 2>/dev/null)
like "$COLONS" "^sub:r:[^:]*:18:$($PC keyid --seed f2 --algo cv25519):" \
	"--revoked-sub 2: gpg sees the second subkey revoked"
like "$COLONS" "^sub:[^r]:[^:]*:22:$($PC keyid --seed f1):" "... and not the first"

# lengths past the 1-octet form: a 300-octet (2-octet length) and a
# 9000-octet (5-octet length) user ID
PKTS=$($PC cert --seed l --uid "$(printf 'U%.0s' {1..300})" \
	--uid "$(printf 'V%.0s' {1..9000})" --binary | g --list-packets 2>&1)
like "$PKTS" 'tag=13 hlen=3 plen=300 ' "a 300-octet packet has a 2-octet length"
like "$PKTS" 'tag=13 hlen=6 plen=9000 ' "a 9000-octet packet has a 5-octet length"

# --- the v3 key ------------------------------------------------------------

KID=0123456789ABCDEF
$PC v3 --keyid $KID --uid 'Mallory <m@example.org>' >"$D/v3.asc"
g --dearmor <"$D/v3.asc" >"$D/v3.gpg" 2>/dev/null
like "$(g --list-packets "$D/v3.gpg" 2>&1)" 'key packet: \[obsolete version 3\]' \
	"v3: gpg --list-packets sees a version 3 key (gpg 2.2 prints no key id for it)"
# an independent parse: new-format header, then version, time, days, algo, n, e
GOT=$($PY - "$D/v3.gpg" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
assert b[0] == 0xC6, "tag 6 new format"
hl = 2 if b[1] < 192 else 3 if b[1] < 224 else 6
body = b[hl:]
nbits = int.from_bytes(body[8:10], "big")
n = int.from_bytes(body[10:10 + (nbits + 7) // 8], "big")
print(body[0], body[7], nbits, "%016X" % (n & (2**64 - 1)), int.from_bytes(body[1:5], "big"))
EOF
)
is "$GOT" "3 1 2048 $KID 1700000000" "v3: version 3, RSA, 2048-bit n, low 64 bits = the key id"
if [ -e /usr/lib/x86_64-linux-gnu/librnp.so.0 ] || ldconfig -p 2>/dev/null | grep -q librnp.so.0; then
	GOT=$($PY - "$D/v3.gpg" <<'EOF'
import ctypes, json, sys
lib = ctypes.CDLL("librnp.so.0")
data = open(sys.argv[1], "rb").read()
inp, out = ctypes.c_void_p(), ctypes.c_char_p()
assert lib.rnp_input_from_memory(ctypes.byref(inp), data, len(data), False) == 0
assert lib.rnp_dump_packets_to_json(inp, 0, ctypes.byref(out)) == 0
pkts = json.loads(out.value)
print(pkts[0]["version"], pkts[0]["keyid"].upper(), pkts[1]["userid"])
EOF
)
	is "$GOT" "3 $KID Mallory <m@example.org>" "v3: librnp's packet dump: version 3, the key id asked for"
else
	skip 1 "no librnp"
fi

echo "1..$N"
[ $FAIL -eq 0 ]
