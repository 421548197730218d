/*
 * submission: the plaintext of a signed submission (claims 3 and 4), the
 * JSON the keydir client writes and keydird reads:
 *
 *   {"action": "publish", "server": "AUTHORITY OF THE BASE URL",
 *    "key": "ARMORED CERT", "addresses": ["..."], "recovery": "BASE64"}
 *
 * addresses and recovery are optional (no addresses: every address on
 * the key).  server names the one directory the submission is for, as in
 * the removal statement (removal_authority), so it cannot be replayed to
 * another.
 */
#ifndef KEYDIR_SUBMISSION_H
#define KEYDIR_SUBMISSION_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sizes.h"

#define SUBMISSION_ADDRS_MAX 100
#define SUBMISSION_RECOVERY_MAX (64u << 10)	/* bytes, decoded */

struct submission {
	char server[256];
	char *key;		/* the armored (or base64) cert */
	size_t key_len;
	char (*addrs)[EMAIL_MAX + 1];	/* as given, not yet normalised */
	size_t naddrs;
	uint8_t *recovery;	/* decoded; NULL when none */
	size_t recovery_len;
};

/* Parse text into s (release with submission_release).  ERR_INVALID
 * naming the field for anything else; ERR_TOOBIG for a recovery blob
 * over SUBMISSION_RECOVERY_MAX. */
int submission_parse(const char *text, size_t len, struct submission *s,
    struct err *e);
void submission_release(struct submission *s);

#endif
