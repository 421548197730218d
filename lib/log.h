/*
 * log: one line per event on stderr, OpenBSD log.c style.  The x forms
 * leave out strerror(errno).
 */
#ifndef KEYDIR_LOG_H
#define KEYDIR_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void log_fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Quiet drops info lines (tests that want only warnings). */
void log_set_quiet(int quiet);

#endif
