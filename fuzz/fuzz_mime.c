/*
 * fuzz_mime: inbound mail (lib/mime.c), what keydird receive reads from
 * anyone: the entity, its parts to MIME_DEPTH_MAX, each body decoded and
 * the headers the Web Key Service reads.  Beyond the sanitizers: every
 * part lies inside its parent, in order, and at most MIME_PARTS_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mime.h"

static void
walk(const struct mime_ent *m, const char *lo, const char *hi, int depth)
{
	struct mime_ent parts[MIME_PARTS_MAX];
	struct buf b;
	struct err e;
	char v[256];
	size_t n, i;

	FUZZ_CHECK(m->head >= lo && m->head + m->head_len <= hi &&
	    m->body >= lo && m->body + m->body_len <= hi,
	    "an entity inside its parent");
	mime_header(m, "From", v, sizeof(v));
	FUZZ_CHECK(strlen(v) < sizeof(v), "a header value fits");
	buf_init(&b, 1 << 20);
	if (mime_body(m, &b, &e) == -1)
		FUZZ_CHECK(e.code == ERR_INVALID || e.code == ERR_TOOBIG,
		    "a body refused says why");
	buf_release(&b);
	if (m->boundary[0] == '\0' || depth >= MIME_DEPTH_MAX)
		return;
	if (mime_parts(m, parts, MIME_PARTS_MAX, &n, &e) == -1)
		return;
	FUZZ_CHECK(n <= MIME_PARTS_MAX, "at most MIME_PARTS_MAX parts");
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(i == 0 || parts[i].head >= parts[i - 1].body +
		    parts[i - 1].body_len, "parts in order");
		walk(&parts[i], m->body, m->body + m->body_len, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_ent top;
	struct err e;
	char *copy;

	/* exactly as large as given: ASan sees a read past it */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	if (mime_entity(copy, size, &top, &e) == 0)
		walk(&top, copy, copy + size, 0);
	else
		FUZZ_CHECK(e.code == ERR_INVALID, "a refusal says why");
	free(copy);
	return 0;
}
