/*
 * multipart: the fields of a multipart/form-data body (RFC 7578), what a
 * browser sends for a form with a file field.  Only what such a form
 * needs: each part's name, its filename when it has one, and its bytes;
 * part headers other than Content-Disposition are skipped.  The parts
 * point into the body, which must outlive them.
 */
#ifndef KEYDIR_MULTIPART_H
#define KEYDIR_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MP_BOUNDARY_MAX 70	/* RFC 2046 */
#define MP_NAME_MAX 64

struct mp_part {
	char name[MP_NAME_MAX + 1];
	char filename[MP_NAME_MAX * 4 + 1];	/* "" when none or too long */
	const uint8_t *data;
	size_t len;
};

/* The boundary parameter of a multipart/form-data Content-Type into out
 * (at least MP_BOUNDARY_MAX + 1 bytes); -1 when ctype is not one or has
 * no valid boundary. */
int mp_boundary(const char *ctype, char *out);

/*
 * Split body into at most max parts.  -1 with ERR_INVALID ("the form's
 * data is malformed", or naming what) when the body is not well formed:
 * no opening boundary, a part without its headers' end, a part without a
 * form-data name, more than max parts, no closing boundary.
 */
int mp_parse(const uint8_t *body, size_t len, const char *boundary,
    struct mp_part *parts, size_t max, size_t *n, struct err *e);

/* The first part named name, or NULL. */
const struct mp_part *mp_find(const struct mp_part *parts, size_t n,
    const char *name);

#endif
