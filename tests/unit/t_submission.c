/*
 * t_submission: the submission text, read strictly: each field of its
 * type, nothing unknown, the recovery blob base64 and capped.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "submission.h"
#include "tap.h"

#define KEY "-----BEGIN PGP PUBLIC KEY BLOCK-----\\nx\\n"

static int
parse(const char *json, struct submission *s, struct err *e)
{
	return submission_parse(json, strlen(json), s, e);
}

int
main(void)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "[]", "not an object" },
		{ "{\"action\":\"publish\",\"server\":\"k.example\"}", "no key" },
		{ "{\"action\":\"remove\",\"server\":\"k.example\",\"key\":\"" KEY "\"}",
		    "another action" },
		{ "{\"action\":\"publish\",\"key\":\"" KEY "\"}", "no server" },
		{ "{\"action\":\"publish\",\"server\":\"k.example\",\"key\":\"" KEY
		    "\",\"extra\":1}", "an unknown field" },
		{ "{\"action\":\"publish\",\"action\":\"publish\",\"server\":"
		    "\"k.example\",\"key\":\"" KEY "\"}", "a field twice" },
		{ "{\"action\":\"publish\",\"server\":\"k.example\",\"key\":\"" KEY
		    "\",\"addresses\":\"a@b.c\"}", "addresses not a list" },
		{ "{\"action\":\"publish\",\"server\":\"k.example\",\"key\":\"" KEY
		    "\",\"addresses\":[1]}", "an address not a string" },
		{ "{\"action\":\"publish\",\"server\":\"k.example\",\"key\":\"" KEY
		    "\",\"recovery\":\"***\"}", "recovery not base64" },
	};
	struct submission s;
	struct err e;
	char *big, *json;
	size_t i, n;

	if (sodium_init() < 0)
		return 1;
	ok(parse("{\"action\":\"publish\",\"server\":\"k.example\",\"key\":\""
	    KEY "\",\"addresses\":[\"A@Example.org\",\"b@example.org\"],"
	    "\"recovery\":\"aGVsbG8=\"}", &s, &e) == 0, "a full submission");
	ok(!strcmp(s.server, "k.example") && s.key_len == strlen(
	    "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n") && s.naddrs == 2 &&
	    !strcmp(s.addrs[0], "A@Example.org") && s.recovery_len == 5 &&
	    !memcmp(s.recovery, "hello", 5), "... read as written");
	submission_release(&s);
	ok(parse("{\"action\":\"publish\",\"server\":\"k.example\",\"key\":\""
	    KEY "\"}", &s, &e) == 0 && s.naddrs == 0 && s.recovery == NULL,
	    "addresses and recovery are optional");
	submission_release(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(parse(bad[i].json, &s, &e) == -1 && e.code == ERR_INVALID,
		    "refused: %s (%s)", bad[i].why, e.msg);

	/* a recovery blob over 64 KiB */
	n = SUBMISSION_RECOVERY_MAX + 3;
	big = calloc(1, n);
	json = malloc(n * 2 + 200);
	strcpy(json, "{\"action\":\"publish\",\"server\":\"k\",\"key\":\"k\","
	    "\"recovery\":\"");
	sodium_bin2base64(json + strlen(json), n * 2, (unsigned char *)big, n,
	    sodium_base64_VARIANT_ORIGINAL);
	strcat(json, "\"}");
	ok(parse(json, &s, &e) == -1 && e.code == ERR_TOOBIG,
	    "a recovery blob over 64 KiB: ERR_TOOBIG (%s)", e.msg);
	free(big);
	free(json);
	return tap_done();
}
