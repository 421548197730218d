/*
 * fuzz: what every fuzz target shares.  A target defines
 * LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize when it has set-up to
 * do once); it links either libFuzzer (make fuzz, clang) or replay.c
 * (make fuzz-replay, any compiler), which feeds it the files of a corpus.
 */
#ifndef KEYDIR_FUZZ_H
#define KEYDIR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The entry points libFuzzer calls (and replay.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The input as a NUL-terminated string: the parsers under test read C
 * strings, and an input with a NUL in it is cut there, as the HTTP layer
 * or the caller would.  Free it with free().
 */
char *fuzz_str(const uint8_t *data, size_t size);

/* The whole file fuzz/keys/NAME (the fixtures of fuzz/mkseeds.sh), or
 * exit: a target without its fixture is a broken build.  Free it. */
uint8_t *fuzz_fixture(const char *name, size_t *len);

/* With KEYDIR_FUZZ_VERBOSE set, print what an input came to on stdout
 * (to see that a seed reaches what it was made for). */
void fuzz_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Crash (abort) with msg when cond is false: an invariant of the code
 * under test that a sanitizer would not see broken. */
#define FUZZ_CHECK(cond, msg) fuzz_check((cond), (msg), __FILE__, __LINE__)
void fuzz_check(int cond, const char *msg, const char *file, int line);

#endif
