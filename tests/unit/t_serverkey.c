/*
 * t_serverkey: the directory's own key as pgp_serverkey makes and reads
 * it: Ed25519 primary and one X25519 encryption subkey, the user ID given,
 * the lifetime given (librnp's default would be two years), a secret form
 * that loads back to the same key, and refusals for what is not one.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pgp.h"
#include "tap.h"

#define ADDR "key-submission@keys.example.org"
#define TTL (3 * 365 * 86400LL)

int
main(void)
{
	struct pgp_serverkey k, l;
	struct pgp_limits lim = { .max_uids = 10, .max_subkeys = 10,
	    .max_certs = 1 };
	const char *a[1] = { ADDR };
	struct pgp_cert c;
	struct buf pub;
	struct err e;

	int rc;

	rc = pgp_serverkey_make(ADDR, TTL, &k, &e);
	ok(rc == 0, "made (%s)", rc == 0 ? k.fpr : e.msg);
	ok(strlen(k.fpr) == FPR_LEN && k.expires - k.created == TTL,
	    "a v4 fingerprint; expires exactly TTL after it was made");
	ok(k.public != NULL && !strncmp(k.public,
	    "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36) &&
	    strstr(k.public, "PRIVATE") == NULL, "the public form is armored "
	    "and public");
	/* a secret-key packet first: tag 5, old or new packet format */
	ok(k.secret != NULL && k.secret_len > 0 && (k.secret[0] & 0x80) &&
	    ((k.secret[0] & 0x40) ? (k.secret[0] & 0x3f) == 5 :
	    ((k.secret[0] >> 2) & 0x0f) == 5), "the secret form is a secret "
	    "key");

	buf_init(&pub, KEY_MAX);
	ok(pgp_parse_publish((const uint8_t *)k.public, k.public_len, &lim, a,
	    1, &c, &pub, &e) == 0, "the public form parses as an upload would "
	    "(%s)", e.msg);
	ok(c.nuids == 1 && !strcmp(c.uids[0].email, ADDR) && !c.revoked &&
	    c.algo == 22, "one user ID, the address given; EdDSA; not "
	    "revoked");
	ok(c.nsubs == 1 && !c.subs[0].backsig,
	    "one subkey, for encryption (not a signing one)");
	ok(c.expires == k.expires, "the parsed expiry is the key's");
	pgp_cert_release(&c);
	buf_release(&pub);

	ok(pgp_serverkey_load(k.secret, k.secret_len, &l, &e) == 0 &&
	    !strcmp(l.fpr, k.fpr) && l.created == k.created &&
	    l.expires == k.expires && l.public_len == k.public_len &&
	    !memcmp(l.public, k.public, k.public_len),
	    "the secret form loads back to the same key");
	pgp_serverkey_release(&l);
	ok(pgp_serverkey_load((const uint8_t *)k.public, k.public_len, &l,
	    &e) == -1, "a public key is not a server key (%s)", e.msg);
	ok(pgp_serverkey_load((const uint8_t *)"garbage", 7, &l, &e) == -1,
	    "garbage is not (%s)", e.msg);
	ok(pgp_serverkey_make("a \"quoted\" uid", TTL, &l, &e) == -1 &&
	    pgp_serverkey_make(ADDR, 0, &l, &e) == -1,
	    "a user ID with quotes or no lifetime is refused");
	pgp_serverkey_release(&k);
	ok(k.secret == NULL && k.public == NULL, "released");
	return tap_done();
}
