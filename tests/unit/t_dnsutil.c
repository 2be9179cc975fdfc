/*
 * t_dnsutil.c - the parts of dns.c and check.c that need no server:
 * resolver addresses, resolv.conf, reverse names for PTR and DNSBL
 * queries, DNSBL answer codes, links in a body, generic PTR names.
 * Table-driven; prints TAP.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check.h"
#include "dns.h"
#include "tap.h"

static const struct {
	const char	*in;
	int		 ok;
	int		 family;
	unsigned	 port;
} servers[] = {
	{ "127.0.0.1", 1, AF_INET, 53 },
	{ "127.0.0.1:5353", 1, AF_INET, 5353 },
	{ "192.0.2.1:53", 1, AF_INET, 53 },
	{ "[::1]:5353", 1, AF_INET6, 5353 },
	{ "[::1]", 1, AF_INET6, 53 },
	{ "::1", 1, AF_INET6, 53 },
	{ "2001:db8::53", 1, AF_INET6, 53 },
	{ "[2001:db8::53]:1053", 1, AF_INET6, 1053 },
	{ "ns.example.com", 0, 0, 0 },
	{ "ns.example.com:53", 0, 0, 0 },
	{ "1.2.3.4:0", 0, 0, 0 },
	{ "1.2.3.4:65536", 0, 0, 0 },
	{ "1.2.3.4:x", 0, 0, 0 },
	{ "1.2.3.4:", 0, 0, 0 },
	{ "1.2.3.4:+53", 0, 0, 0 },
	{ "[::1", 0, 0, 0 },
	{ "[::1]x", 0, 0, 0 },
	{ "[::1]:", 0, 0, 0 },
	{ "[127.0.0.1]:53", 0, 0, 0 },
	{ "", 0, 0, 0 },
	{ "1.2.3", 0, 0, 0 },
};

static void
test_servers(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 err[256];
	size_t			 i;
	int			 rc;
	unsigned		 port;

	for (i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
		err[0] = '\0';
		rc = dns_parse_server(servers[i].in, &ss, &len, err,
		    sizeof(err));
		if (!servers[i].ok) {
			ok(rc == -1 && err[0] != '\0', "server \"%s\" refused "
			    "(%s)", servers[i].in, err);
			continue;
		}
		port = ss.ss_family == AF_INET ?
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) :
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		ok(rc == 0 && ss.ss_family == servers[i].family &&
		    port == servers[i].port, "server \"%s\": family %d port %u",
		    servers[i].in, ss.ss_family, port);
	}
}

/* conf - write text to a temp file, make a context from it */
static struct dns_ctx *
conf(struct event_base *base, const char *text, const struct dns_params *pp,
    char *err, size_t errlen)
{
	char			 path[] = "/tmp/t_dnsutil.XXXXXX";
	struct dns_params	 p;
	struct dns_ctx		*ctx;
	int			 fd;

	if ((fd = mkstemp(path)) == -1)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return NULL;
	}
	close(fd);
	if (pp != NULL)
		p = *pp;
	else
		memset(&p, 0, sizeof(p));
	p.resolv_conf = path;
	ctx = dns_ctx_new(base, &p, err, errlen);
	unlink(path);
	return ctx;
}

