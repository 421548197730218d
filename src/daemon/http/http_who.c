/*
 * http_who: who a request is from.  A client is an IPv4 address or an
 * IPv6 /64; behind a trusted proxy, the address its header names.  And
 * how many connections each client has open, so one cannot take them all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "http_int.h"
#include "log.h"
#include "str.h"
#include "xmalloc.h"

/*
 * The client key of an address: an IPv4 address as is, an IPv6 one cut
 * to its /64 (one subscriber's whole allocation, as keys.openpgp.org and
 * most rate limiters count), an IPv4-mapped one as its IPv4 address.
 */
static void
key_of(const struct in6_addr *a6, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];
	struct in6_addr p = *a6;

	out[0] = '\0';
	if (IN6_IS_ADDR_V4MAPPED(&p)) {
		if (inet_ntop(AF_INET, &p.s6_addr[12], a, sizeof(a)))
			str_lcpy(out, a, outlen);
		return;
	}
	memset(&p.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &p, a, sizeof(a)))
		snprintf(out, outlen, "%s/64", a);
}

/* sa as an IPv6 address (IPv4 mapped); false for another family. */
static bool
as_in6(const struct sockaddr *sa, struct in6_addr *out)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return true;
	}
	if (sa->sa_family != AF_INET)
		return false;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12],
	    &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	return true;
}

void
http_client_key(const struct sockaddr *sa, char *out, size_t outlen)
{
	struct in6_addr a;

	if (as_in6(sa, &a))
		key_of(&a, out, outlen);
	else
		out[0] = '\0';
}

/* One address as a proxy header or the config writes it: "192.0.2.1",
 * "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:443". */
static bool
parse_addr(const char *s, size_t n, struct in6_addr *out)
{
	char b[INET6_ADDRSTRLEN + 8];
	const char *colon;
	struct in_addr a4;

	if (n == 0 || n >= sizeof(b))
		return false;
	memcpy(b, s, n);
	b[n] = '\0';
	if (b[0] == '[') {
		char *end = strchr(b, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		*end = '\0';
		return inet_pton(AF_INET6, b + 1, out) == 1;
	}
	if (inet_pton(AF_INET6, b, out) == 1)
		return true;
	/* IPv4, maybe with a port */
	if ((colon = strchr(b, ':')) != NULL)
		b[colon - b] = '\0';
	if (inet_pton(AF_INET, b, &a4) != 1)
		return false;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &a4, 4);
	return true;
}

static bool
is_proxy(const struct who *w, const struct in6_addr *a)
{
	size_t i;

	for (i = 0; i < w->nproxy; i++)
		if (!memcmp(&w->proxy[i], a, sizeof(*a)))
			return true;
	return false;
}

int
who_init(struct who *w, const struct config *c, struct err *e)
{
	const char *p = c->trusted_proxies;
	size_t n;

	memset(w, 0, sizeof(*w));
	str_lcpy(w->header, c->proxy_header, sizeof(w->header));
	while (*p) {
		n = strcspn(p, ", ");
		if (n > 0) {
			if (w->nproxy == WHO_PROXIES)
				return err_set(e, ERR_INVALID, "trusted_proxies:"
				    " at most %d addresses", WHO_PROXIES);
			if (!parse_addr(p, n, &w->proxy[w->nproxy++]))
				return err_set(e, ERR_INVALID, "bad address "
				    "'%.*s' in trusted_proxies", (int)n, p);
		}
		p += n;
		p += strspn(p, ", ");
	}
	/* behind a proxy every connection comes from it: the buckets, not
	 * this cap, count its clients */
	w->cap = c->rate_limits && w->nproxy == 0 ? c->max_client_conns : 0;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->dog_cv, NULL);
	if (w->cap)
		w->slot = xcalloc(WHO_SLOTS, sizeof(*w->slot));
	w->header_ms = c->header_timeout * 1000;
	return 0;
}

void
who_free(struct who *w)
{
	pthread_cond_destroy(&w->dog_cv);
	pthread_mutex_destroy(&w->mu);
	free(w->slot);
	w->slot = NULL;
}

/* The last value of header name among the request's headers: a header
 * given on several lines is one list, the last line the proxy's. */
struct last_value {
	const char *name, *value;
};

static enum MHD_Result
last_value_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct last_value *lv = cls;

	(void)kind;
	if (key && value && !strcasecmp(key, lv->name))
		lv->value = value;
	return MHD_YES;
}

/*
 * Through a trusted proxy, the client is the rightmost address of its
 * header that is not itself a trusted proxy (as nginx's real_ip_recursive):
 * the addresses left of it are the client's own to write.  A header that
 * cannot be read makes one client of everyone it comes with, apart from
 * the proxy's own requests.
 */
void
who_client(const struct who *w, struct MHD_Connection *conn, struct req *r)
{
	const union MHD_ConnectionInfo *ci;
	struct last_value lv = { w->header, NULL };
	struct in6_addr a, peer;
	const char *p;
	size_t start, end, n;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || !as_in6(ci->client_addr, &peer)) {
		r->client[0] = '\0';
		return;
	}
	key_of(&peer, r->client, sizeof(r->client));
	if (w->nproxy == 0 || !is_proxy(w, &peer))
		return;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, last_value_cb, &lv);
	if (lv.value == NULL)
		return;
	/* the elements from the right */
	for (end = strlen(lv.value); end > 0; end = start ? start - 1 : 0) {
		for (start = end; start > 0 && lv.value[start - 1] != ',';
		    start--)
			;
		p = lv.value + start;
		n = end - start;
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (!parse_addr(p, n, &a)) {
			str_lcpy(r->client, "unreadable-forwarded-for",
			    sizeof(r->client));
			return;
		}
		key_of(&a, r->client, sizeof(r->client));
		if (!is_proxy(w, &a))
			return;
	}
}

