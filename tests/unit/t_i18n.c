/*
 * t_i18n: catalogs msgfmt really writes (a .po made here, compiled with
 * msgfmt, both byte orders), lookups in them, what a damaged file does,
 * and the choice of language from Accept-Language.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "tap.h"

static const char po[] =
    "msgid \"\"\n"
    "msgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n"
    "msgid \"Search\"\nmsgstr \"Suche\"\n\n"
    "msgid \"Upload a key\"\nmsgstr \"Schl\xc3\xbcssel hochladen\"\n\n"
    "msgid \"Not translated yet\"\nmsgstr \"\"\n\n"
    "msgid \"About\"\nmsgstr \"\xc3\x9c" "ber\"\n\n"
    "msgid \"Zebra\"\nmsgstr \"Zebra (de)\"\n\n"
    "msgid \"%s has %d keys\"\nmsgstr \"%s hat %d Schl\xc3\xbcssel\"\n\n"
    "msgid \"%s then %d\"\nmsgstr \"%d, dann %s\"\n\n"
    "msgid \"%s once\"\nmsgstr \"%s und %s\"\n\n"
    "msgid \"100%% of %s\"\nmsgstr \"100 %% von %s\"\n";

/* Compile po with msgfmt (endianness "little" or "big"); the bytes of
 * the .mo, or NULL. */
static uint8_t *
mo_make(const char *dir, const char *endian, size_t *n)
{
	char cmd[1024], path[600];
	uint8_t *p = NULL;
	FILE *f;
	long sz;

	snprintf(path, sizeof(path), "%s/de.po", dir);
	if ((f = fopen(path, "w")) == NULL)
		return NULL;
	fputs(po, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "msgfmt --endianness=%s -o %s/de.mo %s",
	    endian, dir, path);
	if (system(cmd) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/de.mo", dir);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)sz);
		if (p != NULL && fread(p, 1, (size_t)sz, f) != (size_t)sz) {
			free(p);
			p = NULL;
		}
		*n = (size_t)sz;
	}
	fclose(f);
	return p;
}

static void
lookups(const char *endian, const char *dir)
{
	struct i18n_cat *c;
	struct err e;
	uint8_t *p, *bad;
	size_t n = 0, i;

	p = mo_make(dir, endian, &n);
	ok(p != NULL, "%s-endian: msgfmt compiles the catalog", endian);
	if (p == NULL)
		return;
	c = i18n_open(p, n, &e);
	ok(c != NULL, "%s: it opens (%s)", endian, c ? "ok" : e.msg);
	is_str(i18n_get(c, "Search"), "Suche", "%s: a translation", endian);
	is_str(i18n_get(c, "Upload a key"), "Schl\xc3\xbcssel hochladen",
	    "%s: UTF-8 kept", endian);
	is_str(i18n_get(c, "About"), "\xc3\x9c" "ber", "%s: another", endian);
	is_str(i18n_get(c, "Zebra"), "Zebra (de)", "%s: the last", endian);
	is_str(i18n_get(c, "Not translated yet"), "Not translated yet",
	    "%s: an empty translation gives the original", endian);
	is_str(i18n_get(c, "Nowhere"), "Nowhere", "%s: unknown: the original",
	    endian);
	is_str(i18n_fmt(c, "%s has %d keys"), "%s hat %d Schl\xc3\xbcssel",
	    "%s: a format whose translation has its conversions", endian);
	is_str(i18n_fmt(c, "%s then %d"), "%s then %d",
	    "%s: conversions swapped: the original", endian);
	is_str(i18n_fmt(c, "%s once"), "%s once",
	    "%s: one conversion more: the original", endian);
	is_str(i18n_fmt(c, "100%% of %s"), "100 %% von %s",
	    "%s: %%%% and a flag-like space: still the same", endian);
	is_str(i18n_get(c, "%s then %d"), "%d, dann %s",
	    "%s: i18n_get does not look (not a format there)", endian);
	is_str(i18n_get(c, ""), "", "%s: \"\" is not the header", endian);
	ok(i18n_count(c) == 8, "%s: eight strings besides the header, msgfmt "
	    "leaves the untranslated one out (%zu)", endian, i18n_count(c));
	i18n_close(c);

	/* every truncation is refused or safe; a flipped table offset too */
	for (i = 0; i < n; i++) {
		c = i18n_open(p, i, &e);
		if (c != NULL && strcmp(i18n_get(c, "Search"), "Suche") &&
		    strcmp(i18n_get(c, "Search"), "Search"))
			break;
		i18n_close(c);
	}
	ok(i == n, "%s: each of %zu truncations is refused or answers "
	    "sanely", endian, n);
	bad = malloc(n);
	memcpy(bad, p, n);
	bad[13] ^= 0x40;	/* the originals' table offset */
	bad[14] ^= 0x40;
	c = i18n_open(bad, n, &e);
	ok(c == NULL, "%s: a table outside the file is refused", endian);
	memcpy(bad, p, n);
	bad[0] ^= 1;
	ok(i18n_open(bad, n, &e) == NULL, "%s: a wrong magic is refused",
	    endian);
	free(bad);
	free(p);
}

