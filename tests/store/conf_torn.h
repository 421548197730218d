/*
 * conf_torn: reads while units commit.  Lookups and upload_view run on
 * any thread outside any unit, and each must answer as of one moment:
 * never half of a unit, never an older state after a newer one.  Part of
 * the conformance suite (conformance.h).
 */
#ifndef KEYDIR_CONF_TORN_H
#define KEYDIR_CONF_TORN_H

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "conf_fix.h"

/*
 * The key the torn-read test rewrites, at version v: a published form of
 * some kB (overflow pages), all of it, the index line, the ETag, updated
 * and the one subkey (of three) saying v; buf holds the published form.
 */
#define CONF_TORN_MAX 11000
#define CONF_TORN_VERSIONS 100
#define CONF_TORN_FPR "7000000000000000000000000000000B00000001"

static void
conf_torn_key(struct conf_key *k, int64_t v, char *buf)
{
	char sub[FPR_LEN + 1];
	size_t len = 3000 + (size_t)(v % 4) * 2500;
	int n;

	conf_key_init(k, CONF_TORN_FPR, v);
	conf_fpr(sub, 0x70 + (unsigned)(v % 3), 0xB, 0x10 + (unsigned)(v % 3));
	conf_key_sub(k, sub);
	n = snprintf(buf, len + 1, CONF_PUB_HEAD "V%08lld\n", (long long)v);
	memset(buf + n, 'a' + (int)(v % 26), len - (size_t)n);
	buf[len] = '\0';
	k->c.published = buf;
	k->c.published_len = len;
}

struct conf_reader {
	struct store	*s;
	atomic_int	*started;
	atomic_bool	*done;
	int		 lookups;
	int		 torn;		/* answers no version wrote */
	int		 back;		/* an older version after a newer */
	int		 errors;
	int64_t		 last;		/* newest version seen */
	int		 versions;	/* distinct versions seen */
	char		 why[200];
};

/* Whether p is the whole of one version of the key; *v which. */
static bool
conf_torn_check(const struct store_pub *p, int64_t *v, char *buf)
{
	struct conf_key k;
	long long ver;

	if (p->published_len < sizeof(CONF_PUB_HEAD) || sscanf(p->published +
	    sizeof(CONF_PUB_HEAD) - 1, "V%08lld\n", &ver) != 1 || ver < 0 ||
	    ver > CONF_TORN_VERSIONS)
		return false;
	*v = ver;
	conf_torn_key(&k, ver, buf);
	return conf_pub_is(p, &k) && p->next == NULL;
}

/* One lookup: a consistent version or none where none may be. */
static void
conf_reader_one(struct conf_reader *r, enum store_by by, const char *q,
    int sub, char *buf)
{
	struct store_pub p;
	struct err e;
	int64_t v = -1;
	int rc;

	r->lookups++;
	rc = store_lookup(r->s, by, q, &p, &e);
	if (rc == -1 || (rc == 1 && by == STORE_BY_FPR && sub < 0)) {
		if (r->errors++ == 0)
			snprintf(r->why, sizeof(r->why), "lookup %.60s: %d "
			    "%.100s", q, rc, rc == -1 ? e.msg : "");
		return;
	}
	if (rc == 1)
		return;
	if (!conf_torn_check(&p, &v, buf) ||
	    (by == STORE_BY_EMAIL && v != r->last) ||
	    (sub >= 0 && v % 3 != sub)) {
		if (r->torn++ == 0)
			snprintf(r->why, sizeof(r->why), "by %s: version %lld, "
			    "last %lld, %zu bytes", q, (long long)v,
			    (long long)r->last, p.published_len);
	} else if (v < r->last)
		r->back++;
	else {
		r->versions += v != r->last;
		r->last = v;
	}
	store_pub_release(&p);
}

