#!/bin/bash
# 26-limits: what one request, and one client, may cost us
# (docs/RELIABILITY.md).  Key material too expensive to verify is refused
# before librnp sees it; uploads are verified on the work pool, so
# lookups answer while 16 worst-case uploads run; per-client token buckets
# answer 429 with Retry-After in the form the client reads; a trusted
# proxy's header names the client and nobody else's does; one address's
# connections are capped, and idle or trickling ones (headers or body)
# are closed, so another address is always served.
. "$(dirname "$0")/lib.sh"

CRAFT="$PY $E2E_ROOT/tests/e2e/pgpcraft.py"
KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts on port $KP"
URL=$KD_URL
mk_gnupghome H "$KP"
K=$(gen_key "$H" "Lena <lena@example.org>")
g "$H" --armor --export "$K" >"$T_DIR/k.asc"
publish "$URL" "$DATA/mail" "$T_DIR/k.asc" lena@example.org ||
    bail "a key is published"

# hkp_add FILE: POST /pks/add keytext=FILE
hkp_add() {
	http POST "$URL/pks/add" --data-urlencode "keytext@$1"
}
keys_n() { state_jq "$DATA" '.keys'; }

# --- key material too expensive to verify ----------------------------------
$CRAFT flood --bits 2048 --ebits 16384 --sigs 2 >"$T_DIR/exp.asc"
$CRAFT flood --bits 8704 >"$T_DIR/big.asc"
$CRAFT flood --bits 8192 --sigs 84 >"$T_DIR/many.asc"
$CRAFT flood --bits 8192 --sigs 83 >"$T_DIR/worst.asc"
n0=$(keys_n)
is "$(hkp_add "$T_DIR/exp.asc")" 400 \
    "an RSA key with a 16384-bit exponent: 400 before any check"
like "$(body)" "public exponent of 16384 bits: at most 32" "... saying why"
is "$(vks_upload "$URL" "$T_DIR/big.asc")" 413 "an 8704-bit RSA key: 413"
like "$(jq -r .error "$T_DIR/body")" "RSA key of 8704 bits: at most 8192" \
    "... in JSON, saying why"
is "$(hkp_add "$T_DIR/many.asc")" 413 \
    "84 garbage self-signatures by an 8192-bit key (1008 checks): 413"
like "$(body)" "more to check than 1000" "... saying why"
is "$(keys_n)" "$n0" "nothing was stored"
t0=$(date +%s%N)
is "$(hkp_add "$T_DIR/worst.asc")" 200 \
    "83 of them (996 checks, the worst within max_sig_checks): taken"
diag "the worst-case upload took $((($(date +%s%N) - t0) / 1000000)) ms"

# --- the work pool: lookups answer while 16 worst-case uploads run ---------
# lookups LOG: GET by address every 0.1 s until $T_DIR/stop exists; one
# line per lookup: status and seconds
lookups() {
	while [ ! -e "$T_DIR/stop" ]; do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
		    --max-time 30 "$URL/vks/v1/by-email/lena@example.org"
		sleep 0.1
	done >"$1"
}
# storm N: N worst-case uploads at once; their statuses in $T_DIR/storm
storm() {
	local i pids=()
	for i in $(seq "$1"); do
		curl -s -o /dev/null -w '%{http_code}\n' --max-time 120 \
		    --data-urlencode "keytext@$T_DIR/worst.asc" \
		    "$URL/pks/add" >"$T_DIR/storm.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$T_DIR"/storm.* >"$T_DIR/storm"
	rm -f "$T_DIR"/storm.*
}
rm -f "$T_DIR/stop"
lookups "$T_DIR/lk" &
LK=$!
t0=$(date +%s%N)
storm 16
STORM_MS=$((($(date +%s%N) - t0) / 1000000))
touch "$T_DIR/stop"
wait "$LK"
is "$(sort -u "$T_DIR/storm")" 200 "16 worst-case uploads at once: all 200"
is "$(awk '$1 != 200' "$T_DIR/lk" | wc -l)" 0 \
    "every lookup meanwhile answered 200 ($(wc -l <"$T_DIR/lk") of them)"
SLOWEST=$(sort -k2 -g "$T_DIR/lk" | tail -1 | cut -d' ' -f2)
diag "16 uploads took $STORM_MS ms; the slowest lookup meanwhile $SLOWEST s"
ok "$(awk -v s="$SLOWEST" 'BEGIN { exit !(s < 2) }'; echo $?)" \
    "... the slowest within 2 s (docs/RELIABILITY.md), while the uploads took $STORM_MS ms"

# --- a full queue: 503 at once, with Retry-After ---------------------------
stop_pid "$KD_PID"
start_keydird "$KP" "$DATA" "$LOG" --set upload_workers=1 \
    --set upload_queue=1 || bail "keydird restarts with a queue of 1"
storm 6
like "$(sort -u "$T_DIR/storm" | tr '\n' ' ')" '^200 503 $' \
    "6 at once with 1 worker and a queue of 1: some 200, the rest 503"
