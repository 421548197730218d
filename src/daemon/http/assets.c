/*
 * assets: each file is put into .rodata by the assembler's .incbin, with
 * a NUL after it, between two symbols; the Makefile makes this object
 * depend on the files (the compiler's dependency list does not see
 * them).  The catalogs are base/lang.c's.
 */
#include <string.h>

#include "assets.h"

#define ASSET(sym, file)						\
	__asm__(".section .rodata\n"					\
	    ".balign 16\n"						\
	    "asset_" #sym ":\n"						\
	    ".incbin \"" file "\"\n"					\
	    "asset_" #sym "_end:\n"					\
	    ".byte 0\n"							\
	    ".previous\n");						\
	extern const uint8_t asset_##sym[], asset_##sym##_end[]

ASSET(layout, "web/templates/layout.html");
ASSET(index, "web/templates/index.html");
ASSET(about, "web/templates/about.html");
ASSET(search, "web/templates/search.html");
ASSET(upload, "web/templates/upload.html");
ASSET(uploaded, "web/templates/uploaded.html");
ASSET(mailed, "web/templates/mailed.html");
ASSET(message, "web/templates/message.html");
ASSET(manage, "web/templates/manage.html");
ASSET(verify, "web/templates/verify.html");
ASSET(api, "web/templates/api.html");
ASSET(link, "web/templates/link.html");
ASSET(recovery, "web/templates/recovery.html");
ASSET(style, "web/static/style.css");
ASSET(favicon, "web/static/favicon.svg");
ASSET(robots, "web/static/robots.txt");

#define ENTRY(name, sym) { name, asset_##sym, asset_##sym##_end }

static const struct {
	const char *name;
	const uint8_t *start, *end;
} assets[] = {
	ENTRY("layout.html", layout),
	ENTRY("index.html", index),
	ENTRY("about.html", about),
	ENTRY("search.html", search),
	ENTRY("upload.html", upload),
	ENTRY("uploaded.html", uploaded),
	ENTRY("mailed.html", mailed),
	ENTRY("message.html", message),
	ENTRY("manage.html", manage),
	ENTRY("verify.html", verify),
	ENTRY("api.html", api),
	ENTRY("link.html", link),
	ENTRY("recovery.html", recovery),
	ENTRY("style.css", style),
	ENTRY("favicon.svg", favicon),
	ENTRY("robots.txt", robots),
};

int
asset_get(const char *name, struct asset *out)
{
	size_t i;

	for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (!strcmp(assets[i].name, name)) {
			out->name = assets[i].name;
			out->data = assets[i].start;
			out->len = (size_t)(assets[i].end - assets[i].start);
			return 0;
		}
	return -1;
}

const char *
asset_text(const char *name)
{
	struct asset a;

	return asset_get(name, &a) == 0 ? (const char *)a.data : "";
}
