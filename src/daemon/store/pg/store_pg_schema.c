/*
 * store_pg_schema: the PostgreSQL schema as numbered migrations, like
 * the SQLite backend's (append only; never edit an entry that has
 * shipped).  The version is the one row of keydir_schema.  Several nodes
 * may start at once: the migration runs under an advisory lock (one
 * node migrates, the others wait and find the work done).
 *
 * The same tables and meaning as SQLite's current schema (one key per
 * address is addresses' primary key; keyids may name a subkey under two
 * certs), in PostgreSQL's types: BIGINT times, BYTEA for binary, TEXT
 * for the armored forms; identifiers and addresses compare and sort as
 * bytes (COLLATE "C"), as SQLite's do, whatever the database's locale.
 * The never-confirmed totals are not a counter
 * row (every new key would update the same row, and serializable units
 * would fail each other): they are summed over the partial index
 * certs_room when asked.
 */
#include <stdio.h>

#include "log.h"
#include "store_pg_int.h"

#define PG_MIGRATE_LOCK 0x6b657964	/* "keyd": the advisory lock */

static const char *const pg_migrations[] = {
	/* 1: the schema */
	"CREATE TABLE certs ("
	" id BIGSERIAL PRIMARY KEY,"
	" fpr TEXT COLLATE \"C\" UNIQUE NOT NULL,"
	" keyid TEXT COLLATE \"C\" NOT NULL,"
	" algo INTEGER NOT NULL,"
	" bits INTEGER NOT NULL,"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" revoked BOOLEAN NOT NULL,"
	" full_form BYTEA NOT NULL,"
	" published TEXT NOT NULL,"
	" hkp_index TEXT NOT NULL,"
	" etag TEXT NOT NULL,"
	" updated BIGINT NOT NULL,"
	" first_stored BIGINT NOT NULL DEFAULT 0,"
	" had_address BOOLEAN NOT NULL DEFAULT false,"
	" upload_hash BYTEA,"
	" upload_addrs TEXT NOT NULL DEFAULT '',"
	" client TEXT,"
	" bytes BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX certs_unconfirmed ON certs(had_address, first_stored);"
	"CREATE INDEX certs_upload_hash ON certs(upload_hash);"
	"CREATE INDEX certs_client ON certs(client, had_address, first_stored)"
	" WHERE client IS NOT NULL;"
	"CREATE INDEX certs_room ON certs(first_stored, id, bytes)"
	" WHERE NOT had_address AND NOT revoked;"
	"CREATE TABLE keyids ("
	" fpr TEXT COLLATE \"C\" NOT NULL,"
	" keyid TEXT COLLATE \"C\" NOT NULL,"
	" cert TEXT COLLATE \"C\" NOT NULL REFERENCES certs(fpr)"
	" ON DELETE CASCADE,"
	" cid BIGINT NOT NULL,"
	" pos INTEGER NOT NULL,"
	" PRIMARY KEY (fpr, cert));"
	"CREATE INDEX keyids_keyid ON keyids(keyid, cid);"
	"CREATE INDEX keyids_cert ON keyids(cert);"
	"CREATE TABLE addresses ("
	" address TEXT COLLATE \"C\" PRIMARY KEY,"
	" cid BIGINT NOT NULL REFERENCES certs(id) ON DELETE CASCADE,"
	" published BIGINT NOT NULL,"
	" verified BIGINT NOT NULL DEFAULT 0,"
	" asked BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX addresses_cid ON addresses(cid);"
	"CREATE INDEX addresses_schedule ON addresses(asked, verified);"
	"CREATE TABLE tokens ("
	" hash BYTEA PRIMARY KEY CHECK (length(hash) = 32),"
	" kind INTEGER NOT NULL,"
	" fpr TEXT COLLATE \"C\" NOT NULL,"
	" address TEXT COLLATE \"C\" NOT NULL,"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" used BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_fpr_address ON tokens(fpr, address);"
	"CREATE INDEX tokens_expires ON tokens(expires);"
	"CREATE TABLE mail_rate ("
	" address TEXT COLLATE \"C\" PRIMARY KEY,"
	" last BIGINT NOT NULL);"
	"CREATE TABLE outbox ("
	" id BIGSERIAL PRIMARY KEY,"
	" rcpt TEXT COLLATE \"C\" NOT NULL,"
	" data BYTEA NOT NULL,"
	" created BIGINT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt BIGINT NOT NULL,"
	" sent BIGINT,"
	" last_error TEXT,"
	" leased_by TEXT,"
	" failed BIGINT);"
	"CREATE INDEX outbox_due ON outbox(sent, next_attempt);"
	"CREATE INDEX outbox_rcpt ON outbox(rcpt, id)"
	" WHERE sent IS NULL AND failed IS NULL;"
	"CREATE TABLE nonces ("
	" nonce TEXT COLLATE \"C\" PRIMARY KEY,"
	" until BIGINT NOT NULL);"
	"CREATE INDEX nonces_until ON nonces(until);"
	"CREATE TABLE recovery ("
	" cid BIGINT PRIMARY KEY REFERENCES certs(id) ON DELETE CASCADE,"
	" data BYTEA NOT NULL CHECK (length(data) BETWEEN 1 AND 65536),"
	" updated BIGINT NOT NULL);"
	"CREATE TABLE wkd ("
	" cid BIGINT NOT NULL REFERENCES certs(id) ON DELETE CASCADE,"
	" address TEXT COLLATE \"C\" NOT NULL,"
	" hu TEXT COLLATE \"C\" NOT NULL,"
	" data BYTEA NOT NULL);"
	"CREATE INDEX wkd_cid ON wkd(cid);"
	"CREATE INDEX wkd_hu ON wkd(hu);",
	/* 2: every change lookups could see, named on keydir_lookup for
	 * the nodes' caches (store_pg_cache.c says what each name drops);
	 * delivered at commit, in commit order, once per name per unit */
	"CREATE FUNCTION keydir_lookup_cert() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP <> 'INSERT' THEN"
	"  PERFORM pg_notify('keydir_lookup', 'c' || OLD.fpr); END IF;"
	" IF TG_OP <> 'DELETE' THEN"
	"  PERFORM pg_notify('keydir_lookup', 'c' || NEW.fpr); END IF;"
	" RETURN NULL; END $$;"
	"CREATE FUNCTION keydir_lookup_keyid() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('keydir_lookup',"
	"  's' || OLD.fpr || ' ' || OLD.keyid); END IF;"
	" IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('keydir_lookup',"
	"  's' || NEW.fpr || ' ' || NEW.keyid); END IF;"
	" RETURN NULL; END $$;"
	"CREATE FUNCTION keydir_lookup_address() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP <> 'INSERT' THEN"
	"  PERFORM pg_notify('keydir_lookup', 'a' || OLD.address); END IF;"
	" IF TG_OP <> 'DELETE' THEN"
	"  PERFORM pg_notify('keydir_lookup', 'a' || NEW.address); END IF;"
	" RETURN NULL; END $$;"
	"CREATE TRIGGER certs_lookup AFTER INSERT OR DELETE ON certs"
	" FOR EACH ROW EXECUTE FUNCTION keydir_lookup_cert();"
	"CREATE TRIGGER certs_lookup_update AFTER UPDATE ON certs"
	" FOR EACH ROW WHEN (OLD.fpr IS DISTINCT FROM NEW.fpr"
	" OR OLD.keyid IS DISTINCT FROM NEW.keyid"
	" OR OLD.published IS DISTINCT FROM NEW.published"
	" OR OLD.hkp_index IS DISTINCT FROM NEW.hkp_index"
	" OR OLD.etag IS DISTINCT FROM NEW.etag"
	" OR OLD.updated IS DISTINCT FROM NEW.updated)"
	" EXECUTE FUNCTION keydir_lookup_cert();"
	"CREATE TRIGGER keyids_lookup AFTER INSERT OR UPDATE OR DELETE"
	" ON keyids FOR EACH ROW EXECUTE FUNCTION keydir_lookup_keyid();"
	"CREATE TRIGGER addresses_lookup AFTER INSERT OR DELETE ON addresses"
	" FOR EACH ROW EXECUTE FUNCTION keydir_lookup_address();"
	"CREATE TRIGGER addresses_lookup_update AFTER UPDATE ON addresses"
	" FOR EACH ROW WHEN (OLD.address IS DISTINCT FROM NEW.address"
	" OR OLD.cid IS DISTINCT FROM NEW.cid)"
	" EXECUTE FUNCTION keydir_lookup_address();",
};
#define PG_NMIGRATIONS ((int)(sizeof(pg_migrations) / sizeof(pg_migrations[0])))

