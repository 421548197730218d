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
# sq wkd get finds it; after removal, WKD answers 404 and gpg finds
# nothing.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	skip "31-wkd needs root and mount namespaces (unshare -m) here"
	done_testing
fi
for c in nginx openssl; do
	command -v $c >/dev/null || bail "$c is missing (make deps-test)"
done
port_open 443 && bail "port 443 is taken: the WKD clients fetch only there"

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

# the CA, the server certificate for both names, the bundle
TLS=$T_DIR/tls
mkdir -p "$TLS"
(
	cd "$TLS" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj '/CN=keydir test CA' -keyout ca.key -out ca.crt \
	    -addext 'basicConstraints=critical,CA:TRUE' \
	    -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=example.org \
	    -keyout server.key -out server.csr &&
	printf '%s\n' 'subjectAltName=DNS:openpgpkey.example.org,DNS:example.org' \
	    'extendedKeyUsage=serverAuth' >ext.cnf &&
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile ext.cnf -out server.crt &&
	cat /etc/ssl/certs/ca-certificates.crt ca.crt >bundle.crt
) >"$T_DIR/tls.log" 2>&1 || { cat "$T_DIR/tls.log" >&2; bail "a test CA"; }
printf '127.0.0.1 localhost\n127.0.0.1 openpgpkey.example.org example.org\n' \
    >"$T_DIR/hosts"

NG=$T_DIR/nginx
mkdir -p "$NG/tmp"
cat >"$NG/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $NG/error.log info;
pid $NG/nginx.pid;
events { worker_connections 64; }
http {
    access_log $NG/access.log;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    server {
        listen 127.0.0.1:443 ssl;
        ssl_certificate $TLS/server.crt;
        ssl_certificate_key $TLS/server.key;
        location /.well-known/openpgpkey/ {
            proxy_pass http://127.0.0.1:$P;
            proxy_set_header Host \$host;
        }
    }
}
CONF
nginx -c "$NG/nginx.conf" -e "$NG/error.log" &
T_PIDS+=($!)
wait_until 10 port_open 443 || bail "nginx listens on 443"

# in_ns OUT CMD: CMD in the namespace, with a fresh GNUPGHOME; its output
# in OUT, its status returned
in_ns() {
	local out=$1 h
	shift
	h=$(mktemp -d "$T_DIR/wkdhome.XXXXXX")
	chmod 700 "$h"
	T_HOMES+=("$h")
	unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
	    mount --bind "$2" /etc/ssl/certs/ca-certificates.crt &&
	    shift 2 && "$@"; rc=$?; gpgconf --kill all; exit $rc' sh \
	    "$T_DIR/hosts" "$TLS/bundle.crt" env GNUPGHOME="$h" \
	    SSL_CERT_FILE="$TLS/ca.crt" "$@" >"$out" 2>&1
}
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
grep -q 'openpgpkey/example.org/hu/' "$NG/access.log"
ok $? "... by the advanced method (openpgpkey.example.org)"
like "$(grep -c '^uid:' <(grep -v '^#' "$T_DIR/adv.out"))" '^1$' \
    "... with one user ID"

# the direct method: openpgpkey.example.org does not resolve
printf '127.0.0.1 localhost\n127.0.0.1 example.org\n' >"$T_DIR/hosts"
seen=$(wc -l <"$NG/access.log")
in_ns "$T_DIR/direct.out" "$T_DIR/locate" dave@example.org
is "$?" 0 "the direct method too (only example.org resolves)"
tail -n +$((seen + 1)) "$NG/access.log" |
    grep -q 'GET /.well-known/openpgpkey/hu/'
ok $? "... the request was the direct one"
printf '127.0.0.1 localhost\n127.0.0.1 openpgpkey.example.org example.org\n' \
    >"$T_DIR/hosts"

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

# removed by a manage link: gone from WKD at once
N=$(mails_to "$DATA/mail" dave@example.org)
http POST "$KD_URL/api/v1/manage" -H 'Content-Type: application/json' \
    --data '{"address": "dave@example.org"}' >/dev/null
wait_until 20 has_more_mails "$DATA/mail" dave@example.org "$N"
L=$(mail_link "$(mail_to "$DATA/mail" dave@example.org)" manage)
is "$(http POST "$L")" 200 "dave's address removed through a manage link"
H=$(gpg-wks-client --print-wkd-hash dave@example.org 2>/dev/null | cut -d' ' -f1)
[ -n "$H" ] || H=$(grep -o 'hu/[a-z0-9]*' "$NG/access.log" | head -1 | cut -c4-)
is "$(http GET "$KD_URL/.well-known/openpgpkey/example.org/hu/$H" \
    -H 'Host: openpgpkey.example.org')" 404 "WKD answers 404 for it"
in_ns "$T_DIR/gone.out" "$T_DIR/locate" dave@example.org
ok "$([ $? != 0 ]; echo $?)" "gpg finds it no more"
done_testing
