/*
 * fuzz_armor: ASCII armor (lib/armor.c).  The input is armored text.
 * Beyond the sanitizers: a failed decode leaves the buffer as it was, and
 * what decodes encodes and decodes back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "armor.h"
#include "buf.h"
#include "fuzz.h"
#include "sizes.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf bin, arm, back;

	buf_init(&bin, KEY_MAX);
	buf_init(&arm, 2 * KEY_MAX);
	buf_init(&back, KEY_MAX);
	buf_addstr(&bin, "kept");
	/* the input itself, not a NUL-terminated copy: armor_decode is
	 * given a length and must not read past it */
	if (armor_decode((const char *)data, size, &bin) == 0) {
		FUZZ_CHECK(armor_encode_keys((const uint8_t *)bin.data + 4,
		    bin.len - 4, &arm) == 0, "what decodes encodes");
		FUZZ_CHECK(armor_decode(arm.data, arm.len, &back) == 0,
		    "what we encode decodes");
		FUZZ_CHECK(back.len == bin.len - 4 && memcmp(back.data,
		    bin.data + 4, back.len) == 0, "and gives the same bytes");
	} else
		FUZZ_CHECK(bin.len == 4 && strcmp(bin.data, "kept") == 0,
		    "a failed decode leaves the buffer alone");
	buf_release(&back);
	buf_release(&arm);
	buf_release(&bin);
	return 0;
}
