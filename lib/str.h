/*
 * str: small string helpers glibc lacks or gets wrong for us: strlcpy,
 * hex, percent-decoding that keeps '+' literal (what gpg sends), and a
 * constant-time comparison.
 */
#ifndef KEYDIR_STR_H
#define KEYDIR_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OpenBSD strlcpy: copies at most sz-1 bytes, always NUL-terminates
 * (if sz > 0); returns strlen(src). */
size_t str_lcpy(char *dst, const char *src, size_t sz);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void str_hex(const uint8_t *p, size_t n, char *out);
/* Upper-case an ASCII string in place. */
void str_upper(char *s);
/* Lower-case an ASCII string in place. */
void str_lower(char *s);
/* True when s is exactly n hex digits. */
bool str_is_hex(const char *s, size_t n);
/*
 * Percent-decode the first n bytes of in into a new NUL-terminated string
 * (caller frees).  '+' stays '+'.  Returns NULL on a bad %XX escape or on a
 * decoded NUL byte.
 */
char *str_pct_decode(const char *in, size_t n);
/*
 * Percent-decode for application/x-www-form-urlencoded bodies, where '+'
 * means space.  Same contract as str_pct_decode.
 */
char *str_form_decode(const char *in, size_t n);
/* Constant-time equality of two n-byte ranges. */
bool str_ct_equal(const void *a, const void *b, size_t n);
/* The offset of the first control character in s[0..n): a byte < 0x20
 * (NUL, CR and LF included), DEL, or a C1 control in UTF-8 (0xC2 0x80 to
 * 0xC2 0x9F); n when there is none. */
size_t str_ctl_at(const char *s, size_t n);
/* True if s[0..n) has a control character (str_ctl_at). */
bool str_has_ctl(const char *s, size_t n);

/* Strict RFC 3339 UTC time ("2026-01-31T12:00:00Z") to unix time; -1
 * when malformed. */
int64_t str_rfc3339(const char *s);

#endif
