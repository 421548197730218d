/*
 * pgp_strip: what of a cert keydird keeps.  User IDs need a valid
 * self-signature and no control characters; subkeys a valid binding by
 * the primary; third-party and invalid signatures go; when publishing for
 * a list of addresses, only their live user IDs stay; of a revoked key
 * removed, only its revocation.  Used by pgp.c, in its ffi.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "email.h"
#include "pgp_strip.h"
#include "str.h"

/*
 * Whether sig (destroyed here) is a valid signature of a type starting
 * with kind, made by keyid; *t gets the later of *t and its creation.
 * One that rnp calls expired counts: made after "now" by a client with a
 * fast clock, or past its own expiry, is for clients to judge.  But
 * rnp_signature_is_valid says "expired" before it looks at whether the
 * signature verifies, so a forged one dated in the future is "expired"
 * too: only call this once pgp_strip has removed the signatures that do
 * not verify.
 */
static bool
sig_by(rnp_signature_handle_t sig, const char *keyid, const char *kind,
    int64_t *t)
{
	char *sk = NULL, *type = NULL;
	rnp_result_t r;
	uint32_t ct;
	bool ok;

	ok = rnp_signature_get_keyid(sig, &sk) == RNP_SUCCESS && sk &&
	    strcasecmp(sk, keyid) == 0 &&
	    rnp_signature_get_type(sig, &type) == RNP_SUCCESS &&
	    strncmp(type, kind, strlen(kind)) == 0 &&
	    ((r = rnp_signature_is_valid(sig, 0)) == RNP_SUCCESS ||
	    r == RNP_ERROR_SIGNATURE_EXPIRED);
	if (ok && rnp_signature_get_creation(sig, &ct) == 0 && ct > *t)
		*t = ct;
	rnp_buffer_destroy(type);
	rnp_buffer_destroy(sk);
	rnp_signature_handle_destroy(sig);
	return ok;
}

/*
 * Whether uid has a valid certification by the primary keyid; *newest
 * gets the creation time of the newest one.  A revoked user ID keeps its
 * (still valid) certification, so it passes.
 */
bool
pgp_uid_selfsig(rnp_uid_handle_t uid, const char *keyid, int64_t *newest)
{
	rnp_signature_handle_t sig;
	size_t i, n = 0;
	bool ok = false;

	*newest = 0;
	rnp_uid_get_signature_count(uid, &n);
	for (i = 0; i < n; i++)
		if (rnp_uid_get_signature_at(uid, i, &sig) == RNP_SUCCESS &&
		    sig_by(sig, keyid, "certification (", newest))
			ok = true;
	return ok;
}

/*
 * Whether sig's key flags allow signing (0x02), read as librnp reads them:
 * the first hashed key-flags subpacket, for that is the one that makes
 * librnp check a back-signature.  A later one with the sign flag does
 * not count.
 */
static bool
sig_flags_sign(rnp_signature_handle_t sig)
{
	json_t *root, *sp, *v;
	char *js = NULL;
	size_t i;
	bool sign = false;

	if (rnp_signature_packet_to_json(sig, 0, &js) != RNP_SUCCESS)
		return false;
	root = json_loads(js, 0, NULL);
	rnp_buffer_destroy(js);
	sp = json_object_get(json_array_get(root, 0), "subpackets");
	for (i = 0; i < json_array_size(sp); i++) {
		v = json_array_get(sp, i);
		if (json_integer_value(json_object_get(v, "type")) == 27 &&
		    json_is_true(json_object_get(v, "hashed"))) {
			sign = (json_integer_value(json_object_get(v,
			    "flags")) & 0x02) != 0;
			break;
		}
	}
	json_decref(root);
	return sign;
}

/*
 * Whether sub has a valid binding by the primary keyid whose hashed key
 * flags allow signing.  librnp accepts such a binding only with a valid
 * embedded back-signature made by the subkey itself, so only then has
 * the holder of the subkey agreed to be part of this cert.  Bindings
 * without the sign flag carry no back-signature librnp checks.
 */
