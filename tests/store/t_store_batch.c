/*
 * t_store_batch: writers that queue up share one transaction.  Each
 * writer's part stands or falls on its own; what a writer was told is
 * committed is there after a reopen; a read transaction (export) ends an
 * open batch first; the checkpointer keeps the WAL short.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store_sqlite_int.h"
#include "storetest.h"

#define NW 8		/* writer threads */
#define ROUNDS 40	/* transactions per writer */

static struct store *st;
static char dbfile[600];
static pthread_barrier_t bar;

/* A fingerprint for writer w's transaction i. */
static void
fpr_of(int w, int i, char fpr[FPR_LEN + 1])
{
	snprintf(fpr, FPR_LEN + 1, "F%03d%036d", w, i);
}

enum outcome { COMMITTED, ROLLED_BACK, FAILED, ERROR };

/*
 * Writer w's transaction i: put a cert and an address for it, then
 * commit, roll back (i % 5 == 1), or fail a statement and roll back
 * (i % 5 == 2: an address for a cert that does not exist).
 */
static enum outcome
one(int w, int i)
{
	struct store_cert c;
	struct err e;
	char fpr[FPR_LEN + 1], addr[64];

	fpr_of(w, i, fpr);
	snprintf(addr, sizeof(addr), "w%d-%d@example.org", w, i);
	cert_make(&c, fpr, PUB_A, NULL, 0);
	if (store_begin(st, &e) == -1)
		return ERROR;
	if (store_cert_put(st, &c, &e) == -1 ||
	    store_addr_set(st, addr, fpr, 1, &e) == -1) {
		store_rollback(st);
		return ERROR;
	}
	if (i % 5 == 1) {
		store_rollback(st);
		return ROLLED_BACK;
	}
	if (i % 5 == 2) {
		if (store_addr_set(st, "x@example.org", FPR_U, 1, &e) == 0) {
			store_rollback(st);
			return ERROR;	/* should have failed */
		}
		store_rollback(st);
		return FAILED;
	}
	return store_commit(st, &e) == 0 ? COMMITTED : ERROR;
}

struct writer {
	int w;
	int n[4];	/* by outcome */
};

static void *
writer_run(void *arg)
{
	struct writer *wr = arg;

	pthread_barrier_wait(&bar);
	for (int i = 0; i < ROUNDS; i++)
		wr->n[one(wr->w, i)]++;
	return NULL;
}

/* Whether writer w's transaction i is stored (cert and address). */
static int
stored(int w, int i)
{
	char fpr[FPR_LEN + 1], addr[64], owner[FPR_LEN + 1];
	struct err e;
	int rc;

	fpr_of(w, i, fpr);
	snprintf(addr, sizeof(addr), "w%d-%d@example.org", w, i);
	if (store_begin(st, &e) == -1)
		return -1;
	rc = store_addr_owner(st, addr, owner, &e);
	store_commit(st, &e);
	if (rc == 1)
		return 0;
	return rc == 0 && strcmp(owner, fpr) == 0 ? 1 : -1;
}

/* Every outcome is what the writer was told, in the database. */
static void
t_outcomes(const char *what)
{
	int right = 0, wrong = 0;

	for (int w = 0; w < NW; w++)
		for (int i = 0; i < ROUNDS; i++) {
			int want = i % 5 != 1 && i % 5 != 2;

			if (stored(w, i) == want)
				right++;
			else
				wrong++;
		}
	ok(wrong == 0 && right == NW * ROUNDS, "%s: %d parts as told, "
	    "%d not", what, right, wrong);
}

/* NW writers at once, ROUNDS transactions each. */
static void
t_concurrent(void)
{
	struct writer wr[NW];
	pthread_t th[NW];
	int n[4] = { 0 };

	pthread_barrier_init(&bar, NULL, NW);
	for (int w = 0; w < NW; w++) {
		memset(&wr[w], 0, sizeof(wr[w]));
		wr[w].w = w;
		pthread_create(&th[w], NULL, writer_run, &wr[w]);
	}
	for (int w = 0; w < NW; w++) {
		pthread_join(th[w], NULL);
		for (int k = 0; k < 4; k++)
			n[k] += wr[w].n[k];
	}
	pthread_barrier_destroy(&bar);
	ok(n[ERROR] == 0 && n[COMMITTED] == NW * ROUNDS * 3 / 5 &&
	    n[ROLLED_BACK] == NW * ROUNDS / 5 && n[FAILED] == NW * ROUNDS / 5,
	    "outcomes: %d committed, %d rolled back, %d failed, %d errors",
	    n[COMMITTED], n[ROLLED_BACK], n[FAILED], n[ERROR]);
	t_outcomes("after the run");
}

struct joiner {
	int i;		/* transaction number (its outcome kind) */
	enum outcome got;
};

static void *
joiner_run(void *arg)
{
	struct joiner *j = arg;

	j->got = one(NW, j->i);
	return NULL;
}

