/*
 * gen: make benchmark certificates with librnp, fast enough for 10^6.
 * Each cert is an Ed25519 primary (certify, sign) with a Curve25519 ECDH
 * encryption subkey, one user ID "Bench N <bN@bench.example>", no expiry:
 * the kind of key `gpg --quick-gen-key ... future-default` or `sq key
 * generate` makes, at a fraction of their cost.  Not part of keydird.
 *
 *   gen export N FIRST OUT   keydird export body lines (unsorted, no
 *                            header), the address published and verified
 *   gen upload N FIRST OUT   {"keytext":"<armored cert>"} per line: a
 *                            ready VKS upload body
 *
 * One thread per core, one ffi per thread; every key is removed from its
 * ffi once exported, because an ffi slows down as it fills.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <sodium.h>

enum gen_mode { GEN_EXPORT, GEN_UPLOAD };

struct gen {
	enum gen_mode	 mode;
	long		 n;		/* certs to make */
	long		 first;		/* index of the first */
	long		 next;		/* next index to hand out */
	long		 done;
	FILE		*out;
	pthread_mutex_t	 lock;
};

/* Growable string for one output line. */
struct line {
	char	*p;
	size_t	 len, cap;
};

/* Append n bytes to l. */
static void
line_add(struct line *l, const char *s, size_t n)
{
	if (l->len + n + 1 > l->cap) {
		while (l->len + n + 1 > l->cap)
			l->cap = l->cap ? l->cap * 2 : 4096;
		if ((l->p = realloc(l->p, l->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
	l->p[l->len] = '\0';
}

/* Append a C string. */
static void
line_puts(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

/* Append s as the inside of a JSON string (armor has only CR, LF). */
static void
line_json(struct line *l, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			line_add(l, "\\n", 2);
		else if (s[i] == '\r')
			line_add(l, "\\r", 2);
		else if (s[i] == '"' || s[i] == '\\') {
			line_add(l, "\\", 1);
			line_add(l, s + i, 1);
		} else
			line_add(l, s + i, 1);
	}
}

/* Die with the failing rnp call. */
static void
ck(rnp_result_t rc, const char *what)
{
	if (rc != RNP_SUCCESS) {
		fprintf(stderr, "gen: %s: %s\n", what,
		    rnp_result_to_string(rc));
		exit(1);
	}
}

/* Export k (primary and subkeys, public only) to memory; caller frees. */
static uint8_t *
export_key(rnp_key_handle_t k, bool armored, size_t *len)
{
	rnp_output_t out = NULL;
	uint8_t *buf = NULL, *copy;
	uint32_t flags = RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_SUBKEYS;

	if (armored)
		flags |= RNP_KEY_EXPORT_ARMORED;
	ck(rnp_output_to_memory(&out, 0), "output");
	ck(rnp_key_export(k, out, flags), "export");
	ck(rnp_output_memory_get_buf(out, &buf, len, false), "get_buf");
	if ((copy = malloc(*len + 1)) == NULL) {
		perror("malloc");
		exit(1);
	}
	memcpy(copy, buf, *len);
	copy[*len] = 0;
	rnp_output_destroy(out);
	return copy;
}

/* One export-format line for key k with address addr. */
static void
format_export(struct line *l, rnp_key_handle_t k, const char *fpr,
    const char *addr)
{
	size_t len, b64len;
	uint8_t *bin = export_key(k, false, &len);
	uint32_t created = 0;
	char *b64, num[32];

	ck(rnp_key_get_creation(k, &created), "creation");
	b64len = sodium_base64_encoded_len(len,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL) {
		perror("malloc");
		exit(1);
	}
	sodium_bin2base64(b64, b64len, bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(num, sizeof(num), "%lu", (unsigned long)created);
	line_puts(l, "{\"fpr\":\"");
	line_puts(l, fpr);
	line_puts(l, "\",\"first_stored\":");
	line_puts(l, num);
	line_puts(l, ",\"had_address\":true,\"full\":\"");
	line_puts(l, b64);
	line_puts(l, "\",\"addresses\":[{\"address\":\"");
	line_puts(l, addr);
	line_puts(l, "\",\"published\":");
	line_puts(l, num);
	line_puts(l, ",\"verified\":");
	line_puts(l, num);
	line_puts(l, ",\"asked\":0}]}\n");
	free(b64);
	free(bin);
}

/* One VKS upload body for key k. */
static void
format_upload(struct line *l, rnp_key_handle_t k)
{
	size_t len;
	uint8_t *arm = export_key(k, true, &len);

	line_puts(l, "{\"keytext\":\"");
	line_json(l, (const char *)arm, len);
	line_puts(l, "\"}\n");
	free(arm);
}

/* Generate cert number i in ffi and append its line to l. */
static void
gen_one(rnp_ffi_t ffi, enum gen_mode mode, long i, struct line *l)
{
	char json[512], addr[64], *res = NULL, *grip, *fpr = NULL;
	rnp_key_handle_t k = NULL;

	snprintf(addr, sizeof(addr), "b%ld@bench.example", i);
	snprintf(json, sizeof(json),
	    "{\"primary\":{\"type\":\"EDDSA\","
	    "\"usage\":[\"certify\",\"sign\"],\"expiration\":0,"
	    "\"userid\":\"Bench %ld <%s>\"},"
	    "\"sub\":{\"type\":\"ECDH\",\"curve\":\"Curve25519\","
	    "\"usage\":[\"encrypt\"],\"expiration\":0}}", i, addr);
	ck(rnp_generate_key_json(ffi, json, &res), "generate");
	/* {"primary":{"grip":"..."},...}: the first grip is the primary's */
	if ((grip = strstr(res, "\"grip\":\"")) == NULL) {
		fprintf(stderr, "gen: no grip in %s\n", res);
		exit(1);
	}
	grip += 8;
	*strchr(grip, '"') = '\0';
	ck(rnp_locate_key(ffi, "grip", grip, &k), "locate");
	ck(rnp_key_get_fprint(k, &fpr), "fprint");
	if (mode == GEN_EXPORT)
		format_export(l, k, fpr, addr);
	else
		format_upload(l, k);
	ck(rnp_key_remove(k, RNP_KEY_REMOVE_PUBLIC | RNP_KEY_REMOVE_SECRET |
	    RNP_KEY_REMOVE_SUBKEYS), "remove");
	rnp_key_handle_destroy(k);
	rnp_buffer_destroy(fpr);
	rnp_buffer_destroy(res);
}

/* Worker: take indices until none are left, write lines in batches. */
static void *
gen_thread(void *arg)
{
	struct gen *g = arg;
	struct line l = { NULL, 0, 0 };
	rnp_ffi_t ffi = NULL;
	long i, batch, j;

	ck(rnp_ffi_create(&ffi, "GPG", "GPG"), "ffi");
	for (;;) {
		pthread_mutex_lock(&g->lock);
		i = g->next;
		batch = g->first + g->n - i < 64 ? g->first + g->n - i : 64;
		g->next += batch;
		pthread_mutex_unlock(&g->lock);
		if (batch <= 0)
			break;
		l.len = 0;
		for (j = 0; j < batch; j++)
			gen_one(ffi, g->mode, i + j, &l);
		pthread_mutex_lock(&g->lock);
		if (fwrite(l.p, 1, l.len, g->out) != l.len) {
			perror("gen: write");
			exit(1);
		}
		g->done += batch;
		if (g->done % 10000 < batch)
			fprintf(stderr, "gen: %ld/%ld\n", g->done, g->n);
		pthread_mutex_unlock(&g->lock);
	}
	rnp_ffi_destroy(ffi);
	free(l.p);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct gen g;
	pthread_t *tid;
	struct timespec t0, t1;
	long nthr, i;
	double secs;

	if (argc != 5 || (strcmp(argv[1], "export") &&
	    strcmp(argv[1], "upload"))) {
		fprintf(stderr, "usage: gen export|upload N FIRST OUT\n");
		return 2;
	}
	memset(&g, 0, sizeof(g));
	g.mode = strcmp(argv[1], "export") ? GEN_UPLOAD : GEN_EXPORT;
	g.n = strtol(argv[2], NULL, 10);
	g.first = g.next = strtol(argv[3], NULL, 10);
	if ((g.out = fopen(argv[4], "w")) == NULL) {
		perror(argv[4]);
		return 1;
	}
	pthread_mutex_init(&g.lock, NULL);
	nthr = sysconf(_SC_NPROCESSORS_ONLN);
	if (nthr < 1)
		nthr = 1;
	if ((tid = calloc((size_t)nthr, sizeof(*tid))) == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthr; i++)
		pthread_create(&tid[i], NULL, gen_thread, &g);
	for (i = 0; i < nthr; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (fclose(g.out) != 0) {
		perror(argv[4]);
		return 1;
	}
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "gen: %ld certs in %.1f s on %ld threads: "
	    "%.0f certs/s\n", g.n, secs, nthr, (double)g.n / secs);
	free(tid);
	return 0;
}
