/*
 * pgp_serverkey: the directory's own key.  Clients encrypt submissions to
 * it and pin it; it is made once with librnp (Ed25519 primary for
 * certifying and signing, X25519 subkey for encryption: the v4 form that
 * GnuPG 2.2 reads) with an explicit expiry, as librnp's default is two
 * years.  The secret form is the caller's to keep (mode 0600).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <sodium.h>

#include "pgp.h"
#include "str.h"
#include "xmalloc.h"

/* Export key and its subkeys (secret with flags) into a fresh buffer. */
static int
sk_export(rnp_key_handle_t key, uint32_t flags, uint8_t **p, size_t *len)
{
	rnp_output_t out = NULL;
	uint8_t *ob;
	size_t olen;
	int rc = -1;

	if (rnp_output_to_memory(&out, KEY_MAX) != RNP_SUCCESS)
		return -1;
	if (rnp_key_export(key, out, flags | RNP_KEY_EXPORT_SUBKEYS) ==
	    RNP_SUCCESS && rnp_output_memory_get_buf(out, &ob, &olen, false) ==
	    RNP_SUCCESS && olen > 0) {
		*p = xmalloc(olen + 1);
		memcpy(*p, ob, olen);
		(*p)[olen] = '\0';
		*len = olen;
		rc = 0;
	}
	rnp_output_destroy(out);
	return rc;
}

/* The one primary key of ffi; NULL when there is not exactly one. */
static rnp_key_handle_t
sk_primary(rnp_ffi_t ffi)
{
	rnp_identifier_iterator_t it = NULL;
	rnp_key_handle_t k = NULL, found = NULL;
	const char *fp;
	bool sub;
	int n = 0;

	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint") !=
	    RNP_SUCCESS)
		return NULL;
	while (rnp_identifier_iterator_next(it, &fp) == RNP_SUCCESS &&
	    fp != NULL) {
		if (rnp_locate_key(ffi, "fingerprint", fp, &k) != RNP_SUCCESS ||
		    k == NULL)
			continue;
		if (rnp_key_is_sub(k, &sub) == RNP_SUCCESS && !sub && n++ == 0)
			found = k;
		else
			rnp_key_handle_destroy(k);
		k = NULL;
	}
	rnp_identifier_iterator_destroy(it);
	if (n != 1) {
		rnp_key_handle_destroy(found);
		return NULL;
	}
	return found;
}

/* Fill k from the secret key in ffi: fingerprint, times, public form. */
static int
sk_fill(rnp_ffi_t ffi, struct pgp_serverkey *k, struct err *e)
{
	rnp_key_handle_t key;
	uint32_t created = 0, expiry = 0;
	bool secret = false;
	char *fp = NULL;
	uint8_t *pub = NULL;
	int rc = -1;

	if ((key = sk_primary(ffi)) == NULL)
		return err_set(e, ERR_INTERNAL, "server key: not one key");
	if (rnp_key_have_secret(key, &secret) != RNP_SUCCESS || !secret ||
	    rnp_key_get_fprint(key, &fp) != RNP_SUCCESS ||
	    rnp_key_get_creation(key, &created) != RNP_SUCCESS ||
	    rnp_key_get_expiration(key, &expiry) != RNP_SUCCESS) {
		err_set(e, ERR_INTERNAL, "server key: not a secret key");
		goto out;
	}
	if (sk_export(key, RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_ARMORED,
	    &pub, &k->public_len) == -1) {
		err_set(e, ERR_INTERNAL, "server key: cannot export it");
		goto out;
	}
	str_lcpy(k->fpr, fp, sizeof(k->fpr));
	k->created = created;
	k->expires = expiry ? (int64_t)created + expiry : 0;
	k->public = (char *)pub;
	rc = 0;
out:
	rnp_buffer_destroy(fp);
	rnp_key_handle_destroy(key);
	return rc;
}

