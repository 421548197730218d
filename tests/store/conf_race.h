/*
 * conf_race: the store contract under concurrency.  Units that check and
 * then write are serialised, on one handle (threads) and across handles
 * (processes): one winner, and the losers see it or are told ERR_RETRY.
 * A token or a nonce is used once; an outbox row goes to one drain; a
 * unit held open makes the other handle wait or retry, never lose a
 * write, and never holds a reader up.  Part of the conformance suite
 * (conformance.h).
 */
#ifndef KEYDIR_CONF_RACE_H
#define KEYDIR_CONF_RACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "conf_fix.h"
#include "conf_units.h"

#define CONF_RACERS 4		/* threads racing each round */
#define CONF_ROUNDS 30		/* rounds of a race */

/*
 * One claim of a round: use the round's token and nonce, and take the
 * round's address if addr_owner says nobody has it.  What the committed
 * attempt saw; owner_rc -1 if no attempt committed.
 */
struct conf_claim {
	const char	*address;
	const char	*fpr;
	const uint8_t	*token;
	const char	*nonce;
	int		 owner_rc;
	char		 owner[FPR_LEN + 1];
	bool		 wrote;
	int		 token_rc;
	int		 nonce_rc;
};

static int
conf_claim_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_claim *c = arg;

	c->wrote = false;
	c->token_rc = c->nonce_rc = -1;
	c->owner[0] = '\0';
	if ((c->owner_rc = store_addr_owner(s, c->address, c->owner, e)) == -1)
		return -1;
	if (c->owner_rc == 1) {
		if (store_addr_set(s, c->address, c->fpr, 1, e) == -1)
			return -1;
		c->wrote = true;
	}
	if ((c->token_rc = store_token_use(s, c->token, 2, e)) == -1)
		return -1;
	if ((c->nonce_rc = store_nonce_use(s, c->nonce, 1000, e)) == -1)
		return -1;
	return 0;
}

struct conf_racer {
	struct store		*s;
	char			 fpr[FPR_LEN + 1];
	pthread_barrier_t	*bar;
	struct conf_claim	 got[CONF_ROUNDS];
	int			 errors;
	int			 retries;
	struct err		 err;	/* the first error */
};

/* The round's address, token hash and nonce. */
static void
conf_round(int i, char *addr, size_t asz, uint8_t h[STORE_HASH_LEN],
    char *nonce, size_t nsz)
{
	snprintf(addr, asz, "race%d@example.org", i);
	conf_hash(h, 0xC0, (uint8_t)i);
	snprintf(nonce, nsz, "race-%d", i);
}

static void *
conf_racer_run(void *arg)
{
	struct conf_racer *r = arg;
	uint8_t h[STORE_HASH_LEN];
	char addr[64], nonce[32];
	struct err e;

	for (int i = 0; i < CONF_ROUNDS; i++) {
		struct conf_claim *c = &r->got[i];

		conf_round(i, addr, sizeof(addr), h, nonce, sizeof(nonce));
		c->address = addr;
		c->fpr = r->fpr;
		c->token = h;
		c->nonce = nonce;
		pthread_barrier_wait(r->bar);
		if (conf_atomic(r->s, conf_claim_fn, c, &r->retries, &e) == -1) {
			if (r->errors++ == 0)
				r->err = e;
			c->owner_rc = -1;
			c->wrote = false;
		}
		c->address = c->fpr = c->nonce = NULL;
		c->token = NULL;
	}
	return NULL;
}

static int
conf_setup_race_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_racer *r = arg;
	struct store_token t;
	struct conf_key k;
	uint8_t h[STORE_HASH_LEN];
	char addr[64], nonce[32];

	for (int i = 0; i < CONF_RACERS; i++) {
		conf_key_init(&k, r[i].fpr, 10);
		if (store_cert_put(s, &k.c, e) == -1)
			return -1;
	}
	for (int i = 0; i < CONF_ROUNDS; i++) {
		conf_round(i, addr, sizeof(addr), h, nonce, sizeof(nonce));
		conf_token(&t, 0xC0, (uint8_t)i, TOKEN_VERIFY, r[0].fpr, addr, 1,
		    9000);
		if (store_token_put(s, &t, e) == -1)
			return -1;
	}
	return 0;
}

