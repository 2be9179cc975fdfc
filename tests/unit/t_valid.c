/*
 * t_valid.c - the input checks of probe/base/valid.c: addresses (RFC 5321
 * with UTF-8), HELO names, domains, literals, headers, message bytes,
 * secrets, decimal numbers and same-file detection; the raw escape
 * lifts the syntax but never lets CR, LF or NUL through.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "valid.h"

static const struct {
	const char	*in;
	unsigned	 flags;
	const char	*want;		/* NULL: refused */
} addrs[] = {
	{ "user@example.org", 0, "user@example.org" },
	{ "<user@example.org>", 0, "user@example.org" },
	{ "first.last+tag@sub.example.org", 0,
	    "first.last+tag@sub.example.org" },
	{ "\"john doe\"@example.org", 0, "\"john doe\"@example.org" },
	{ "\"a\\\"b\"@example.org", 0, "\"a\\\"b\"@example.org" },
	{ "user@[192.0.2.1]", 0, "user@[192.0.2.1]" },
	{ "user@[IPv6:2001:db8::1]", 0, "user@[IPv6:2001:db8::1]" },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example", 0,
	    "j\xc3\xb6rg@b\xc3\xbc" "cher.example" },
	{ "user%other@host.example", 0, "user%other@host.example" },
	{ "<>", VALID_NULL_OK, "" },
	{ "", VALID_NULL_OK, "" },
	{ "<>", 0, NULL },
	{ "user", 0, NULL },
	{ "@example.org", 0, NULL },
	{ "user@", 0, NULL },
	{ ".user@example.org", 0, NULL },
	{ "us..er@example.org", 0, NULL },
	{ "user.@example.org", 0, NULL },
	{ "us er@example.org", 0, NULL },
	{ "us(er@example.org", 0, NULL },
	{ "user@exa mple.org", 0, NULL },
	{ "user@-example.org", 0, NULL },
	{ "user@example.org.", 0, NULL },
	{ "user@[192.0.2]", 0, NULL },
	{ "user@[IPv6:zz::1]", 0, NULL },
	{ "user@[2001:db8::1]", 0, NULL },
	{ "\"unterminated@example.org", 0, NULL },
	{ "<user@example.org", 0, NULL },
	{ "j\xc3@example.org", 0, NULL },		/* cut UTF-8 */
	{ "j\xc0\xafrg@example.org", 0, NULL },	/* overlong */
	{ "user@example.org\r\nRCPT TO:<x@y>", 0, NULL },
	{ "user\n@example.org", 0, NULL },
	{ "user\x01@example.org", 0, NULL },
	{ "host!user", 0, NULL },
	{ "Postmaster", 0, "Postmaster" },
	{ "postmaster", VALID_NULL_OK, NULL },
	{ "@a.example,@b.example:user@c.example", 0, NULL },
	{ "b@@y.example", 0, NULL },
	{ "a@b@y.example", 0, NULL },
	{ "\"a@b\"@y.example", 0, "\"a@b\"@y.example" },
	{ "\"\"@y.example", 0, "\"\"@y.example" },
	{ "\"j\xc3\xb6rg x\"@y.example", 0, "\"j\xc3\xb6rg x\"@y.example" },
	{ "\"a\\\xc3\xb6\"@y.example", 0, NULL },	/* \ + non-ASCII */
	{ "u@\xe2\x98\x83.example", 0, NULL },	/* IDNA2008: symbol */
	{ "u@xn--bcher-kva.example", 0, "u@xn--bcher-kva.example" },
	/* raw: odd on purpose, still one line */
	{ "host!user", VALID_RAW, "host!user" },
	{ "<@a.example,@b.example:user@c.example>", VALID_RAW,
	    "@a.example,@b.example:user@c.example" },
	{ "user@example.org\r\nRCPT TO:<x@y>", VALID_RAW, NULL },
	{ "user\n@example.org", VALID_RAW, NULL },
	{ "<>", VALID_RAW, NULL },
	{ "a\x01b@example.org", VALID_RAW, NULL },
	{ "j\xc3@example.org", VALID_RAW, "j\xc3@example.org" },
};

static const struct {
	const char	*in;
	unsigned	 flags;
	int		 good;
} helos[] = {
	{ "mail.example.org", 0, 1 },
	{ "localhost", 0, 1 },
	{ "[192.0.2.1]", 0, 1 },
	{ "[IPv6:2001:db8::1]", 0, 1 },
	{ "b\xc3\xbc" "cher.example", 0, 1 },
	{ "", 0, 0 },
	{ "bad name", 0, 0 },
	{ "bad name", VALID_RAW, 0 },
	{ "bad_*_name", 0, 0 },
	{ "[192.0.2.1", 0, 0 },
	{ "[2001:db8::1]", 0, 0 },
	{ "a..b", 0, 0 },
	{ "x\r\nMAIL FROM:<a@b>", 0, 0 },
	{ "bad_*_name", VALID_RAW, 1 },
	{ "[not-a-literal]", VALID_RAW, 1 },
	{ "x\r\nMAIL FROM:<a@b>", VALID_RAW, 0 },
	{ "", VALID_RAW, 0 },
};

