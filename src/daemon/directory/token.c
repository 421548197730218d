/*
 * token: random confirmation secrets and their hashes (libsodium).
 */
#include <string.h>

#include <sodium.h>

#include "token.h"

/* Fresh 256-bit token and its SHA-256. */
void
token_new(char tok[TOKEN_LEN + 1], uint8_t hash[TOKEN_HASH_LEN])
{
	uint8_t raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(tok, TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	crypto_hash_sha256(hash, (const unsigned char *)tok, TOKEN_LEN);
}

/* Hash a presented token after checking its shape. */
int
token_hash(const char *tok, uint8_t hash[TOKEN_HASH_LEN])
{
	uint8_t raw[32];
	size_t rawlen = 0;

	if (strlen(tok) != TOKEN_LEN)
		return -1;
	if (sodium_base642bin(raw, sizeof(raw), tok, TOKEN_LEN, NULL, &rawlen,
	    NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    rawlen != sizeof(raw))
		return -1;
	crypto_hash_sha256(hash, (const unsigned char *)tok, TOKEN_LEN);
	return 0;
}
