/*
 * wkd: SHA-1 from nettle (the hash the protocol names; nothing here
 * trusts it for more than a file name), z-base-32 by hand: 5 bits a
 * character, most significant first.
 */
#include <ctype.h>
#include <string.h>

#include <nettle/sha1.h>

#include "wkd.h"

static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

void
wkd_hash(const char *local, size_t len, char out[WKD_HASH_LEN + 1])
{
	uint8_t d[SHA1_DIGEST_SIZE], c;
	struct sha1_ctx h;
	unsigned acc = 0, bits = 0;
	size_t i, o = 0;

	sha1_init(&h);
	for (i = 0; i < len; i++) {
		c = (uint8_t)tolower((unsigned char)local[i]);
		sha1_update(&h, 1, &c);
	}
	sha1_digest(&h, sizeof(d), d);
	for (i = 0; i < sizeof(d); i++) {
		acc = (acc << 8) | d[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = zb32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[o] = '\0';	/* 160 bits: 32 characters, none left over */
}

int
wkd_key(const char *address, char *out, size_t sz)
{
	const char *at = strrchr(address, '@');
	char h[WKD_HASH_LEN + 1];
	size_t n;

	if (at == NULL || at == address || at[1] == '\0' ||
	    WKD_HASH_LEN + (n = strlen(at)) + 1 > sz)
		return -1;
	wkd_hash(address, (size_t)(at - address), h);
	memcpy(out, h, WKD_HASH_LEN);
	memcpy(out + WKD_HASH_LEN, at, n + 1);
	return 0;
}
