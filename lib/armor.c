/*
 * armor: ASCII armor with libsodium's base64 and the CRC-24 of RFC 4880
 * section 6.1.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "armor.h"
#include "xmalloc.h"

#define ARMOR_LINE 64	/* base64 characters per line */

static const char armor_begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
static const char armor_end[] = "-----END PGP PUBLIC KEY BLOCK-----";

/* RFC 4880 CRC-24 of p[0..n). */
static uint32_t
crc24(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xB704CEu;
	int i;

	while (n-- > 0) {
		crc ^= (uint32_t)*p++ << 16;
		for (i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

/* Decode the base64 in b64[0..n) (line breaks ignored) onto bin. */
static int
b64_add(const char *b64, size_t n, struct buf *bin, size_t *added)
{
	size_t max = n / 4 * 3 + 3, got = 0;
	unsigned char *tmp = xmalloc(max);
	int rc = -1;

	if (sodium_base642bin(tmp, max, b64, n, " \t\r\n", &got, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    buf_add(bin, tmp, got) == 0) {
		*added = got;
		rc = 0;
	}
	free(tmp);
	return rc;
}

/* The first armor block of in, checked, onto bin. */
int
armor_decode(const char *in, size_t len, struct buf *bin)
{
	const char *p, *end = in + len, *body, *stop, *crc;
	uint8_t sum[3];
	size_t old = bin->len, n = 0, got = 0;

	if ((p = memmem(in, len, "-----BEGIN PGP ", 15)) == NULL ||
	    (p = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return -1;
	/* armor headers end at the first empty line */
	for (body = p + 1; body < end && *body != '\n' &&
	    !(*body == '\r' && body + 1 < end && body[1] == '\n');) {
		if ((p = memchr(body, '\n', (size_t)(end - body))) == NULL)
			return -1;
		body = p + 1;
	}
	body += body < end && *body == '\r' ? 2 : 1;
	if (body > end || (stop = memmem(body, (size_t)(end - body),
	    "-----END PGP ", 13)) == NULL)
		return -1;
	/* the checksum: the last line before the end line, "=" and four
	 * base64 characters (optional) */
	for (crc = stop; crc > body && (crc[-1] == '\r' || crc[-1] == '\n');)
		crc--;
	while (crc > body && crc[-1] != '\n')
		crc--;
	if (*crc != '=' || stop - crc < 5)
		crc = NULL;
	if (b64_add(body, (size_t)((crc ? crc : stop) - body), bin, &n) == -1)
		return -1;
	if (crc != NULL && (sodium_base642bin(sum, sizeof(sum), crc + 1, 4,
	    NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != 3 || crc24((const uint8_t *)bin->data + old, n) !=
	    ((uint32_t)sum[0] << 16 | (uint32_t)sum[1] << 8 | sum[2]))) {
		bin->len = old;
		bin->data[old] = '\0';
		return -1;
	}
	return 0;
}

/* bin armored as a public key block onto out. */
int
armor_encode_keys(const uint8_t *bin, size_t len, struct buf *out)
{
	char line[ARMOR_LINE + 1], tail[8];
	uint8_t sum[3];
	uint32_t crc = crc24(bin, len);
	size_t i, n;
	int rc = 0;

	rc |= buf_printf(out, "%s\r\n\r\n", armor_begin);
	for (i = 0; i < len && rc == 0; i += n) {
		n = len - i < ARMOR_LINE / 4 * 3 ? len - i : ARMOR_LINE / 4 * 3;
		sodium_bin2base64(line, sizeof(line), bin + i, n,
		    sodium_base64_VARIANT_ORIGINAL);
		rc |= buf_printf(out, "%s\r\n", line);
	}
	sum[0] = (uint8_t)(crc >> 16);
	sum[1] = (uint8_t)(crc >> 8);
	sum[2] = (uint8_t)crc;
	sodium_bin2base64(tail, sizeof(tail), sum, 3,
	    sodium_base64_VARIANT_ORIGINAL);
	rc |= buf_printf(out, "=%s\r\n%s\r\n", tail, armor_end);
	return rc == 0 ? 0 : -1;
}
