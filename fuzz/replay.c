/*
 * replay: a main for the fuzz targets without libFuzzer (SQLite's
 * fuzzcheck), so that any compiler builds them and make check runs every
 * committed corpus and crash input through the code under test, under
 * ASan and UBSan in its second pass.  Each argument is a file, or a
 * folder whose files are fed one by one in name order.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* libFuzzer's optional hook: a target without set-up leaves it out. */
#pragma weak LLVMFuzzerInitialize

/* Feed one file to the target; -1 when it cannot be read. */
static int
replay_file(const char *path)
{
	uint8_t *p = NULL;
	size_t len = 0;
	long n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	len = (size_t)n;
	/* a copy of exactly len bytes, so that ASan sees a read past it */
	if ((p = malloc(len ? len : 1)) == NULL ||
	    fread(p, 1, len, f) != len) {
		fprintf(stderr, "replay: short read of %s\n", path);
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(p, len);
	free(p);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed every regular file of dir, in name order; the count, or -1. */
static long
replay_dir(const char *dir)
{
	struct dirent *de;
	struct stat st;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	long done = 0;
	DIR *dh;

	if ((dh = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", dir);
		return -1;
	}
	while ((de = readdir(dh)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((names = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				abort();
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(dh);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) == -1)
				done = -1;
			else if (done >= 0)
				done++;
		}
		free(names[i]);
	}
	free(names);
	return done;
}

int
main(int argc, char **argv)
{
	struct stat st;
	long n, total = 0;
	int i, bad = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			/* a target may have no crash inputs yet */
			continue;
		}
		if (S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0)
			bad = 1;
		else
			total += n;
	}
	printf("%s: %ld inputs replayed\n", argv[0], total);
	return bad;
}
