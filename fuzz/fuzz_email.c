/*
 * fuzz_email: address normalisation (lib/email.c), the one rule by which
 * addresses are compared, published and mailed.  The input is an address
 * or a user ID.  Beyond the sanitizers: a normalised address is short,
 * has no control character and normalises to itself (two spellings of
 * one address would be two keys for it), and the address of a user ID is
 * what normalising the user ID gives.
 */
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "fuzz.h"
#include "str.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_str(data, size);
	/* on the heap and exactly as large as promised: ASan sees a byte
	 * written past them */
	char *out = malloc(EMAIL_MAX + 1), *again = malloc(EMAIL_MAX + 1);
	char small[8];
	struct err e;

	if (email_normalize(in, out, EMAIL_MAX + 1, &e) == 0) {
		FUZZ_CHECK(strlen(out) <= EMAIL_MAX, "at most EMAIL_MAX");
		FUZZ_CHECK(!str_has_ctl(out, strlen(out)), "no control bytes");
		FUZZ_CHECK(strchr(out, '@') == strrchr(out, '@') &&
		    strchr(out, '@') != NULL, "one '@'");
		FUZZ_CHECK(email_normalize(out, again, EMAIL_MAX + 1, &e) ==
		    0 && strcmp(out, again) == 0, "normalising is idempotent");
		/* a buffer too small is an error, never an overflow */
		if (strlen(out) >= sizeof(small))
			FUZZ_CHECK(email_normalize(in, small, sizeof(small),
			    &e) == -1, "a short buffer is refused");
	} else
		FUZZ_CHECK(e.code == ERR_INVALID || e.code == ERR_INTERNAL,
		    "a refusal says why");
	if (email_from_uid(in, out, EMAIL_MAX + 1) == 0)
		FUZZ_CHECK(email_normalize(in, again, EMAIL_MAX + 1, &e) ==
		    0 && strcmp(out, again) == 0,
		    "a user ID's address is the normalised user ID");
	free(again);
	free(out);
	free(in);
	return 0;
}
