/*
 * i18n: translations from GNU gettext catalogs (po/LANG.po, compiled by
 * msgfmt into .mo files at build time and linked in), looked up per
 * request.  glibc's gettext picks the language from the process's or the
 * thread's locale, which needs the locale generated on the machine
 * (de_DE.UTF-8 is not, on a fresh Debian) and LANGUAGE unset; reading
 * the .mo file ourselves needs neither and is thread-safe: a catalog is
 * read-only once loaded.
 *
 * Accept-Language (RFC 9110, 12.5.4) chooses among the languages there
 * are catalogs for.
 */
#ifndef KEYDIR_I18N_H
#define KEYDIR_I18N_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A string to translate where it is shown (scripts/po-check finds it):
 * it stays as it is here, and a page looks it up in its language. */
#define N_(s) (s)

/* One language's catalog. */
struct i18n_cat;

/*
 * A catalog over the .mo image p (n bytes, kept by the caller for as long
 * as the catalog lives: it is not copied).  Every offset is checked, and
 * the originals must be sorted, as msgfmt writes them.  NULL with
 * ERR_INVALID when p is not such a file.
 */
struct i18n_cat *i18n_open(const uint8_t *p, size_t n, struct err *e);
void i18n_close(struct i18n_cat *c);

/* The translation of msgid, or msgid itself when c is NULL or has none
 * (an empty translation counts as none). */
const char *i18n_get(const struct i18n_cat *c, const char *msgid);

/* The translation of msgid, a printf format, when it has msgid's
 * conversions in msgid's order; msgid otherwise (a catalog cannot make
 * printf read an argument that is not there). */
const char *i18n_fmt(const struct i18n_cat *c, const char *msgid);

/* How many strings c translates (not counting the header). */
size_t i18n_count(const struct i18n_cat *c);

/*
 * The best of the n languages have[] (lower-case primary tags such as
 * "en", "de") for the Accept-Language value accept (NULL: none given):
 * the highest q, the earlier in the header on a tie; "de-AT" (or
 * "de_AT") matches "de", "*" the first of have[]; q=0 refuses.  0 (the first, the
 * default) when nothing matches.
 */
size_t i18n_pick(const char *accept, const char *const *have, size_t n);

#endif
