/*
 * store_sqlite_read: lookups, the hot path of the server.  A pool of
 * read-only connections, each keeping its prepared statements, serves any
 * number of threads; under WAL they never wait for the writer.  A thread
 * that looks up keeps its connection (a thread-local binding), so the
 * HTTP workers take no lock at all once warm.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "str.h"
#include "xmalloc.h"

/* More threads than this wait for a free connection. */
#define SQ_MAX_READERS 16

#define SQ_PUB_COLS \
	"SELECT c.fpr, c.keyid, c.published, c.hkp_index, c.etag, c.updated "

/*
 * A fingerprint or key id may match several rows (a subkey bound to two
 * certs, colliding key ids): primary keys beat subkeys, and every row of
 * the winning kind is answered, in fingerprint order (sq_lookup).  A
 * fingerprint is looked up as a primary first, straight in certs (two
 * B-trees instead of three), and only then as a subkey.
 */
static const char *const sq_lookup_sql[SQ_NREAD] = {
	[SQ_BY_FPR] = SQ_PUB_COLS "FROM certs c WHERE c.fpr = ?1",
	[SQ_BY_SUBFPR] = SQ_PUB_COLS ", 0 "
	    "FROM keyids k JOIN certs c ON c.id = k.cid WHERE k.fpr = ?1 "
	    "AND k.fpr <> k.cert ORDER BY k.cert LIMIT 64",
	[SQ_BY_KEYID] = SQ_PUB_COLS ", k.fpr = k.cert "
	    "FROM keyids k JOIN certs c ON c.id = k.cid WHERE k.keyid = ?1 "
	    "ORDER BY k.fpr = k.cert DESC, k.cert LIMIT 64",
	[SQ_BY_EMAIL] = SQ_PUB_COLS
	    "FROM addresses a JOIN certs c ON c.id = a.cid "
	    "WHERE a.address = ?1",
	/* the form of a binding that is published now (the join), never a
	 * row a republish has yet to replace */
	[SQ_BY_WKD] = "SELECT c.fpr, c.keyid, w.data, NULL, c.etag, "
	    "c.updated FROM wkd w JOIN addresses a ON a.address = w.address "
	    "AND a.cid = w.cid JOIN certs c ON c.id = w.cid WHERE w.hu = ?1 "
	    "ORDER BY c.fpr",
	[SQ_BY_UPLOAD] = "SELECT fpr, revoked, upload_addrs FROM certs "
	    "WHERE upload_hash = ?1 LIMIT 1",
	/* the token kind and the statuses are bound (?5..?8), so the
	 * enums' values live only in store.h */
	[SQ_ADDR_STATUS] = "SELECT CASE WHEN EXISTS (SELECT 1 FROM addresses "
	    "a JOIN certs c ON c.id = a.cid WHERE a.address = ?2 AND "
	    "c.fpr = ?1) THEN ?6 WHEN EXISTS (SELECT 1 "
	    "FROM tokens WHERE fpr = ?1 AND address = ?2 AND kind = ?5 AND "
	    "used = 0 AND expires > ?3) AND EXISTS (SELECT 1 FROM mail_rate "
	    "WHERE address = ?2 AND last > ?4) THEN ?7 ELSE ?8 END",
	[SQ_PUB_ADDRS] = "SELECT address FROM addresses WHERE cid = "
	    "(SELECT id FROM certs WHERE fpr = ?1) ORDER BY address",
};

/* A new reader with its lookup statements prepared. */
static struct sq_conn *
sq_reader_new(const char *path, struct err *e)
{
	struct sq_conn *c = xcalloc(1, sizeof(*c));

	if (sq_conn_open(c, path, true, e) == -1)
		goto fail;
	/* 12 MB of pages per reader: the hot keys' index and row pages
	 * stay in memory instead of costing a pread each.  At 10^6 keys a
	 * thousand hot keys need about 11 MB (a leaf of each of two B-trees
	 * per key, plus the interior pages).  One reader per HTTP thread,
	 * so 8 threads hold at most about 100 MB. */
	if (sqlite3_exec(c->db, "PRAGMA cache_size = -12288", NULL, NULL,
	    NULL) != SQLITE_OK) {
		sq_err(c->db, SQLITE_ERROR, e);
		goto fail;
	}
	for (int i = 0; i < SQ_NREAD; i++)
		if (sq_prep(c, (enum sq_slot)i, sq_lookup_sql[i], e) == NULL)
			goto fail;
	return c;
fail:
	sq_conn_close(c);
	free(c);
	return NULL;
}