int
main(void)
{
	static const char *const have[] = { "en", "de" };
	char dir[] = "/tmp/t_i18n.XXXXXX";
	char cmd[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	lookups("little", dir);
	lookups("big", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "clean up %s", dir);
	ok(i18n_get(NULL, "Search") != NULL &&
	    !strcmp(i18n_get(NULL, "Search"), "Search"),
	    "no catalog: the original");

	ok(i18n_pick(NULL, have, 2) == 0, "no header: the default");
	ok(i18n_pick("de", have, 2) == 1, "de");
	ok(i18n_pick("de-AT,en;q=0.5", have, 2) == 1, "de-AT matches de");
	ok(i18n_pick("DE-at", have, 2) == 1, "case does not matter");
	ok(i18n_pick("de_CH", have, 2) == 1, "de_CH (a locale) matches de");
	ok(i18n_pick("den", have, 2) == 0, "den does not match de");
	ok(i18n_pick("fr, de;q=0.8, en;q=0.7", have, 2) == 1,
	    "the highest q among those there are");
	ok(i18n_pick("en;q=0.9, de", have, 2) == 1, "q=1 by default");
	ok(i18n_pick("de;q=0.5, en;q=0.5", have, 2) == 1,
	    "a tie: the earlier in the header");
	ok(i18n_pick("de;q=0, *", have, 2) == 0, "q=0 refuses; * the default");
	ok(i18n_pick("dex, d, deu", have, 2) == 0, "de only as a whole tag");
	ok(i18n_pick("fr", have, 2) == 0, "nothing there: the default");
	ok(i18n_pick(" de ; q=0.3 ,  en ; q=0.2", have, 2) == 1,
	    "spaces around tags and parameters");
	ok(i18n_pick(",,;,;q=,q=1,de;q=0.5,,", have, 2) == 1,
	    "junk is skipped");
	ok(i18n_pick("en;q=0.9, de;q=1.5", have, 2) == 1 &&
	    i18n_pick("de;q=1.5, en", have, 2) == 1,
	    "q past 1 is 1: above 0.9, and a tie kept by the earlier");
	ok(i18n_pick("fr;x=q=0, de", have, 2) == 1 &&
	    i18n_pick("de;level=1;q=0.2, en;q=0.1", have, 2) == 1,
	    "q= is read only as the item's own parameter");
	{
		char big[4096];
		size_t i;

		for (i = 0; i + 2 < sizeof(big); i += 2)
			memcpy(big + i, ";,", 2);
		big[i] = '\0';
		ok(i18n_pick(big, have, 2) == 0, "a long junk header: the "
		    "default, read no further than 512 bytes");
		memcpy(big + 3000, "de", 2);
		ok(i18n_pick(big, have, 2) == 0, "... a tag past them is not "
		    "seen");
	}
	return tap_done();
}
