/*
 * store_pg_node: which nodes are alive, and whose turn maintenance is,
 * for several keydird serve on one database (store.h, "Nodes").
 *
 * A node is alive while its lock is held: a shared session-level
 * advisory lock (PG_NODE_CLASS, PG_NODE_KEY(name)) on a connection of
 * its handle's own, outside the pool, for the handle's life
 * (application_name keydird-node).  When the process dies, SIGKILL too,
 * the kernel closes that connection and the server drops the lock at
 * once; outbox_due on any other handle then takes the node's leases
 * over (PG_NODE_GONE, store_pg_mail.c).  A host that dies without
 * closing anything is noticed by TCP keepalives, set here on both ends:
 * within about half a minute rather than the kernel's two hours, and
 * until then its leases just wait for their end, as before.  Shared, not
 * exclusive: two sessions holding one name (a successor starting before
 * the server saw its predecessor's connection end, or two nodes whose
 * names share 32 bits of MD5) keep the name alive while either lives,
 * the safe way round (no lease is taken from a live node).
 *
 * A connection that breaks while the process lives (a restarted server,
 * a terminated session) has lost the lock, and other nodes may take the
 * node's leases over meanwhile.  The next call that uses the connection
 * opens it again and takes the lock again; node_check then says 1 once,
 * so the mailer sends none of what it leased before (it reclaims what is
 * still its own).  The one mail a node is sending when its connection
 * breaks may go out twice; no mail goes out never.
 *
 * node_check asks whether the name's lock is held at all (what the other
 * nodes see), not only whether the connection answers: behind PgBouncer
 * in transaction mode the lock lives on a server connection the pooler
 * may close while the node lives; the check then takes it again and
 * says 1, as after a break.  (There, a dead node's lock may outlive it
 * on the pooler's server connection, and its leases wait for their end:
 * the old way, never a mail sent twice.)
 *
 * The maintenance turn is an exclusive transaction-level lock
 * (PG_MAINT_CLASS, 0), tried, never waited for, in a transaction kept
 * open on the same connection for the pass (idle, holding no snapshot):
 * a pooler keeps the transaction on one server connection, so the turn
 * ends where it was taken, at maint_release's COMMIT or with the
 * session, and a node that dies mid-pass frees it at once.  A break
 * while a pass runs lets another node's pass start beside it; every
 * maintenance unit is SERIALIZABLE, so that costs work, not correctness.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "str.h"
#include "xmalloc.h"

struct pg_node {
	pthread_mutex_t mu;
	struct pg_conn conn;	/* c is NULL while there is none */
	char name[STORE_LEASE_OWNER_MAX + 1];	/* joined as; "" before */
	bool lost;		/* joined, and the lock lapsed since the last
				 * node_check */
	bool maint;		/* the open transaction has the maintenance
				 * turn */
};

/* Guards only the making of a handle's pg_node. */
static pthread_mutex_t node_make = PTHREAD_MUTEX_INITIALIZER;

static const char sql_node_lock[] = "SELECT pg_advisory_lock_shared("
    PG_STR(PG_NODE_CLASS) ", " PG_NODE_KEY("$1::text") ")";
static const char sql_node_gone[] = "SELECT coalesce("
    PG_NODE_GONE("$1::text") ", true)";

/* The handle's node, made on first use. */
static struct pg_node *
node_of(struct store *s)
{
	struct pg *q = s->impl;
	struct pg_node *n;

	pthread_mutex_lock(&node_make);
	if ((n = q->node) == NULL) {
		n = q->node = xcalloc(1, sizeof(*n));
		pthread_mutex_init(&n->mu, NULL);
	}
	pthread_mutex_unlock(&node_make);
	return n;
}

