/*
 * fuzz_lang: the language of a page (lib/i18n.c).  The input is an
 * Accept-Language header, and also, as bytes, a .mo catalog (ours are
 * built from po/, but a reader that trusts offsets is one bad file away
 * from reading anywhere).  Beyond the sanitizers: the language picked is
 * one there is; a catalog that opens answers every lookup with a
 * NUL-terminated string inside the file or the msgid itself.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "i18n.h"

static const char *const have[] = { "en", "de", "pt-br" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_str(data, size);
	struct i18n_cat *c;
	const char *t;
	struct err e;
	uint8_t *copy;
	size_t i;

	i = i18n_pick(in, have, 3);
	FUZZ_CHECK(i < 3, "a language there is");
	FUZZ_CHECK(i18n_pick(in, have, 1) == 0, "the only one");
	/* exactly as large as given: ASan sees a read past the end */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if ((c = i18n_open(copy, size, &e)) != NULL) {
		t = i18n_get(c, "Search");
		FUZZ_CHECK(t != NULL && (!strcmp(t, "Search") ||
		    ((const uint8_t *)t >= copy && (const uint8_t *)t +
		    strlen(t) < copy + size)), "a translation inside the file");
		(void)i18n_get(c, in);
		(void)i18n_count(c);
		i18n_close(c);
	} else
		FUZZ_CHECK(e.code == ERR_INVALID, "a refusal says why");
	free(copy);
	free(in);
	return 0;
}
