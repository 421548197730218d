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