/* Take an idle reader, opening one if the pool has room. */
static struct sq_conn *
sq_reader_get(struct sq *q, struct err *e)
{
	struct sq_conn *c;

	pthread_mutex_lock(&q->plock);
	while (q->idle == NULL && q->nreaders >= SQ_MAX_READERS)
		pthread_cond_wait(&q->pcond, &q->plock);
	if ((c = q->idle) != NULL) {
		q->idle = c->next;
		pthread_mutex_unlock(&q->plock);
		return c;
	}
	q->nreaders++;
	pthread_mutex_unlock(&q->plock);

	/* Opening takes a while: not under the lock. */
	if ((c = sq_reader_new(q->path, e)) == NULL) {
		pthread_mutex_lock(&q->plock);
		q->nreaders--;
		pthread_cond_signal(&q->pcond);
		pthread_mutex_unlock(&q->plock);
	}
	return c;
}

/* The calling thread's own reader, valid while tl_gen matches. */
static _Thread_local const struct sq *tl_owner;
static _Thread_local unsigned long tl_gen;
static _Thread_local struct sq_conn *tl_conn;
static atomic_ulong sq_generation;

/*
 * A reader for this thread to keep.  NULL (nothing set in e) when the pool
 * is at its cap: the caller then borrows one per lookup instead.
 */
static struct sq_conn *
sq_reader_bind(struct sq *q, struct err *e)
{
	struct sq_conn *c;

	/* at most half the pool is bound, so threads beyond that always
	 * find a reader to borrow */
	pthread_mutex_lock(&q->plock);
	if (q->nbound >= SQ_MAX_READERS / 2) {
		pthread_mutex_unlock(&q->plock);
		return NULL;
	}
	q->nbound++;
	pthread_mutex_unlock(&q->plock);
	if ((c = sq_reader_get(q, e)) == NULL) {
		pthread_mutex_lock(&q->plock);
		q->nbound--;
		pthread_mutex_unlock(&q->plock);
		return NULL;
	}
	pthread_mutex_lock(&q->plock);
	c->next = q->held;
	q->held = c;
	pthread_mutex_unlock(&q->plock);
	tl_owner = q;
	tl_gen = q->gen;
	tl_conn = c;
	return c;
}

static struct sq_conn *sq_rtx(const struct sq *q);

/* This thread's reader, or a borrowed one (*borrowed) to put back. */
static struct sq_conn *
sq_reader_take(struct sq *q, bool *borrowed, struct err *e)
{
	struct sq_conn *c;

	*borrowed = false;
	/* inside a read transaction, its snapshot */
	if ((c = sq_rtx(q)) != NULL)
		return c;
	if (tl_owner == q && tl_gen == q->gen)
		return tl_conn;
	if ((c = sq_reader_bind(q, e)) != NULL)
		return c;
	*borrowed = true;
	return sq_reader_get(q, e);
}

/* Give a reader back to the pool. */
static void
sq_reader_put(struct sq *q, struct sq_conn *c)
{
	pthread_mutex_lock(&q->plock);
	c->next = q->idle;
	q->idle = c;
	pthread_cond_signal(&q->pcond);
	pthread_mutex_unlock(&q->plock);
}

/*
 * Read transactions (store_begin_read): the calling thread takes a
 * reader of its own and opens one snapshot on it; every store call the
 * thread makes until commit or rollback runs on that reader (sq_conn_for),
 * so reads never take the writer lock or wait for writers.  The reader is
 * read-only: a write inside fails.
 */
static _Thread_local const struct sq *rtx_owner;
static _Thread_local unsigned long rtx_gen;
static _Thread_local struct sq_conn *rtx_conn;
static _Thread_local bool rtx_borrowed;

/* The thread's read transaction on q, or NULL. */
static struct sq_conn *
sq_rtx(const struct sq *q)
{
	return rtx_owner == q && rtx_gen == q->gen ? rtx_conn : NULL;
}

