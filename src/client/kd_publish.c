/*
 * kd_publish: keydir publish (a signed submission, claim 4) and keydir
 * remove (a signed removal request).  The server key is fetched and
 * pinned on first use; a different one later is refused unless the user
 * says so (--accept-new-server-key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "client.h"
#include "str.h"

/* Whether the server's transition signature says the pinned key pin
 * vouches for the new key fpr (keydird rotate-key). */
static bool
vouched(struct kd *k, const char *pin, const char *fpr)
{
	char url[1024], text[128];
	struct buf body;
	struct err e;
	long st = 0;
	bool ok;

	buf_init(&body, 64 * 1024);
	snprintf(url, sizeof(url), "%s/api/v1/server-key/transition",
	    k->server);
	snprintf(text, sizeof(text), "keydir server key %s\n", fpr);
	ok = kd_get(url, &body, &st, NULL, NULL, 0, &e) == 0 && st == 200 &&
	    kd_gpg_signed_by(text, body.data, body.len, pin);
	buf_release(&body);
	return ok;
}

/* The server key: fetched, imported, checked against the pin. */
static int
server_key(struct kd *k, char fpr[FPR_LEN + 1])
{
	char url[1024], pin[FPR_LEN + 1];
	struct buf body;
	struct err e;
	long st = 0;

	buf_init(&body, KEY_MAX);
	snprintf(url, sizeof(url), "%s/api/v1/server-key", k->server);
	if (kd_get(url, &body, &st, "Keydir-Fingerprint", fpr, FPR_LEN + 1,
	    &e) == -1 || st != 200 || strlen(fpr) != FPR_LEN ||
	    kd_gpg_import(body.data, body.len, &e) == -1 ||
	    !kd_gpg_has(fpr)) {
		fprintf(stderr, "keydir: cannot get the server key of %s%s%s\n",
		    k->server, st == 200 ? ": " : "", st == 200 ? e.msg : "");
		buf_release(&body);
		return -1;
	}
	buf_release(&body);
	if (kd_pin_get(k->authority, pin) == 1) {
		if (kd_pin_set(k->authority, fpr, &e) == -1) {
			fprintf(stderr, "keydir: %s\n", e.msg);
			return -1;
		}
		printf("The server key of %s is %s: pinned (first use).\n",
		    k->authority, fpr);
	} else if (strcmp(pin, fpr) != 0 && vouched(k, pin, fpr)) {
		if (kd_pin_set(k->authority, fpr, &e) == -1)
			return -1;
		printf("The server key of %s changed to %s; the key you pinned "
		    "(%s) signed it: the new one is pinned.\n", k->authority,
		    fpr, pin);
	} else if (strcmp(pin, fpr) != 0) {
		if (!k->accept_new_server_key) {
			fprintf(stderr, "keydir: the server key of %s changed: "
			    "%s was pinned, the server now gives %s.  If the "
			    "directory announced a new key, run again with "
			    "--accept-new-server-key.\n", k->authority, pin,
			    fpr);
			return -1;
		}
		if (kd_pin_set(k->authority, fpr, &e) == -1)
			return -1;
		printf("The new server key %s is pinned.\n", fpr);
	}
	return 0;
}

/* Print the server's JSON error, or the status. */
static void
print_refusal(const struct buf *body, long st)
{
	json_t *j = json_loadb(body->data, body->len, 0, NULL);
	const char *m = j ? json_string_value(json_object_get(j, "error")) :
	    NULL;

	fprintf(stderr, "keydir: the directory refused it (%ld): %s\n", st,
	    m ? m : "no reason given");
	json_decref(j);
}

/* What the directory did about address's mail (the answer's "mail"
 * entry m, NULL when it names none), in words for after its status. */