/* The slot of client in w's table, or the free one where it would go. */
static struct who_slot *
who_find(struct who *w, const char *client)
{
	uint32_t h = 2166136261u;
	const char *s;
	size_t i;

	for (s = client; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	for (i = h % WHO_SLOTS;; i = (i + 1) % WHO_SLOTS)
		if (w->slot[i].client[0] == '\0' ||
		    !strcmp(w->slot[i].client, client))
			return &w->slot[i];
}

/* Empty slot s, moving back the entries that probed past it. */
static void
who_remove(struct who *w, struct who_slot *s)
{
	size_t i = (size_t)(s - w->slot), j = i, k;
	uint32_t h;
	const char *c;

	for (;;) {
		w->slot[i].client[0] = '\0';
		w->slot[i].n = 0;
		for (;;) {
			j = (j + 1) % WHO_SLOTS;
			if (w->slot[j].client[0] == '\0')
				return;
			for (h = 2166136261u, c = w->slot[j].client; *c; c++)
				h = (h ^ (unsigned char)*c) * 16777619u;
			k = h % WHO_SLOTS;
			/* j stays unless its home k is cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			w->slot[i] = w->slot[j];
			i = j;
			break;
		}
	}
}

enum MHD_Result
who_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	struct who *w = cls;
	char client[REQ_CLIENT_MAX];
	bool ok;

	(void)len;
	if (w->cap == 0)
		return MHD_YES;
	http_client_key(sa, client, sizeof(client));
	if (client[0] == '\0')
		return MHD_YES;
	pthread_mutex_lock(&w->mu);
	ok = who_find(w, client)->n < w->cap;
	pthread_mutex_unlock(&w->mu);
	if (!ok)
		log_info("http: %s has %u connections open: refused", client,
		    w->cap);
	return ok ? MHD_YES : MHD_NO;
}

void
who_notify(void *cls, struct MHD_Connection *conn, void **sock_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct who *w = cls;
	const union MHD_ConnectionInfo *ci;
	struct who_slot *s;
	struct who_conn *wc = *sock_ctx;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		wc = xcalloc(1, sizeof(*wc));
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		http_client_key(ci ? ci->client_addr : NULL, wc->client,
		    sizeof(wc->client));
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		wc->fd = ci ? ci->connect_fd : -1;
		wc->waiting = true;
		wc->phase_ms = http_now_ms();
		*sock_ctx = wc;
		pthread_mutex_lock(&w->mu);
		if ((wc->next = w->conns) != NULL)
			wc->next->prev = wc;
		w->conns = wc;
		if (w->cap && wc->client[0] != '\0') {
			s = who_find(w, wc->client);
			str_lcpy(s->client, wc->client, sizeof(s->client));
			s->n++;
		}
		pthread_mutex_unlock(&w->mu);
		return;
	}
	if (wc == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	if (wc->prev)
		wc->prev->next = wc->next;
	else
		w->conns = wc->next;
	if (wc->next)
		wc->next->prev = wc->prev;
	if (w->cap && wc->client[0] != '\0') {
		s = who_find(w, wc->client);
		if (s->client[0] != '\0' && --s->n == 0)
			who_remove(w, s);
	}
	pthread_mutex_unlock(&w->mu);
	free(wc);
	*sock_ctx = NULL;
}

void
who_headers(struct who *w, struct MHD_Connection *conn, bool done)
{
	const union MHD_ConnectionInfo *ci;
	struct who_conn *wc;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (wc = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	wc->waiting = !done;
	wc->phase_ms = http_now_ms();
	pthread_mutex_unlock(&w->mu);
}

/*
 * The watchdog: twice a second, shut down the socket of each connection
 * still waiting for a request's headers after header_timeout (sent
 * slowly or not at all: slowloris).  libmicrohttpd then sees it closed
 * and cleans up as for any client that went away; it closes the
 * descriptor only after telling who_notify, which takes the connection
 * off the list under the same lock, so a descriptor shut down here is
 * never one already reused.
 */
static void *
who_dog(void *arg)
{
	struct who *w = arg;
	struct who_conn *wc;
	struct timespec ts;
	int64_t now;
	unsigned n;

	pthread_mutex_lock(&w->mu);
	while (!w->dog_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->dog_cv, &w->mu, &ts);
		now = http_now_ms();
		for (n = 0, wc = w->conns; wc; wc = wc->next)
			if (wc->waiting && wc->fd != -1 &&
			    now - wc->phase_ms > w->header_ms) {
				shutdown(wc->fd, SHUT_RDWR);
				wc->waiting = false;
				n++;
			}
		if (n)
			log_info("http: %u connection%s closed: no request "
			    "within header_timeout", n, n == 1 ? "" : "s");
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void
who_watch(struct who *w)
{
	if (w->header_ms <= 0)
		return;
	if (pthread_create(&w->dog, NULL, who_dog, w) != 0)
		log_fatalx("cannot start the connection watchdog");
	w->dog_on = true;
}

void
who_unwatch(struct who *w)
{
	if (!w->dog_on)
		return;
	pthread_mutex_lock(&w->mu);
	w->dog_stop = true;
	pthread_cond_signal(&w->dog_cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->dog, NULL);
	w->dog_on = false;
}