/*
 * CONF_RACERS threads on nh handles of one store race CONF_ROUNDS rounds:
 * each round every thread at once runs the claim unit.  Exactly one takes
 * the address, and every other saw it taken by that one; exactly one
 * uses the token and one the nonce.
 */
static void
conf_race(const struct conf_backend *b, int nh, const char *what)
{
	struct conf_racer r[CONF_RACERS];
	struct store *h[CONF_RACERS];
	pthread_t th[CONF_RACERS];
	pthread_barrier_t bar;
	char url[1024], addr[64], nonce[32], owner[FPR_LEN + 1];
	uint8_t hash[STORE_HASH_LEN];
	int rounds_ok = 0, tok_ok = 0, non_ok = 0, owner_ok = 0;
	int errors = 0, retries = 0, i, k;
	struct err e, first;
	int64_t t0;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	memset(h, 0, sizeof(h));
	for (k = 0; k < nh; k++)
		if ((h[k] = conf_open(url, what)) == NULL)
			goto out;
	memset(r, 0, sizeof(r));
	for (i = 0; i < CONF_RACERS; i++) {
		r[i].s = h[i % nh];
		r[i].bar = &bar;
		conf_fpr(r[i].fpr, 0xC0 + (unsigned)i, 0xC, (unsigned)i);
	}
	ok(conf_atomic(h[0], conf_setup_race_fn, r, NULL, &e) == 0,
	    "%s: %d keys, a token per round", what, CONF_RACERS);
	pthread_barrier_init(&bar, NULL, CONF_RACERS);
	t0 = conf_ms();
	for (i = 0; i < CONF_RACERS; i++)
		pthread_create(&th[i], NULL, conf_racer_run, &r[i]);
	for (i = 0; i < CONF_RACERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	err_clear(&first);
	for (i = 0; i < CONF_RACERS; i++) {
		if (r[i].errors > 0 && errors == 0)
			first = r[i].err;
		errors += r[i].errors;
		retries += r[i].retries;
	}
	for (int n = 0; n < CONF_ROUNDS; n++) {
		int win = -1, wins = 0, tok = 0, non = 0, saw = 0;

		for (i = 0; i < CONF_RACERS; i++) {
			const struct conf_claim *c = &r[i].got[n];

			if (c->wrote) {
				win = i;
				wins++;
			}
			tok += c->token_rc == 0;
			non += c->nonce_rc == 0;
		}
		for (i = 0; win != -1 && i < CONF_RACERS; i++)
			saw += i != win && r[i].got[n].owner_rc == 0 &&
			    strcmp(r[i].got[n].owner, r[win].fpr) == 0;
		rounds_ok += wins == 1 && saw == CONF_RACERS - 1;
		tok_ok += tok == 1;
		non_ok += non == 1;
		conf_round(n, addr, sizeof(addr), hash, nonce, sizeof(nonce));
		if (win != -1 && store_begin(h[0], &e) == 0) {
			owner_ok += store_addr_owner(h[0], addr, owner, &e) == 0 &&
			    strcmp(owner, r[win].fpr) == 0;
			store_rollback(h[0]);
		}
	}
	ok(errors == 0, "%s: no unit failed for good (%d; %s)", what, errors,
	    first.msg);
	ok(rounds_ok == CONF_ROUNDS, "%s: each of %d rounds one winner, "
	    "every loser saw the winner as owner (%d right)", what,
	    CONF_ROUNDS, rounds_ok);
	ok(owner_ok == CONF_ROUNDS, "%s: the winner owns the address after "
	    "(%d)", what, owner_ok);
	ok(tok_ok == CONF_ROUNDS, "%s: each round's token used once (%d)",
	    what, tok_ok);
	ok(non_ok == CONF_ROUNDS, "%s: each round's nonce used once (%d)",
	    what, non_ok);
	printf("# %s: %d ERR_RETRY reruns, %lld ms\n", what, retries,
	    (long long)(conf_ms() - t0));
out:
	for (k = 0; k < nh; k++)
		store_close(h[k]);
}

#define CONF_MAILS 40

struct conf_drainer {
	struct store	*s;
	int64_t		 ids[CONF_MAILS + 8];
	size_t		 n;
	size_t		 batch;		/* this unit's rows */
	int64_t		 got[CONF_MAILS];
	int		 errors;
	int		 retries;
	int		 bad;		/* rows not as queued */
};

/* One drain: up to 3 due rows, leased. */
static int
conf_drain_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_drainer *d = arg;
	struct store_mail *rows = NULL;
	char want[64];
	size_t n = 0;

	d->batch = 0;
	if (store_outbox_due(s, 1000, 2000, "t", 3, &rows, &n, e) == -1)
		return -1;
	for (size_t i = 0; i < n && i < 3; i++) {
		snprintf(want, sizeof(want), "body for %.50s", rows[i].rcpt);
		d->bad += rows[i].len != strlen(want) ||
		    memcmp(rows[i].data, want, rows[i].len) != 0;
		d->got[i] = rows[i].id;
	}
	d->batch = n;
	store_mails_free(rows, n);
	return 0;
}

