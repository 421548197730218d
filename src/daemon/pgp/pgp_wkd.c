/*
 * pgp_wkd: a published form cut down to one address for the Web Key
 * Directory, which serves a key by address and whose clients (gpg in
 * particular) expect the user IDs of that address only.
 */
#include <string.h>

#include "email.h"
#include "pgp.h"
#include "pgp_pkt.h"
#include "sizes.h"

#define WKD_UID_MAX 4096	/* longer: no address of ours */

/* Whether the user ID packet body b (n bytes) has address. */
static bool
uid_is(const uint8_t *b, size_t n, const char *address)
{
	char text[WKD_UID_MAX + 1], email[EMAIL_MAX + 1];

	if (n > WKD_UID_MAX || memchr(b, '\0', n) != NULL)
		return false;
	memcpy(text, b, n);
	text[n] = '\0';
	return email_from_uid(text, email, sizeof(email)) == 0 &&
	    strcmp(email, address) == 0;
}

int
pgp_wkd_form(const char *pub, size_t len, const char *address,
    struct buf *out, struct err *e)
{
	const uint8_t *p, *body;
	struct buf bin;
	size_t off = 0, start, blen;
	bool keep = false;
	int tag, rc = -1;

	buf_init(&bin, KEY_MAX);
	if (to_binary((const uint8_t *)pub, len, &bin, e) == -1)
		goto out;
	p = (const uint8_t *)bin.data;
	while (off < bin.len) {
		start = off;
		if (pkt_next(p, bin.len, &off, &tag, &body, &blen) == -1) {
			err_set(e, ERR_INVALID, "wkd: not OpenPGP packets");
			goto out;
		}
		switch (tag) {
		case TAG_PUBKEY:
		case TAG_PUBSUB:
			keep = true;
			break;
		case TAG_UID:
			keep = uid_is(body, blen, address);
			break;
		case TAG_UATTR:
			keep = false;
			break;
		case TAG_SIG:
			break;	/* goes with what it follows */
		default:
			continue;
		}
		if (keep && buf_add(out, p + start, off - start) == -1)
			break;
	}
	if (buf_failed(out))
		err_set(e, ERR_TOOBIG, "wkd: the key does not fit");
	else
		rc = 0;
out:
	buf_release(&bin);
	return rc;
}
