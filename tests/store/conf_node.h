/*
 * conf_node: nodes on one database (store.h, "Nodes"): a node's name,
 * its leases taken over by another handle as soon as its handle closes
 * (a backend that knows which nodes are alive) or only at their end (one
 * that does not), never while it lives, never a lease of an owner that
 * is not a node's; the maintenance turn, one handle's at a time; a node
 * whose connection broke.  Every group opens several handles on one
 * database, as several keydird serve would.
 * Header-only, like storetest.h.
 */
#ifndef KEYDIR_CONF_NODE_H
#define KEYDIR_CONF_NODE_H

#include "conf_fix.h"

/* node_join's answer where the name is good: 0 or 1 (conf_backend). */
#define CONF_JOINED(b) ((b)->nodes ? 0 : 1)

/* Queue one mail to rcpt at now (a unit of its own); its id, 0 on
 * error. */
static int64_t
conf_node_queue(struct store *s, const char *rcpt, int64_t now)
{
	struct store_outbox_row *rows = NULL;
	struct err e;
	size_t n = 0;
	int64_t id = 0;

	if (store_begin(s, &e) == -1)
		return 0;
	if (store_outbox_add(s, rcpt, "m", 1, now, &e) == -1 ||
	    store_commit(s, &e) == -1) {
		store_rollback(s);
		return 0;
	}
	/* the newest row is the last of the list */
	if (store_begin_read(s, &e) == 0 &&
	    store_outbox_list(s, 0, 100, &rows, &n, &e) == 0 && n > 0)
		id = rows[n - 1].id;
	store_outbox_rows_free(rows, n);
	store_rollback(s);
	return id;
}

/* outbox_due(now) as owner, leased until `until` (max rows), in a unit
 * of its own: the rows by their index in ids[] ("0 2"), "-" for none,
 * "error" on an error. */
