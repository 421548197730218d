/*
 * mail_smtp: hand one finished message to an SMTP server with libcurl,
 * the only libcurl user in the daemon.  curl does the dialogue, TLS and
 * dot-stuffing; this file only checks the envelope and maps errors,
 * telling a refusal of this message for good from one worth retrying.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "err.h"
#include "mail.h"
#include "str.h"

struct smtp_src {
	const char *p;
	size_t len;
	size_t off;
};

/* The dialogue as far as a failure needs it: the first reply that
 * refused something (4xx, 5xx) and the command it answered. */
struct smtp_talk {
	char cmd[8];		/* the last command sent: "RCPT", "DATA" */
	char failcmd[8];	/* the command refused, "" for the greeting */
	char reply[200];	/* the refusal; "" if none came */
};

/* Set up libcurl (and libsodium) once, before any thread starts. */
int
mail_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	return sodium_init() < 0 ? -1 : 0;
}

/* curl read callback: the next slice of the message. */
static size_t
smtp_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct smtp_src *s = arg;
	size_t n = size * nmemb;

	if (n > s->len - s->off)
		n = s->len - s->off;
	memcpy(dst, s->p + s->off, n);
	s->off += n;
	return n;
}

/* Keep line[0..n) without its line end, control bytes made '?'. */
static void
talk_keep(char *dst, size_t dstsz, const char *line, size_t n)
{
	size_t i;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	if (n >= dstsz)
		n = dstsz - 1;
	for (i = 0; i < n; i++)
		dst[i] = (unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] == 0x7f ? '?' : line[i];
	dst[n] = '\0';
}

/* curl debug callback: note the commands and replies, never the message. */
static int
smtp_debug(CURL *c, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_talk *t = arg;
	const char *last = data;
	size_t i;

	(void)c;
	if (type == CURLINFO_HEADER_OUT) {
		for (i = 0; i < size && i + 1 < sizeof(t->cmd) &&
		    isalpha((unsigned char)data[i]); i++)
			t->cmd[i] = (char)toupper((unsigned char)data[i]);
		t->cmd[i] = '\0';
	} else if (type == CURLINFO_HEADER_IN && t->reply[0] == '\0' &&
	    size > 0 && (data[0] == '4' || data[0] == '5')) {
		/* the first refusal; what curl says after it (QUIT) is not
		 * the answer to the message.  Its last line, if several */
		for (i = 0; i + 1 < size; i++)
			if (data[i] == '\n')
				last = data + i + 1;
		talk_keep(t->reply, sizeof(t->reply), last,
		    size - (size_t)(last - data));
		memcpy(t->failcmd, t->cmd, sizeof(t->failcmd));
	}
	return 0;
}

/*
 * A 5xx reply to RCPT TO or to the message itself refuses this message
 * for good (RFC 5321 4.2.1); a 552 to RCPT is "too many recipients",
 * which 4.5.3.1.10 says to treat as temporary.  A 5xx to anything else
 * (EHLO, AUTH, MAIL FROM) is about our own setup and is retried, as is
 * every 4xx and every connection or TLS failure.
 */
static bool
smtp_refused_for_good(const struct smtp_talk *t)
{
	if (t->reply[0] != '5' || !isdigit((unsigned char)t->reply[1]) ||
	    !isdigit((unsigned char)t->reply[2]))
		return false;
	if (!strcmp(t->failcmd, "RCPT"))
		return strncmp(t->reply, "552", 3) != 0;
	return !strcmp(t->failcmd, "DATA");
}

/* An envelope address goes inside <>: no control bytes, space or <>. */
static int
envelope_ok(const char *a)
{
	return a != NULL && *a != '\0' && strlen(a) <= 254 &&
	    !str_has_ctl(a, strlen(a)) && strpbrk(a, " <>") == NULL;
}

/* Apply the options that depend on the configuration. */
static int
smtp_setup(CURL *c, const struct mail_config *cf, const char *from,
    struct curl_slist *rcpts, struct smtp_src *src)
{
	int rc = CURLE_OK;

	rc |= curl_easy_setopt(c, CURLOPT_URL, cf->smtp_url);
	rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	rc |= curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	rc |= curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	rc |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_READFUNCTION, smtp_read);
	rc |= curl_easy_setopt(c, CURLOPT_READDATA, src);
	rc |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)src->len);
	rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    (long)MAIL_CONNECT_SECS);
	rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MAIL_SEND_SECS);
	rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (cf->smtp_starttls)
		rc |= curl_easy_setopt(c, CURLOPT_USE_SSL,
		    (long)CURLUSESSL_ALL);
	if (cf->smtp_user != NULL && *cf->smtp_user != '\0') {
		rc |= curl_easy_setopt(c, CURLOPT_USERNAME, cf->smtp_user);
		rc |= curl_easy_setopt(c, CURLOPT_PASSWORD,
		    cf->smtp_pass ? cf->smtp_pass : "");
	}
	return rc == CURLE_OK ? 0 : -1;
}

/*
 * Send data to rcpt through cf->smtp_url.  ERR_INVALID when the server
 * refused this message for good (or the envelope is malformed), with the
 * server's reply; ERR_UNAVAIL with curl's words and the reply when trying
 * again later may work.
 */
int
mail_smtp_send(const struct mail_config *cf, const char *rcpt,
    const char *data, size_t len, struct err *e)
{
	char from[260], to[260], ebuf[CURL_ERROR_SIZE];
	struct smtp_src src = { data, len, 0 };
	struct smtp_talk talk = { "", "", "" };
	struct curl_slist *rcpts = NULL;
	CURL *c = NULL;
	CURLcode cc;
	int rc = -1;

	if (cf->smtp_url == NULL || *cf->smtp_url == '\0')
		return err_set(e, ERR_INTERNAL, "no smtp url configured");
	if (!envelope_ok(rcpt) || (cf->mail_from != NULL &&
	    *cf->mail_from != '\0' && !envelope_ok(cf->mail_from)))
		return err_set(e, ERR_INVALID, "malformed envelope address");
	/* an empty sender is the null reverse-path <> */
	snprintf(from, sizeof(from), "<%s>", cf->mail_from ? cf->mail_from :
	    "");
	snprintf(to, sizeof(to), "<%s>", rcpt);
	ebuf[0] = '\0';
	if ((c = curl_easy_init()) == NULL ||
	    (rcpts = curl_slist_append(NULL, to)) == NULL ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, smtp_debug) !=
	    CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_DEBUGDATA, &talk) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L) != CURLE_OK ||
	    smtp_setup(c, cf, from, rcpts, &src) == -1) {
		err_set(e, ERR_INTERNAL, "smtp: cannot set up libcurl");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		if (smtp_refused_for_good(&talk))
			err_set(e, ERR_INVALID, "smtp: refused for good after "
			    "%s: %s", talk.failcmd, talk.reply);
		else if (talk.reply[0] != '\0')
			err_set(e, ERR_UNAVAIL, "smtp: %s (the server said: %s)",
			    ebuf[0] ? ebuf : curl_easy_strerror(cc),
			    talk.reply);
		else
			err_set(e, ERR_UNAVAIL, "smtp: %s",
			    ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(rcpts);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}
