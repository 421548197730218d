#!/bin/bash
# mkseeds.sh: the fixtures and seed inputs of the fuzz targets.
#
#   fuzz/mkseeds.sh [--keys]
#
# fuzz/keys/ holds throw-away keys made once with gpg (--keys makes them
# anew, which stales every seed made from them): server.sec, the
# directory's secret key the submissions are encrypted to (no
# passphrase); signer.pub and signer.sec, Sam's key, which signs the
# seed removal requests and submissions.  Then every seed is written as
# fuzz/corpus/TARGET/seed-NAME (earlier seed-* files are replaced; what
# make fuzz merged in stays), made with gpg, tests/e2e/pgpcraft.py and
# fuzz_recovery itself (build/fuzz/fuzz_recovery: make fuzz-replay first).
set -eu
cd "$(dirname "$0")/.."
F=fuzz
K=$F/keys
PC="/usr/bin/python3 tests/e2e/pgpcraft.py"
H=$(mktemp -d "${TMPDIR:-/tmp}/keydir-seeds.XXXXXX")
chmod 700 "$H"
cleanup() {
	GNUPGHOME=$H gpgconf --kill all 2>/dev/null || true
	rm -rf "$H"
}
trap cleanup EXIT
printf 'allow-loopback-pinentry\n' >"$H/gpg-agent.conf"
g() {
	GNUPGHOME=$H gpg --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' --trust-model always "$@" 2>/dev/null
}
fpr_of() {
	g --with-colons --list-keys "$1" | awk -F: '/^fpr/ {print $10; exit}'
}

SUBMIT_AUTH=127.0.0.1:8080	# fuzz_daemon.c's base_url
if [ "${1:-}" = --keys ] || [ ! -s $K/server.sec ]; then
	mkdir -p $K
	g --quick-gen-key "keydir fuzz <key-submission@127.0.0.1>" \
	    future-default default never
	g --quick-gen-key "Sam <sam@example.org>" future-default default never
	g --quick-add-uid sam@example.org "Sam Work <sam@work.example>"
	g --export-secret-keys "$(fpr_of key-submission@127.0.0.1)" >$K/server.sec
	g --export-secret-keys "$(fpr_of sam@example.org)" >$K/signer.sec
	g --export "$(fpr_of sam@example.org)" >$K/signer.pub
else
	g --import $K/server.sec $K/signer.sec
fi
S=$(fpr_of key-submission@127.0.0.1)
SAM=$(fpr_of sam@example.org)
SAMID=${SAM:24}

# seed TARGET NAME: stdin into the seed file
seed() {
	mkdir -p $F/corpus/$1
	cat >$F/corpus/$1/seed-$2
}
for t in email lang multipart armor removal submission config recovery key signed decrypt \
    http vks hkp form; do
	rm -f $F/corpus/$t/seed-*
done

# ---- keys ---------------------------------------------------------------
g --quick-gen-key "Ann <ann@example.org>" future-default default never
ANN=$(fpr_of ann@example.org)
g --quick-add-uid "$ANN" "Ann Work <ann@work.example>"
g --quick-revoke-uid "$ANN" "Ann Work <ann@work.example>"
g -u "$S" --quick-sign-key "$ANN" >/dev/null	# a third-party certification
g --quick-gen-key "Rob <rob@example.net>" rsa2048 default never
ROB=$(fpr_of rob@example.net)
g --quick-add-key "$ROB" rsa2048 encr never
g --quick-gen-key "Rev <rev@example.com>" future-default default never
REV=$(fpr_of rev@example.com)
sed 's/^:-----/-----/' "$H/openpgp-revocs.d/$REV.rev" >"$H/rev.asc"
g --import "$H/rev.asc"
g --quick-gen-key "Dee <dee@example.org>" dsa2048 default never
DEE=$(fpr_of dee@example.org)
g --quick-add-key "$DEE" elg2048 encr never

g --export "$SAM" | seed key signer.bin
g --armor --export "$SAM" | seed key signer.asc
g --armor --export "$ANN" | seed key ann-revoked-uid-certified.asc
g --export "$ROB" | seed key rob-rsa.bin
g --armor --export "$REV" | seed key rev-revoked.asc
g --export "$DEE" | seed key dee-dsa-elg.bin
g --armor --export "$ANN" "$ROB" | seed key two-keys.asc
seed key bare-revocation.asc <"$H/rev.asc"
g --armor --export-secret-keys "$ANN" | seed key secret.asc
$PC cert --seed fz1 --uid 'Cat <cat@example.org>' --sub fz1-s:02:yes \
    --sub fz1-e:0c:no --revoked-sub 2 --binary | seed key craft-subkeys.bin
