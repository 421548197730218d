/*
 * pgp: OpenPGP certs on librnp.  Uploads are de-armored and their packets
 * counted here before librnp sees them; every call then works in a fresh
 * rnp ffi that it destroys before returning.  librnp writes its parser
 * complaints to stderr and that cannot be turned off (librnp.md).
 */
#define _GNU_SOURCE	/* memmem */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp.h"
#include "pgp_pkt.h"
#include "pgp_strip.h"
#include "str.h"
#include "xmalloc.h"

/* Import binary packets into ffi, refusing secret key material. */
static int
import_bin(rnp_ffi_t ffi, const uint8_t *p, size_t len, struct err *e)
{
	rnp_input_t in = NULL;
	rnp_result_t r;
	size_t nsec = 0;

	if (rnp_input_from_memory(&in, p, len, false) != RNP_SUCCESS)
		return err_set(e, ERR_INTERNAL, "rnp input failed");
	r = rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS |
	    RNP_LOAD_SAVE_SECRET_KEYS, NULL);
	rnp_input_destroy(in);
	if (r != RNP_SUCCESS)
		return err_set(e, ERR_INVALID, E_PARSE);
	if (rnp_get_secret_key_count(ffi, &nsec) != RNP_SUCCESS || nsec > 0)
		return err_set(e, ERR_INVALID, E_SECRET);
	return 0;
}

/* Fingerprints of the primaries in ffi, in keyring order; caller frees. */
static char **
primaries(rnp_ffi_t ffi, size_t max, size_t *n)
{
	rnp_identifier_iterator_t it = NULL;
	rnp_key_handle_t k;
	const char *id;
	char **v = xcalloc(max ? max : 1, sizeof(*v));
	bool prim;

	*n = 0;
	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint") != 0)
		return v;
	while (*n < max && rnp_identifier_iterator_next(it, &id) == 0 && id) {
		k = NULL;
		prim = false;
		if (rnp_locate_key(ffi, "fingerprint", id, &k) == 0 && k &&
		    rnp_key_is_primary(k, &prim) == 0 && prim)
			v[(*n)++] = xstrdup(id);
		rnp_key_handle_destroy(k);
	}
	rnp_identifier_iterator_destroy(it);
	return v;
}

