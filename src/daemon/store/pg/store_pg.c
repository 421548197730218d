/*
 * store_pg: the spine of the PostgreSQL backend: the connection pool,
 * units of work, statements and the error mapping (store_pg_int.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg_int.h"
#include "str.h"
#include "xmalloc.h"

/* The connections a thread holds for its units of work, one per store
 * handle (a thread may hold a unit on each of two handles: an export's
 * snapshot while another handle writes): for which store (and which
 * opening of it: gen), and which connection. */
#define PG_TL_UNITS 8
static _Thread_local struct {
	const struct pg *owner;
	unsigned long gen;
	struct pg_conn *conn;
} tl_units[PG_TL_UNITS];
static atomic_ulong pg_generation;

void
pg_args_init(struct pg_args *a)
{
	memset(a, 0, sizeof(*a));
}

void
pg_arg_text(struct pg_args *a, const char *s)
{
	a->v[a->n] = s;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

void
pg_arg_int(struct pg_args *a, int64_t v)
{
	snprintf(a->num[a->n], sizeof(a->num[a->n]), "%lld", (long long)v);
	pg_arg_text(a, a->num[a->n]);
}

void
pg_arg_bool(struct pg_args *a, bool v)
{
	pg_arg_text(a, v ? "t" : "f");
}

void
pg_arg_bytes(struct pg_args *a, const void *p, size_t n)
{
	a->v[a->n] = p != NULL ? p : "";
	a->len[a->n] = (int)n;
	a->fmt[a->n++] = 1;
}

int
pg_err(struct pg_conn *c, const PGresult *r, struct err *e)
{
	const char *st = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) :
	    NULL;
	const char *msg = r != NULL ? PQresultErrorMessage(r) :
	    PQerrorMessage(c->c);
	size_t n = strcspn(msg, "\n");

	if (st != NULL && (!strcmp(st, "40001") || !strcmp(st, "40P01")))
		return err_set(e, ERR_RETRY, "database: %.*s", (int)n, msg);
	if (st != NULL && !strcmp(st, "53100")) {
		log_warnx("database: the disk is full (%.*s): writes are "
		    "refused until there is room", (int)n, msg);
		return err_set(e, ERR_UNAVAIL, "The server's disk is full. "
		    "Try again later.");
	}
	if (PQstatus(c->c) != CONNECTION_OK)
		return err_set(e, ERR_RETRY, "database connection lost: %.*s",
		    (int)n, msg);
	return err_set(e, ERR_INTERNAL, "database: %.*s", (int)n, msg);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether name is prepared on c. */
static bool
prepared(const struct pg_conn *c, const char *name)
{
	return c->nprepared > 0 && bsearch(&name, c->prepared, c->nprepared,
	    sizeof(*c->prepared), cmp_name) != NULL;
}

int
pg_exec(struct pg_conn *c, const char *name, const char *sql,
    const struct pg_args *a, PGresult **res, struct err *e)
{
	static const struct pg_args none;
	PGresult *r;
	ExecStatusType st;

	*res = NULL;
	if (a == NULL)
		a = &none;
	if (!prepared(c, name)) {
		r = PQprepare(c->c, name, sql, a->n, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_err(c, r, e);
			PQclear(r);
			return -1;
		}
		PQclear(r);
		c->prepared = xrealloc(c->prepared, (c->nprepared + 1) *
		    sizeof(*c->prepared));
		c->prepared[c->nprepared++] = xstrdup(name);
		qsort(c->prepared, c->nprepared, sizeof(*c->prepared),
		    cmp_name);
	}
	r = PQexecPrepared(c->c, name, a->n, a->v, a->len, a->fmt, 0);
	st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		pg_err(c, r, e);
		PQclear(r);
		return -1;
	}
	*res = r;
	return 0;
}

int
pg_exec_plain(struct pg_conn *c, const char *sql, struct err *e)
{
	PGresult *r = PQexec(c->c, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_err(c, r, e);
	PQclear(r);
	return rc;
}

const char *
pg_text(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? "" : PQgetvalue(r, i, j);
}

int64_t
pg_int(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) ? 0 : strtoll(PQgetvalue(r, i, j), NULL,
	    10);
}

bool
pg_bool(const PGresult *r, int i, int j)
{
	const char *v = pg_text(r, i, j);

	return v[0] == 't' || (v[0] >= '1' && v[0] <= '9');
}

bool
pg_null(const PGresult *r, int i, int j)
{
	return PQgetisnull(r, i, j) != 0;
}

