/*
 * fuzz_removal: the text of a signed removal request (lib/removal.c), as
 * it comes out of the signature.  Beyond the sanitizers: what parses has
 * every field well-formed (a fingerprint of 40 upper-case hex digits, a
 * nonce of 16 to 128 printable characters, normalised addresses, at most
 * REMOVAL_MAX_ADDRS of them, none twice) and passes its own check.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "removal.h"
#include "str.h"

/* What removal_parse promises of r. */
static void
removal_sound(const struct removal *r)
{
	char again[EMAIL_MAX + 1];
	struct err e;
	size_t i, j, n = strlen(r->nonce);

	FUZZ_CHECK(str_is_hex(r->fpr, FPR_LEN), "fingerprint: 40 hex");
	for (i = 0; i < FPR_LEN; i++)
		FUZZ_CHECK(!islower((unsigned char)r->fpr[i]), "upper case");
	FUZZ_CHECK(n >= 16 && n <= 128, "nonce: 16 to 128");
	for (i = 0; i < n; i++)
		FUZZ_CHECK(isgraph((unsigned char)r->nonce[i]), "printable");
	FUZZ_CHECK(r->server[0] != '\0', "a server");
	FUZZ_CHECK(r->all ? r->naddrs == 0 : r->naddrs > 0 &&
	    r->naddrs <= REMOVAL_MAX_ADDRS, "all, or 1 to 100 addresses");
	for (i = 0; i < r->naddrs; i++) {
		FUZZ_CHECK(email_normalize(r->addrs[i], again, sizeof(again),
		    &e) == 0 && strcmp(again, r->addrs[i]) == 0,
		    "addresses normalised");
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(r->addrs[i], r->addrs[j]) != 0,
			    "no address twice");
	}
	FUZZ_CHECK(removal_check(r, r->server, r->date, &e) == 0,
	    "a statement passes its own server and date");
	FUZZ_CHECK(removal_check(r, r->server, r->date + 2 * REMOVAL_WINDOW,
	    &e) == -1, "and is stale later");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_str(data, size), auth[256];
	struct removal r;
	struct err e;

	if (removal_parse(in, &r, &e) == 0) {
		removal_sound(&r);
		removal_release(&r);
	} else
		FUZZ_CHECK(r.addrs == NULL && r.naddrs == 0,
		    "a refused statement holds nothing");
	/* the server's own base_url goes through the same parser */
	if (removal_authority(in, auth, sizeof(auth)) == 0)
		FUZZ_CHECK(auth[0] != '\0' && strlen(auth) < sizeof(auth) &&
		    strpbrk(auth, "/?#") == NULL, "an authority");
	free(in);
	return 0;
}
