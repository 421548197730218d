/*
 * pgp: everything keydird does with OpenPGP data, on librnp.  The only
 * includer of <rnp/rnp.h>.  Each call makes and destroys its own rnp ffi
 * (librnp is not thread-safe per ffi), caps every output, and hands back
 * only our own value structs.  Lookups never come here: the published form
 * is computed once, when a key changes, and stored.
 */
#ifndef KEYDIR_PGP_H
#define KEYDIR_PGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sizes.h"
#include "buf.h"
#include "email.h"
#include "err.h"


struct pgp_limits {
	size_t max_uids;	/* user ID and user attribute packets per cert */
	size_t max_subkeys;	/* subkey packets per cert */
	size_t max_certs;	/* certs in one upload */
	bool stored;		/* a full form keydird stored, maybe by an
				 * older version: a user ID with control
				 * characters or a v3 subkey is dropped
				 * (pgp_strip), not refused, so that it can
				 * be cleaned; a NULL pgp_limits means the
				 * same */
	/* what a verifier's work may cost, checked on the raw packets
	 * before librnp sees them (0: no limit) */
	size_t max_key_bits;	/* RSA modulus, ElGamal prime */
	size_t max_sig_checks;	/* self-signature verifications per blob */
};

/* A user ID (never a user attribute) that has a valid self-signature. */
struct pgp_uid {
	char *text;		/* as in the cert, UTF-8 */
	char email[EMAIL_MAX + 1]; /* normalised address; "" when none */
	int64_t created;	/* creation time of its newest self-signature */
	bool revoked;		/* revoked by the key itself */
};

struct pgp_subkey {
	char fpr[FPR_LEN + 1];	/* upper-case hex */
	char keyid[KEYID_LEN + 1];
	bool backsig;		/* bound with a valid back-signature made
				 * by the subkey: only such a subkey is
				 * this cert's to claim in lookups */
	int algo;		/* as pgp_cert's, for the site's page */
	unsigned bits;
	int64_t created, expires;	/* expires 0: never */
	bool revoked;
	char usage[4];		/* what it may do: "s" sign, "e" encrypt,
				 * "a" authenticate, in that order */
};

struct pgp_cert {
	char fpr[FPR_LEN + 1];	/* primary key, upper-case hex */
	char keyid[KEYID_LEN + 1];
	int algo;		/* OpenPGP algorithm id: 1 RSA, 17 DSA, 19
				 * ECDSA, 22 EdDSA, ... (for HKP index) */
	unsigned bits;
	int64_t created;
	int64_t expires;	/* 0 when the key does not expire */
	bool revoked;		/* the primary key is revoked */
	struct pgp_uid *uids;
	size_t nuids;
	struct pgp_subkey *subs;
	size_t nsubs;
	/*
	 * The cert as we keep it privately, binary: primary, subkeys with
	 * their bindings and revocations, every user ID with a valid
	 * self-signature (revoked ones included, with their revocation),
	 * direct-key signatures and revocations.  No user attributes, no
	 * third-party certifications, no invalid signatures.
	 */
	uint8_t *full;
	size_t full_len;
};

/*
 * Parse an upload, armored or binary, that holds one or more certs (at
 * most lim->max_certs).  The counts of user IDs and subkeys are checked
 * on the raw packets before librnp parses anything.  Errors (ERR_INVALID
 * unless noted), each with a message a user can act on:
 *   nothing OpenPGP in the input    "Parsing of key data failed."
 *   no primary key                  "No key uploaded."
 *   secret key material             "Whoops, please don't upload secret keys!"
 *   too many user IDs or subkeys    ERR_TOOBIG, naming the limit
 *   too many certs                  ERR_TOOBIG
 *   v5/v6 keys librnp cannot read   "Parsing of key data failed."
 * On success *out is an array of *n certs; free with pgp_certs_free.
 */
int pgp_parse(const uint8_t *in, size_t len, const struct pgp_limits *lim,
    struct pgp_cert **out, size_t *n, struct err *e);

