/*
 * proxy.h - talking "as if from" another client: the HAProxy PROXY
 * protocol header sent before the greeting (versions 1 and 2), and the
 * XCLIENT and XFORWARD commands of Postfix (wire layer, no I/O).
 *
 * PROXY (haproxy.org proxy-protocol.txt): a server behind a load
 * balancer, or Postfix with smtpd_upstream_proxy_protocol, takes the
 * client's address from a header the connection starts with. Version
 * 1 is one text line, "PROXY TCP4 SRC DST SPORT DPORT" and CRLF;
 * version 2 a binary block: a 12-byte signature, version and command
 * (0x21: v2, PROXY), family and transport (0x11 TCP over IPv4, 0x21 TCP
 * over IPv6), the length of the addresses, then source and destination
 * addresses and ports in network order. The destination is the address
 * actually connected to; both must be of one family.
 *
 * XCLIENT (Postfix XCLIENT_README) overrides the client's NAME, ADDR,
 * PORT, PROTO, HELO, LOGIN, DESTADDR and DESTPORT for the rest of the
 * session; the server answers 220 and the client greets again.
 * XFORWARD (XFORWARD_README) passes NAME, ADDR, PORT, PROTO, HELO,
 * IDENT and SOURCE on to the next hop and is answered 250. Values are
 * xtext (RFC 3461 4): bytes outside "!" to "~", "+" and "=" become +XX.
 * Only attributes the server lists after the keyword in its EHLO reply
 * may be sent.
 */
#ifndef SMTPROBE_PROXY_H
#define SMTPROBE_PROXY_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

#define PROXY_V2_MAX	52	/* 16 header + 36 for two IPv6 ends */

/*
 * proxy_header - the PROXY header of version (1 or 2) for a connection
 * claimed to come from src to dst, into buf (at least 108 bytes for v1,
 * PROXY_V2_MAX for v2). Returns its length, or 0 with err filled (the
 * families differ, or are not IPv4/IPv6).
 */
size_t	 proxy_header(int version, const struct sockaddr *src,
	    const struct sockaddr *dst, unsigned char *buf, size_t len,
	    char *err, size_t errlen);

/*
 * proxy_source - "ADDR:PORT", "[IPV6]:PORT" or a bare address (port 0)
 * into ss, or -1 with err filled
 */
int	 proxy_source(const char *, struct sockaddr_storage *, socklen_t *,
	    char *err, size_t errlen);

enum proxy_cmd {
	PROXY_XCLIENT,
	PROXY_XFORWARD
};

/*
 * proxy_attrs - the command line ("XCLIENT NAME=x ADDR=y", no CRLF) for
 * spec, "NAME=VALUE,NAME=VALUE..." as the user gave it: names are
 * checked against the command's own list (any case, sent upper case),
 * values xtext-encoded (ADDR of an IPv6 address gets the "IPV6:"
 * prefix Postfix wants). offered: the parameters of the server's EHLO
 * line for the keyword ("NAME ADDR PROTO HELO"), or NULL to check the
 * syntax only. Returns the line (caller frees), or NULL with err.
 */
char	*proxy_attrs(enum proxy_cmd, const char *spec, const char *offered,
	    char *err, size_t errlen);


#endif
