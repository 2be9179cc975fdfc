/*
 * t_msg.c - message wire form (CRLF, dot-stuffing, final dot), the
 * checks that refuse CR, LF and NUL in addresses and headers, and the
 * MIME structure of built messages: charset and transfer encoding,
 * quoted-printable, multipart boundaries, base64 attachments that
 * decode to their bytes, the EICAR and GTUBE payloads, lines of CRLF
 * and at most 998 octets.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "tap.h"
#include "valid.h"

static const struct {
	const char	*name;
	const char	*in;
	size_t		 inlen;		/* 0: strlen */
	const char	*out;		/* NULL: refused */
} wires[] = {
	{ "LF to CRLF", "a\nb\n", 0, "a\r\nb\r\n.\r\n" },
	{ "CRLF kept", "a\r\nb\r\n", 0, "a\r\nb\r\n.\r\n" },
	{ "lone CR to CRLF", "a\rb", 0, "a\r\nb\r\n.\r\n" },
	{ "missing final newline", "abc", 0, "abc\r\n.\r\n" },
	{ "dot-stuffing", ".\n..x\n.y\nz.\n", 0,
	    "..\r\n...x\r\n..y\r\nz.\r\n.\r\n" },
	{ "dot after CRLF", "a\r\n.\r\n", 0, "a\r\n..\r\n.\r\n" },
	{ "smuggling bytes neutralised", "x\n.\r\nMAIL FROM:<a>\r\n", 0,
	    "x\r\n..\r\nMAIL FROM:<a>\r\n.\r\n" },
	{ "LF dot LF", "x\n.\nRCPT", 0, "x\r\n..\r\nRCPT\r\n.\r\n" },
	{ "empty", "", 0, ".\r\n" },
	{ "NUL refused", "a\0b", 3, NULL },
};

static const struct {
	const char	*in;
	int		 null_ok;
	const char	*out;		/* NULL: refused */
} addrs[] = {
	{ "user@example.org", 0, "user@example.org" },
	{ "<user@example.org>", 0, "user@example.org" },
	{ "", 1, "" },
	{ "<>", 1, "" },
	{ "", 0, NULL },
	{ "<>", 0, NULL },
	{ "postmaster", 0, "postmaster" },
	{ "\"john doe\"@example.org", 0, "\"john doe\"@example.org" },
	{ "a@b\r\nRCPT TO:<x@y>", 0, NULL },
	{ "a@b\nDATA", 0, NULL },
	{ "a@b\r", 0, NULL },
	{ "a@b\tc", 0, NULL },
	{ "a b@c", 0, NULL },
	{ "a@b> SIZE=1", 0, NULL },
	{ "a<b@c", 0, NULL },
};

static const struct {
	const char	*in;
	int		 good;
} headers[] = {
	{ "X-Test: yes", 1 },
	{ "Subject: tab\tinside", 1 },
	{ "X-Test:", 1 },
	{ "X-Test: a\r\nBcc: victim@x", 0 },
	{ "X-Test: a\nb", 0 },
	{ "No colon here", 0 },
	{ ": empty name", 0 },
	{ "Bad Name: x", 0 },
};

/* lines_ok - every line ends in CRLF and has at most max octets */
static int
lines_ok(const char *s, size_t n, size_t max)
{
	size_t	 i, col = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
			continue;
		}
		if (s[i] == '\n' || ++col > max)
			return 0;
	}
	return col == 0;
}

/* b64_value - the 6-bit value of c, or -1 */
static int
b64_value(int c)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(al, c);

	return c != '\0' && p != NULL ? (int)(p - al) : -1;
}

/* b64_decode - base64 from s up to the first blank line; caller frees */
static char *
b64_decode(const char *s, size_t *len)
{
	char		*out = malloc(strlen(s));
	unsigned long	 v = 0;
	int		 bits = 0, d;

	*len = 0;
	for (; *s != '\0' && strncmp(s, "\r\n\r\n", 4) != 0; s++) {
		if ((d = b64_value((unsigned char)*s)) < 0)
			continue;
		v = (v << 6) | (unsigned long)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[(*len)++] = (char)((v >> bits) & 0xff);
		}
	}
	return out;
}