bool
pgp_sub_backsig(rnp_key_handle_t sub, const char *keyid)
{
	rnp_signature_handle_t sig;
	size_t j, ns = 0;
	int64_t t = 0;
	bool ok = false;

	rnp_key_get_signature_count(sub, &ns);
	for (j = 0; j < ns && !ok; j++) {
		if (rnp_key_get_signature_at(sub, j, &sig) != RNP_SUCCESS)
			continue;
		if (sig_flags_sign(sig))
			ok = sig_by(sig, keyid, "subkey binding", &t);
		else
			rnp_signature_handle_destroy(sig);
	}
	return ok;
}

/*
 * Drop the subkeys that have no valid binding by the primary keyid: a
 * subkey copied from someone else's cert must not make this one show up
 * in lookups by that subkey.
 */
static int
strip_subkeys(rnp_key_handle_t key, const char *keyid)
{
	rnp_key_handle_t sub;
	rnp_signature_handle_t sig;
	size_t i, j, n = 0, ns;
	int64_t t = 0;
	char *fpr = NULL;
	bool bound;

	rnp_key_get_subkey_count(key, &n);
	for (i = n; i-- > 0;) {
		sub = NULL;
		if (rnp_key_get_subkey_at(key, i, &sub) != RNP_SUCCESS)
			return -1;
		ns = 0;
		rnp_key_get_signature_count(sub, &ns);
		for (bound = false, j = 0; j < ns && !bound; j++)
			bound = rnp_key_get_signature_at(sub, j, &sig) == 0 &&
			    sig_by(sig, keyid, "subkey binding", &t);
		/* a v3 subkey (a fingerprint of 32 digits) an older
		 * keydird stored: its id is anyone's to choose */
		if (bound && rnp_key_get_fprint(sub, &fpr) == RNP_SUCCESS) {
			bound = fpr != NULL && strlen(fpr) == 40;
			rnp_buffer_destroy(fpr);
			fpr = NULL;
		}
		if (!bound && rnp_key_remove(sub, RNP_KEY_REMOVE_PUBLIC) != 0) {
			rnp_key_handle_destroy(sub);
			return -1;
		}
		rnp_key_handle_destroy(sub);
	}
	return 0;
}

/*
 * Whether the user ID's raw bytes are the text rnp hands out as a C string
 * and hold no control character: pgp_parse refuses such user IDs, this
 * keeps any stored before that rule from being served.
 */
static bool
uid_clean(rnp_uid_handle_t uid, const char *text)
{
	void *data = NULL;
	size_t n = 0;
	bool ok;

	if (rnp_uid_get_data(uid, &data, &n) != RNP_SUCCESS)
		return false;
	ok = n == strlen(text) && !str_has_ctl(data, n);
	rnp_buffer_destroy(data);
	return ok;
}

/* Whether the user ID's address is one of emails (NULL: keep all). */
static bool
uid_wanted(const char *text, const char *const *emails, size_t nemails)
{
	char got[EMAIL_MAX + 1], want[EMAIL_MAX + 1];
	size_t i;

	if (emails == NULL)
		return true;
	if (email_from_uid(text, got, sizeof(got)) == -1)
		return false;
	for (i = 0; i < nemails; i++) {
		if (email_normalize(emails[i], want, sizeof(want), NULL) == -1)
			str_lcpy(want, emails[i], sizeof(want));
		if (strcmp(got, want) == 0)
			return true;
	}
	return false;
}

/*
 * Strip key in place: drop user attributes, user IDs without a valid
 * self-signature and, when emails is set, user IDs that are revoked or
 * not listed; then every third-party or invalid signature.
 */