static void *
conf_reader_run(void *arg)
{
	struct conf_reader *r = arg;
	char *buf = malloc(CONF_TORN_MAX + 1), addr[64], sub[FPR_LEN + 1];
	bool fin, first = true;

	if (buf == NULL) {
		r->errors++;
		atomic_fetch_add(r->started, 1);
		return NULL;
	}
	do {
		fin = atomic_load(r->done);
		conf_reader_one(r, STORE_BY_FPR, CONF_TORN_FPR, -1, buf);
		/* the address of the version seen is there only while it is
		 * the newest: if found, with that version */
		snprintf(addr, sizeof(addr), "v%lld@example.org",
		    (long long)r->last);
		conf_reader_one(r, STORE_BY_EMAIL, addr, -1, buf);
		conf_fpr(sub, 0x70 + (unsigned)(r->lookups % 3), 0xB,
		    0x10 + (unsigned)(r->lookups % 3));
		conf_reader_one(r, STORE_BY_FPR, sub, r->lookups % 3, buf);
		if (first)
			atomic_fetch_add(r->started, 1);
		first = false;
	} while (!fin);
	free(buf);
	return NULL;
}

struct conf_torn_w {
	struct conf_key	 k;
	int64_t		 v;
	char		*buf;
};

/* Version v: the key, its address v, the address of v - 1 gone. */
static int
conf_torn_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_torn_w *w = arg;
	char addr[64];

	conf_torn_key(&w->k, w->v, w->buf);
	if (store_cert_put(s, &w->k.c, e) == -1)
		return -1;
	snprintf(addr, sizeof(addr), "v%lld@example.org", (long long)w->v);
	if (store_addr_set(s, addr, CONF_TORN_FPR, w->v, e) == -1)
		return -1;
	snprintf(addr, sizeof(addr), "v%lld@example.org",
	    (long long)w->v - 1);
	return w->v > 0 ? store_addr_del(s, addr, e) : 0;
}

/* Lookups on three threads, two handles, while one writer rewrites a key
 * CONF_TORN_VERSIONS times: every answer is one whole version. */
static void
conf_t_torn(const struct conf_backend *b)
{
	struct conf_reader r[3];
	struct conf_torn_w w;
	struct store *s, *s2;
	atomic_int started;
	atomic_bool done;
	pthread_t th[3];
	char url[1024];
	int werr = 0, torn = 0, back = 0, errors = 0, lookups = 0, last = 1;
	int retries = 0;
	struct err e;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s = conf_open(url, "torn")) == NULL)
		return;
	if ((s2 = conf_open(url, "torn")) == NULL) {
		store_close(s);
		return;
	}
	memset(&w, 0, sizeof(w));
	if ((w.buf = malloc(CONF_TORN_MAX + 1)) == NULL)
		goto out;
	ok(conf_atomic(s, conf_torn_fn, &w, NULL, &e) == 0, "torn: version 0");
	atomic_init(&started, 0);
	atomic_init(&done, false);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		r[i].s = i == 2 ? s2 : s;
		r[i].started = &started;
		r[i].done = &done;
		pthread_create(&th[i], NULL, conf_reader_run, &r[i]);
	}
	while (atomic_load(&started) < 3)
		usleep(500);
	for (w.v = 1; w.v <= CONF_TORN_VERSIONS; w.v++)
		werr += conf_atomic(s, conf_torn_fn, &w, &retries, &e) == -1;
	atomic_store(&done, true);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		torn += r[i].torn;
		back += r[i].back;
		errors += r[i].errors;
		lookups += r[i].lookups;
		last &= r[i].last == CONF_TORN_VERSIONS;
		if (r[i].why[0] != '\0')
			printf("# reader %d: %s\n", i, r[i].why);
	}
	ok(werr == 0, "torn: %d units written (%d failed)", CONF_TORN_VERSIONS,
	    werr);
	ok(errors == 0, "torn: every lookup of the key answered (%d not)",
	    errors);
	ok(torn == 0, "torn: %d lookups, every answer one whole version: "
	    "bytes, index, ETag, updated, subkey, address (%d not)", lookups,
	    torn);
	ok(back == 0, "torn: no reader saw an older version after a newer "
	    "(%d)", back);
	ok(last, "torn: after the last commit every reader sees it (%lld, "
	    "%lld, %lld); versions seen %d, %d, %d", (long long)r[0].last,
	    (long long)r[1].last, (long long)r[2].last, r[0].versions,
	    r[1].versions, r[2].versions);
out:
	free(w.buf);
	store_close(s2);
	store_close(s);
}

#define CONF_VIEW_FLIPS 200

struct conf_viewer {
	struct store	*s;
	const uint8_t	*hash;
	atomic_bool	*done;
	atomic_int	*started;
	int		 views;
	int		 mixed;		/* half of one unit, half of another */
	int		 errors;
	int		 seen[2];	/* views all unpublished, all published */
};

