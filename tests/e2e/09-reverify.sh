#!/bin/bash
# 09-reverify: the scheduled work, driven by `keydird maintain --now T` run
# next to the serving keydird on the same database (defaults:
# reverify_interval 180d, reverify_grace 14d, unconfirmed_ttl 14d, links 7d).
#
# Server 1 (re-verification), three addresses on three keys, confirmed now:
#   maintain --now NOW+181d asks all three ("Is this still your key?", the
#   key attached, BASE/reverify/TOKEN); ann@ answers yes, ben@ answers no
#   (unpublished at once), cal@ does not answer; maintain --now NOW+194d
#   (within the grace) unpublishes nothing, maintain --now NOW+196d
#   unpublishes cal@ only (ann's yes restarted her schedule at the real now).
# Server 2 (updates and clean-up): a re-upload with a revoked user ID
#   unpublishes that address only; a re-upload with a new subkey merges
#   without mail; maintain --now NOW+15d deletes the key nobody confirmed
#   and the expired links (a used link is then unknown, 404, not 410).
# Mail goes through one aiosmtpd for both; maintain delivers what it queues.
. "$(dirname "$0")/lib.sh"

SP=$(free_port)
SMTPDIR=$T_DIR/smtp
MD=$SMTPDIR/Maildir
start_smtp "$SP" "$SMTPDIR" || bail "aiosmtpd starts on port $SP"

DAY=86400
NOW=$(date +%s)
at() {			# at DAYS: NOW + DAYS as RFC 3339
	date -u -d "@$((NOW + $1 * DAY))" +%Y-%m-%dT%H:%M:%SZ
}

mk_gnupghome S "$(free_port)"	# scratch home for inspecting answers

# --- server 1: re-verification ------------------------------------------------------
KP=$(free_port)
DATA=$T_DIR/data1
LOG=$T_DIR/keydird1.log
start_keydird "$KP" "$DATA" "$LOG" --smtp "smtp://127.0.0.1:$SP" ||
    bail "keydird 1 starts on port $KP"
URL=$KD_URL
ARGS=(--data-dir "$DATA" --base-url "$URL" --smtp "smtp://127.0.0.1:$SP")
mk_gnupghome A "$KP"

declare -A FP
for who in ann ben cal; do
	FP[$who]=$(gen_key "$A" "${who^} Again <$who@example.org>")
	g "$A" --export --armor "${FP[$who]}" >"$T_DIR/$who.asc"
	publish "$URL" "$MD" "$T_DIR/$who.asc" "$who@example.org"
	ok $? "$who@example.org is published" || bail "cannot publish $who"
done

kd_maintain "$(at 0)" "${ARGS[@]}"
ok $? "maintain --now NOW exits 0"
like "$MAINT_OUT" '^asked 0, unpublished 0, tokens deleted 0, unconfirmed keys deleted 0, sent mails deleted 0, rate marks deleted [0-9]+, mails sent [0-9]+$' \
    "maintain --now NOW: nothing to do"

T1=$(at 181)
kd_maintain "$T1" "${ARGS[@]}"
ok $? "maintain --now NOW+181d exits 0"
like "$MAINT_OUT" '^asked 3, unpublished 0, tokens deleted [0-9]+, unconfirmed keys deleted 0, sent mails deleted [0-9]+, rate marks deleted [0-9]+, mails sent [0-3]$' \
    "maintain --now NOW+181d: asked 3, mails delivered by maintain or serve ($MAINT_OUT)"
for who in ann ben cal; do
	wait_until 10 has_more_mails "$MD" "$who@example.org" 1
	is "$(mails_to "$MD" "$who@example.org")" 2 "a re-verification mail reached $who@example.org"
done
is "$(unsent "$DATA")" 0 \
    "maintain delivered what it queued"
M=$(mail_to "$MD" ann@example.org)
is "$(mail_part "$M" subject)" "Is this still your key?" "mail: Subject"
like "$(mail_part "$M" body)" "$(printf '%s' "${FP[ann]}" | sed -E 's/(....)/\1 /g; s/ $//')" \
    "mail: names the key in groups of 4"
is "$(mail_part "$M" atttype)" "application/pgp-keys" "mail: the key is attached"
mail_part "$M" att >"$T_DIR/att.asc"
is "$(key_fprs "$S" "$T_DIR/att.asc")" "${FP[ann]}" "... it is Ann's key"
is "$(key_uids "$S" "$T_DIR/att.asc")" "Ann Again <ann@example.org>" "... as published"
LA=$(mail_link "$(mail_to "$MD" ann@example.org)" reverify)
LB=$(mail_link "$(mail_to "$MD" ben@example.org)" reverify)
like "$LA" "^$URL/reverify/[A-Za-z0-9_-]{43}\$" "mail: the link is BASE/reverify/TOKEN"
for who in ann ben cal; do
	is "$(http GET "$URL/vks/v1/by-email/$who@example.org")" 200 \
	    "after asking: $who@example.org still published"
