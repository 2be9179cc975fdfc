/*
 * proxy.c - the PROXY protocol header and the XCLIENT / XFORWARD
 * commands: a client speaking as if it were another one. Pure
 * functions, no I/O; see include/proxy.h.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "proxy.h"
#include "util.h"
#include "valid.h"

static const unsigned char proxy_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* the attributes each command takes (Postfix XCLIENT/XFORWARD_README) */
static const char *const xclient_names[] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR",
	"DESTPORT", NULL
};
static const char *const xforward_names[] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE", NULL
};

static int	 proxy_ends(const struct sockaddr *, const struct sockaddr *,
		    char *, size_t);
static int	 proxy_value_ok(const char *, const char *, char *, size_t);
static int	 proxy_offered(const char *, const char *);

/* proxy_ends - both ends IPv4 or both IPv6, else -1 with err */
static int
proxy_ends(const struct sockaddr *src, const struct sockaddr *dst,
    char *err, size_t errlen)
{
	if (src->sa_family != AF_INET && src->sa_family != AF_INET6) {
		snprintf(err, errlen, "the PROXY source is not an IPv4 or "
		    "IPv6 address");
		return -1;
	}
	if (src->sa_family != dst->sa_family) {
		snprintf(err, errlen, "the PROXY source is an IPv%d address "
		    "but the server was reached over IPv%d: give a source of "
		    "the same family", src->sa_family == AF_INET ? 4 : 6,
		    dst->sa_family == AF_INET ? 4 : 6);
		return -1;
	}
	return 0;
}

size_t
proxy_header(int version, const struct sockaddr *src,
    const struct sockaddr *dst, unsigned char *buf, size_t len, char *err,
    size_t errlen)
{
	char		 sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	const void	*s, *d;
	unsigned	 sp, dp;
	size_t		 alen, n;
	int		 six;

	if (proxy_ends(src, dst, err, errlen) == -1)
		return 0;
	six = src->sa_family == AF_INET6;
	if (six) {
		const struct sockaddr_in6 *a = (const void *)src;
		const struct sockaddr_in6 *b = (const void *)dst;

		s = &a->sin6_addr;
		d = &b->sin6_addr;
		sp = ntohs(a->sin6_port);
		dp = ntohs(b->sin6_port);
		alen = 16;
	} else {
		const struct sockaddr_in *a = (const void *)src;
		const struct sockaddr_in *b = (const void *)dst;

		s = &a->sin_addr;
		d = &b->sin_addr;
		sp = ntohs(a->sin_port);
		dp = ntohs(b->sin_port);
		alen = 4;
	}
	if (version == 1) {
		int	 r;

		inet_ntop(src->sa_family, s, sa, sizeof(sa));
		inet_ntop(dst->sa_family, d, da, sizeof(da));
		r = snprintf((char *)buf, len, "PROXY TCP%c %s %s %u %u\r\n",
		    six ? '6' : '4', sa, da, sp, dp);
		/* the specification's own limit: 107 bytes and CRLF */
		if (r < 0 || (size_t)r >= len || r > 107) {
			snprintf(err, errlen, "the PROXY line does not fit");
			return 0;
		}
		return (size_t)r;
	}
	if (version != 2) {
		snprintf(err, errlen, "PROXY protocol version %d: 1 or 2",
		    version);
		return 0;
	}
	n = sizeof(proxy_sig) + 4 + 2 * alen + 4;
	if (len < n) {
		snprintf(err, errlen, "the PROXY header does not fit");
		return 0;
	}
	memcpy(buf, proxy_sig, sizeof(proxy_sig));
	buf[12] = 0x21;			/* version 2, PROXY */
	buf[13] = six ? 0x21 : 0x11;	/* AF_INET6 or AF_INET, STREAM */
	buf[14] = (unsigned char)((2 * alen + 4) >> 8);
	buf[15] = (unsigned char)((2 * alen + 4) & 0xff);
	memcpy(buf + 16, s, alen);
	memcpy(buf + 16 + alen, d, alen);
	buf[16 + 2 * alen] = (unsigned char)(sp >> 8);
	buf[17 + 2 * alen] = (unsigned char)(sp & 0xff);
	buf[18 + 2 * alen] = (unsigned char)(dp >> 8);
	buf[19 + 2 * alen] = (unsigned char)(dp & 0xff);
	return n;
}

int
proxy_source(const char *s, struct sockaddr_storage *ss, socklen_t *sl,
    char *err, size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN + 2];
	const char	*port = NULL, *colon;
	long		 pn = 0;
	size_t		 hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			snprintf(err, errlen, "\"%s\": an IPv6 address with a "
			    "port is written [ADDR]:PORT", s);
			return -1;
		}
		hl = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		s++;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		hl = (size_t)(colon - s);
		port = colon + 1;
	} else
		hl = strlen(s);
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "\"%.*s\" is not an IPv4 or IPv6 "
		    "address", (int)(hl > 64 ? 64 : hl), s);
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (port != NULL && valid_long(port, 0, 65535, &pn, err, errlen) ==
	    -1)
		return -1;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) ==
	    1) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)pn);
		*sl = sizeof(*a);
		return 0;
	}
	if (inet_pton(AF_INET6, host,
	    &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)pn);
		*sl = sizeof(*a);
		return 0;
	}
	snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address (ADDR, "
	    "ADDR:PORT or [IPV6]:PORT)", host);
	return -1;
}

