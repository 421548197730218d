/*
 * fuzz_http: any request, through the routes and every handler, on a
 * directory with one published key (fuzz_daemon.h).  The input is
 *
 *   METHOD TARGET\n  CONTENT-TYPE\n  IF-NONE-MATCH\n  BODY
 *
 * (an empty header line: no such header), so paths (fingerprints, key
 * ids, addresses, link tokens), query strings and bodies of every
 * endpoint are reached.  The answer keeps the rules of fuzz_request.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_daemon.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_daemon_init();
	return 0;
}

/* The next line of *p (cut at '\n', which is skipped), NULL at the end. */
static char *
line(char **p, char *end)
{
	char *s = *p, *nl;

	if (s >= end)
		return NULL;
	if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL) {
		*p = end;
		return s;
	}
	*nl = '\0';
	*p = nl + 1;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_str(data, size), *p = in, *end = in + size;
	char *req, *ct, *inm, *uri;
	enum http_method m = HTTP_OTHER;
	struct daemon *d;

	if ((req = line(&p, end)) == NULL || (uri = strchr(req, ' ')) == NULL)
		goto out;
	*uri++ = '\0';
	if (!strcmp(req, "GET"))
		m = HTTP_GET;
	else if (!strcmp(req, "HEAD"))
		m = HTTP_HEAD;
	else if (!strcmp(req, "POST"))
		m = HTTP_POST;
	/* libmicrohttpd hands on only a target that is a path */
	if (uri[0] != '/')
		goto out;
	ct = line(&p, end);
	inm = line(&p, end);
	d = fuzz_daemon_fresh();
	fuzz_request(d, m, uri, ct && *ct ? ct : NULL, inm && *inm ? inm :
	    NULL, p, (size_t)(end - p));
	fuzz_daemon_done();
out:
	free(in);
	return 0;
}
