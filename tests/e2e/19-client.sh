#!/bin/bash
# 19-client: the keydir client against a real keydird, each person with
# their own GnuPG home.  The owner publishes through the client (a signed
# submission), confirms from the Maildir; lookup says "already have it"
# to the owner and imports for a stranger (--dry-run only says); refresh
# after the owner added a subkey and published again reports it updated,
# and an address never published as not in the directory; the server key
# is pinned on first use and a new one refused without
# --accept-new-server-key; remove through the client; usage mistakes are
# exit 2.
. "$(dirname "$0")/lib.sh"

KD=${KEYDIRD%/keydird}/keydir
[ -x "$KD" ] || bail "no keydir client next to $KEYDIRD"
KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
MD=$DATA/mail
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts on port $KP"
export KEYDIR_SERVER=$KD_URL

mk_gnupghome OWNER "$KP"
mk_gnupghome STRANGER "$KP"
mkdir -p "$T_DIR/ohome" "$T_DIR/shome"
# kc HOME GNUPGHOME ARGS...: the client as that person; output in out
kc() {
	local home=$1 gh=$2
	shift 2
	HOME=$home GNUPGHOME=$gh "$KD" "$@" >"$T_DIR/out" 2>&1
}
kc_o() { kc "$T_DIR/ohome" "$OWNER" "$@"; }
kc_s() { kc "$T_DIR/shome" "$STRANGER" "$@"; }

K=$(gen_key "$OWNER" "Vera <vera@example.org>")
g "$STRANGER" --quick-gen-key "Wim <wim@example.net>" future-default default never >/dev/null 2>&1

kc_o publish vera@example.org
ok $? "keydir publish exits 0"
like "$(cat "$T_DIR/out")" 'pinned \(first use\)' "... pins the server key on first use"
like "$(cat "$T_DIR/out")" 'vera@example.org: pending' "... vera@example.org pending"
wait_until 10 has_mail "$MD" vera@example.org
M=$(mail_to "$MD" vera@example.org)
like "$(mail_part "$M" body)" 'signed by this key itself' "the mail says the key signed the request"
is "$(confirm "$(mail_link "$M" verify)")" 200 "the owner confirms from the mail"

kc_o lookup vera@example.org
ok $? "lookup by the owner exits 0"
like "$(cat "$T_DIR/out")" "$K, already in your keyring" "... already have it: nothing fetched"

kc_s lookup --dry-run vera@example.org
like "$(cat "$T_DIR/out")" 'would be fetched' "a stranger's --dry-run only says"
g "$STRANGER" --list-keys "$K" >/dev/null 2>&1
ok $((! $?)) "... and imports nothing"
kc_s lookup vera@example.org
ok $? "lookup by a stranger exits 0"
like "$(cat "$T_DIR/out")" "$K, new: imported" "... imports the key"
like "$(cat "$T_DIR/out")" 'Vera <vera@example.org>' "... and shows its user ID"
g "$STRANGER" --list-keys "$K" >/dev/null 2>&1
ok $? "... which is now in the stranger's keyring"
kc_s lookup nobody@example.org
is $? 3 "an address not in the directory: exit 3"
like "$(cat "$T_DIR/out")" 'not in the directory' "... saying so"

# the owner adds a subkey and publishes again: the stranger's refresh
# sees the newer version
sleep 1
g "$OWNER" --quick-add-key "$K" ed25519 sign never >/dev/null 2>&1
kc_o publish vera@example.org
ok $? "publish of the key with a new subkey"

kc_s refresh
ok $? "refresh exits 0"
like "$(cat "$T_DIR/out")" "vera@example.org: $K, updated" "... the key was updated"
like "$(cat "$T_DIR/out")" 'changed: 1 user ID\(s\) and 2 subkey\(s\) now, 1 and 1 before' \
    "... and says what changed: one subkey more"
like "$(cat "$T_DIR/out")" '0 unchanged, 1 updated, 0 new, 1 not in the directory' \
    "... the report: 1 updated, wim@example.net not in the directory"
is "$(g "$STRANGER" --with-colons --list-keys "$K" | grep -c '^sub')" 2 \
    "the stranger's keyring has the new subkey"
kc_s refresh
like "$(cat "$T_DIR/out")" '1 unchanged, 0 updated, 0 new, 1 not in the directory' \
    "a second refresh fetches nothing"

# a rotated server key, signed by the pinned one, is taken at once
stop_pid "$KD_PID"
"$KEYDIRD" rotate-key --data-dir "$DATA" >/dev/null 2>>"$LOG"
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts again"
is "$(http GET "$KD_URL/api/v1/server-key/transition")" 200 \
    "the old key's signature over the new one is served"
past_second "$(date +%s)"
kc_o publish vera@example.org
ok $? "publish after a rotation: sent"
like "$(cat "$T_DIR/out")" 'the key you pinned .* signed it: the new one is pinned' \
    "... the new key taken because the pinned one signed it"

# a server key nobody vouched for is refused until the user accepts it
stop_pid "$KD_PID"
rm -f "$DATA/server-key.pgp" "$DATA/server-key-transition.asc"
start_keydird "$KP" "$DATA" "$LOG" || bail "keydird starts with a new key"
is "$(http GET "$KD_URL/api/v1/server-key/transition")" 404 "no transition for it"
kc_o publish vera@example.org
is $? 1 "publish after an unvouched key change: refused (exit 1)"
like "$(cat "$T_DIR/out")" 'server key of .* changed' "... saying the key changed"
# (the same text signed within the same second would be the same
# submission: a replay, refused)
past_second "$(date +%s)"
kc_o publish --accept-new-server-key vera@example.org
ok $? "with --accept-new-server-key: sent"
like "$(cat "$T_DIR/out")" 'new server key .* is pinned' "... and the new key pinned"

kc_o remove vera@example.org
ok $? "keydir remove exits 0"
like "$(cat "$T_DIR/out")" "Removed: the whole key $K" "... the whole key removed"
is "$(http GET "$KD_URL/vks/v1/by-email/vera@example.org")" 404 "the address is gone"

kc_o publish --help
ok $? "publish --help exits 0"
like "$(cat "$T_DIR/out")" '^usage: keydir publish' "... and shows publish's own help"
kc_o bogus
is $? 2 "an unknown command: exit 2"
like "$(cat "$T_DIR/out")" "unknown command bogus" "... one line naming it"
kc_o lookup
is $? 2 "lookup without an address: exit 2"
HOME=$T_DIR/ohome GNUPGHOME=$OWNER KEYDIR_SERVER= "$KD" lookup a@b.c >"$T_DIR/out" 2>&1
is $? 2 "no server: exit 2"

done_testing
