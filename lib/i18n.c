/*
 * i18n: a reader for msgfmt's .mo files, and Accept-Language.
 *
 * The .mo layout (GNU gettext manual, "The Format of GNU MO Files"): a
 * magic number that also gives the byte order, a revision, the number of
 * strings N, the offsets of two tables of N (length, offset) pairs, the
 * originals sorted bytewise and their translations, then a hash table we
 * do not need: a binary search over the sorted originals does.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "i18n.h"
#include "xmalloc.h"

#define MO_MAGIC 0x950412deU
#define I18N_ACCEPT_MAX 512	/* bytes of Accept-Language read */
#define I18N_ACCEPT_ITEMS 32	/* language ranges read */
#define MO_SWAPPED 0xde120495U

struct i18n_cat {
	const uint8_t *p;
	size_t n;
	bool swap;
	uint32_t count;
	uint32_t orig, trans;	/* offsets of the two tables */
};

static uint32_t
rd32(const struct i18n_cat *c, size_t off)
{
	const uint8_t *q = c->p + off;

	if (c->swap)
		return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
		    (uint32_t)q[2] << 8 | q[3];
	return (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 |
	    (uint32_t)q[1] << 8 | q[0];
}

/* String i of the table at tab: NULL unless it lies inside the file and
 * ends with the NUL .mo files put after each. */
static const char *
str_at(const struct i18n_cat *c, uint32_t tab, uint32_t i, uint32_t *len)
{
	uint32_t l = rd32(c, (size_t)tab + (size_t)i * 8);
	uint32_t off = rd32(c, (size_t)tab + (size_t)i * 8 + 4);

	if ((size_t)off + l >= c->n || c->p[off + l] != '\0')
		return NULL;
	*len = l;
	return (const char *)c->p + off;
}

struct i18n_cat *
i18n_open(const uint8_t *p, size_t n, struct err *e)
{
	struct i18n_cat *c;
	const char *a, *b;
	uint32_t magic, i, la;

	if (n < 28) {
		err_set(e, ERR_INVALID, "catalog: too short for a .mo file");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->p = p;
	c->n = n;
	magic = rd32(c, 0);
	if (magic != MO_MAGIC && magic != MO_SWAPPED) {
		err_set(e, ERR_INVALID, "catalog: not a .mo file");
		goto fail;
	}
	c->swap = magic == MO_SWAPPED;
	c->count = rd32(c, 8);
	c->orig = rd32(c, 12);
	c->trans = rd32(c, 16);
	if ((rd32(c, 4) >> 16) != 0 || c->count > n / 16 ||
	    (size_t)c->orig + (size_t)c->count * 8 > n ||
	    (size_t)c->trans + (size_t)c->count * 8 > n) {
		err_set(e, ERR_INVALID, "catalog: a table lies outside the "
		    "file (or an unknown revision)");
		goto fail;
	}
	for (i = 0, b = NULL; i < c->count; i++) {
		if ((a = str_at(c, c->orig, i, &la)) == NULL ||
		    str_at(c, c->trans, i, &la) == NULL) {
			err_set(e, ERR_INVALID, "catalog: string %u lies "
			    "outside the file", i);
			goto fail;
		}
		if (b != NULL && strcmp(b, a) >= 0) {
			err_set(e, ERR_INVALID, "catalog: the originals are "
			    "not sorted (string %u)", i);
			goto fail;
		}
		b = a;
	}
	return c;
fail:
	free(c);
	return NULL;
}

void
i18n_close(struct i18n_cat *c)
{
	free(c);
}

const char *
i18n_get(const struct i18n_cat *c, const char *msgid)
{
	uint32_t lo = 0, hi, mid, l;
	const char *o, *t;
	int cmp;

	if (c == NULL || msgid[0] == '\0')
		return msgid;
	hi = c->count;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		o = str_at(c, c->orig, mid, &l);	/* checked at open */
		if ((cmp = strcmp(msgid, o)) == 0) {
			t = str_at(c, c->trans, mid, &l);
			return l > 0 ? t : msgid;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return msgid;
}

/*
 * The next printf conversion at or after *p ("%s", "%lld", "%%"): its
 * length, *p moved to its start; 0 at the end.
 */
static size_t
next_conv(const char **p)
{
	const char *c = strchr(*p, '%');
	size_t n = 1;

	if (c == NULL)
		return 0;
	while (c[n] != '\0' && strchr("-+ #0123456789.*hlLqjzt", c[n]))
		n++;
	if (c[n] != '\0')
		n++;
	*p = c;
	return n;
}

/* Whether a and b have the same conversions in the same order. */
static bool
same_convs(const char *a, const char *b)
{
	size_t la, lb;

	for (;;) {
		la = next_conv(&a);
		lb = next_conv(&b);
		if (la != lb || strncmp(a, b, la) != 0)
			return false;
		if (la == 0)
			return true;
		a += la;
		b += lb;
	}
}

const char *
i18n_fmt(const struct i18n_cat *c, const char *msgid)
{
	const char *t = i18n_get(c, msgid);

	return t == msgid || same_convs(msgid, t) ? t : msgid;
}

size_t
i18n_count(const struct i18n_cat *c)
{
	uint32_t l;
	const char *o;

	if (c == NULL || c->count == 0)
		return 0;
	o = str_at(c, c->orig, 0, &l);
	return c->count - (l == 0 && o != NULL ? 1 : 0);
}

/* The q value at p (after "q="): 0 to 1000. */
static int
qvalue(const char *p, const char *end)
{
	int q = 0, digits = 0;

	if (p < end && *p == '1')
		return 1000;
	if (p >= end || *p != '0')
		return 0;
	p++;
	if (p < end && *p == '.')
		for (p++; p < end && digits < 3 && isdigit((unsigned char)*p);
		    p++, digits++)
			q = q * 10 + (*p - '0');
	while (digits++ < 3)
		q *= 10;
	return q;
}

/* The "q=" of the parameters [p, end), or NULL. */
static const char *
q_param(const char *p, const char *end)
{
	for (; p + 2 <= end; p++)
		if (p[0] == 'q' && p[1] == '=')
			return p;
	return NULL;
}

size_t
i18n_pick(const char *accept, const char *const *have, size_t n)
{
	const char *p, *item, *end, *semi, *q, *lim;
	size_t best = 0, i, tl, items = 0;
	int bestq = 0, qv;

	if (accept == NULL || n == 0)
		return 0;
	/* a browser sends a few tags; the rest of a long header is junk
	 * whose reading would cost us, not the sender */
	lim = accept + strnlen(accept, I18N_ACCEPT_MAX);
	for (p = accept; p < lim && items++ < I18N_ACCEPT_ITEMS;
	    p = end < lim ? end + 1 : end) {
		if ((end = memchr(p, ',', (size_t)(lim - p))) == NULL)
			end = lim;
		item = p;
		while (item < end && (*item == ' ' || *item == '\t'))
			item++;
		semi = memchr(item, ';', (size_t)(end - item));
		tl = (size_t)((semi != NULL ? semi : end) - item);
		while (tl > 0 && (item[tl - 1] == ' ' || item[tl - 1] == '\t'))
			tl--;
		qv = 1000;
		if (semi != NULL && (q = q_param(semi, end)) != NULL)
			qv = qvalue(q + 2, end);
		if (qv <= bestq)
			continue;
		for (i = 0; i < n; i++) {
			size_t hl = strlen(have[i]);

			if ((tl == 1 && item[0] == '*') ||
			    (tl >= hl && strncasecmp(item, have[i], hl) == 0 &&
			    (tl == hl || item[hl] == '-' ||
			    item[hl] == '_'))) {
				best = i;
				bestq = qv;
				break;
			}
		}
	}
	return best;
}
