/*
 * kd_lookup: keydir lookup and keydir refresh.  The directory answers the
 * key identifier of an address (claim 2); the client fetches the key only
 * when the keyring lacks it or the directory has a newer version than the
 * one it fetched last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <gpgme.h>

#include "client.h"
#include "str.h"
#include "xmalloc.h"

enum outcome { O_UNCHANGED, O_UPDATED, O_NEW, O_ABSENT, O_ERROR };

/* Whether addr can stand in a URL path as it is. */
static bool
addr_ok(const char *a)
{
	return *a != '\0' && strchr(a, '@') != NULL &&
	    strpbrk(a, "/?#% \t\r\n") == NULL;
}

/* The key fpr, published as of updated, into the keyring (unless it is
 * there already and not older); what happened. */
static enum outcome
kd_fetch(struct kd *k, const char *who, const char *fpr, int64_t updated)
{
	struct buf body;
	char url[1024], uid[256];
	struct err e;
	long st = 0;
	bool had = kd_gpg_has(fpr);
	int64_t seen = kd_seen_get(k->authority, fpr);
	size_t u0 = 0, s0 = 0, u1 = 0, s1 = 0;

	/* a key made here (never fetched) or fetched at this version */
	if (had && (seen == 0 || seen >= updated)) {
		printf("%s: %s, already in your keyring and up to date\n", who,
		    fpr);
		return O_UNCHANGED;
	}
	if (k->dry_run) {
		printf("%s: %s, would be %s (--dry-run)\n", who, fpr,
		    had ? "updated" : "fetched");
		return had ? O_UPDATED : O_NEW;
	}
	if (had)
		kd_gpg_shape(fpr, uid, sizeof(uid), &u0, &s0);
	buf_init(&body, KEY_MAX);
	snprintf(url, sizeof(url), "%s/vks/v1/by-fingerprint/%s", k->server,
	    fpr);
	if (kd_get(url, &body, &st, NULL, NULL, 0, &e) == -1 || st != 200 ||
	    kd_gpg_import(body.data, body.len, &e) == -1) {
		fprintf(stderr, "keydir: %s: %s\n", who, st != 0 && st != 200 ?
		    "the directory did not give the key" : e.msg);
		buf_release(&body);
		return O_ERROR;
	}
	buf_release(&body);
	kd_seen_set(k->authority, fpr, updated);
	kd_gpg_shape(fpr, uid, sizeof(uid), &u1, &s1);
	printf("%s: %s, %s\n", who, fpr, had ? "updated: a newer version was "
	    "imported" : "new: imported into your keyring");
	printf("    %s\n", uid[0] ? uid : "(no user ID)");
	if (had && (u1 != u0 || s1 != s0))
		printf("    changed: %zu user ID(s) and %zu subkey(s) now, "
		    "%zu and %zu before\n", u1, s1, u0, s0);
	else if (had)
		printf("    changed: signatures only (a new expiry, a "
		    "revocation or a renewed binding)\n");
	return had ? O_UPDATED : O_NEW;
}

/* The identifier object {fingerprint, updated} into fpr and *updated. */
static int
ident(json_t *o, char fpr[FPR_LEN + 1], int64_t *updated)
{
	const char *f = NULL, *u = NULL;

	if (json_unpack(o, "{s:s,s:s}", "fingerprint", &f, "updated", &u) ||
	    strlen(f) != FPR_LEN || !str_is_hex(f, FPR_LEN) ||
	    (*updated = str_rfc3339(u)) == -1)
		return -1;
	str_lcpy(fpr, f, FPR_LEN + 1);
	return 0;
}