/*
 * Writers that queue while another holds the transaction all end up in
 * one batch: one COMMIT for the lot, and the parts that failed or rolled
 * back are not in it.
 */
static void
t_queue(void)
{
	struct sq *q = st->impl;
	struct joiner j[6];
	pthread_t th[6];
	struct store_cert c;
	struct err e;
	char fpr[FPR_LEN + 1];
	uint64_t before;
	int good = 1;

	fpr_of(NW, 100, fpr);
	cert_make(&c, fpr, PUB_D, NULL, 0);
	ok(store_begin(st, &e) == 0 && store_cert_put(st, &c, &e) == 0,
	    "holder begins");
	before = q->nbatches;
	for (int k = 0; k < 6; k++) {
		j[k].i = 200 + k;	/* 200: commit, 201: roll back, ... */
		pthread_create(&th[k], NULL, joiner_run, &j[k]);
	}
	/* let them all queue behind the holder */
	while (atomic_load(&q->nwait) < 6)
		usleep(1000);
	ok(store_commit(st, &e) == 0, "holder commits");
	for (int k = 0; k < 6; k++) {
		pthread_join(th[k], NULL);
		good &= j[k].got == (k % 5 == 1 ? ROLLED_BACK :
		    k % 5 == 2 ? FAILED : COMMITTED);
	}
	ok(good, "each queued writer got its own outcome");
	ok(q->nbatches - before <= 2, "one batch for holder and queue "
	    "(%llu ended)", (unsigned long long)(q->nbatches - before));
	ok(finds(st, STORE_BY_FPR, fpr, fpr, PUB_D), "holder's cert stored");
	for (int k = 0; k < 6; k++)
		if (stored(NW, 200 + k) != (k % 5 != 1 && k % 5 != 2))
			good = 0;
	ok(good, "queued parts stored exactly when committed");
}

static void *
exporter_run(void *arg)
{
	struct err e;
	int *fails = arg;

	for (int i = 0; i < 50; i++) {
		if (store_begin_read(st, &e) == -1) {
			(*fails)++;
			continue;
		}
		if (store_commit(st, &e) == -1)
			(*fails)++;
	}
	return NULL;
}

/* Read transactions (export) between batches never fail or hang. */
static void
t_read_between(void)
{
	struct writer wr[2];
	pthread_t th[3];
	int fails = 0;

	pthread_barrier_init(&bar, NULL, 2);
	for (int w = 0; w < 2; w++) {
		memset(&wr[w], 0, sizeof(wr[w]));
		wr[w].w = NW + 1 + w;
		pthread_create(&th[w], NULL, writer_run, &wr[w]);
	}
	pthread_create(&th[2], NULL, exporter_run, &fails);
	for (int k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	pthread_barrier_destroy(&bar);
	ok(fails == 0 && wr[0].n[ERROR] == 0 && wr[1].n[ERROR] == 0,
	    "read transactions among writers: %d failures, %d + %d write "
	    "errors", fails, wr[0].n[ERROR], wr[1].n[ERROR]);
}

/*
 * 3000 write transactions one after another: the checkpointer (SQLite's
 * own is off) copies the WAL back and the writer starts it over, so it
 * stays near 1000 pages instead of growing by every page written.
 */
static void
t_wal_bounded(void)
{
	struct store_cert c;
	struct stat sb;
	char fpr[FPR_LEN + 1], wal[620];
	off_t max = 0;
	int fails = 0;

	snprintf(wal, sizeof(wal), "%s-wal", dbfile);
	for (int i = 0; i < 3000; i++) {
		fpr_of(NW + 5, i, fpr);
		cert_make(&c, fpr, PUB_A, NULL, 0);
		fails += put(st, &c) == -1;
		if (stat(wal, &sb) == 0 && sb.st_size > max)
			max = sb.st_size;
	}
	ok(fails == 0 && max > 0 && max < 16 * 1024 * 1024,
	    "WAL stays short under 3000 commits (%d failed, largest %lld "
	    "bytes)", fails, (long long)max);
}

int
main(void)
{
	char dir[] = "/tmp/t_store_batch.XXXXXX", url[620];
	struct err e;

	log_set_quiet(1);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbfile, sizeof(dbfile), "%s/k.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", dbfile);
	st = store_open(url, &e);
	ok(st != NULL, "store_open (%s)", st ? "ok" : e.msg);
	if (st == NULL)
		return tap_done();
	t_concurrent();
	t_queue();
	t_read_between();
	t_wal_bounded();
	store_close(st);

	st = store_open(url, &e);
	ok(st != NULL, "reopen");
	if (st != NULL) {
		t_outcomes("after reopen");
		store_close(st);
	}
	/* the WAL test grows the database to megabytes: leave nothing */
	snprintf(url, sizeof(url), "rm -rf '%s'", dir);
	if (system(url) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
