/*
 * dns_conf.c - the DNS servers a context asks: address literals with an
 * optional port and %scope, and resolv.conf's nameserver and options
 * lines (see include/dns.h; shared state in dns_int.h).
 *
 * Errors are written to the caller's buffer and reported as -1; a
 * resolv.conf that is missing or names no server leaves 127.0.0.1,
 * as libc does. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns_int.h"
#include "io.h"
#include "log.h"
#include "util.h"

/* dns_parse_addr - an address literal, with an optional %scope (v6) */
static int
dns_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    unsigned port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;
	char			 tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char			*scope;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (strlen(s) >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, strlen(s) + 1);
	if ((scope = strchr(tmp, '%')) != NULL)
		*scope++ = '\0';
	if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) != 1)
		return -1;
	if (scope != NULL) {
		unsigned	 idx = if_nametoindex(scope);
		char		*end;

		if (idx == 0) {
			errno = 0;
			idx = (unsigned)strtoul(scope, &end, 10);
			if (*scope == '\0' || *end != '\0' || errno != 0 ||
			    idx == 0)
				return -1;
		}
		s6->sin6_scope_id = idx;
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	*len = sizeof(*s6);
	return 0;
}

int
dns_parse_server(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	char		 host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char	*h, *port = NULL, *colon, *close;
	size_t		 hlen;
	unsigned long	 pn = 53;
	char		*end;

	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			snprintf(err, errlen, "%s: missing ]", s);
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "%s: junk after ]", s);
			return -1;
		}
	} else {
		h = s;
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		} else
			hlen = strlen(s);	/* bare IPv6 or no port */
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "%s: not an address", s);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (port != NULL) {
		errno = 0;
		pn = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || pn == 0 ||
		    pn > 65535 || !isdigit((unsigned char)*port)) {
			snprintf(err, errlen, "%s: bad port", s);
			return -1;
		}
	}
	if (dns_parse_addr(host, ss, sslen, (unsigned)pn) == -1) {
		snprintf(err, errlen, "%s: not an IP address (a resolver "
		    "must be given as an address)", s);
		return -1;
	}
	if (s[0] == '[' && ss->ss_family != AF_INET6) {
		snprintf(err, errlen, "%s: [] around an IPv4 address", s);
		return -1;
	}
	return 0;
}

/* dns_add_server - append one "HOST[:PORT]" to ctx */
int
dns_add_server(struct dns_ctx *ctx, const char *s, char *err, size_t errlen)
{
	struct dns_server	*sv = &ctx->servers[ctx->nservers];

	if (dns_parse_server(s, &sv->ss, &sv->len, err, errlen) == -1)
		return -1;
	io_addr_text((struct sockaddr *)&sv->ss, sv->text, sizeof(sv->text));
	ctx->nservers++;
	return 0;
}

/* dns_token - next whitespace-separated word of *sp, or NULL */
static char *
dns_token(char **sp)
{
	char	*t;

	while ((t = strsep(sp, " \t\r\n")) != NULL)
		if (*t != '\0')
			return t;
	return NULL;
}

/*
 * dns_conf_read - servers and options from a resolv.conf. Lines that
 * do not parse are ignored, as libc does; only the first three
 * nameservers count (MAXNS). A missing default file, or one without
 * nameservers, means 127.0.0.1 (libc's rule); a missing file named
 * explicitly is an error.
 */
int
dns_conf_read(struct dns_ctx *ctx, const char *path, int is_default,
    char *err, size_t errlen)
{
	FILE		*f;
	char		*line = NULL, *s, *tok, *v, *end;
	size_t		 cap = 0;
	long		 n;
	char		 e[128];

	if ((f = fopen(path, "r")) == NULL) {
		if (!is_default || errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	} else {
		while (getline(&line, &cap, f) != -1) {
			s = line;
			tok = dns_token(&s);
			if (tok == NULL || *tok == '#' || *tok == ';')
				continue;
			if (strcmp(tok, "nameserver") == 0) {
				struct dns_server *sv =
				    &ctx->servers[ctx->nservers];

				if ((v = dns_token(&s)) == NULL ||
				    ctx->nservers == DNS_MAXNS_CONF ||
				    dns_parse_addr(v, &sv->ss, &sv->len,
				    53) == -1)
					continue;
				io_addr_text((struct sockaddr *)&sv->ss,
				    sv->text, sizeof(sv->text));
				ctx->nservers++;
				continue;
			}
			if (strcmp(tok, "options") != 0)
				continue;
			while ((v = dns_token(&s)) != NULL) {
				if (strncmp(v, "timeout:", 8) == 0) {
					n = strtol(v + 8, &end, 10);
					if (*end == '\0' && n >= 1)
						ctx->timeout_ms =
						    (n > 30 ? 30 : n) * 1000;
				} else if (strncmp(v, "attempts:", 9) == 0) {
					n = strtol(v + 9, &end, 10);
					if (*end == '\0' && n >= 1)
						ctx->attempts =
						    (int)(n > 5 ? 5 : n);
				}
			}
		}
		free(line);
		fclose(f);
	}
	if (ctx->nservers == 0)
		(void)dns_add_server(ctx, "127.0.0.1", e, sizeof(e));
	return 0;
}