/*
 * Merge two versions of the same cert (each a binary or armored blob,
 * typically the stored full form and a new upload's full form) into *out
 * (fields as pgp_parse fills them).  New subkeys, signatures, expiry and
 * revocations are taken.  ERR_INVALID when the two are not the same key.
 * When a is a tombstone (pgp_tombstone), so is the result: only new
 * revocations are taken from b.
 */
int pgp_merge(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const struct pgp_limits *lim, struct pgp_cert *out, struct err *e);

/*
 * The published form of a full cert, ASCII-armored, appended to out: the
 * primary key and its direct-key signatures and revocations, every subkey
 * with its binding and revocation signatures, and only those user IDs
 * whose normalised address is one of emails[0..nemails) and that are not
 * revoked, each with its own self-signatures.  With nemails == 0 the
 * result has no user ID at all.  Imports cleanly into gpg and sq.
 */
int pgp_publish(const uint8_t *full, size_t len, const char *const *emails,
    size_t nemails, struct buf *out, struct err *e);

/*
 * The Web Key Directory's form of a published key for one of its
 * addresses: the binary packets of pub (a pgp_publish result, armored)
 * with only the user IDs whose address is address (and their
 * signatures), appended to out.  A packet walk, no librnp: the forms of
 * every address of a key cost about one pgp_publish less than their
 * number.  ERR_INVALID when pub is not such packets.
 */
int pgp_wkd_form(const char *pub, size_t len, const char *address,
    struct buf *out, struct err *e);

/*
 * pgp_parse of an input that holds exactly one cert, then pgp_publish of
 * its full form for emails, in one librnp pass (each key is loaded and
 * its signatures checked once, not twice): *out as pgp_parse fills it
 * (release with pgp_cert_release) and the armored published form, the
 * same bytes pgp_publish(out->full, ...) gives, appended to pub.  Errors
 * as the two calls.  Returns 1, with nothing made and e untouched, when
 * in holds several certs (use pgp_parse).
 */
int pgp_parse_publish(const uint8_t *in, size_t len,
    const struct pgp_limits *lim, const char *const *emails, size_t nemails,
    struct pgp_cert *out, struct buf *pub, struct err *e);

/*
 * The text of a signed message (cleartext-signed, or an inline-signed
 * PGP MESSAGE, armored or binary) appended to text, WITHOUT checking any
 * signature: only to learn which key to check it with.  ERR_INVALID
 * "not a signed message" for anything else; the text is capped at 64 KiB.
 */
int pgp_signed_text(const uint8_t *msg, size_t len, struct buf *text,
    struct err *e);

/* Who made the good signature pgp_verify_signed accepted. */
struct pgp_signer {
	int64_t created;	/* the signature's creation time */
	bool primary;		/* made by the primary key, not a subkey */
	bool revoked;		/* the primary key is revoked */
};

/*
 * Verify msg (as above) against the key full (a stored full cert).  On
 * success the signed text is appended to text, *who filled and 0
 * returned.  Accepted only when at least one signature is
 * cryptographically good and was made, at a time the signing key was
 * valid, by full's primary key or by one of its signing subkeys that is
 * not revoked.  A revoked primary key still counts (a key may sign its
 * own removal) but then none of its subkeys does.  Errors: ERR_INVALID
 * for input that is not a signed message (unsigned, encrypted, garbage);
 * ERR_FORBIDDEN "the signature is not good" (tampered text, a bad
 * signature, one made while the key was expired), "signed by a subkey
 * that is revoked or may not sign" or "not signed by this key";
 * ERR_CONFLICT when full is a tombstone (pgp_tombstone), which nothing
 * removes.  On error text is left as it was.
 */
int pgp_verify_signed(const uint8_t *msg, size_t len, const uint8_t *full,
    size_t full_len, struct buf *text, struct pgp_signer *who,
    struct err *e);