/* proxy_value_ok - what Postfix would take for attribute name */
static int
proxy_value_ok(const char *name, const char *v, char *err, size_t errlen)
{
	unsigned char	 a[16];
	long		 n;

	if (strcmp(v, "[UNAVAILABLE]") == 0 || strcmp(v, "[TEMPUNAVAIL]") ==
	    0)
		return 0;
	if (strcmp(name, "ADDR") == 0 || strcmp(name, "DESTADDR") == 0) {
		const char *p = strncasecmp(v, "IPV6:", 5) == 0 ? v + 5 : v;

		if (inet_pton(AF_INET, p, a) == 1 || inet_pton(AF_INET6, p,
		    a) == 1)
			return 0;
		snprintf(err, errlen, "%s=%s: not an IPv4 or IPv6 address",
		    name, v);
		return -1;
	}
	if (strcmp(name, "PORT") == 0 || strcmp(name, "DESTPORT") == 0)
		return valid_long(v, 0, 65535, &n, err, errlen);
	if (strcmp(name, "PROTO") == 0 && strcasecmp(v, "SMTP") != 0 &&
	    strcasecmp(v, "ESMTP") != 0) {
		snprintf(err, errlen, "PROTO=%s: SMTP or ESMTP", v);
		return -1;
	}
	if (strcmp(name, "SOURCE") == 0 && strcasecmp(v, "LOCAL") != 0 &&
	    strcasecmp(v, "REMOTE") != 0) {
		snprintf(err, errlen, "SOURCE=%s: LOCAL or REMOTE", v);
		return -1;
	}
	return 0;
}

/* proxy_offered - 1 if name is a word of offered (any case) */
static int
proxy_offered(const char *offered, const char *name)
{
	const char	*p = offered;
	size_t		 n = strlen(name), w;

	while (*p != '\0') {
		p += strspn(p, " ");
		w = strcspn(p, " ");
		if (w == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += w;
	}
	return 0;
}

char *
proxy_attrs(enum proxy_cmd cmd, const char *spec, const char *offered,
    char *err, size_t errlen)
{
	const char *const *names = cmd == PROXY_XCLIENT ? xclient_names :
			    xforward_names;
	const char	*kw = cmd == PROXY_XCLIENT ? "XCLIENT" : "XFORWARD";
	struct util_buf	 b = { 0 };
	char		*item, *copy, *save = NULL, *eq, *x, name[16];
	size_t		 i, k, nitems = 0;

	util_buf_str(&b, kw);
	copy = xstrdup(spec);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL || eq == item ||
		    (size_t)(eq - item) >= sizeof(name)) {
			snprintf(err, errlen, "--%s: \"%s\" is not NAME=VALUE",
			    cmd == PROXY_XCLIENT ? "xclient" : "xforward",
			    item);
			goto fail;
		}
		for (k = 0; item + k < eq; k++)
			name[k] = (char)toupper((unsigned char)item[k]);
		name[k] = '\0';
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], name) == 0)
				break;
		if (names[i] == NULL) {
			snprintf(err, errlen, "%s has no attribute %s (it "
			    "takes %s)", kw, name, cmd == PROXY_XCLIENT ?
			    "NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT" :
			    "NAME ADDR PORT PROTO HELO IDENT SOURCE");
			goto fail;
		}
		if (offered != NULL && !proxy_offered(offered, name)) {
			snprintf(err, errlen, "the server's %s does not take "
			    "%s (it offers: %s)", kw, name, offered[0] != '\0' ?
			    offered : "nothing");
			goto fail;
		}
		if (proxy_value_ok(name, eq + 1, err, errlen) == -1)
			goto fail;
		util_buf_str(&b, " ");
		util_buf_str(&b, name);
		util_buf_str(&b, "=");
		if (strcmp(name, "ADDR") == 0 && strchr(eq + 1, ':') != NULL &&
		    strncasecmp(eq + 1, "IPV6:", 5) != 0 && eq[1] != '[')
			util_buf_str(&b, "IPV6:");
		x = util_xtext(eq + 1);
		util_buf_str(&b, x);
		free(x);
		nitems++;
	}
	if (nitems == 0) {
		snprintf(err, errlen, "--%s: no NAME=VALUE given",
		    cmd == PROXY_XCLIENT ? "xclient" : "xforward");
		goto fail;
	}
	if (b.len > 998) {
		snprintf(err, errlen, "the %s line would be %zu bytes, past "
		    "SMTP's 1,000", kw, b.len + 2);
		goto fail;
	}
	free(copy);
	return b.p;
fail:
	free(copy);
	free(b.p);
	return NULL;
}
