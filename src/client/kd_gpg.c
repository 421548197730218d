/*
 * kd_gpg: the user's keyring through GPGME: finding, exporting and
 * importing keys, and signing with them through gpg-agent (pinentry asks
 * for a passphrase; a smartcard key works as any other).
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gpgme.h>

#include "client.h"
#include "str.h"
#include "xmalloc.h"

static gpgme_ctx_t
ctx_new(bool armor, struct err *e)
{
	gpgme_ctx_t c = NULL;

	if (gpgme_new(&c) != 0) {
		err_set(e, ERR_INTERNAL, "GPGME failed to start");
		return NULL;
	}
	gpgme_set_protocol(c, GPGME_PROTOCOL_OpenPGP);
	gpgme_set_armor(c, armor);
	return c;
}

int
kd_gpg_init(struct err *e)
{
	setlocale(LC_ALL, "");
	if (gpgme_check_version(NULL) == NULL)
		return err_set(e, ERR_INTERNAL, "GPGME is too old");
	gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
	if (gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != 0)
		return err_set(e, ERR_INTERNAL, "GnuPG is not installed");
	return 0;
}

/* Copy a GPGME data object into out. */
static int
data_take(gpgme_data_t d, struct buf *out, struct err *e)
{
	size_t n = 0;
	char *p = gpgme_data_release_and_get_mem(d, &n);
	int rc = 0;

	if (p == NULL || buf_add(out, p, n) == -1)
		rc = err_set(e, ERR_TOOBIG, "GnuPG's answer is too large");
	gpgme_free(p);
	return rc;
}

int
kd_gpg_find(const char *key, bool secret, char fpr[FPR_LEN + 1],
    struct err *e)
{
	gpgme_ctx_t c;
	gpgme_key_t k, first = NULL;
	int n = 0;

	if ((c = ctx_new(false, e)) == NULL)
		return -1;
	if (gpgme_op_keylist_start(c, key, secret) != 0) {
		gpgme_release(c);
		return err_set(e, ERR_INTERNAL, "cannot list the keyring");
	}
	while (gpgme_op_keylist_next(c, &k) == 0) {
		if (k->revoked || k->expired || k->disabled || k->invalid) {
			gpgme_key_unref(k);
			continue;
		}
		if (n++ == 0)
			first = k;
		else
			gpgme_key_unref(k);
	}
	gpgme_release(c);
	if (n == 0)
		return err_set(e, ERR_NOTFOUND, "no %skey for '%s' in your "
		    "keyring", secret ? "secret " : "", key);
	if (n > 1) {
		gpgme_key_unref(first);
		return err_set(e, ERR_INVALID, "'%s' names %d keys: give the "
		    "fingerprint", key, n);
	}
	str_lcpy(fpr, first->fpr, FPR_LEN + 1);
	str_upper(fpr);
	gpgme_key_unref(first);
	return 0;
}

bool
kd_gpg_has(const char *fpr)
{
	gpgme_ctx_t c;
	gpgme_key_t k = NULL;
	struct err e;
	bool has;

	if ((c = ctx_new(false, &e)) == NULL)
		return false;
	has = gpgme_get_key(c, fpr, &k, 0) == 0 && k != NULL;
	gpgme_key_unref(k);
	gpgme_release(c);
	return has;
}

int
kd_gpg_export(const char *fpr, struct buf *out, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_data_t d;

	if ((c = ctx_new(true, e)) == NULL)
		return -1;
	if (gpgme_data_new(&d) != 0 ||
	    gpgme_op_export(c, fpr, 0, d) != 0) {
		gpgme_release(c);
		return err_set(e, ERR_INTERNAL, "cannot export %s", fpr);
	}
	gpgme_release(c);
	return data_take(d, out, e);
}

