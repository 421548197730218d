/*
 * t_removal: the removal statement parser and its checks, table-driven.
 */
#include <stdlib.h>
#include <string.h>

#include "removal.h"
#include "tap.h"

#define FPR "0123456789ABCDEF0123456789ABCDEF01234567"
#define NOW 1795906000	/* 2026-11-28T22:46:40Z */
#define NOWS "2026-11-28T22:46:40Z"

static const char good[] =
    "keydir-request: remove\n"
    "server: keys.example.org:8080\n"
    "fingerprint: " FPR "\n"
    "addresses: all\n"
    "nonce: 0123456789abcdef\n"
    "date: " NOWS "\n";

struct bad {
	const char *text;
	const char *msg;	/* a part of the error message */
};

static const struct bad bads[] = {
	{ "keydir-request: add\n", "only 'remove'" },
	{ "keydir-request: remove\nkeydir-request: remove\n", "twice" },
	{ "colour: blue\n", "unknown field" },
	{ "no colon here\n", "name: value" },
	{ "keydir-request: remove\nserver: s\nfingerprint: 0123\n",
	    "40 hex" },
	{ "keydir-request: remove\nserver: s\nfingerprint: " FPR "\n"
	    "addresses: all\nnonce: short\n", "nonce" },
	{ "keydir-request: remove\nserver: s\nfingerprint: " FPR "\n"
	    "addresses: all\nnonce: has a space in it ok\n", "nonce" },
	{ "keydir-request: remove\nserver: s\nfingerprint: " FPR "\n"
	    "addresses: all\nnonce: 0123456789abcdef\ndate: yesterday\n",
	    "RFC 3339" },
	{ "keydir-request: remove\nserver: s\nfingerprint: " FPR "\n"
	    "addresses: all\nnonce: 0123456789abcdef\n"
	    "date: 2026-11-28T22:46:40+01:00\n", "RFC 3339" },
	{ "keydir-request: remove\nserver: s\nfingerprint: " FPR "\n"
	    "addresses: not an address\n", "malformed" },
	{ "keydir-request: remove\nserver: s\nfingerprint: " FPR "\n"
	    "addresses: all\nnonce: 0123456789abcdef\n", "'date' is missing" },
	{ "", "missing" },
};

int
main(void)
{
	struct removal r;
	struct err e;
	char auth[256];
	size_t i;
	char *t;

	ok(removal_parse(good, &r, &e) == 0, "good statement parses");
	is_str(r.fpr, FPR, "fingerprint");
	is_str(r.server, "keys.example.org:8080", "server");
	ok(r.all && r.naddrs == 0, "addresses: all");
	is_str(r.nonce, "0123456789abcdef", "nonce");
	ok(r.date == NOW, "date");
	ok(removal_check(&r, "keys.example.org:8080", NOW, &e) == 0,
	    "check passes at the signing time");
	ok(removal_check(&r, "keys.example.org:8080", NOW + 900, &e) == 0,
	    "check passes 15 minutes later");
	ok(removal_check(&r, "keys.example.org:8080", NOW + 901, &e) == -1 &&
	    strstr(e.msg, "stale") != NULL, "16 minutes later is stale");
	ok(removal_check(&r, "keys.example.org:8080", NOW - 901, &e) == -1,
	    "a date in the future is refused");
	ok(removal_check(&r, "keys.example.org", NOW, &e) == -1 &&
	    strstr(e.msg, "wrong server") != NULL, "another authority");
	removal_release(&r);

	t = strdup("keydir-request: remove\r\n\r\nserver: s\r\n"
	    "fingerprint: 0123456789abcdef0123456789abcdef01234567\r\n"
	    "addresses: Alice@Example.org, bob@example.org\r\n"
	    "nonce:   0123456789abcdef  \r\ndate: " NOWS "\r\n");
	ok(removal_parse(t, &r, &e) == 0, "CRLF, blank lines, a list: %s",
	    e.msg);
	ok(!r.all && r.naddrs == 2, "two addresses");
	if (r.naddrs == 2) {
		is_str(r.addrs[0], "alice@example.org", "first normalised");
		is_str(r.addrs[1], "bob@example.org", "second");
	}
	is_str(r.fpr, FPR, "fingerprint upper-cased");
	is_str(r.nonce, "0123456789abcdef", "nonce trimmed");
	removal_release(&r);
	free(t);

	t = strdup("keydir-request: remove\nserver: s\nfingerprint: " FPR
	    "\naddresses: a@example.org, A@Example.org\n"
	    "nonce: 0123456789abcdef\ndate: " NOWS "\n");
	ok(removal_parse(t, &r, &e) == 0 && r.naddrs == 1,
	    "an address named twice counts once");
	removal_release(&r);
	free(t);

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		err_clear(&e);
		ok(removal_parse(bads[i].text, &r, &e) == -1 &&
		    e.code == ERR_INVALID && strstr(e.msg, bads[i].msg),
		    "refused (%s): %s", bads[i].msg, e.msg);
	}
	ok(removal_authority("https://keys.example.org/x", auth,
	    sizeof(auth)) == 0 && !strcmp(auth, "keys.example.org"),
	    "authority of an https URL");
	ok(removal_authority("http://127.0.0.1:8080", auth,
	    sizeof(auth)) == 0 && !strcmp(auth, "127.0.0.1:8080"),
	    "authority with a port");
	ok(removal_authority("nothing", auth, sizeof(auth)) == -1,
	    "no scheme");
	return tap_done();
}
