/*
 * directory_submit: a signed submission (claim 4).  The message is
 * encrypted to the server's key and signed by the key it submits, so the
 * sender holds that key's secret part.  Each rule is checked on its own
 * and named when it fails; nothing is stored or mailed unless all hold.
 * Then the confirmation flow of an upload runs for the addresses it
 * lists, its mails saying the key itself signed the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "email.h"
#include "log.h"
#include "pgp.h"
#include "removal.h"
#include "str.h"
#include "submission.h"
#include "xmalloc.h"

#define SUBMIT_WINDOW (15 * 60)	/* a signature this old is refused */

/* The one nonce of a submission: its text, its signature time and its
 * key, so that the same signed message counts once however it is
 * wrapped. */
static void
submit_nonce(const struct buf *text, int64_t created, const char *fpr,
    char nonce[8 + 2 * crypto_hash_sha256_BYTES + 1])
{
	crypto_hash_sha256_state h;
	uint8_t sum[crypto_hash_sha256_BYTES];
	char t[24];

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const uint8_t *)text->data, text->len);
	snprintf(t, sizeof(t), "%lld", (long long)created);
	crypto_hash_sha256_update(&h, (const uint8_t *)t, strlen(t));
	crypto_hash_sha256_update(&h, (const uint8_t *)fpr, strlen(fpr));
	crypto_hash_sha256_final(&h, sum);
	memcpy(nonce, "submit:", 8);
	sodium_bin2hex(nonce + 7, 2 * sizeof(sum) + 1, sum, sizeof(sum));
}

/* The addresses the submission asks for, normalised; each must be on
 * the key. */
static int
submit_addrs(const struct submission *s, const struct pgp_cert *c,
    char (**want)[EMAIL_MAX + 1], struct err *e)
{
	size_t i;

	*want = xcalloc(s->naddrs ? s->naddrs : 1, sizeof(**want));
	for (i = 0; i < s->naddrs; i++) {
		if (email_normalize(s->addrs[i], (*want)[i], EMAIL_MAX + 1,
		    e) == -1)
			return -1;
		if (!dir_uid_live(c, (*want)[i]))
			return err_set(e, ERR_INVALID, "%s is not an address "
			    "of this key", (*want)[i]);
	}
	return 0;
}

int
dir_submit(struct daemon *d, int64_t now, const uint8_t *msg, size_t len,
    const char *client, struct dir_upload *out, struct err *e)
{
	struct pgp_limits lim = dir_limits(d);
	const uint8_t **secs;
	size_t *lens;
	struct pgp_keyring keys;
	struct submission s;
	struct pgp_signer who;
	struct pgp_cert c;
	struct dir_upload_opts o;
	struct buf text, again, pub;
	char auth[256], nonce[8 + 2 * crypto_hash_sha256_BYTES + 1];
	char (*want)[EMAIL_MAX + 1] = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	memset(&s, 0, sizeof(s));
	if (d->server_key == NULL)
		return err_set(e, ERR_UNAVAIL, "no server key");
	/* the current key, and those replaced within server_key_grace */
	secs = xcalloc(1 + d->nold, sizeof(*secs));
	lens = xcalloc(1 + d->nold, sizeof(*lens));
	keys.sec = secs;
	keys.len = lens;
	keys.n = dir_server_keyring(d, now, secs, lens);
	buf_init(&text, 64u << 10);
	buf_init(&again, 64u << 10);
	buf_init(&pub, KEY_MAX);
	/* 1. encrypted to us, integrity-protected, signed: read the text */
	if (pgp_decrypt_signed(&keys, msg, len, &text, e) == -1 ||
	    submission_parse(text.data, text.len, &s, e) == -1)
		goto out;
	/* 2. for this directory */
	if (removal_authority(d->cfg.base_url, auth, sizeof(auth)) == -1) {
		err_set(e, ERR_INTERNAL, "bad base_url");
		goto out;
	}
	if (strcmp(s.server, auth) != 0) {
		err_set(e, ERR_INVALID, "wrong server: the submission names "
		    "%.100s, this is %s", s.server, auth);
		goto out;
	}
	/* 3. one key, as an upload of it would be read */
	if ((rc = pgp_parse_publish((const uint8_t *)s.key, s.key_len, &lim,
	    NULL, 0, &c, &pub, e)) != 0) {
		if (rc == 1)
			err_set(e, ERR_INVALID, "one key per submission");
		rc = -1;
		goto out;
	}
	rc = -1;
	/* 4. signed by that key's primary or a live signing subkey */
	if (pgp_verify_encrypted(&keys, msg, len, c.full, c.full_len, &again,
	    &who, e) == -1)
		goto out;
	if (again.len != text.len || memcmp(again.data, text.data, text.len)) {
		err_set(e, ERR_INTERNAL, "the submission read twice differs");
		goto out;
	}
	/* 5. recently */
	if (who.created < now - SUBMIT_WINDOW ||
	    who.created > now + SUBMIT_WINDOW) {
		err_set(e, ERR_INVALID, "the signature was made %s: a "
		    "submission must be signed within %d minutes of sending it",
		    who.created < now ? "too long ago" : "in the future",
		    SUBMIT_WINDOW / 60);
		goto out;
	}
	if (submit_addrs(&s, &c, &want, e) == -1)
		goto out;
	/* 6. once; then as an upload that asks for these confirmations */
	submit_nonce(&text, who.created, c.fpr, nonce);
	memset(&o, 0, sizeof(o));
	o.client = client;
	o.request_all = true;
	o.want = s.naddrs > 0 ? (const char (*)[EMAIL_MAX + 1])want : NULL;
	o.nwant = s.naddrs;
	o.signed_by_key = true;
	o.nonce = nonce;
	o.nonce_until = now + 3 * SUBMIT_WINDOW;
	o.recovery = s.recovery;
	o.recovery_len = s.recovery_len;
	rc = dir_upload_with(d, now, (const uint8_t *)s.key, s.key_len, &o,
	    out, e);
	if (rc == 0)
		log_info("signed submission of %s by its %s key", out->fpr,
		    who.primary ? "primary" : "signing sub");
out:
	free(secs);
	free(lens);
	free(want);
	pgp_cert_release(&c);
	submission_release(&s);
	buf_release(&text);
	buf_release(&again);
	buf_release(&pub);
	return rc;
}