static const char *
conf_node_due(struct store *s, int64_t now, int64_t until,
    const char *owner, size_t max, const int64_t *ids, size_t nids,
    char *out, size_t outsz)
{
	struct store_mail *rows = NULL;
	struct err e;
	size_t n = 0, i, j, o = 0;

	snprintf(out, outsz, "error");
	if (store_begin(s, &e) == -1)
		return out;
	if (store_outbox_due(s, now, until, owner, max, &rows, &n, &e) ==
	    -1 || store_commit(s, &e) == -1) {
		store_rollback(s);
		store_mails_free(rows, n);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		for (j = 0; j < nids; j++)
			if (rows[i].id == ids[j] && o + 4 < outsz)
				o += (size_t)snprintf(out + o, outsz - o, "%s%zu",
				    o ? " " : "", j);
	if (n == 0)
		snprintf(out, outsz, "-");
	store_mails_free(rows, n);
	return out;
}

/* The leased_by of the rows ids[0..nids), space-separated, "-" for
 * none; "error" on an error. */
static const char *
conf_node_owners(struct store *s, const int64_t *ids, size_t nids,
    char *out, size_t outsz)
{
	struct store_outbox_row *rows = NULL;
	struct err e;
	size_t n = 0, i, j, o = 0;

	snprintf(out, outsz, "error");
	if (store_begin_read(s, &e) == -1)
		return out;
	if (store_outbox_list(s, 0, 100, &rows, &n, &e) == 0) {
		out[0] = '\0';
		for (j = 0; j < nids; j++)
			for (i = 0; i < n; i++)
				if (rows[i].id == ids[j] && o + 20 < outsz)
					o += (size_t)snprintf(out + o,
					    outsz - o, "%s%s", j ? " " : "",
					    rows[i].leased_by[0] ?
					    rows[i].leased_by : "-");
	}
	store_outbox_rows_free(rows, n);
	store_rollback(s);
	return out;
}

/* outbox_next on s; -1 on an error, 0 when none waits. */
static int64_t
conf_node_next(struct store *s)
{
	struct err e;
	int64_t when = 0;
	int rc;

	if (store_begin_read(s, &e) == -1)
		return -1;
	rc = store_outbox_next(s, &when, &e);
	store_rollback(s);
	return rc == -1 ? -1 : rc == 1 ? 0 : when;
}

/* A node's name: what it may be, joining twice, checking. */
static void
conf_t_node_join(const struct conf_backend *b)
{
	struct store *s;
	struct err e;
	int rc;

	if ((s = conf_open(b->fresh_url(), "node join")) == NULL)
		return;
	ok(store_node_join(s, "serve", &e) == -1 && e.code == ERR_INVALID,
	    "node_join: a name not beginning with \"" STORE_NODE_PREFIX
	    "\" is ERR_INVALID");
	ok(store_node_join(s, STORE_NODE_PREFIX, &e) == -1 &&
	    e.code == ERR_INVALID, "node_join: the prefix alone is "
	    "ERR_INVALID");
	ok(store_node_join(s, "node@0123456789a", &e) == -1 &&
	    e.code == ERR_INVALID, "node_join: over STORE_LEASE_OWNER_MAX is "
	    "ERR_INVALID");
	ok(store_node_join(s, NULL, &e) == -1 && e.code == ERR_INVALID,
	    "node_join: no name is ERR_INVALID");
	rc = store_node_join(s, "node@0123456789", &e);
	ok(rc == CONF_JOINED(b), "node_join: %d (%s)", rc,
	    b->nodes ? "alive while the handle is open" : "no liveness here");
	ok(store_node_join(s, "node@0123456789", &e) == CONF_JOINED(b),
	    "node_join again as the same node: the same");
	if (b->nodes)
		ok(store_node_join(s, "node@other", &e) == -1 &&
		    e.code == ERR_INVALID, "node_join as another node: "
		    "ERR_INVALID (%s)", e.msg);
	ok(store_node_check(s, &e) == 0, "node_check: 0, no break");
	ok(store_node_check(s, &e) == 0, "node_check again: 0");
	store_close(s);
	if ((s = conf_open(b->fresh_url(), "node check")) == NULL)
		return;
	ok(store_node_check(s, &e) == 0, "node_check, never joined: 0");
	store_close(s);
}

/*
 * Two nodes lease; the first closes: its leases go to the second at once
 * (or at their end), never while it was open; a lease to "maintain", not
 * a node, waits for its end whoever is gone.
 */
static void
conf_t_node_takeover(const struct conf_backend *b)
{
	static const char *const rcpt[] = { "r1@x.org", "r2@x.org",
	    "r3@x.org", "r1@x.org", "r4@x.org" };
	struct store *s1, *s2 = NULL, *s3 = NULL;
	int64_t ids[5] = { 0 }, t, t3;
	char url[1024], got[160];
	struct err e;
	size_t i;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s1 = conf_open(url, "node takeover")) == NULL ||
	    (s2 = conf_open(url, "node takeover")) == NULL ||
	    (s3 = conf_open(url, "node takeover")) == NULL)
		goto out;
	ok(store_node_join(s1, "node@a", &e) == CONF_JOINED(b) &&
	    store_node_join(s2, "node@b", &e) == CONF_JOINED(b) &&
	    store_node_join(s3, "node@c", &e) == CONF_JOINED(b),
	    "three handles, nodes a, b and c");
	for (i = 0; i < 4; i++)
		ids[i] = conf_node_queue(s1, rcpt[i], 100);
	ok(ids[0] && ids[1] && ids[2] && ids[3],
	    "queued at 100: r1, r2, r3, and r1 again");
	is_str(conf_node_due(s1, 100, 700, "node@a", 2, ids, 5, got,
	    sizeof(got)), "0 1", "node a leases r1 and r2 until 700");
	is_str(conf_node_due(s2, 100, 2000, "node@b", 10, ids, 5, got,
	    sizeof(got)), "2", "node b: r3 only; a's leases are a live "
	    "node's, r1's second waits behind its first");
	is_str(conf_node_due(s2, 101, 2000, "node@b", 10, ids, 5, got,
	    sizeof(got)), "-", "node b again: nothing");
	ok(conf_node_next(s2) == 700, "outbox_next: 700, a's lease's end");
	ok(store_node_check(s1, &e) == 0, "node a: node_check 0");

	store_close(s1);
	s1 = NULL;
	if (b->nodes) {
		ok(conf_node_next(s2) == 100, "a closed: outbox_next counts "
		    "its leases as due since queued (%lld)",
		    (long long)conf_node_next(s2));
		t = 102;
	} else {
		ok(conf_node_next(s2) == 700, "a closed: outbox_next still "
		    "700, no liveness (%lld)", (long long)conf_node_next(s2));
		is_str(conf_node_due(s2, 102, 1000, "node@b", 10, ids, 5, got,
		    sizeof(got)), "-", "... its leases wait for their end");
		t = 700;
	}
	is_str(conf_node_due(s2, t, t + 600, "node@b", 10, ids, 5, got,
	    sizeof(got)), "0 1", "node b takes a's r1 and r2 (at %lld); r1's "
	    "second still waits behind r1", (long long)t);
	is_str(conf_node_owners(s2, ids, 4, got, sizeof(got)),
	    "node@b node@b node@b -", "leased to b now");

	t3 = t + 1;
	is_str(conf_node_due(s3, t3, t3 + 600, "node@c", 10, ids, 5, got,
	    sizeof(got)), "-", "node c: nothing of b's, b is open");
	ids[4] = conf_node_queue(s2, rcpt[4], t3);
	is_str(conf_node_due(s2, t3, t3 + 600, "maintain", 10, ids, 5, got,
	    sizeof(got)), "4", "r4 leased to \"maintain\" (not a node)");
	store_close(s2);
	s2 = NULL;
	is_str(conf_node_due(s3, t3 + 1, t3 + 600, "node@c", 10, ids, 5, got,
	    sizeof(got)), b->nodes ? "0 1 2" : "-", b->nodes ?
	    "b closed: node c takes its three at once, not maintain's r4" :
	    "b closed: nothing is due before the leases end");
