#!/bin/bash
# 30-browser: the web site in headless Chromium (Debian's chromium,
# driven by puppeteer-core, pinned in tests/browser/package-lock.json),
# the journey a person makes: open /, upload a key file through the
# form, choose the address, read the confirmation link from the Maildir,
# open it, confirm, search by address, download the key (the bytes the
# by-fingerprint lookup serves), ask for a manage link, unpublish; the
# same with JavaScript off; German by Accept-Language; a key replaced by
# another in German (the German mail names the published key, the page
# shows both, the notice of the change in German).  Every page: no
# console error, no CSP violation, no serious or critical axe-core
# violation, and screenshots 375 and 1280 px wide in build/screenshots/
# (SHOTS= elsewhere).  tests/browser/journey.mjs does the browsing.
. "$(dirname "$0")/lib.sh"

B=$E2E_ROOT/tests/browser
SHOTS=${SHOTS:-$E2E_ROOT/build/screenshots}
command -v node >/dev/null || bail "node is missing (make deps-test)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] ||
    bail "chromium is missing (make deps-test)"
if [ ! -d "$B/node_modules/puppeteer-core" ] ||
    [ "$B/package-lock.json" -nt "$B/node_modules/.package-lock.json" ]; then
	(cd "$B" && npm ci --no-audit --no-fund >"$T_DIR/npm.log" 2>&1) ||
	    { cat "$T_DIR/npm.log" >&2; bail "npm ci in tests/browser"; }
fi
ok 0 "puppeteer-core and axe-core as the lock file pins them"

P=$(free_port)
DATA=$T_DIR/data
# mail_rate=1s: rita is mailed twice within seconds (a replacement)
start_keydird "$P" "$DATA" "$T_DIR/kd.log" --set mail_rate=1s ||
    bail "keydird starts"
mk_gnupghome GH "$P"
F1=$(gen_key "$GH" "Wanda Web <wanda@example.org>") || bail "a key for wanda"
F2=$(gen_key "$GH" "Nora Nojs <nora@example.org>") || bail "a key for nora"
F3=$(gen_key "$GH" "Rita Old <rita@example.org>") || bail "a key for rita"
F4=$(gen_key "$GH" "Rita New <rita@example.org>") || bail "rita's new key"
g "$GH" --export "$F1" >"$T_DIR/wanda.gpg"
g "$GH" --armor --export "$F2" >"$T_DIR/nora.asc"
g "$GH" --export "$F3" >"$T_DIR/rita-old.gpg"
g "$GH" --export "$F4" >"$T_DIR/rita-new.gpg"
ok 0 "four keys made with gpg, binary and armored"
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png

KD_MAILDIR=$DATA/mail OUT=$SHOTS \
    KEY1=$T_DIR/wanda.gpg ADDR1=wanda@example.org FPR1=$F1 \
    KEY2=$T_DIR/nora.asc ADDR2=nora@example.org FPR2=$F2 \
    KEY3=$T_DIR/rita-old.gpg KEY4=$T_DIR/rita-new.gpg \
    ADDR3=rita@example.org FPR3=$F3 FPR4=$F4 \
    KD_URL=$KD_URL timeout 300 node "$B/journey.mjs" >"$T_DIR/journey.tap" 2>&1
rc=$?
# the journey's own TAP, numbered on from here
while IFS= read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok * - }" ;;
	"not ok "*) ok 1 "${line#not ok * - }" ;;
	"# "*) diag "${line#\# }" ;;
	1..*) ;;
	*) diag "$line" ;;
	esac
done <"$T_DIR/journey.tap"
is "$rc" 0 "journey.mjs ran to its end and passed"
ok "$([ "$(ls "$SHOTS"/*-375.png | wc -l)" -ge 10 ] &&
    [ "$(ls "$SHOTS"/*-1280.png | wc -l)" -ge 10 ]; echo $?)" \
    "screenshots of every page at 375 and 1280 px in $SHOTS"
rm -rf "$SHOTS"/dl-*
done_testing
