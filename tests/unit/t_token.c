/*
 * t_token: confirmation tokens are 43 base64url characters and their
 * hash is the SHA-256 of that text.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "str.h"
#include "token.h"
#include "tap.h"

/* True when tok is TOKEN_LEN characters of [A-Za-z0-9_-]. */
static int
token_shape_ok(const char *tok)
{
	return strlen(tok) == TOKEN_LEN &&
	    strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == TOKEN_LEN;
}

/* SHA-256 of s in hex from sha256sum(1); -1 when it cannot run. */
static int
sha256sum_hex(const char *s, char out[65])
{
	char cmd[128];
	FILE *f;
	int n;

	/* s is base64url, so it needs no shell quoting. */
	n = snprintf(cmd, sizeof(cmd), "printf %%s '%s' | sha256sum", s);
	if (n < 0 || (size_t)n >= sizeof(cmd) || (f = popen(cmd, "r")) == NULL)
		return -1;
	if (fread(out, 1, 64, f) != 64) {
		pclose(f);
		return -1;
	}
	out[64] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

/* token_new output: shape, freshness and hash agreement. */
static void
test_new(void)
{
	char t1[TOKEN_LEN + 1], t2[TOKEN_LEN + 1], hex[65], ext[65];
	uint8_t h1[TOKEN_HASH_LEN], h2[TOKEN_HASH_LEN], h3[TOKEN_HASH_LEN];
	int i, shapes = 1, hashes = 1;

	token_new(t1, h1);
	token_new(t2, h2);
	ok(token_shape_ok(t1), "token_new gives 43 base64url chars: %s", t1);
	ok(strcmp(t1, t2) != 0, "two tokens differ");
	ok(memcmp(h1, h2, TOKEN_HASH_LEN) != 0, "two hashes differ");
	ok(token_hash(t1, h3) == 0 && memcmp(h1, h3, TOKEN_HASH_LEN) == 0,
	    "token_hash(tok) matches token_new's hash");
	crypto_hash_sha256(h3, (const unsigned char *)t1, strlen(t1));
	ok(memcmp(h1, h3, TOKEN_HASH_LEN) == 0, "hash is SHA-256 of the text");
	str_hex(h1, TOKEN_HASH_LEN, hex);
	if (sha256sum_hex(t1, ext) == 0)
		is_str(hex, ext, "hash agrees with sha256sum(1)");
	else
		ok(1, "# SKIP sha256sum(1) not available");
	for (i = 0; i < 200; i++) {
		token_new(t1, h1);
		if (!token_shape_ok(t1))
			shapes = 0;
		if (token_hash(t1, h2) != 0 ||
		    memcmp(h1, h2, TOKEN_HASH_LEN) != 0)
			hashes = 0;
	}
	ok(shapes, "200 more tokens have the right shape");
	ok(hashes, "200 more tokens round-trip through token_hash");
}

/* token_hash refuses anything that cannot be one of ours. */
static void
test_refuse(void)
{
	char tok[TOKEN_LEN + 1], bad[TOKEN_LEN + 2];
	uint8_t h[TOKEN_HASH_LEN];

	token_new(tok, h);
	memcpy(bad, tok, TOKEN_LEN - 1);
	bad[TOKEN_LEN - 1] = '\0';
	ok(token_hash(bad, h) == -1, "42 chars refused");
	memcpy(bad, tok, TOKEN_LEN);
	bad[TOKEN_LEN] = 'A';
	bad[TOKEN_LEN + 1] = '\0';
	ok(token_hash(bad, h) == -1, "44 chars refused");
	ok(token_hash("", h) == -1, "empty refused");
	memcpy(bad, tok, TOKEN_LEN + 1);
	bad[10] = '+';
	ok(token_hash(bad, h) == -1, "'+' refused");
	bad[10] = '/';
	ok(token_hash(bad, h) == -1, "'/' refused");
	memcpy(bad, tok, TOKEN_LEN + 1);
	bad[TOKEN_LEN - 1] = '=';
	ok(token_hash(bad, h) == -1, "'=' refused");
	memcpy(bad, tok, TOKEN_LEN + 1);
	bad[5] = ' ';
	ok(token_hash(bad, h) == -1, "space refused");
	memcpy(bad, tok, TOKEN_LEN + 1);
	bad[5] = '\n';
	ok(token_hash(bad, h) == -1, "newline refused");
	/* 43 chars carry 258 bits; the spare low 2 bits must be zero. */
	memset(bad, 'A', TOKEN_LEN);
	bad[TOKEN_LEN] = '\0';
	ok(token_hash(bad, h) == 0, "all-'A' (zero bits) accepted");
	bad[TOKEN_LEN - 1] = 'B';
	ok(token_hash(bad, h) == -1, "non-zero spare bits refused");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_new();
	test_refuse();
	return tap_done();
}
