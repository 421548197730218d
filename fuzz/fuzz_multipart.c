/*
 * fuzz_multipart: multipart/form-data bodies (lib/multipart.c), what the
 * upload form sends.  The input is a Content-Type line, then the body.
 * Beyond the sanitizers: every part lies inside the body, after the one
 * before it, and has a name without control bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "multipart.h"
#include "str.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size), *body;
	char b[MP_BOUNDARY_MAX + 1], *ctype;
	struct mp_part parts[8];
	uint8_t *copy;
	struct err e;
	size_t len, n, i;

	if (nl == NULL)
		return 0;
	ctype = fuzz_str(data, (size_t)(nl - data));
	if (mp_boundary(ctype, b) == 0) {
		FUZZ_CHECK(b[0] != '\0' && strlen(b) <= MP_BOUNDARY_MAX &&
		    !str_has_ctl(b, strlen(b)), "a boundary is sane");
		len = size - (size_t)(nl + 1 - data);
		/* exactly as large as given: ASan sees a read past it */
		copy = malloc(len ? len : 1);
		memcpy(copy, nl + 1, len);
		body = copy;
		if (mp_parse(body, len, b, parts, 8, &n, &e) == 0) {
			FUZZ_CHECK(n <= 8, "at most max parts");
			for (i = 0; i < n; i++) {
				FUZZ_CHECK(parts[i].data >= body &&
				    parts[i].data + parts[i].len <= body + len,
				    "a part inside the body");
				FUZZ_CHECK(i == 0 || parts[i].data >=
				    parts[i - 1].data + parts[i - 1].len,
				    "parts in order");
				FUZZ_CHECK(parts[i].name[0] != '\0' &&
				    !str_has_ctl(parts[i].name,
				    strlen(parts[i].name)), "a sane name");
			}
		} else
			FUZZ_CHECK(e.code == ERR_INVALID, "a refusal says why");
		free(copy);
	}
	free(ctype);
	return 0;
}
