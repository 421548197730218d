/*
 * armor: OpenPGP ASCII armor (RFC 4880 section 6) for key blocks, so that
 * several stored keys can be served as one block without librnp.  Only
 * what keydird itself writes needs reading: one block, CRC checked.
 */
#ifndef KEYDIR_ARMOR_H
#define KEYDIR_ARMOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * The binary contents of the first armor block in in[0..len), appended to
 * bin.  Returns -1 (bin unchanged) when there is no well-formed block,
 * its base64 is bad, its CRC does not match or bin's cap is reached.
 */
int armor_decode(const char *in, size_t len, struct buf *bin);

/* bin[0..len) as a "PGP PUBLIC KEY BLOCK" with CRLF line ends, appended
 * to out; -1 past out's cap. */
int armor_encode_keys(const uint8_t *bin, size_t len, struct buf *out);

#endif
