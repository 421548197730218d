/*
 * t_pg_cache: the PostgreSQL backend's lookup cache alone (no database):
 * what a fill keeps, what each invalidation name drops, the race rule
 * (no fill after an invalidation it did not see), the replica rule, the
 * byte bound and its LRU order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "str.h"
#include "tap.h"

/* A cert answer: fpr of 40 hex digits from n, published of len bytes. */
static void
pub(struct store_pub *p, unsigned n, size_t len)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->fpr, sizeof(p->fpr), "%040X", n);
	snprintf(p->keyid, sizeof(p->keyid), "%016X", n);
	p->published = malloc(len + 1);
	memset(p->published, 'a' + (int)(n % 26), len);
	p->published[len] = '\0';
	p->published_len = len;
	p->hkp_index = strdup("info:1:1\n");
	str_lcpy(p->etag, "\"e\"", sizeof(p->etag));
	p->updated = n;
}

static void
t_fill(void)
{
	struct pg_cache *c = pgc_new(1 << 20);
	struct store_pub a, b, got;

	ok(pgc_get(c, STORE_BY_EMAIL, "a@example.org", &got) == -1,
	    "an empty cache: a miss");
	pub(&a, 1, 100);
	pgc_put(c, pgc_gen(c), false, 0, STORE_BY_EMAIL, "a@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "a@example.org", &got) == 0 &&
	    !strcmp(got.fpr, a.fpr) && got.published_len == 100 &&
	    !memcmp(got.published, a.published, 100) &&
	    !strcmp(got.hkp_index, a.hkp_index) && got.updated == 1 &&
	    got.next == NULL, "a fill, then the same answer from memory");
	store_pub_release(&got);
	ok(pgc_get(c, STORE_BY_EMAIL, "A@example.org", &got) == -1 &&
	    pgc_get(c, STORE_BY_FPR, "a@example.org", &got) == -1,
	    "keys are exact, and per kind of lookup");

	/* two keys under one key id, in order */
	pub(&b, 2, 50);
	a.next = &b;
	pgc_put(c, pgc_gen(c), false, 0, STORE_BY_KEYID, "00000000CAFE0001",
	    &a);
	a.next = NULL;
	ok(pgc_get(c, STORE_BY_KEYID, "00000000CAFE0001", &got) == 0 &&
	    !strcmp(got.fpr, a.fpr) && got.next != NULL &&
	    !strcmp(got.next->fpr, b.fpr) && got.next->next == NULL,
	    "an answer of two keys keeps both, in order");
	store_pub_release(&got);

	pgc_put(c, pgc_gen(c), false, 0, STORE_BY_FPR, "F00F", NULL);
	ok(pgc_get(c, STORE_BY_FPR, "F00F", &got) == 1,
	    "not found is kept too");

	/* invalidations */
	pgc_inval(c, "c0000000000000000000000000000000000000002", 10);
	ok(pgc_get(c, STORE_BY_KEYID, "00000000CAFE0001", &got) == -1,
	    "a changed cert: every answer with it is gone");
	ok(pgc_get(c, STORE_BY_EMAIL, "a@example.org", &got) == 0,
	    "answers without it stay");
	store_pub_release(&got);
	pgc_inval(c, "aa@example.org", 11);
	ok(pgc_get(c, STORE_BY_EMAIL, "a@example.org", &got) == -1,
	    "a changed address: its answer is gone");
	pgc_inval(c, "sF00F 00000000DEADBEEF", 12);
	ok(pgc_get(c, STORE_BY_FPR, "F00F", &got) == -1,
	    "a keyids row: the fingerprint's answer is gone");
	pgc_put(c, pgc_gen(c), false, 0, STORE_BY_KEYID, "00000000DEADBEEF",
	    NULL);
	pgc_inval(c, "sF00F 00000000DEADBEEF", 13);
	ok(pgc_get(c, STORE_BY_KEYID, "00000000DEADBEEF", &got) == -1,
	    "... and the key id's");
	pgc_put(c, pgc_gen(c), false, 0, STORE_BY_FPR, a.fpr, &a);
	pgc_inval(c, "x-what-is-this", 14);
	ok(pgc_get(c, STORE_BY_FPR, a.fpr, &got) == -1,
	    "a name it does not know empties the cache");
	pgc_inval(c, "s-no-space", 15);
	pgc_inval(c, "", 16);
	ok(1, "malformed names do not crash");

	store_pub_release(&a);
	store_pub_release(&b);
	pgc_free(c);
}

