/*
 * sizes: the limits every layer and both programs agree on, in one place.
 * (Not "limits.h": GCC's own limits.h reaches the C library's with
 * #include_next, which would find a limits.h of ours first.)
 */
#ifndef KEYDIR_SIZES_H
#define KEYDIR_SIZES_H

/* Bytes of one key in any form: an upload, its stored and published
 * forms, every librnp output, a mail's attachment. */
#define KEY_MAX (4u << 20)

/* A v4 fingerprint and key id in hex (upper case), without the NUL. */
#define FPR_LEN 40
#define KEYID_LEN 16

/* An e-mail address: RFC 5321's path limit less the brackets. */
#define EMAIL_MAX 254

#endif
