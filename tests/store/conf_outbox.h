/*
 * conf_outbox: the outbox contract beyond conf_life.h's basics: whose a
 * lease is, and taking back the leases of a drain that died.
 * Header-only, like storetest.h.
 */
#ifndef KEYDIR_CONF_OUTBOX_H
#define KEYDIR_CONF_OUTBOX_H

#include "conf_fix.h"

/* Who leases what: "leased_by" of each of the first n outbox rows, one
 * letter a row ('s' serve, 'm' maintain, '-' none, '?' other), in id
 * order, into out (n + 1 bytes). */
static int
conf_leases(struct store *s, char *out, size_t n)
{
	struct store_outbox_row *rows = NULL;
	struct err e;
	size_t got = 0, i;
	int rc;

	if (store_begin_read(s, &e) == -1)
		return -1;
	rc = store_outbox_list(s, 0, n, &rows, &got, &e);
	store_rollback(s);
	if (rc == -1 || got != n) {
		store_outbox_rows_free(rows, got);
		return -1;
	}
	for (i = 0; i < n; i++)
		out[i] = rows[i].leased_by[0] == '\0' ? '-' :
		    !strcmp(rows[i].leased_by, "serve") ? 's' :
		    !strcmp(rows[i].leased_by, "maintain") ? 'm' : '?';
	out[n] = '\0';
	store_outbox_rows_free(rows, got);
	return 0;
}

/* Leases name their owner; outbox_reclaim ends those of one owner. */
static void
conf_t_outbox_reclaim(const struct conf_backend *b)
{
	char who[8], long_owner[STORE_LEASE_OWNER_MAX + 2];
	struct store_mail *rows = NULL;
	struct store *s;
	struct err e;
	size_t n = 0;
	int64_t ids[4] = { 0 }, when = 0;

	if ((s = conf_open(b->fresh_url(), "outbox reclaim")) == NULL)
		return;
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_add(s, "r1@x.org", "1", 1, 100, &e) == 0 &&
	    store_outbox_add(s, "r2@x.org", "2", 1, 100, &e) == 0 &&
	    store_outbox_add(s, "r3@x.org", "3", 1, 100, &e) == 0 &&
	    store_outbox_add(s, "r4@x.org", "4", 1, 100, &e) == 0 &&
	    store_commit(s, &e) == 0, "four mails queued");
	ok(conf_leases(s, who, 4) == 0 && !strcmp(who, "----"),
	    "outbox_list: none leased (%s)", who);
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_due(s, 100, 700, "serve", 2, &rows, &n, &e) == 0 &&
	    n == 2, "serve leases two");
	for (size_t i = 0; i < n && i < 2; i++)
		ids[i] = rows[i].id;
	store_mails_free(rows, n);
	ok(store_outbox_due(s, 100, 700, "maintain", 1, &rows, &n, &e) == 0 &&
	    n == 1, "maintain leases the third");
	if (n == 1)
		ids[2] = rows[0].id;
	store_mails_free(rows, n);
	ok(store_commit(s, &e) == 0, "commit");
	ok(conf_leases(s, who, 4) == 0 && !strcmp(who, "ssm-"),
	    "outbox_list: leased_by names each lease's owner (%s)", who);

	/* a serve that died: the next one takes its leases back */
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_reclaim(s, "serve", 150, &n, &e) == 0 && n == 2,
	    "outbox_reclaim \"serve\": its two");
	ok(store_outbox_next(s, &when, &e) == 0 && when <= 150,
	    "outbox_next: due again at `at` (%lld)", (long long)when);
	ok(store_outbox_due(s, 150, 750, "serve", 10, &rows, &n, &e) == 0 &&
	    n == 3 && rows[0].id == ids[0] && rows[1].id == ids[1] &&
	    rows[0].attempts == 0,
	    "due at `at`: the two taken back and the unleased one, not "
	    "maintain's");
	if (n == 3)
		ids[3] = rows[2].id;
	store_mails_free(rows, n);
	ok(store_commit(s, &e) == 0, "commit");
	ok(conf_leases(s, who, 4) == 0 && !strcmp(who, "ssms"),
	    "leased again, to serve (%s)", who);

	/* settling a row ends its lease; reclaim leaves settled rows */
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_done(s, ids[0], 160, &e) == 0 &&
	    store_outbox_retry(s, ids[1], 1, 900, "421 later", &e) == 0 &&
	    store_outbox_release(s, ids[3], 170, &e) == 0 &&
	    store_commit(s, &e) == 0, "done, retry and release one each");
	ok(conf_leases(s, who, 4) == 0 && !strcmp(who, "--m-"),
	    "their leases ended (%s)", who);
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_reclaim(s, "serve", 200, &n, &e) == 0 && n == 0,
	    "outbox_reclaim: nothing leased by serve is left");
	ok(store_outbox_due(s, 650, 1250, "serve", 10, &rows, &n, &e) == 0 &&
	    n == 1 && rows[0].id == ids[3],
	    "due at 650: the released row; the retried one keeps its next "
	    "attempt (900), maintain's its lease (700), the sent one is gone");
	store_mails_free(rows, n);
	ok(store_outbox_reclaim(s, "maintain", 300, &n, &e) == 0 && n == 1,
	    "outbox_reclaim \"maintain\": maintain's one");
	store_rollback(s);

	/* the owner is a short word */
	memset(long_owner, 'x', sizeof(long_owner) - 1);
	long_owner[sizeof(long_owner) - 1] = '\0';
	ok(store_begin(s, &e) == 0 &&
	    store_outbox_due(s, 100, 700, "", 10, &rows, &n, &e) == -1 &&
	    e.code == ERR_INVALID && n == 0 && rows == NULL,
	    "outbox_due: an empty owner is ERR_INVALID");
	ok(store_outbox_due(s, 100, 700, long_owner, 10, &rows, &n, &e) ==
	    -1 && e.code == ERR_INVALID,
	    "outbox_due: an owner over STORE_LEASE_OWNER_MAX is ERR_INVALID");
	ok(store_outbox_reclaim(s, NULL, 100, &n, &e) == -1 &&
	    e.code == ERR_INVALID, "outbox_reclaim: no owner is ERR_INVALID");
	store_rollback(s);
	store_close(s);
}

#endif