static void
test_resolv_conf(struct event_base *base)
{
	struct dns_ctx		*ctx;
	struct dns_params	 p;
	char			 err[256];
	int			 i;

	ctx = conf(base, "# comment\n; other comment\n"
	    "domain example.com\nsearch example.com example.net\n"
	    "nameserver 192.0.2.53\n"
	    "nameserver   2001:db8::53  \n"
	    "nameserver bogus-name\n"
	    "nameserver 192.0.2.54\n"
	    "nameserver 192.0.2.55\n"
	    "options ndots:2 timeout:3 attempts:4 rotate edns0 trust-ad\n",
	    NULL, err, sizeof(err));
	ok(ctx != NULL, "resolv.conf parsed");
	if (ctx == NULL)
		return;
	ok(dns_ctx_nservers(ctx) == 3, "three nameservers kept (libc "
	    "MAXNS), bad one skipped: %zu", dns_ctx_nservers(ctx));
	ok(strcmp(dns_ctx_server(ctx, 0), "192.0.2.53:53") == 0 &&
	    strcmp(dns_ctx_server(ctx, 1), "[2001:db8::53]:53") == 0 &&
	    strcmp(dns_ctx_server(ctx, 2), "192.0.2.54:53") == 0,
	    "nameservers in order: %s %s %s", dns_ctx_server(ctx, 0),
	    dns_ctx_server(ctx, 1), dns_ctx_server(ctx, 2));
	ok(dns_ctx_server(ctx, 3) == NULL, "no fourth server");
	ok(dns_ctx_timeout(ctx) == 3000 && dns_ctx_attempts(ctx) == 4,
	    "options timeout:3 attempts:4 -> %ld ms, %d",
	    dns_ctx_timeout(ctx), dns_ctx_attempts(ctx));
	dns_ctx_free(ctx);

	memset(&p, 0, sizeof(p));
	p.timeout_ms = 250;
	p.attempts = 1;
	ctx = conf(base, "nameserver 192.0.2.53\noptions timeout:3\n", &p,
	    err, sizeof(err));
	ok(ctx != NULL && dns_ctx_timeout(ctx) == 250 &&
	    dns_ctx_attempts(ctx) == 1, "parameters override resolv.conf");
	dns_ctx_free(ctx);

	ctx = conf(base, "options timeout:99 attempts:77\n", NULL, err,
	    sizeof(err));
	ok(ctx != NULL && dns_ctx_timeout(ctx) == 30000 &&
	    dns_ctx_attempts(ctx) == 5, "timeout and attempts capped as libc");
	ok(ctx != NULL && dns_ctx_nservers(ctx) == 1 &&
	    strcmp(dns_ctx_server(ctx, 0), "127.0.0.1:53") == 0,
	    "no nameserver: 127.0.0.1, as libc");
	dns_ctx_free(ctx);

	ctx = conf(base, "nameserver fe80::1%lo\n", NULL, err, sizeof(err));
	ok(ctx != NULL && dns_ctx_nservers(ctx) == 1,
	    "link-local nameserver with a scope");
	dns_ctx_free(ctx);

	ctx = conf(base, "", NULL, err, sizeof(err));
	ok(ctx != NULL && dns_ctx_timeout(ctx) == 5000 &&
	    dns_ctx_attempts(ctx) == 2, "defaults: 5000 ms, 2 attempts");
	dns_ctx_free(ctx);

	memset(&p, 0, sizeof(p));
	p.resolv_conf = "/nonexistent/resolv.conf";
	err[0] = '\0';
	ctx = dns_ctx_new(base, &p, err, sizeof(err));
	ok(ctx == NULL && strstr(err, "/nonexistent") != NULL,
	    "missing resolv.conf named explicitly: error (%s)", err);

	memset(&p, 0, sizeof(p));
	p.resolver = "127.0.0.1:5300, [::1]:5301";
	ctx = dns_ctx_new(base, &p, err, sizeof(err));
	ok(ctx != NULL && dns_ctx_nservers(ctx) == 2 &&
	    strcmp(dns_ctx_server(ctx, 1), "[::1]:5301") == 0,
	    "--resolver list of two");
	dns_ctx_free(ctx);

	p.resolver = "127.0.0.1:5300,ns.example";
	ctx = dns_ctx_new(base, &p, err, sizeof(err));
	ok(ctx == NULL && strstr(err, "ns.example") != NULL,
	    "--resolver with a name: error (%s)", err);
	p.resolver = " , ";
	ctx = dns_ctx_new(base, &p, err, sizeof(err));
	ok(ctx == NULL, "--resolver empty: error (%s)", err);
	p.resolver = "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,"
	    "1.1.1.7,1.1.1.8,1.1.1.9";
	ctx = dns_ctx_new(base, &p, err, sizeof(err));
	ok(ctx == NULL, "--resolver with too many servers: error (%s)", err);
	for (i = 0; i < 3; i++)
		dns_ctx_free(NULL);
	ok(1, "dns_ctx_free(NULL) is a no-op");
}

