/*
 * store: picks a backend from the URL scheme and frees what the store
 * hands out.  No SQL here; each backend is a const struct store_ops in
 * store_<backend>.c.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "str.h"
#include "xmalloc.h"

/* Length of url's scheme ("sqlite" in "sqlite:x"), 0 if it is a bare path. */
static size_t
store_scheme_len(const char *url)
{
	size_t i;

	if (!((url[0] >= 'a' && url[0] <= 'z') ||
	    (url[0] >= 'A' && url[0] <= 'Z')))
		return 0;
	for (i = 1; url[i] != '\0' && url[i] != ':'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-", url[i]) == NULL)
			return 0;
	return url[i] == ':' ? i : 0;
}

/* The backend for url and the part of url it gets, or -1 with e set. */
static int
store_backend(const char *url, const struct store_ops **ops,
    const char **rest, struct err *e)
{
	size_t n = store_scheme_len(url);

	*ops = &store_sqlite_ops;
	*rest = url;
	if (n == 0)
		return 0;
	*rest = url + n + 1;
	if (n == 6 && strncmp(url, "sqlite", n) == 0)
		return 0;
	if ((n == 8 && strncmp(url, "postgres", n) == 0) ||
	    (n == 10 && strncmp(url, "postgresql", n) == 0))
		return err_set(e, ERR_INVALID,
		    "postgres backend not built in (WITH_PG=0)");
	return err_set(e, ERR_INVALID, "unknown store scheme \"%.*s\"",
	    (int)n, url);
}

/* Open the store named by url; see store.h. */
struct store *
store_open(const char *url, struct err *e)
{
	const struct store_ops *ops;
	const char *rest;
	struct store *s;

	if (url == NULL || *url == '\0') {
		err_set(e, ERR_INVALID, "no store given");
		return NULL;
	}
	if (store_backend(url, &ops, &rest, e) == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	if (ops->open(s, rest, e) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

/* Close and free; NULL is a no-op. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s);
}

/* Free what a cert owns and clear the pointers. */
void
store_cert_release(struct store_cert *c)
{
	if (c == NULL)
		return;
	free(c->full);
	free(c->published);
	free(c->hkp_index);
	free(c->subs);
	free(c->addrs);
	c->addrs = NULL;
	c->naddrs = 0;
	c->full = NULL;
	c->published = NULL;
	c->hkp_index = NULL;
	c->subs = NULL;
	c->full_len = c->published_len = c->nsubs = 0;
}

/* Free what a lookup result owns and clear the pointers. */
void
store_pub_release(struct store_pub *p)
{
	struct store_pub *n;

	if (p == NULL)
		return;
	free(p->published);
	free(p->hkp_index);
	p->published = NULL;
	p->hkp_index = NULL;
	p->published_len = 0;
	while ((n = p->next) != NULL) {
		p->next = n->next;
		free(n->published);
		free(n->hkp_index);
		free(n);
	}
}

/* A quoted ETag from a SHA-256. */
void
store_etag(const uint8_t h[STORE_HASH_LEN], char out[STORE_ETAG_LEN + 1])
{
	out[0] = '"';
	str_hex(h, 16, out + 1);
	out[33] = '"';
	out[34] = '\0';
}

/* Free n outbox rows and the array. */
void
store_mails_free(struct store_mail *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].data);
	free(rows);
}

/* Free n addresses and the array. */
void
store_addrs_free(char **addrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(addrs[i]);
	free(addrs);
}

/* Free what an upload view owns. */
void
store_upload_view_release(struct store_upload_view *v)
{
	free(v->addrs);
	v->addrs = NULL;
	v->naddrs = 0;
}

/* Free an array of address schedule rows; they own nothing else. */
void
store_addr_rows_free(struct store_addr *rows, size_t n)
{
	(void)n;
	free(rows);
}

/* Release n certs from certs_scan and free the array. */
void
store_certs_free(struct store_cert *rows, size_t n)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		store_cert_release(&rows[i]);
	free(rows);
}
