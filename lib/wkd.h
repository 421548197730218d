/*
 * wkd: the names of the Web Key Directory (draft-koch-openpgp-webkey-
 * service, "Key Discovery"): an address's key is found under
 * .../hu/HASH, HASH the z-base-32 form of the SHA-1 of the address's
 * local part mapped to lower case.
 */
#ifndef KEYDIR_WKD_H
#define KEYDIR_WKD_H

#include <stddef.h>

#define WKD_HASH_LEN 32		/* z-base-32 of 20 bytes */

/* The hash of local part local (len bytes) into out. */
void wkd_hash(const char *local, size_t len, char out[WKD_HASH_LEN + 1]);

/*
 * The WKD lookup key of a normalised address, "HASH@domain" (what the
 * store keeps and a request names: the domain and the hash), into out
 * (sz bytes).  -1 when address has no '@' or out is too small.
 */
int wkd_key(const char *address, char *out, size_t sz);

#endif