$PC cert --seed fz2 --uid 'Bad <bad@example.org>' --sub fz2-s:02:bad |
    seed key craft-bad-backsig.asc
$PC cert --seed fz3 --uid 'Odd <odd@example.org>' --cert-before-uid |
    seed key craft-cert-before-uid.asc
$PC cert --seed fz4 --uid-hex 4576650d0a3c657665406578616d706c652e6f72673e |
    seed key craft-uid-crlf.asc
$PC cert --seed fz5 --uid 'Old <old@example.org>' --revoked \
    --expires-after 3600 | seed key craft-revoked-expiring.asc
$PC v3 --keyid 0123456789ABCDEF --binary | seed key craft-v3.bin

# ---- armor --------------------------------------------------------------
seed armor signer.asc <$F/corpus/key/seed-signer.asc
/usr/bin/python3 - "$K/signer.pub" <<'EOF' | seed armor keydird-crlf.asc
import base64, sys
data = open(sys.argv[1], "rb").read()
crc = 0xB704CE
for b in data:
    crc ^= b << 16
    for _ in range(8):
        crc <<= 1
        if crc & 0x1000000:
            crc ^= 0x1864CFB
crc &= 0xFFFFFF
b64 = base64.b64encode(data).decode()
out = "-----BEGIN PGP PUBLIC KEY BLOCK-----\r\nComment: keydir\r\n\r\n"
out += "".join(b64[i:i + 64] + "\r\n" for i in range(0, len(b64), 64))
out += "=" + base64.b64encode(crc.to_bytes(3, "big")).decode() + "\r\n"
out += "-----END PGP PUBLIC KEY BLOCK-----\r\n"
sys.stdout.write(out)
EOF
grep -v '^=' $F/corpus/armor/seed-signer.asc | seed armor no-crc.asc

# ---- removal statements: text, then signed ----------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
stmt() {
	printf 'keydir-request: remove\nserver: %s\nfingerprint: %s\naddresses: %s\nnonce: %s\ndate: %s\n' \
	    "$SUBMIT_AUTH" "$1" "$2" 0123456789abcdef0123 "$now"
}
stmt "$SAM" all | seed removal all.txt
stmt "$SAM" "sam@example.org, Sam@Work.Example" | seed removal list.txt
stmt "$SAM" all | sed 's/$/\r/' | seed removal crlf.txt
stmt "$SAM" all | grep -v nonce | seed removal no-nonce.txt
stmt "$SAM" all >"$H/stmt.txt"
stmt "$SAM" sam@example.org >"$H/stmt-one.txt"
g -u "$SAM" --clearsign <"$H/stmt.txt" | seed signed clearsigned.asc
g -u "$SAM" --armor --sign <"$H/stmt-one.txt" | seed signed inline.asc
g -u "$SAM" --sign <"$H/stmt-one.txt" | seed signed inline.bin
sed 's/$/\r/' "$H/stmt.txt" | g -u "$SAM" --textmode --clearsign |
    seed signed textmode-crlf.asc
g -u "$S" --clearsign <"$H/stmt.txt" | seed signed other-key.asc
g -u "$SAM" --armor --detach-sign <"$H/stmt.txt" | seed signed detached.asc
g --armor --store <"$H/stmt.txt" | seed signed unsigned.asc
g -u "$SAM" -r "$S" --armor --sign --encrypt <"$H/stmt.txt" |
    seed signed encrypted.asc
cp $F/corpus/signed/seed-clearsigned.asc "$H/clearsigned.asc"

# ---- submissions: JSON, then encrypted and signed ----------------------
g --armor --export "$SAM" >"$H/sam.asc"
sub() {
	jq -cn --rawfile k "$H/sam.asc" --arg s "$SUBMIT_AUTH" "$@"
}
sub '{action: "publish", server: $s, key: $k, addresses: ["sam@example.org"]}' \
    >"$H/sub.json"
sub '{action: "publish", server: $s, key: $k, addresses: [],
    recovery: "a2V5ZGlyIHJlY292ZXJ5IGRhdGE="}' >"$H/sub-rec.json"
seed submission plain.json <"$H/sub.json"
seed submission recovery.json <"$H/sub-rec.json"
printf '{"action":"publish","server":"x","key":"k","colour":"blue"}' |
    seed submission unknown-field.json
