/*
 * mime: as much of RFC 2045/2046 as the Web Key Service's mails need
 * (draft-koch-openpgp-webkey-service): an entity's headers, its
 * Content-Type and transfer encoding, the parts of a multipart body, and
 * a body decoded.  Bounded: an entity is at most len bytes, a multipart
 * has at most MIME_PARTS_MAX parts, and the caller bounds the depth
 * (each level is one call).  Nothing is copied but the decoded bodies.
 */
#ifndef KEYDIR_MIME_H
#define KEYDIR_MIME_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define MIME_PARTS_MAX 16
#define MIME_DEPTH_MAX 4

struct mime_ent {
	char ctype[96];		/* "type/subtype", lower case; text/plain
				 * when the header is missing */
	char boundary[76];	/* a multipart's boundary, else "" */
	char cte[32];		/* transfer encoding, lower case; "" 7bit */
	const char *head;	/* the header block */
	size_t head_len;
	const char *body;	/* the body, still encoded */
	size_t body_len;
};

/* The entity at p (len bytes): headers, then the body after the first
 * empty line.  ERR_INVALID for a multipart without a usable boundary. */
int mime_entity(const char *p, size_t len, struct mime_ent *out,
    struct err *e);

/* The parts of multipart entity m into parts[0..*n), at most max (and at
 * most MIME_PARTS_MAX).  ERR_INVALID when m is not a multipart or its
 * body has no closed part. */
int mime_parts(const struct mime_ent *m, struct mime_ent *parts, size_t max,
    size_t *n, struct err *e);

/* m's body, its transfer encoding undone (base64, quoted-printable; 7bit,
 * 8bit and binary as they are), appended to out. */
int mime_body(const struct mime_ent *m, struct buf *out, struct err *e);

/* The value of header name (any case) of m, unfolded and trimmed, into
 * out; 0, or 1 when m has no such header. */
int mime_header(const struct mime_ent *m, const char *name, char *out,
    size_t sz);

#endif
