/*
 * jsonw.c - a fast JSON writer for jansson trees, and the arena the
 * trees are built in (include/jsonw.h).
 *
 * A batch record is a jansson tree (report_json_doc() gives the
 * session), but jansson's own dump costs more than the SMTP session it
 * describes: for every object and array it formats the pointer with
 * snprintf("%p") and hashes it to find cycles, and snprintf() is slow
 * for reals. So the tree is written by jw_value(), byte for byte what
 * json_dumps() gives with JW_FLAGS: keys in insertion order, only '"',
 * '\\' and control characters escaped ("\u%04X" for those without a
 * short form), reals as jansson's jsonp_dtostr() writes them with
 * JSON_REAL_PRECISION(JW_PRECISION) (the precision of the probe's own
 * JSON). tests/unit/t_batch.c compares the two.
 *
 * While a record is built, jansson allocates from an arena (jw_malloc)
 * that is reset once the record is written: a session's tree is a few
 * hundred small blocks, and a malloc and a free for each cost as much
 * again. Outside a record (input lines, --resume, the metadata) jansson
 * uses malloc; jw_free tells the two apart by address.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"
#include "log.h"
#include "util.h"

#define JW_CHUNK	(64 * 1024)

/*
 * Eight bytes at a time (a record is mostly plain ASCII): JW_ZERO(w)
 * is nonzero when a byte of w is 0, JW_LESS(w, n) when a byte is below
 * n (n <= 128); either may also flag a byte after a flagged one, so a
 * flagged word is looked at byte by byte.
 */
#define JW_ONES		0x0101010101010101ULL
#define JW_HIGH		0x8080808080808080ULL
#define JW_ZERO(w)	(((w) - JW_ONES) & ~(w) & JW_HIGH)
#define JW_LESS(w, n)	(((w) - JW_ONES * (n)) & ~(w) & JW_HIGH)

/* jw_word - 8 bytes at p, unaligned */
static inline uint64_t
jw_word(const unsigned char *p)
{
	uint64_t	 w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Memory of one record's JSON tree (jw_malloc): chunks, newest first. */
struct jw_chunk {
	struct jw_chunk	*next;
	size_t		 size;
	size_t		 off;
	max_align_t	 data[];
};

static struct {
	struct jw_chunk	*head;
	int		 on;
} jw_arena;

static int	 jw_digits(double, char *);

/* jw_malloc - jansson's allocator: the arena inside a record */
void *
jw_malloc(size_t n)
{
	struct jw_chunk	*c = jw_arena.head;
	size_t		 size;
	void		*p;

	if (!jw_arena.on)
		return malloc(n);
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->off < n) {
		size = n > JW_CHUNK ? n : JW_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->off = 0;
		c->next = jw_arena.head;
		jw_arena.head = c;
	}
	p = (char *)c->data + c->off;
	c->off += n;
	return p;
}

/* jw_free - memory of the arena goes back all at once, not here */
void
jw_free(void *p)
{
	struct jw_chunk	*c;
	uintptr_t	 a = (uintptr_t)p;

	for (c = jw_arena.head; c != NULL; c = c->next)
		if (a >= (uintptr_t)c->data && a < (uintptr_t)c->data +
		    c->size)
			return;
	free(p);
}

/* jw_arena_begin - a record is being built: allocate from the arena */
void
jw_arena_begin(void)
{
	jw_arena.on = 1;
}

/* jw_arena_end - the record is freed: keep one chunk for the next */
void
jw_arena_end(void)
{
	struct jw_chunk	*c = jw_arena.head, *next;

	jw_arena.on = 0;
	if (c == NULL)
		return;
	while ((next = c->next) != NULL) {
		c->next = next->next;
		free(next);
	}
	c->off = 0;
}

/* jw_need - room for n more bytes in o */
void
jw_need(struct jw_buf *o, size_t n)
{
	if (o->cap - o->len >= n)
		return;
	while (o->cap - o->len < n)
		o->cap = o->cap == 0 ? 8192 : o->cap * 2;
	o->p = xreallocarray(o->p, o->cap, 1);
}