out:
	store_close(s1);
	store_close(s2);
	store_close(s3);
}

/* Two nodes share a gone node's leases: each row to one of them. */
static void
conf_t_node_share(const struct conf_backend *b)
{
	static const char *const rcpt[] = { "s1@x.org", "s2@x.org",
	    "s3@x.org", "s4@x.org", "s5@x.org", "s6@x.org" };
	struct store *s1, *s2 = NULL, *s3 = NULL;
	char url[1024], got[160], got2[160];
	int64_t ids[6] = { 0 }, t;
	struct err e;
	size_t i;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s1 = conf_open(url, "node share")) == NULL ||
	    (s2 = conf_open(url, "node share")) == NULL ||
	    (s3 = conf_open(url, "node share")) == NULL)
		goto out;
	store_node_join(s1, "node@a", &e);
	store_node_join(s2, "node@b", &e);
	store_node_join(s3, "node@c", &e);
	for (i = 0; i < 6; i++)
		ids[i] = conf_node_queue(s1, rcpt[i], 100);
	is_str(conf_node_due(s1, 100, 700, "node@a", 10, ids, 6, got,
	    sizeof(got)), "0 1 2 3 4 5", "node a leases six");
	store_close(s1);
	s1 = NULL;
	t = b->nodes ? 101 : 700;
	is_str(conf_node_due(s2, t, t + 600, "node@b", 4, ids, 6, got,
	    sizeof(got)), "0 1 2 3", "a closed: b takes four (at most four)");
	is_str(conf_node_due(s3, t, t + 600, "node@c", 10, ids, 6, got2,
	    sizeof(got2)), "4 5", "... c the other two, none of b's");
	is_str(conf_node_owners(s3, ids, 6, got, sizeof(got)),
	    "node@b node@b node@b node@b node@c node@c", "each leased once");
out:
	store_close(s1);
	store_close(s2);
	store_close(s3);
}

/* The maintenance turn: one handle's at a time; it goes with a closed
 * handle. */
static void
conf_t_node_maint(const struct conf_backend *b)
{
	struct store *s1, *s2 = NULL, *s3 = NULL;
	bool got = false, got2 = true;
	char url[1024];
	struct err e;

	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s1 = conf_open(url, "maintenance turn")) == NULL ||
	    (s2 = conf_open(url, "maintenance turn")) == NULL ||
	    (s3 = conf_open(url, "maintenance turn")) == NULL)
		goto out;
	ok(store_maint_try(s1, &got, &e) == 0 && got,
	    "maint_try: the first handle has the turn");
	ok(store_maint_try(s1, &got, &e) == 0 && got,
	    "maint_try again on it: still its turn");
	ok(store_maint_try(s2, &got2, &e) == 0 && got2 == !b->nodes,
	    "maint_try on a second handle: %s", b->nodes ? "not its turn" :
	    "its turn too (one serve per database)");
	store_maint_release(s1);
	ok(store_maint_try(s2, &got, &e) == 0 && got,
	    "the first released it: the second's turn");
	ok(store_maint_try(s1, &got, &e) == 0 && got == !b->nodes,
	    "... and the first's %s", b->nodes ? "no longer" : "still");
	store_maint_release(s1);
	store_close(s2);	/* without maint_release */
	s2 = NULL;
	ok(store_maint_try(s3, &got, &e) == 0 && got,
	    "the second closed while it had the turn: the third's turn");
	store_maint_release(s3);
	store_maint_release(s3);	/* not its turn: nothing */
	ok(store_maint_try(s1, &got, &e) == 0 && got,
	    "released twice: the first's turn again");
	store_maint_release(s1);
out:
	store_close(s1);
	store_close(s2);
	store_close(s3);
}

/*
 * A node whose connection breaks (cut_nodes) is not alive meanwhile: the
 * other takes its leases and the maintenance turn; node_check then says
 * 1 once, and its new leases are its own again.
 */