is "$(hkp_add "$T_DIR/worst.asc")" 200 "... and the queue drains"

# --- per-client buckets ----------------------------------------------------
stop_pid "$KD_PID"
start_keydird "$KP" "$DATA" "$LOG" --set rate_limits=on \
    --set rate_lookups=5/1m --set rate_uploads=2/1h --set rate_mails=1/1h \
    --set trusted_proxies=127.0.0.2 || bail "keydird restarts with limits"
for i in 1 2 3 4 5; do
	http GET "$URL/vks/v1/by-email/lena@example.org"
	echo
done >"$T_DIR/st"
is "$(sort -u "$T_DIR/st")" 200 "5 lookups within rate_lookups=5/1m: 200"
is "$(http GET "$URL/vks/v1/by-email/lena@example.org")" 429 "the 6th: 429"
like "$(header Retry-After)" '^[0-9]+$' "... with Retry-After"
RA=$(header Retry-After)
ok "$([ "$RA" -ge 1 ] && [ "$RA" -le 13 ]; echo $?)" \
    "... of about 12 s (one token of 5 a minute): $RA"
like "$(jq -r .error "$T_DIR/body")" "^Too many requests from your address. Retry in $RA seconds?\.\$" \
    "... a JSON body on the VKS API that says when"
is "$(http GET "$URL/pks/lookup?op=get&search=lena@example.org")" 429 \
    "an HKP lookup too: 429"
like "$(body)" "^Too many requests from your address. Retry in" "... in text"
is "$(http GET "$URL/vks/v1/by-email/lena@example.org" --interface 127.0.0.3)" 200 \
    "another address (127.0.0.3) is not limited by it"
is "$(http GET "$URL/" )" 200 "a page that is not a lookup is not either"

n0=$(keys_n)
$CRAFT cert --seed lim1 --uid 'L1 <l1@example.org>' >"$T_DIR/l1.asc"
$CRAFT cert --seed lim2 --uid 'L2 <l2@example.org>' >"$T_DIR/l2.asc"
$CRAFT cert --seed lim3 --uid 'L3 <l3@example.org>' >"$T_DIR/l3.asc"
is "$(vks_upload "$URL" "$T_DIR/l1.asc")" 200 "upload 1 of rate_uploads=2/1h"
TOK=$(jq -r .token "$T_DIR/body")
is "$(vks_upload "$URL" "$T_DIR/l2.asc")" 200 "upload 2"
is "$(vks_upload "$URL" "$T_DIR/l3.asc")" 429 "upload 3: 429"
like "$(header Retry-After)" '^[0-9]+$' "... with Retry-After"
is "$(keys_n)" "$((n0 + 2))" "... and the third key was not stored"
is "$(vks_request "$URL" "$TOK" l1@example.org)" 200 \
    "a request-verify, the one mail of rate_mails=1/1h"
is "$(vks_request "$URL" "$TOK" l1@example.org)" 429 "a second: 429"
is "$(http POST "$URL/recovery/0123456789abcdef0123456789abcdef0123456789a")" 429 \
    "a recovery link POST (it mails a notice) draws on it too: 429"
like "$(header Content-Type)" '^text/html' "... as an HTML page"
like "$(body)" "Too many requests" "... that says so"

# a trusted proxy's header names the client; anyone else's is ignored
xff() {
	http GET "$URL/vks/v1/by-email/lena@example.org" --interface "$1" \
	    -H "X-Forwarded-For: $2"
}
for i in 1 2 3 4 5; do xff 127.0.0.2 "203.0.113.9, 198.51.100.7" >/dev/null; done
is "$(xff 127.0.0.2 "198.51.100.7")" 429 \
    "through the trusted proxy, 198.51.100.7's 6th lookup: 429"
is "$(xff 127.0.0.2 "198.51.100.7, 198.51.100.8")" 200 \
    "... 198.51.100.8 (the rightmost, the proxy's own entry) is another client"
is "$(xff 127.0.0.4 "198.51.100.9")" 200 \
    "an untrusted peer's header is ignored: 127.0.0.4 counts as itself..."
for i in 1 2 3 4; do xff 127.0.0.4 "198.51.100.$i" >/dev/null; done
is "$(xff 127.0.0.4 "198.51.100.99")" 429 \
    "... and changing the header does not get it a new bucket"

# the header on two lines is one list: the last line is the proxy's
for i in 1 2 3 4 5; do
	http GET "$URL/vks/v1/by-email/lena@example.org" --interface 127.0.0.2 \
	    -H "X-Forwarded-For: 10.0.0.$i" -H "X-Forwarded-For: 198.51.100.50" \
	    >/dev/null
done
is "$(xff 127.0.0.2 "198.51.100.50")" 429 \
    "a header the client sent first, on a line of its own, does not make another client"
for i in 1 2 3 4 5; do xff 127.0.0.2 "198.51.100.60:$((5000 + i))" >/dev/null; done
is "$(xff 127.0.0.2 "[::ffff:198.51.100.60]:443")" 429 \
    "an address with a port, or as IPv4-mapped IPv6 in brackets, is the same client"
