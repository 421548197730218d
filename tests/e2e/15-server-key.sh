#!/bin/bash
# 15-server-key: the directory's own key.  Made on first start (Ed25519
# certify+sign, X25519 encryption subkey, the submission address as its
# user ID, three years), kept mode 0600 in the data directory and the same
# after a restart; served at /api/v1/server-key with its fingerprint in
# Keydir-Fingerprint; GnuPG imports it as it is; published under the
# submission address like any key, with no mail to that address.  A
# submission address the directory cannot publish (the default for a
# base URL on an IP address) leaves the key served but unpublished.
. "$(dirname "$0")/lib.sh"

KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
SUB=key-submission@keys.example.org

start_keydird "$KP" "$DATA" "$LOG" --set submission_address=$SUB ||
    bail "keydird starts on port $KP"
URL=$KD_URL

is "$(http GET "$URL/api/v1/server-key")" 200 "GET /api/v1/server-key: 200"
like "$(header Content-Type)" '^application/pgp-keys' "... as application/pgp-keys"
FPR=$(header Keydir-Fingerprint)
like "$FPR" '^[0-9A-F]{40}$' "... its fingerprint in Keydir-Fingerprint ($FPR)"
cp "$T_DIR/body" "$T_DIR/server.asc"
like "$(head -1 "$T_DIR/server.asc")" '^-----BEGIN PGP PUBLIC KEY BLOCK-----' \
    "... armored"
unlike "$(cat "$T_DIR/server.asc")" 'PRIVATE' "... and only the public key"

is "$(stat -c %a "$DATA/server-key.pgp")" 600 "the secret key is kept mode 0600"

mk_gnupghome H "$KP"
g "$H" --import "$T_DIR/server.asc" >/dev/null 2>&1
ok $? "GnuPG imports it"
COLONS=$(g "$H" --with-colons --fixed-list-mode --list-keys "$FPR" 2>/dev/null)
like "$(printf '%s\n' "$COLONS" | awk -F: '/^fpr/ {print $10; exit}')" "^$FPR\$" \
    "GnuPG sees the fingerprint the header names"
like "$(printf '%s\n' "$COLONS" | awk -F: '/^pub/ {print $4 ":" $12 ":" $17}')" \
    '^22:[a-zA-Z]*[sS][a-zA-Z]*:ed25519$' "an Ed25519 primary that signs (and certifies)"
like "$(printf '%s\n' "$COLONS" | awk -F: '/^pub/ {print $12}')" 'c' "... and certifies"
like "$(printf '%s\n' "$COLONS" | awk -F: '/^sub/ {print $4 ":" $12 ":" $17}')" \
    '^18:e:cv25519$' "one X25519 subkey, for encryption"
is "$(printf '%s\n' "$COLONS" | awk -F: '/^uid/ {print $10}')" "$SUB" \
    "its user ID is the submission address"
CREATED=$(printf '%s\n' "$COLONS" | awk -F: '/^pub/ {print $6}')
EXPIRES=$(printf '%s\n' "$COLONS" | awk -F: '/^pub/ {print $7}')
SEXPIRES=$(printf '%s\n' "$COLONS" | awk -F: '/^sub/ {print $7}')
is "$((EXPIRES - CREATED))" $((3 * 365 * 86400)) "it expires three years after it was made"
is "$SEXPIRES" "$EXPIRES" "... and its subkey with it"

# published like any key, without a mail to the address
is "$(http GET "$URL/vks/v1/by-email/$SUB")" 200 "by-email for the submission address: 200"
is "$(key_fprs "$H" "$T_DIR/body")" "$FPR" "... answers the server key"
is "$(http GET "$URL/vks/v1/by-fingerprint/$FPR")" 200 "by-fingerprint: 200"
is "$(state_jq "$DATA" '.outbox.total')" 0 "no mail went out for it"
is "$(key_state "$DATA" "$FPR" '[.addresses[].address] | join(",")')" "$SUB" \
    "keydird state: the key has the submission address"

# the same key after a restart; published once
stop_pid "$KD_PID"
start_keydird "$KP" "$DATA" "$LOG" --set submission_address=$SUB ||
    bail "keydird starts again"
is "$(http GET "$URL/api/v1/server-key")" 200 "after a restart: 200"
is "$(header Keydir-Fingerprint)" "$FPR" "... the same key"
cmp -s "$T_DIR/body" "$T_DIR/server.asc"
ok $? "... byte for byte"
is "$(grep -c "server key $FPR made" "$LOG")" 1 "made once, on the first start"
is "$(grep -c "server key $FPR published" "$LOG")" 1 "published once"
stop_pid "$KD_PID"

# default submission address: key-submission@ and the base URL's host;
# on an IP address it cannot be published, and the key is still served
KP2=$(free_port)
DATA2=$T_DIR/data2
LOG2=$T_DIR/keydird2.log
start_keydird "$KP2" "$DATA2" "$LOG2" || bail "a second keydird starts"
is "$(http GET "$KD_URL/api/v1/server-key")" 200 "default address: the key is served"
F2=$(header Keydir-Fingerprint)
g "$H" --import "$T_DIR/body" >/dev/null 2>&1
is "$(g "$H" --with-colons --list-keys "$F2" 2>/dev/null | awk -F: '/^uid/ {print $10}')" \
    "key-submission@127.0.0.1" "its user ID is key-submission@ and the base URL's host"
like "$(cat "$LOG2")" "server key not published under key-submission@127.0.0.1" \
    "... which the directory cannot publish: said in the log"
is "$(state_jq "$DATA2" '.keys')" 0 "... and nothing is stored"
unlike "$F2" "^$FPR\$" "each directory makes its own key"

done_testing
