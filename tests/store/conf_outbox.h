/*
 * conf_outbox: the outbox contract beyond conf_life.h's basics: whose a
 * lease is, and taking back the leases of a drain that died; mail to one
 * address in the order queued; a mail refused for good.
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

/* The ids outbox_due(now) returns (max 10), as "i j k" by their index in
 * ids[] (ids[i] is the i-th row queued), "-" for none; leased to "t". */
static const char *
conf_due_ids(struct store *s, int64_t now, const int64_t *ids, size_t nids,
    char *out, size_t outsz)
{
	struct store_mail *rows = NULL;
	struct err e;
	size_t n = 0, i, j, o = 0;

	snprintf(out, outsz, "error");
	if (store_outbox_due(s, now, now + 600, "t", 10, &rows, &n, &e) == -1)
		return out;
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

/* One address's mail goes out in order; a refused one is settled. */
static void
conf_t_outbox_order(const struct conf_backend *b)
{
	static const char *const rcpt[] = { "a@x.org", "b@x.org", "a@x.org",
	    "a@x.org" };
	struct store_outbox_row *list = NULL;
	struct store_stats st;
	int64_t ids[4] = { 0 }, when = 0;
	struct store *s;
	struct err e;
	size_t n = 0, i;
	char got[64];
	int rc;

	if ((s = conf_open(b->fresh_url(), "outbox order")) == NULL)
		return;
	rc = store_begin(s, &e);
	for (i = 0; i < 4 && rc == 0; i++)
		rc = store_outbox_add(s, rcpt[i], "m", 1, 100, &e);
	ok(rc == 0 && store_commit(s, &e) == 0,
	    "queued: a1, b1, a2, a3 (a: a@x.org, b: b@x.org)");
	ok(store_begin_read(s, &e) == 0 &&
	    store_outbox_list(s, 0, 4, &list, &n, &e) == 0 && n == 4,
	    "their ids");
	for (i = 0; i < n && i < 4; i++)
		ids[i] = list[i].id;
	store_outbox_rows_free(list, n);
	store_rollback(s);

	ok(store_begin(s, &e) == 0, "begin");
	is_str(conf_due_ids(s, 100, ids, 4, got, sizeof(got)), "0 1",
	    "due: a1 and b1; a2 and a3 wait behind a1");
	ok(store_outbox_retry(s, ids[0], 1, 300, "451 later", &e) == 0,
	    "a1 fails, retry at 300");
	is_str(conf_due_ids(s, 200, ids, 4, got, sizeof(got)), "-",
	    "due at 200: none; a2, due since 100, still waits for a1");
	ok(store_outbox_next(s, &when, &e) == 0 && when == 300,
	    "outbox_next: a1's retry (%lld), not a2's", (long long)when);
	is_str(conf_due_ids(s, 300, ids, 4, got, sizeof(got)), "0",
	    "due at 300: a1");
	ok(store_outbox_done(s, ids[0], 300, &e) == 0, "a1 sent");
	is_str(conf_due_ids(s, 300, ids, 4, got, sizeof(got)), "2",
	    "then a2");
	ok(store_outbox_fail(s, ids[2], 1, 310, "550 5.1.1 no such user",
	    &e) == 0, "outbox_fail: a2 refused for good");
	ok(store_outbox_fail(s, ids[2], 1, 320, "again", &e) == 1,
	    "outbox_fail again: 1");
	ok(store_outbox_release(s, ids[2], 320, &e) == 1,
	    "outbox_release of a failed row: 1");
	is_str(conf_due_ids(s, 310, ids, 4, got, sizeof(got)), "3",
	    "a failed row holds nothing back: a3");
	is_str(conf_due_ids(s, 100000, ids, 4, got, sizeof(got)), "1 3",
	    "never due again, however late (b1 and a3, their leases over)");
	ok(store_commit(s, &e) == 0, "commit");

	ok(store_begin_read(s, &e) == 0 && store_stats(s, &st, &e) == 0 &&
	    st.outbox == 4 && st.outbox_unsent == 2 && st.outbox_sent == 1 &&
	    st.outbox_failed == 1, "stats: 4 = 2 unsent + 1 sent + 1 failed");
	ok(store_outbox_list(s, ids[1], 1, &list, &n, &e) == 0 && n == 1 &&
	    list[0].id == ids[2] && list[0].failed == 310 &&
	    list[0].sent == 0 && list[0].attempts == 1 &&
	    list[0].leased_by[0] == '\0' && list[0].last_error != NULL &&
	    !strcmp(list[0].last_error, "550 5.1.1 no such user"),
	    "outbox_list: failed, attempts, why");
	store_outbox_rows_free(list, n);
	store_rollback(s);

	ok(store_begin(s, &e) == 0 &&
	    store_outbox_purge(s, 310, &n, &e) == 0 && n == 1,
	    "outbox_purge(310): a1, sent at 300; a2, failed at 310, stays");
	ok(store_outbox_purge(s, 311, &n, &e) == 0 && n == 1,
	    "outbox_purge(311): a2");
	ok(store_commit(s, &e) == 0, "commit");
	store_close(s);
}

#endif