int
main(void)
{
	char	 err[256], path[64], path2[64], *a, *big;
	size_t	 i;
	long	 n;
	double	 d;
	int	 fd;

	log_init("t_valid", 0);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		char	*esc = NULL;
		size_t	 k;

		a = valid_address(addrs[i].in, addrs[i].flags, err,
		    sizeof(err));
		/* a TAP line must stay one line: show controls as \xHH */
		esc = xstrdup(addrs[i].in);
		for (k = 0; esc[k] != '\0'; k++)
			if ((unsigned char)esc[k] < 0x20)
				esc[k] = '?';
		if (addrs[i].want == NULL)
			ok(a == NULL && err[0] != '\0', "address \"%s\"%s "
			    "refused", esc, addrs[i].flags & VALID_RAW ?
			    " (raw)" : "");
		else
			ok(a != NULL && strcmp(a, addrs[i].want) == 0,
			    "address \"%s\"%s accepted", esc,
			    addrs[i].flags & VALID_RAW ? " (raw)" : "");
		free(a);
		free(esc);
	}

	/* lengths: 64 local, 255 domain, 256 path */
	big = xmalloc(400);
	memset(big, 'a', 64);
	memcpy(big + 64, "@example.org", 13);
	a = valid_address(big, 0, err, sizeof(err));
	ok(a != NULL, "64-octet local part accepted");
	free(a);
	memset(big, 'a', 65);
	memcpy(big + 65, "@example.org", 13);
	ok(valid_address(big, 0, err, sizeof(err)) == NULL &&
	    strstr(err, "64") != NULL, "65-octet local part refused: %s", err);
	memcpy(big, "u@", 2);
	for (i = 2; i < 2 + 4 * 64; i += 64) {
		memset(big + i, 'b', 63);
		big[i + 63] = '.';
	}
	memcpy(big + i, "org", 4);
	ok(valid_address(big, 0, err, sizeof(err)) == NULL,
	    "a domain past 255 octets refused");
	memset(big, 'a', 300);
	big[300] = '\0';
	a = valid_address(big, VALID_RAW, err, sizeof(err));
	ok(a != NULL, "raw: 300 octets pass (no syntax)");
	free(a);
	free(big);
	big = xmalloc(100001);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	ok(valid_address(big, VALID_RAW, err, sizeof(err)) == NULL,
	    "raw: 100 KB refused all the same");

	for (i = 0; i < sizeof(helos) / sizeof(helos[0]); i++)
		ok((valid_helo(helos[i].in, helos[i].flags, err,
		    sizeof(err)) == 0) == helos[i].good, "helo #%zu %s%s", i,
		    helos[i].good ? "accepted" : "refused",
		    helos[i].flags & VALID_RAW ? " (raw)" : "");
	/* the messages say what is wrong and what is accepted */
	ok(valid_address("b@@y.example", 0, err, sizeof(err)) == NULL &&
	    strstr(err, "second \"@\"") != NULL &&
	    strstr(err, "--raw-address") != NULL, "b@@y: %s", err);
	ok(valid_address("b@", 0, err, sizeof(err)) == NULL &&
	    strstr(err, "domain is missing") != NULL, "b@: %s", err);
	ok(valid_address("x", 0, err, sizeof(err)) == NULL &&
	    strstr(err, "no \"@\"") != NULL &&
	    strstr(err, "postmaster") != NULL, "x: %s", err);
	ok(valid_address("u@\xe2\x98\x83.example", 0, err, sizeof(err)) ==
	    NULL && strstr(err, "IDNA2008") != NULL, "IDN refused: %s", err);
	ok(valid_helo(big, 0, err, sizeof(err)) == -1 &&
	    strstr(err, "255") != NULL, "helo of 100 KB refused: %s", err);
	ok(valid_helo(big, VALID_RAW, err, sizeof(err)) == -1,
	    "raw helo of 100 KB refused");
	memset(big, 'a', 63);
	for (i = 63; i < 256; i += 64) {
		big[i] = '.';
		memset(big + i + 1, 'a', 63);
	}
	big[256] = '\0';
	ok(valid_helo(big, 0, err, sizeof(err)) == -1,
	    "helo of 256 octets refused");
	big[255] = '\0';
	big[254] = 'a';
	ok(valid_helo(big, 0, err, sizeof(err)) == 0,
	    "helo of 255 octets accepted");
	free(big);

	ok(valid_domain("example.org", err, sizeof(err)) == 0 &&
	    valid_domain("example.org.", err, sizeof(err)) == 0 &&
	    valid_domain("_dmarc.example.org", err, sizeof(err)) == 0,
	    "domains");
	ok(valid_domain("", err, sizeof(err)) == -1 &&
	    valid_domain(".", err, sizeof(err)) == -1 &&
	    valid_domain("a..b", err, sizeof(err)) == -1 &&
	    valid_domain("a-.b", err, sizeof(err)) == -1 &&
	    valid_domain("[1.2.3.4]", err, sizeof(err)) == -1,
	    "bad domains refused");
	ok(valid_literal("[1.2.3.4]", err, sizeof(err)) == 0 &&
	    valid_literal("[IPv6:::1]", err, sizeof(err)) == 0 &&
	    valid_literal("[ipv6:::1]", err, sizeof(err)) == 0 &&
	    valid_literal("[1.2.3.4", err, sizeof(err)) == -1 &&
	    valid_literal("[IPv6:1.2.3.4]", err, sizeof(err)) == -1,
	    "address literals");

	ok(valid_header("X-Test: value\tmore", err, sizeof(err)) == 0,
	    "header with a TAB");
	ok(valid_header("X-Test: a\r\nBcc: x@y", err, sizeof(err)) == -1,
	    "header with CR LF refused");
	ok(valid_header("X Test: v", err, sizeof(err)) == -1 &&
	    valid_header("novalue", err, sizeof(err)) == -1,
	    "header without a name refused");

	ok(valid_message("a\r\nb\nc\rd", 8, "--body", err, sizeof(err)) ==
	    0, "message with every kind of line end");
	ok(valid_message("ab\0cd", 5, "--body", err, sizeof(err)) == -1 &&
	    strstr(err, "NUL") != NULL && strstr(err, "offset 2") != NULL,
	    "message with a NUL refused: %s", err);

	ok(valid_secret("s3cret\n", 7, err, sizeof(err)) == 0,
	    "secret with a line end");
	ok(valid_secret("s3c\0ret", 7, err, sizeof(err)) == -1 &&
	    strstr(err, "s3c") == NULL, "secret with a NUL refused, not "
	    "shown");
	ok(valid_secret("\n", 1, err, sizeof(err)) == -1,
	    "empty secret refused");

	ok(valid_long("42", 0, 100, &n, err, sizeof(err)) == 0 && n == 42,
	    "number 42");
	ok(valid_long("-5", -10, 10, &n, err, sizeof(err)) == 0 && n == -5,
	    "number -5");
	ok(valid_long("0x10", 0, 100, &n, err, sizeof(err)) == -1 &&
	    valid_long(" 5", 0, 100, &n, err, sizeof(err)) == -1 &&
	    valid_long("+5", 0, 100, &n, err, sizeof(err)) == -1 &&
	    valid_long("", 0, 100, &n, err, sizeof(err)) == -1 &&
	    valid_long("101", 0, 100, &n, err, sizeof(err)) == -1 &&
	    valid_long("-1", 0, 100, &n, err, sizeof(err)) == -1 &&
	    valid_long("99999999999999999999", 0, 100, &n, err,
	    sizeof(err)) == -1, "bad numbers refused");
	ok(valid_seconds("1.5", 0, 10, &d, err, sizeof(err)) == 0 &&
	    d == 1.5 && valid_seconds("3", 0, 10, &d, err, sizeof(err)) ==
	    0 && d == 3, "seconds 1.5 and 3");
	ok(valid_seconds("nan", 0, 10, &d, err, sizeof(err)) == -1 &&
	    valid_seconds("inf", 0, 10, &d, err, sizeof(err)) == -1 &&
	    valid_seconds("0x10", 0, 100, &d, err, sizeof(err)) == -1 &&
	    valid_seconds("1e1", 0, 100, &d, err, sizeof(err)) == -1 &&
	    valid_seconds("1.", 0, 100, &d, err, sizeof(err)) == -1 &&
	    valid_seconds(".5", 0, 100, &d, err, sizeof(err)) == -1 &&
	    valid_seconds("11", 0, 10, &d, err, sizeof(err)) == -1 &&
	    valid_seconds("-1", 0, 10, &d, err, sizeof(err)) == -1,
	    "bad seconds refused (nan inf hex exponent range)");

	snprintf(path, sizeof(path), "/tmp/t_valid.%ld", (long)getpid());
	snprintf(path2, sizeof(path2), "/tmp/t_valid.%ld.ln",
	    (long)getpid());
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ok(fd != -1 && symlink(path, path2) == 0, "test files made");
	ok(valid_same_file(path, path) == 1, "a file is itself");
	ok(valid_same_file(path, path2) == 1, "a link to it is the same");
	ok(valid_same_file(path, "/tmp/t_valid.nonexistent") == 0,
	    "a new file is not the same");
	ok(valid_same_file(path, "-") == 0, "- is never the same");
	ok(valid_same_file("/tmp/t_valid.new", "/tmp/t_valid.new") == 1,
	    "one name twice is the same, existing or not");
	ok(valid_same_fd(path2, fd) == 1 && valid_same_fd("/", fd) == 0,
	    "file against an open descriptor");
	close(fd);
	unlink(path2);
	unlink(path);
	return tap_done();
}