/* The version the database is at (0: none yet). */
static int
version(struct pg_conn *c, int *v, struct err *e)
{
	PGresult *r;

	if (pg_exec_plain(c, "CREATE TABLE IF NOT EXISTS keydir_schema ("
	    " one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),"
	    " version INTEGER NOT NULL)", e) == -1)
		return -1;
	r = PQexec(c->c, "SELECT version FROM keydir_schema");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_err(c, r, e);
		PQclear(r);
		return -1;
	}
	*v = PQntuples(r) > 0 ? (int)pg_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

int
pg_migrate(struct pg_conn *c, struct err *e)
{
	char sql[160];
	int v = 0, rc = -1;

	/* one node at a time; the lock goes with the session's end too */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%d)",
	    PG_MIGRATE_LOCK);
	if (pg_exec_plain(c, sql, e) == -1)
		return -1;
	if (version(c, &v, e) == -1)
		goto out;
	if (v > PG_NMIGRATIONS) {
		err_set(e, ERR_INTERNAL, "database: schema version %d is newer "
		    "than this keydird knows (%d)", v, PG_NMIGRATIONS);
		goto out;
	}
	for (; v < PG_NMIGRATIONS; v++) {
		if (pg_exec_plain(c, "BEGIN", e) == -1)
			goto out;
		snprintf(sql, sizeof(sql), "INSERT INTO keydir_schema (version) "
		    "VALUES (%d) ON CONFLICT (one) DO UPDATE SET version = %d",
		    v + 1, v + 1);
		if (pg_exec_plain(c, pg_migrations[v], e) == -1 ||
		    pg_exec_plain(c, sql, e) == -1 ||
		    pg_exec_plain(c, "COMMIT", e) == -1) {
			pg_exec_plain(c, "ROLLBACK", NULL);
			goto out;
		}
		log_info("database: schema migrated to version %d", v + 1);
	}
	rc = 0;
out:
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d)",
	    PG_MIGRATE_LOCK);
	pg_exec_plain(c, sql, NULL);
	return rc;
}