done

# (a) yes
before=$(state_counts "$DATA")
code=$(http GET "$LA")
is "$code" 200 "GET on Ann's link: 200"
like "$(page_text)" "${FP[ann]}" "... names the key"
like "$(body)" "ann@example\.org" "... names the address"
like "$(body)" "<form method=\"post\" action=\"$LA\"><button>" "... a yes button"
like "$(body)" "<form method=\"post\" action=\"$LA/no\"><button class=\"danger\">" "... a no button, set apart (red)"
is "$(state_counts "$DATA")" "$before" "... and GET changed nothing"
code=$(confirm "$LA")
is "$code" 200 "POST on Ann's link (yes): 200"
like "$(body)" "stays published" "... the page says it stays published"
is "$(http GET "$URL/vks/v1/by-email/ann%40example.org")" 200 "ann@example.org still published"
is "$(confirm "$LA")" 410 "Ann's link again: 410"

# (b) no
code=$(confirm "$LB/no")
is "$code" 200 "POST on Ben's link /no: 200"
like "$(body)" "no longer published" "... the page says unpublished"
is "$(http GET "$URL/vks/v1/by-email/ben%40example.org")" 404 "ben@example.org: by-email 404 at once"
is "$(http GET "$URL/pks/lookup?op=index&options=mr&search=ben@example.org")" 404 \
    "ben@example.org: HKP index 404"
code=$(http GET "$URL/vks/v1/by-fingerprint/${FP[ben]}")
is "$code" 200 "Ben's key still by fingerprint"
is "$(key_uids "$S" "$T_DIR/body")" "" "... without the user ID"

# (c) no answer: the grace ends 14 days after asking (NOW+181d+14d).
# Within the grace nothing is unpublished; Ann, who answered yes at the real
# NOW, is due again 180 days after that and is asked again.
n_ann=$(mails_to "$MD" ann@example.org)
kd_maintain "$(at 194)" "${ARGS[@]}"
ok $? "maintain --now NOW+194d exits 0"
like "$MAINT_OUT" '^asked 1, unpublished 0, ' \
    "maintain --now NOW+194d (within the grace): asked 1 (Ann), unpublished 0 ($MAINT_OUT)"
wait_until 10 has_more_mails "$MD" ann@example.org "$n_ann"
is "$(mails_to "$MD" ann@example.org)" $((n_ann + 1)) "... the new question went to Ann"
is "$(http GET "$URL/vks/v1/by-email/cal%40example.org")" 200 "... cal@example.org still published"
kd_maintain "$(at 196)" "${ARGS[@]}"
ok $? "maintain --now NOW+196d exits 0"
like "$MAINT_OUT" '^asked 0, unpublished 1, ' \
    "maintain --now NOW+196d (past the grace): unpublished 1 ($MAINT_OUT)"
is "$(http GET "$URL/vks/v1/by-email/cal%40example.org")" 404 "cal@example.org (no answer): by-email 404"
code=$(http GET "$URL/vks/v1/by-fingerprint/${FP[cal]}")
is "$code" 200 "Cal's key still by fingerprint"
is "$(key_uids "$S" "$T_DIR/body")" "" "... without the user ID"
is "$(http GET "$URL/vks/v1/by-email/ann%40example.org")" 200 \
    "ann@example.org (answered yes at the real now): still published"
like "$(grep -F 'no answer to re-verification' "$LOG" "$T_DIR/maintain.log")" \
    "unpublished cal@example.org from ${FP[cal]}" "the unpublication is logged"

# --- server 2: updates and clean-up -----------------------------------------------------
KP2=$(free_port)
DATA2=$T_DIR/data2
LOG2=$T_DIR/keydird2.log
start_keydird "$KP2" "$DATA2" "$LOG2" --smtp "smtp://127.0.0.1:$SP" ||
    bail "keydird 2 starts on port $KP2"
URL2=$KD_URL
ARGS2=(--data-dir "$DATA2" --base-url "$URL2" --smtp "smtp://127.0.0.1:$SP")
mk_gnupghome B "$KP2"

X=xena@example.org Y=yuri@example.org Z=zoe@example.org
K=$(gen_key "$B" "Xena Keep <$X>")
like "$K" '^[0-9A-F]{40}$' "gpg made the key K" || bail "no key"
g "$B" --quick-add-uid "$K" "Yuri Drop <$Y>" >/dev/null 2>&1
g "$B" --quick-add-uid "$K" "Zoe Later <$Z>" >/dev/null 2>&1
g "$B" --export --armor "$K" >"$T_DIR/k.asc"
publish "$URL2" "$MD" "$T_DIR/k.asc" "$X" "$Y"
ok $? "K is published for $X and $Y" || bail "cannot publish K"
LX=$(link_of "$(mail_to "$MD" "$X")")
code=$(vks_upload "$URL2" "$T_DIR/k.asc")
code=$(vks_request "$URL2" "$(jq -r .token "$T_DIR/body")" "$Z")
is "$code $(jq -r --arg a "$Z" '.status[$a]' "$T_DIR/body")" "200 pending" \
    "a confirmation is requested for $Z too"
