#!/bin/bash
# 23-disk-full: the data directory is a small tmpfs, in a mount namespace
# of the test's own (so nothing outside sees it and nothing is left
# mounted), and the Maildir under it a second one.  When the Maildir's
# filesystem fills, requests go on being acknowledged and their mail waits
# in the outbox, then goes out once there is space.  When the database's
# filesystem fills, every write (VKS and HKP uploads, request-verify, a
# confirmation) is refused with a 503 that says so, lookups and keydird
# state go on answering, nothing acknowledged is lost, and once there is
# space again keydird takes writes without a restart; the database then
# passes integrity_check.  Needs root (or sudo -n) for the mounts.
if [ -z "${KD_MOUNTNS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		KD_MOUNTNS=1 exec unshare -m --propagation private bash "$0" "$@"
	elif sudo -n true 2>/dev/null; then
		exec sudo -n env KD_MOUNTNS=1 KEYDIRD="${KEYDIRD:-}" \
		    TMPDIR="${TMPDIR:-/tmp}" KEEP_TMP="${KEEP_TMP:-0}" \
		    unshare -m --propagation private bash "$0" "$@"
	fi
	echo "1..0 # SKIP mounting a size-limited tmpfs needs root or sudo -n"
	exit 0
fi
. "$(dirname "$0")/lib.sh"
# a PostgreSQL server's full disk is ERR_UNAVAIL through pg_err (53100)
sqlite_only "the disk that fills is the SQLite file's"

KP=$(free_port)
DATA=$T_DIR/data
MD=$DATA/mail
LOG=$T_DIR/keydird.log
KEYS=$T_DIR/keys
mkdir -p "$DATA"
# unmounted (lazily: keydird may still be running) before lib.sh's
# cleanup removes T_DIR, so no mount point is left behind
trap 'rc=$?; umount -l "$MD" 2>/dev/null; umount -l "$DATA" 2>/dev/null
    (exit $rc); t_cleanup' EXIT
mount -t tmpfs -o size=8m,mode=0700 keydir-data "$DATA" ||
    bail "mount an 8 MiB tmpfs on the data directory"
mkdir -p "$MD"
mount -t tmpfs -o size=1m,mode=0700 keydir-mail "$MD" ||
    bail "mount a 1 MiB tmpfs on its Maildir"
t_own "$DATA"	# both mounts, for the account keydird runs as
ok 0 "the data directory is an 8 MiB tmpfs, its Maildir a 1 MiB one"

# fill DIR: write zeros to DIR/filler until the filesystem is full
fill() {
	dd if=/dev/zero of="$1/filler" bs=4k >/dev/null 2>&1
	[ "$(df --output=avail -k "$1" | tail -1 | tr -d ' ')" = 0 ]
}

craft_certs "$KEYS" 12 full || bail "pgpcraft makes the certs"
addr() { awk -v i="$1" '$1 == i {print $3}' "$KEYS/list"; }
fpr() { awk -v i="$1" '$1 == i {print $2}' "$KEYS/list"; }

start_keydird "$KP" "$DATA" "$LOG" --set mail_retry_min=1 \
    --set mail_retry_max=2 || bail "keydird starts"
URL=$KD_URL
publish "$URL" "$MD" "$KEYS/1.asc" "$(addr 1)"
ok $? "$(addr 1) is published"

# --- the Maildir's filesystem is full ----------------------------------------
fill "$MD"
ok $? "the Maildir's filesystem is full"
n0=$(mail_count "$MD")
code=$(vks_upload "$URL" "$KEYS/2.asc")
tok=$(jq -r .token "$T_DIR/body")
is "$code $(vks_request "$URL" "$tok" "$(addr 2)") $(jq -r '.status[]' "$T_DIR/body")" \
    "200 200 pending" "a request is acknowledged while the Maildir is full"
ROW=".[] | select(.rcpt == \"$(addr 2)\")"
wait_for 20 '[ "$(outbox_state "$DATA" "[$ROW | select(.attempts > 1)] | length")" = 1 ]'
like "$(outbox_state "$DATA" "$ROW | \"\(.sent) \(.failed) \(.attempts > 1) \(.last_error)\"")" \
    '^null null true .*No space left on device' \
    "its mail waits in the outbox, tried again and again (no space left)"
