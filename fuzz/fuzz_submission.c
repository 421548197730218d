/*
 * fuzz_submission: the JSON of a signed submission (lib/submission.c), as
 * it comes out of the decryption.  Beyond the sanitizers: what parses
 * holds a server name, a key that is a C string of key_len bytes, at most
 * SUBMISSION_ADDRS_MAX non-empty addresses and a recovery blob within
 * SUBMISSION_RECOVERY_MAX; what is refused holds nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "submission.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct submission s;
	struct err e;
	size_t i;

	if (submission_parse((const char *)data, size, &s, &e) == 0) {
		FUZZ_CHECK(s.server[0] != '\0', "a server");
		FUZZ_CHECK(s.key != NULL && s.key_len > 0 &&
		    strlen(s.key) == s.key_len, "a key, one C string");
		FUZZ_CHECK(s.naddrs <= SUBMISSION_ADDRS_MAX, "addresses: few");
		for (i = 0; i < s.naddrs; i++)
			FUZZ_CHECK(s.addrs[i][0] != '\0', "none empty");
		FUZZ_CHECK((s.recovery == NULL) == (s.recovery_len == 0) &&
		    s.recovery_len <= SUBMISSION_RECOVERY_MAX,
		    "recovery: none, or within its cap");
		submission_release(&s);
	} else
		FUZZ_CHECK(s.key == NULL && s.addrs == NULL &&
		    s.recovery == NULL, "a refused submission holds nothing");
	return 0;
}