static const struct {
	const char	*ip, *zone, *want;
	int		 rc;
} revs[] = {
	{ "192.0.2.10", NULL, "10.2.0.192.in-addr.arpa", 4 },
	{ "192.0.2.10", "zen.spamhaus.org", "10.2.0.192.zen.spamhaus.org",
	    4 },
	{ "2001:db8::25", NULL, "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", 6 },
	{ "2001:db8:bad::25", "zen.dnsbl.test", "5.2.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.d.a.b.0.8.b.d.0.1.0.0.2.zen.dnsbl.test", 6 },
	{ "::ffff:7f00:2", "l.test", "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.l.test", 6 },
	{ "192.0.2", NULL, NULL, -1 },
	{ "example.com", NULL, NULL, -1 },
	{ "", NULL, NULL, -1 },
};

static void
test_reverse(void)
{
	char	 buf[200];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(revs) / sizeof(revs[0]); i++) {
		rc = dns_reverse_name(revs[i].ip, revs[i].zone, buf,
		    sizeof(buf));
		if (revs[i].rc == -1)
			ok(rc == -1, "reverse of \"%s\" refused", revs[i].ip);
		else
			ok(rc == revs[i].rc && strcmp(buf, revs[i].want) == 0,
			    "reverse of %s: %s", revs[i].ip, buf);
	}
	ok(dns_reverse_name("2001:db8::1", NULL, buf, 60) == -1,
	    "reverse name: short buffer refused");
	ok(strcmp(dns_status_name(DNS_NXDOMAIN), "nxdomain") == 0 &&
	    strcmp(dns_status_name(DNS_TIMEOUT), "timeout") == 0 &&
	    strcmp(dns_status_name(DNS_OK), "ok") == 0, "status names");
}

static const struct {
	const char	*zone, *a;
	int		 listed;
	const char	*meaning;	/* substring, or NULL for none */
} answers[] = {
	{ "zen.spamhaus.org", "127.0.0.2", 1, "SBL" },
	{ "zen.spamhaus.org", "127.0.0.4", 1, "XBL" },
	{ "zen.spamhaus.org", "127.0.0.10", 1, "PBL" },
	{ "ZEN.Spamhaus.ORG", "127.0.0.11", 1, "PBL" },
	{ "zen.spamhaus.org", "127.255.255.254", 0, "public" },
	{ "zen.spamhaus.org", "127.255.255.255", 0, "excessive" },
	{ "zen.spamhaus.org", "127.255.255.252", 0, "typing" },
	{ "bl.spamcop.net", "127.255.255.254", 0, "public" },
	{ "any.example", "127.255.255.1", 0, "error range" },
	{ "dbl.spamhaus.org", "127.0.1.255", 0, "domain list" },
	{ "dbl.spamhaus.org", "127.0.1.2", 1, "spam domain" },
	{ "bl.spamcop.net", "127.0.0.2", 1, NULL },
	{ "bl.spamcop.net", "10.0.0.1", 0, "outside 127" },
	{ "bl.spamcop.net", "192.0.2.250", 0, "outside 127" },
};

static void
test_answers(void)
{
	const char	*m;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		rc = check_dnsbl_answer(answers[i].zone, answers[i].a, &m);
		ok(rc == answers[i].listed && (answers[i].meaning == NULL ?
		    m == NULL : (m != NULL && strstr(m, answers[i].meaning) !=
		    NULL)), "%s %s: %s (%s)", answers[i].zone, answers[i].a,
		    rc ? "listed" : "error", m ? m : "-");
	}
}

