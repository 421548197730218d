/*
 * handlers: one function per endpoint, grouped by resource in h_*.c.
 * Each gets the daemon, the request, the response to fill and the rest of
 * the path after its route's prefix (still percent-encoded).
 */
#ifndef KEYDIR_HANDLERS_H
#define KEYDIR_HANDLERS_H

#include "routes.h"

/* h_keys.c: lookups, the hot path */
void h_vks_by_fpr(struct daemon *, struct req *, struct resp *, const char *);
void h_vks_by_keyid(struct daemon *, struct req *, struct resp *,
    const char *);
/* h_wkd.c: the Web Key Directory of the wkd_domains */
void h_wkd(struct daemon *, struct req *, struct resp *, const char *);
void h_vks_by_email(struct daemon *, struct req *, struct resp *,
    const char *);
void h_hkp_lookup(struct daemon *, struct req *, struct resp *, const char *);
void h_api_lookup(struct daemon *, struct req *, struct resp *, const char *);
void h_api_server_key(struct daemon *, struct req *, struct resp *,
    const char *);
void h_api_server_key_transition(struct daemon *, struct req *,
    struct resp *, const char *);
void h_api_lookup_batch(struct daemon *, struct req *, struct resp *,
    const char *);
void h_api_submit(struct daemon *, struct req *, struct resp *,
    const char *);
void h_api_recovery_request(struct daemon *, struct req *, struct resp *,
    const char *);
void h_recovery_link(struct daemon *, struct req *, struct resp *,
    const char *);

/* h_upload.c: submissions */
void h_vks_upload(struct daemon *, struct req *, struct resp *, const char *);
void h_vks_request_verify(struct daemon *, struct req *, struct resp *,
    const char *);
void h_hkp_add(struct daemon *, struct req *, struct resp *, const char *);

/* h_verify.c: confirmation links and the front page */
void h_verify_get(struct daemon *, struct req *, struct resp *, const char *);
void h_verify_post(struct daemon *, struct req *, struct resp *,
    const char *);
void h_index(struct daemon *, struct req *, struct resp *, const char *);

/* h_manage.c: removal and re-verification */
void h_api_remove(struct daemon *, struct req *, struct resp *, const char *);
void h_api_manage(struct daemon *, struct req *, struct resp *, const char *);
void h_manage_link(struct daemon *, struct req *, struct resp *,
    const char *);
void h_reverify_link(struct daemon *, struct req *, struct resp *,
    const char *);

/* h_site.c: the site's own pages */
void h_about(struct daemon *, struct req *, struct resp *, const char *);
void h_about_api(struct daemon *, struct req *, struct resp *,
    const char *);
/* h_web.c: uploading in the browser */
void h_upload_page(struct daemon *, struct req *, struct resp *,
    const char *);
void h_upload_post(struct daemon *, struct req *, struct resp *,
    const char *);
void h_upload_verify(struct daemon *, struct req *, struct resp *,
    const char *);
void h_manage_page(struct daemon *, struct req *, struct resp *,
    const char *);
void h_manage_post(struct daemon *, struct req *, struct resp *,
    const char *);
/* h_search.c */
void h_search(struct daemon *, struct req *, struct resp *, const char *);

/* site.c: the static files and the language switch */
void h_static(struct daemon *, struct req *, struct resp *, const char *);
void h_favicon(struct daemon *, struct req *, struct resp *, const char *);
void h_robots(struct daemon *, struct req *, struct resp *, const char *);
void h_lang(struct daemon *, struct req *, struct resp *, const char *);

#endif
