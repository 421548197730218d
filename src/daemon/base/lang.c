/*
 * lang: each catalog is put into .rodata by the assembler's .incbin,
 * with a NUL after it, between two symbols; the Makefile makes this
 * object depend on the .mo files and names their folder (LANG_MO_DIR).
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "lang.h"
#include "log.h"

#ifndef LANG_MO_DIR
#error "LANG_MO_DIR: the folder of the compiled .mo files (Makefile)"
#endif

#define CATALOG(sym, file)						\
	__asm__(".section .rodata\n"					\
	    ".balign 16\n"						\
	    "lang_" #sym ":\n"						\
	    ".incbin \"" file "\"\n"					\
	    "lang_" #sym "_end:\n"					\
	    ".byte 0\n"							\
	    ".previous\n");						\
	extern const uint8_t lang_##sym[], lang_##sym##_end[]

CATALOG(de, LANG_MO_DIR "/de.mo");

const char *const lang_codes[LANG_N] = { "en", "de" };
const char *const lang_names[LANG_N] = { "English", "Deutsch" };

static const struct {
	const uint8_t *start, *end;
} mo[LANG_N] = {
	{ NULL, NULL },
	{ lang_de, lang_de_end },
};

static struct i18n_cat *cats[LANG_N];
static pthread_once_t lang_once = PTHREAD_ONCE_INIT;

static void
lang_init(void)
{
	struct err e;
	size_t i;

	for (i = 1; i < LANG_N; i++)
		if ((cats[i] = i18n_open(mo[i].start,
		    (size_t)(mo[i].end - mo[i].start), &e)) == NULL)
			log_warnx("lang: %s: %s: it stays English",
			    lang_codes[i], e.msg);
}

const struct i18n_cat *
lang_cat(size_t lang)
{
	pthread_once(&lang_once, lang_init);
	return lang < LANG_N ? cats[lang] : NULL;
}

const char *
lang_tr(size_t lang, const char *msgid)
{
	return i18n_get(lang_cat(lang), msgid);
}

const char *
lang_fmt(size_t lang, const char *msgid)
{
	return i18n_fmt(lang_cat(lang), msgid);
}

size_t
lang_accept(const char *accept)
{
	return i18n_pick(accept, lang_codes, LANG_N);
}

/* The index of the language code names, or LANG_N. */
static size_t
code_index(const char *code)
{
	size_t i, l;

	for (i = 0; i < LANG_N; i++) {
		l = strlen(lang_codes[i]);
		if (!strncasecmp(code, lang_codes[i], l) && (code[l] == '\0' ||
		    code[l] == '-' || code[l] == '_'))
			return i;
	}
	return LANG_N;
}

size_t
lang_code(const char *code)
{
	size_t i;

	if (code == NULL || (i = code_index(code)) == LANG_N)
		return 0;
	return i;
}

size_t
lang_locales(const char *const *locales, size_t n)
{
	size_t i, l;

	for (i = 0; i < n && i < 32; i++)
		if ((l = code_index(locales[i])) != LANG_N)
			return l;
	return 0;
}
