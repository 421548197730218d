/*
 * buf: a growable byte buffer with a hard cap (git's strbuf plus curl's
 * dynbuf "toobig").  data is never NULL and always NUL-terminated, and the
 * buffer grows in place: a struct buf * stays valid across appends.
 *
 * A failed append is sticky (as a FILE's error flag): it appends nothing,
 * and every later append fails too, until buf_reset.  So a caller may
 * append without checking each call and check buf_failed once, where the
 * buffer is used: a truncated buffer is never used as if whole.
 */
#ifndef KEYDIR_BUF_H
#define KEYDIR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;	/* appends that would pass this fail */
	int failed;	/* an append failed: see above */
};

/* Start an empty buffer that may hold at most max bytes. */
void buf_init(struct buf *b, size_t max);
/* Free the contents; b may be reused after buf_init. */
void buf_release(struct buf *b);
/* Empty the buffer, keeping its memory; clears the failure. */
void buf_reset(struct buf *b);
/* Append n bytes; returns -1 (and appends nothing) past the cap. */
int buf_add(struct buf *b, const void *p, size_t n);
/* Append a C string. */
int buf_addstr(struct buf *b, const char *s);
/* Append one byte. */
int buf_addch(struct buf *b, int c);
/* Append printf-style. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Whether an append failed since buf_init or buf_reset. */
int buf_failed(const struct buf *b);
/* Mark b failed (a part made elsewhere did not fit). */
void buf_fail(struct buf *b);
/* Hand the contents to the caller (free() them) and reset b. */
char *buf_detach(struct buf *b, size_t *len);

#endif
