/*
 * pgp_pkt: de-armoring and the packet walk that enforces the upload limits
 * before librnp parses anything.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp_pkt.h"
#include "str.h"
#include "xmalloc.h"


/* Read one packet header at p[*off]; sets tag and body, skips it. */
int
pkt_next(const uint8_t *p, size_t len, size_t *off, int *tag,
    const uint8_t **body, size_t *bodylen)
{
	size_t o = *off, n = 0, blen, i;
	uint8_t c = p[o++];

	if (!(c & 0x80))
		return -1;
	if (c & 0x40) {
		*tag = c & 0x3f;
		if (o >= len)
			return -1;
		c = p[o++];
		if (c < 192)
			blen = c;
		else if (c < 224) {
			if (o >= len)
				return -1;
			blen = ((size_t)(c - 192) << 8) + p[o++] + 192;
		} else if (c == 255)
			n = 4;
		else
			return -1;	/* partial lengths: not key material */
	} else {
		*tag = (c >> 2) & 0x0f;
		if ((c & 3) == 3)
			return -1;	/* indeterminate length */
		n = (size_t)1 << (c & 3);
	}
	if (n) {
		if (len - o < n)
			return -1;
		for (blen = 0, i = 0; i < n; i++)
			blen = (blen << 8) | p[o++];
	}
	if (blen > len - o)
		return -1;
	*body = p + o;
	*bodylen = blen;
	*off = o + blen;
	return 0;
}

/* Refuse a cert whose counts pass the limits. */
int
pkt_cert_check(const struct pkt_stats *s, const struct pgp_limits *lim,
    struct err *e)
{
	if (lim && lim->max_uids && s->uids > lim->max_uids)
		return err_set(e, ERR_TOOBIG,
		    "too many user IDs (%zu, at most %zu)", s->uids,
		    lim->max_uids);
	if (lim && lim->max_subkeys && s->subs > lim->max_subkeys)
		return err_set(e, ERR_TOOBIG,
		    "too many subkeys (%zu, at most %zu)", s->subs,
		    lim->max_subkeys);
	return 0;
}

/* The bit count of the MPI at b[*o]; steps past it.  -1 when it runs
 * past n. */
static long
pkt_mpi(const uint8_t *b, size_t n, size_t *o)
{
	size_t bits;

	if (n - *o < 2)
		return -1;
	bits = (size_t)b[*o] << 8 | b[*o + 1];
	if ((bits + 7) / 8 > n - *o - 2)
		return -1;
	*o += 2 + (bits + 7) / 8;
	return (long)bits;
}

/* The weight of a check on the curve of OID o[0..n): 4 for the 512- and
 * 521-bit curves, 2 for the 384-bit ones, else 1. */
static unsigned
pkt_oid_weight(const uint8_t *o, size_t n)
{
	static const struct {
		uint8_t len, oid[9];
		unsigned weight;
	} heavy[] = {
		{ 5, { 0x2B, 0x81, 0x04, 0x00, 0x22 }, 2 },	/* P-384 */
		{ 5, { 0x2B, 0x81, 0x04, 0x00, 0x23 }, 4 },	/* P-521 */
		{ 9, { 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0B },
		    2 },					/* bp384 */
		{ 9, { 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0D },
		    4 },					/* bp512 */
	};
	size_t i;

	for (i = 0; i < sizeof(heavy) / sizeof(heavy[0]); i++)
		if (n == heavy[i].len && !memcmp(o, heavy[i].oid, n))
			return heavy[i].weight;
	return 1;
}

/* ceil(k/10 * (bits/2048)^2), at least 1: see key_weight. */
static unsigned
weight_of(long bits, unsigned k)
{
	unsigned long long b = bits > 0 ? (unsigned long long)bits : 1;
	unsigned long long w = (k * b * b + 10ULL * 2048 * 2048 - 1) /
	    (10ULL * 2048 * 2048);

	return w ? (unsigned)w : 1;
}

/*
 * The numbers of a v4 key packet (version, time, algorithm, MPIs), bound
 * before anything is verified with them: a signature check costs about
 * the exponent's bits times the modulus's bits squared, and both are the
 * uploader's to choose.  An RSA exponent of 16384 bits made one garbage
 * self-signature cost 1.7 s of CPU.  Elliptic-curve keys name a curve
 * librnp knows or are refused by it: their cost is fixed.
 *
 * *weight gets what one signature check with the key costs, in units of
 * one with a 2048-bit RSA or a 256-bit curve key (~0.8 ms of librnp's
 * import here; docs/RELIABILITY.md): RSA 0.7 (bits/2048)^2 (3072: 2, 4096:
 * 3, 8192: 12), DSA twice that, curves by the size of their point (256
 * bits: 1, 384: 2, 521 and 512: 4).
 */
