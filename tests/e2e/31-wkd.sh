#!/bin/bash
# 31-wkd: the Web Key Directory with real clients.  gpg's dirmngr fetches
# WKD only over https on port 443 and trusts only the system's CA
# bundle, so the test makes a throw-away CA, puts nginx on 127.0.0.1:443
# as the TLS proxy an operator would run in front of keydird, and runs
# the clients in a private mount namespace (unshare -m) where
# /etc/hosts names openpgpkey.example.org and example.org 127.0.0.1 and
# the CA bundle holds the test CA: nothing of the machine's changes.
# gpg --locate-external-keys finds a confirmed address through the
# advanced and the direct method and nothing for an unconfirmed one;
# sq wkd get and OpenPGP.js's wkd-client find it; keydird wkd-export
# writes the same bytes; after removal, WKD answers 404, gpg finds
# nothing and an export has no file for it.
. "$(dirname "$0")/lib.sh"

wkd_front_check

P=$(free_port)
DATA=$T_DIR/data
start_keydird "$P" "$DATA" "$T_DIR/kd.log" --set wkd_domains=example.org \
    --set mail_rate=1s || bail "keydird starts"
mk_gnupghome GH "$P"
F=$(gen_key "$GH" "Dave <dave@example.org>") || bail "a key for dave"
g "$GH" --armor --export "$F" >"$T_DIR/dave.asc"
publish "$KD_URL" "$DATA/mail" "$T_DIR/dave.asc" dave@example.org
ok $? "dave@example.org confirmed and published"
U=$(gen_key "$GH" "Una <una@example.org>") || bail "a key for una"
g "$GH" --armor --export "$U" >"$T_DIR/una.asc"
is "$(vks_upload "$KD_URL" "$T_DIR/una.asc")" 200 \
    "una@example.org uploaded, never confirmed"

wkd_front "$P"
# locate ADDR (in the namespace): gpg's WKD lookup, then what it has
cat >"$T_DIR/locate" <<'SH'
#!/bin/sh
gpg --batch --auto-key-locate clear,nodefault,wkd \
    --locate-external-keys "$1" && gpg --batch --with-colons \
    --fingerprint "$1"
SH
chmod +x "$T_DIR/locate"

in_ns "$T_DIR/adv.out" "$T_DIR/locate" dave@example.org
rc=$?
is "$rc" 0 "gpg finds dave@example.org through WKD"
like "$(cat "$T_DIR/adv.out")" "fpr:+$F:" "... his key"
grep -q 'openpgpkey/example.org/hu/' "$WKD_LOG"
ok $? "... by the advanced method (openpgpkey.example.org)"
like "$(grep -c '^uid:' <(grep -v '^#' "$T_DIR/adv.out"))" '^1$' \
    "... with one user ID"

# the direct method: openpgpkey.example.org does not resolve
printf '127.0.0.1 localhost\n127.0.0.1 example.org\n' >"$WKD_HOSTS"
seen=$(wc -l <"$WKD_LOG")
in_ns "$T_DIR/direct.out" "$T_DIR/locate" dave@example.org
is "$?" 0 "the direct method too (only example.org resolves)"
tail -n +$((seen + 1)) "$WKD_LOG" |
    grep -q 'GET /.well-known/openpgpkey/hu/'
ok $? "... the request was the direct one"
printf '127.0.0.1 localhost\n127.0.0.1 openpgpkey.example.org example.org\n' \
    >"$WKD_HOSTS"

in_ns "$T_DIR/una.out" "$T_DIR/locate" una@example.org
ok "$([ $? != 0 ]; echo $?)" "gpg finds nothing for an unconfirmed address"
unlike "$(cat "$T_DIR/una.out")" "$U" "... not her key"

if command -v sq >/dev/null; then
	in_ns "$T_DIR/sq.out" sq wkd get dave@example.org
	is "$?" 0 "sq wkd get dave@example.org"
	g "$GH" --import-options show-only --import --with-colons \
	    <"$T_DIR/sq.out" >"$T_DIR/sq.colons" 2>/dev/null
	like "$(cat "$T_DIR/sq.colons")" "fpr:+$F:" "... the same key"
else
	skip "sq is not installed"
fi

# OpenPGP.js's WKD client (tests/browser, pinned in its lock file)
B=$E2E_ROOT/tests/browser
if command -v node >/dev/null; then
	if [ ! -d "$B/node_modules/@openpgp/wkd-client" ] ||
	    [ "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ]
	then
		(cd "$B" && npm ci --no-audit --no-fund >"$T_DIR/npm.log" 2>&1) ||
		    { cat "$T_DIR/npm.log" >&2; bail "npm ci in tests/browser"; }
	fi
	in_ns "$T_DIR/js.out" env NODE_EXTRA_CA_CERTS="$WKD_TLS/ca.crt" \
	    WKD_EMAIL=dave@example.org node "$B/wkd.mjs"
	is "$?" 0 "OpenPGP.js's wkd-client looks dave@example.org up" ||
	    diag "$(cat "$T_DIR/js.out")"
	is "$(tail -1 "$T_DIR/js.out")" "$F" "... and gets his key"
else
	bail "node is missing (make deps-test)"
fi

# keydird wkd-export: the same bytes as files, for a web server
H=$(gpg-wks-client --print-wkd-hash dave@example.org 2>/dev/null | cut -d' ' -f1)
[ -n "$H" ] || H=$("$(gpgconf --list-dirs libexecdir)/gpg-wks-client" \
    --print-wkd-hash dave@example.org | cut -d' ' -f1)
wkd_export() {
	"$KEYDIRD" wkd-export --data-dir "$DATA" --set wkd_domains=example.org \
	    "$T_DIR/tree" >"$T_DIR/export.out" 2>&1
}
wkd_export
is "$?" 0 "keydird wkd-export"
is "$(http GET "$KD_URL/.well-known/openpgpkey/example.org/hu/$H" \
    -H 'Host: openpgpkey.example.org')" 200 "WKD serves dave's key"
cmp -s "$T_DIR/body" "$T_DIR/tree/example.org/hu/$H"
ok $? "... and the exported file holds the same bytes"
like "$(cat "$T_DIR/tree/example.org/policy")" "protocol-version" \
    "... a policy beside it"
ok "$([ -s "$T_DIR/tree/example.org/submission-address" ]; echo $?)" \
    "... and the submission address"
is "$(ls "$T_DIR/tree/example.org/hu" | wc -l)" 1 \
    "... one key: una's is not confirmed"

# removed by a manage link: gone from WKD at once
N=$(mails_to "$DATA/mail" dave@example.org)
http POST "$KD_URL/api/v1/manage" -H 'Content-Type: application/json' \
    --data '{"address": "dave@example.org"}' >/dev/null
wait_until 20 has_more_mails "$DATA/mail" dave@example.org "$N"
L=$(mail_link "$(mail_to "$DATA/mail" dave@example.org)" manage)
is "$(http POST "$L")" 200 "dave's address removed through a manage link"
is "$(http GET "$KD_URL/.well-known/openpgpkey/example.org/hu/$H" \
    -H 'Host: openpgpkey.example.org')" 404 "WKD answers 404 for it"
in_ns "$T_DIR/gone.out" "$T_DIR/locate" dave@example.org
ok "$([ $? != 0 ]; echo $?)" "gpg finds it no more"
wkd_export
ok "$([ ! -e "$T_DIR/tree/example.org/hu/$H" ]; echo $?)" \
    "an export after the removal has no file for it"
done_testing
