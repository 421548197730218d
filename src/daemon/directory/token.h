/*
 * token: the secrets in confirmation links.  256 random bits, written as
 * 43 characters of unpadded base64url; only their SHA-256 is ever stored.
 */
#ifndef KEYDIR_TOKEN_H
#define KEYDIR_TOKEN_H

#include <stdint.h>

#define TOKEN_LEN 43
#define TOKEN_HASH_LEN 32

/* A new token in tok and its hash. */
void token_new(char tok[TOKEN_LEN + 1], uint8_t hash[TOKEN_HASH_LEN]);
/* Hash of a token a client presented; -1 when tok is not 43 base64url
 * characters (so it cannot be one of ours). */
int token_hash(const char *tok, uint8_t hash[TOKEN_HASH_LEN]);

#endif