/* Whether the calling thread holds q's writer (store_begin). */
static _Thread_local const struct sq *wtx_owner;
static _Thread_local unsigned long wtx_gen;

void
sq_writing(const struct sq *q, bool on)
{
	wtx_owner = on ? q : NULL;
	wtx_gen = q->gen;
}

/* Whether the calling thread is in a transaction of q, read or write. */
bool
sq_in_txn(const struct sq *q)
{
	return sq_rtx(q) != NULL || (wtx_owner == q && wtx_gen == q->gen);
}

struct sq_conn *
sq_conn_for(struct store *s)
{
	struct sq *q = s->impl;
	struct sq_conn *c = sq_rtx(q);

	return c != NULL ? c : &q->w;
}

int
sq_begin_read(struct store *s, struct err *e)
{
	struct sq *q = s->impl;
	struct sq_conn *c;
	sqlite3_stmt *st;
	bool borrowed;

	if (sq_in_txn(q))
		return err_set(e, ERR_INTERNAL, "database: begin_read inside a "
		    "transaction");
	if ((c = sq_reader_take(q, &borrowed, e)) == NULL)
		return -1;
	if ((st = sq_prep(c, SQ_BEGIN_READ, "BEGIN DEFERRED", e)) == NULL ||
	    sq_run(c, st, SQLITE_OK, e) == -1) {
		if (borrowed)
			sq_reader_put(q, c);
		return -1;
	}
	rtx_owner = q;
	rtx_gen = q->gen;
	rtx_conn = c;
	rtx_borrowed = borrowed;
	return 0;
}

/* End the thread's read transaction, if it has one: 1 if it had none. */
int
sq_end_read(struct sq *q, bool commit, struct err *e)
{
	struct sq_conn *c = sq_rtx(q);
	int rc;

	if (c == NULL)
		return 1;
	rc = sqlite3_exec(c->db, commit ? "COMMIT" : "ROLLBACK", NULL, NULL,
	    NULL);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	if (rtx_borrowed)
		sq_reader_put(q, c);
	rtx_owner = NULL;
	rtx_conn = NULL;
	if (rc != SQLITE_OK && commit)
		return sq_err(c->db, rc, e);
	return 0;
}

/* Open the first reader, so a database readers cannot use fails early. */
int
sq_readers_init(struct sq *q, struct err *e)
{
	struct sq_conn *c;

	q->gen = atomic_fetch_add(&sq_generation, 1) + 1;
	if ((c = sq_reader_get(q, e)) == NULL)
		return -1;
	sq_reader_put(q, c);
	return 0;
}

/* Check the schema through a reader (a read-only open). */
int
sq_readers_schema(struct sq *q, struct err *e)
{
	struct sq_conn *c;
	int rc;

	if ((c = sq_reader_get(q, e)) == NULL)
		return -1;
	rc = sq_schema_check(c, e);
	sq_reader_put(q, c);
	return rc;
}

/* Close every reader, idle or kept by a thread; the caller guarantees
 * none is in use. */
void
sq_readers_close(struct sq *q)
{
	struct sq_conn *c;

	while ((c = q->idle) != NULL || (c = q->held) != NULL) {
		if (c == q->idle)
			q->idle = c->next;
		else
			q->held = c->next;
		sq_conn_close(c);
		free(c);
		q->nreaders--;
	}
}

/* Copy the current row of a lookup statement into p. */
static void
sq_pub_row(sqlite3_stmt *st, struct store_pub *p)
{
	sq_col_cpy(st, 0, p->fpr, sizeof(p->fpr));
	sq_col_cpy(st, 1, p->keyid, sizeof(p->keyid));
	p->published = sq_col_dup(st, 2, &p->published_len);
	p->hkp_index = sq_col_dup(st, 3, NULL);
	sq_col_cpy(st, 4, p->etag, sizeof(p->etag));
	p->updated = sqlite3_column_int64(st, 5);
}

/*
 * The rows after the first of a key id or subkey lookup, chained to out:
 * only rows of the first row's kind (primary or subkey), each key once,
 * at most STORE_LOOKUP_MAX keys.  The rows come in kind, then fingerprint
 * order, so a key's rows are adjacent.
 */
