/*
 * xfer: keydird export and import, the operator's backup and move of a
 * whole directory.  The format (JSON Lines, versioned) is in
 * docs/EXPORT.md.  Export reads one snapshot through the store; import
 * parses and publishes on worker threads and stores in batched
 * transactions through the store, so neither touches SQL or librnp.
 */
#ifndef KEYDIR_XFER_H
#define KEYDIR_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "store.h"

#define XFER_FORMAT "keydir-export"
#define XFER_VERSION 1
#define XFER_LINE_MAX (8u << 20)	/* bytes of one line */

struct daemon;

/* What an import did. */
struct xfer_report {
	size_t keys;		/* key lines stored */
	size_t addrs;		/* addresses restored */
	size_t merged;		/* of the keys, those already there (merged) */
	size_t committed;	/* keys in committed batches (on error: kept) */
	size_t line;		/* on error: the line at fault, 0 if none */
	double seconds;
};

/* One key line, parsed. */
struct xfer_key {
	char fpr[FPR_LEN + 1];
	int64_t first_stored;
	bool had_address;
	uint8_t *full;		/* binary, decoded */
	size_t full_len;
	struct store_addr *addrs;	/* fpr filled in */
	size_t naddrs;
	uint8_t *recovery;	/* its recovery data, NULL when none */
	size_t recovery_len;
	int64_t recovery_updated;
};

/*
 * Write every cert of d->store, with its published addresses and their
 * dates, to out in the export format, from one snapshot of the store.
 * Returns 0, or -1 with e set (ERR_INTERNAL for a write error).
 */
int xfer_export(struct daemon *d, FILE *out, struct err *e);

/*
 * Read an export from in into d->store (empty or not: a key already there
 * is merged with the imported one and its addresses are added; an address
 * another key holds moves).  Keys commit in batches of 1000; on
 * error (ERR_INVALID naming the line for bad input, r->line set) the
 * batch in progress is rolled back and the r->committed keys already
 * committed stay.  Importing the same export twice changes nothing.
 */
int xfer_import(struct daemon *d, FILE *in, struct xfer_report *r,
    struct err *e);

/*
 * keydird state (xfer_state.c): what the store holds, as JSON lines on
 * out (README.md, "Inspecting a directory"): the row counts (one object),
 * the key fpr (one object; 1 if there is no such key), every key (one
 * object each, in fingerprint order) or the outbox (one object per row,
 * in id order, without the messages).  Reads in the caller's transaction
 * (store_begin_read: one snapshot).  0, 1, or -1 with e set.
 */
enum xfer_view {
	XFER_VIEW_COUNTS,
	XFER_VIEW_KEY,
	XFER_VIEW_KEYS,
	XFER_VIEW_OUTBOX
};
int xfer_state(struct store *s, enum xfer_view v, const char *fpr,
    FILE *out, struct err *e);

/* Internal to xfer*.c: check the header line (ERR_INVALID). */
int xfer_header_check(const char *line, size_t len, struct err *e);
/* Internal: parse one key line into k (release with xfer_key_release). */
int xfer_key_parse(const char *line, size_t len, struct xfer_key *k,
    struct err *e);
void xfer_key_release(struct xfer_key *k);

#endif
