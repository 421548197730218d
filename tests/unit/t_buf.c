/*
 * t_buf: the capped buffer, and that a failed append is sticky: nothing
 * after it is appended, so a truncated buffer cannot pass for a whole one.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct buf b;
	char *p;
	size_t n;

	buf_init(&b, 8);
	ok(b.data != NULL && b.len == 0 && b.data[0] == '\0' &&
	    !buf_failed(&b), "an empty buffer is an empty string");
	ok(buf_addstr(&b, "abc") == 0 && buf_printf(&b, "%d", 42) == 0 &&
	    buf_addch(&b, '!') == 0 && strcmp(b.data, "abc42!") == 0,
	    "appends within the cap");
	ok(buf_addstr(&b, "xyz") == -1 && strcmp(b.data, "abc42!") == 0 &&
	    buf_failed(&b), "an append past the cap appends nothing, fails");
	ok(buf_addch(&b, 'x') == -1 && buf_add(&b, "y", 1) == -1 &&
	    buf_printf(&b, "z") == -1 && strcmp(b.data, "abc42!") == 0,
	    "the failure is sticky: a later append that would fit fails too");
	buf_reset(&b);
	ok(!buf_failed(&b) && b.len == 0 && buf_addstr(&b, "12345678") == 0 &&
	    b.len == 8, "reset clears it; exactly the cap fits");
	ok(buf_printf(&b, "%s", "") == 0 && !buf_failed(&b),
	    "an empty append at the cap is not a failure");
	ok(buf_printf(&b, "%d", 1) == -1 && buf_failed(&b),
	    "printf past the cap fails");
	buf_release(&b);
	ok(!buf_failed(&b) && b.len == 0, "release leaves a fresh buffer");
	buf_fail(&b);
	ok(buf_failed(&b) && buf_addstr(&b, "a") == -1,
	    "buf_fail marks a buffer whose part did not fit");
	buf_init(&b, 1024);
	buf_addstr(&b, "whole");
	p = buf_detach(&b, &n);
	ok(strcmp(p, "whole") == 0 && n == 5 && b.len == 0,
	    "detach hands the bytes over");
	free(p);
	buf_release(&b);
	return tap_done();
}
