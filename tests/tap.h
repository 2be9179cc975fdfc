/*
 * tap.h - the smallest TAP producer for the table-driven unit tests.
 * ok() prints one "ok N - name" or "not ok N - name" line; tap_done()
 * prints the plan and returns the exit status (1 if any test failed).
 */
#ifndef SMTPROBE_TAP_H
#define SMTPROBE_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int	tap_n, tap_failed;

static int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list	 ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	return cond;
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
