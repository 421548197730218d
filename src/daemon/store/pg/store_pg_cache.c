/*
 * store_pg_cache: a node's bounded memory of lookup answers (PostgreSQL
 * only: SQLite reads its own file about as fast as this would).
 *
 * Two kinds of entry in one table.  A query, (kind, key) -> the
 * fingerprints of its answer in order, or none (not found); a cert,
 * fingerprint -> what a lookup serves of it (struct store_pub).  A hit
 * needs the query and every cert of its answer, so a cert that changes
 * is dropped once, whatever queries lead to it.
 *
 * What changed comes from the database (schema 2's triggers, through
 * the listener of store_pg_listen.c), one name per change:
 *   "c" FPR             a certs row: the cert, and the query (fpr, FPR)
 *   "s" FPR " " KEYID   a keyids row: the queries (fpr, FPR), (keyid, KEYID)
 *   "a" ADDRESS         an addresses row: the query (email, ADDRESS)
 * WKD answers are not kept (a form per address; fetched once per refresh).
 *
 * A fill races with the invalidations: a lookup that read the database
 * before an invalidation was applied must not store what it read after.
 * Every invalidation moves gen; a lookup notes gen before it reads, and
 * pgc_put stores nothing when gen has moved since.  An answer read from
 * a replica is stored only if the replica had replayed everything
 * committed before the last invalidation was applied (as_of, see
 * store_pg_listen.c).
 *
 * Bounded by bytes: every entry is on one LRU list; the least recently
 * used go when a fill passes the bound.  Keys are hashed with SipHash
 * and a random key, so chosen queries cannot pile up in one chain.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_pg_int.h"
#include "str.h"
#include "xmalloc.h"

enum { PC_QUERY, PC_CERT };

struct pc_ent {
	struct pc_ent *hnext;		/* hash chain */
	struct pc_ent *newer, *older;	/* LRU list */
	uint64_t h;
	size_t cost;
	uint8_t kind;			/* PC_QUERY, PC_CERT */
	uint8_t by;			/* a query's enum store_by */
	uint8_t nfpr;			/* a query's answer: 0 not found */
	char (*fprs)[FPR_LEN + 1];
	struct store_pub pub;		/* a cert's; next NULL */
	char key[];
};

struct pg_cache {
	pthread_mutex_t lock;
	struct pc_ent **tab;
	size_t nbucket;			/* a power of 2 */
	size_t nent;
	size_t bytes, max;
	struct pc_ent *newest, *oldest;
	uint64_t gen;
	int64_t inval_at;		/* when the last invalidation was
					 * applied (pg_now_ms) */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct pg_cache_stats st;
};

struct pg_cache *
pgc_new(size_t max)
{
	struct pg_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	c->nbucket = 1024;
	c->tab = xcalloc(c->nbucket, sizeof(*c->tab));
	c->max = max;
	randombytes_buf(c->hkey, sizeof(c->hkey));
	return c;
}