static void
notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Close the connection: whatever it held is gone. */
static void
node_disconnect(struct pg_node *n)
{
	size_t i;

	for (i = 0; i < n->conn.nprepared; i++)
		free(n->conn.prepared[i]);
	free(n->conn.prepared);
	if (n->conn.c != NULL)
		PQfinish(n->conn.c);
	memset(&n->conn, 0, sizeof(n->conn));
	if (n->name[0] != '\0')
		n->lost = true;
	n->maint = false;
}

/* Open the connection and, for a node, take its lock. */
static int
node_connect(const struct pg *q, struct pg_node *n, struct err *e)
{
	/* later keywords win over what the URL (dbname) says; keepalives
	 * and tcp_user_timeout bound a check on a dead TCP peer */
	static const char *const kw[] = { "dbname", "application_name",
	    "keepalives", "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "tcp_user_timeout", NULL };
	const char *val[] = { q->conninfo, "keydird-node", "1", "10", "5",
	    "3", "20000", NULL };
	struct pg_args a;
	PGresult *r;

	n->conn.c = PQconnectdbParams(kw, val, 1);
	if (PQstatus(n->conn.c) != CONNECTION_OK) {
		err_set(e, ERR_RETRY, "database: cannot connect: %.*s",
		    (int)strcspn(PQerrorMessage(n->conn.c), "\n"),
		    PQerrorMessage(n->conn.c));
		node_disconnect(n);
		return -1;
	}
	PQsetNoticeProcessor(n->conn.c, notice_quiet, NULL);
	/* the server drops the lock of a peer that vanished (a host gone)
	 * within about half a minute; ignored on a unix socket */
	if (pg_exec_plain(&n->conn, "SET tcp_keepalives_idle = 10; "
	    "SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3",
	    e) == -1) {
		node_disconnect(n);
		return -1;
	}
	if (n->name[0] == '\0')
		return 0;
	pg_args_init(&a);
	pg_arg_text(&a, n->name);
	if (pg_exec(&n->conn, "node_lock", sql_node_lock, &a, &r, e) == -1) {
		node_disconnect(n);
		return -1;
	}
	PQclear(r);
	return 0;
}

/*
 * Run statement name (NULL: sql is run as it is, no result) on the node's
 * connection (under n->mu), opening it first if there is none.  A
 * connection found broken is opened again (the node's lock taken again,
 * lost set) and the statement run once more; so is one whose
 * transaction (the maintenance turn's) failed, rolled back first.
 */
static int
node_run(const struct pg *q, struct pg_node *n, const char *name,
    const char *sql, const struct pg_args *a, PGresult **r, struct err *e)
{
	int tries;

	*r = NULL;
	for (tries = 0; tries < 2; tries++) {
		if (n->conn.c != NULL && PQstatus(n->conn.c) != CONNECTION_OK)
			node_disconnect(n);
		if (n->conn.c == NULL && node_connect(q, n, e) == -1)
			return -1;
		if (name == NULL ? pg_exec_plain(&n->conn, sql, e) == 0 :
		    pg_exec(&n->conn, name, sql, a, r, e) == 0)
			return 0;
		if (PQstatus(n->conn.c) != CONNECTION_OK)
			continue;	/* the link, not the statement */
		if (PQtransactionStatus(n->conn.c) != PQTRANS_INERROR)
			return -1;
		pg_exec_plain(&n->conn, "ROLLBACK", NULL);
		n->maint = false;
	}
	return -1;
}

int
pgs_node_join(struct store *s, const char *owner, struct err *e)
{
	const struct pg *q = s->impl;
	struct pg_node *n = node_of(s);
	struct pg_args a;
	PGresult *r;
	int rc = 0;

	pthread_mutex_lock(&n->mu);
	if (n->name[0] != '\0') {
		if (strcmp(n->name, owner) != 0)
			rc = err_set(e, ERR_INVALID, "store: this handle is "
			    "node %s already", n->name);
	} else {
		pg_args_init(&a);
		pg_arg_text(&a, owner);
		if ((rc = node_run(q, n, "node_lock", sql_node_lock, &a, &r,
		    e)) == 0) {
			PQclear(r);
			str_lcpy(n->name, owner, sizeof(n->name));
			n->lost = false;
		}
	}
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int
pgs_node_check(struct store *s, struct err *e)
{
	const struct pg *q = s->impl;
	struct pg_node *n = node_of(s);
	struct pg_args a;
	PGresult *r;
	int rc = 0;
	bool gone;

	pthread_mutex_lock(&n->mu);
	if (n->name[0] == '\0')
		goto out;
	/* what the other nodes see: the name's lock held, by anyone */
	pg_args_init(&a);
	pg_arg_text(&a, n->name);
	if ((rc = node_run(q, n, "node_gone", sql_node_gone, &a, &r, e)) == -1)
		goto out;
	gone = pg_bool(r, 0, 0);
	PQclear(r);
	if (gone) {
		n->lost = true;
		if ((rc = node_run(q, n, "node_lock", sql_node_lock, &a, &r,
		    e)) == -1)
			goto out;
		PQclear(r);
	}
	rc = n->lost ? 1 : 0;
	n->lost = false;
out:
	pthread_mutex_unlock(&n->mu);
	return rc;
}

int
pgs_maint_try(struct store *s, bool *got, struct err *e)
{
	const struct pg *q = s->impl;
	struct pg_node *n = node_of(s);
	PGresult *r;
	int rc = 0;

	*got = false;
	pthread_mutex_lock(&n->mu);
	/* still ours only if the transaction that took it is still open */
	if (n->maint && node_run(q, n, "node_ping", "SELECT 1", NULL, &r,
	    e) == 0)
		PQclear(r);
	if (!n->maint) {
		/* a pass may be long: the server must not end the session
		 * for idling in the transaction */
		rc = node_run(q, n, NULL, "BEGIN ISOLATION LEVEL READ "
		    "COMMITTED; SET LOCAL idle_in_transaction_session_timeout "
		    "= 0", NULL, &r, e);
		if (rc == 0 && (rc = pg_exec(&n->conn, "maint_try",
		    "SELECT pg_try_advisory_xact_lock("
		    PG_STR(PG_MAINT_CLASS) ", 0)", NULL, &r, e)) == 0) {
			n->maint = PQntuples(r) == 1 && pg_bool(r, 0, 0);
			PQclear(r);
		}
		if (!n->maint && n->conn.c != NULL) {
			if (PQstatus(n->conn.c) != CONNECTION_OK)
				node_disconnect(n);
			else if (PQtransactionStatus(n->conn.c) !=
			    PQTRANS_IDLE)
				pg_exec_plain(&n->conn, "ROLLBACK", NULL);
		}
	}
	*got = n->maint;
	pthread_mutex_unlock(&n->mu);
	return rc;
}

void
pgs_maint_release(struct store *s)
{
	struct pg *q = s->impl;
	struct pg_node *n = q->node;

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	if (n->maint) {
		/* a broken connection took the turn with it */
		if (pg_exec_plain(&n->conn, "COMMIT", NULL) == -1 &&
		    PQstatus(n->conn.c) != CONNECTION_OK)
			node_disconnect(n);
		n->maint = false;
	}
	pthread_mutex_unlock(&n->mu);
}

void
pg_node_free(struct pg *q)
{
	struct pg_node *n = q->node;

	if (n == NULL)
		return;
	/* the locks go now, not when the server gets to the closed socket:
	 * another handle sees this node gone as soon as close returns */
	if (n->conn.c != NULL && PQstatus(n->conn.c) == CONNECTION_OK) {
		if (PQtransactionStatus(n->conn.c) != PQTRANS_IDLE)
			pg_exec_plain(&n->conn, "ROLLBACK", NULL);
		pg_exec_plain(&n->conn, "SELECT pg_advisory_unlock_all()",
		    NULL);
	}
	node_disconnect(n);
	pthread_mutex_destroy(&n->mu);
	free(n);
	q->node = NULL;
}