uint8_t *
pg_bytes(const PGresult *r, int i, int j, size_t *n)
{
	unsigned char *u;
	uint8_t *p;
	size_t len = 0;

	*n = 0;
	if (PQgetisnull(r, i, j))
		return NULL;
	u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, j), &len);
	if (u == NULL)
		return NULL;
	p = xmalloc(len ? len : 1);
	memcpy(p, u, len);
	PQfreemem(u);
	*n = len;
	return p;
}

char *
pg_dup(const PGresult *r, int i, int j, size_t *n)
{
	size_t len;
	char *p;

	if (PQgetisnull(r, i, j)) {
		if (n != NULL)
			*n = 0;
		return NULL;
	}
	len = (size_t)PQgetlength(r, i, j);
	p = xmalloc(len + 1);
	memcpy(p, PQgetvalue(r, i, j), len);
	p[len] = '\0';
	if (n != NULL)
		*n = len;
	return p;
}

void
pg_cpy(const PGresult *r, int i, int j, char *out, size_t sz)
{
	str_lcpy(out, pg_text(r, i, j), sz);
}

/* A new connection (no notices on stderr: pg_connect_as), in UTC. */
/* c is the caller's (busy, set under the pool's lock, stays as it is:
 * another thread must not take the slot while it opens). */
static int
conn_open(struct pg *q, struct pg_conn *c, struct err *e)
{
	c->prepared = NULL;
	c->nprepared = 0;
	c->in_txn = false;
	if ((c->c = pg_connect_as(q->conninfo, q->app, e)) == NULL)
		return -1;
	if (pg_exec_plain(c, "SET TIME ZONE 'UTC'", e) == -1) {
		PQfinish(c->c);
		c->c = NULL;
		return -1;
	}
	return 0;
}

static void
conn_close(struct pg_conn *c)
{
	size_t i;

	for (i = 0; i < c->nprepared; i++)
		free(c->prepared[i]);
	free(c->prepared);
	if (c->c != NULL)
		PQfinish(c->c);
	memset(c, 0, sizeof(*c));
}

struct pg_conn *
pg_conn(struct store *s)
{
	const struct pg *q = s->impl;
	size_t i;

	for (i = 0; i < PG_TL_UNITS; i++)
		if (tl_units[i].owner == q && tl_units[i].gen == q->gen)
			return tl_units[i].conn;
	return NULL;
}

struct pg_conn *
pg_unit(struct store *s, struct err *e)
{
	struct pg_conn *c = pg_conn(s);

	if (c == NULL)
		err_set(e, ERR_INTERNAL, "store: outside a unit of work");
	return c;
}

struct pg_conn *
pg_take(struct store *s, struct err *e)
{
	struct pg_conn *c;

	if ((c = pg_conn(s)) != NULL)
		return c;
	return pg_take_free(s, e);
}

static struct pg_conn *pool_take(struct pg *q, bool nowait, struct err *e);

struct pg_conn *
pg_take_free(struct store *s, struct err *e)
{
	return pg_pool_take(s->impl, e);
}

struct pg_conn *
pg_pool_take(struct pg *q, struct err *e)
{
	return pool_take(q, false, e);
}

struct pg_conn *
pg_pool_try(struct pg *q, struct err *e)
{
	return pool_take(q, true, e);
}

static struct pg_conn *
pool_take(struct pg *q, bool nowait, struct err *e)
{
	size_t i;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		for (i = 0; i < q->npool; i++)
			if (!q->pool[i].busy && q->pool[i].c != NULL)
				break;
		if (i < q->npool)
			break;
		if (q->npool < q->max) {
			i = q->npool++;
			q->pool[i].busy = true;
			pthread_mutex_unlock(&q->lock);
			if (conn_open(q, &q->pool[i], e) == -1) {
				pthread_mutex_lock(&q->lock);
				/* the slot stays empty: the next taker
				 * tries again */
				q->pool[i].busy = false;
				pthread_cond_signal(&q->cond);
				pthread_mutex_unlock(&q->lock);
				return NULL;
			}
			return &q->pool[i];
		}
		/* a slot whose connection failed: open it again */
		for (i = 0; i < q->npool; i++)
			if (!q->pool[i].busy && q->pool[i].c == NULL)
				break;
		if (i < q->npool) {
			q->pool[i].busy = true;
			pthread_mutex_unlock(&q->lock);
			if (conn_open(q, &q->pool[i], e) == -1) {
				pthread_mutex_lock(&q->lock);
				q->pool[i].busy = false;
				pthread_cond_signal(&q->cond);
				pthread_mutex_unlock(&q->lock);
				return NULL;
			}
			return &q->pool[i];
		}
		if (nowait) {
			pthread_mutex_unlock(&q->lock);
			err_set(e, ERR_RETRY, "store: every connection is taken");
			return NULL;
		}
		pthread_cond_wait(&q->cond, &q->lock);
	}
	q->pool[i].busy = true;
	pthread_mutex_unlock(&q->lock);
	return &q->pool[i];
}

