/*
 * assets: the web site's files, built into keydird (web/templates and
 * web/static; the catalogs are base/lang.c's), so that the
 * binary serves its pages with nothing installed beside it.
 */
#ifndef KEYDIR_ASSETS_H
#define KEYDIR_ASSETS_H

#include <stddef.h>
#include <stdint.h>

struct asset {
	const char *name;	/* "layout.html", "style.css" */
	const uint8_t *data;	/* followed by a NUL not counted in len */
	size_t len;
};

/* The asset name into out; -1 when there is none. */
int asset_get(const char *name, struct asset *out);
/* Its data as a C string ("" when missing): templates. */
const char *asset_text(const char *name);

#endif
