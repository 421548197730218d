/*
 * pgp_verify: signed statements (removal requests), cleartext-signed or
 * inline-signed, and signed submissions encrypted to the server's key.
 * Each call runs librnp's verifier in a fresh ffi holding at most the one
 * cert that must have signed (and, for a submission, the server's secret
 * keys), and keeps what rnp wrote only when the message is accepted: rnp
 * writes the text even for a bad signature.  No detached signatures.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp.h"
#include "pgp_strip.h"

#define TEXT_MAX	(64u << 10)	/* cap on the signed text */
#define E_NOTSIGNED	"not a signed message"
#define E_BADSIG	"the signature is not good"
#define E_NOTBY		"not signed by this key"
#define E_DEAD		"signed by a subkey that is revoked or may not sign"
#define E_TOMB		"This key is revoked and was removed: only its " \
			"revocation is kept, and that is never removed."

/* One run of rnp's verifier over a message. */
struct vrun {
	rnp_ffi_t ffi;
	rnp_input_t in;
	rnp_output_t out;
	rnp_op_verify_t op;
	rnp_result_t res;	/* what execute returned */
};

/* What one signature comes to, worst first for the error we report. */
enum sig_verdict {
	SIG_OTHER,	/* by some other (or unknown) key */
	SIG_DEAD,	/* by a subkey of the cert that signs nothing */
	SIG_BAD,	/* by the cert, but not good */
	SIG_GOOD	/* good, by the cert */
};

/* Free what r holds. */
static void
vrun_release(struct vrun *r)
{
	rnp_op_verify_destroy(r->op);
	rnp_output_destroy(r->out);
	rnp_input_destroy(r->in);
	rnp_ffi_destroy(r->ffi);
	memset(r, 0, sizeof(*r));
}

/* Start r with a fresh, empty ffi. */
static int
vrun_init(struct vrun *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (rnp_ffi_create(&r->ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) != 0)
		return err_set(e, ERR_INTERNAL, "rnp ffi creation failed");
	return 0;
}

#define PGP_VERIFY_MAX_SIGS 8

/* How the finished run's message was protected, into prot. */
static void
vrun_protection(struct vrun *r, struct pgp_protection *prot)
{
	char *mode = NULL, *cipher = NULL;
	bool valid = false;

	memset(prot, 0, sizeof(*prot));
	if (rnp_op_verify_get_protection_info(r->op, &mode, &cipher,
	    &valid) != RNP_SUCCESS)
		return;
	prot->encrypted = mode != NULL && strcmp(mode, "none") != 0;
	/* SEIPD with its MDC, or AEAD; never plain "cfb" */
	prot->integrity = prot->encrypted && valid && mode != NULL &&
	    strcmp(mode, "cfb") != 0;
	rnp_buffer_destroy(mode);
	rnp_buffer_destroy(cipher);
}

/* Whether the finished run saw a signed message, encrypted or not as
 * wanted: a handful of signatures at most (each costs a verification). */
static bool
vrun_signed(struct vrun *r, bool encrypted)
{
	struct pgp_protection prot;
	size_t n = 0;

	vrun_protection(r, &prot);
	return prot.encrypted == encrypted &&
	    rnp_op_verify_get_signature_count(r->op, &n) == RNP_SUCCESS &&
	    n > 0 && n <= PGP_VERIFY_MAX_SIGS;
}

/*
 * Run the verifier over msg with the keys already in r->ffi.  Fails
 * (ERR_INVALID) unless msg is a signed message, encrypted if and only if
 * encrypted, that rnp read to its end; whether any signature is good is
 * left to the caller.
 */