static void *
conf_drainer_run(void *arg)
{
	struct conf_drainer *d = arg;
	struct err e;

	/* bounded: a backend that hands rows out twice must fail, not spin */
	for (int k = 0; k < CONF_MAILS * 2; k++) {
		if (conf_atomic(d->s, conf_drain_fn, d, &d->retries, &e) == -1) {
			if (++d->errors > 3)
				break;
			continue;
		}
		if (d->batch == 0)
			break;
		for (size_t i = 0; i < d->batch && d->n < CONF_MAILS + 8; i++)
			d->ids[d->n++] = d->got[i];
	}
	return NULL;
}

static int
conf_setup_mail_fn(struct store *s, void *arg, struct err *e)
{
	char rcpt[64], body[96];

	(void)arg;
	for (int i = 0; i < CONF_MAILS; i++) {
		snprintf(rcpt, sizeof(rcpt), "d%d@example.org", i);
		snprintf(body, sizeof(body), "body for %.50s", rcpt);
		if (store_outbox_add(s, rcpt, body, strlen(body), 500, e) == -1)
			return -1;
	}
	return 0;
}

/* Four drains, two on each of two handles: every row to one of them. */
static void
conf_t_drain(const struct conf_backend *b)
{
	struct conf_drainer d[4];
	struct store *h[2] = { NULL, NULL };
	pthread_t th[4];
	int64_t all[4 * (CONF_MAILS + 8)];
	char url[1024];
	size_t n = 0;
	int dup = 0, errors = 0, bad = 0, retries = 0;
	struct err e;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((h[0] = conf_open(url, "drain")) == NULL ||
	    (h[1] = conf_open(url, "drain")) == NULL)
		goto out;
	ok(conf_atomic(h[0], conf_setup_mail_fn, NULL, NULL, &e) == 0,
	    "drain: %d mails queued", CONF_MAILS);
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 4; i++) {
		d[i].s = h[i % 2];
		pthread_create(&th[i], NULL, conf_drainer_run, &d[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		for (size_t j = 0; j < d[i].n; j++)
			all[n++] = d[i].ids[j];
		errors += d[i].errors;
		bad += d[i].bad;
		retries += d[i].retries;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			dup += all[i] == all[j];
	ok(errors == 0 && bad == 0, "drain: no errors, rows as queued (%d, %d)",
	    errors, bad);
	ok(n == CONF_MAILS && dup == 0, "drain: concurrent drains on two "
	    "handles got each of %d rows once (%zu rows, %d twice; %d reruns)",
	    CONF_MAILS, n, dup, retries);
out:
	store_close(h[1]);
	store_close(h[0]);
}

/* A unit on one handle, held open until released or hold_ms passed. */
struct conf_holder {
	struct store	*s;
	const char	*address;
	const char	*fpr;
	int		 hold_ms;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 holding;	/* begun and written */
	bool		 release;
	int		 rc;
	struct err	 err;
};

static void *
conf_holder_run(void *arg)
{
	struct conf_holder *h = arg;
	struct timespec ts;

	h->rc = -1;
	if (store_begin(h->s, &h->err) == 0) {
		h->rc = store_addr_set(h->s, h->address, h->fpr, 5, &h->err);
		if (h->rc == -1)
			store_rollback(h->s);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += h->hold_ms / 1000;
	ts.tv_nsec += (long)(h->hold_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->mu);
	h->holding = true;
	pthread_cond_broadcast(&h->cv);
	while (!h->release &&
	    pthread_cond_timedwait(&h->cv, &h->mu, &ts) == 0)
		;
	pthread_mutex_unlock(&h->mu);
	if (h->rc == 0)
		h->rc = store_commit(h->s, &h->err);
	return NULL;
}

/* One attempt at the claim unit, step by step. */
struct conf_try {
	int		 step;		/* reached: 0 begin ... 3 commit, 4 done */
	int		 rc;
	enum err_code	 code;
	int64_t		 begin_ms;	/* how long begin took */
	char		 owner[FPR_LEN + 1];
	bool		 wrote;
};

static void
conf_try_claim(struct store *s, const char *address, const char *fpr,
    struct conf_try *t)
{
	struct err e;
	int64_t t0 = conf_ms();

	memset(t, 0, sizeof(*t));
	err_clear(&e);
	t->rc = store_begin(s, &e);
	t->begin_ms = conf_ms() - t0;
	if (t->rc == 0) {
		t->step = 1;
		t->rc = store_addr_owner(s, address, t->owner, &e);
		if (t->rc == 1) {
			t->step = 2;
			t->rc = store_addr_set(s, address, fpr, 6, &e);
			t->wrote = t->rc == 0;
		}
		if (t->rc == -1)
			store_rollback(s);
		else {
			t->step = 3;
			if ((t->rc = store_commit(s, &e)) == 0)
				t->step = 4;
		}
	}
	t->code = t->rc == -1 ? e.code : ERR_OK;
}

/*
 * Handle a holds a unit that took address for ka, open for up to hold_ms
 * (or until b's first attempt is over); handle b tries to take it for kb
 * meanwhile.  *first and *again (if b had to retry) say what b saw.
 */
static void
conf_hold(struct store *a, struct store *b, const char *address,
    const char *ka, const char *kb, int hold_ms, struct conf_try *first,
    struct conf_try *again, int *holder_rc)
{
	struct conf_holder h;
	pthread_t th;

	memset(&h, 0, sizeof(h));
	h.s = a;
	h.address = address;
	h.fpr = ka;
	h.hold_ms = hold_ms;
	pthread_mutex_init(&h.mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&h.cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_create(&th, NULL, conf_holder_run, &h);
	pthread_mutex_lock(&h.mu);
	while (!h.holding)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	conf_try_claim(b, address, kb, first);
	pthread_mutex_lock(&h.mu);
	h.release = true;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(th, NULL);
	memset(again, 0, sizeof(*again));
	again->step = -1;
	if (first->rc == -1 && first->code == ERR_RETRY)
		conf_try_claim(b, address, kb, again);
	*holder_rc = h.rc;
	pthread_cond_destroy(&h.cv);
	pthread_mutex_destroy(&h.mu);
}

/* Whether b lost as the contract allows: it saw ka as owner, or it was
 * told ERR_RETRY and then, rerunning the unit, saw ka. */
static bool
conf_lost_right(const struct conf_try *first, const struct conf_try *again,
    const char *ka)
{
	const struct conf_try *t = first;

	if (first->rc == -1) {
		if (first->code != ERR_RETRY)
			return false;
		t = again;
	}
	return t->step == 4 && !t->wrote && strcmp(t->owner, ka) == 0;
}

/* The owner of address now, by a unit of its own; "" if none. */
static void
conf_owner(struct store *s, const char *address, char owner[FPR_LEN + 1])
{
	struct err e;

	owner[0] = '\0';
	if (store_begin(s, &e) == 0) {
		if (store_addr_owner(s, address, owner, &e) != 0)
			owner[0] = '\0';
		store_rollback(s);
	}
}

/* A write unit held open on one handle while another handle works. */
static void
conf_t_hold(const struct conf_backend *b)
{
	struct conf_key ka, kb, kn;
	struct conf_try first, again;
	struct store *a, *c;
	struct err e;
	char url[1024], owner[FPR_LEN + 1], seen[200];
	int hrc, long_ms;
	int64_t t0, took;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((a = conf_open(url, "hold")) == NULL)
		return;
	if ((c = conf_open(url, "hold")) == NULL) {
		store_close(a);
		return;
	}
	conf_key_init(&ka, "A000000000000000000000000000000C00000001", 10);
	conf_key_init(&kb, "B000000000000000000000000000000C00000002", 10);
	conf_key_init(&kn, "C000000000000000000000000000000C00000003", 10);
	ok(conf_put(a, &ka) == 0 && conf_put(a, &kb) == 0, "hold: two keys");

	/* a short hold: shorter than any busy timeout */
	conf_hold(a, c, "h1@example.org", ka.c.fpr, kb.c.fpr, 300, &first,
	    &again, &hrc);
	conf_owner(c, "h1@example.org", owner);
	ok(hrc == 0 && strcmp(owner, ka.c.fpr) == 0,
	    "hold 300 ms: the holder's unit committed, its address stays");
	ok(conf_lost_right(&first, &again, ka.c.fpr), "hold 300 ms: the other "
	    "handle saw the owner, or ERR_RETRY and then the owner (step %d, "
	    "code %d; again step %d)", first.step, (int)first.code,
	    again.step);
	if (b->busy_ms > 0)
		ok(first.step == 4 && first.begin_ms >= 150, "hold 300 ms: "
		    "begin waited for the other unit (%lld ms), then saw its "
		    "write", (long long)first.begin_ms);

	/* a long hold: past the busy timeout, if the backend has one */
	long_ms = b->busy_ms > 0 ? b->busy_ms + 3000 : 500;
	conf_hold(a, c, "h2@example.org", ka.c.fpr, kb.c.fpr, long_ms, &first,
	    &again, &hrc);
	conf_owner(c, "h2@example.org", owner);
	ok(hrc == 0 && strcmp(owner, ka.c.fpr) == 0,
	    "hold %d ms: the holder's unit committed, its address stays",
	    long_ms);
	ok(conf_lost_right(&first, &again, ka.c.fpr), "hold %d ms: the other "
	    "handle saw the owner, or ERR_RETRY and then the owner (step %d, "
	    "code %d; again step %d)", long_ms, first.step, (int)first.code,
	    again.step);
	if (b->busy_ms > 0) {
		ok(first.step == 0 && first.rc == -1 &&
		    first.code == ERR_RETRY &&
		    first.begin_ms >= b->busy_ms * 8 / 10,
		    "hold %d ms: begin gave up after the busy timeout with "
		    "ERR_RETRY (step %d, code %d, %lld ms)", long_ms,
		    first.step, (int)first.code, (long long)first.begin_ms);
		ok(again.step == 4 && again.begin_ms < b->busy_ms / 2,
		    "hold %d ms: the rerun once the holder committed: at once",
		    long_ms);
	}

	/* a read unit on the other handle does not wait for a writer,
	 * and sees none of its unit */
	ok(store_begin(a, &e) == 0 && store_cert_put(a, &kn.c, &e) == 0,
	    "hold: a write unit open on one handle");
	t0 = conf_ms();
	ok(store_begin_read(c, &e) == 0 &&
	    conf_scan(c, "", 10, seen, sizeof(seen)) == 2, "hold: begin_read "
	    "and certs_scan on the other: the committed keys only");
	took = conf_ms() - t0;
	ok(store_commit(c, &e) == 0 && took < 1000,
	    "hold: the read did not wait for the writer (%lld ms)",
	    (long long)took);
	ok(conf_lookup_rc(c, STORE_BY_FPR, kn.c.fpr) == 1,
	    "hold: lookups on the other handle do not see the open unit");
	ok(store_commit(a, &e) == 0 && conf_finds(c, STORE_BY_FPR, kn.c.fpr,
	    &kn), "hold: committed, they do");
	store_close(c);
	store_close(a);
}

#endif