/* Secret keys to decrypt with (the server key and those in their grace
 * period): their transferable secret forms. */
struct pgp_keyring {
	const uint8_t *const *sec;
	const size_t *len;
	size_t n;
};

/* How a message was protected. */
struct pgp_protection {
	bool encrypted;
	bool integrity;		/* SEIPD with MDC, or AEAD */
};

/*
 * A signed submission encrypted to one of keys: first its text, whoever
 * signed it (pgp_decrypt_signed: the caller learns the cert that must
 * have signed from the text), then the check against that cert
 * (pgp_verify_encrypted, as pgp_verify_signed: a good signature by the
 * primary key or a live signing subkey).  Both refuse (ERR_INVALID,
 * naming the rule) what is not encrypted to keys, not integrity-protected
 * or not signed; the text is capped at 64 KiB (ERR_TOOBIG).
 */
int pgp_decrypt_signed(const struct pgp_keyring *keys, const uint8_t *msg,
    size_t len, struct buf *text, struct err *e);
int pgp_verify_encrypted(const struct pgp_keyring *keys, const uint8_t *msg,
    size_t len, const uint8_t *full, size_t full_len, struct buf *text,
    struct pgp_signer *who, struct err *e);
/* A message encrypted to one of keys, signed or not (the Web Key
 * Service's mail): its plaintext; refused as pgp_decrypt_signed refuses,
 * but for the signature. */
int pgp_decrypt(const struct pgp_keyring *keys, const uint8_t *msg, size_t len,
    struct buf *text, struct err *e);

/*
 * data encrypted to the cert full (its encryption subkeys, AES-256,
 * integrity-protected), armored, appended to out (the Web Key Service's
 * confirmation request, which only the key's holder can read).
 * ERR_INVALID when the cert has no key that may encrypt.
 */
int pgp_encrypt_to(const uint8_t *full, size_t full_len, const uint8_t *data,
    size_t len, struct buf *out, struct err *e);

/*
 * What stays of a revoked key that asked to be removed (a tombstone): the
 * primary key with its key revocation signatures, nothing else, into *out
 * as pgp_parse fills it, so that the revocation stays findable by
 * fingerprint and key id.  ERR_INVALID "the key is not revoked" when full
 * holds no valid key revocation.
 */
int pgp_tombstone(const uint8_t *full, size_t len, struct pgp_cert *out,
    struct err *e);

/* Free what a cert owns (not the struct). */
void pgp_cert_release(struct pgp_cert *c);
/* Release n certs and free the array; NULL is a no-op. */
void pgp_certs_free(struct pgp_cert *certs, size_t n);

/*
 * The directory's own key (pgp_serverkey.c): Ed25519 (certify, sign) and
 * an X25519 encryption subkey, both expiring ttl seconds after they are
 * made.  secret is the transferable secret key (binary; keep it mode
 * 0600), public the armored public key.  Release with
 * pgp_serverkey_release, which wipes the secret.
 */
struct pgp_serverkey {
	char fpr[FPR_LEN + 1];
	int64_t created;
	int64_t expires;	/* 0: never */
	uint8_t *secret;
	size_t secret_len;
	char *public;
	size_t public_len;
};
int pgp_serverkey_make(const char *uid, int64_t ttl,
    struct pgp_serverkey *k, struct err *e);
int pgp_serverkey_load(const uint8_t *sec, size_t len,
    struct pgp_serverkey *k, struct err *e);
void pgp_serverkey_release(struct pgp_serverkey *k);
/* A detached armored signature by the secret key sec over text (the old
 * server key vouching for the new one, keydird rotate-key). */
int pgp_serverkey_sign(const uint8_t *sec, size_t len, const char *text,
    struct buf *sig, struct err *e);

/* librnp needs no start-up call.  Its parser writes a line to stderr for
 * every malformed packet and cannot be told not to (notes/librnp.md,
 * rnp_ffi_set_log_fd covers only the FFI's own messages): keydird's
 * stderr carries it. */

#endif
