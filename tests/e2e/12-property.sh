#!/bin/bash
# 12-property: a seeded random walk against keydird over HTTP, checked
# after every step against a small model (tests/e2e/prop.py).  Six owners
# with addresses on two domains upload cert variants (VKS upload +
# request-verify, HKP add) with honest and hostile user IDs ("bob@x <alice@y>",
# "bob@x, Alice <alice@y>", NUL, CR/LF, %, !, leading |) and with their own
# subkeys or attacks (another owner's primary or signing subkey bound with
# no key flags, certify or sign, without or with a bad back-signature);
# confirm or reject links from the Maildir, replay used links, upload
# revoked keys and post signed removals.  Checked on what each step
# touched, on everything every 50 steps and at the end:
#   uid     every served user ID is strict, clean and confirmed for its key
#   id      a fingerprint or key id answers only keys owning it (primary, or
#           a subkey with a back-signature); a stored primary beats subkeys
#   email   by-email answers only the key the address was confirmed for
#   refusal a refused (4xx) upload or request-verify changes no answer
#   mail    confirmation mails only for asked-for addresses the key carries
#
# SEED (default 1) picks the walk; PROP_STEPS (1500) and PROP_SECONDS (80)
# bound it, whichever comes first.  A violation stops the walk and prints
# the seed and the steps that touched the keys and addresses involved;
# rerun with SEED=N KEEP_TMP=1 to keep the full step log and the uploads
# of those keys (repro.json).  The uploads and removals of a seed are the
# same on every run; which links exist depends on the mail rate limit
# (one mail per address per second), so the confirmations may differ.
. "$(dirname "$0")/lib.sh"

SEED=${SEED:-1}
STEPS=${PROP_STEPS:-1500}
SECS=${PROP_SECONDS:-80}
KP=$(free_port)
DATA=$T_DIR/data
# mail_rate 1s (the least): most requests get their mail at once
start_keydird "$KP" "$DATA" "$T_DIR/keydird.log" --set mail_rate=1s ||
    bail "keydird starts on port $KP"
diag "seed $SEED (rerun: SEED=$SEED $0)"

PYTHONDONTWRITEBYTECODE=1 "$PY" "$E2E_ROOT/tests/e2e/prop.py" \
    --url "$KD_URL" --maildir "$DATA/mail" --data-dir "$DATA" \
    --keydird "$KEYDIRD" \
    --seed "$SEED" --steps "$STEPS" --seconds "$SECS" \
    --result "$T_DIR/result" --log "$T_DIR/steps.log" \
    --repro "$T_DIR/repro.json"
rc=$?
ok "$([ "$rc" -le 1 ] && [ -s "$T_DIR/result" ]; echo $?)" \
    "prop.py ran to its end (status $rc)" || bail "prop.py crashed"
[ "$rc" = 0 ] || diag "step log: $T_DIR/steps.log, uploads: $T_DIR/repro.json" \
    "(kept with KEEP_TMP=1)"

# r NAME: a counter of the walk
r() {
	awk -v k="$1" '$1 == k {print $2; f = 1} END {if (!f) print 0}' "$T_DIR/result"
}

steps=$(r steps)
ran="$steps steps ran (seed $SEED, $(r seconds) s, $(r http_requests) requests, $(r sweeps) full sweeps over $(r keys) keys)"
if [ "$rc" = 0 ]; then
	ok "$([ "$steps" -ge 100 ]; echo $?)" "$ran"
else
	echo "ok $((T_N += 1)) # SKIP $ran: stopped at a violation"
fi

for f in uid id email refusal mail; do
	case $f in
	uid) what="every served user ID (VKS, HKP get and index, mail) is strict, clean, uploaded and confirmed for its key" ;;
	id) what="fingerprint and key id lookups answer only keys owning the id; a stored primary beats subkeys" ;;
	email) what="by-email lookups answer only the key the address was last confirmed for; others 404" ;;
	refusal) what="refused uploads are 4xx and change no answer (status, ETag, HKP index)" ;;
	mail) what="confirmation mails only for asked-for addresses the key carries" ;;
	esac
	is "$(r "viol_$f")" 0 "$f: $what ($(r "checks_$f") checks)"
done

# the walk did what it is about (not vacuous)
for c in confirmations:"confirmation POSTs that published" \
    replacements:"confirmations that moved an address to another key" \
    rejects:"rejected links" replays:"replayed links (none published)" \
    hostile_refused:"hostile uploads refused" \
    hostile_accepted:"uploads with a hostile user ID accepted (the user ID never served)" \
    attack_accepted:"uploads binding another owner's key as a subkey accepted" \
    collisions:"subkeys colliding with another key's primary or subkey" \
    cross_signed:"subkeys shared with a back-signature" \
    multi_answers:"id lookups answering several keys" \
    primary_over_sub:"id lookups of a primary also bound elsewhere" \
    revocations:"revoked keys uploaded" removals_all:"signed removals of a whole key" \
    removals_one:"signed removals of one address"; do
	n=$(r "${c%%:*}")
	if [ "$rc" = 0 ]; then
		ok "$([ "$n" -gt 0 ]; echo $?)" "walk covered ${c#*:}: $n"
	else
		echo "ok $((T_N += 1)) # SKIP walk covered ${c#*:}: $n: stopped at a violation"
	fi
done

done_testing
