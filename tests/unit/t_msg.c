/*
 * t_msg.c - message wire form (CRLF, dot-stuffing, final dot) and the
 * checks that refuse CR, LF and NUL in addresses and headers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
	return tap_done();
}