/* Make a new server key for uid, expiring ttl seconds after now. */
int
pgp_serverkey_make(const char *uid, int64_t ttl, struct pgp_serverkey *k,
    struct err *e)
{
	rnp_ffi_t ffi = NULL;
	rnp_key_handle_t key = NULL;
	char json[600], *res = NULL;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (strpbrk(uid, "\"\\") != NULL || ttl <= 0 || ttl > UINT32_MAX)
		return err_set(e, ERR_INVALID, "server key: bad user ID or "
		    "lifetime");
	/* the subkey expires with the primary: GnuPG shows both */
	if ((size_t)snprintf(json, sizeof(json), "{\"primary\": {\"type\": "
	    "\"EDDSA\", \"userid\": \"%s\", \"expiration\": %lld, \"usage\": "
	    "[\"sign\", \"certify\"]}, \"sub\": {\"type\": \"ECDH\", "
	    "\"curve\": \"Curve25519\", \"expiration\": %lld, \"usage\": "
	    "[\"encrypt\"]}}", uid, (long long)ttl, (long long)ttl) >=
	    sizeof(json))
		return err_set(e, ERR_INVALID, "server key: user ID too long");
	if (rnp_ffi_create(&ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) !=
	    RNP_SUCCESS)
		return err_set(e, ERR_INTERNAL, "rnp ffi creation failed");
	if (rnp_generate_key_json(ffi, json, &res) != RNP_SUCCESS ||
	    (key = sk_primary(ffi)) == NULL) {
		err_set(e, ERR_INTERNAL, "server key: librnp could not make "
		    "it");
		goto out;
	}
	if (sk_export(key, RNP_KEY_EXPORT_SECRET, &k->secret,
	    &k->secret_len) == -1) {
		err_set(e, ERR_INTERNAL, "server key: cannot export it");
		goto out;
	}
	rc = sk_fill(ffi, k, e);
out:
	rnp_buffer_destroy(res);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	if (rc == -1)
		pgp_serverkey_release(k);
	return rc;
}

/* Read a server key kept by pgp_serverkey_make. */
int
pgp_serverkey_load(const uint8_t *sec, size_t len, struct pgp_serverkey *k,
    struct err *e)
{
	rnp_ffi_t ffi = NULL;
	rnp_input_t in = NULL;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (rnp_ffi_create(&ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) !=
	    RNP_SUCCESS)
		return err_set(e, ERR_INTERNAL, "rnp ffi creation failed");
	if (rnp_input_from_memory(&in, sec, len, false) != RNP_SUCCESS ||
	    rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS |
	    RNP_LOAD_SAVE_SECRET_KEYS, NULL) != RNP_SUCCESS) {
		err_set(e, ERR_INVALID, "server key: not an OpenPGP secret "
		    "key");
		goto out;
	}
	if (sk_fill(ffi, k, e) == -1)
		goto out;
	k->secret = xmalloc(len);
	memcpy(k->secret, sec, len);
	k->secret_len = len;
	rc = 0;
out:
	rnp_input_destroy(in);
	rnp_ffi_destroy(ffi);
	if (rc == -1)
		pgp_serverkey_release(k);
	return rc;
}

void
pgp_serverkey_release(struct pgp_serverkey *k)
{
	if (k->secret != NULL)
		sodium_memzero(k->secret, k->secret_len);
	free(k->secret);
	free(k->public);
	memset(k, 0, sizeof(*k));
}

/* A detached, armored signature by the key in sec over text. */
int
pgp_serverkey_sign(const uint8_t *sec, size_t len, const char *text,
    struct buf *sig, struct err *e)
{
	rnp_ffi_t ffi = NULL;
	rnp_input_t in = NULL, data = NULL;
	rnp_output_t out = NULL;
	rnp_op_sign_t op = NULL;
	rnp_key_handle_t key = NULL;
	uint8_t *p;
	size_t n;
	int rc = -1;

	if (rnp_ffi_create(&ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) !=
	    RNP_SUCCESS)
		return err_set(e, ERR_INTERNAL, "rnp ffi creation failed");
	if (rnp_input_from_memory(&in, sec, len, false) != RNP_SUCCESS ||
	    rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS |
	    RNP_LOAD_SAVE_SECRET_KEYS, NULL) != RNP_SUCCESS ||
	    (key = sk_primary(ffi)) == NULL ||
	    rnp_input_from_memory(&data, (const uint8_t *)text, strlen(text),
	    false) != RNP_SUCCESS ||
	    rnp_output_to_memory(&out, 64 * 1024) != RNP_SUCCESS ||
	    rnp_op_sign_detached_create(&op, ffi, data, out) != RNP_SUCCESS ||
	    rnp_op_sign_add_signature(op, key, NULL) != RNP_SUCCESS ||
	    rnp_op_sign_set_armor(op, true) != RNP_SUCCESS ||
	    rnp_op_sign_execute(op) != RNP_SUCCESS ||
	    rnp_output_memory_get_buf(out, &p, &n, false) != RNP_SUCCESS) {
		err_set(e, ERR_INTERNAL, "server key: cannot sign");
		goto out;
	}
	rc = buf_add(sig, p, n) == 0 ? 0 : err_set(e, ERR_TOOBIG,
	    "signature too large");
out:
	rnp_op_sign_destroy(op);
	rnp_output_destroy(out);
	rnp_input_destroy(data);
	rnp_input_destroy(in);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	return rc;
}
