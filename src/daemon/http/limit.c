/*
 * limit: token buckets per client.  16 shards of 1024 slots, each shard
 * behind its own mutex; a client hashes (SipHash, with a key made at
 * start, so nobody can choose addresses that collide) to a window of 8
 * slots in one shard and takes a free one there, or one whose buckets
 * have refilled (forgetting it loses nothing).  When every slot of the
 * window is in use, the newcomer takes over the least recently used one
 * with its buckets as they are: a full table can make clients share a
 * bucket, never hand anyone a fresh one.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http.h"
#include "limit.h"
#include "str.h"
#include "xmalloc.h"

#define SHARDS	16
#define SLOTS	1024
#define WINDOW	8

struct slot {
	char client[REQ_CLIENT_MAX];	/* "" when free */
	double tokens[LIMIT_KINDS];
	int64_t last_ms;
};

struct shard {
	pthread_mutex_t mu;
	struct slot slots[SLOTS];
};

struct limit {
	struct config_rate rate[LIMIT_KINDS];
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct shard shard[SHARDS];
};

struct limit *
limit_new(const struct config_rate rates[LIMIT_KINDS])
{
	struct limit *l = xcalloc(1, sizeof(*l));
	size_t i;

	memcpy(l->rate, rates, sizeof(l->rate));
	randombytes_buf(l->key, sizeof(l->key));
	for (i = 0; i < SHARDS; i++)
		pthread_mutex_init(&l->shard[i].mu, NULL);
	return l;
}

void
limit_free(struct limit *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&l->shard[i].mu);
	free(l);
}

static uint32_t
limit_hash(const struct limit *l, const char *s)
{
	uint8_t h[crypto_shorthash_BYTES];

	crypto_shorthash(h, (const uint8_t *)s, strlen(s), l->key);
	return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
	    (uint32_t)h[3] << 24;
}

/* Whether every bucket of s has refilled by now_ms. */
static bool
limit_idle(const struct limit *l, const struct slot *s, int64_t now_ms)
{
	size_t k;

	for (k = 0; k < LIMIT_KINDS; k++)
		if (l->rate[k].n && now_ms - s->last_ms <
		    (int64_t)((l->rate[k].n - s->tokens[k]) / l->rate[k].n *
		    (double)l->rate[k].per * 1000))
			return false;
	return true;
}

/* The slot of client in sh: its own, a free or idle one made its (full
 * buckets), or the least recently used one, taken over as it is. */
static struct slot *
limit_slot(struct limit *l, struct shard *sh, uint32_t h,
    const char *client, int64_t now_ms)
{
	struct slot *s, *fresh = NULL, *lru = NULL;
	size_t i, k;

	for (i = 0; i < WINDOW; i++) {
		s = &sh->slots[(h + i) % SLOTS];
		if (!strcmp(s->client, client))
			return s;
		if (fresh == NULL && (s->client[0] == '\0' ||
		    limit_idle(l, s, now_ms)))
			fresh = s;
		if (lru == NULL || s->last_ms < lru->last_ms)
			lru = s;
	}
	if (fresh == NULL) {
		str_lcpy(lru->client, client, sizeof(lru->client));
		return lru;
	}
	str_lcpy(fresh->client, client, sizeof(fresh->client));
	for (k = 0; k < LIMIT_KINDS; k++)
		fresh->tokens[k] = l->rate[k].n;
	fresh->last_ms = now_ms;
	return fresh;
}

unsigned
limit_take(struct limit *l, const char *client, unsigned mask, unsigned n,
    int64_t now_ms)
{
	uint32_t h;
	struct shard *sh;
	struct slot *s;
	double per_ms, wait, worst = 0;
	int64_t span;
	size_t k;

	if (*client == '\0' || mask == 0 || n == 0)
		return 0;
	h = limit_hash(l, client);
	sh = &l->shard[(h >> 24) % SHARDS];
	pthread_mutex_lock(&sh->mu);
	s = limit_slot(l, sh, h, client, now_ms);
	for (k = 0; k < LIMIT_KINDS; k++) {
		if (l->rate[k].n == 0)
			continue;
		/* refill, up to a full bucket (multiplied first: whole
		 * tokens come out whole) */
		span = l->rate[k].per * 1000;
		per_ms = (double)l->rate[k].n / (double)span;
		if (now_ms > s->last_ms)
			s->tokens[k] += (double)(now_ms - s->last_ms) *
			    l->rate[k].n / (double)span;
		if (s->tokens[k] > l->rate[k].n)
			s->tokens[k] = l->rate[k].n;
		if ((mask & (1u << k)) && s->tokens[k] < n) {
			/* more than a full bucket never comes */
			wait = n > l->rate[k].n ? (double)l->rate[k].per :
			    (n - s->tokens[k]) / per_ms / 1000;
			if (wait > worst)
				worst = wait;
		}
	}
	if (now_ms > s->last_ms)
		s->last_ms = now_ms;
	if (worst == 0)
		for (k = 0; k < LIMIT_KINDS; k++)
			if ((mask & (1u << k)) && l->rate[k].n)
				s->tokens[k] -= n;
	pthread_mutex_unlock(&sh->mu);
	/* whole seconds, rounded up, at least 1; per is at most a year */
	return worst == 0 ? 0 : worst < 1 ? 1 : (unsigned)(worst + 0.999);
}
