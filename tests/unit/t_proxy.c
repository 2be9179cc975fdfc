/*
 * t_proxy.c - the PROXY protocol header (versions 1 and 2, IPv4 and
 * IPv6, byte for byte against the specification's layout) and the
 * XCLIENT / XFORWARD command lines (attribute names, values, xtext,
 * what the server offers).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "tap.h"

static void
addr(const char *s, struct sockaddr_storage *ss)
{
	socklen_t	 sl;
	char		 err[128];

	if (proxy_source(s, ss, &sl, err, sizeof(err)) == -1) {
		printf("Bail out! %s: %s\n", s, err);
		exit(99);
	}
}

static void
t_header(void)
{
	struct sockaddr_storage	 src, dst, s6, d6;
	unsigned char		 buf[128];
	char			 err[128];
	size_t			 n;
	static const unsigned char v2_4[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 1, 127, 0, 0, 1,
		0xdc, 0x04, 0x00, 0x19
	};

	addr("192.0.2.1:56324", &src);
	addr("127.0.0.1:25", &dst);
	n = proxy_header(1, (void *)&src, (void *)&dst, buf, sizeof(buf),
	    err, sizeof(err));
	ok(n == strlen("PROXY TCP4 192.0.2.1 127.0.0.1 56324 25\r\n") &&
	    memcmp(buf, "PROXY TCP4 192.0.2.1 127.0.0.1 56324 25\r\n", n) == 0,
	    "v1 IPv4 line");
	n = proxy_header(2, (void *)&src, (void *)&dst, buf, sizeof(buf),
	    err, sizeof(err));
	ok(n == sizeof(v2_4) && memcmp(buf, v2_4, n) == 0,
	    "v2 IPv4: signature, 0x21, 0x11, length 12, addresses, ports");
	addr("[2001:db8::7]:1024", &s6);
	addr("[::1]:2525", &d6);
	n = proxy_header(1, (void *)&s6, (void *)&d6, buf, sizeof(buf),
	    err, sizeof(err));
	ok(n > 0 && memcmp(buf, "PROXY TCP6 2001:db8::7 ::1 1024 2525\r\n",
	    n) == 0, "v1 IPv6 line");
	n = proxy_header(2, (void *)&s6, (void *)&d6, buf, sizeof(buf),
	    err, sizeof(err));
	ok(n == 52 && buf[12] == 0x21 && buf[13] == 0x21 && buf[14] == 0 &&
	    buf[15] == 36 && buf[16] == 0x20 && buf[17] == 0x01 &&
	    buf[47] == 1 && buf[48] == 0x04 && buf[49] == 0x00 &&
	    buf[50] == 0x09 && buf[51] == 0xdd, "v2 IPv6: 0x21, length 36, "
	    "addresses and ports in network order");
	n = proxy_header(2, (void *)&src, (void *)&d6, buf, sizeof(buf),
	    err, sizeof(err));
	ok(n == 0 && strstr(err, "same family") != NULL,
	    "v2 refuses an IPv4 source over IPv6: %s", err);
	n = proxy_header(2, (void *)&src, (void *)&dst, buf, 20, err,
	    sizeof(err));
	ok(n == 0, "v2 never writes past the buffer");
	n = proxy_header(3, (void *)&src, (void *)&dst, buf, sizeof(buf),
	    err, sizeof(err));
	ok(n == 0, "version 3 is refused");
}

static void
t_source(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 err[128];

	ok(proxy_source("192.0.2.1", &ss, &sl, err, sizeof(err)) == 0 &&
	    ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port ==
	    0, "a bare IPv4 address, port 0");
	ok(proxy_source("2001:db8::1", &ss, &sl, err, sizeof(err)) == 0 &&
	    ss.ss_family == AF_INET6, "a bare IPv6 address");
	ok(proxy_source("[2001:db8::1]:25", &ss, &sl, err, sizeof(err)) == 0 &&
	    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == 25,
	    "[IPV6]:PORT");
	ok(proxy_source("192.0.2.1:70000", &ss, &sl, err, sizeof(err)) == -1,
	    "a port past 65535: %s", err);
	ok(proxy_source("mx.example:25", &ss, &sl, err, sizeof(err)) == -1 &&
	    strstr(err, "not an IPv4 or IPv6") != NULL, "a name: %s", err);
	ok(proxy_source("[2001:db8::1]x", &ss, &sl, err, sizeof(err)) == -1,
	    "junk after ]: %s", err);
}

static void
t_attrs(void)
{
	char	 err[256], *l;

	l = proxy_attrs(PROXY_XCLIENT, "addr=192.0.2.9,name=spam.example,"
	    "helo=bad helo", NULL, err, sizeof(err));
	ok(l != NULL && strcmp(l, "XCLIENT ADDR=192.0.2.9 "
	    "NAME=spam.example HELO=bad+20helo") == 0,
	    "XCLIENT: upper-case names, xtext values: %s", l ? l : err);
	free(l);
	l = proxy_attrs(PROXY_XCLIENT, "ADDR=2001:db8::9", NULL, err,
	    sizeof(err));
	ok(l != NULL && strcmp(l, "XCLIENT ADDR=IPV6:2001:db8::9") == 0,
	    "XCLIENT: an IPv6 ADDR gets IPV6:");
	free(l);
	l = proxy_attrs(PROXY_XCLIENT, "NAME=[UNAVAILABLE]", NULL, err,
	    sizeof(err));
	ok(l != NULL && strcmp(l, "XCLIENT NAME=[UNAVAILABLE]") == 0,
	    "XCLIENT: [UNAVAILABLE] kept");
	free(l);
	l = proxy_attrs(PROXY_XCLIENT, "HELO=a\r\nRCPT TO:<x@y>", NULL, err,
	    sizeof(err));
	ok(l != NULL && strchr(l, '\r') == NULL && strchr(l, '\n') == NULL &&
	    strstr(l, "+0D+0A") != NULL, "XCLIENT: CR LF cannot inject: %s",
	    l ? l : err);
	free(l);
	l = proxy_attrs(PROXY_XCLIENT, "HELO=a+b=c", NULL, err, sizeof(err));
	ok(l != NULL && strcmp(l, "XCLIENT HELO=a+2Bb+3Dc") == 0,
	    "XCLIENT: + and = are xtext-encoded");
	free(l);
	l = proxy_attrs(PROXY_XCLIENT, "IDENT=x", NULL, err, sizeof(err));
	ok(l == NULL && strstr(err, "no attribute IDENT") != NULL,
	    "XCLIENT takes no IDENT: %s", err);
	l = proxy_attrs(PROXY_XFORWARD, "IDENT=q1,SOURCE=remote", NULL, err,
	    sizeof(err));
	ok(l != NULL && strcmp(l, "XFORWARD IDENT=q1 SOURCE=remote") == 0,
	    "XFORWARD: IDENT and SOURCE");
	free(l);
	l = proxy_attrs(PROXY_XFORWARD, "SOURCE=moon", NULL, err, sizeof(err));
	ok(l == NULL, "XFORWARD: SOURCE is LOCAL or REMOTE: %s", err);
	l = proxy_attrs(PROXY_XCLIENT, "ADDR=not-an-ip", NULL, err,
	    sizeof(err));
	ok(l == NULL && strstr(err, "not an IPv4 or IPv6") != NULL,
	    "XCLIENT: ADDR must be an address: %s", err);
	l = proxy_attrs(PROXY_XCLIENT, "PORT=99999", NULL, err, sizeof(err));
	ok(l == NULL, "XCLIENT: PORT past 65535: %s", err);
	l = proxy_attrs(PROXY_XCLIENT, "PROTO=LMTP", NULL, err, sizeof(err));
	ok(l == NULL, "XCLIENT: PROTO is SMTP or ESMTP: %s", err);
	l = proxy_attrs(PROXY_XCLIENT, "ADDR=192.0.2.1,LOGIN=alice",
	    "NAME ADDR PROTO HELO", err, sizeof(err));
	ok(l == NULL && strstr(err, "does not take LOGIN") != NULL &&
	    strstr(err, "NAME ADDR PROTO HELO") != NULL,
	    "XCLIENT: an attribute the server does not offer: %s", err);
	l = proxy_attrs(PROXY_XCLIENT, "addr=192.0.2.1", "name addr",
	    err, sizeof(err));
	ok(l != NULL, "XCLIENT: offered names match in any case");
	free(l);
	l = proxy_attrs(PROXY_XCLIENT, "", NULL, err, sizeof(err));
	ok(l == NULL, "XCLIENT: nothing given: %s", err);
	l = proxy_attrs(PROXY_XCLIENT, "ADDR", NULL, err, sizeof(err));
	ok(l == NULL && strstr(err, "not NAME=VALUE") != NULL,
	    "XCLIENT: no '=': %s", err);
	{
		char	 big[1200];

		memset(big, 'a', sizeof(big) - 1);
		memcpy(big, "NAME=", 5);
		big[sizeof(big) - 1] = '\0';
		l = proxy_attrs(PROXY_XCLIENT, big, NULL, err, sizeof(err));
		ok(l == NULL && strstr(err, "1,000") != NULL,
		    "XCLIENT: a line past 1,000 bytes: %s", err);
	}
}

int
main(void)
{
	t_header();
	t_source();
	t_attrs();
	return tap_done();
}
