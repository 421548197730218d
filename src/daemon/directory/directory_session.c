/*
 * directory_session: VKS upload sessions.  The token an upload answers
 * with is the session itself, sealed (seal.c): "keydir-session 1", the
 * expiry, the fingerprint and the addresses of that upload, one a line.
 * request-verify may ask only for those addresses, so a re-upload of a
 * published key never reveals or mails its other, unconfirmed addresses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "daemon.h"
#include "directory_int.h"
#include "seal.h"
#include "str.h"
#include "xmalloc.h"

#define SESSION_MAX (64 * 1024)

static const char session_gone[] = "Upload session expired. Please try again.";

/* Seal a session for fpr over the addresses now in out. */
int
dir_session_seal(struct daemon *d, const char *fpr, int64_t now,
    struct dir_upload *out, struct err *e)
{
	struct buf b;
	size_t i;

	buf_init(&b, SESSION_MAX);
	buf_printf(&b, "keydir-session 1\n%lld\n%s\n",
	    (long long)(now + d->cfg.upload_ttl), fpr);
	for (i = 0; i < out->naddrs; i++)
		buf_printf(&b, "%s\n", out->addrs[i].address);
	if (buf_failed(&b)) {
		buf_release(&b);
		return err_set(e, ERR_TOOBIG, "too many addresses");
	}
	free(out->token);
	out->token = seal_box(d->seal_key, b.data);
	buf_release(&b);
	return 0;
}

/* Open a session token: its fingerprint, and whether it allows address
 * (NULL: just check). */
int
dir_session_open(struct daemon *d, const char *token, int64_t now,
    char fpr[FPR_LEN + 1], const char *address, struct err *e)
{
	char *text, *line, *save = NULL;
	int rc = err_set(e, ERR_INVALID, "%s", session_gone);
	int i;

	if ((text = seal_open(d->seal_key, token, SESSION_MAX)) == NULL)
		return rc;
	for (i = 0, line = strtok_r(text, "\n", &save); line != NULL;
	    i++, line = strtok_r(NULL, "\n", &save)) {
		if ((i == 0 && strcmp(line, "keydir-session 1") != 0) ||
		    (i == 1 && strtoll(line, NULL, 10) <= now))
			break;
		if (i == 2 && str_lcpy(fpr, line, 41) < 41 && address == NULL)
			rc = 0;
		if (i >= 3 && address != NULL && !strcmp(line, address))
			rc = 0;
	}
	if (rc == -1 && i > 2 && address != NULL)
		err_set(e, ERR_INVALID, "%s is not an address of the uploaded "
		    "key.", address);
	free(text);
	return rc;
}

_Static_assert(DAEMON_SEAL_KEY_LEN == SEAL_KEY_LEN, "daemon.h's key size");

/* Load or make the session key. */
int
dir_session_key(struct daemon *d, const char *path, struct err *e)
{
	return seal_key_load(path, d->seal_key, e);
}