static int
sq_lookup_more(sqlite3_stmt *st, struct store_pub *out)
{
	struct store_pub **tail = &out->next, *p;
	int primary = sqlite3_column_int(st, 6), rc, n = 1;
	char last[FPR_LEN + 1];

	str_lcpy(last, out->fpr, sizeof(last));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < STORE_LOOKUP_MAX) {
		if (sqlite3_column_int(st, 6) != primary)
			return SQLITE_DONE;
		if (strcmp((const char *)sqlite3_column_text(st, 0), last) == 0)
			continue;
		p = xcalloc(1, sizeof(*p));
		sq_pub_row(st, p);
		str_lcpy(last, p->fpr, sizeof(last));
		*tail = p;
		tail = &p->next;
		n++;
	}
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/*
 * Open a snapshot on reader c for a read of several statements, unless c
 * is already in one (a read transaction of this thread): 1 when opened
 * (end it with sq_snap_end), 0 when not needed, -1 on error.
 */
static int
sq_snap_begin(struct sq_conn *c, struct err *e)
{
	sqlite3_stmt *st;

	if (!sqlite3_get_autocommit(c->db))
		return 0;
	if ((st = sq_prep(c, SQ_BEGIN_READ, "BEGIN DEFERRED", e)) == NULL ||
	    sq_run(c, st, SQLITE_OK, e) == -1)
		return -1;
	return 1;
}

static void
sq_snap_end(struct sq_conn *c, int opened)
{
	sqlite3_stmt *st;

	if (opened != 1)
		return;
	if ((st = sq_prep(c, SQ_COMMIT, "COMMIT", NULL)) == NULL ||
	    sq_run(c, st, SQLITE_OK, NULL) == -1)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* One indexed read; copies out what to serve. */
int
sq_lookup(struct store *s, enum store_by by, const char *key,
    struct store_pub *out, struct err *e)
{
	struct sq *q = s->impl;
	struct sq_conn *c;
	sqlite3_stmt *st;
	enum sq_slot slot;
	bool borrowed = false;
	int rc, ret = -1, snap = 0;

	memset(out, 0, sizeof(*out));
	switch (by) {
	case STORE_BY_FPR:
		slot = SQ_BY_FPR;
		break;
	case STORE_BY_KEYID:
		slot = SQ_BY_KEYID;
		break;
	case STORE_BY_EMAIL:
		slot = SQ_BY_EMAIL;
		break;
	case STORE_BY_WKD:
		slot = SQ_BY_WKD;
		break;
	default:
		return err_set(e, ERR_INTERNAL, "store: bad lookup kind %d",
		    (int)by);
	}
	if ((c = sq_reader_take(q, &borrowed, e)) == NULL)
		return -1;
	st = c->st[slot];
	rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE && slot == SQ_BY_FPR) {
		/* not a primary's: ask again, as a primary and then as a
		 * subkey, in one snapshot, or a unit that turns one into the
		 * other between the two reads would make the key vanish */
		sqlite3_reset(st);
		if ((snap = sq_snap_begin(c, e)) == -1)
			goto out;
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(st);
			slot = SQ_BY_SUBFPR;
			st = c->st[slot];
			rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_step(st);
		}
	}
	if (rc == SQLITE_ROW) {
		sq_pub_row(st, out);
		if (slot == SQ_BY_KEYID || slot == SQ_BY_SUBFPR)
			rc = sq_lookup_more(st, out);
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sq_err(c->db, rc, e);
		store_pub_release(out);
		ret = -1;
	}
	/* Reset now: a pending statement would pin its WAL snapshot. */
	sqlite3_reset(st);
	sq_snap_end(c, snap);
out:
	if (borrowed)
		sq_reader_put(q, c);
	return ret;
}

/* Status of address for fpr, as the upload answer reports it. */
static int
sq_addr_status(struct sq_conn *c, const char *fpr, const char *address,
    int64_t now, int64_t rate_since, enum store_addr_status *st,
    struct err *e)
{
	sqlite3_stmt *q = c->st[SQ_ADDR_STATUS];
	int rc;

