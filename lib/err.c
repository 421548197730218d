/*
 * err: setting and mapping struct err.
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

/* Set e to code and message; returns -1 so callers can "return err_set(...)". */
int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Clear e. */
void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->msg[0] = '\0';
}

/* The one table from error codes to HTTP statuses. */
int
err_http_status(enum err_code code)
{
	switch (code) {
	case ERR_OK:
		return 200;
	case ERR_INVALID:
		return 400;
	case ERR_FORBIDDEN:
		return 403;
	case ERR_NOTFOUND:
		return 404;
	case ERR_CONFLICT:
		return 409;
	case ERR_GONE:
		return 410;
	case ERR_TOOBIG:
		return 413;
	case ERR_UNSUPPORTED:
		return 415;
	case ERR_RATE:
		return 429;
	case ERR_UNAVAIL:
		return 503;
	case ERR_INTERNAL:
		break;
	}
	return 500;
}