static int
vrun_exec(struct vrun *r, const uint8_t *msg, size_t len, bool encrypted,
    struct err *e)
{
	if (len == 0)
		return err_set(e, ERR_INVALID, E_NOTSIGNED);
	if (rnp_input_from_memory(&r->in, msg, len, false) != RNP_SUCCESS ||
	    rnp_output_to_memory(&r->out, TEXT_MAX) != RNP_SUCCESS ||
	    rnp_op_verify_create(&r->op, r->ffi, r->in, r->out) !=
	    RNP_SUCCESS)
		return err_set(e, ERR_INTERNAL, "rnp verify setup failed");
	r->res = rnp_op_verify_execute(r->op);
	if (r->res == RNP_ERROR_WRITE)
		return err_set(e, ERR_TOOBIG, "signed text over %u KiB",
		    TEXT_MAX >> 10);
	/* an unknown signer or a bad signature is "invalid signature" */
	if ((r->res != RNP_SUCCESS && r->res != RNP_ERROR_SIGNATURE_INVALID) ||
	    !vrun_signed(r, encrypted))
		return err_set(e, ERR_INVALID, E_NOTSIGNED);
	return 0;
}

/*
 * Append what the run wrote to text, CRLF turned into LF: a cleartext or
 * text-mode signature covers the lines, not their endings (gpg --textmode
 * and pasted Windows text give CRLF).  A NUL byte is refused so that the
 * text can be read as a C string without losing a signed part.
 */
static int
vrun_text(struct vrun *r, struct buf *text, struct err *e)
{
	struct buf t;
	uint8_t *p = NULL;
	size_t i, n = 0;
	int rc = -1;

	/* librnp wrote nothing at all (a cleartext message whose text it
	 * gave up on before the signature, such as one with a NUL in it):
	 * there is no signed text, which is the sender's doing */
	if (rnp_output_memory_get_buf(r->out, &p, &n, false) != RNP_SUCCESS)
		return err_set(e, ERR_INVALID, E_NOTSIGNED);
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return err_set(e, ERR_INVALID, "the signed text is not text");
	buf_init(&t, TEXT_MAX);
	for (i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			buf_addch(&t, p[i]);
	if (buf_failed(&t) || buf_add(text, t.data, t.len) == -1)
		err_set(e, ERR_TOOBIG, "signed text too large");
	else
		rc = 0;
	buf_release(&t);
	return rc;
}

/* Drop the primary key's revocations: rnp_key_signatures_cb.  Subkey
 * revocations stay, so a revoked subkey signs nothing. */
static void
drop_revocation(rnp_ffi_t ffi, void *ctx, rnp_signature_handle_t sig,
    uint32_t *action)
{
	char *type = NULL;

	(void)ffi;
	(void)ctx;
	if (rnp_signature_get_type(sig, &type) == RNP_SUCCESS && type &&
	    strcmp(type, "key revocation") == 0)
		*action = RNP_KEY_SIGNATURE_REMOVE;
	rnp_buffer_destroy(type);
}

/* The fingerprint of the only primary key in ffi into fpr. */
static int
only_primary(rnp_ffi_t ffi, char fpr[FPR_LEN + 1])
{
	rnp_identifier_iterator_t it = NULL;
	rnp_key_handle_t k;
	const char *id;
	size_t n = 0;
	bool prim;

	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint") != 0)
		return -1;
	while (rnp_identifier_iterator_next(it, &id) == 0 && id != NULL) {
		k = NULL;
		prim = false;
		if (rnp_locate_key(ffi, "fingerprint", id, &k) == 0 && k &&
		    rnp_key_is_primary(k, &prim) == 0 && prim && n++ == 0 &&
		    strlen(id) == FPR_LEN)
			memcpy(fpr, id, FPR_LEN + 1);
		rnp_key_handle_destroy(k);
	}
	rnp_identifier_iterator_destroy(it);
	return n == 1 && fpr[0] != '\0' ? 0 : -1;
}

/*
 * Import the stored cert full into ffi, without the primary key's
 * revocations: rnp refuses every signature of a revoked key, but a revoked
 * primary key may still sign its own removal (*revoked says it was
 * revoked; then its subkeys count for nothing, see key_of).  Expiry stays
 * (it lives in self-signatures), so rnp takes a key's signatures only when
 * the key was valid at their creation time.  fpr gets the primary
 * fingerprint.  A tombstone is refused (ERR_CONFLICT): without self-
 * signatures it has no valid key left to check a signature with, and
 * nothing of it may go.
 */
static int
cert_load(rnp_ffi_t ffi, const uint8_t *full, size_t len,
    char fpr[FPR_LEN + 1], bool *revoked, struct err *e)
{
	rnp_input_t in = NULL;
	rnp_key_handle_t key = NULL;
	rnp_result_t r = RNP_ERROR_BAD_PARAMETERS;
	int rc = -1;

	fpr[0] = '\0';
	if (len > 0 && rnp_input_from_memory(&in, full, len, false) == 0)
		r = rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS, NULL);
	rnp_input_destroy(in);
	if (r != RNP_SUCCESS || only_primary(ffi, fpr) == -1)
		return err_set(e, ERR_INTERNAL, "stored key unreadable");
	if (rnp_locate_key(ffi, "fingerprint", fpr, &key) != RNP_SUCCESS ||
	    key == NULL)
		return err_set(e, ERR_INTERNAL, "key vanished from keyring");
	*revoked = false;
	rnp_key_is_revoked(key, revoked);
	if (pgp_is_tombstone(key)) {
		rnp_key_handle_destroy(key);
		return err_set(e, ERR_CONFLICT, E_TOMB);
	}
	if (rnp_key_remove_signatures(key, 0, drop_revocation, NULL) !=
	    RNP_SUCCESS)
		err_set(e, ERR_INTERNAL, "cannot prepare the stored key");
	else
		rc = 0;
	rnp_key_handle_destroy(key);
	return rc;
}

