/*
 * rnpbench: the ceiling for uploads.  librnp alone imports and validates
 * the same armored certs the upload test sends, one fresh ffi per cert
 * (as keydird's pgp.c does), one thread per core, no HTTP and no
 * database.  Same work as the probe's bench.c import_validate.
 *
 *   rnpbench FILE SECS     FILE: {"keytext":"..."} lines (gen upload)
 *
 * Prints one line of key=value pairs.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

struct cert {
	char	*p;
	size_t	 len;
};

struct run {
	struct cert	*certs;
	size_t		 n;
	size_t		 next;
	size_t		 done, bad;
	double		 stop;
	pthread_mutex_t	 lock;
};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Turn a {"keytext":"..."} line into the armored text, in place. */
static struct cert
unjson(char *line)
{
	struct cert c = { NULL, 0 };
	char *s = strstr(line, "\"keytext\":\""), *d;

	if (s == NULL)
		return c;
	c.p = d = s + 11;
	for (s = c.p; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*d++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
		} else
			*d++ = *s;
	}
	*d = '\0';
	c.len = (size_t)(d - c.p);
	return c;
}

/* Read FILE and decode every line. */
static size_t
load(const char *path, struct cert **out)
{
	FILE *f = fopen(path, "rb");
	char *line = NULL;
	size_t cap = 0, n = 0, vcap = 1024;
	struct cert *v = malloc(vcap * sizeof(*v));

	if (f == NULL || v == NULL) {
		perror(path);
		exit(1);
	}
	while (getline(&line, &cap, f) > 0) {
		if (n == vcap && (v = realloc(v, (vcap *= 2) *
		    sizeof(*v))) == NULL) {
			perror("realloc");
			exit(1);
		}
		v[n] = unjson(line);
		if (v[n].p != NULL) {
			line = NULL;	/* v[n] points into it */
			cap = 0;
			n++;
		}
	}
	free(line);
	fclose(f);
	*out = v;
	return n;
}

/* Import c into a fresh ffi and check the primary and its user IDs. */
static bool
import_validate(const struct cert *c)
{
	rnp_ffi_t ffi = NULL;
	rnp_input_t in = NULL;
	rnp_key_handle_t k = NULL;
	char *json = NULL, fpr[41] = { 0 }, *p;
	size_t nsec = 0, nuid = 0, i;
	bool valid = false, revoked = true, ok = false;

	if (rnp_ffi_create(&ffi, "GPG", "GPG") != RNP_SUCCESS)
		return false;
	if (rnp_input_from_memory(&in, (const uint8_t *)c->p, c->len,
	    false) != RNP_SUCCESS || rnp_import_keys(ffi, in,
	    RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SECRET_KEYS,
	    &json) != RNP_SUCCESS)
		goto out;
	rnp_get_secret_key_count(ffi, &nsec);
	/* the report lists the primary first */
	if ((p = strstr(json, "\"fingerprint\":\"")) == NULL)
		goto out;
	memcpy(fpr, p + 15, 40);
	if (rnp_locate_key(ffi, "fingerprint", fpr, &k) != RNP_SUCCESS ||
	    k == NULL)
		goto out;
	rnp_key_is_valid(k, &valid);
	rnp_key_is_revoked(k, &revoked);
	rnp_key_get_uid_count(k, &nuid);
	ok = valid && !revoked && nsec == 0;
	for (i = 0; i < nuid; i++) {
		rnp_uid_handle_t u = NULL;
		bool uv = false;

		if (rnp_key_get_uid_handle_at(k, i, &u) == RNP_SUCCESS) {
			rnp_uid_is_valid(u, &uv);
			rnp_uid_handle_destroy(u);
		}
		ok = ok && uv;
	}
out:
	rnp_key_handle_destroy(k);
	rnp_buffer_destroy(json);
	rnp_input_destroy(in);
	rnp_ffi_destroy(ffi);
	return ok;
}

/* Worker: take certs until the file or the time runs out. */
static void *
worker(void *arg)
{
	struct run *r = arg;
	size_t i, done = 0, bad = 0;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		i = r->next < r->n && now() < r->stop ? r->next++ : r->n;
		pthread_mutex_unlock(&r->lock);
		if (i == r->n)
			break;
		if (import_validate(&r->certs[i]))
			done++;
		else
			bad++;
	}
	pthread_mutex_lock(&r->lock);
	r->done += done;
	r->bad += bad;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct run r;
	pthread_t tid[64];
	long nthr, i;
	double t0, t1;

	if (argc != 3) {
		fprintf(stderr, "usage: rnpbench FILE SECS\n");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.n = load(argv[1], &r.certs);
	pthread_mutex_init(&r.lock, NULL);
	nthr = sysconf(_SC_NPROCESSORS_ONLN);
	if (nthr < 1)
		nthr = 1;
	if (nthr > 64)
		nthr = 64;
	t0 = now();
	r.stop = t0 + strtod(argv[2], NULL);
	for (i = 0; i < nthr; i++)
		pthread_create(&tid[i], NULL, worker, &r);
	for (i = 0; i < nthr; i++)
		pthread_join(tid[i], NULL);
	t1 = now();
	printf("threads=%ld certs=%zu invalid=%zu secs=%.2f ops=%.0f "
	    "us_per_op=%.1f\n", nthr, r.done, r.bad, t1 - t0,
	    (double)r.done / (t1 - t0),
	    r.done ? (t1 - t0) * 1e6 * (double)nthr / (double)r.done : 0.0);
	return r.bad ? 1 : 0;
}