/* jw_str - a JSON string: '"', '\\' and controls escaped */
void
jw_str(struct jw_buf *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	static unsigned char esc[256];	/* 1: must be escaped */
	const unsigned char *p = (const unsigned char *)s;
	size_t		 i, run;
	char		*d;

	if (!esc[0]) {
		for (i = 0; i < 0x20; i++)
			esc[i] = 1;
		esc['"'] = esc['\\'] = 1;
	}
	jw_need(o, len * 6 + 2);
	d = o->p + o->len;
	*d++ = '"';
	for (i = 0; i < len; i++) {
		for (run = i; len - run >= 8; run += 8) {
			uint64_t w = jw_word(p + run);

			if (JW_LESS(w, 0x20) | JW_ZERO(w ^ (JW_ONES * '"')) |
			    JW_ZERO(w ^ (JW_ONES * '\\')))
				break;
		}
		for (; run < len && !esc[p[run]]; run++)
			;
		memcpy(d, p + i, run - i);
		d += run - i;
		if ((i = run) == len)
			break;
		*d++ = '\\';
		switch (p[i]) {
		case '"':
		case '\\':
			*d++ = (char)p[i];
			break;
		case '\b':
			*d++ = 'b';
			break;
		case '\f':
			*d++ = 'f';
			break;
		case '\n':
			*d++ = 'n';
			break;
		case '\r':
			*d++ = 'r';
			break;
		case '\t':
			*d++ = 't';
			break;
		default:
			memcpy(d, "u00", 3);
			d[3] = hex[p[i] >> 4];
			d[4] = hex[p[i] & 15];
			d += 5;
			break;
		}
	}
	*d++ = '"';
	o->len = (size_t)(d - o->p);
}

/*
 * jw_digits - printf's "%.12g" (JW_PRECISION digits) of v for
 * 1e-5 <= |v| < 1e12, computed exactly with integers: v = m * 2^e, its
 * digits are m * 10^k / 2^-e rounded half to even, as glibc rounds. -1
 * outside that range (the caller then uses snprintf()).
 */
static int
jw_digits(double v, char *out)
{
	unsigned __int128 num, q = 0, r, half;
	const uint64_t	 lo = 100000000000ULL;	/* 10^(JW_PRECISION-1) */
	uint64_t	 m, d;
	char		 dig[JW_PRECISION], *o = out;
	int		 e, x, k, s, i, nd, tries;

	if (!isfinite(v) || v == 0)
		return -1;
	if (v < 0) {
		*o++ = '-';
		v = -v;
	}
	if (v < 1e-5 || v >= 1e12)
		return -1;
	m = (uint64_t)ldexp(frexp(v, &e), 53);
	/* 2^(e-1) <= v < 2^e: a first guess at floor(log10(v)) */
	x = (e - 1) * 78913;		/* log10(2) * 2^18 */
	x = x >= 0 ? x >> 18 : -((-x + (1 << 18) - 1) >> 18);
	e -= 53;
	for (tries = 0; ; tries++) {
		k = JW_PRECISION - 1 - x;
		if (tries > 3 || k < 0 || k > 22)
			return -1;
		for (num = m, i = 0; i < k; i++)
			num *= 10;
		if (e >= 0)
			q = num << e;
		else {
			if ((s = -e) >= 127)
				return -1;
			q = num >> s;
			r = num & (((unsigned __int128)1 << s) - 1);
			half = (unsigned __int128)1 << (s - 1);
			if (r > half || (r == half && (q & 1) != 0))
				q++;
		}
		if (q >= (unsigned __int128)lo * 10)
			x++;
		else if (q < lo)
			x--;
		else
			break;
	}
	if (x >= JW_PRECISION)		/* rounded up to 10^12: "%e" form */
		return -1;
	for (d = (uint64_t)q, i = JW_PRECISION - 1; i >= 0; i--) {
		dig[i] = (char)('0' + (int)(d % 10));
		d /= 10;
	}
	for (nd = JW_PRECISION; nd > 1 && dig[nd - 1] == '0'; nd--)
		;
	if (x < -4) {
		/* exponential: d.ddde-XX */
		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		snprintf(o, 8, "e-%02d", -x);
		return 0;
	}
	if (x >= 0) {
		memcpy(o, dig, (size_t)x + 1);
		o += x + 1;
		if (nd > x + 1) {
			*o++ = '.';
			memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
			o += nd - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (i = -1; i > x; i--)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	}
	*o = '\0';
	return 0;
}

/*
 * jw_real - as jansson writes a real: "%.12g", then ".0" when
 * neither '.' nor 'e' shows, and the exponent without '+' or leading
 * zeros
 */
void
jw_real(struct jw_buf *o, double v)
{
	char	 buf[64], *e, *d;
	size_t	 n;

	if (jw_digits(v, buf) == -1)
		snprintf(buf, sizeof(buf), "%.*g", JW_PRECISION, v);
	n = strlen(buf);
	if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(buf, 'e')) != NULL) {
		e++;
		d = e + 1;
		if (*e == '-')
			e++;
		while (*d == '0')
			d++;
		if (d != e) {
			memmove(e, d, strlen(d) + 1);
			n = strlen(buf);
		}
	}
	jw_need(o, n);
	memcpy(o->p + o->len, buf, n);
	o->len += n;
}

