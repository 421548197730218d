/*
 * limit: token buckets per client.  16 shards of 1024 slots, each shard
 * behind its own mutex; a client hashes to a window of 8 slots in one
 * shard and takes a free one there, or the one used least recently.  A
 * client pushed out that way comes back with full buckets: the price of a
 * table that never grows, paid only when over 16,000 clients are active at
 * once, and what an attacker with many addresses gets anyway.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
	struct shard shard[SHARDS];
};

struct limit *
limit_new(const struct config_rate rates[LIMIT_KINDS])
{
	struct limit *l = xcalloc(1, sizeof(*l));
	size_t i;

	memcpy(l->rate, rates, sizeof(l->rate));
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

/* FNV-1a */
static uint32_t
limit_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The slot of client in sh, found or made (buckets full). */
static struct slot *
limit_slot(struct limit *l, struct shard *sh, uint32_t h,
    const char *client, int64_t now_ms)
{
	struct slot *s, *pick = NULL;
	size_t i, k;

	for (i = 0; i < WINDOW; i++) {
		s = &sh->slots[(h + i) % SLOTS];
		if (!strcmp(s->client, client))
			return s;
		if (pick == NULL || (pick->client[0] != '\0' &&
		    (s->client[0] == '\0' || s->last_ms < pick->last_ms)))
			pick = s;
	}
	str_lcpy(pick->client, client, sizeof(pick->client));
	for (k = 0; k < LIMIT_KINDS; k++)
		pick->tokens[k] = l->rate[k].n;
	pick->last_ms = now_ms;
	return pick;
}

unsigned
limit_take(struct limit *l, const char *client, unsigned mask,
    int64_t now_ms)
{
	uint32_t h;
	struct shard *sh;
	struct slot *s;
	double per_ms, wait, worst = 0;
	int64_t span;
	size_t k;

	if (*client == '\0')
		return 0;
	h = limit_hash(client);
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
		if ((mask & (1u << k)) && s->tokens[k] < 1) {
			wait = (1 - s->tokens[k]) / per_ms / 1000;
			if (wait > worst)
				worst = wait;
		}
	}
	if (now_ms > s->last_ms)
		s->last_ms = now_ms;
	if (worst == 0)
		for (k = 0; k < LIMIT_KINDS; k++)
			if ((mask & (1u << k)) && l->rate[k].n)
				s->tokens[k] -= 1;
	pthread_mutex_unlock(&sh->mu);
	/* whole seconds, rounded up, at least 1 */
	return worst == 0 ? 0 : worst < 1 ? 1 : (unsigned)(worst + 0.999);
}