static void *
conf_viewer_run(void *arg)
{
	struct conf_viewer *r = arg;
	struct store_upload_view v;
	struct err e;
	bool fin, first = true;

	do {
		fin = atomic_load(r->done);
		r->views++;
		if (store_upload_view(r->s, r->hash, 10, 0, &v, &e) != 0)
			r->errors++;
		else {
			if (v.naddrs != 2 || v.nupload != 2)
				r->errors++;
			else if (v.addrs[0].status != v.addrs[1].status)
				r->mixed++;
			else
				r->seen[v.addrs[0].status ==
				    STORE_PUBLISHED]++;
			store_upload_view_release(&v);
		}
		if (first)
			atomic_fetch_add(r->started, 1);
		first = false;
	} while (!fin);
	return NULL;
}

struct conf_flip {
	const char	*fpr;
	int		 i;
};

/* Unit i: publish both addresses (i odd) or unpublish both. */
static int
conf_flip_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_flip *f = arg;

	if (f->i % 2 == 1)
		return store_addr_set(s, "t1@example.org", f->fpr, f->i, e) ==
		    -1 ? -1 : store_addr_set(s, "t2@example.org", f->fpr, f->i,
		    e);
	return store_addr_del(s, "t1@example.org", e) == -1 ? -1 :
	    store_addr_del(s, "t2@example.org", e);
}

/*
 * upload_view is a read like lookups, on any thread while units commit:
 * it must show the statuses as of one moment, never half of a unit (a
 * unit is atomic, store.h).  A writer publishes and unpublishes two
 * addresses of an upload together; every view must show both published
 * or both not.
 *
 * The SQLite backend fails this: sq_upload_view (store_sqlite_read.c)
 * runs the upload's row, then one status query per address
 * (sq_addr_status), then the published list, each its own autocommit
 * statement on the reader and so its own snapshot; a commit landing
 * between two of them gives one address the old status and the other
 * the new (about 1 view in 300 here).  Kept apart from the passing
 * groups until the backend reads them in one transaction.
 */
static void
conf_t_torn_view(const struct conf_backend *b)
{
	const struct store_upload_addr up[] = { { "t1@example.org", true },
	    { "t2@example.org", true } };
	struct conf_viewer r[2];
	struct conf_flip f;
	struct conf_key u;
	struct store *s;
	atomic_bool done;
	atomic_int started;
	pthread_t th[2];
	uint8_t h[STORE_HASH_LEN];
	int werr = 0, mixed = 0, errors = 0, views = 0, seen0 = 0, seen1 = 0;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "torn view")) == NULL)
		return;
	conf_hash(h, 0xE0, 1);
	conf_key_init(&u, "A000000000000000000000000000000D00000001", 10);
	ok(store_begin(s, &e) == 0 && store_cert_put(s, &u.c, &e) == 0 &&
	    store_upload_mark(s, u.c.fpr, h, up, 2, &e) == 0 &&
	    store_commit(s, &e) == 0, "torn view: an upload of two addresses");
	atomic_init(&done, false);
	atomic_init(&started, 0);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		r[i].s = s;
		r[i].hash = h;
		r[i].done = &done;
		r[i].started = &started;
		pthread_create(&th[i], NULL, conf_viewer_run, &r[i]);
	}
	while (atomic_load(&started) < 2)
		usleep(500);
	f.fpr = u.c.fpr;
	for (f.i = 1; f.i <= CONF_VIEW_FLIPS; f.i++)
		werr += conf_atomic(s, conf_flip_fn, &f, NULL, &e) == -1;
	atomic_store(&done, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		mixed += r[i].mixed;
		errors += r[i].errors;
		views += r[i].views;
		seen0 += r[i].seen[0];
		seen1 += r[i].seen[1];
	}
	ok(werr == 0 && errors == 0, "torn view: %d units, %d views, no "
	    "errors (%d, %d)", CONF_VIEW_FLIPS, views, werr, errors);
	ok(mixed == 0, "torn view: every view shows one moment: both "
	    "published (%d) or both not (%d), never one of each (%d)", seen1,
	    seen0, mixed);
	store_close(s);
}

