/*
 * pgp_pkt: the raw side of pgp: de-armoring and a packet walk that counts
 * certs, user IDs and subkeys and spots secret keys before librnp parses
 * anything.  Private to pgp*.c.
 */
#ifndef KEYDIR_PGP_PKT_H
#define KEYDIR_PGP_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "i18n.h"
#include "pgp.h"

#define E_PARSE		N_("Parsing of key data failed.")
#define E_NOKEY		N_("No key uploaded.")
#define E_SECRET	N_("Whoops, please don't upload secret keys!")

/* What the packet walk found. */
struct pkt_stats {
	size_t certs, sigs, uids, subs;
	size_t checks;		/* the cost of the self-signature checks they
				 * need, in 2048-bit-key checks */
	size_t hashed;		/* bytes those verifications hash */
};

/* Public-key algorithms whose numbers the walk bounds. */
enum {
	PKA_RSA = 1, PKA_RSA_E = 2, PKA_RSA_S = 3, PKA_ELGAMAL = 16,
	PKA_DSA = 17, PKA_ECDH = 18, PKA_ECDSA = 19, PKA_ELGAMAL_SE = 20,
	PKA_EDDSA = 22
};
/* DSA as FIPS 186-4 has it at its largest (L = 3072, N = 256); an RSA
 * public exponent of at most 32 bits (65537 is 17). */
#define DSA_P_MAX	3072
#define DSA_Q_MAX	256
#define RSA_E_MAX	32
/* The bytes the self-signatures of one blob may hash (each hashes the
 * primary key and the user ID or subkey it binds): 64 MiB is ~0.1 s of
 * SHA-256 here, and no real key comes near. */
#define SIG_HASH_MAX	((size_t)64 << 20)

/* The packet at p[*off] (len bytes in all): its tag and body, and *off
 * moved past it; -1 for a header that is not a whole, definite one. */
int pkt_next(const uint8_t *p, size_t len, size_t *off, int *tag,
    const uint8_t **body, size_t *bodylen);
/* Packet tags. */
enum {
	TAG_SIG = 2, TAG_SECKEY = 5, TAG_PUBKEY = 6, TAG_SECSUB = 7,
	TAG_MARKER = 10, TAG_TRUST = 12, TAG_UID = 13, TAG_PUBSUB = 14,
	TAG_UATTR = 17
};

/* Check one cert's counts in st against lim (ERR_TOOBIG naming it). */
int pkt_cert_check(const struct pkt_stats *st, const struct pgp_limits *lim,
    struct err *e);
/* Walk the packets of p, checking lim per cert; fills st. */
int pkt_walk(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct pkt_stats *st, struct err *e);
/* Only the cost limits of lim (key numbers, self-signature checks and
 * hashing) on binary packets p, whatever lim->stored says: a stored form
 * that grew by a merge is judged again. */
int pkt_cost(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct err *e);
/* The binary packets of in (binary as is, or every armor block decoded)
 * appended to bin. */
int to_binary(const uint8_t *in, size_t len, struct buf *bin,
    struct err *e);

#endif
