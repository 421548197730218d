/*
 * email: address normalisation, the one rule for comparing addresses.
 * Follows Hagrid/Autocrypt: the domain goes through IDNA 2008 to ASCII,
 * then the whole address is lower-cased without locale.  Not a full RFC
 * 5322 parser: quoted local parts, comments and IP-literal domains are
 * refused.
 */
#ifndef KEYDIR_EMAIL_H
#define KEYDIR_EMAIL_H

#include <stddef.h>

#include "sizes.h"
#include "err.h"


/*
 * Normalise in, which is a bare address or a display form such as
 * "Alice <Alice@Example.ORG>", into out (at least EMAIL_MAX + 1 bytes).
 * Refuses (ERR_INVALID, message "malformed e-mail address") empty input,
 * CR/LF or other control bytes, spaces in the address, a missing or
 * doubled '@', an empty local part or domain, a local part starting with
 * '-' or '|' or holding '%' or '!' (old routing syntax), a domain without
 * a dot or that IDNA refuses, and a result longer than EMAIL_MAX.
 * Returns 0 or -1.
 */
int email_normalize(const char *in, char *out, size_t outsz, struct err *e);

/*
 * The normalised address held by an OpenPGP user ID into out, if the user
 * ID has the strict form: a bare "addr", or "Name <addr>" where Name has
 * no '@', '<', '>' or ',' and nothing follows the '>'.  Returns -1 when
 * the user ID holds no valid address in that form.  Never sets an error:
 * a user ID without an address is normal.
 */
int email_from_uid(const char *uid, char *out, size_t outsz);

/*
 * The Unicode form of a normalised address whose domain has IDNA labels
 * ("xn--"), for people to read beside it: 0 with out filled, -1 when
 * there is none (no such label, or it does not decode).
 */
int email_unicode(const char *addr, char *out, size_t outsz);

#endif