int
kd_gpg_export_secret(const char *fpr, struct buf *out, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_data_t d;
	gpgme_error_t ge;

	if ((c = ctx_new(false, e)) == NULL)
		return -1;
	if (gpgme_data_new(&d) != 0)
		return err_set(e, ERR_INTERNAL, "out of memory");
	ge = gpgme_op_export(c, fpr, GPGME_EXPORT_MODE_SECRET, d);
	gpgme_release(c);
	if (ge != 0) {
		gpgme_data_release(d);
		return err_set(e, ERR_INTERNAL, "GnuPG did not export the "
		    "secret key: %s", gpgme_strerror(ge));
	}
	if (data_take(d, out, e) == -1)
		return -1;
	if (out->len == 0)
		return err_set(e, ERR_NOTFOUND, "GnuPG exported no secret key "
		    "for %s", fpr);
	return 0;
}

int
kd_gpg_import(const void *data, size_t len, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_data_t d;
	gpgme_import_result_t r;
	int rc = 0;

	if ((c = ctx_new(false, e)) == NULL)
		return -1;
	if (gpgme_data_new_from_mem(&d, data, len, 1) != 0) {
		gpgme_release(c);
		return err_set(e, ERR_INTERNAL, "out of memory");
	}
	if (gpgme_op_import(c, d) != 0 || (r = gpgme_op_import_result(c)) ==
	    NULL || r->considered == 0 || r->not_imported > 0)
		rc = err_set(e, ERR_INVALID, "GnuPG did not import the key");
	gpgme_data_release(d);
	gpgme_release(c);
	return rc;
}

/* A context signing with signer's key. */
static gpgme_ctx_t
signer_ctx(const char *signer, bool armor, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_key_t k = NULL;

	if ((c = ctx_new(armor, e)) == NULL)
		return NULL;
	if (gpgme_get_key(c, signer, &k, 1) != 0 || k == NULL ||
	    gpgme_signers_add(c, k) != 0) {
		gpgme_key_unref(k);
		gpgme_release(c);
		err_set(e, ERR_NOTFOUND, "no secret key %s to sign with", signer);
		return NULL;
	}
	gpgme_key_unref(k);
	return c;
}

int
kd_gpg_sign_encrypt(const char *signer, const char *rcpt, const char *text,
    size_t len, struct buf *out, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_key_t to[2] = { NULL, NULL };
	gpgme_data_t in = NULL, o = NULL;
	gpgme_error_t ge;

	if ((c = signer_ctx(signer, false, e)) == NULL)
		return -1;
	if (gpgme_get_key(c, rcpt, &to[0], 0) != 0 || to[0] == NULL) {
		gpgme_release(c);
		return err_set(e, ERR_NOTFOUND, "the server key %s is not in "
		    "your keyring", rcpt);
	}
	if (gpgme_data_new_from_mem(&in, text, len, 0) != 0 ||
	    gpgme_data_new(&o) != 0)
		ge = GPG_ERR_ENOMEM;
	else
		ge = gpgme_op_encrypt_sign(c, to, GPGME_ENCRYPT_ALWAYS_TRUST,
		    in, o);
	gpgme_data_release(in);
	gpgme_key_unref(to[0]);
	gpgme_release(c);
	if (ge != 0) {
		gpgme_data_release(o);
		return err_set(e, ERR_INTERNAL, "GnuPG could not sign and "
		    "encrypt: %s", gpgme_strerror(ge));
	}
	return data_take(o, out, e);
}

int
kd_gpg_clearsign(const char *signer, const char *text, size_t len,
    struct buf *out, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_data_t in = NULL, o = NULL;
	gpgme_error_t ge;
	char prim[FPR_LEN + 2];

	/* the primary key itself: "FPR!" */
	snprintf(prim, sizeof(prim), "%s!", signer);
	if ((c = signer_ctx(prim, true, e)) == NULL)
		return -1;
	if (gpgme_data_new_from_mem(&in, text, len, 0) != 0 ||
	    gpgme_data_new(&o) != 0)
		ge = GPG_ERR_ENOMEM;
	else
		ge = gpgme_op_sign(c, in, o, GPGME_SIG_MODE_CLEAR);
	gpgme_data_release(in);
	gpgme_release(c);
	if (ge != 0) {
		gpgme_data_release(o);
		return err_set(e, ERR_INTERNAL, "GnuPG could not sign: %s",
		    gpgme_strerror(ge));
	}
	return data_take(o, out, e);
}

