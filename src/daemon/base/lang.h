/*
 * lang: the languages keydird speaks, on its pages and in its mails.
 * Each but English has a catalog msgfmt compiles from po/LANG.po, built
 * into keydird (.incbin) and opened once, read-only after that, so any
 * thread may look up a string.  A language is an index into lang_codes;
 * 0, English, is the default and has no catalog (the msgids are
 * English).  To add one: po/LANG.po, and its line in lang.c.
 */
#ifndef KEYDIR_LANG_H
#define KEYDIR_LANG_H

#include <stddef.h>

#include "i18n.h"		/* N_() */

#define LANG_N 2
/* lower-case primary tags, "en" first */
extern const char *const lang_codes[LANG_N];
/* each language's name in itself, for the switch */
extern const char *const lang_names[LANG_N];

/* lang's catalog: NULL for English, or when it did not open. */
const struct i18n_cat *lang_cat(size_t lang);
/* msgid in lang. */
const char *lang_tr(size_t lang, const char *msgid)
    __attribute__((format_arg(2)));
/* msgid, a printf format, in lang: the translation only when its
 * conversions are msgid's, in the same order (else msgid). */
const char *lang_fmt(size_t lang, const char *msgid)
    __attribute__((format_arg(2)));

/* The language for an Accept-Language value (NULL: none). */
size_t lang_accept(const char *accept);
/* The language a code names ("de", "de-AT", "de_CH"), or 0. */
size_t lang_code(const char *code);
/* The language for a list of locales, the first that has a catalog
 * winning ("de_CH", "de"; the locale[] of VKS request-verify). */
size_t lang_locales(const char *const *locales, size_t n);

#endif
