/*
 * pgp_pkt: de-armoring and the packet walk that enforces the upload limits
 * before librnp parses anything.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp_pkt.h"
#include "str.h"
#include "xmalloc.h"
/* OpenPGP packet tags we look at. */
enum {
	TAG_SIG = 2, TAG_SECKEY = 5, TAG_PUBKEY = 6, TAG_SECSUB = 7,
	TAG_MARKER = 10, TAG_TRUST = 12, TAG_UID = 13, TAG_PUBSUB = 14,
	TAG_UATTR = 17
};


/* Read one packet header at p[*off]; sets tag and body, skips it. */
static int
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

/*
 * The packet loop of pkt_walk; cur gets the counts of the last cert,
 * whose limits the caller checks.
 */
static int
pkt_walk_certs(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct pkt_stats *st, struct pkt_stats *cur, struct uid_seen *seen,
    struct err *e)
{
	const uint8_t *b;
	size_t off = 0, n;
	bool stored = lim == NULL || lim->stored;
	size_t scan = lim && lim->max_uids ? lim->max_uids : UID_SEEN_MAX;
	int tag;

	while (off < len) {
		if (pkt_next(p, len, &off, &tag, &b, &n) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		switch (tag) {
		case TAG_SECKEY:
		case TAG_SECSUB:
			return err_set(e, ERR_INVALID, E_SECRET);
		case TAG_PUBKEY:
			if (pkt_cert_check(cur, lim, e) == -1 ||
			    pkt_key_check(b, n, e) == -1)
				return -1;
			memset(cur, 0, sizeof(*cur));
			seen->count = 0;
			st->certs++;
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
			break;
		case TAG_PUBSUB:
			/* a stored form's v3 subkey (an older keydird took
			 * them) is dropped by pgp_strip */
			if (!stored && pkt_key_check(b, n, e) == -1)
				return -1;
			cur->subs++;
			break;
		case TAG_SIG:
			if (st->certs > 0 && cur->uids == 0 && cur->subs == 0 &&
			    pkt_sig_is_uid_cert(pkt_sig_type(b, n)))
				return err_set(e, ERR_INVALID, "malformed key: "
				    "a user ID certification comes before "
				    "the first user ID");
			st->sigs++;
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
	struct pkt_stats cur = { 0, 0, 0, 0 };
	struct uid_seen seen = { NULL, NULL, NULL, 0, 0 };
	int rc;

	memset(st, 0, sizeof(*st));
	rc = pkt_walk_certs(p, len, lim, st, &cur, &seen, e);
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

