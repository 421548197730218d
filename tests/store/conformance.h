/*
 * conformance: the store contract (store.h) as one suite that every
 * backend must pass.  It goes through store.h alone, never a backend's
 * internals or its database, so a runner only says how to get a fresh
 * store: t_store_conf.c for SQLite, later t_store_conf_pg.c for
 * PostgreSQL, each a struct conf_backend and a call to conf_run.
 *
 * The groups, each on a fresh store of its own:
 *   conf_ops.h    keys and addresses one call at a time: return codes,
 *                 every field, lookups and their chains, cert_del
 *   conf_life.h   tokens, nonces, rate marks, upload marks, the outbox,
 *                 the re-verification schedule, purges
 *   conf_outbox.h whose a lease is, and taking a dead drain's back; one
 *                 address's mail in order; mail refused for good
 *   conf_units.h  rollback, commit, reopen; export snapshots, restores
 *   conf_race.h   threads and handles racing: check-then-write units,
 *                 single use, outbox leases, a unit held open
 *   conf_torn.h   reads while units commit: one moment, never half
 *   conf_limits.h keys per client, room for unconfirmed keys, mail sent
 *                 lately (the abuse limits)
 *   conf_node.h   nodes on one database: a closed node's leases taken
 *                 over, a live one's never; the maintenance turn; a
 *                 node whose connection broke; a serving node's
 *                 lookups answer its own commits at once
 * Header-only, like storetest.h.
 */
#ifndef KEYDIR_CONFORMANCE_H
#define KEYDIR_CONFORMANCE_H

#include "conf_fix.h"
#include "conf_ops.h"
#include "conf_life.h"
#include "conf_outbox.h"
#include "conf_units.h"
#include "conf_race.h"
#include "conf_torn.h"
#include "conf_limits.h"
#include "conf_node.h"

/* Run one group, timed. */
#define CONF_GROUP(fn, ...) do {					\
	int64_t conf_t1 = conf_ms();					\
									\
	fn(__VA_ARGS__);						\
	printf("# %s: %lld ms\n", #fn, (long long)(conf_ms() - conf_t1)); \
} while (0)

/* Run the whole suite against backend b; the TAP plan is the caller's
 * (tap_done). */
static void
conf_run(const struct conf_backend *b)
{
	int64_t t0 = conf_ms();

	printf("# store conformance: %s\n", b->name);
	CONF_GROUP(conf_t_open, b);
	CONF_GROUP(conf_t_empty, b);
	CONF_GROUP(conf_t_errors, b);
	CONF_GROUP(conf_t_certs, b);
	CONF_GROUP(conf_t_lookup, b);
	CONF_GROUP(conf_t_addrs, b);
	CONF_GROUP(conf_t_cert_del, b);
	CONF_GROUP(conf_t_tokens, b);
	CONF_GROUP(conf_t_nonces, b);
	CONF_GROUP(conf_t_rate, b);
	CONF_GROUP(conf_t_upload, b);
	CONF_GROUP(conf_t_outbox, b);
	CONF_GROUP(conf_t_outbox_reclaim, b);
	CONF_GROUP(conf_t_outbox_order, b);
	CONF_GROUP(conf_t_schedule, b);
	CONF_GROUP(conf_t_purge, b);
	CONF_GROUP(conf_t_purge_kept, b);
	CONF_GROUP(conf_t_client, b);
	CONF_GROUP(conf_t_unconfirmed, b);
	CONF_GROUP(conf_t_room, b);
	CONF_GROUP(conf_t_sent_since, b);
	CONF_GROUP(conf_t_units, b);
	CONF_GROUP(conf_t_snapshot, b);
	CONF_GROUP(conf_t_export, b);
	CONF_GROUP(conf_race, b, 1, "one handle");
	CONF_GROUP(conf_race, b, 2, "two handles");
	CONF_GROUP(conf_t_drain, b);
	CONF_GROUP(conf_t_node_join, b);
	CONF_GROUP(conf_t_node_takeover, b);
	CONF_GROUP(conf_t_node_share, b);
	CONF_GROUP(conf_t_node_maint, b);
	CONF_GROUP(conf_t_node_cut, b);
	CONF_GROUP(conf_t_own_writes, b);
	CONF_GROUP(conf_t_torn, b);
	CONF_GROUP(conf_t_hold, b);
	/* contract violations of the SQLite backend (conf_torn.h) */
	CONF_GROUP(conf_t_torn_view, b);
	CONF_GROUP(conf_t_torn_fpr, b);
	printf("# store conformance: %s: %lld ms\n", b->name,
	    (long long)(conf_ms() - t0));
}

#endif