int
kd_lookup(struct kd *k, char **addrs, size_t n)
{
	char url[1024], fpr[FPR_LEN + 1];
	struct buf body;
	struct err e;
	json_t *j;
	int64_t updated;
	long st;
	size_t i;
	int rc = KD_OK;

	for (i = 0; i < n; i++) {
		if (!addr_ok(addrs[i])) {
			fprintf(stderr, "keydir: '%s' is not an address\n",
			    addrs[i]);
			rc = KD_FAIL;
			continue;
		}
		buf_init(&body, 64 * 1024);
		snprintf(url, sizeof(url), "%s/api/v1/lookup/%s", k->server,
		    addrs[i]);
		st = 0;
		if (kd_get(url, &body, &st, NULL, NULL, 0, &e) == -1) {
			fprintf(stderr, "keydir: %s\n", e.msg);
			buf_release(&body);
			return KD_FAIL;
		}
		j = st == 200 ? json_loadb(body.data, body.len, 0, NULL) : NULL;
		if (st == 404) {
			printf("%s: not in the directory\n", addrs[i]);
			if (rc == KD_OK)
				rc = KD_NOTFOUND;
		} else if (j == NULL || ident(j, fpr, &updated) == -1) {
			fprintf(stderr, "keydir: %s: the directory answered %ld"
			    "\n", addrs[i], st);
			rc = KD_FAIL;
		} else if (kd_fetch(k, addrs[i], fpr, updated) == O_ERROR)
			rc = KD_FAIL;
		json_decref(j);
		buf_release(&body);
	}
	return rc;
}

/* Every address of every key in the keyring, once. */
static json_t *
keyring_addresses(void)
{
	gpgme_ctx_t c;
	gpgme_key_t key;
	gpgme_user_id_t u;
	json_t *a = json_array(), *seen = json_object();

	if (gpgme_new(&c) != 0)
		return a;
	if (gpgme_op_keylist_start(c, NULL, 0) == 0)
		while (gpgme_op_keylist_next(c, &key) == 0) {
			for (u = key->uids; u != NULL; u = u->next)
				if (!u->revoked && u->email && *u->email &&
				    json_object_get(seen, u->email) == NULL &&
				    json_array_size(a) < 1000) {
					json_object_set_new(seen, u->email,
					    json_true());
					json_array_append_new(a,
					    json_string(u->email));
				}
			gpgme_key_unref(key);
		}
	gpgme_release(c);
	json_decref(seen);
	return a;
}

int
kd_refresh(struct kd *k)
{
	char url[1024], fpr[FPR_LEN + 1];
	size_t count[5] = { 0 }, i, asked;
	struct buf body;
	struct err e;
	json_t *req, *ans, *keys, *o, *a;
	char *text;
	int64_t updated;
	long st = 0;
	int rc;

	a = keyring_addresses();
	asked = json_array_size(a);
	req = json_pack("{s:o}", "addresses", a);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	buf_init(&body, 4u << 20);
	snprintf(url, sizeof(url), "%s/api/v1/lookup", k->server);
	rc = kd_post(url, "application/json", text, strlen(text), &body, &st,
	    &e);
	free(text);
	if (rc == -1 || st != 200) {
		fprintf(stderr, "keydir: %s\n", rc == -1 ? e.msg :
		    "the directory refused the batch lookup");
		buf_release(&body);
		return KD_FAIL;
	}
	ans = json_loadb(body.data, body.len, 0, NULL);
	buf_release(&body);
	keys = ans ? json_object_get(ans, "keys") : NULL;
	json_array_foreach(keys, i, o) {
		const char *addr = json_string_value(json_object_get(o,
		    "address"));

		if (addr == NULL || ident(o, fpr, &updated) == -1)
			continue;
		count[kd_fetch(k, addr, fpr, updated)]++;
	}
	count[O_ABSENT] = asked - json_array_size(keys);
	json_decref(ans);
	printf("%zu unchanged, %zu updated, %zu new, %zu not in the "
	    "directory\n", count[O_UNCHANGED], count[O_UPDATED], count[O_NEW],
	    count[O_ABSENT]);
	return count[O_ERROR] > 0 ? KD_FAIL : KD_OK;
}
