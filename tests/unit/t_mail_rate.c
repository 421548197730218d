/*
 * t_mail_rate: the mailer's global rate (mail_global_rate) on a real
 * store and Maildir: N mails in any window, shared by a serve and a
 * maintain drain through the outbox's sent times, none lost, in order;
 * 0 turns it off; one address's mails go one a pass whatever the rate.
 * (Split from t_directory_abuse, which holds the other abuse limits.)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmp[] = "/tmp/t_mail_rate.XXXXXX";

#include "dirtest.h"
#include "mail.h"

/* ---- the mailer's global rate ------------------------------------------- */

/* How many mails are in t's Maildir. */
static int
mail_count_dir(struct dt *t)
{
	char dir[700];
	struct dirent *de;
	DIR *dh;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/mail/new", t->dir);
	if ((dh = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(dh)) != NULL)
		n += de->d_name[0] != '.';
	closedir(dh);
	return n;
}

/* A mailer over t's store into t's Maildir at n mails a minute, in
 * role (its thread is never started: the test runs its passes). */
static struct mailer *
mk_mailer(struct dt *t, unsigned n, enum mailer_role role)
{
	struct mail_config mc;
	char dir[700];
	struct err e;

	snprintf(dir, sizeof(dir), "%s/mail", t->dir);
	memset(&mc, 0, sizeof(mc));
	mc.maildir = dir;
	mc.mail_from = "keydir@example.org";
	mc.rate_n = n;
	mc.rate_per = 60;
	return mailer_new(t->d.store, &mc, role, &e);
}

/* Queue n small mails, each to its own address, or all to one when
 * one is not NULL. */
static int
queue_to(struct dt *t, int n, int64_t now, const char *one)
{
	struct err e;
	char msg[64], to[32];
	int i, rc = 0;

	if (store_begin(t->d.store, &e) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		/* each to its own address: one address's mail goes out one
		 * at a time, in order, whatever the rate */
		snprintf(to, sizeof(to), "a%d@example.org", i);
		if (one != NULL)
			snprintf(to, sizeof(to), "%s", one);
		snprintf(msg, sizeof(msg), "Subject: %d\r\n\r\nmail %d\r\n", i,
		    i);
		rc = store_outbox_add(t->d.store, to, msg, strlen(msg), now,
		    &e);
	}
	if (rc == 0)
		return store_commit(t->d.store, &e);
	store_rollback(t->d.store);
	return -1;
}

/* The outbox's sent times in id order, as "T+s,..." from base; '-' for
 * unsent. */
static const char *
sent_times(struct dt *t, int64_t base)
{
	static char o[512];
	struct store_outbox_row *rows = NULL;
	struct err e;
	size_t n = 0, i;

	o[0] = '\0';
	if (store_begin_read(t->d.store, &e) == -1)
		return "error";
	if (store_outbox_list(t->d.store, 0, 100, &rows, &n, &e) == 0)
		for (i = 0; i < n; i++) {
			char one[32];

			if (rows[i].sent)
				snprintf(one, sizeof(one), "%s%lld", i ? "," :
				    "", (long long)(rows[i].sent - base));
			else
				snprintf(one, sizeof(one), "%s-", i ? "," : "");
			scat(o, one, sizeof(o));
		}
	store_rollback(t->d.store);
	store_outbox_rows_free(rows, n);
	return o;
}

static void
t_mailer(void)
{
	struct mailer *m, *m2;
	const int64_t T = T0 + 1000;
	struct dt t;
	struct err e;
	int a, b, c;

	if (dt_open(&t, "mailer") != 0) {
		ok(0, "mailer: a directory");
		return;
	}
	ok(t.d.cfg.mail_global_rate.n == 60 && t.d.cfg.mail_global_rate.per ==
	    60, "default: 60 mails a minute");
	m = mk_mailer(&t, 3, MAILER_SERVE);
	m2 = mk_mailer(&t, 3, MAILER_MAINTAIN);
	ok(m != NULL && m2 != NULL && queue_to(&t, 7, T, NULL) == 0,
	    "3 a minute, two drains (serve and maintain); seven mails "
	    "queued");
	if (m == NULL || m2 == NULL) {
		mailer_free(m);
		mailer_free(m2);
		dt_close(&t);
		return;
	}
	a = mailer_run_once(m, T, &e);
	b = mailer_run_once(m, T, &e);
	c = mailer_run_once(m2, T + 59, &e);
	ok(a == 3 && b == 0 && c == 0, "3 at once, then none within the "
	    "minute, from either drain (%d %d %d)", a, b, c);
	a = mailer_run_once(m2, T + 60, &e);
	b = mailer_run_once(m, T + 61, &e);
	ok(a == 3 && b == 0, "a minute later, 3 more (%d %d)", a, b);
	a = mailer_run_once(m, T + 120, &e);
	ok(a == 1, "then the last one (%d)", a);
	is_str(sent_times(&t, T), "0,0,0,60,60,60,120", "in order, none lost");
	ok(mail_count_dir(&t) == 7, "seven mails in the Maildir");
	mailer_free(m);
	mailer_free(m2);
	m = mk_mailer(&t, 0, MAILER_SERVE);
	ok(m != NULL && queue_to(&t, 7, T + 200, NULL) == 0 &&
	    mailer_run_once(m, T + 200, &e) == 7 && mail_count_dir(&t) == 14,
	    "rate 0: all seven at once");
	mailer_free(m);
	/* one address's mail goes one at a time, the rate or not */
	m = mk_mailer(&t, 3, MAILER_SERVE);
	a = b = c = -1;
	if (m != NULL && queue_to(&t, 3, T + 300, "one@example.org") == 0) {
		a = mailer_run_once(m, T + 300, &e);
		b = mailer_run_once(m, T + 300, &e);
		c = mailer_run_once(m, T + 300, &e);
	}
	ok(a == 1 && b == 1 && c == 1 && mailer_run_once(m, T + 300, &e) ==
	    0 && mail_count_dir(&t) == 17, "rate 3, three mails to one "
	    "address: one a pass (%d %d %d)", a, b, c);
	mailer_free(m);
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = { { "mailer", t_mailer } };

	return dt_main(g, 1);
}
