/*
 * upload: POST each line of a file once, as a VKS upload body, with a
 * fixed number of requests in flight (libcurl multi, keep-alive), and
 * report uploads/s and latency.  wrk cannot send 10^4 distinct bodies
 * without reading them in Lua; this can.  Not part of keydird.
 *
 *   upload URL FILE CONC SECS
 *
 * New requests start until the file is used up or SECS have passed;
 * those in flight then finish.  Prints one line of key=value pairs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct slot {
	CURL		*h;
	double		 t0;
	char		 resp[256];	/* start of the answer, for errors */
	size_t		 resplen;
};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keep the first bytes of an answer, drop the rest. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	size_t len = size * n, room = sizeof(s->resp) - 1 - s->resplen;

	if (room > len)
		room = len;
	memcpy(s->resp + s->resplen, p, room);
	s->resplen += room;
	s->resp[s->resplen] = '\0';
	return len;
}

/* Read FILE whole and cut it into lines; returns the line count. */
static size_t
load_lines(const char *path, char ***out)
{
	FILE *f = fopen(path, "rb");
	char *buf, *p, **v;
	long len;
	size_t n = 0, cap = 1024;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
		perror(path);
		exit(1);
	}
	rewind(f);
	if ((buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		exit(1);
	}
	fclose(f);
	buf[len] = '\0';
	v = malloc(cap * sizeof(*v));
	for (p = buf; p && *p; ) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		if (v == NULL) {
			perror("realloc");
			exit(1);
		}
		v[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	*out = v;
	return n;
}

/* Ascending doubles, for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Start line i on slot s. */
static void
start(CURLM *m, struct slot *s, const char *url, const char *body,
    struct curl_slist *hdr)
{
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 30L);
	s->resplen = 0;
	s->t0 = now();
	curl_multi_add_handle(m, s->h);
}

int
main(int argc, char **argv)
{
	struct curl_slist *hdr = NULL;
	struct slot *slots;
	CURLM *m;
	CURLMsg *msg;
	char **lines;
	double *lat, t0, t1, secs;
	size_t nlines, next = 0, done = 0, ok = 0, non2xx = 0, errs = 0;
	long conc, i, code;
	int running = 0, left;

	if (argc != 5) {
		fprintf(stderr, "usage: upload URL FILE CONC SECS\n");
		return 2;
	}
	nlines = load_lines(argv[2], &lines);
	conc = strtol(argv[3], NULL, 10);
	secs = strtod(argv[4], NULL);
	if (conc < 1 || nlines == 0) {
		fprintf(stderr, "upload: nothing to do\n");
		return 2;
	}
	lat = calloc(nlines, sizeof(*lat));
	slots = calloc((size_t)conc, sizeof(*slots));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, conc);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	t0 = now();
	for (i = 0; i < conc && next < nlines; i++) {
		slots[i].h = curl_easy_init();
		start(m, &slots[i], argv[1], lines[next++], hdr);
	}
	do {
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct slot *s = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			lat[done++] = (now() - s->t0) * 1e3;
			code = 0;
			curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
			if (msg->data.result != CURLE_OK) {
				if (errs++ == 0)
					fprintf(stderr, "upload: %s\n",
					    curl_easy_strerror(
					    msg->data.result));
			} else if (code != 200) {
				if (non2xx++ == 0)
					fprintf(stderr, "upload: HTTP %ld: %s\n",
					    code, s->resp);
			} else
				ok++;
			curl_multi_remove_handle(m, s->h);
			if (next < nlines && now() - t0 < secs) {
				start(m, s, argv[1], lines[next++], hdr);
				running = 1;
			}
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running);
	t1 = now();
	qsort(lat, done, sizeof(*lat), cmp_double);
	printf("requests=%zu ok=%zu non2xx=%zu errors=%zu secs=%.2f "
	    "rps=%.0f p50_ms=%.2f p99_ms=%.2f\n", done, ok, non2xx, errs,
	    t1 - t0, (double)ok / (t1 - t0),
	    done ? lat[done / 2] : 0.0,
	    done ? lat[(size_t)((double)(done - 1) * 0.99)] : 0.0);
	for (i = 0; i < conc; i++)
		if (slots[i].h)
			curl_easy_cleanup(slots[i].h);
	curl_multi_cleanup(m);
	curl_slist_free_all(hdr);
	curl_global_cleanup();
	return 0;
}
