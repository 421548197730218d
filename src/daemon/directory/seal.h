/*
 * seal: upload sessions as sealed tokens, like Hagrid's stateless tokens.
 * The session text (fingerprint, the upload's addresses, expiry) is
 * encrypted and authenticated with a key only this server holds
 * (libsodium secretbox), so an upload writes nothing for its session and
 * a client cannot forge or widen one.
 */
#ifndef KEYDIR_SEAL_H
#define KEYDIR_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SEAL_KEY_LEN 32

/* Read the key at path, or make one (mode 0600) if there is none. */
int seal_key_load(const char *path, uint8_t key[SEAL_KEY_LEN],
    struct err *e);
/* Seal text into a base64url token; the caller frees it. */
char *seal_box(const uint8_t key[SEAL_KEY_LEN], const char *text);
/* Open a token: the text (caller frees), or NULL when the token is not
 * one of ours, was changed, or would open to more than max bytes. */
char *seal_open(const uint8_t key[SEAL_KEY_LEN], const char *token,
    size_t max);

#endif
