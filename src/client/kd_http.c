/*
 * kd_http: the client's HTTP, through libcurl: one easy handle per
 * request, answers capped at KEY_MAX, timeouts so a dead server does not
 * hang the user.
 */
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "client.h"
#include "str.h"

struct hdr {
	const char *name;
	char *val;
	size_t sz;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_add(b, p, sz * n) == 0 ? sz * n : 0;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct hdr *h = arg;
	size_t len = sz * n, nl = h->name ? strlen(h->name) : 0;

	if (h->name && len > nl + 1 && p[nl] == ':' &&
	    strncasecmp(p, h->name, nl) == 0) {
		p += nl + 1;
		len -= nl + 1;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
			len--;
		if (len < h->sz) {
			memcpy(h->val, p, len);
			h->val[len] = '\0';
		}
	}
	return sz * n;
}

static int
run(CURL *c, const char *url, struct buf *body, long *status,
    struct hdr *h, struct err *e)
{
	CURLcode rc;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "keydir/" KEYDIR_VERSION);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		curl_easy_cleanup(c);
		return err_set(e, ERR_UNAVAIL, "%s: %s", url,
		    curl_easy_strerror(rc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (buf_failed(body))
		return err_set(e, ERR_TOOBIG, "%s: the answer is too large",
		    url);
	return 0;
}

int
kd_get(const char *url, struct buf *body, long *status, const char *hname,
    char *hval, size_t hsz, struct err *e)
{
	struct hdr h = { hname, hval, hsz };
	CURL *c;

	if (hval != NULL && hsz > 0)
		hval[0] = '\0';
	if ((c = curl_easy_init()) == NULL)
		return err_set(e, ERR_INTERNAL, "libcurl failed to start");
	return run(c, url, body, status, &h, e);
}

int
kd_post(const char *url, const char *ctype, const void *data, size_t len,
    struct buf *body, long *status, struct err *e)
{
	struct hdr h = { NULL, NULL, 0 };
	struct curl_slist *hl = NULL;
	char line[128];
	CURL *c;
	int rc;

	if ((c = curl_easy_init()) == NULL)
		return err_set(e, ERR_INTERNAL, "libcurl failed to start");
	snprintf(line, sizeof(line), "Content-Type: %s", ctype);
	hl = curl_slist_append(hl, line);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = run(c, url, body, status, &h, e);
	curl_slist_free_all(hl);
	return rc;
}