void
pg_put(struct store *s, struct pg_conn *c)
{
	if (c == NULL || c == pg_conn(s))
		return;		/* the unit's: it keeps it */
	pg_pool_put(s->impl, c);
}

void
pg_pool_put(struct pg *q, struct pg_conn *c)
{
	pthread_mutex_lock(&q->lock);
	/* a connection that broke is opened again by the next taker */
	if (PQstatus(c->c) != CONNECTION_OK)
		conn_close(c);
	c->busy = false;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* Take a connection for this thread's unit and start it with sql. */
static int
unit_begin(struct store *s, const char *sql, struct err *e)
{
	struct pg *q = s->impl;
	struct pg_conn *c;
	size_t i;

	if (pg_conn(s) != NULL)
		return err_set(e, ERR_INTERNAL, "store: a unit of work is "
		    "already open on this thread");
	for (i = 0; i < PG_TL_UNITS; i++)
		if (tl_units[i].owner == NULL)
			break;
	if (i == PG_TL_UNITS)
		return err_set(e, ERR_INTERNAL, "store: more than %d units "
		    "open on one thread", PG_TL_UNITS);
	if ((c = pg_take(s, e)) == NULL)
		return -1;
	if (pg_exec_plain(c, sql, e) == -1) {
		pg_put(s, c);
		return -1;
	}
	c->in_txn = true;
	tl_units[i].owner = q;
	tl_units[i].gen = q->gen;
	tl_units[i].conn = c;
	return 0;
}

/* End this thread's unit: its connection goes back. */
static void
unit_end(struct store *s)
{
	const struct pg *q = s->impl;
	struct pg_conn *c = NULL;
	size_t i;

	for (i = 0; i < PG_TL_UNITS; i++)
		if (tl_units[i].owner == q && tl_units[i].gen == q->gen) {
			c = tl_units[i].conn;
			tl_units[i].owner = NULL;
			tl_units[i].conn = NULL;
		}
	if (c != NULL) {
		c->in_txn = false;
		c->writes = false;
		pg_put(s, c);
	}
}

static int
pg_begin(struct store *s, struct err *e)
{
	const struct pg *q = s->impl;

	if (q->readonly)
		return err_set(e, ERR_INTERNAL, "store: opened read-only");
	if (unit_begin(s, "BEGIN ISOLATION LEVEL SERIALIZABLE", e) == -1)
		return -1;
	pg_conn(s)->writes = true;
	return 0;
}

static int
pg_begin_read(struct store *s, struct err *e)
{
	return unit_begin(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    e);
}

static int
pg_commit(struct store *s, struct err *e)
{
	const struct pg *q = s->impl;
	struct pg_conn *c = pg_conn(s);
	bool writes;
	int rc;

	if (c == NULL)
		return err_set(e, ERR_INTERNAL, "store: no unit of work to "
		    "commit");
	writes = c->writes;
	rc = pg_exec_plain(c, "COMMIT", e);
	if (rc == -1 && PQtransactionStatus(c->c) != PQTRANS_IDLE)
		pg_exec_plain(c, "ROLLBACK", NULL);
	unit_end(s);
	/* this node's lookups see the commit once the caller has it (a
	 * COMMIT that failed on the way back may have committed too) */
	if (writes)
		pgl_settle(q->listen);
	return rc;
}

static void
pg_rollback(struct store *s)
{
	struct pg_conn *c = pg_conn(s);

	if (c == NULL)
		return;
	pg_exec_plain(c, "ROLLBACK", NULL);
	unit_end(s);
}

static struct pg *
pool_new(const char *conninfo, const char *app, bool readonly)
{
	struct pg *q = xcalloc(1, sizeof(*q));

	q->conninfo = xstrdup(conninfo);
	q->app = app;
	q->readonly = readonly;
	q->max = PG_POOL_MAX;
	q->gen = atomic_fetch_add(&pg_generation, 1) + 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	return q;
}

static void
pool_free(struct pg *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->npool; i++)
		conn_close(&q->pool[i]);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q->conninfo);
	free(q);
}

/*
 * "postgresql://..." or "postgres://..." as libpq takes it; rest is what
 * follows the scheme's colon, so the URL is rebuilt whole.
 */