/* jw_value - v in jansson's compact form, appended to o */
void
jw_value(struct jw_buf *o, json_t *v)
{
	const char	*key, *p;
	json_t		*e;
	size_t		 i, n;
	char		 num[32], *d;
	json_int_t	 iv;
	unsigned long long u;
	int		 first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jw_need(o, 1);
		o->p[o->len++] = '{';
		json_object_foreach(v, key, e) {
			if (!first) {
				jw_need(o, 1);
				o->p[o->len++] = ',';
			}
			first = 0;
			jw_str(o, key, strlen(key));
			jw_need(o, 1);
			o->p[o->len++] = ':';
			jw_value(o, e);
		}
		jw_need(o, 1);
		o->p[o->len++] = '}';
		return;
	case JSON_ARRAY:
		jw_need(o, 1);
		o->p[o->len++] = '[';
		json_array_foreach(v, i, e) {
			if (i > 0) {
				jw_need(o, 1);
				o->p[o->len++] = ',';
			}
			jw_value(o, e);
		}
		jw_need(o, 1);
		o->p[o->len++] = ']';
		return;
	case JSON_STRING:
		jw_str(o, json_string_value(v), json_string_length(v));
		return;
	case JSON_REAL:
		jw_real(o, json_real_value(v));
		return;
	case JSON_INTEGER:
		iv = json_integer_value(v);
		u = iv < 0 ? 0ULL - (unsigned long long)iv :
		    (unsigned long long)iv;
		d = num + sizeof(num);
		do {
			*--d = (char)('0' + (int)(u % 10));
			u /= 10;
		} while (u > 0);
		if (iv < 0)
			*--d = '-';
		p = d;
		n = (size_t)(num + sizeof(num) - d);
		break;
	case JSON_TRUE:
		p = "true";
		n = 4;
		break;
	case JSON_FALSE:
		p = "false";
		n = 5;
		break;
	default:
		p = "null";
		n = 4;
		break;
	}
	jw_need(o, n);
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/* jw_install - jansson allocates through the arena from now on */
void
jw_install(void)
{
	json_set_alloc_funcs(jw_malloc, jw_free);
}

/* jw_arena_release - the arena's last chunk too (end of the program) */
void
jw_arena_release(void)
{
	jw_arena_end();
	free(jw_arena.head);
	jw_arena.head = NULL;
}

json_t *
jw_string(const char *s)
{
	json_t	*j;
	char	*esc;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	/* not valid UTF-8 after all: escape again rather than drop it */
	esc = util_escape(s, strlen(s));
	j = json_string(esc);
	free(esc);
	return j != NULL ? j : json_null();
}

/* jw_raw - n bytes as they are */
void
jw_raw(struct jw_buf *o, const char *s, size_t n)
{
	jw_need(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* jw_int - an integer, as jansson writes it */
void
jw_int(struct jw_buf *o, long long v)
{
	char			 num[24], *d = num + sizeof(num);
	unsigned long long	 u;

	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--d = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--d = '-';
	jw_raw(o, d, (size_t)(num + sizeof(num) - d));
}

/*
 * jw_cent - n / 100 as jw_real() writes it: n / 100.0 has at most 12
 * significant digits below 10^12, so "%.12g" gives its decimals
 * exactly, trailing zeros cut, and jansson adds ".0" to a whole number
 */
void
jw_cent(struct jw_buf *o, int64_t n)
{
	char	 d[3];
	int	 r;

	if (n < 0 || n >= 1000000000000LL) {
		jw_real(o, (double)n / 100.0);
		return;
	}
	jw_int(o, n / 100);
	r = (int)(n % 100);
	d[0] = '.';
	d[1] = (char)('0' + r / 10);
	d[2] = (char)('0' + r % 10);
	jw_raw(o, d, r % 10 != 0 ? 3 : 2);
}

/*
 * jw_utf8 - 1 when s is UTF-8 as jansson accepts it: no stray
 * continuation byte, no overlong form, no surrogate, nothing above
 * U+10FFFF
 */
int
jw_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	unsigned	 c, v, n, i;

	while (p < end) {
		c = *p;
		if (c < 0x80) {
			p++;
			while (end - p >= 8 && !(jw_word(p) & JW_HIGH))
				p += 8;
			continue;
		}
		if (c < 0xC2 || c > 0xF4)
			return 0;
		n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if ((size_t)(end - p) < n)
			return 0;
		v = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			v = (v << 6) | (p[i] & 0x3F);
		}
		if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ||
		    (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
			return 0;
		p += n;
	}
	return 1;
}

/* jw_text - s as jw_value(jw_string(s)) writes it */
void
jw_text(struct jw_buf *o, const char *s)
{
	char	*esc;
	size_t	 n;

	if (s == NULL) {
		JW_LIT(o, "null");
		return;
	}
	n = strlen(s);
	if (jw_utf8(s, n)) {
		jw_str(o, s, n);
		return;
	}
	esc = util_escape(s, n);
	n = strlen(esc);
	if (jw_utf8(esc, n))
		jw_str(o, esc, n);
	else
		JW_LIT(o, "null");
	free(esc);
}