/* Free a primaries() vector. */
static void
strv_free(char **v, size_t n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

/* Export key with its subkeys into a capped memory output. */
static int
key_export_mem(rnp_key_handle_t key, bool armored, uint8_t **p, size_t *len)
{
	rnp_output_t out = NULL;
	uint8_t *ob;
	size_t olen;
	int rc = -1;

	if (rnp_output_to_memory(&out, KEY_MAX) != RNP_SUCCESS)
		return -1;
	if (rnp_key_export(key, out, RNP_KEY_EXPORT_PUBLIC |
	    RNP_KEY_EXPORT_SUBKEYS | (armored ? RNP_KEY_EXPORT_ARMORED : 0)) ==
	    RNP_SUCCESS &&
	    rnp_output_memory_get_buf(out, &ob, &olen, false) == RNP_SUCCESS) {
		*p = xmemdup(ob, olen);
		*len = olen;
		rc = 0;
	}
	rnp_output_destroy(out);
	return rc;
}

/* Copy an rnp hex string into dst (sz bytes), upper-cased; frees s. */
static void
take_hex(char *s, char *dst, size_t sz)
{
	str_lcpy(dst, s ? s : "", sz);
	str_upper(dst);
	rnp_buffer_destroy(s);
}

/* Fingerprint and key ID of k, upper-case. */
static void
key_ids(rnp_key_handle_t k, char fpr[FPR_LEN + 1],
    char keyid[KEYID_LEN + 1])
{
	char *s = NULL;

	rnp_key_get_fprint(k, &s);
	take_hex(s, fpr, FPR_LEN + 1);
	s = NULL;
	rnp_key_get_keyid(k, &s);
	take_hex(s, keyid, KEYID_LEN + 1);
}

/* OpenPGP algorithm id for rnp's algorithm name. */
static int
algo_id(const char *alg)
{
	static const struct {
		const char *name;
		int id;
	} tab[] = {
		{ "RSA", 1 }, { "ELGAMAL", 16 }, { "DSA", 17 }, { "ECDH", 18 },
		{ "ECDSA", 19 }, { "EDDSA", 22 }
	};
	size_t i;

	for (i = 0; alg && i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(alg, tab[i].name) == 0)
			return tab[i].id;
	return 0;
}

/* Fill the primary key fields of c but the IDs from key. */
static void
fill_primary(rnp_key_handle_t key, struct pgp_cert *c)
{
	char *s = NULL;
	uint32_t v = 0;

	if (rnp_key_get_alg(key, &s) == RNP_SUCCESS)
		c->algo = algo_id(s);
	rnp_buffer_destroy(s);
	if (rnp_key_get_bits(key, &v) == RNP_SUCCESS)
		c->bits = v;
	if (rnp_key_get_creation(key, &v) == RNP_SUCCESS)
		c->created = v;
	if (rnp_key_get_expiration(key, &v) == RNP_SUCCESS && v)
		c->expires = c->created + v;
	rnp_key_is_revoked(key, &c->revoked);
}

/* Fill c->uids from the (already stripped) key. */
static void
fill_uids(rnp_key_handle_t key, struct pgp_cert *c)
{
	rnp_uid_handle_t uid;
	struct pgp_uid *u;
	size_t i, n = 0;
	char *text;

	rnp_key_get_uid_count(key, &n);
	c->uids = xcalloc(n ? n : 1, sizeof(*c->uids));
	for (i = 0; i < n; i++) {
		uid = NULL;
		text = NULL;
		if (rnp_key_get_uid_handle_at(key, i, &uid) != RNP_SUCCESS ||
		    rnp_key_get_uid_at(key, i, &text) != RNP_SUCCESS) {
			rnp_uid_handle_destroy(uid);
			continue;
		}
		u = &c->uids[c->nuids++];
		u->text = xstrdup(text);
		rnp_buffer_destroy(text);
		if (email_from_uid(u->text, u->email, sizeof(u->email)) == -1)
			u->email[0] = '\0';
		pgp_uid_selfsig(uid, c->keyid, &u->created);
		rnp_uid_is_revoked(uid, &u->revoked);
		rnp_uid_handle_destroy(uid);
	}
}

/* What subkey sub is, for people (algorithm, size, dates, usage). */
static void
fill_sub(rnp_key_handle_t sub, struct pgp_subkey *s)
{
	static const struct {
		const char *usage;
		char c;
	} use[] = { { "sign", 's' }, { "encrypt", 'e' },
	    { "authenticate", 'a' } };
	char *alg = NULL;
	uint32_t v = 0;
	size_t i, n = 0;
	bool yes;

	if (rnp_key_get_alg(sub, &alg) == RNP_SUCCESS)
		s->algo = algo_id(alg);
	rnp_buffer_destroy(alg);
	if (rnp_key_get_bits(sub, &v) == RNP_SUCCESS)
		s->bits = v;
	if (rnp_key_get_creation(sub, &v) == RNP_SUCCESS)
		s->created = v;
	if (rnp_key_get_expiration(sub, &v) == RNP_SUCCESS && v)
		s->expires = s->created + v;
	rnp_key_is_revoked(sub, &s->revoked);
	for (i = 0; i < sizeof(use) / sizeof(use[0]); i++)
		if (rnp_key_allows_usage(sub, use[i].usage, &yes) ==
		    RNP_SUCCESS && yes)
			s->usage[n++] = use[i].c;
	s->usage[n] = '\0';
}

/* Fill c->subs from key. */
static void
fill_subs(rnp_key_handle_t key, struct pgp_cert *c)
{
	rnp_key_handle_t sub;
	size_t i, n = 0;

	rnp_key_get_subkey_count(key, &n);
	c->subs = xcalloc(n ? n : 1, sizeof(*c->subs));
	for (i = 0; i < n; i++) {
		sub = NULL;
		if (rnp_key_get_subkey_at(key, i, &sub) != RNP_SUCCESS)
			continue;
		key_ids(sub, c->subs[c->nsubs].fpr, c->subs[c->nsubs].keyid);
		c->subs[c->nsubs].backsig = pgp_sub_backsig(sub, c->keyid);
		fill_sub(sub, &c->subs[c->nsubs]);
		c->nsubs++;
		rnp_key_handle_destroy(sub);
	}
}

/* Strip the primary fpr in ffi to its full form and describe it in c. */
static int
cert_make(rnp_ffi_t ffi, const char *fpr, struct pgp_cert *c, struct err *e)
{
	rnp_key_handle_t key = NULL;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (rnp_locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS ||
	    key == NULL)
		return err_set(e, ERR_INTERNAL, "key vanished from keyring");
	key_ids(key, c->fpr, c->keyid);
	if (pgp_strip(key, c->keyid, NULL, 0) == -1) {
		err_set(e, ERR_INVALID, E_PARSE);
		goto out;
	}
	if (key_export_mem(key, false, &c->full, &c->full_len) == -1) {
		err_set(e, ERR_TOOBIG, "key too large to export");
		goto out;
	}
	fill_primary(key, c);
	fill_uids(key, c);
	fill_subs(key, c);
	rc = 0;
out:
	rnp_key_handle_destroy(key);
	if (rc == -1)
		pgp_cert_release(c);
	return rc;
}

/*
 * Walk and import one blob into ffi; *ncerts gets its primary count.  With
 * sigs, a blob of bare signatures (a revocation) is imported as such.
 */
static int
load(rnp_ffi_t ffi, const uint8_t *in, size_t len,
    const struct pgp_limits *lim, bool sigs, size_t *ncerts, struct err *e)
{
	struct pkt_stats st;
	struct buf bin;
	rnp_input_t rin = NULL;
	const uint8_t *p;
	int rc = -1;

	buf_init(&bin, KEY_MAX);
	if (to_binary(in, len, &bin, e) == -1)
		goto out;
	p = (const uint8_t *)bin.data;
	if (pkt_walk(p, bin.len, lim, &st, e) == -1)
		goto out;
	*ncerts = st.certs;
	if (st.certs > 0)
		rc = import_bin(ffi, p, bin.len, e);
	else if (!sigs || st.sigs == 0)
		rc = err_set(e, ERR_INVALID, E_NOKEY);
	else if (rnp_input_from_memory(&rin, p, bin.len, false) == 0 &&
	    rnp_import_signatures(ffi, rin, 0, NULL) == 0)
		rc = 0;
	else
		rc = err_set(e, ERR_INVALID, E_PARSE);
	rnp_input_destroy(rin);
out:
	buf_release(&bin);
	return rc;
}

/* Start a fresh ffi. */
static rnp_ffi_t
ffi_new(struct err *e)
{
	rnp_ffi_t ffi = NULL;

	if (rnp_ffi_create(&ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) != 0) {
		err_set(e, ERR_INTERNAL, "rnp ffi creation failed");
		return NULL;
	}
	return ffi;
}

/* Load one cert into ffi; its primary's handle, or NULL.  With several
 * non-NULL, more than one cert is not an error: *several is set. */
static rnp_key_handle_t
load_one(rnp_ffi_t ffi, const uint8_t *in, size_t len,
    const struct pgp_limits *lim, bool *several, struct err *e)
{
	rnp_key_handle_t key = NULL;
	char **fprs;
	size_t nf, nc;

	if (load(ffi, in, len, lim, false, &nc, e) == -1)
		return NULL;
	fprs = primaries(ffi, 2, &nf);
	if (nf > 1 && several != NULL)
		*several = true;
	else if (nf != 1)
		err_set(e, ERR_INVALID, nf ? "more than one key" : E_NOKEY);
	else if (rnp_locate_key(ffi, "fingerprint", fprs[0], &key) != 0)
		err_set(e, ERR_INTERNAL, "key vanished from keyring");
	strv_free(fprs, nf);
	return key;
}

/* Parse an upload into its certs' full forms. */
int
pgp_parse(const uint8_t *in, size_t len, const struct pgp_limits *lim,
    struct pgp_cert **out, size_t *n, struct err *e)
{
	rnp_ffi_t ffi;
	char **fprs = NULL;
	size_t i, nf = 0, nc;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if ((ffi = ffi_new(e)) == NULL)
		return -1;
	if (load(ffi, in, len, lim, false, &nc, e) == -1)
		goto out;
	fprs = primaries(ffi, nc, &nf);
	if (nf == 0) {
		err_set(e, ERR_INVALID, E_NOKEY);
		goto out;
	}
	*out = xcalloc(nf, sizeof(**out));
	for (i = 0; i < nf; i++) {
		if (cert_make(ffi, fprs[i], &(*out)[i], e) == -1) {
			pgp_certs_free(*out, i);
			*out = NULL;
			goto out;
		}
	}
	*n = nf;
	rc = 0;
out:
	strv_free(fprs, nf);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* Merge two versions of one cert. */
int
pgp_merge(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const struct pgp_limits *lim, struct pgp_cert *out, struct err *e)
{
	struct pkt_stats st = { .certs = 1 };
	struct pgp_limits slim = *lim;
	rnp_key_handle_t key = NULL;
	bool tomb;
	rnp_ffi_t ffi;
	char **fprs = NULL, fpr[FPR_LEN + 1], keyid[KEYID_LEN + 1];
	size_t nf = 0, nc;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((ffi = ffi_new(e)) == NULL)
		return -1;
	slim.stored = true;	/* a is the stored form */
	if ((key = load_one(ffi, a, alen, &slim, NULL, e)) == NULL)
		goto out;
	tomb = pgp_is_tombstone(key);
	if (load(ffi, b, blen, lim, true, &nc, e) == -1)
		goto out;
	/* a tombstone stays one: what b adds but revocations goes */
	if (tomb && pgp_strip_tombstone(key) == -1) {
		err_set(e, ERR_INTERNAL, "cannot strip the revoked key");
		goto out;
	}
	fprs = primaries(ffi, 2, &nf);
	if (nf != 1) {
		err_set(e, ERR_INVALID, "not the same key");
		goto out;
	}
	/* the limits again, on the union */
	rnp_key_get_uid_count(key, &st.uids);
	rnp_key_get_subkey_count(key, &st.subs);
	if (pkt_cert_check(&st, lim, e) == 0) {
		key_ids(key, fpr, keyid);
		rc = cert_make(ffi, fpr, out, e);
	}
	/* and what checking it would cost: else a key could grow by
	 * uploads, each within the limits, into one that is not */
	if (rc == 0 && pkt_cost(out->full, out->full_len, lim, e) == -1) {
		char why[sizeof(e->msg)];

		str_lcpy(why, e->msg, sizeof(why));
		err_set(e, e->code, "with what the directory holds of this "
		    "key, %s", why);
		pgp_cert_release(out);
		rc = -1;
	}
out:
	strv_free(fprs, nf);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* The armored published form of a full cert. */
int
pgp_publish(const uint8_t *full, size_t len, const char *const *emails,
    size_t nemails, struct buf *out, struct err *e)
{
	static const char *const none[1] = { NULL };
	rnp_key_handle_t key;
	rnp_ffi_t ffi;
	char fpr[FPR_LEN + 1], keyid[KEYID_LEN + 1];
	uint8_t *p = NULL;
	size_t plen = 0;
	int rc = -1;

	if ((ffi = ffi_new(e)) == NULL)
		return -1;
	if ((key = load_one(ffi, full, len, NULL, NULL, e)) == NULL)
		goto out;
	key_ids(key, fpr, keyid);
	if (pgp_strip(key, keyid, emails ? emails : none, nemails) == -1 ||
	    key_export_mem(key, true, &p, &plen) == -1)
		err_set(e, ERR_INTERNAL, "cannot build the published key");
	else if (buf_add(out, p, plen) == -1)
		err_set(e, ERR_TOOBIG, "published key too large");
	else
		rc = 0;
out:
	free(p);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* Parse one cert and publish it for emails, both in one ffi. */
int
pgp_parse_publish(const uint8_t *in, size_t len, const struct pgp_limits *lim,
    const char *const *emails, size_t nemails, struct pgp_cert *out,
    struct buf *pub, struct err *e)
{
	static const char *const none[1] = { NULL };
	rnp_key_handle_t key;
	rnp_ffi_t ffi;
	char fpr[FPR_LEN + 1], keyid[KEYID_LEN + 1];
	uint8_t *p = NULL;
	size_t plen = 0;
	bool several = false;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((ffi = ffi_new(e)) == NULL)
		return -1;
	if ((key = load_one(ffi, in, len, lim, &several, e)) == NULL) {
		rc = several ? 1 : -1;
		goto out;
	}
	key_ids(key, fpr, keyid);
	if (cert_make(ffi, fpr, out, e) == -1)
		goto out;
	/* the full form is exported: strip further to the published one */
	if (pgp_strip(key, keyid, emails ? emails : none, nemails) == -1 ||
	    key_export_mem(key, true, &p, &plen) == -1)
		err_set(e, ERR_INTERNAL, "cannot build the published key");
	else if (buf_add(pub, p, plen) == -1)
		err_set(e, ERR_TOOBIG, "published key too large");
	else
		rc = 0;
	if (rc == -1)
		pgp_cert_release(out);
out:
	free(p);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* What stays of a revoked key that asked to be removed. */
int
pgp_tombstone(const uint8_t *full, size_t len, struct pgp_cert *out,
    struct err *e)
{
	rnp_key_handle_t key;
	rnp_ffi_t ffi;
	char fpr[FPR_LEN + 1], keyid[KEYID_LEN + 1];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((ffi = ffi_new(e)) == NULL)
		return -1;
	if ((key = load_one(ffi, full, len, NULL, NULL, e)) == NULL)
		goto out;
	key_ids(key, fpr, keyid);
	if (pgp_strip_tombstone(key) == -1) {
		err_set(e, ERR_INTERNAL, "cannot strip the revoked key");
		goto out;
	}
	if (cert_make(ffi, fpr, out, e) == -1)
		goto out;
	if (!out->revoked) {
		pgp_cert_release(out);
		err_set(e, ERR_INVALID, "the key is not revoked");
		goto out;
	}
	rc = 0;
out:
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* Free what a cert owns. */
void
pgp_cert_release(struct pgp_cert *c)
{
	size_t i;

	for (i = 0; i < c->nuids; i++)
		free(c->uids[i].text);
	free(c->uids);
	free(c->subs);
	free(c->full);
	memset(c, 0, sizeof(*c));
}

/* Release n certs and the array. */
void
pgp_certs_free(struct pgp_cert *certs, size_t n)
{
	size_t i;

	if (certs == NULL)
		return;
	for (i = 0; i < n; i++)
		pgp_cert_release(&certs[i]);
	free(certs);
}

