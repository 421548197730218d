#!/bin/bash
# 05-shutdown: SIGTERM and SIGINT stop keydird cleanly (status 0,
# "stopped" logged); what was acknowledged before survives a restart, also
# after kill -9.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
MD=$DATA/mail
LOG=$T_DIR/keydird.log

start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts"
URL=$KD_URL
mk_gnupghome A "$KP"

F1=$(gen_key "$A" 'Kate <kate@example.org>')
g "$A" --export --armor "$F1" >"$T_DIR/kate.asc"
is "$(vks_upload "$URL" "$T_DIR/kate.asc")" 200 "upload acknowledged"
vks_request "$URL" "$(jq -r .token "$T_DIR/body")" kate@example.org >/dev/null
wait_until 20 has_mail "$MD" kate@example.org
is "$(confirm "$(link_of "$(mail_to "$MD" kate@example.org)")")" 200 \
    "kate@example.org confirmed"
F2=$(gen_key "$A" 'Liam <liam@example.org>')
g "$A" --export --armor "$F2" >"$T_DIR/liam.asc"
is "$(http POST "$URL/pks/add" --data-urlencode "keytext@$T_DIR/liam.asc")" 200 \
    "HKP upload acknowledged"

stop_pid "$KD_PID" TERM
is "$?" 0 "SIGTERM: exit status 0"
like "$(tail -3 "$LOG")" "keydird info: stopped" "SIGTERM: 'stopped' in the log"
unlike "$(cat "$LOG")" "(fatal|ERROR)" "no fatal error in the log"
ok "$(port_open "$KP"; [ $? != 0 ]; echo $?)" "the port is closed"

start_keydird "$KP" "$DATA" "$LOG" || bail "keydird restarts"
is "$(http GET "$URL/vks/v1/by-fingerprint/$F1")" 200 "after restart: key 1 by fingerprint"
is "$(http GET "$URL/vks/v1/by-email/kate%40example.org")" 200 \
    "after restart: kate@example.org still published"
is "$(http GET "$URL/vks/v1/by-fingerprint/$F2")" 200 "after restart: key 2 by fingerprint"
wait_until 20 has_mail "$MD" liam@example.org
L=$(link_of "$(mail_to "$MD" liam@example.org)")
ok "$([ -n "$L" ]; echo $?)" "the mail for the HKP upload is there"

# kill -9 right after an acknowledged upload and confirmation
F3=$(gen_key "$A" 'Mia <mia@example.org>')
g "$A" --export --armor "$F3" >"$T_DIR/mia.asc"
is "$(vks_upload "$URL" "$T_DIR/mia.asc")" 200 "upload of key 3 acknowledged"
is "$(confirm "$L")" 200 "liam@example.org confirmed"
stop_pid "$KD_PID" KILL
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird restarts after kill -9"
is "$(http GET "$URL/vks/v1/by-fingerprint/$F3")" 200 "after kill -9: key 3 by fingerprint"
is "$(http GET "$URL/vks/v1/by-email/liam%40example.org")" 200 \
    "after kill -9: liam@example.org published"

stop_pid "$KD_PID" INT
is "$?" 0 "SIGINT: exit status 0"
like "$(tail -3 "$LOG")" "keydird info: stopped" "SIGINT: 'stopped' in the log"

client_connected() {
	[ -n "$(ss -Htn state established "( dport = :$1 )" 2>/dev/null)" ]
}

# SIGTERM with a request in flight: a slow client still gets its answer
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts again"
(
	sleep 0.5
	cat "$T_DIR/mia.asc" | jq -Rs '{keytext: .}'
) | curl -s -o "$T_DIR/inflight.body" -w '%{http_code}' --max-time 20 \
    -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    --data-binary @- "$URL/vks/v1/upload" >"$T_DIR/inflight.code" &
CPID=$!
T_PIDS+=("$CPID")
# signal only once the client is connected (its body is still coming)
wait_until 5 client_connected "$KP"
stop_pid "$KD_PID" TERM
st=$?
wait "$CPID" 2>/dev/null
is "$st" 0 "SIGTERM with a request in flight: exit status 0"
is "$(cat "$T_DIR/inflight.code")" 200 "... the request in flight was answered"

done_testing