is "$(mail_count "$MD")" "$n0" "no mail delivered"
is "$(ls "$MD/tmp" | wc -l)" 0 "and nothing half-written left in tmp/"
rm -f "$MD/filler"
wait_until 20 has_mail "$MD" "$(addr 2)"
ok $? "space again: the mail goes out within seconds"
LINK2=$(link_of "$(mail_to "$MD" "$(addr 2)")")

# --- the database's filesystem is full ---------------------------------------
is "$(vks_upload "$URL" "$KEYS/11.asc")" 200 "key 11 uploaded, not yet asked for"
tok11=$(jq -r .token "$T_DIR/body")
BEFORE=$(state_counts "$DATA")
fill "$DATA"
ok $? "the data directory's filesystem is full"

code=$(vks_upload "$URL" "$KEYS/3.asc")
is "$code" 503 "VKS upload: 503"
like "$(jq -r .error "$T_DIR/body")" 'disk is full.*try again later' \
    "... and the JSON error says the disk is full: $(jq -r .error "$T_DIR/body")"
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$KEYS/4.asc")
is "$code" 503 "HKP add: 503"
like "$(body)" 'disk is full.*try again later' "... and its text says so: $(body)"
like "$(grep warn "$LOG" | tail -1)" 'database: the disk is full' \
    "the log says why, as a warning"
code=$(vks_request "$URL" "$tok11" "$(addr 11)")
is "$code" 503 "request-verify: 503"
is "$(confirm "$LINK2")" 503 "confirming a link: 503"
bad=0
for i in 5 6 7 8 9 10; do
	code=$(vks_upload "$URL" "$KEYS/$i.asc")
	[ "$code" = 503 ] || { bad=1; diag "upload $i: $code"; }
done
is "$bad" 0 "six more uploads: 503 each"
is "$(http GET "$URL/vks/v1/by-email/$(addr 1)")" 200 "lookup by address: 200"
is "$(http GET "$URL/vks/v1/by-fingerprint/$(fpr 1)")" 200 \
    "lookup by fingerprint: 200"
is "$(http GET "$URL/pks/lookup?op=get&options=mr&search=$(addr 1)")" 200 \
    "HKP lookup: 200"
is "$(state_counts "$DATA")" "$BEFORE" "keydird state answers: nothing changed"
ok "$(alive "$KD_PID"; echo $?)" "keydird is still running"

# --- space again ---------------------------------------------------------------
rm -f "$DATA/filler"
ok 0 "the filler is gone"
code=$(vks_upload "$URL" "$KEYS/3.asc")
is "$code" 200 "an upload is taken again, without a restart"
is "$(confirm "$LINK2")" 200 "the link refused during the outage works"
is "$(http GET "$URL/vks/v1/by-email/$(addr 2)")" 200 "$(addr 2) is published"
is "$(vks_request "$URL" "$tok11" "$(addr 11)")" 200 \
    "request-verify for key 11, stored before the disk filled, works"
wait_until 20 has_mail "$MD" "$(addr 11)"
ok $? "and its mail goes out"
is "$(http GET "$URL/vks/v1/by-email/$(addr 1)")" 200 \
    "$(addr 1), published before, still is"
code=$(http POST "$URL/pks/add" --data-urlencode "keytext@$KEYS/4.asc")
is "$code" 200 "an HKP upload with mail is taken"
wait_until 20 has_mail "$MD" "$(addr 4)"
ok $? "and its mail goes out"
stop_pid "$KD_PID" TERM
is "$(sqlite3 "$DATA/keydir.db" 'PRAGMA integrity_check;' 2>&1)" ok \
    "the database passes integrity_check"

done_testing
