/*
 * util.c - escaping, clocks, file reading and input checks (see
 * include/util.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/*
 * utf8_len - length of the valid, shortest-form UTF-8 sequence at p
 * (at most n bytes) and its code point in *cp, or 0 when the bytes there
 * are not one: a stray continuation byte, an overlong form, a surrogate,
 * a code point past U+10FFFF or a sequence cut short.
 */
static size_t
utf8_len(const unsigned char *p, size_t n, unsigned long *cp)
{
	unsigned long	 c, min;
	size_t		 len, i;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	if (p[0] < 0xe0) {
		len = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] < 0xf0) {
		len = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else {
		len = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * esc_codepoint - 1 for the code points a terminal must not receive
 * raw: C1 controls, which some terminals obey like ESC sequences, the
 * bidirectional formatting characters, which reorder what is shown
 * (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), and U+FFFE and
 * U+FFFF, which XML 1.0 (the JUnit report) does not allow.
 */
static int
esc_codepoint(unsigned long c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x61c || c == 0x200e ||
	    c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0xfffe || c == 0xffff;
}

char *
util_xtext(const char *s)
{
	struct util_buf	 b = { NULL, 0, 0 };
	const unsigned char *p = (const unsigned char *)s;
	char		 hex[4];

	util_buf_add(&b, "", 0);
	for (; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=') {
			snprintf(hex, sizeof(hex), "+%02X", *p);
			util_buf_str(&b, hex);
		} else
			util_buf_add(&b, (const char *)p, 1);
	}
	return b.p;
}

char *
util_escape(const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	unsigned long		 cp;
	size_t			 i, n;

	/* the common case: printable ASCII, no backslash: a copy */
	for (i = 0; i < len && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\';
	    i++)
		;
	if (i == len) {
		out = xmalloc(len + 1);
		memcpy(out, s, len);
		out[len] = '\0';
		return out;
	}
	/* worst case 4 output bytes per input byte: "\xHH" */
	o = out = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '\\':
			*o++ = '\\';
			*o++ = '\\';
			continue;
		case '\r':
			*o++ = '\\';
			*o++ = 'r';
			continue;
		case '\n':
			*o++ = '\\';
			*o++ = 'n';
			continue;
		case '\t':
			*o++ = '\\';
			*o++ = 't';
			continue;
		}
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			*o++ = (char)p[i];
			continue;
		}
		n = p[i] >= 0x80 ? utf8_len(p + i, len - i, &cp) : 0;
		if (n > 0 && !esc_codepoint(cp)) {
			memcpy(o, p + i, n);
			o += n;
			i += n - 1;
		} else if (n > 0) {
			/* 6 bytes for a sequence of 2 or 3 */
			*o++ = '\\';
			*o++ = 'u';
			*o++ = hex[(cp >> 12) & 0xf];
			*o++ = hex[(cp >> 8) & 0xf];
			*o++ = hex[(cp >> 4) & 0xf];
			*o++ = hex[cp & 0xf];
			i += n - 1;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[p[i] >> 4];
			*o++ = hex[p[i] & 0xf];
		}
	}
	*o = '\0';
	/* kept by records for the session's life: give the worst case's
	   slack back (a reply line is ~4 times smaller than it) */
	if ((size_t)(o - out) + 1 < len * 4 + 1)
		out = xreallocarray(out, (size_t)(o - out) + 1, 1);
	return out;
}

void
util_utf8_trim(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 len = strlen(s), k, need;

	for (k = len; k > 0 && len - k < 4; k--) {
		if ((p[k - 1] & 0xc0) == 0x80)
			continue;		/* a continuation byte */
		if (p[k - 1] < 0xc0)
			return;			/* ASCII: nothing cut */
		need = p[k - 1] >= 0xf0 ? 4 : p[k - 1] >= 0xe0 ? 3 : 2;
		if (len - (k - 1) < need)
			p[k - 1] = '\0';
		return;
	}
}

static int64_t	(*clock_hook)(void);	/* tests: util_set_clock() */

void
util_set_clock(int64_t (*now_us)(void))
{
	clock_hook = now_us;
}

int64_t
util_now_us(void)
{
	struct timespec	 ts;

	if (clock_hook != NULL)
		return clock_hook();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * util_utc_iso - the strftime() part is made once a second: a batch run
 * stamps thousands of records a second with it.
 */
void
util_utc_iso(char *buf, size_t len)
{
	static time_t	 sec = -1;
	static char	 prefix[24];
	struct timespec	 ts;
	struct tm	 tm;
	char		 t[sizeof(prefix) + 8];
	size_t		 n;
	int		 ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(prefix, sizeof(prefix), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = ts.tv_sec;
	}
	/* "PREFIX.mmmZ" without printf (a batch stamps two a session),
	   cut to len as snprintf() would */
	ms = (int)(ts.tv_nsec / 1000000) % 1000;
	n = strlen(prefix);
	memcpy(t, prefix, n);
	t[n] = '.';
	t[n + 1] = (char)('0' + ms / 100);
	t[n + 2] = (char)('0' + ms / 10 % 10);
	t[n + 3] = (char)('0' + ms % 10);
	t[n + 4] = 'Z';
	n += 5;
	if (len == 0)
		return;
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
}

int
util_read_file(const char *path, size_t max, char **buf, size_t *len,
    char *err, size_t errlen)
{
	const char	*name = path != NULL ? path : "standard input";
	size_t		 cap = 65536, off = 0;
	ssize_t		 n;
	char		*p;
	int		 fd;

	*buf = NULL;
	*len = 0;
	if (path == NULL || strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	p = xmalloc(cap);
	for (;;) {
		if (cap - off < 2) {
			cap *= 2;
			p = xreallocarray(p, cap, 1);
		}
		n = read(fd, p + off, cap - off - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			break;
		}
		if (n == 0) {
			if (fd != STDIN_FILENO)
				close(fd);
			p[off] = '\0';
			*buf = p;
			*len = off;
			return 0;
		}
		off += (size_t)n;
		if (max > 0 && off > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", name,
			    max);
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	free(p);
	return -1;
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

/* b64val - the value of a base64 digit, -1 for anything else */
static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *
util_b64_decode(const char *p, size_t n, size_t *outlen, int strict)
{
	char		*o;
	unsigned int	 acc = 0;
	size_t		 i, w = 0, pad = 0;
	int		 v, bits = 0;

	if (strict) {
		/* the alphabet only, in groups of four, "=" only at the end */
		if (n % 4 != 0)
			return NULL;
		if (n > 0 && p[n - 1] == '=')
			pad = n > 1 && p[n - 2] == '=' ? 2 : 1;
		for (i = 0; i < n - pad; i++)
			if (b64val((unsigned char)p[i]) < 0)
				return NULL;
	}
	o = xmalloc(n / 4 * 3 + 4);
	for (i = 0; i < n && p[i] != '='; i++) {
		if ((v = b64val((unsigned char)p[i])) < 0)
			continue;
		acc = ((acc << 6) | (unsigned int)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[w++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (strict && bits >= 6) {
		/* a lone digit in the last group holds no byte */
		free(o);
		return NULL;
	}
	o[w] = '\0';
	*outlen = w;
	return o;
}

uint32_t
util_fnv1a(const char *s)
{
	uint32_t	 h = 2166136261U;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	return h;
}
