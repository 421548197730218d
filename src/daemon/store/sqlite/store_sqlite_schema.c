/*
 * store_sqlite_schema: the schema as numbered migrations, and applying
 * the ones a database lacks when it is opened.
 */
#include <stdio.h>

#include "log.h"
#include "store_sqlite_int.h"

/*
 * Schema migrations: entry i takes user_version i to i + 1 in one
 * transaction.  Append only; never edit an entry that has shipped.
 *
 * keyids holds the primary and every subkey of each cert, so lookup by
 * any fingerprint or key id is one indexed read.  Its key is (fpr, cert):
 * anyone can bind somebody else's encryption subkey to their own cert, so
 * a subkey fingerprint may appear under two certs, and key ids collide.
 * The primary key on addresses.address is what enforces "one key per
 * address".  expires 0 means never.
 */
static const char *const sq_migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE certs ("
	" fpr TEXT PRIMARY KEY NOT NULL,"
	" keyid TEXT NOT NULL,"
	" algo INTEGER NOT NULL,"
	" bits INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL,"
	" full BLOB NOT NULL,"
	" published BLOB NOT NULL,"
	" hkp_index TEXT NOT NULL,"
	" etag TEXT NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE TABLE keyids ("
	" fpr TEXT NOT NULL,"
	" keyid TEXT NOT NULL,"
	" cert TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" PRIMARY KEY (fpr, cert));"
	"CREATE INDEX keyids_keyid ON keyids(keyid);"
	"CREATE INDEX keyids_cert ON keyids(cert);"
	"CREATE TABLE addresses ("
	" address TEXT PRIMARY KEY NOT NULL,"
	" fpr TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" published INTEGER NOT NULL);"
	"CREATE INDEX addresses_fpr ON addresses(fpr);"
	"CREATE TABLE tokens ("
	" hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),"
	" kind INTEGER NOT NULL,"
	" fpr TEXT NOT NULL,"
	" address TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tokens_fpr_address ON tokens(fpr, address);"
	"CREATE TABLE mail_rate ("
	" address TEXT PRIMARY KEY NOT NULL,"
	" last INTEGER NOT NULL);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" rcpt TEXT NOT NULL,"
	" data BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" sent INTEGER,"
	" last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(sent, next_attempt);",
	/* 2: the addresses an upload session may ask to verify */
	"CREATE TABLE token_addrs ("
	" hash BLOB NOT NULL REFERENCES tokens(hash) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"
	" PRIMARY KEY (hash, address));",
	/*
	 * 3: the key lifecycle.  verified is when the owner last confirmed an
	 * address and asked when a re-verification mail went out (0: none
	 * outstanding); first_stored and had_address let keys nobody ever
	 * confirmed be purged; nonces stop a signed removal being replayed.
	 */
	"ALTER TABLE addresses ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE addresses ADD COLUMN asked INTEGER NOT NULL DEFAULT 0;"
	"UPDATE addresses SET verified = published;"
	"ALTER TABLE certs ADD COLUMN first_stored INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE certs ADD COLUMN had_address INTEGER NOT NULL DEFAULT 0;"
	"UPDATE certs SET first_stored = updated, had_address = 1;"
	"CREATE INDEX addresses_schedule ON addresses(asked, verified);"
	"CREATE INDEX certs_unconfirmed ON certs(had_address, first_stored);"
	"CREATE INDEX tokens_expires ON tokens(expires);"
	"CREATE TABLE nonces ("
	" nonce TEXT PRIMARY KEY NOT NULL,"
	" until INTEGER NOT NULL);"
	"CREATE INDEX nonces_until ON nonces(until);",
	/*
	 * 4: upload sessions are sealed tokens now (no token_addrs); a
	 * repeated upload of the same bytes is recognised by their hash.
	 */
	"DROP TABLE token_addrs;"
	"ALTER TABLE certs ADD COLUMN upload_hash BLOB;"
	"ALTER TABLE certs ADD COLUMN upload_addrs TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX certs_upload_hash ON certs(upload_hash);",
	/*
	 * 5: lookups touch fewer B-trees.  certs gets an INTEGER PRIMARY KEY
	 * (id), which addresses and keyids carry as cid, so a lookup by
	 * address or key id goes from its row straight to the cert's row
	 * instead of through the index on certs.fpr.  addresses and keyids
	 * are WITHOUT ROWID tables, whose rows sit in their primary-key
	 * B-tree itself; an address row holds cid instead of the 40-byte
	 * fingerprint, so more of them fit a page.  keyids.pos keeps the
	 * subkey order rowid gave.  AUTOINCREMENT: an id is never given to
	 * a second cert, so a row left behind by a delete made with foreign
	 * keys off (the sqlite3 shell) cannot attach itself to another key.
	 * Runs with foreign keys off, as every migration does (dropping the
	 * old certs would cascade); sq_migrate checks them before COMMIT.
	 */
	"CREATE TABLE certs5 ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" fpr TEXT UNIQUE NOT NULL,"
	" keyid TEXT NOT NULL,"
	" algo INTEGER NOT NULL,"
	" bits INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL,"
	" full BLOB NOT NULL,"
	" published BLOB NOT NULL,"
	" hkp_index TEXT NOT NULL,"
	" etag TEXT NOT NULL,"
	" updated INTEGER NOT NULL,"
	" first_stored INTEGER NOT NULL DEFAULT 0,"
	" had_address INTEGER NOT NULL DEFAULT 0,"
	" upload_hash BLOB,"
	" upload_addrs TEXT NOT NULL DEFAULT '');"
	"INSERT INTO certs5 (id, fpr, keyid, algo, bits, created, expires,"
	" revoked, full, published, hkp_index, etag, updated, first_stored,"
	" had_address, upload_hash, upload_addrs)"
	" SELECT rowid, fpr, keyid, algo, bits, created, expires, revoked,"
	" full, published, hkp_index, etag, updated, first_stored,"
	" had_address, upload_hash, upload_addrs FROM certs ORDER BY rowid;"
	"CREATE TABLE addresses5 ("
	" address TEXT PRIMARY KEY NOT NULL,"
	" cid INTEGER NOT NULL REFERENCES certs(id) ON DELETE CASCADE,"
	" published INTEGER NOT NULL,"
	" verified INTEGER NOT NULL DEFAULT 0,"
	" asked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"INSERT INTO addresses5 (address, cid, published, verified, asked)"
	" SELECT a.address, c.id, a.published, a.verified, a.asked"
	" FROM addresses a JOIN certs5 c ON c.fpr = a.fpr;"
	"CREATE TABLE keyids5 ("
	" fpr TEXT NOT NULL,"
	" keyid TEXT NOT NULL,"
	" cert TEXT NOT NULL REFERENCES certs(fpr) ON DELETE CASCADE,"
	" cid INTEGER NOT NULL,"
	" pos INTEGER NOT NULL,"
	" PRIMARY KEY (fpr, cert)) WITHOUT ROWID;"
	"INSERT INTO keyids5 (fpr, keyid, cert, cid, pos)"
	" SELECT k.fpr, k.keyid, k.cert, c.id, k.rowid"
	" FROM keyids k JOIN certs5 c ON c.fpr = k.cert;"
	"DROP TABLE keyids;"
	"DROP TABLE addresses;"
	"DROP TABLE certs;"
	"ALTER TABLE certs5 RENAME TO certs;"
	"ALTER TABLE addresses5 RENAME TO addresses;"
	"ALTER TABLE keyids5 RENAME TO keyids;"
	"CREATE INDEX certs_unconfirmed ON certs(had_address, first_stored);"
	"CREATE INDEX certs_upload_hash ON certs(upload_hash);"
	"CREATE INDEX addresses_cid ON addresses(cid);"
	"CREATE INDEX addresses_schedule ON addresses(asked, verified);"
	/* with cid, a lookup by key id reads only this index, then certs */
	"CREATE INDEX keyids_keyid ON keyids(keyid, cid);"
	"CREATE INDEX keyids_cert ON keyids(cert);",
	/*
	 * 6: only OpenPGP v4 keys are taken.  A v3 key (its fingerprint has
	 * 32 hex digits) has a key id anyone can choose, and import refuses
	 * it, so a restore would stop at its line: those stored before go,
	 * with everything that hangs off them (foreign keys are off here),
	 * and so do the index rows of v3 subkeys (pgp_strip drops the
	 * subkeys themselves when their key is next republished).
	 */
	"DELETE FROM addresses WHERE cid IN"
	" (SELECT id FROM certs WHERE length(fpr) <> 40);"
	"DELETE FROM keyids WHERE length(fpr) <> 40 OR cid IN"
	" (SELECT id FROM certs WHERE length(fpr) <> 40);"
	"DELETE FROM tokens WHERE fpr IN"
	" (SELECT fpr FROM certs WHERE length(fpr) <> 40);"
	"DELETE FROM certs WHERE length(fpr) <> 40;",
	/*
	 * 7: key recovery data (claim 3), sealed by the client: nothing
	 * here decrypts it.  One blob per key, gone with the key.
	 */
	"CREATE TABLE recovery ("
	" cid INTEGER PRIMARY KEY REFERENCES certs(id) ON DELETE CASCADE,"
	" data BLOB NOT NULL CHECK (length(data) BETWEEN 1 AND 65536),"
	" updated INTEGER NOT NULL);",
	/*
	 * 8: abuse limits.  client is who first stored a key (kept a day,
	 * for the per-client cap; NULL for none), bytes what it takes
	 * (full, published and index, in bytes).  unconfirmed holds the
	 * count and total size of the keys that never had an address and
	 * are not revoked, kept by triggers on every path that changes a
	 * cert, so the byte cap costs one row read per upload.  A later
	 * migration that rebuilds certs must make these triggers again.
	 */
	"ALTER TABLE certs ADD COLUMN client TEXT;"
	"ALTER TABLE certs ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE certs SET bytes = length(CAST(full AS BLOB)) +"
	" length(CAST(published AS BLOB)) + length(CAST(hkp_index AS BLOB));"
	"CREATE INDEX certs_client ON certs(client, had_address, first_stored)"
	" WHERE client IS NOT NULL;"
	"CREATE INDEX certs_room ON certs(first_stored, id, bytes)"
	" WHERE had_address = 0 AND revoked = 0;"
	"CREATE TABLE unconfirmed ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" keys INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL);"
	"INSERT INTO unconfirmed SELECT 1, count(*), coalesce(sum(bytes), 0)"
	" FROM certs WHERE had_address = 0 AND revoked = 0;"
	"CREATE TRIGGER unconfirmed_ins AFTER INSERT ON certs"
	" WHEN NEW.had_address = 0 AND NEW.revoked = 0 BEGIN"
	" UPDATE unconfirmed SET keys = keys + 1, bytes = bytes + NEW.bytes;"
	" END;"
	"CREATE TRIGGER unconfirmed_del AFTER DELETE ON certs"
	" WHEN OLD.had_address = 0 AND OLD.revoked = 0 BEGIN"
	" UPDATE unconfirmed SET keys = keys - 1, bytes = bytes - OLD.bytes;"
	" END;"
	"CREATE TRIGGER unconfirmed_upd"
	" AFTER UPDATE OF had_address, revoked, bytes ON certs BEGIN"
	" UPDATE unconfirmed SET"
	" keys = keys + (NEW.had_address = 0 AND NEW.revoked = 0)"
	" - (OLD.had_address = 0 AND OLD.revoked = 0),"
	" bytes = bytes"
	" + CASE WHEN NEW.had_address = 0 AND NEW.revoked = 0"
	" THEN NEW.bytes ELSE 0 END"
	" - CASE WHEN OLD.had_address = 0 AND OLD.revoked = 0"
	" THEN OLD.bytes ELSE 0 END;"
	" END;",
	/*
	 * 9: a lease names its drain (keydird serve or maintain), so that a
	 * serve started after one that died takes back what the dead one
	 * had leased instead of waiting for the lease to run out.
	 */
	"ALTER TABLE outbox ADD COLUMN leased_by TEXT;",
	/*
	 * 10: a mail the SMTP server refused for good is kept as failed
	 * (when) and never tried again.  Mail to one address goes out in
	 * the order it was queued: the index finds a recipient's oldest
	 * unsettled row.
	 */
	"ALTER TABLE outbox ADD COLUMN failed INTEGER;"
	"CREATE INDEX outbox_rcpt ON outbox(rcpt, id)"
	" WHERE sent IS NULL AND failed IS NULL;",
	/*
	 * 11: the Web Key Directory form of each published address (its
	 * key with that address's user IDs only), found by "HASH@domain".
	 * Written with the cert (cert_put); keys published before it get
	 * theirs from keydird republish.
	 */
	"CREATE TABLE wkd ("
	" cid INTEGER NOT NULL REFERENCES certs(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL,"
	" hu TEXT NOT NULL,"
	" data BLOB NOT NULL);"
	"CREATE INDEX wkd_cid ON wkd(cid);"
	"CREATE INDEX wkd_hu ON wkd(hu);"
};
#define SQ_NMIGRATIONS ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

