/*
 * util.c - escaping, clocks and input checks (see include/util.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

char *
util_escape(const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 i;

	o = out = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '\\':
			*o++ = '\\';
			*o++ = '\\';
			break;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			break;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			break;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f) {
				*o++ = (char)p[i];
			} else {
				*o++ = '\\';
				*o++ = 'x';
				*o++ = hex[p[i] >> 4];
				*o++ = hex[p[i] & 0xf];
			}
		}
	}
	*o = '\0';
	return out;
}

int64_t
util_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
util_utc_iso(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 tmp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", tmp, ts.tv_nsec / 1000000);
}

int
util_check_text(const char *s, int allow_tab, const char **why)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\r') {
			*why = "contains a carriage return (CR)";
			return -1;
		}
		if (*p == '\n') {
			*why = "contains a line feed (LF)";
			return -1;
		}
		if (*p == '\t' && allow_tab)
			continue;
		if (*p < 0x20 || *p == 0x7f) {
			*why = "contains a control character";
			return -1;
		}
	}
	return 0;
}

void
util_buf_add(struct util_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
util_buf_str(struct util_buf *b, const char *s)
{
	util_buf_add(b, s, strlen(s));
}

void
util_list_vaddf(char ***list, size_t *n, const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("out of memory");
	*list = xreallocarray(*list, *n + 1, sizeof(char *));
	(*list)[(*n)++] = s;
}

void
util_list_addf(char ***list, size_t *n, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	util_list_vaddf(list, n, fmt, ap);
	va_end(ap);
}

int
util_field_next(const char **p, const char **f, const char **e)
{
	const char	*s = *p;

	if (s == NULL)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	*f = s;
	while (*s != '\0' && *s != ';')
		s++;
	*e = s;
	while (*e > *f && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
	*p = *s == '\0' ? NULL : s + 1;
	return 1;
}