printf '{"action":"publish","server":"x","key":"k","addresses":[1]}' |
    seed submission bad-address.json
g -u "$SAM" -r "$S" --armor --sign --encrypt <"$H/sub.json" |
    seed decrypt signed-encrypted.asc
g -u "$SAM" -r "$S" --sign --encrypt <"$H/sub-rec.json" |
    seed decrypt signed-encrypted.bin
g -u "$SAM" -r "$S" --compress-algo none --cipher-algo AES128 --sign \
    --encrypt <"$H/sub.json" | seed decrypt uncompressed-aes128.bin
g -r "$S" --encrypt <"$H/sub.json" | seed decrypt unsigned.bin
g -u "$SAM" --sign <"$H/sub.json" | seed decrypt not-encrypted.bin
g -u "$SAM" -r "$SAM" --sign --encrypt <"$H/sub.json" |
    seed decrypt other-recipient.bin
g -u "$S" -r "$S" --sign --encrypt <"$H/sub.json" | seed decrypt other-signer.bin
printf 'publish my key please\n' | g -u "$SAM" -r "$S" --sign --encrypt |
    seed decrypt not-json.bin
g --armor --export "$S" >"$H/server.pub"
$PC encsign --seed fz1 --to "$H/server.pub" <"$H/sub.json" |
    seed decrypt pgpcraft.bin

# ---- addresses -----------------------------------------------------------
while IFS= read -r a; do
	n=$((${n:-0} + 1))
	printf '%s' "$a" | seed email "$n"
done <<'EOF'
sam@example.org
Sam <Sam@Example.ORG>
Jörg <jörg@bücher.example>
ünïcode@xn--bcher-kva.example
"quoted"@example.org
a@b
x@localhost
bob@x <alice@y>
bob@x, Alice <alice@y>
A <victim@x> <me@y>
  spaced@example.org  
-dash@example.org
pipe|@example.org
user%host@example.org
a..b@example.org
label@-bad-.example
x@123.456
long-local-part-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org
ß@straße.de
EOF

# ---- the config file -----------------------------------------------------
seed config readme.ini <<'EOF'
; keydird.conf
[server]
listen = 127.0.0.1:8080
data_dir = /var/lib/keydir
base_url = https://keys.example.org
mail_from = keydir@example.org
max_body = 1M
max_uids = 100
token_ttl = 7d
mail_rate = 10m
one_address_per_key = yes
threads = 8
EOF
seed config ipv6.ini <<'EOF'
listen = [::]:11371
smtp_url = smtp://127.0.0.1:25
smtp_starttls = off
submission_address = keys@example.org
server_key_ttl = 1095d
reverify_interval = 180d
EOF
printf 'listen = 0.0.0.0:80\nbase_url = http://[::1]:80/\nmaintain_every = 90s\n' |
    seed config wildcard.ini
printf 'no equals sign\n[unclosed\n' | seed config syntax.ini

