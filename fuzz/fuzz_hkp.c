/*
 * fuzz_hkp: HKP query strings.  The input is the query of
 * GET /pks/lookup (op, search, options: what gpg, sq and OpenPGP.js
 * send), run on a directory with one published key (fuzz_daemon.h); and
 * the decoders under it on their own: req_arg and percent-decoding.
 * Beyond the sanitizers: a decoded value has no NUL and is no longer than
 * its encoded form, and form-decoding differs from percent-decoding only
 * where there is a '+'.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_daemon.h"
#include "str.h"
#include "xmalloc.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_daemon_init();
	return 0;
}

/* The decoders on q alone. */
static void
decoders(const char *q)
{
	static const char *const names[] = { "op", "search", "options",
	    "exact", "fingerprint", "" };
	struct req r;
	char *v, *f;
	size_t i, n = strlen(q);

	memset(&r, 0, sizeof(r));
	r.query = q;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = req_arg(&r, names[i]);
		FUZZ_CHECK(v == NULL || strlen(v) <= n, "no longer decoded");
		free(v);
	}
	v = str_pct_decode(q, n);
	f = str_form_decode(q, n);
	FUZZ_CHECK((v == NULL) == (f == NULL), "the same escapes refused");
	if (v != NULL) {
		FUZZ_CHECK(strlen(v) <= n && strlen(v) == strlen(f),
		    "one byte for one");
		if (strchr(q, '+') == NULL)
			FUZZ_CHECK(strcmp(v, f) == 0, "'+' is the difference");
	}
	free(v);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = fuzz_str(data, size), *uri;
	struct daemon *d;

	decoders(q);
	/* libmicrohttpd ends the target at a space or line end */
	if (strpbrk(q, " \r\n") == NULL) {
		uri = xmalloc(strlen(q) + 16);
		memcpy(uri, "/pks/lookup?", 12);
		memcpy(uri + 12, q, strlen(q) + 1);
		d = fuzz_daemon_fresh();
		fuzz_request(d, HTTP_GET, uri, NULL, NULL, "", 0);
		fuzz_daemon_done();
		free(uri);
	}
	free(q);
	return 0;
}