struct conf_fprer {
	struct store	*s;
	const char	*fpr;
	atomic_bool	*done;
	atomic_int	*started;
	int		 lookups;
	int		 missed;	/* found nothing, though a key had it */
	int		 errors;
	int		 seen[2];	/* as a primary, as a subkey */
};

static void *
conf_fprer_run(void *arg)
{
	struct conf_fprer *r = arg;
	struct store_pub p;
	struct err e;
	bool fin, first = true;
	int rc;

	do {
		fin = atomic_load(r->done);
		r->lookups++;
		rc = store_lookup(r->s, STORE_BY_FPR, r->fpr, &p, &e);
		if (rc == 1)
			r->missed++;
		else if (rc == -1)
			r->errors++;
		else {
			r->seen[strcmp(p.fpr, r->fpr) != 0]++;
			store_pub_release(&p);
		}
		if (first)
			atomic_fetch_add(r->started, 1);
		first = false;
	} while (!fin);
	return NULL;
}

struct conf_swap {
	struct conf_key	 p;	/* primary key F */
	struct conf_key	 q;	/* a key with subkey F */
	int		 i;
};

/* Unit i: F as a primary key (i odd) or as the subkey of another key,
 * never neither. */
static int
conf_swap_fn(struct store *s, void *arg, struct err *e)
{
	struct conf_swap *w = arg;

	if (w->i % 2 == 1)
		return store_cert_del(s, w->q.c.fpr, e) == -1 ? -1 :
		    store_cert_put(s, &w->p.c, e);
	return store_cert_del(s, w->p.c.fpr, e) == -1 ? -1 :
	    store_cert_put(s, &w->q.c, e);
}

/*
 * A lookup by fingerprint answers the primary key with it or else the
 * keys with a subkey with it, as of one moment.  A writer turns F from a
 * primary key into another key's subkey and back, one unit each time: F
 * is always there, so a lookup of F must always answer one of them.
 *
 * The SQLite backend fails this: sq_lookup (store_sqlite_read.c) asks
 * for the primary, resets the statement, and only then asks for the
 * subkey rows, two snapshots.  A unit that puts the subkey and deletes
 * the primary between them makes the lookup answer 1 (404), though
 * before and after the unit F has a key.  Key ids and addresses are one
 * statement each and pass (conf_t_torn).  Kept apart from the passing
 * groups until the backend reads both in one transaction.
 */
static void
conf_t_torn_fpr(const struct conf_backend *b)
{
	struct conf_fprer r[2];
	struct conf_swap w;
	struct store *s;
	atomic_bool done;
	atomic_int started;
	pthread_t th[2];
	int werr = 0, missed = 0, errors = 0, lookups = 0, prim = 0, sub = 0;
	struct err e;

	if ((s = conf_open(b->fresh_url(), "torn fpr")) == NULL)
		return;
	conf_key_init(&w.p, "F000000000000000000000000000000E00000001", 10);
	conf_key_init(&w.q, "0000000100000000000000000000000E00000002", 10);
	conf_key_sub(&w.q, w.p.c.fpr);
	w.i = 1;
	ok(conf_atomic(s, conf_swap_fn, &w, NULL, &e) == 0,
	    "torn fpr: F, a primary key");
	atomic_init(&done, false);
	atomic_init(&started, 0);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		r[i].s = s;
		r[i].fpr = w.p.c.fpr;
		r[i].done = &done;
		r[i].started = &started;
		pthread_create(&th[i], NULL, conf_fprer_run, &r[i]);
	}
	while (atomic_load(&started) < 2)
		usleep(500);
	for (w.i = 2; w.i <= CONF_VIEW_FLIPS + 1; w.i++)
		werr += conf_atomic(s, conf_swap_fn, &w, NULL, &e) == -1;
	atomic_store(&done, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		missed += r[i].missed;
		errors += r[i].errors;
		lookups += r[i].lookups;
		prim += r[i].seen[0];
		sub += r[i].seen[1];
	}
	ok(werr == 0 && errors == 0, "torn fpr: %d units, %d lookups, no "
	    "errors (%d, %d)", CONF_VIEW_FLIPS, lookups, werr, errors);
	ok(missed == 0, "torn fpr: every lookup of F answered, as a primary "
	    "(%d) or as a subkey (%d), never neither (%d)", prim, sub, missed);
	store_close(s);
}

#endif