/* Whose a signature is, against the stored cert. */
enum sig_owner {
	OWN_OTHER,	/* some other key's, or none we know */
	OWN_PRIMARY,	/* the primary key's */
	OWN_SUBKEY,	/* a live signing subkey's */
	OWN_DEAD_SUBKEY	/* a subkey's that signs nothing: revoked, not for
			 * signing, or of a revoked primary key */
};

/* Whose k is: the primary fpr, one of its subkeys, or another key. */
static enum sig_owner
key_of(rnp_key_handle_t k, const char *fpr, bool revoked)
{
	char *f = NULL;
	bool sub = false, sign = false, subrev = false, mine;

	if (rnp_key_is_sub(k, &sub) != RNP_SUCCESS)
		return OWN_OTHER;
	mine = (sub ? rnp_key_get_primary_fprint(k, &f) :
	    rnp_key_get_fprint(k, &f)) == RNP_SUCCESS && f != NULL &&
	    strcasecmp(f, fpr) == 0;
	rnp_buffer_destroy(f);
	if (!mine)
		return OWN_OTHER;
	if (!sub)
		return OWN_PRIMARY;
	if (revoked || rnp_key_is_revoked(k, &subrev) != RNP_SUCCESS ||
	    subrev || rnp_key_allows_usage(k, "sign", &sign) != RNP_SUCCESS ||
	    !sign)
		return OWN_DEAD_SUBKEY;
	return OWN_SUBKEY;
}

/*
 * What signature s comes to against the primary fpr; *who gets its maker
 * and creation time when it is good.  rnp calls a good signature
 * "expired" when it is dated in the future (the caller compares the
 * creation time with the statement's date) or past an expiry the signer
 * gave it (honoured).
 */
static enum sig_verdict
sig_check(rnp_op_verify_signature_t s, const char *fpr, bool revoked,
    struct pgp_signer *who)
{
	rnp_key_handle_t k = NULL;
	enum sig_owner own;
	rnp_result_t st;
	uint32_t made = 0, life = 0;

	if (rnp_op_verify_signature_get_key(s, &k) != RNP_SUCCESS || !k)
		return SIG_OTHER;
	own = key_of(k, fpr, revoked);
	rnp_key_handle_destroy(k);
	if (own == OWN_OTHER)
		return SIG_OTHER;
	if (own == OWN_DEAD_SUBKEY)
		return SIG_DEAD;
	st = rnp_op_verify_signature_get_status(s);
	if ((st != RNP_SUCCESS && st != RNP_ERROR_SIGNATURE_EXPIRED) ||
	    rnp_op_verify_signature_get_times(s, &made, &life) != 0)
		return SIG_BAD;
	if (st != RNP_SUCCESS && life != 0 &&
	    (int64_t)made + life < (int64_t)time(NULL))
		return SIG_BAD;
	who->created = made;
	who->primary = own == OWN_PRIMARY;
	who->revoked = revoked;
	return SIG_GOOD;
}