static void
conf_t_node_cut(const struct conf_backend *b)
{
	static const char *const rcpt[] = { "c1@x.org", "c2@x.org",
	    "c3@x.org", "c4@x.org" };
	struct store *s1, *s2 = NULL;
	char url[1024], got[160];
	int64_t ids[4] = { 0 };
	bool turn = false;
	struct err e;
	size_t i;

	if (b->cut_nodes == NULL) {
		printf("# conf_t_node_cut: %s has no node connection to "
		    "break\n", b->name);
		return;
	}
	str_lcpy(url, b->fresh_url(), sizeof(url));
	if ((s1 = conf_open(url, "node cut")) == NULL ||
	    (s2 = conf_open(url, "node cut")) == NULL)
		goto out;
	ok(store_node_join(s1, "node@a", &e) == 0 &&
	    store_node_join(s2, "node@b", &e) == 0, "nodes a and b");
	for (i = 0; i < 3; i++)
		ids[i] = conf_node_queue(s1, rcpt[i], 100);
	is_str(conf_node_due(s1, 100, 700, "node@a", 2, ids, 4, got,
	    sizeof(got)), "0 1", "node a leases two of three");
	ok(store_maint_try(s1, &turn, &e) == 0 && turn,
	    "node a has the maintenance turn");
	b->cut_nodes();
	ok(store_node_check(s2, &e) == 1, "connections broken: node b's "
	    "node_check says 1 (alive again, after a break)");
	ok(store_node_check(s2, &e) == 0, "... once: then 0");
	ok(store_maint_try(s2, &turn, &e) == 0 && turn,
	    "node b has the maintenance turn: a's went with its connection");
	is_str(conf_node_due(s2, 101, 800, "node@b", 10, ids, 4, got,
	    sizeof(got)), "0 1 2", "node b takes a's two leases and the "
	    "third: a is not alive");
	ok(store_node_check(s1, &e) == 1, "node a's node_check: 1 (its "
	    "leases may be another's)");
	ok(store_node_check(s1, &e) == 0, "... once");
	ok(store_maint_try(s1, &turn, &e) == 0 && !turn,
	    "node a: not its maintenance turn now");
	ids[3] = conf_node_queue(s1, rcpt[3], 102);
	is_str(conf_node_due(s1, 102, 900, "node@a", 10, ids, 4, got,
	    sizeof(got)), "3", "node a, alive again, leases a new one");
	is_str(conf_node_due(s2, 103, 900, "node@b", 10, ids, 4, got,
	    sizeof(got)), "-", "... which node b leaves alone");
	is_str(conf_node_owners(s2, ids, 4, got, sizeof(got)),
	    "node@b node@b node@b node@a", "leased_by");
out:
	store_close(s1);
	store_close(s2);
}

/*
 * A serving node's lookups (store_serve_lookups, with a cache where the
 * backend has one) answer what the node's own units committed, at once:
 * a client that uploads and looks up on the same node sees its upload.
 * Each round answers version v twice (so a cache holds it), commits v+1
 * and looks up at once; a node's cache filled only by notifications
 * would still answer v for a few ms.
 */
static void
conf_t_own_writes(const struct conf_backend *b)
{
	struct timespec proof = { 1, 0 };
	struct conf_key k;
	struct store *s;
	struct err e;
	int i, stale = 0, bad = 0, rounds = 50;

	if ((s = conf_open(b->fresh_url(), "own writes")) == NULL)
		return;
	err_clear(&e);
	ok(store_serve_lookups(s, NULL, 1 << 20, &e) == 0,
	    "serve_lookups with a cache of 1 MiB (%s)", e.msg);
	conf_key_init(&k, "00000000000000000000000000000000000000E1", 100);
	ok(conf_put(s, &k) == 0, "a key at version 100");
	/* the cache is used once its listener has proved itself (0.1 s;
	 * the rest for a loaded machine) */
	nanosleep(&proof, NULL);
	for (i = 0; i < rounds; i++) {
		if (!conf_finds(s, STORE_BY_FPR, k.c.fpr, &k) ||
		    !conf_finds(s, STORE_BY_KEYID, k.c.keyid, &k))
			stale++;
		conf_key_init(&k, "00000000000000000000000000000000000000E1",
		    101 + i);
		if (conf_put(s, &k) == -1)
			bad++;
		if (!conf_finds(s, STORE_BY_FPR, k.c.fpr, &k) ||
		    !conf_finds(s, STORE_BY_KEYID, k.c.keyid, &k))
			stale++;
	}
	ok(bad == 0, "%d versions committed (%d failed)", rounds, bad);
	ok(stale == 0, "every lookup after the node's own commit answers "
	    "the new version (%d of %d rounds did not)", stale, 2 * rounds);
	store_close(s);
}

#endif
