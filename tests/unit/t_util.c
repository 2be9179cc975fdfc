/*
 * t_util.c - the terminal escaper, table-driven: each case gives the
 * raw bytes (with their length, since NUL is a case) and the exact
 * escaped text. Every result must also be valid UTF-8 and hold no C0,
 * DEL, C1 or bidi control, whatever went in. Then util_utf8_trim(),
 * which mends what a byte-count truncation of such text leaves.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "util.h"
#include "fuzz/fuzz.h"
#include "tap.h"

struct ecase {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*want;
};

#define E(name, in, want)	{ name, in, sizeof(in) - 1, want }

static const struct ecase cases[] = {
	E("printable ASCII", "250 mx.test ESMTP", "250 mx.test ESMTP"),
	E("empty", "", ""),
	E("backslash doubled", "a\\b", "a\\\\b"),
	E("CR LF TAB", "a\r\n\tb", "a\\r\\n\\tb"),
	E("NUL", "a\0b", "a\\x00b"),
	E("ESC CSI", "\x1b[31mred", "\\x1b[31mred"),
	E("OSC title with BEL", "\x1b]0;title\x07", "\\x1b]0;title\\x07"),
	E("DEL", "a\x7f", "a\\x7f"),
	E("C1 NEL U+0085", "a\xc2\x85z", "a\\u0085z"),
	E("C1 CSI U+009B", "\xc2\x9b" "31m", "\\u009b31m"),
	E("C1 first U+0080", "\xc2\x80", "\\u0080"),
	E("after C1 U+00A0 kept", "\xc2\xa0", "\xc2\xa0"),
	E("RLO U+202E", "moc.\xe2\x80\xae" "evil", "moc.\\u202eevil"),
	E("LRE U+202A", "\xe2\x80\xaa", "\\u202a"),
	E("LRI..PDI U+2066-2069", "\xe2\x81\xa6\xe2\x81\xa9",
	    "\\u2066\\u2069"),
	E("LRM RLM ALM", "\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c",
	    "\\u200e\\u200f\\u061c"),
	E("U+FFFE U+FFFF (not XML)", "\xef\xbf\xbe\xef\xbf\xbf",
	    "\\ufffe\\uffff"),
	E("U+FFFD kept", "\xef\xbf\xbd", "\xef\xbf\xbd"),
	E("U+2065 kept (not bidi)", "\xe2\x81\xa5", "\xe2\x81\xa5"),
	E("U+202F kept", "\xe2\x80\xaf", "\xe2\x80\xaf"),
	E("valid UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7"),
	E("lone lead byte", "caf\xc3\x28", "caf\\xc3("),
	E("lead byte at end", "a\xc3", "a\\xc3"),
	E("stray continuation", "\x80\xbf", "\\x80\\xbf"),
	E("overlong slash", "\xc0\xaf", "\\xc0\\xaf"),
	E("overlong 3-byte", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"),
	E("surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80"),
	E("past U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"),
	E("F5..FF", "\xf5\xff\xfe", "\\xf5\\xff\\xfe"),
	E("truncated 4-byte", "\xf0\x9f\x93", "\\xf0\\x9f\\x93"),
	E("C1 as Latin-1 byte", "a\x85z", "a\\x85z"),
	E("looks like an escape", "\\x1b", "\\\\x1b"),
};

struct tcase {
	const char	*in;
	const char	*want;
};

static const struct tcase trims[] = {
	{ "abc", "abc" },
	{ "", "" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "caf\xc3", "caf" },
	{ "x\xe2\x82", "x" },
	{ "x\xe2", "x" },
	{ "x\xe2\x82\xac", "x\xe2\x82\xac" },
	{ "x\xf0\x9f\x93", "x" },
	{ "x\xf0\x9f\x93\xa7", "x\xf0\x9f\x93\xa7" },
	{ "\\xc3", "\\xc3" },
};

/* the one base64 decoder: strict (AUTH) and lenient (MIME) */
static void
test_b64(void)
{
	static const struct {
		const char	*in;
		int		 strict;
		const char	*want;	/* NULL: refused */
	} c[] = {
		{ "", 1, "" },
		{ "YWxpY2U=", 1, "alice" },
		{ "YWxpY2Vz", 1, "alices" },
		{ "YWxpY2VzMQ==", 1, "alices1" },
		{ "YWxp Y2U=", 1, NULL },	/* a blank */
		{ "YWxpY2U", 1, NULL },		/* not a group of four */
		{ "YW=pY2U=", 1, NULL },	/* "=" inside */
		{ "Y===", 1, NULL },		/* three "=" */
		{ "YWxp\r\nY2U=", 0, "alice" },	/* MIME: line breaks */
		{ "YW!xpY2U=", 0, "alice" },	/* junk skipped */
	};
	size_t	 i, n;
	char	*out;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char	*label = util_escape(c[i].in, strlen(c[i].in));

		out = util_b64_decode(c[i].in, strlen(c[i].in), &n,
		    c[i].strict);
		if (c[i].want == NULL)
			ok(out == NULL, "b64 %s \"%s\" refused",
			    c[i].strict ? "strict" : "lenient", label);
		else
			ok(out != NULL && n == strlen(c[i].want) &&
			    strcmp(out, c[i].want) == 0, "b64 %s \"%s\" is "
			    "\"%s\"", c[i].strict ? "strict" : "lenient",
			    label, c[i].want);
		free(out);
		free(label);
	}
}

