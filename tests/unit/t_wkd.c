/*
 * t_wkd: the Web Key Directory.  The hash (the draft's example), the
 * per-address form (only that address's user IDs), and the lookups
 * through the routes: advanced and direct method, a domain not served,
 * ?l=, the policy, and an address that leaves WKD the moment it is
 * unpublished.
 */
static char tmp[] = "/tmp/t_wkd.XXXXXX";

#include "dirtest.h"
#include "reqtest.h"
#include "wkd.h"

/* GET uri with Host host. */
static struct answer
get(struct dt *t, const char *uri, const char *host)
{
	return rq_run(&t->d, &(struct rq){ .uri = uri, .host = host });
}

/* Whether the binary answer a holds text. */
static bool
has(const struct answer *a, const char *text)
{
	size_t n = strlen(text), i;

	for (i = 0; a->body != NULL && i + n <= a->len; i++)
		if (memcmp(a->body + i, text, n) == 0)
			return true;
	return false;
}

static void
t_hash(void)
{
	char h[WKD_HASH_LEN + 1], k[300];

	/* draft-koch-openpgp-webkey-service, 3.1 */
	wkd_hash("Joe.Doe", 7, h);
	is_str(h, "iy9q119eutrkn8s1mk4r39qejnbu3n5q", "the draft's example "
	    "(Joe.Doe, mapped to lower case)");
	ok(wkd_key("joe.doe@example.org", k, sizeof(k)) == 0 &&
	    !strcmp(k, "iy9q119eutrkn8s1mk4r39qejnbu3n5q@example.org"),
	    "the lookup key: HASH@domain (%s)", k);
	ok(wkd_key("no-at-sign", k, sizeof(k)) == -1 &&
	    wkd_key("@example.org", k, sizeof(k)) == -1 &&
	    wkd_key("a@b.org", k, 35) == -1, "no address, no local part, no "
	    "room: refused");
}

static void
t_lookups(void)
{
	static const char *const both[] = { A_MAIN, A_WORK };
	char h[WKD_HASH_LEN + 1], hw[WKD_HASH_LEN + 1], uri[300];
	struct answer a;
	struct dt t;

	if (dt_open(&t, "wkd") != 0 || publish(&t, K_A2, both, 2, T0) != 0) {
		ok(0, "a directory with alice's key published for two "
		    "addresses");
		return;
	}
	str_lcpy(t.d.cfg.wkd_domains, "example.org", sizeof(
	    t.d.cfg.wkd_domains));
	wkd_hash("alice", 5, h);

	snprintf(uri, sizeof(uri), "/.well-known/openpgpkey/example.org/hu/%s"
	    "?l=alice", h);
	a = get(&t, uri, "openpgpkey.example.org");
	ok(a.status == 200 && !strcmp(a.ctype, "application/octet-stream") &&
	    a.len > 0 && ((uint8_t)a.body[0] & 0x80) && !strcmp(a.cors, "*"),
	    "advanced: the key, binary OpenPGP, CORS open (%d %s)", a.status,
	    a.ctype);
	ok(has(&a, A_MAIN) && !has(&a, A_WORK), "... with the user ID of "
	    "the address asked for only");
	ok(!has(&a, "BEGIN PGP"), "... not armored");
	free(a.body);

	snprintf(uri, sizeof(uri), "/.well-known/openpgpkey/hu/%s", h);
	a = get(&t, uri, "Example.ORG:443");
	ok(a.status == 200 && has(&a, A_MAIN), "direct: by Host, any case, "
	    "with a port (%d)", a.status);
	free(a.body);
	a = get(&t, uri, "other.example");
	ok(a.status == 404, "direct, another Host: 404 (%d)", a.status);
	free(a.body);
	a = get(&t, uri, NULL);
	ok(a.status == 404, "direct, no Host: 404 (%d)", a.status);
	free(a.body);

	/* work.example is not served: its address is published, yet not
	 * in WKD, and its policy says nothing */
	wkd_hash("alice", 5, hw);
	snprintf(uri, sizeof(uri), "/.well-known/openpgpkey/work.example/hu/"
	    "%s", hw);
	a = get(&t, uri, "openpgpkey.work.example");
	ok(a.status == 404, "a domain not in wkd_domains: 404 (%d)",
	    a.status);
	free(a.body);
	a = get(&t, "/.well-known/openpgpkey/work.example/policy",
	    "openpgpkey.work.example");
	ok(a.status == 404, "... and no policy, so clients remember it");
	free(a.body);
	a = get(&t, "/.well-known/openpgpkey/example.org/policy",
	    "openpgpkey.example.org");
	ok(a.status == 200 && strstr(a.body, "protocol-version: 5\n") &&
	    strstr(a.body, "submission-address: ") &&
	    !strstr(a.body, "mailbox-only"), "a served domain's policy (%d)",
	    a.status);
	free(a.body);
	str_lcpy(t.d.cfg.submission_address, "key-submission@example.org",
	    sizeof(t.d.cfg.submission_address));
	a = get(&t, "/.well-known/openpgpkey/example.org/submission-address",
	    "openpgpkey.example.org");
	ok(a.status == 200 && !strcmp(a.body, "key-submission@example.org\n"),
	    "submission-address: where the Web Key Service takes mail");
	free(a.body);

	snprintf(uri, sizeof(uri), "/.well-known/openpgpkey/example.org/hu/%s"
	    "?l=bob", h);
	a = get(&t, uri, "openpgpkey.example.org");
	ok(a.status == 404, "?l= of another local part than the hash's: 404");
	free(a.body);
	a = get(&t, "/.well-known/openpgpkey/example.org/hu/"
	    "iy9q119eutrkn8s1mk4r39qejnbu3n5q", "openpgpkey.example.org");
	ok(a.status == 404, "an address not published: 404");
	free(a.body);
	a = get(&t, "/.well-known/openpgpkey/example.org/hu/../../etc",
	    "openpgpkey.example.org");
	ok(a.status == 404, "not a hash: 404");
	free(a.body);

	/* unpublished: gone from WKD at once */
	{
		struct err e;
		struct dir_link l;
		char tok[TOKEN_LEN + 1];

		ok(dir_manage_request(&t.d, T0 + 10, A_MAIN, 0, &e) == 0 &&
		    dt_link(&t, A_MAIN, "manage", tok) == 0 &&
		    dir_link_act(&t.d, T0 + 11, TOKEN_MANAGE, tok, true, &l,
		    &e) == 0, "alice's address removed by a manage link");
	}
	snprintf(uri, sizeof(uri), "/.well-known/openpgpkey/example.org/hu/%s",
	    h);
	a = get(&t, uri, "openpgpkey.example.org");
	ok(a.status == 404, "... and WKD answers 404 for it (%d)", a.status);
	free(a.body);
	dt_close(&t);
}

int
main(void)
{
	static const struct dt_group g[] = { { "hash", t_hash },
	    { "lookups", t_lookups } };

	return dt_main(g, 2);
}
