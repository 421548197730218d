/*
 * t_armor: armor_decode and armor_encode_keys, against each other, against
 * gpg's armor, and against broken input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "armor.h"
#include "tap.h"

/* What gpg --enarmor wrote for gpg_bin (the start of a key packet). */
static const char gpg_block[] =
    "-----BEGIN PGP ARMORED FILE-----\n"
    "Comment: Use \"gpg --dearmor\" for unpacking\n"
    "\n"
    "mDMEZQAAABYJKwYBBAHaRw8BAQdA\n"
    "=vHvd\n"
    "-----END PGP ARMORED FILE-----\n";
static const unsigned char gpg_bin[] = {
	0x98, 0x33, 0x04, 0x65, 0x00, 0x00, 0x00, 0x16, 0x09, 0x2b, 0x06,
	0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01, 0x01, 0x07, 0x40
};

/* Encode n bytes of a pattern, decode again: the same bytes. */
static void
roundtrip(size_t n)
{
	struct buf a, b;
	unsigned char *p = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 131 + 7);
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	ok(armor_encode_keys(p, n, &a) == 0 &&
	    armor_decode(a.data, a.len, &b) == 0 && b.len == n &&
	    memcmp(b.data, p, n) == 0, "%zu bytes survive encode and decode",
	    n);
	buf_release(&a);
	buf_release(&b);
	free(p);
}

int
main(void)
{
	struct buf b, o;
	char *bad;

	roundtrip(0);
	roundtrip(1);
	roundtrip(47);
	roundtrip(48);
	roundtrip(49);
	roundtrip(100000);

	buf_init(&b, 1 << 20);
	ok(armor_decode(gpg_block, strlen(gpg_block), &b) == 0 &&
	    b.len == sizeof(gpg_bin) && !memcmp(b.data, gpg_bin, b.len),
	    "a block with an armor header and LF line ends");
	buf_init(&o, 1 << 20);
	armor_encode_keys(gpg_bin, sizeof(gpg_bin), &o);
	ok(strstr(o.data, "\r\n=vHvd\r\n-----END PGP PUBLIC KEY BLOCK-----\r\n")
	    != NULL, "our CRC-24 is gpg's");
	buf_release(&o);

	bad = strdup(gpg_block);
	strstr(bad, "=vHvd")[1] = 'h';
	buf_reset(&b);
	ok(armor_decode(bad, strlen(bad), &b) == -1 && b.len == 0,
	    "a CRC that does not match is refused, nothing appended");
	free(bad);
	bad = strdup(gpg_block);
	strstr(bad, "mDME")[1] = '*';
	ok(armor_decode(bad, strlen(bad), &b) == -1 && b.len == 0,
	    "bad base64 is refused");
	free(bad);
	ok(armor_decode("no armor here", 13, &b) == -1, "no block");
	ok(armor_decode(gpg_block, 60, &b) == -1, "a cut-off block");

	buf_init(&o, 16);
	ok(armor_encode_keys(gpg_bin, sizeof(gpg_bin), &o) == -1,
	    "encoding past the output cap fails");
	buf_release(&o);
	buf_release(&b);
	return tap_done();
}