	rc = sqlite3_bind_text(q, 1, fpr, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(q, 2, address, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(q, 3, now);
	rc |= sqlite3_bind_int64(q, 4, rate_since);
	rc |= sqlite3_bind_int(q, 5, TOKEN_VERIFY);
	rc |= sqlite3_bind_int(q, 6, STORE_PUBLISHED);
	rc |= sqlite3_bind_int(q, 7, STORE_PENDING);
	rc |= sqlite3_bind_int(q, 8, STORE_UNPUBLISHED);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*st = (enum store_addr_status)sqlite3_column_int(q, 0);
	else
		sq_err(c->db, rc, e);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Add address to v once, with its status. */
static int
sq_view_add(struct sq_conn *c, struct store_upload_view *v,
    const char *address, bool revoked, int64_t now, int64_t rate_since,
    struct err *e)
{
	size_t i;

	for (i = 0; i < v->naddrs; i++)
		if (!strcmp(v->addrs[i].address, address))
			return 0;
	v->addrs = xrealloc(v->addrs, (v->naddrs + 1) * sizeof(*v->addrs));
	str_lcpy(v->addrs[v->naddrs].address, address,
	    sizeof(v->addrs[0].address));
	v->addrs[v->naddrs].status = STORE_REVOKED;
	if (!revoked && sq_addr_status(c, v->fpr, address, now, rate_since,
	    &v->addrs[v->naddrs].status, e) == -1)
		return -1;
	v->naddrs++;
	return 0;
}

/* The upload's own addresses ("+addr" / "-addr" lines), then the
 * published ones. */
static int
sq_view_fill(struct sq_conn *c, struct store_upload_view *v,
    const char *lines, int64_t now, int64_t rate_since, struct err *e)
{
	sqlite3_stmt *q = c->st[SQ_PUB_ADDRS];
	const char *p, *nl;
	char addr[256];
	int rc = 0;

	for (p = lines; rc == 0 && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if ((size_t)(nl ? nl - p : (long)strlen(p)) < 2)
			continue;
		str_lcpy(addr, p + 1, sizeof(addr));
		addr[strcspn(addr, "\n")] = '\0';
		rc = sq_view_add(c, v, addr, *p == '-', now, rate_since, e);
	}
	v->nupload = v->naddrs;
	if (rc == -1 || v->revoked)
		return rc;
	if (sqlite3_bind_text(q, 1, v->fpr, -1, SQLITE_STATIC) != SQLITE_OK)
		return sq_err(c->db, SQLITE_ERROR, e);
	while (rc == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW)
		rc = sq_view_add(c, v, (const char *)sqlite3_column_text(q, 0),
		    false, now, rate_since, e);
	if (rc != SQLITE_DONE && rc != 0)
		rc = rc == -1 ? -1 : sq_err(c->db, rc, e);
	else
		rc = 0;
	sqlite3_reset(q);
	return rc;
}

/* What an upload of these bytes would answer; 1 for unknown bytes. */
int
sq_upload_view(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t rate_since, struct store_upload_view *out,
    struct err *e)
{
	struct sq *q = s->impl;
	struct sq_conn *c;
	sqlite3_stmt *st;
	bool borrowed = false;
	char *lines = NULL;
	int rc, ret = -1, snap;

	memset(out, 0, sizeof(*out));
	if ((c = sq_reader_take(q, &borrowed, e)) == NULL)
		return -1;
	/* the key and each address's status from one snapshot: one query
	 * per address, and a unit may commit between two of them */
	if ((snap = sq_snap_begin(c, e)) == -1) {
		if (borrowed)
			sq_reader_put(q, c);
		return -1;
	}
	st = c->st[SQ_BY_UPLOAD];
	rc = sq_bind_bytes(st, 1, hash, STORE_HASH_LEN);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sq_col_cpy(st, 0, out->fpr, sizeof(out->fpr));
		out->revoked = sqlite3_column_int(st, 1) != 0;
		lines = sq_col_dup(st, 2, NULL);
		ret = 0;
	} else if (rc == SQLITE_DONE)
		ret = 1;
	else
		sq_err(c->db, rc, e);
	sqlite3_reset(st);
	if (ret == 0 && sq_view_fill(c, out, lines, now, rate_since, e) == -1)
		ret = -1;
	free(lines);
	if (ret == -1)
		store_upload_view_release(out);
	sq_snap_end(c, snap);
	if (borrowed)
		sq_reader_put(q, c);
	return ret;
}