/* The best verdict over all signatures of a finished run. */
static enum sig_verdict
vrun_verdict(struct vrun *r, const char *fpr, bool revoked,
    struct pgp_signer *who)
{
	rnp_op_verify_signature_t s;
	enum sig_verdict v, best = SIG_OTHER;
	size_t i, n = 0;

	rnp_op_verify_get_signature_count(r->op, &n);
	for (i = 0; i < n && best != SIG_GOOD; i++) {
		s = NULL;
		if (rnp_op_verify_get_signature_at(r->op, i, &s) != 0)
			continue;
		if ((v = sig_check(s, fpr, revoked, who)) > best)
			best = v;
	}
	return best;
}

/* The text of a signed message, unverified. */
int
pgp_signed_text(const uint8_t *msg, size_t len, struct buf *text,
    struct err *e)
{
	struct vrun r;
	int rc = -1;

	if (vrun_init(&r, e) == -1)
		return -1;
	/* with no keys every signature is "unknown signer": read anyway */
	if (vrun_exec(&r, msg, len, false, e) == 0)
		rc = vrun_text(&r, text, e);
	vrun_release(&r);
	return rc;
}

/* Verify a signed message against the stored cert full. */
int
pgp_verify_signed(const uint8_t *msg, size_t len, const uint8_t *full,
    size_t full_len, struct buf *text, struct pgp_signer *who,
    struct err *e)
{
	struct vrun r;
	char fpr[FPR_LEN + 1];
	bool revoked = false;
	int rc = -1;

	memset(who, 0, sizeof(*who));
	if (vrun_init(&r, e) == -1)
		return -1;
	if (cert_load(r.ffi, full, full_len, fpr, &revoked, e) == -1 ||
	    vrun_exec(&r, msg, len, false, e) == -1)
		goto out;
	switch (vrun_verdict(&r, fpr, revoked, who)) {
	case SIG_GOOD:
		rc = vrun_text(&r, text, e);
		break;
	case SIG_BAD:
		err_set(e, ERR_FORBIDDEN, E_BADSIG);
		break;
	case SIG_DEAD:
		err_set(e, ERR_FORBIDDEN, E_DEAD);
		break;
	case SIG_OTHER:
		err_set(e, ERR_FORBIDDEN, E_NOTBY);
		break;
	}
out:
	vrun_release(&r);
	return rc;
}

/* Import each secret key into ffi. */
static int
keys_load(rnp_ffi_t ffi, const struct pgp_keyring *keys, struct err *e)
{
	rnp_input_t in;
	rnp_result_t r;
	size_t i;

	for (i = 0; i < keys->n; i++) {
		in = NULL;
		r = rnp_input_from_memory(&in, keys->sec[i], keys->len[i],
		    false);
		if (r == RNP_SUCCESS)
			r = rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS |
			    RNP_LOAD_SAVE_SECRET_KEYS, NULL);
		rnp_input_destroy(in);
		if (r != RNP_SUCCESS)
			return err_set(e, ERR_INTERNAL, "server key unreadable");
	}
	return 0;
}

/*
 * Decrypt msg with keys: refused (ERR_INVALID) unless it is encrypted to
 * one of keys, integrity-protected and, with want_signed, signed (by
 * whoever: the caller verifies later).
 */