/* Fail unless every foreign key of the database holds. */
static int
sq_fk_check(struct sq_conn *c, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK)
		return sq_err(c->db, SQLITE_ERROR, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err_set(e, ERR_INTERNAL, "database: migration broke a "
		    "foreign key (table %s)", sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		sq_err(c->db, rc, e);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The migrations the database lacks, one transaction each. */
static int
sq_migrate_all(struct sq_conn *c, struct err *e)
{
	char sql[64];
	int v;

	for (;;) {
		if (sq_script(c->db, "BEGIN IMMEDIATE", e) == -1)
			return -1;
		if (sq_pragma(c->db, "PRAGMA user_version", &v, NULL, 0,
		    e) == -1)
			goto fail;
		if (v < 0 || v > SQ_NMIGRATIONS) {
			err_set(e, ERR_INTERNAL, "database: schema version %d "
			    "is not one this keydird knows (0..%d)", v,
			    SQ_NMIGRATIONS);
			goto fail;
		}
		if (v == SQ_NMIGRATIONS)
			break;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (sq_script(c->db, sq_migrations[v], e) == -1 ||
		    sq_fk_check(c, e) == -1 ||
		    sq_script(c->db, sql, e) == -1 ||
		    sq_script(c->db, "COMMIT", e) == -1)
			goto fail;
		log_info("database: schema migrated to version %d", v + 1);
	}
	return sq_script(c->db, "COMMIT", e);
fail:
	if (!sqlite3_get_autocommit(c->db))
		sq_script(c->db, "ROLLBACK", NULL);
	return -1;
}

/*
 * Apply the migrations the database lacks, one transaction each, with
 * foreign keys off: a migration that rebuilds a table must not cascade
 * into its children.  Each is checked with foreign_key_check instead.
 */
int
sq_migrate(struct sq_conn *c, struct err *e)
{
	int rc;

	if (sq_script(c->db, "PRAGMA foreign_keys = OFF", e) == -1)
		return -1;
	rc = sq_migrate_all(c, e);
	if (sq_script(c->db, "PRAGMA foreign_keys = ON", rc == 0 ? e : NULL)
	    == -1)
		rc = -1;
	return rc;
}

/* A database opened only to look is used as it is: its schema must be
 * this keydird's, neither older (no migration runs) nor newer. */
int
sq_schema_check(struct sq_conn *c, struct err *e)
{
	int v;

	if (sq_pragma(c->db, "PRAGMA user_version", &v, NULL, 0, e) == -1)
		return -1;
	if (v != SQ_NMIGRATIONS)
		return err_set(e, ERR_INVALID, "database: schema version %d, "
		    "this keydird reads %d (run keydird serve or maintain "
		    "once to migrate it)", v, SQ_NMIGRATIONS);
	return 0;
}