static int
pg_open(struct store *s, const char *rest, bool readonly, struct err *e)
{
	struct pg_conn *c;
	size_t n = strlen(rest) + 16;
	char *url = xmalloc(n);
	int rc;

	snprintf(url, n, "postgresql:%s", rest);
	s->impl = pool_new(url, "keydird", readonly);
	free(url);
	if ((c = pg_take(s, e)) == NULL)
		goto fail;
	rc = readonly ? 0 : pg_migrate(c, e);
	pg_put(s, c);
	if (rc == 0)
		return 0;
fail:
	s->ops->close(s);
	return -1;
}

/* serve's lookups: a replica and a cache, each with the listener. */
static int
pg_serve_lookups(struct store *s, const char *read_url, size_t cache_bytes,
    struct err *e)
{
	struct pg *q = s->impl;

	if (q->listen != NULL)
		return err_set(e, ERR_INTERNAL, "store: lookups set up twice");
	if (read_url != NULL && *read_url != '\0') {
		if (strncmp(read_url, "postgresql:", 11) &&
		    strncmp(read_url, "postgres:", 9))
			return err_set(e, ERR_INVALID, "database_read: not a "
			    "postgresql:// URL");
		q->read = pool_new(read_url, "keydird-read", true);
	}
	if (cache_bytes > 0)
		q->cache = pgc_new(cache_bytes);
	if (q->read == NULL && q->cache == NULL)
		return 0;
	q->listen = pgl_start(q->conninfo, q->read ? q->read->conninfo : NULL,
	    q->cache, e);
	if (q->listen == NULL) {
		pgc_free(q->cache);
		pool_free(q->read);
		q->cache = NULL;
		q->read = NULL;
		return -1;
	}
	log_info("lookups: %s%s%s", q->cache ? "a cache" : "",
	    q->cache && q->read ? " and " : "", q->read ? "a replica" : "");
	return 0;
}

static void
pg_close(struct store *s)
{
	struct pg *q = s->impl;

	if (q == NULL)
		return;
	pg_node_free(q);
	pgl_stop(q->listen);
	pgc_free(q->cache);
	pool_free(q->read);
	pool_free(q);
	s->impl = NULL;
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.serve_lookups = pg_serve_lookups,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.begin_read = pg_begin_read,
	.lookup = pgs_lookup,
	.cert_get = pgs_cert_get,
	.cert_put = pgs_cert_put,
	.addr_owner = pgs_addr_owner,
	.addr_list = pgs_addr_list,
	.addr_set = pgs_addr_set,
	.addr_del = pgs_addr_del,
	.addr_get = pgs_addr_get,
	.addr_confirmed = pgs_addr_confirmed,
	.addr_asked = pgs_addr_asked,
	.addr_due = pgs_addr_due,
	.addr_stale = pgs_addr_stale,
	.cert_del = pgs_cert_del,
	.cert_purge_unconfirmed = pgs_cert_purge_unconfirmed,
	.token_purge = pgs_token_purge,
	.nonce_use = pgs_nonce_use,
	.nonce_purge = pgs_nonce_purge,
	.outbox_purge = pgs_outbox_purge,
	.rate_purge = pgs_rate_purge,
	.token_put = pgs_token_put,
	.token_get = pgs_token_get,
	.token_use = pgs_token_use,
	.token_pending = pgs_token_pending,
	.upload_mark = pgs_upload_mark,
	.upload_view = pgs_upload_view,
	.rate_get = pgs_rate_get,
	.rate_set = pgs_rate_set,
	.outbox_add = pgs_outbox_add,
	.outbox_due = pgs_outbox_due,
	.outbox_reclaim = pgs_outbox_reclaim,
	.outbox_fail = pgs_outbox_fail,
	.outbox_done = pgs_outbox_done,
	.outbox_retry = pgs_outbox_retry,
	.recovery_put = pgs_recovery_put,
	.recovery_get = pgs_recovery_get,
	.outbox_release = pgs_outbox_release,
	.outbox_next = pgs_outbox_next,
	.certs_scan = pgs_certs_scan,
	.wkd_scan = pgs_wkd_scan,
	.addr_restore = pgs_addr_restore,
	.cert_restore_meta = pgs_cert_restore_meta,
	.stats = pgs_stats,
	.cert_state = pgs_cert_state,
	.outbox_list = pgs_outbox_list,
	.client_keys = pgs_client_keys,
	.client_forget = pgs_client_forget,
	.unconfirmed_room = pgs_unconfirmed_room,
	.outbox_sent_since = pgs_outbox_sent_since,
	.node_join = pgs_node_join,
	.node_check = pgs_node_check,
	.maint_try = pgs_maint_try,
	.maint_release = pgs_maint_release,
};