static void
t_race(void)
{
	struct pg_cache *c = pgc_new(1 << 20);
	struct store_pub a, got;
	uint64_t g;

	pub(&a, 3, 10);
	g = pgc_gen(c);
	/* the lookup read the database; a removal's invalidation came in
	 * before it stored what it read */
	pgc_inval(c, "ab@example.org", 100);
	pgc_put(c, g, false, 0, STORE_BY_EMAIL, "b@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "b@example.org", &got) == -1,
	    "a fill older than an invalidation is not kept");

	/* from a replica: only if it had replayed past the last
	 * invalidation */
	g = pgc_gen(c);
	pgc_put(c, g, true, 99, STORE_BY_EMAIL, "b@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "b@example.org", &got) == -1,
	    "a replica behind the last invalidation: not kept");
	pgc_put(c, g, true, 100, STORE_BY_EMAIL, "b@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "b@example.org", &got) == -1,
	    "a replica as of the invalidation's millisecond: not kept (its "
	    "heartbeat may have gone before the change)");
	pgc_put(c, g, true, 101, STORE_BY_EMAIL, "b@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "b@example.org", &got) == 0,
	    "a replica past it: kept");
	store_pub_release(&got);

	pgc_flush(c, 200);
	ok(pgc_get(c, STORE_BY_EMAIL, "b@example.org", &got) == -1,
	    "a flush empties it");
	pgc_put(c, g, false, 0, STORE_BY_EMAIL, "b@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "b@example.org", &got) == -1,
	    "a fill that began before the flush is not kept");
	store_pub_release(&a);
	pgc_free(c);
}

static void
t_bound(void)
{
	struct pg_cache *c = pgc_new(64 * 1024);
	struct pg_cache_stats st;
	struct store_pub a, got;
	char q[32];
	unsigned i;

	for (i = 0; i < 100; i++) {
		pub(&a, 1000 + i, 4000);
		snprintf(q, sizeof(q), "k%u@example.org", i);
		pgc_put(c, pgc_gen(c), false, 0, STORE_BY_EMAIL, q, &a);
		store_pub_release(&a);
		/* k0 used all along: never the least recently used */
		if (pgc_get(c, STORE_BY_EMAIL, "k0@example.org", &got) == 0)
			store_pub_release(&got);
	}
	pgc_stats(c, &st);
	ok(st.bytes <= 64 * 1024 && st.evicted > 0,
	    "100 answers of 4 KB in 64 KB: within the bound (%zu bytes, "
	    "%llu evicted)", st.bytes, (unsigned long long)st.evicted);
	ok(pgc_get(c, STORE_BY_EMAIL, "k99@example.org", &got) == 0,
	    "the newest is kept");
	store_pub_release(&got);
	ok(pgc_get(c, STORE_BY_EMAIL, "k0@example.org", &got) == 0,
	    "the one used all along is kept");
	store_pub_release(&got);
	ok(pgc_get(c, STORE_BY_EMAIL, "k1@example.org", &got) == -1,
	    "the least recently used went");

	pub(&a, 7, 20000);
	pgc_put(c, pgc_gen(c), false, 0, STORE_BY_EMAIL, "big@example.org", &a);
	ok(pgc_get(c, STORE_BY_EMAIL, "big@example.org", &got) == -1,
	    "an answer of more than a quarter of the bound is not kept");
	store_pub_release(&a);
	pgc_free(c);
}

int
main(void)
{
	t_fill();
	t_race();
	t_bound();
	return tap_done();
}