is "$(xff 127.0.0.2 "unknown")" 200 \
    "an unreadable entry: one bucket for all such..."
for i in 1 2 3 4; do xff 127.0.0.2 "garbage$i" >/dev/null; done
is "$(xff 127.0.0.2 "nonsense")" 429 "... shared by them"
is "$(xff 127.0.0.2 "198.51.100.70")" 200 "... not by anyone else"

# a batch lookup takes a token per address
batch() {	# batch INTERFACE N: POST /api/v1/lookup with N addresses
	jq -n --argjson n "$2" '{addresses: [range($n) | "a\(.)@example.org"]}' \
	    >"$T_DIR/batch.json"
	http POST "$URL/api/v1/lookup" --interface "$1" \
	    -H 'Content-Type: application/json' --data-binary @"$T_DIR/batch.json"
}
is "$(batch 127.0.0.5 5)" 200 "a batch of 5 addresses within 5/1m: 200"
is "$(batch 127.0.0.5 1)" 429 "... and the bucket is empty: the next is 429"
is "$(batch 127.0.0.6 6)" 429 "a batch of 6 from a new client: 429"
like "$(jq -r .error "$T_DIR/body")" "^Too many lookups from your address" \
    "... saying so"

# --- connections -----------------------------------------------------------
stop_pid "$KD_PID"
start_keydird "$KP" "$DATA" "$LOG" --set rate_limits=on \
    --set max_client_conns=8 --set conn_timeout=10s \
    --set request_timeout=4s --set header_timeout=6s ||
    bail "keydird restarts with max_client_conns=8"
# slow.py PORT N SECONDS FLAG: N connections from 127.0.0.1 that send
# half a request and stall (FLAG is made once they are open); prints how
# many the server closed within SECONDS, and when the first was closed
cat >"$T_DIR/slow.py" <<'PYEOF'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /vks/v1/by-email/lena@example.org HTTP/1.1\r\nHost: x\r\n")
    s.setblocking(False)
    socks.append(s)
open(sys.argv[4], "w").write("open\n")
t0, closed, first = time.time(), set(), None
while time.time() - t0 < secs:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
        if i in closed and first is None:
            first = time.time() - t0
    time.sleep(0.2)
print(len(closed), round(first or -1, 1))
PYEOF
rm -f "$T_DIR/open"
"$PY" "$T_DIR/slow.py" "$KP" 40 14 "$T_DIR/open" >"$T_DIR/slow.out" &
SLOW=$!
T_PIDS+=("$SLOW")
wait_until 10 test -e "$T_DIR/open"
is "$(http GET "$URL/vks/v1/by-email/lena@example.org" --interface 127.0.0.3 \
    --max-time 5)" 200 \
    "40 stalled connections from 127.0.0.1: 127.0.0.3 is served"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    "$URL/vks/v1/by-email/lena@example.org")" 000 \
    "... and 127.0.0.1's next connection is not (max_client_conns=8)"
wait "$SLOW"
read -r CLOSED FIRST <"$T_DIR/slow.out"
is "$CLOSED" 40 "every stalled connection was closed within 14 s"
diag "the first closed after $FIRST s (32 at once over the cap, the rest by header_timeout=6s)"
is "$(http GET "$URL/vks/v1/by-email/lena@example.org")" 200 \
    "127.0.0.1 is served again"
# a body that trickles in: closed after request_timeout, whatever it sends
cat >"$T_DIR/trickle.py" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /pks/add HTTP/1.1\r\nHost: x\r\nContent-Type: "
          b"application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
t0 = time.time()
try:
    while time.time() - t0 < 20:
        s.sendall(b"k")
        time.sleep(0.5)
    print("open")
except OSError:
    print(round(time.time() - t0))
PYEOF
T=$("$PY" "$T_DIR/trickle.py" "$KP")
ok "$([ "$T" != open ] && [ "$T" -le 8 ]; echo $?)" \
    "a body trickled a byte every 0.5 s is cut off after request_timeout=4s (at $T s)"
like "$(cat "$LOG")" "body too slow, dropped" "... and logged"
# headers that trickle in: closed after header_timeout, whatever they send
cat >"$T_DIR/slowhead.py" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
head = b"GET /vks/v1/by-email/lena@example.org HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 100
t0 = time.time()
try:
    for c in head:
        s.sendall(bytes([c]))
        time.sleep(0.3)
        if time.time() - t0 > 20:
            break
    print("open")
except OSError:
    print(round(time.time() - t0))
PYEOF
T=$("$PY" "$T_DIR/slowhead.py" "$KP")
ok "$([ "$T" != open ] && [ "$T" -le 10 ]; echo $?)" \
    "headers trickled a byte every 0.3 s are cut off after header_timeout=6s (at $T s)"
like "$(cat "$LOG")" "closed: no request within header_timeout" "... and logged"

done_testing