/* count - occurrences of needle in s */
static int
count(const char *s, const char *needle)
{
	int	 n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static void
test_mime(void)
{
	const char *to[] = { "b@example.org" };
	static const char bin[] = "\x00\x01\xff\xfeGIF89a\r\n.\n";
	struct msg_attach att[] = {
		{ "data.bin", NULL, bin, sizeof(bin) - 1 },
		{ "r\xc3\xa9sum\xc3\xa9 \"1\".pdf", NULL, "%PDF", 4 },
	};
	struct msg_mime	 mime = { 0 };
	struct msg_params p = { .from = "a@example.org", .to = to, .nto = 1,
	    .domain = "probe.example", .version = "9.9" };
	char		 err[256], *out, *b, *dec, longbody[3000];
	const char	*pdf;
	size_t		 outlen, declen;

	/* ASCII: us-ascii, no transfer encoding */
	p.body = "hello\n";
	p.bodylen = 6;
	ok(msg_build(&p, &out, &outlen, err, sizeof(err)) == 0 &&
	    strstr(out, "charset=us-ascii\r\n") != NULL &&
	    strstr(out, "Content-Transfer-Encoding") == NULL,
	    "ASCII body: us-ascii, 7bit");
	free(out);

	/* 8-bit to a server with 8BITMIME: utf-8, 8bit, bytes as they are */
	p.body = "Gr\xc3\xbc\xc3\x9f" "e =x\n";
	p.bodylen = strlen(p.body);
	p.eightbit = 1;
	ok(msg_build(&p, &out, &outlen, err, sizeof(err)) == 0 &&
	    strstr(out, "Content-Type: text/plain; charset=utf-8\r\n") !=
	    NULL && strstr(out, "Content-Transfer-Encoding: 8bit\r\n") !=
	    NULL && strstr(out, "\r\nGr\xc3\xbc\xc3\x9f" "e =x\r\n") != NULL,
	    "8-bit body with 8BITMIME: charset=utf-8, 8bit");
	free(out);

	/* without: quoted-printable, "=" and 8-bit bytes encoded */
	p.eightbit = 0;
	ok(msg_build(&p, &out, &outlen, err, sizeof(err)) == 0 &&
	    strstr(out, "charset=utf-8\r\n") != NULL &&
	    strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n") !=
	    NULL && strstr(out, "\r\nGr=C3=BC=C3=9Fe =3Dx\r\n") != NULL &&
	    strstr(out, "\xc3") == NULL,
	    "8-bit body without 8BITMIME: quoted-printable, no 8-bit byte");
	free(out);

	/* a line over 998 octets: quoted-printable, soft breaks */
	memset(longbody, 'a', sizeof(longbody) - 2);
	longbody[sizeof(longbody) - 2] = ' ';
	longbody[sizeof(longbody) - 1] = '\n';
	p.body = longbody;
	p.bodylen = sizeof(longbody);
	p.eightbit = 1;
	ok(msg_build(&p, &out, &outlen, err, sizeof(err)) == 0 &&
	    strstr(out, "quoted-printable") != NULL &&
	    strstr(out, "charset=us-ascii") != NULL &&
	    strstr(out, "=20\r\n") != NULL && lines_ok(out, outlen, 76 + 200),
	    "a 2999-octet line goes quoted-printable in short lines, "
	    "trailing blank encoded");
	free(out);

	/* HTML and attachments: multipart/mixed around an alternative */
	p.body = "text \xc3\xa9\n";
	p.bodylen = strlen(p.body);
	p.eightbit = 0;
	mime.html = "<p>\xc3\xa9</p>\n";
	mime.htmllen = strlen(mime.html);
	mime.att = att;
	mime.natt = 2;
	mime.eicar = 1;
	mime.gtube = 1;
	p.mime = &mime;
	ok(msg_build(&p, &out, &outlen, err, sizeof(err)) == 0,
	    "multipart message builds");
	ok(lines_ok(out, outlen, 998), "every line CRLF, at most 998 octets");
	ok(strstr(out, "Content-Type: multipart/mixed;\r\n boundary=\"=_") !=
	    NULL && count(out, "multipart/alternative;") == 1,
	    "multipart/mixed with one multipart/alternative inside");
	b = strstr(out, "boundary=\"") + 10;
	{
		char	 bnd[80], open[90], close[90];
		size_t	 bl = strcspn(b, "\"");

		snprintf(bnd, sizeof(bnd), "%.*s", (int)bl, b);
		snprintf(open, sizeof(open), "\r\n--%s\r\n", bnd);
		snprintf(close, sizeof(close), "\r\n--%s--\r\n", bnd);
		ok(count(out, open) == 4 && count(out, close) == 1,
		    "outer boundary: 4 parts (text, 2 files, EICAR), closed "
		    "once");
	}
	ok(count(out, "Content-Transfer-Encoding: quoted-printable") == 2 &&
	    strstr(out, "text/html; charset=utf-8") != NULL,
	    "text and HTML quoted-printable without 8BITMIME");
	ok(strstr(out, "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-"
	    "TEST-EMAIL*C.34X\r\n") != NULL, "GTUBE in the text body");
	b = strstr(out, "filename=\"data.bin\"\r\n\r\n");
	ok(b != NULL && strstr(out, "Content-Type: application/octet-stream"
	    "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: "
	    "attachment; filename=\"data.bin\"") != NULL,
	    "attachment headers: type, base64, disposition");
	if (b != NULL) {
		dec = b64_decode(b + 23, &declen);
		ok(declen == sizeof(bin) - 1 && memcmp(dec, bin, declen) == 0,
		    "the attachment decodes to its bytes (NUL, 8-bit, CR LF)");
		free(dec);
	} else
		ok(0, "the attachment decodes to its bytes");
	pdf = strstr(out, "filename*=utf-8''r%C3%A9sum%C3%A9%20%221%22.pdf");
	ok(pdf != NULL && strstr(out, "Content-Type: application/pdf") != NULL,
	    "non-ASCII file name in RFC 2231 form, type from the extension");
	b = strstr(out, "filename=\"eicar.com\"\r\n\r\n");
	if (b != NULL) {
		dec = b64_decode(b + 24, &declen);
		ok(declen == 68 && memcmp(dec, msg_eicar(), 68) == 0 &&
		    memcmp(dec, "X5O!P%@AP[4\\PZX54", 17) == 0,
		    "EICAR attachment: the 68-byte test file");
		free(dec);
	} else
		ok(0, "EICAR attachment present");
	free(out);

	/* 8-bit Subject without SMTPUTF8: RFC 2047 words; with it: raw */
	{
		const char *hdr[] = { "Subject: Gr\xc3\xbc\xc3\x9f" "e aus "
		    "M\xc3\xbcnchen, eine l\xc3\xa4ngere Betreffzeile mit "
		    "\xc3\xa4\xc3\xb6\xc3\xbc",
		    "From: J\xc3\xb6rg <a@x.test>" };
		struct msg_params q = { .from = "a@example.org", .to = to,
		    .nto = 1, .headers = hdr, .nheaders = 2, .version = "9" };
		char *subj;

		ok(msg_build(&q, &out, &outlen, err, sizeof(err)) == 0 &&
		    (subj = strstr(out, "Subject: =?UTF-8?B?")) != NULL &&
		    strstr(subj, "?=\r\n =?UTF-8?B?") != NULL &&
		    strstr(out, "From: J\xc3\xb6rg <a@x.test>\r\n") != NULL &&
		    strstr(out, "Subject: Gr") == NULL,
		    "8-bit Subject without SMTPUTF8: encoded words, folded; "
		    "From as given");
		free(out);
		q.utf8 = 1;
		ok(msg_build(&q, &out, &outlen, err, sizeof(err)) == 0 &&
		    strstr(out, hdr[0]) != NULL,
		    "8-bit Subject with SMTPUTF8: as given");
		free(out);
	}

	ok(strcmp(msg_mime_type("a.PNG"), "image/png") == 0 &&
	    strcmp(msg_mime_type("noext"), "application/octet-stream") == 0 &&
	    strcmp(msg_mime_type("dir.d/file"), "application/octet-stream") ==
	    0, "types from the extension, any case");
}

/* msgid - the Message-ID line of a built message (static), or "" */
static const char *
msgid(const char *m)
{
	static char	 line[256];
	const char	*s = strstr(m, "Message-ID: "), *e;

	line[0] = '\0';
	if (s != NULL && (e = strstr(s, "\r\n")) != NULL &&
	    (size_t)(e - s) < sizeof(line)) {
		memcpy(line, s, (size_t)(e - s));
		line[e - s] = '\0';
	}
	return line;
}

/*
 * same_but_id - a and b (lengths al, bl) are the same message but for
 * the Message-ID line, which differs
 */
static int
same_but_id(const char *a, size_t al, const char *b, size_t bl)
{
	char	 ia[256];
	size_t	 pa, pb;

	snprintf(ia, sizeof(ia), "%s", msgid(a));
	if (ia[0] == '\0' || strcmp(ia, msgid(b)) == 0)
		return 0;
	pa = (size_t)(strstr(a, ia) - a);
	pb = (size_t)(strstr(b, msgid(b)) - b);
	return pa == pb && memcmp(a, b, pa) == 0 && al - pa - strlen(ia) ==
	    bl - pb - strlen(msgid(b)) && strcmp(a + pa + strlen(ia),
	    b + pb + strlen(msgid(b))) == 0;
}

/* build - n messages from p built within one second (tries again) */
static void
build(const struct msg_params *p, int n, char **m, size_t *len)
{
	char	 err[256];
	time_t	 t0;
	int	 i, try;

	for (try = 0; try < 5; try++) {
		t0 = time(NULL);
		for (i = 0; i < n; i++)
			if (msg_build(p, &m[i], &len[i], err,
			    sizeof(err)) == -1)
				m[i] = strdup("");
		if (time(NULL) == t0)
			return;
		for (i = 0; i < n; i++)
			free(m[i]);
	}
}

/* t_repeat - messages built again: each its own Message-ID */
static void
t_repeat(void)
{
	const char	*to[] = { "b@example.org" };
	const char	*hdr[] = { "Date: x", "From: <f@example.org>", "To: y",
	    "Subject: s" };
	const char	*own[] = { "Message-ID: <mine@example.org>" };
	struct msg_params p = { .from = "a@example.org", .to = to, .nto = 1,
	    .domain = "probe.example", .version = "9.9" };
	char		 err[256], id0[256], *m[4];
	size_t		 len[4];
	int		 i, rc;

	build(&p, 3, m, len);
	snprintf(id0, sizeof(id0), "%s", msgid(m[0]));
	ok(same_but_id(m[0], len[0], m[1], len[1]) &&
	    same_but_id(m[1], len[1], m[2], len[2]) &&
	    same_but_id(m[0], len[0], m[2], len[2]),
	    "three messages from the same inputs: the same bytes but three "
	    "Message-IDs (%s, %s)", id0, msgid(m[2]));
	p.to = NULL;
	p.nto = 0;
	p.from = "";
	rc = msg_build(&p, &m[3], &len[3], err, sizeof(err));
	ok(rc == 0 && strstr(m[3], "From: <MAILER-DAEMON>") != NULL &&
	    strstr(m[3], "To: \r\n") != NULL,
	    "other inputs: another message, not the last one again");
	for (i = 0; i < 4; i++)
		free(m[i]);
	p.headers = hdr;
	p.nheaders = 4;
	build(&p, 2, m, len);
	ok(strncmp(m[0], "Message-ID: <smtprobe.", 22) == 0 &&
	    same_but_id(m[0], len[0], m[1], len[1]),
	    "the Message-ID as the first line is still one per message");
	free(m[0]);
	free(m[1]);
	p.headers = own;
	p.nheaders = 1;
	build(&p, 2, m, len);
	ok(len[0] == len[1] && strcmp(m[0], m[1]) == 0 &&
	    strstr(m[0], "Message-ID: <mine@example.org>\r\n") != NULL,
	    "a --header Message-ID is sent as given, every time");
	free(m[0]);
	free(m[1]);
}

int
main(void)
{
	char	 err[256], *out, *a;
	size_t	 i, outlen;
	int	 rc;

	for (i = 0; i < sizeof(wires) / sizeof(wires[0]); i++) {
		size_t n = wires[i].inlen ? wires[i].inlen :
		    strlen(wires[i].in);

		out = NULL;
		rc = msg_wire(wires[i].in, n, &out, &outlen, err, sizeof(err));
		if (wires[i].out == NULL)
			ok(rc == -1 && strstr(err, "NUL") != NULL,
			    "wire: %s (%s)", wires[i].name, err);
		else
			ok(rc == 0 && outlen == strlen(wires[i].out) &&
			    memcmp(out, wires[i].out, outlen) == 0,
			    "wire: %s", wires[i].name);
		free(out);
	}
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		a = valid_address(addrs[i].in, addrs[i].null_ok ?
		    VALID_NULL_OK : 0, err, sizeof(err));
		if (addrs[i].out == NULL)
			ok(a == NULL, "address %zu refused: %s", i, err);
		else
			ok(a != NULL && strcmp(a, addrs[i].out) == 0,
			    "address %zu accepted as \"%s\"", i,
			    a ? a : "(null)");
		free(a);
	}
	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		rc = valid_header(headers[i].in, err, sizeof(err));
		ok((rc == 0) == headers[i].good, "header %zu %s", i,
		    headers[i].good ? "accepted" : "refused");
	}

	/* the default message: generated headers, user header replaces */
	{
		const char *to[] = { "b@example.org", "c@example.org" };
		const char *hdr[] = { "Subject: custom", "X-Extra: 1" };
		struct msg_params p = { .from = "a@example.org", .to = to,
		    .nto = 2, .domain = "probe.example", .headers = hdr,
		    .nheaders = 2, .version = "9.9" };

		rc = msg_build(&p, &out, &outlen, err, sizeof(err));
		ok(rc == 0, "default message builds");
		ok(strstr(out, "Subject: custom\r\n") != NULL &&
		    strstr(out, "Subject: smtprobe") == NULL,
		    "--header replaces a generated header");
		ok(strstr(out, "X-Extra: 1\r\n") != NULL, "extra header added");
		ok(strstr(out, "From: <a@example.org>\r\n") != NULL &&
		    strstr(out, "To: <b@example.org>,\r\n  <c@example.org>")
		    != NULL, "From and To");
		ok(strstr(out, "@probe.example>\r\n") != NULL,
		    "Message-ID uses the domain");
		ok(strstr(out, "smtprobe 9.9") != NULL,
		    "the message names the tool");
		ok(outlen > 5 && memcmp(out + outlen - 5, "\r\n.\r\n", 5) == 0,
		    "ends with CRLF . CRLF");
		free(out);
		hdr[0] = "Subject: x\r\nBcc: evil@example.org";
		ok(msg_build(&p, &out, &outlen, err, sizeof(err)) == -1,
		    "injected header refused: %s", err);
	}
	test_mime();
	t_repeat();
	return tap_done();
}
