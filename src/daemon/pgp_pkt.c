/*
 * pgp_pkt: de-armoring and the packet walk that enforces the upload limits
 * before librnp parses anything.
 */
#define _GNU_SOURCE	/* memmem */
#include <string.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp_pkt.h"
/* OpenPGP packet tags we look at. */
enum {
	TAG_SIG = 2, TAG_SECKEY = 5, TAG_PUBKEY = 6, TAG_SECSUB = 7,
	TAG_MARKER = 10, TAG_TRUST = 12, TAG_UID = 13, TAG_PUBSUB = 14,
	TAG_UATTR = 17
};


/* Read one packet header at p[*off]; sets tag and body length, skips it. */
static int
pkt_next(const uint8_t *p, size_t len, size_t *off, int *tag)
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

/* Walk the binary packets: shape, secrets and the limits, per cert. */
int
pkt_walk(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct pkt_stats *st, struct err *e)
{
	struct pkt_stats cur = { 0, 0, 0, 0 };
	size_t off = 0;
	int tag;

	memset(st, 0, sizeof(*st));
	while (off < len) {
		if (pkt_next(p, len, &off, &tag) == -1)
			return err_set(e, ERR_INVALID, E_PARSE);
		switch (tag) {
		case TAG_SECKEY:
		case TAG_SECSUB:
			return err_set(e, ERR_INVALID, E_SECRET);
		case TAG_PUBKEY:
			if (pkt_cert_check(&cur, lim, e) == -1)
				return -1;
			memset(&cur, 0, sizeof(cur));
			st->certs++;
			break;
		case TAG_UID:
		case TAG_UATTR:
			cur.uids++;
			break;
		case TAG_PUBSUB:
			cur.subs++;
			break;
		case TAG_SIG:
			st->sigs++;
			break;
		case TAG_MARKER:
		case TAG_TRUST:
			break;
		default:
			return err_set(e, ERR_INVALID, E_PARSE);
		}
	}
	if (pkt_cert_check(&cur, lim, e) == -1)
		return -1;
	if (lim && lim->max_certs && st->certs > lim->max_certs)
		return err_set(e, ERR_TOOBIG, "too many keys (%zu, at most %zu)",
		    st->certs, lim->max_certs);
	return 0;
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
	if (rnp_output_to_memory(&out, PGP_OUT_MAX) != RNP_SUCCESS)
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