/* test_read_file - the one whole-file reader: contents, NUL, limit, errors */
static void
test_read_file(void)
{
	char	 path[] = "/tmp/t_util.XXXXXX", err[256], *buf = NULL;
	size_t	 len = 0;
	int	 fd;

	if ((fd = mkstemp(path)) == -1 || write(fd, "ab\0cd\n", 6) != 6) {
		ok(0, "read_file: temporary file");
		return;
	}
	close(fd);
	ok(util_read_file(path, 0, &buf, &len, err, sizeof(err)) == 0 &&
	    len == 6 && memcmp(buf, "ab\0cd\n", 7) == 0,
	    "read_file: whole file, NUL byte kept, NUL added");
	free(buf);
	buf = NULL;
	ok(util_read_file(path, 6, &buf, &len, err, sizeof(err)) == 0 &&
	    len == 6, "read_file: exactly the limit is read");
	free(buf);
	buf = NULL;
	ok(util_read_file(path, 5, &buf, &len, err, sizeof(err)) == -1 &&
	    buf == NULL && strstr(err, "larger than 5 bytes") != NULL,
	    "read_file: over the limit refused (%s)", err);
	unlink(path);
	ok(util_read_file(path, 0, &buf, &len, err, sizeof(err)) == -1 &&
	    strstr(err, path) != NULL && strstr(err, "No such file") != NULL,
	    "read_file: missing file named in the error (%s)", err);
}

/*
 * t_addr_text - io_addr_text() gives what inet_ntop() and snprintf()
 * give ("A.B.C.D:PORT", "[V6]:PORT"), cut to the buffer as snprintf()
 */
static void
t_addr_text(void)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	char			 a[INET6_ADDRSTRLEN], want[80], got[80];
	unsigned		 x = 12345;
	size_t			 cut;
	int			 i, k, bad = 0;

	for (i = 0; i < 20000; i++) {
		memset(&s4, 0, sizeof(s4));
		memset(&s6, 0, sizeof(s6));
		s4.sin_family = AF_INET;
		s6.sin6_family = AF_INET6;
		for (k = 0; k < 16; k++) {
			x = x * 1103515245 + 12345;
			/* zeros often, for the "::" forms */
			s6.sin6_addr.s6_addr[k] = (x >> 16) % 3 == 0 ? 0 :
			    (unsigned char)(x >> 8);
		}
		memcpy(&s4.sin_addr, s6.sin6_addr.s6_addr + 3, 4);
		if (i % 7 == 0)
			memset(&s4.sin_addr, i % 2 ? 0xff : 0, 4);
		s4.sin_port = htons((unsigned short)(i * 7));
		s6.sin6_port = htons((unsigned short)(i * 13));
		cut = i % 5 == 0 ? (size_t)(i / 5) % 48 + 1 : sizeof(got);
		inet_ntop(AF_INET, &s4.sin_addr, a, sizeof(a));
		snprintf(want, cut, "%s:%u", a, ntohs(s4.sin_port));
		io_addr_text((struct sockaddr *)&s4, got, cut);
		bad += strcmp(want, got) != 0;
		inet_ntop(AF_INET6, &s6.sin6_addr, a, sizeof(a));
		snprintf(want, cut, "[%s]:%u", a, ntohs(s6.sin6_port));
		io_addr_text((struct sockaddr *)&s6, got, cut);
		if (strcmp(want, got) != 0 && bad++ < 3)
			printf("# want %s got %s\n", want, got);
	}
	ok(bad == 0, "io_addr_text: 20,000 IPv4 and IPv6 addresses as "
	    "inet_ntop and snprintf write them, also cut short");
}

int
main(void)
{
	unsigned char	 all[256 * 3];
	char		*s;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = util_escape(cases[i].in, cases[i].len);
		ok(strcmp(s, cases[i].want) == 0, "%s (got \"%s\")",
		    cases[i].name, s);
		ok(fuzz_printable(s), "%s: result is clean UTF-8", cases[i].name);
		free(s);
	}
	/* every byte value, alone and as a would-be lead byte */
	for (i = 0; i < 256; i++) {
		all[i * 3] = (unsigned char)i;
		all[i * 3 + 1] = 0x80 | (i & 0x3f);
		all[i * 3 + 2] = 0x85;
	}
	s = util_escape((const char *)all, sizeof(all));
	ok(fuzz_printable(s), "every byte value: result is clean UTF-8");
	free(s);
	for (i = 0; i < sizeof(trims) / sizeof(trims[0]); i++) {
		char	 buf[32];

		snprintf(buf, sizeof(buf), "%s", trims[i].in);
		util_utf8_trim(buf);
		ok(strcmp(buf, trims[i].want) == 0, "trim %zu", i);
	}
	test_b64();
	test_read_file();
	t_addr_text();
	return tap_done();
}