wait_until 20 has_mail "$MD" "$Z"
LZ=$(link_of "$(mail_to "$MD" "$Z")")
like "$LZ" "^$URL2/verify/" "... its link arrives (and is not used)"

# a revoked user ID
g "$B" --quick-revoke-uid "$K" "Yuri Drop <$Y>" >/dev/null 2>&1
ok $? "gpg --quick-revoke-uid revokes the user ID of $Y"
g "$B" --export --armor "$K" >"$T_DIR/k-rev.asc"
out0=$(state_of "$DATA2" .outbox.total)
code=$(vks_upload "$URL2" "$T_DIR/k-rev.asc")
is "$code" 200 "re-upload with the revoked user ID: 200"
is "$(jq -r --arg a "$X" '.status[$a]' "$T_DIR/body")" published "... $X published"
is "$(jq -r --arg a "$Y" '.status[$a]' "$T_DIR/body")" revoked "... $Y revoked"
is "$(http GET "$URL2/vks/v1/by-email/$Y")" 404 "$Y: by-email 404"
is "$(http GET "$URL2/api/v1/lookup/$Y")" 404 "$Y: /api/v1/lookup 404"
is "$(http GET "$URL2/vks/v1/by-email/$X")" 200 "$X: still published"
is "$(key_uids "$S" "$T_DIR/body")" "Xena Keep <$X>" "... and K is served with only that user ID"

# a new subkey
g "$B" --quick-add-key "$K" cv25519 encr >/dev/null 2>&1
NSUB=$(g "$B" --with-colons --list-keys "$K" 2>/dev/null | awk -F: '$1 == "fpr" {f = $10} END {print f}')
g "$B" --export --armor "$K" >"$T_DIR/k-sub.asc"
code=$(vks_upload "$URL2" "$T_DIR/k-sub.asc")
is "$code" 200 "re-upload with a new subkey: 200"
code=$(http GET "$URL2/vks/v1/by-fingerprint/$K")
like "$(g "$S" --with-colons --import-options show-only --import <"$T_DIR/body" 2>/dev/null)" \
    "fpr:+$NSUB:" "... the server has the new subkey"
is "$(state_of "$DATA2" .outbox.total)" "$out0" \
    "the re-uploads queued no mail"

# a key nobody confirms
U=$(gen_key "$B" "Una Never <una@example.org>")
g "$B" --export --armor "$U" >"$T_DIR/u.asc"
is "$(vks_upload "$URL2" "$T_DIR/u.asc")" 200 "upload of a key that is never confirmed: 200"
is "$(http GET "$URL2/vks/v1/by-fingerprint/$U")" 200 "... found by fingerprint"

is "$(confirm "$LX")" 410 "a used confirmation link: 410"
is "$(http GET "$LZ")" 200 "the unused link of $Z works now"

kd_maintain "$(at 15)" "${ARGS2[@]}"
ok $? "maintain --now NOW+15d exits 0"
like "$MAINT_OUT" '^asked 0, unpublished 0, tokens deleted [1-9][0-9]*, unconfirmed keys deleted 1, sent mails deleted 0, rate marks deleted [1-9][0-9]*, mails sent [0-9]+$' \
    "maintain --now NOW+15d: tokens deleted, unconfirmed keys deleted 1 ($MAINT_OUT)"
is "$(http GET "$URL2/vks/v1/by-fingerprint/$U")" 404 "the unconfirmed key: by-fingerprint 404"
is "$(http GET "$URL2/vks/v1/by-fingerprint/$K")" 200 "K (confirmed before): still by fingerprint"
is "$(http GET "$URL2/vks/v1/by-email/$X")" 200 "$X still published"
is "$(confirm "$LX")" 404 "the used link, expired and deleted: 404 (unknown), not 410"
is "$(http GET "$LZ")" 404 "the unused link, expired and deleted: 404"
is "$(state_of "$DATA2" .tokens.total)" 0 "no token is left"

# sent mail is kept sent_mail_ttl (30 days), then deleted; rate marks go
# once mail_rate has passed
kd_maintain "$(at 45)" "${ARGS2[@]}"
ok $? "maintain --now NOW+45d exits 0"
like "$MAINT_OUT" ', sent mails deleted [1-9][0-9]*, rate marks deleted 0, mails sent 0$' \
    "maintain --now NOW+45d: the mail sent 45 days before is deleted ($MAINT_OUT)"
kd_maintain "$(at 45)" "${ARGS2[@]}"
like "$MAINT_OUT" ', sent mails deleted 0, rate marks deleted 0, mails sent 0$' \
    "... and a second pass finds none left ($MAINT_OUT)"

done_testing
