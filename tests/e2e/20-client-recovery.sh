#!/bin/bash
# 20-client-recovery: keydir recovery create seals the owner's secret key
# under five questions (and a code) and sends it in a signed submission;
# keydir recovery restore, on a machine with an empty keyring, takes a
# link mailed to the address and gets the key back with three right
# answers (in any case and spacing) or the code, and not with two right
# and one wrong; a link works once.  (Each set of three, tampered data
# and the format's vectors: t_recovery.)
. "$(dirname "$0")/lib.sh"

KD=${KEYDIRD%/keydird}/keydir
[ -x "$KD" ] || bail "no keydir client next to $KEYDIRD"
KP=$(free_port)
DATA=$T_DIR/data
LOG=$T_DIR/keydird.log
MD=$DATA/mail
start_keydird "$KP" "$DATA" "$LOG" --set mail_rate=1s || bail "keydird starts"
export KEYDIR_SERVER=$KD_URL

mk_gnupghome OWNER "$KP"
mk_gnupghome NEW "$KP"		# the owner's new machine: no keys
mkdir -p "$T_DIR/ohome" "$T_DIR/nhome"
kc_o() { HOME=$T_DIR/ohome GNUPGHOME=$OWNER "$KD" "$@" >"$T_DIR/out" 2>&1; }
kc_n() { HOME=$T_DIR/nhome GNUPGHOME=$NEW "$KD" "$@" >"$T_DIR/out" 2>&1; }

K=$(gen_key "$OWNER" "Xena <xena@example.org>")
kc_o publish xena@example.org
wait_until 10 has_mail "$MD" xena@example.org
is "$(confirm "$(mail_link "$(mail_to "$MD" xena@example.org)" verify)")" 200 \
    "xena@example.org is published"

printf '%s\t%s\n' "First pet?" "Rex the dog" "Street?" "Elm Street" \
    "Teacher?" "Mrs. Okafor" "Concert?" "Nina Simone" "Town?" "Straße" \
    >"$T_DIR/qa"
kc_o recovery create --answers "$T_DIR/qa" --with-code --kdf-limits min "$K"
ok $? "keydir recovery create exits 0"
CODE=$(grep -Eo '[A-Z2-7]{4}(-[A-Z2-7]{4}){7}' "$T_DIR/out" | head -1)
like "$CODE" '^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$' "... shows the recovery code once"
is "$(state_jq "$DATA" '.recovery_data')" 1 "the directory keeps the sealed key"

# link: ask for a recovery link and take it from the mail
# the recovery link in a mail that came after the list in $T_DIR/before
# (a notice of an earlier hand-out may arrive in between)
newlink() {
	ls "$MD"/new | grep -vxF -f "$T_DIR/before" | while read -r f; do
		mail_link "$MD/new/$f" recovery
	done | head -1
}
link() {
	sleep 1.1		# mail_rate
	ls "$MD"/new >"$T_DIR/before"
	http POST "$KD_URL/api/v1/recovery/request" -H 'Content-Type: application/json' \
	    --data '{"address": "xena@example.org"}' >/dev/null
	wait_for 10 'test -n "$(newlink)"'
	newlink
}
answers() {	# answers FILE A1 A2 A3 A4 A5 ("" for not known)
	local f=$1
	shift
	printf '%s\t%s\n' q1 "$1" q2 "$2" q3 "$3" q4 "$4" q5 "$5" >"$f"
}

answers "$T_DIR/two-wrong" "Rex the dog" "" "Mrs. Okafor" "" "Paris"
L=$(link)
kc_n recovery restore --answers "$T_DIR/two-wrong" --link "$L" xena@example.org
is $? 1 "two right answers and one wrong: not restored (exit 1)"
like "$(cat "$T_DIR/out")" 'do not open' "... saying the answers do not open it"
g "$NEW" --list-secret-keys "$K" >/dev/null 2>&1
ok $((! $?)) "... and no secret key was imported"
kc_n recovery restore --answers "$T_DIR/two-wrong" --link "$L" xena@example.org
is $? 1 "the same link again: refused"
like "$(cat "$T_DIR/out")" 'link does not work' "... the link works once"

answers "$T_DIR/three" "  REX the   Dog " "" "mrs. okafor" "NINA simone" ""
kc_n recovery restore --answers "$T_DIR/three" --link "$(link)" xena@example.org
ok $? "three right answers, in other case and spacing: restored"
like "$(cat "$T_DIR/out")" "secret key $K is back" "... says so"
g "$NEW" --list-secret-keys "$K" >/dev/null 2>&1
ok $? "the secret key is in the new keyring"
echo hello >"$T_DIR/msg"
g "$NEW" -u "$K" --sign -o "$T_DIR/msg.sig" "$T_DIR/msg" >/dev/null 2>&1
ok $? "... and signs"

mk_gnupghome NEW2 "$KP"
HOME=$T_DIR/nhome GNUPGHOME=$NEW2 "$KD" recovery restore --code "$CODE" \
    --link "$(link)" xena@example.org >"$T_DIR/out" 2>&1
ok $? "the recovery code restores it too"
g "$NEW2" --list-secret-keys "$K" >/dev/null 2>&1
ok $? "... into another empty keyring"

kc_n recovery bogus
is $? 2 "recovery with another word: exit 2"

done_testing