int
kd_gpg_addresses(const char *fpr, char ***addrs, size_t *n, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_key_t k = NULL;
	gpgme_user_id_t u;

	*addrs = NULL;
	*n = 0;
	if ((c = ctx_new(false, e)) == NULL)
		return -1;
	if (gpgme_get_key(c, fpr, &k, 0) != 0 || k == NULL) {
		gpgme_release(c);
		return err_set(e, ERR_NOTFOUND, "no key %s", fpr);
	}
	for (u = k->uids; u != NULL; u = u->next) {
		if (u->revoked || u->invalid || u->email == NULL ||
		    *u->email == '\0')
			continue;
		*addrs = xrealloc(*addrs, (*n + 1) * sizeof(**addrs));
		(*addrs)[(*n)++] = xstrdup(u->email);
	}
	gpgme_key_unref(k);
	gpgme_release(c);
	return 0;
}

void
kd_strv_free(char **v, size_t n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

bool
kd_gpg_signed_by(const char *text, const char *sig, size_t siglen,
    const char *fpr)
{
	gpgme_ctx_t c;
	gpgme_data_t s = NULL, t = NULL;
	gpgme_verify_result_t r;
	gpgme_signature_t g;
	gpgme_key_t k = NULL;
	struct err e;
	bool good = false;
	gpgme_subkey_t sk;

	if ((c = ctx_new(false, &e)) == NULL)
		return false;
	if (gpgme_data_new_from_mem(&s, sig, siglen, 0) == 0 &&
	    gpgme_data_new_from_mem(&t, text, strlen(text), 0) == 0 &&
	    gpgme_op_verify(c, s, t, NULL) == 0 &&
	    (r = gpgme_op_verify_result(c)) != NULL)
		for (g = r->signatures; g != NULL && !good; g = g->next) {
			if (g->status != GPG_ERR_NO_ERROR || g->fpr == NULL ||
			    gpgme_get_key(c, g->fpr, &k, 0) != 0)
				continue;
			/* the signing (sub)key belongs to the pinned key */
			for (sk = k->subkeys; sk != NULL && !good;
			    sk = sk->next)
				good = !strcasecmp(k->fpr, fpr) &&
				    !strcasecmp(sk->fpr, g->fpr);
			gpgme_key_unref(k);
			k = NULL;
		}
	gpgme_data_release(s);
	gpgme_data_release(t);
	gpgme_release(c);
	return good;
}

int
kd_gpg_shape(const char *fpr, char *uid, size_t sz, size_t *nuids,
    size_t *nsubs)
{
	gpgme_ctx_t c;
	gpgme_key_t k = NULL;
	gpgme_user_id_t u;
	gpgme_subkey_t s;
	struct err e;

	uid[0] = '\0';
	*nuids = *nsubs = 0;
	if ((c = ctx_new(false, &e)) == NULL)
		return -1;
	if (gpgme_get_key(c, fpr, &k, 0) != 0 || k == NULL) {
		gpgme_release(c);
		return -1;
	}
	for (u = k->uids; u != NULL; u = u->next) {
		if (uid[0] == '\0' && u->uid != NULL)
			str_lcpy(uid, u->uid, sz);
		(*nuids)++;
	}
	/* GPGME lists the primary key first among the subkeys */
	for (s = k->subkeys ? k->subkeys->next : NULL; s != NULL; s = s->next)
		(*nsubs)++;
	gpgme_key_unref(k);
	gpgme_release(c);
	return 0;
}

int
kd_gpg_passwd(const char *fpr, struct err *e)
{
	gpgme_ctx_t c;
	gpgme_key_t k = NULL;
	gpgme_error_t ge;

	if ((c = ctx_new(false, e)) == NULL)
		return -1;
	if (gpgme_get_key(c, fpr, &k, 1) != 0 || k == NULL) {
		gpgme_release(c);
		return err_set(e, ERR_NOTFOUND, "no secret key %s", fpr);
	}
	ge = gpgme_op_passwd(c, k, 0);
	gpgme_key_unref(k);
	gpgme_release(c);
	if (ge != 0)
		return err_set(e, ERR_INTERNAL, "the passphrase was not "
		    "changed: %s", gpgme_strerror(ge));
	return 0;
}
