/*
 * removal: the text of a signed removal request, parsed and checked.  Pure:
 * no I/O and no clock (now is a parameter), so every rule has a unit test.
 *
 *   keydir-request: remove
 *   server: HOST[:PORT]           the authority of base_url, as written
 *   fingerprint: FPR              40 hex digits
 *   addresses: all | ADDR[, ADDR...]
 *   nonce: RANDOM                 16 to 128 characters, no spaces
 *   date: YYYY-MM-DDTHH:MM:SSZ    within REMOVAL_WINDOW of now
 */
#ifndef KEYDIR_REMOVAL_H
#define KEYDIR_REMOVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sizes.h"
#include "email.h"
#include "err.h"

#define REMOVAL_WINDOW 900	/* seconds either side of now */
#define REMOVAL_MAX_ADDRS 100

struct removal {
	char server[256];
	char fpr[FPR_LEN + 1];		/* upper-case */
	bool all;
	char (*addrs)[EMAIL_MAX + 1];	/* normalised, when !all */
	size_t naddrs;
	char nonce[129];
	int64_t date;
};

/*
 * Parse text into r.  Every field is required, once; an unknown field, a
 * malformed value or a request other than "remove" is ERR_INVALID naming
 * the field.  Blank lines and CRLF are accepted.  Free with
 * removal_release.
 */
int removal_parse(const char *text, struct removal *r, struct err *e);
/*
 * Check r against this server's authority and the time now: ERR_INVALID
 * "wrong server" or "stale date" otherwise.
 */
int removal_check(const struct removal *r, const char *authority,
    int64_t now, struct err *e);
/* The authority (host[:port]) part of a URL, into out. */
int removal_authority(const char *url, char *out, size_t sz);
void removal_release(struct removal *r);

#endif