static void
test_urls(void)
{
	static const char body[] =
	    "Hello,\r\nsee http://Example.COM/path?x=1 and\r\n"
	    "<a href=\"https://user:pw@www.example.com:8080/x\">here</a>\r\n"
	    "(http://a.example.org). Or http://intranet/page, or\r\n"
	    "http://[2001:db8::1]/v6 and http://192.0.2.1/x.\r\n"
	    "HTTP://example.com/again https:// nothing\r\n"
	    "mailto:x@example.com ftp://ftp.example.com/ "
	    "https://trailing.example.net.\r\n";
	static const char *const want[] = { "example.com", "www.example.com",
	    "a.example.org", "intranet", "2001:db8::1", "192.0.2.1",
	    "trailing.example.net" };
	char		**h;
	size_t		 n, links, more, i;
	int		 same;

	h = check_url_hosts(body, strlen(body), 20, &n, &links, &more);
	same = n == sizeof(want) / sizeof(want[0]);
	for (i = 0; same && i < n; i++) {
		same = strcmp(h[i], want[i]) == 0;
		if (!same)
			printf("# host %zu: \"%s\", want \"%s\"\n", i, h[i],
			    want[i]);
	}
	ok(same, "link hosts: %zu distinct", n);
	ok(links == 8 && more == 0, "8 links counted (%zu), none left out",
	    links);
	for (i = 0; i < n; i++)
		free(h[i]);
	free(h);

	h = check_url_hosts(body, strlen(body), 2, &n, &links, &more);
	ok(n == 2 && more == 5, "at most 2 hosts: %zu kept, %zu left out", n,
	    more);
	for (i = 0; i < n; i++)
		free(h[i]);
	free(h);

	h = check_url_hosts("no links here http:/ x", 22, 20, &n, &links,
	    &more);
	ok(h == NULL && n == 0 && links == 0, "no links");
	h = check_url_hosts("http://exa", 7, 20, &n, &links, &more);
	ok(h == NULL && n == 0, "length respected: a link cut at the end");
}

static const struct {
	const char	*name, *ip;
	int		 generic;
} ptrs[] = {
	{ "dyn-203-0-113-6.insecure.test", "203.0.113.6", 1 },
	{ "6.113.0.203.static.isp.example", "203.0.113.6", 1 },
	{ "ec2-54-1-2-3.compute-1.amazonaws.com", "54.1.2.3", 1 },
	{ "pool-98-1.isp.example", "192.0.2.1", 1 },
	{ "host.dsl.isp.example", "192.0.2.1", 1 },
	{ "mail.example.com", "192.0.2.1", 0 },
	{ "mx1.example.com", "1.2.3.4", 0 },
	{ "smtp-out-2.example.com", "192.0.2.2", 0 },
	{ "mail6.example.com", "2001:db8::25", 0 },
};

static void
test_ptr_generic(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++)
		ok(check_ptr_generic(ptrs[i].name, ptrs[i].ip) ==
		    ptrs[i].generic, "PTR %s for %s: %s", ptrs[i].name,
		    ptrs[i].ip, ptrs[i].generic ? "generic" : "own name");
}

static void
test_status(void)
{
	struct check_item	 items[3];
	struct check_result	 r;

	memset(items, 0, sizeof(items));
	memset(&r, 0, sizeof(r));
	items[0].name = "ptr";
	items[0].subject = (char *)"192.0.2.1";
	items[0].status = CHECK_PASS;
	items[1].name = "dnsbl";
	items[1].subject = (char *)"192.0.2.1";
	items[1].status = CHECK_ERROR;
	items[2].name = "spf";
	items[2].subject = (char *)"example.com";
	items[2].status = CHECK_WARN;
	r.items = items;
	r.nitems = 3;
	ok(check_worst(&r) == CHECK_ERROR, "worst of pass/error/warn: error");
	items[0].status = CHECK_FAIL;
	ok(check_worst(&r) == CHECK_FAIL, "fail beats error");
	ok(check_find(&r, "spf", NULL) == &items[2] &&
	    check_find(&r, "dnsbl", "192.0.2.2") == NULL,
	    "check_find by name and subject");
	ok(strcmp(check_status_name(CHECK_WARN), "warn") == 0 &&
	    strcmp(check_status_name(CHECK_ERROR), "error") == 0,
	    "status names");
	ok(check_default_dnsbl[0] != NULL &&
	    strcmp(check_default_dnsbl[0], "zen.spamhaus.org") == 0,
	    "default DNSBL set starts with zen.spamhaus.org");
}

int
main(void)
{
	struct event_base	*base = event_base_new();

	test_servers();
	test_resolv_conf(base);
	test_reverse();
	test_answers();
	test_urls();
	test_ptr_generic();
	test_status();
	event_base_free(base);
	return tap_done();
}
