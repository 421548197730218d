/*
 * xmalloc: allocators that abort when memory runs out (tmux, Redis).  Safe
 * because every size driven by input is capped before it gets here.
 */
#ifndef KEYDIR_XMALLOC_H
#define KEYDIR_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Copy of n bytes of p; the caller frees it. */
void *xmemdup(const void *p, size_t n);

#endif