int
pgp_strip(rnp_key_handle_t key, const char *keyid,
    const char *const *emails, size_t nemails)
{
	rnp_uid_handle_t uid;
	uint32_t type;
	size_t i, n = 0;
	char *text;
	int64_t t;
	bool keep, rev;

	/* first what does not verify, so that "expired" in sig_by means a
	 * good signature (of the key, its user IDs and its subkeys) */
	if (rnp_key_remove_signatures(key, RNP_KEY_SIGNATURE_INVALID, NULL,
	    NULL) != RNP_SUCCESS)
		return -1;
	if (rnp_key_get_uid_count(key, &n) != RNP_SUCCESS)
		return -1;
	for (i = n; i-- > 0;) {	/* removal shifts later indices */
		uid = NULL;
		text = NULL;
		if (rnp_key_get_uid_handle_at(key, i, &uid) != RNP_SUCCESS)
			return -1;
		keep = rnp_uid_get_type(uid, &type) == 0 &&
		    type == RNP_USER_ID &&
		    rnp_key_get_uid_at(key, i, &text) == 0 &&
		    uid_clean(uid, text) && pgp_uid_selfsig(uid, keyid, &t);
		if (keep && emails != NULL)
			keep = rnp_uid_is_revoked(uid, &rev) == 0 && !rev &&
			    uid_wanted(text, emails, nemails);
		rnp_buffer_destroy(text);
		if (!keep && rnp_uid_remove(key, uid) != RNP_SUCCESS) {
			rnp_uid_handle_destroy(uid);
			return -1;
		}
		rnp_uid_handle_destroy(uid);
	}
	if (strip_subkeys(key, keyid) == -1)
		return -1;
	if (rnp_key_remove_signatures(key, RNP_KEY_SIGNATURE_NON_SELF_SIG |
	    RNP_KEY_SIGNATURE_INVALID, NULL, NULL) != RNP_SUCCESS)
		return -1;
	return 0;
}

/* Keep only key revocations on the primary: rnp_key_signatures_cb. */
static void
keep_revocations(rnp_ffi_t ffi, void *ctx, rnp_signature_handle_t sig,
    uint32_t *action)
{
	char *type = NULL;

	(void)ffi;
	(void)ctx;
	if (rnp_signature_get_type(sig, &type) != RNP_SUCCESS || type == NULL ||
	    strcmp(type, "key revocation") != 0)
		*action = RNP_KEY_SIGNATURE_REMOVE;
	rnp_buffer_destroy(type);
}

/*
 * Strip key to its tombstone: remove every user ID and subkey, and every
 * signature on the primary key but its revocations.
 */
int
pgp_strip_tombstone(rnp_key_handle_t key)
{
	rnp_uid_handle_t uid;
	rnp_key_handle_t sub;
	size_t n = 0;

	rnp_key_get_uid_count(key, &n);
	while (n-- > 0) {
		uid = NULL;
		if (rnp_key_get_uid_handle_at(key, n, &uid) != RNP_SUCCESS ||
		    rnp_uid_remove(key, uid) != RNP_SUCCESS) {
			rnp_uid_handle_destroy(uid);
			return -1;
		}
		rnp_uid_handle_destroy(uid);
	}
	n = 0;
	rnp_key_get_subkey_count(key, &n);
	while (n-- > 0) {
		sub = NULL;
		if (rnp_key_get_subkey_at(key, n, &sub) != RNP_SUCCESS ||
		    rnp_key_remove(sub, RNP_KEY_REMOVE_PUBLIC) != RNP_SUCCESS) {
			rnp_key_handle_destroy(sub);
			return -1;
		}
		rnp_key_handle_destroy(sub);
	}
	return rnp_key_remove_signatures(key, 0, keep_revocations, NULL) ==
	    RNP_SUCCESS ? 0 : -1;
}

/* Whether key is a tombstone: revoked, no user ID, no subkey. */
bool
pgp_is_tombstone(rnp_key_handle_t key)
{
	size_t nu = 1, ns = 1;
	bool rev = false;

	return rnp_key_is_revoked(key, &rev) == RNP_SUCCESS && rev &&
	    rnp_key_get_uid_count(key, &nu) == RNP_SUCCESS && nu == 0 &&
	    rnp_key_get_subkey_count(key, &ns) == RNP_SUCCESS && ns == 0;
}