static uint64_t
hash(const struct pg_cache *c, uint8_t kind, uint8_t by, const char *key)
{
	uint8_t out[crypto_shorthash_BYTES], buf[2 + EMAIL_MAX + 2];
	size_t n = strlen(key);
	uint64_t h;

	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[0] = kind;
	buf[1] = by;
	memcpy(buf + 2, key, n);
	crypto_shorthash(out, buf, n + 2, c->hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

static struct pc_ent **
slot(struct pg_cache *c, uint64_t h, uint8_t kind, uint8_t by,
    const char *key)
{
	struct pc_ent **p = &c->tab[h & (c->nbucket - 1)];

	for (; *p != NULL; p = &(*p)->hnext)
		if ((*p)->h == h && (*p)->kind == kind && (*p)->by == by &&
		    !strcmp((*p)->key, key))
			break;
	return p;
}

static void
lru_unlink(struct pg_cache *c, struct pc_ent *x)
{
	if (x->newer != NULL)
		x->newer->older = x->older;
	else
		c->newest = x->older;
	if (x->older != NULL)
		x->older->newer = x->newer;
	else
		c->oldest = x->newer;
	x->newer = x->older = NULL;
}

static void
lru_front(struct pg_cache *c, struct pc_ent *x)
{
	x->older = c->newest;
	x->newer = NULL;
	if (c->newest != NULL)
		c->newest->newer = x;
	c->newest = x;
	if (c->oldest == NULL)
		c->oldest = x;
}

static void
ent_free(struct pc_ent *x)
{
	free(x->fprs);
	free(x->pub.published);
	free(x->pub.hkp_index);
	free(x);
}

/* Drop the entry *p points to. */
static void
drop(struct pg_cache *c, struct pc_ent **p)
{
	struct pc_ent *x = *p;

	*p = x->hnext;
	lru_unlink(c, x);
	c->bytes -= x->cost;
	c->nent--;
	ent_free(x);
}

static void
drop_key(struct pg_cache *c, uint8_t kind, uint8_t by, const char *key)
{
	struct pc_ent **p = slot(c, hash(c, kind, by, key), kind, by, key);

	if (*p != NULL) {
		drop(c, p);
		c->st.dropped++;
	}
}

static void
grow(struct pg_cache *c)
{
	size_t n = c->nbucket * 2, i;
	struct pc_ent **t = xcalloc(n, sizeof(*t)), *x, *next;

	for (i = 0; i < c->nbucket; i++)
		for (x = c->tab[i]; x != NULL; x = next) {
			next = x->hnext;
			x->hnext = t[x->h & (n - 1)];
			t[x->h & (n - 1)] = x;
		}
	free(c->tab);
	c->tab = t;
	c->nbucket = n;
}

/* Put x in (replacing an entry of the same key), then keep the bound. */
static void
insert(struct pg_cache *c, struct pc_ent *x)
{
	struct pc_ent **p = slot(c, x->h, x->kind, x->by, x->key);

	if (*p != NULL)
		drop(c, p);
	x->hnext = c->tab[x->h & (c->nbucket - 1)];
	c->tab[x->h & (c->nbucket - 1)] = x;
	lru_front(c, x);
	c->bytes += x->cost;
	c->nent++;
	while (c->bytes > c->max && c->oldest != NULL && c->oldest != x) {
		struct pc_ent *o = c->oldest;

		drop(c, slot(c, o->h, o->kind, o->by, o->key));
		c->st.evicted++;
	}
	if (c->nent > c->nbucket)
		grow(c);
}

static struct pc_ent *
ent_new(struct pg_cache *c, uint8_t kind, uint8_t by, const char *key,
    size_t extra)
{
	size_t n = strlen(key) + 1;
	struct pc_ent *x = xcalloc(1, sizeof(*x) + n);

	memcpy(x->key, key, n);
	x->kind = kind;
	x->by = by;
	x->h = hash(c, kind, by, key);
	x->cost = sizeof(*x) + n + extra + 32;	/* 32: malloc's overhead */
	return x;
}

int
pgc_get(struct pg_cache *c, enum store_by by, const char *key,
    struct store_pub *out)
{
	struct pc_ent *q, *x;
	struct store_pub *tail = NULL, *p;
	uint8_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	q = *slot(c, hash(c, PC_QUERY, (uint8_t)by, key), PC_QUERY,
	    (uint8_t)by, key);
	if (q == NULL)
		goto miss;
	for (i = 0; i < q->nfpr; i++)
		if (*slot(c, hash(c, PC_CERT, 0, q->fprs[i]), PC_CERT, 0,
		    q->fprs[i]) == NULL)
			goto miss;
	lru_unlink(c, q);
	lru_front(c, q);
	for (i = 0; i < q->nfpr; i++) {
		x = *slot(c, hash(c, PC_CERT, 0, q->fprs[i]), PC_CERT, 0,
		    q->fprs[i]);
		lru_unlink(c, x);
		lru_front(c, x);
		p = i == 0 ? out : xcalloc(1, sizeof(*p));
		*p = x->pub;
		p->next = NULL;
		p->published = xmalloc(x->pub.published_len + 1);
		memcpy(p->published, x->pub.published, x->pub.published_len +
		    1);
		p->hkp_index = x->pub.hkp_index != NULL ?
		    xstrdup(x->pub.hkp_index) : NULL;
		if (tail != NULL)
			tail->next = p;
		tail = p;
	}
	c->st.hits++;
	rc = q->nfpr > 0 ? 0 : 1;
	pthread_mutex_unlock(&c->lock);
	return rc;
miss:
	c->st.misses++;
	pthread_mutex_unlock(&c->lock);
	return -1;
}

uint64_t
pgc_gen(struct pg_cache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->gen;
	pthread_mutex_unlock(&c->lock);
	return g;
}

void
pgc_put(struct pg_cache *c, uint64_t gen, bool replica, int64_t as_of,
    enum store_by by, const char *key, const struct store_pub *ans)
{
	const struct store_pub *p;
	struct pc_ent *q, *x;
	uint8_t n = 0;

	for (p = ans; p != NULL && p->fpr[0] != '\0'; p = p->next)
		n++;
	pthread_mutex_lock(&c->lock);
	/* as_of and inval_at are milliseconds: a heartbeat sent in the
	 * millisecond an invalidation was applied may have gone before the
	 * change committed */
	if (c->gen != gen || (replica && as_of <= c->inval_at)) {
		c->st.stale++;
		pthread_mutex_unlock(&c->lock);
		return;
	}
	q = ent_new(c, PC_QUERY, (uint8_t)by, key, n * (FPR_LEN + 1));
	q->nfpr = n;
	q->fprs = n ? xcalloc(n, sizeof(*q->fprs)) : NULL;
	for (n = 0, p = ans; n < q->nfpr; p = p->next, n++) {
		str_lcpy(q->fprs[n], p->fpr, sizeof(q->fprs[n]));
		x = ent_new(c, PC_CERT, 0, p->fpr, p->published_len +
		    (p->hkp_index ? strlen(p->hkp_index) : 0));
		x->pub = *p;
		x->pub.next = NULL;
		x->pub.published = xmalloc(p->published_len + 1);
		memcpy(x->pub.published, p->published, p->published_len);
		x->pub.published[p->published_len] = '\0';
		x->pub.hkp_index = p->hkp_index ? xstrdup(p->hkp_index) : NULL;
		if (x->cost > c->max / 4) {	/* never one answer for all */
			ent_free(x);
			ent_free(q);
			pthread_mutex_unlock(&c->lock);
			return;
		}
		insert(c, x);
	}
	insert(c, q);
	pthread_mutex_unlock(&c->lock);
}

void
pgc_inval(struct pg_cache *c, const char *what, int64_t now)
{
	char fpr[FPR_LEN + 1];
	const char *sp;
	size_t n;

	pthread_mutex_lock(&c->lock);
	c->gen++;
	if (now > c->inval_at)
		c->inval_at = now;
	c->st.invals++;
	switch (what[0]) {
	case 'c':
		drop_key(c, PC_CERT, 0, what + 1);
		drop_key(c, PC_QUERY, STORE_BY_FPR, what + 1);
		break;
	case 's':
		if ((sp = strchr(what, ' ')) == NULL)
			break;
		n = (size_t)(sp - what - 1);
		if (n >= sizeof(fpr))
			break;
		memcpy(fpr, what + 1, n);
		fpr[n] = '\0';
		drop_key(c, PC_QUERY, STORE_BY_FPR, fpr);
		drop_key(c, PC_QUERY, STORE_BY_KEYID, sp + 1);
		break;
	case 'a':
		drop_key(c, PC_QUERY, STORE_BY_EMAIL, what + 1);
		break;
	default:	/* a name this keydird does not know: all of it */
		pthread_mutex_unlock(&c->lock);
		pgc_flush(c, now);
		return;
	}
	pthread_mutex_unlock(&c->lock);
}

void
pgc_flush(struct pg_cache *c, int64_t now)
{
	pthread_mutex_lock(&c->lock);
	while (c->oldest != NULL) {
		struct pc_ent *o = c->oldest;

		drop(c, slot(c, o->h, o->kind, o->by, o->key));
	}
	c->gen++;
	/* never back: a writer's flush (pgl_settle) may have read its
	 * clock before the listener applied an invalidation */
	if (now > c->inval_at)
		c->inval_at = now;
	c->st.flushes++;
	pthread_mutex_unlock(&c->lock);
}

void
pgc_stats(struct pg_cache *c, struct pg_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->st;
	out->entries = c->nent;
	out->bytes = c->bytes;
	pthread_mutex_unlock(&c->lock);
}

void
pgc_free(struct pg_cache *c)
{
	if (c == NULL)
		return;
	pgc_flush(c, 0);
	free(c->tab);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
