/*
 * pgp_pkt: the raw side of pgp: de-armoring and a packet walk that counts
 * certs, user IDs and subkeys and spots secret keys before librnp parses
 * anything.  Private to pgp*.c.
 */
#ifndef KEYDIR_PGP_PKT_H
#define KEYDIR_PGP_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "pgp.h"

#define E_PARSE		"Parsing of key data failed."
#define E_NOKEY		"No key uploaded."
#define E_SECRET	"Whoops, please don't upload secret keys!"

/* What the packet walk found. */
struct pkt_stats {
	size_t certs, sigs, uids, subs;
};

/* Check one cert's counts in st against lim (ERR_TOOBIG naming it). */
int pkt_cert_check(const struct pkt_stats *st, const struct pgp_limits *lim,
    struct err *e);
/* Walk the packets of p, checking lim per cert; fills st. */
int pkt_walk(const uint8_t *p, size_t len, const struct pgp_limits *lim,
    struct pkt_stats *st, struct err *e);
/* The binary packets of in (binary as is, or every armor block decoded)
 * appended to bin. */
int to_binary(const uint8_t *in, size_t len, struct buf *bin,
    struct err *e);

#endif