# ---- recovery data ---------------------------------------------------------
mkdir -p $F/corpus/recovery
if [ -x build/fuzz/fuzz_recovery ]; then
	d=$(mktemp -d "$H/rec.XXXXXX")
	KEYDIR_FUZZ_SEEDS=$d build/fuzz/fuzz_recovery
	for f in "$d"/*; do
		seed recovery "$(basename "$f")" <"$f"
	done
else
	echo "mkseeds: build/fuzz/fuzz_recovery missing: no recovery seeds" >&2
fi

# ---- HTTP ------------------------------------------------------------------
enc() { /usr/bin/python3 -c 'import sys, urllib.parse; sys.stdout.write(urllib.parse.quote(sys.stdin.read(), safe=""))'; }
b64() { base64 -w0; }
TOK=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
req() {	# req NAME METHOD TARGET [CTYPE [BODY-FILE]]
	{
		printf '%s %s\n%s\n\n' "$2" "$3" "${4:-}"
		[ -z "${5:-}" ] || cat "$5"
	} | seed http "$1"
}
jq -cn --rawfile k "$H/sam.asc" '{keytext: $k}' >"$H/up.json"
jq -cn --arg k "$(g --export "$ANN" | b64)" '{keytext: $k}' >"$H/up64.json"
printf '{"token":"%s","addresses":["sam@example.org"]}' "$TOK" >"$H/rv.json"
printf '{"addresses":["sam@example.org","nobody@example.org","bad"]}' \
    >"$H/batch.json"
printf '{"address":"sam@example.org"}' >"$H/addr.json"
printf 'keytext=%s' "$(enc <"$H/sam.asc")" >"$H/add.form"
printf 'address=sam%%40example.org' >"$H/addr.form"
req index GET /
req by-fpr GET "/vks/v1/by-fingerprint/$SAM"
req by-keyid HEAD "/vks/v1/by-keyid/$SAMID"
req by-email GET /vks/v1/by-email/sam%40example.org
printf 'GET /vks/v1/by-fingerprint/%s\n\n"0123456789abcdef0123456789abcdef"\n' \
    "$SAM" | seed http if-none-match
req upload POST /vks/v1/upload application/json "$H/up.json"
req upload-b64 POST /vks/v1/upload application/json "$H/up64.json"
req request-verify POST /vks/v1/request-verify application/json "$H/rv.json"
req hkp-get GET '/pks/lookup?op=get&search=sam@example.org'
req hkp-index GET "/pks/lookup?op=index&options=mr&search=0x$SAM"
req hkp-add POST /pks/add application/x-www-form-urlencoded "$H/add.form"
req api-lookup GET /api/v1/lookup/sam@example.org
req api-batch POST /api/v1/lookup application/json "$H/batch.json"
req server-key GET /api/v1/server-key
req transition GET /api/v1/server-key/transition
req submit POST /api/v1/submit application/octet-stream \
    $F/corpus/decrypt/seed-signed-encrypted.bin
req remove POST /api/v1/remove text/plain "$H/clearsigned.asc"
req manage POST /api/v1/manage application/json "$H/addr.json"
req manage-form POST /api/v1/manage application/x-www-form-urlencoded \
    "$H/addr.form"
req recovery-request POST /api/v1/recovery/request application/json \
    "$H/addr.json"
req verify-get GET "/verify/$TOK"
req verify-post POST "/verify/$TOK" application/x-www-form-urlencoded
req manage-link GET "/manage/$TOK"
req reverify-no POST "/reverify/$TOK/no"
req recovery-link POST "/recovery/$TOK"
req delete DELETE /vks/v1/upload
seed vks upload.json <"$H/up.json"
seed vks upload-b64.json <"$H/up64.json"
seed vks request-verify.json <"$H/rv.json"
seed vks batch.json <"$H/batch.json"
seed vks address.json <"$H/addr.json"
printf 'op=get&search=sam@example.org' | seed hkp get-email
printf 'op=get&search=Sam%%20%%3Csam%%40example.org%%3E' | seed hkp get-uid
printf 'op=index&options=mr&search=0x%s' "$SAM" | seed hkp index-fpr
printf 'search=%s&op=get' "$SAMID" | seed hkp get-keyid
printf 'op=get&search=0x%s' "${SAM:32}" | seed hkp short-keyid
printf 'op=vindex&search=sam+x@example.org&exact=on' | seed hkp vindex
seed form keytext <"$H/add.form"
seed form address <"$H/addr.form"
printf 'keytext=%s&address=sam%%40example.org' "$(g --export "$ROB" | b64 | enc)" |
    seed form both
printf 'multipart/form-data; boundary=----WebKitFormBoundaryx7\n------WebKitFormBoundaryx7\r\nContent-Disposition: form-data; name="keyfile"; filename="alice.asc"\r\nContent-Type: application/pgp-keys\r\n\r\n-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n\r\nxjMEZ\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n\r\n------WebKitFormBoundaryx7\r\nContent-Disposition: form-data; name="keytext"\r\n\r\n\r\n------WebKitFormBoundaryx7--\r\n' |
    seed multipart chromium
printf 'multipart/form-data; boundary="a b"\npre\r\n--a b\r\ncontent-disposition:form-data;name="x"\r\n\r\n--a b\r\n--a b--' |
    seed multipart quoted
printf 'de-AT,en;q=0.5' | seed lang accept
printf 'fr, de;q=0.8, *;q=0.1' | seed lang accept-star
printf 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Search"\nmsgstr "Suche"\n\nmsgid "Upload"\nmsgstr "Hochladen"\n' \
    >"$H/de.po"
msgfmt -o - "$H/de.po" | seed lang catalog.mo
msgfmt --endianness=big -o - "$H/de.po" | seed lang catalog-big.mo
echo "mkseeds: $(find $F/corpus -name 'seed-*' | wc -l) seeds"