static int
decrypt_run(const struct pgp_keyring *keys, const uint8_t *msg, size_t len,
    bool want_signed, struct buf *text, struct err *e)
{
	struct pgp_protection prot;
	struct vrun r;
	int rc = -1;

	if (vrun_init(&r, e) == -1)
		return -1;
	if (keys_load(r.ffi, keys, e) == -1)
		goto out;
	if (len > 0 && rnp_input_from_memory(&r.in, msg, len, false) ==
	    RNP_SUCCESS && rnp_output_to_memory(&r.out, TEXT_MAX) ==
	    RNP_SUCCESS && rnp_op_verify_create(&r.op, r.ffi, r.in, r.out) ==
	    RNP_SUCCESS)
		r.res = rnp_op_verify_execute(r.op);
	else
		r.res = RNP_ERROR_BAD_PARAMETERS;
	if (r.op != NULL)
		vrun_protection(&r, &prot);
	else
		memset(&prot, 0, sizeof(prot));
	/* rnp stops at a message it cannot decrypt or whose MDC fails */
	if (r.res == RNP_ERROR_WRITE)
		err_set(e, ERR_TOOBIG, "the submission is over %u KiB",
		    TEXT_MAX >> 10);
	else if (!prot.encrypted)
		err_set(e, ERR_INVALID, "not encrypted to this directory's "
		    "key");
	else if (r.res != RNP_SUCCESS && r.res != RNP_ERROR_SIGNATURE_INVALID &&
	    r.res != RNP_ERROR_KEY_NOT_FOUND)
		err_set(e, ERR_INVALID, "cannot decrypt it: not encrypted to "
		    "this directory's key, or damaged (%s)",
		    rnp_result_to_string(r.res));
	else if (!prot.integrity)
		err_set(e, ERR_INVALID, "not integrity-protected (no MDC)");
	else if (want_signed && !vrun_signed(&r, true))
		err_set(e, ERR_INVALID, "encrypted but not signed");
	else
		rc = vrun_text(&r, text, e);
out:
	vrun_release(&r);
	return rc;
}

/*
 * Decrypt msg with keys, whoever signed it: the caller learns the signer's
 * cert from the text and then verifies (pgp_verify_encrypted).  Refused
 * (ERR_INVALID) unless it is signed, encrypted to one of keys and
 * integrity-protected.
 */
int
pgp_decrypt_signed(const struct pgp_keyring *keys, const uint8_t *msg,
    size_t len, struct buf *text, struct err *e)
{
	return decrypt_run(keys, msg, len, true, text, e);
}

int
pgp_decrypt(const struct pgp_keyring *keys, const uint8_t *msg, size_t len,
    struct buf *text, struct err *e)
{
	return decrypt_run(keys, msg, len, false, text, e);
}

/* Verify a submission encrypted to keys against the cert full. */
int
pgp_verify_encrypted(const struct pgp_keyring *keys, const uint8_t *msg,
    size_t len, const uint8_t *full, size_t full_len, struct buf *text,
    struct pgp_signer *who, struct err *e)
{
	struct pgp_protection prot;
	struct vrun r;
	char fpr[FPR_LEN + 1];
	bool revoked = false;
	int rc = -1;

	memset(who, 0, sizeof(*who));
	if (vrun_init(&r, e) == -1)
		return -1;
	/* the cert first: cert_load wants it the ffi's only primary */
	if (cert_load(r.ffi, full, full_len, fpr, &revoked, e) == -1 ||
	    keys_load(r.ffi, keys, e) == -1 ||
	    vrun_exec(&r, msg, len, true, e) == -1)
		goto out;
	vrun_protection(&r, &prot);
	if (!prot.integrity) {
		err_set(e, ERR_INVALID, "not integrity-protected (no MDC)");
		goto out;
	}
	switch (vrun_verdict(&r, fpr, revoked, who)) {
	case SIG_GOOD:
		rc = vrun_text(&r, text, e);
		break;
	case SIG_BAD:
		err_set(e, ERR_FORBIDDEN, E_BADSIG);
		break;
	case SIG_DEAD:
		err_set(e, ERR_FORBIDDEN, E_DEAD);
		break;
	case SIG_OTHER:
		err_set(e, ERR_FORBIDDEN, "not signed by the submitted key");
		break;
	}
out:
	vrun_release(&r);
	return rc;
}