static void
print_mail(const char *status, const json_t *m)
{
	const char *r = json_string_value(json_object_get(m, "result"));
	time_t at = (time_t)json_integer_value(json_object_get(m, "retry_at"));
	char when[64];
	struct tm tm;

	if (r == NULL) {
		printf("%s\n", !strcmp(status, "pending") ? " (a mail with a "
		    "confirmation link went out: open it to publish)" : "");
		return;
	}
	if (!strcmp(r, "mailed"))
		printf(" (a mail with a confirmation link is on its way: open "
		    "it to publish)\n");
	else if (!strcmp(r, "rate_limited") && gmtime_r(&at, &tm) != NULL &&
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		printf(" (not mailed: one went out a short while ago, use its "
		    "link; another can go after %s)\n", when);
	else if (!strcmp(r, "over_limit"))
		printf(" (not mailed: more addresses than the directory mails "
		    "per request; publish again to have it mailed)\n");
	else if (!strcmp(r, "unmailable"))
		printf(" (not mailed: the address cannot be mailed)\n");
	else
		printf(" (not mailed: %s)\n", r);
}

int
kd_publish(struct kd *k, const char *key, char **addrs, size_t n,
    const char *recovery, size_t recovery_len)
{
	char fpr[FPR_LEN + 1], sfpr[FPR_LEN + 1], url[1024];
	struct buf armored, sealed, body;
	json_t *sub, *a, *ans, *stat, *v;
	const char *addr, *sv;
	struct err e;
	char *text;
	long st = 0;
	size_t i;
	int rc = KD_FAIL;

	if (kd_gpg_find(key, true, fpr, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		return KD_FAIL;
	}
	if (server_key(k, sfpr) == -1)
		return KD_FAIL;
	buf_init(&armored, KEY_MAX);
	buf_init(&sealed, 2 * KEY_MAX);
	buf_init(&body, 64 * 1024);
	if (kd_gpg_export(fpr, &armored, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(addrs[i]));
	sub = json_pack("{s:s,s:s,s:s%}", "action", "publish", "server",
	    k->authority, "key", armored.data, armored.len);
	if (n > 0)
		json_object_set_new(sub, "addresses", a);
	else
		json_decref(a);
	if (recovery != NULL) {
		size_t sz = sodium_base64_ENCODED_LEN(recovery_len,
		    sodium_base64_VARIANT_ORIGINAL);
		char *r = malloc(sz);

		if (r == NULL)
			goto out;
		sodium_bin2base64(r, sz, (const uint8_t *)recovery,
		    recovery_len, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(sub, "recovery", json_string(r));
		free(r);
	}
	text = json_dumps(sub, JSON_COMPACT);
	json_decref(sub);
	if (k->dry_run) {
		printf("Would send a submission of %s, signed by it and "
		    "encrypted to %s (--dry-run).\n", fpr, sfpr);
		free(text);
		rc = KD_OK;
		goto out;
	}
	printf("Signing the submission with %s (gpg-agent may ask for its "
	    "passphrase)...\n", fpr);
	if (kd_gpg_sign_encrypt(fpr, sfpr, text, strlen(text), &sealed,
	    &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		free(text);
		goto out;
	}
	free(text);
	snprintf(url, sizeof(url), "%s/api/v1/submit", k->server);
	if (kd_post(url, "application/pgp-encrypted", sealed.data, sealed.len,
	    &body, &st, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	if (st != 200) {
		print_refusal(&body, st);
		goto out;
	}
	ans = json_loadb(body.data, body.len, 0, NULL);
	stat = ans ? json_object_get(ans, "status") : NULL;
	printf("Sent: %s, signed by itself.\n", fpr);
	json_object_foreach(stat, addr, v) {
		sv = json_string_value(v) != NULL ? json_string_value(v) : "?";
		printf("  %s: %s", addr, sv);
		print_mail(sv, json_object_get(json_object_get(ans, "mail"),
		    addr));
	}
	json_decref(ans);
	rc = KD_OK;
out:
	buf_release(&armored);
	buf_release(&sealed);
	buf_release(&body);
	return rc;
}

int
kd_remove(struct kd *k, const char *key, char **addrs, size_t n)
{
	char fpr[FPR_LEN + 1], url[1024], date[32], nonce[33];
	uint8_t rnd[16];
	struct buf text, signedtext, body;
	struct err e;
	struct tm tm;
	time_t now = time(NULL);
	json_t *ans;
	long st = 0;
	size_t i;
	int rc = KD_FAIL;

	if (kd_gpg_find(key, true, fpr, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		return KD_FAIL;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(nonce, sizeof(nonce), rnd, sizeof(rnd));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_init(&text, 64 * 1024);
	buf_init(&signedtext, 128 * 1024);
	buf_init(&body, 64 * 1024);
	buf_printf(&text, "keydir-request: remove\nserver: %s\nfingerprint: "
	    "%s\naddresses: ", k->authority, fpr);
	if (n == 0)
		buf_addstr(&text, "all");
	for (i = 0; i < n; i++)
		buf_printf(&text, "%s%s", i ? ", " : "", addrs[i]);
	buf_printf(&text, "\nnonce: %s\ndate: %s\n", nonce, date);
	if (buf_failed(&text))
		goto out;
	if (k->dry_run) {
		printf("Would send, signed by %s (--dry-run):\n%s", fpr,
		    text.data);
		rc = KD_OK;
		goto out;
	}
	if (kd_gpg_clearsign(fpr, text.data, text.len, &signedtext, &e) ==
	    -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	snprintf(url, sizeof(url), "%s/api/v1/remove", k->server);
	if (kd_post(url, "text/plain", signedtext.data, signedtext.len, &body,
	    &st, &e) == -1) {
		fprintf(stderr, "keydir: %s\n", e.msg);
		goto out;
	}
	if (st != 200) {
		print_refusal(&body, st);
		goto out;
	}
	ans = json_loadb(body.data, body.len, 0, NULL);
	if (ans && json_is_string(json_object_get(ans, "removed")))
		printf("Removed: the whole key %s%s.\n", fpr,
		    json_object_get(ans, "kept") ? " (its revocation stays "
		    "findable)" : "");
	else
		printf("Removed: %lld address(es) of %s.\n", ans ? (long long)
		    json_integer_value(json_object_get(ans, "removed")) : 0LL,
		    fpr);
	json_decref(ans);
	rc = KD_OK;
out:
	buf_release(&text);
	buf_release(&signedtext);
	buf_release(&body);
	return rc;
}