static int
pkt_key_numbers(const uint8_t *b, size_t n, const struct pgp_limits *lim,
    unsigned *weight, struct err *e)
{
	size_t o = 6, maxb = lim && lim->max_key_bits ? lim->max_key_bits :
	    SIZE_MAX;
	long m1, m2;

	*weight = 1;
	if (n < 6)
		return err_set(e, ERR_INVALID, E_PARSE);
	switch (b[5]) {
	case PKA_RSA:
	case PKA_RSA_E:
	case PKA_RSA_S:
		if ((m1 = pkt_mpi(b, n, &o)) == -1 ||
		    (m2 = pkt_mpi(b, n, &o)) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		if ((size_t)m1 > maxb)
			return err_set(e, ERR_TOOBIG, "an RSA key of %ld bits: "
			    "at most %zu are accepted", m1, maxb);
		if (m2 > RSA_E_MAX)
			return err_set(e, ERR_INVALID, "an RSA key with a "
			    "public exponent of %ld bits: at most %d are "
			    "accepted", m2, RSA_E_MAX);
		*weight = weight_of(m1, 7);
		break;
	case PKA_DSA:
		if ((m1 = pkt_mpi(b, n, &o)) == -1 ||
		    (m2 = pkt_mpi(b, n, &o)) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		if (m1 > DSA_P_MAX || m2 > DSA_Q_MAX)
			return err_set(e, ERR_TOOBIG, "a DSA key of %ld/%ld "
			    "bits: at most %d/%d are accepted", m1, m2,
			    DSA_P_MAX, DSA_Q_MAX);
		*weight = weight_of(m1, 14);
		break;
	case PKA_ELGAMAL:
	case PKA_ELGAMAL_SE:
		if ((m1 = pkt_mpi(b, n, &o)) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		if ((size_t)m1 > maxb)
			return err_set(e, ERR_TOOBIG, "an ElGamal key of %ld "
			    "bits: at most %zu are accepted", m1, maxb);
		*weight = weight_of(m1, 14);
		break;
	case PKA_ECDH:
	case PKA_ECDSA:
	case PKA_EDDSA:
		/* the curve's OID, then the point */
		if (n < 7 || (size_t)b[6] + 7 > n)
			return err_set(e, ERR_INVALID, E_PARSE);
		o = 7 + b[6];
		if ((m1 = pkt_mpi(b, n, &o)) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		/* by the curve it names and by the point it gives: a short
		 * point does not make P-521 cheap */
		*weight = m1 <= 520 ? 1 : m1 <= 800 ? 2 : 4;
		if (pkt_oid_weight(b + 7, b[6]) > *weight)
			*weight = pkt_oid_weight(b + 7, b[6]);
		break;
	}
	return 0;
}

/*
 * A public key or subkey packet: only version 4.  A v3 (PGP 2) key's id
 * is the low 64 bits of its modulus, so anyone can make one with any key
 * id; v5 and v6 librnp cannot read.
 */
static int
pkt_key_check(const uint8_t *b, size_t n, struct err *e)
{
	if (n == 0)
		return err_set(e, ERR_INVALID, E_PARSE);
	if (b[0] == 4)
		return 0;
	if (b[0] == 2 || b[0] == 3)
		return err_set(e, ERR_INVALID, "v3 (PGP 2) keys are not "
		    "accepted: only OpenPGP v4 keys are");
	return err_set(e, ERR_INVALID, "v%u keys are not accepted: only "
	    "OpenPGP v4 keys are", b[0]);
}

/*
 * The key id of the v4 primary key packet p[0..len) (header included):
 * librnp computes it (the SHA-1 fingerprint's low 64 bits) from the bare
 * packet, which it reads without verifying anything.
 */
static int
pkt_keyid(const uint8_t *p, size_t len, char id[17])
{
	rnp_ffi_t ffi = NULL;
	rnp_input_t in = NULL;
	rnp_identifier_iterator_t it = NULL;
	const char *hex = NULL;
	int rc = -1;

	if (rnp_ffi_create(&ffi, RNP_KEYSTORE_GPG, RNP_KEYSTORE_GPG) != 0)
		return -1;
	if (rnp_input_from_memory(&in, p, len, false) == RNP_SUCCESS &&
	    rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS, NULL) ==
	    RNP_SUCCESS &&
	    rnp_identifier_iterator_create(ffi, &it, "keyid") == RNP_SUCCESS &&
	    rnp_identifier_iterator_next(it, &hex) == RNP_SUCCESS && hex &&
	    strlen(hex) == 16) {
		memcpy(id, hex, 17);
		rc = 0;
	}
	rnp_identifier_iterator_destroy(it);
	rnp_input_destroy(in);
	rnp_ffi_destroy(ffi);
	return rc;
}

/*
 * Whether librnp will verify the signature b[0..n) with the key id's
 * primary, and then also its embedded back-signature: 0, 1 or 2
 * verifications.  librnp checks a signature whose issuer (by key id or
 * fingerprint) is the primary, and a key or user ID revocation (0x20,
 * 0x30) whatever issuer it names, or none (its validate_self_signatures
 * does not ask is_signer for those).  Any other signature by anyone else
 * is never checked: librnp has not their key.
 */
static bool
pkt_is_id(const uint8_t *b, const char *id)
{
	char hex[17];

	str_hex(b, 8, hex);
	return strcasecmp(hex, id) == 0;
}

static size_t
pkt_sig_checks(const uint8_t *b, size_t n, const char *id)
{
	size_t o, end, len, area;
	bool self, emb = false;
	uint8_t t;

	/* a key or user ID revocation is checked against the primary
	 * whoever it names as its issuer, or if it names none */
	if (n >= 2 && b[0] == 4 && (b[1] == 0x20 || b[1] == 0x30))
		self = true;
	else if (n >= 3 && (b[0] == 3 || b[0] == 2))
		return b[2] == 0x20 || b[2] == 0x30 ||
		    (n >= 15 && pkt_is_id(b + 7, id)) ? 1 : 0;
	else if (n < 6 || b[0] != 4)
		return 0;
	else
		self = false;
	for (o = 4, area = 0; area < 2; area++) {
		if (n - o < 2)
			break;
		len = (size_t)b[o] << 8 | b[o + 1];
		o += 2;
		if (len > n - o)
			break;
		for (end = o + len; o < end; o += len) {
			if (b[o] < 192)
				len = b[o++];
			else if (b[o] < 255 && end - o >= 2) {
				len = ((size_t)(b[o] - 192) << 8) + b[o + 1] +
				    192;
				o += 2;
			} else if (b[o] == 255 && end - o >= 5) {
				len = (size_t)b[o + 1] << 24 |
				    (size_t)b[o + 2] << 16 |
				    (size_t)b[o + 3] << 8 | b[o + 4];
				o += 5;
			} else
				break;
			if (len == 0 || len > end - o)
				break;
			t = b[o] & 0x7f;
			if ((t == 16 && len == 9 && pkt_is_id(b + o + 1, id)) ||
			    (t == 33 && len == 22 && pkt_is_id(b + o + 14, id)))
				self = true;
			emb |= t == 32;
		}
		o = end;
	}
	return self ? 1 + emb : 0;
}
/*
 * A user ID is bytes, not a C string: a NUL would hide what follows it
 * from every check that reads a C string, and CR, LF and the other
 * control characters (C0, DEL, C1 in UTF-8) have no place in a name.
 */
static int
pkt_uid_check(const uint8_t *b, size_t n, struct err *e)
{
	size_t i = str_ctl_at((const char *)b, n);

	if (i == n)
		return 0;
	return err_set(e, ERR_INVALID, "a user ID contains a control "
	    "character (byte %zu is 0x%02X)", i, b[i] == 0xc2 ? b[i + 1] :
	    b[i]);
}

/* The type of a v3 or v4 signature packet, or -1. */
static int
pkt_sig_type(const uint8_t *b, size_t n)
{
	if (n >= 2 && b[0] == 4)
		return b[1];
	if (n >= 3 && (b[0] == 3 || b[0] == 2))
		return b[2];
	return -1;
}

/* A certification of a user ID (0x10-0x13) or its revocation (0x30). */
static bool
pkt_sig_is_uid_cert(int type)
{
	return (type >= 0x10 && type <= 0x13) || type == 0x30;
}

/* The user ID and attribute packets of one cert so far, to spot one
 * given twice. */
struct uid_seen {
	const uint8_t **b;
	size_t *n;
	int *tag;
	size_t count, cap;
};

/* With no max_uids, the search for a repeat stops after this many: the
 * search is quadratic, and the limit is the operator's to lift. */
#define UID_SEEN_MAX 1000

/*
 * Note user ID or attribute b[0..n) (tag) of the current cert; -1 when
 * the cert has it already.  librnp keeps both copies but cannot remove
 * either later, so stripping such a cert would fail.
 */
static int
uid_seen_add(struct uid_seen *u, int tag, const uint8_t *b, size_t n,
    struct err *e)
{
	size_t i;

	for (i = 0; i < u->count; i++)
		if (u->tag[i] == tag && u->n[i] == n &&
		    memcmp(u->b[i], b, n) == 0)
			return err_set(e, ERR_INVALID, "a user %s appears "
			    "twice in the key: each may be given once",
			    tag == TAG_UID ? "ID" : "attribute (photo)");
	if (u->count == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 16;
		u->b = xrealloc(u->b, u->cap * sizeof(*u->b));
		u->n = xrealloc(u->n, u->cap * sizeof(*u->n));
		u->tag = xrealloc(u->tag, u->cap * sizeof(*u->tag));
	}
	u->b[u->count] = b;
	u->n[u->count] = n;
	u->tag[u->count++] = tag;
	return 0;
}

/* The self-signatures of the cert being walked: its primary's key id
 * and the lengths of what each signature hashes. */
struct sig_cost {
	char id[17];		/* "" before the first primary */
	size_t primary;		/* primary key packet body */
	size_t target;		/* the user ID or subkey signed last */
	unsigned pweight;	/* a check with the primary (key_numbers) */
	unsigned sweight;	/* with the subkey last seen (a backsig) */
};

/*
 * Count the verifications signature b[0..n) costs; ERR_TOOBIG past the
 * budget.  Counted on the raw packets because librnp verifies every
 * self-signature as it imports a key, before we could stop it.
 */
static int
pkt_sig_cost(const uint8_t *b, size_t n, const struct sig_cost *sc,
    const struct pgp_limits *lim, struct pkt_stats *st, struct err *e)
{
	size_t k;

	if (sc->id[0] == '\0' || (k = pkt_sig_checks(b, n, sc->id)) == 0)
		return 0;
	st->checks += sc->pweight + (k > 1 ? sc->sweight : 0);
	st->hashed += k * (sc->primary + sc->target + n);
	if (lim->max_sig_checks && st->checks > lim->max_sig_checks)
		return err_set(e, ERR_TOOBIG, "the self-signatures would cost "
		    "more to check than %zu checks with a 2048-bit key: too "
		    "many of them, or with too large a key",
		    lim->max_sig_checks);
	if (st->hashed > SIG_HASH_MAX)
		return err_set(e, ERR_TOOBIG, "the self-signatures would hash "
		    "more than %zu MiB", SIG_HASH_MAX >> 20);
	return 0;
}

/*
 * The packet loop of pkt_walk; cur gets the counts of the last cert,
 * whose limits the caller checks.
 */
static int
pkt_walk_certs(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    bool bound, struct pkt_stats *st, struct pkt_stats *cur,
    struct uid_seen *seen, struct err *e)
{
	const uint8_t *b;
	size_t off = 0, start, n;
	bool stored = lim == NULL || lim->stored;
	size_t scan = lim && lim->max_uids ? lim->max_uids : UID_SEEN_MAX;
	struct sig_cost sc = { "", 0, 0, 1, 1 };
	int tag;

	while (off < len) {
		start = off;
		if (pkt_next(p, len, &off, &tag, &b, &n) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		switch (tag) {
		case TAG_SECKEY:
		case TAG_SECSUB:
			return err_set(e, ERR_INVALID, E_SECRET);
		case TAG_PUBKEY:
			if (pkt_cert_check(cur, lim, e) == -1 ||
			    pkt_key_check(b, n, e) == -1 ||
			    (bound &&
			    pkt_key_numbers(b, n, lim, &sc.pweight, e) == -1))
				return -1;
			memset(cur, 0, sizeof(*cur));
			seen->count = 0;
			st->certs++;
			sc.id[0] = '\0';
			sc.primary = n;
			sc.target = 0;
			if (bound && pkt_keyid(p + start, off - start, sc.id) ==
			    -1)
				return err_set(e, ERR_INVALID, E_PARSE);
			break;
		case TAG_UID:
		case TAG_UATTR:
			if (tag == TAG_UID && !stored &&
			    pkt_uid_check(b, n, e) == -1)
				return -1;
			/* past the limit the cert is refused anyway: no need
			 * to look for a repeat among more */
			if (!stored && cur->uids < scan &&
			    uid_seen_add(seen, tag, b, n, e) == -1)
				return -1;
			cur->uids++;
			sc.target = n;
			break;
		case TAG_PUBSUB:
			/* a stored form's v3 subkey (an older keydird took
			 * them) is dropped by pgp_strip */
			if (!stored && pkt_key_check(b, n, e) == -1)
				return -1;
			sc.sweight = 1;
			if (bound &&
			    pkt_key_numbers(b, n, lim, &sc.sweight, e) == -1)
				return -1;
			cur->subs++;
			sc.target = n;
			break;
		case TAG_SIG:
			if (st->certs > 0 && cur->uids == 0 && cur->subs == 0 &&
			    pkt_sig_is_uid_cert(pkt_sig_type(b, n)))
				return err_set(e, ERR_INVALID, "malformed key: "
				    "a user ID certification comes before "
				    "the first user ID");
			st->sigs++;
			if (bound && pkt_sig_cost(b, n, &sc, lim, st, e) == -1)
				return -1;
			break;
		case TAG_MARKER:
		case TAG_TRUST:
			break;
		default:
			return err_set(e, ERR_INVALID, E_PARSE);
		}
	}
	return 0;
}

/* Walk the binary packets: shape, secrets and the limits, per cert. */
int
pkt_walk(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct pkt_stats *st, struct err *e)
{
	struct pkt_stats cur = { 0, 0, 0, 0, 0, 0 };
	struct uid_seen seen = { NULL, NULL, NULL, 0, 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	/* what a verifier's work costs: a stored form is judged by
	 * pkt_cost when it grows (pgp_merge), not each time it is read */
	rc = pkt_walk_certs(p, len, lim, lim && !lim->stored, st, &cur, &seen,
	    e);
	if (rc == 0)
		rc = pkt_cert_check(&cur, lim, e);
	if (rc == 0 && lim && lim->max_certs && st->certs > lim->max_certs)
		rc = err_set(e, ERR_TOOBIG, "too many keys (%zu, at most %zu)",
		    st->certs, lim->max_certs);
	free(seen.b);
	free(seen.n);
	free(seen.tag);
	return rc;
}

/* The cost limits of lim alone, on a form keydird made (binary). */
int
pkt_cost(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct err *e)
{
	struct pkt_stats st, cur;
	struct uid_seen seen = { NULL, NULL, NULL, 0, 0 };
	struct pgp_limits clim = *lim;
	int rc;

	memset(&st, 0, sizeof(st));
	memset(&cur, 0, sizeof(cur));
	clim.stored = true;
	clim.max_uids = clim.max_subkeys = clim.max_certs = 0;
	rc = pkt_walk_certs(p, len, &clim, true, &st, &cur, &seen, e);
	free(seen.b);
	free(seen.n);
	free(seen.tag);
	return rc;
}

/* De-armor one armor block onto bin. */
static int
armor_block(const uint8_t *p, size_t len, struct buf *bin)
{
	rnp_input_t in = NULL;
	rnp_output_t out = NULL;
	uint8_t *ob;
	size_t olen;
	int rc = -1;

	if (rnp_input_from_memory(&in, p, len, false) != RNP_SUCCESS)
		return -1;
	if (rnp_output_to_memory(&out, KEY_MAX) != RNP_SUCCESS)
		goto out;
	if (rnp_dearmor(in, out) != RNP_SUCCESS ||
	    rnp_output_memory_get_buf(out, &ob, &olen, false) != RNP_SUCCESS)
		goto out;
	rc = buf_add(bin, ob, olen);
out:
	rnp_output_destroy(out);
	rnp_input_destroy(in);
	return rc;
}

/*
 * The binary packets of in: as they are, or every concatenated armor
 * block de-armored in turn.
 */
int
to_binary(const uint8_t *in, size_t len, struct buf *bin, struct err *e)
{
	const uint8_t *p = in, *lim = in + len, *b, *q;
	size_t i = 0;

	while (i < len && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' ||
	    in[i] == '\n'))
		i++;
	if (i < len && (in[i] & 0x80))
		return buf_add(bin, in + i, len - i) == -1 ?
		    err_set(e, ERR_TOOBIG, "key data too large") : 0;
	while ((b = memmem(p, (size_t)(lim - p), "-----BEGIN PGP ", 15))) {
		q = memmem(b, (size_t)(lim - b), "-----END PGP ", 13);
		if (q == NULL)
			return err_set(e, ERR_INVALID, E_PARSE);
		q = memchr(q, '\n', (size_t)(lim - q));
		q = q ? q + 1 : lim;
		if (armor_block(b, (size_t)(q - b), bin) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		p = q;
	}
	if (bin->len == 0)
		return err_set(e, ERR_INVALID, E_PARSE);
	return 0;
}

