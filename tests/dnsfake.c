/*
 * dnsfake.c - a misbehaving DNS server for the cases a real server
 * will not produce on demand.
 *
 * usage: dnsfake [-d] [-a addr] [-P portfile] [-l logfile] [-t secs]
 *
 * Listens on UDP and TCP, same port, on one address (default 127.0.0.1,
 * port chosen by the kernel and written to portfile, atomically). -d
 * makes it a dead server: the sockets exist but nothing is ever read
 * or answered. -l appends one line per query received: "udp|tcp QNAME
 * QTYPE". -t is a watchdog: exit 2 after secs seconds (default 120).
 *
 * The first label of the question name chooses the behaviour:
 *	tc	UDP: empty answer with TC=1; TCP: the normal answer
 *	tcpbad	UDP: TC=1; TCP: the connection is closed unanswered
 *	servfail, refused, nx	SERVFAIL, REFUSED, NXDOMAIN
 *	drop	no answer at all
 *	slow	the normal answer after 1500 ms
 *	spoof	UDP: first an answer with a wrong ID, then one for another
 *		name, then 7 bytes of garbage, then the normal answer
 *	slowmx	MX at once, pointing to slow.mx1.<name> and slow.mx2.<name>
 *	other	the normal answer: A 192.0.2.1, AAAA 2001:db8::1,
 *		MX 10 mx1.<name> and MX 10 mx2.<name>, TXT "hello " "world";
 *		other types: NODATA. Wrong answers carry A 192.0.2.66.
 * Names are matched case-insensitively; the question is echoed.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>

struct pending {
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	uint8_t			*wire;
	size_t			 len;
	struct event		*ev;
};

static struct event_base	*base;
static int			 udpfd = -1;
static FILE			*logfp;

static void	fake_fatal(const char *) __attribute__((noreturn));
static ldns_pkt	*fake_answer(ldns_pkt *, int tcp, int *drop, int *slow,
		    int *spoof, int *tcpclose);
static void	fake_udp(evutil_socket_t, short, void *);
static void	fake_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	fake_tcp_read(struct bufferevent *, void *);
static void	fake_tcp_event(struct bufferevent *, short, void *);
static void	fake_delayed(evutil_socket_t, short, void *);
static void	fake_watchdog(evutil_socket_t, short, void *);

static void
fake_fatal(const char *what)
{
	fprintf(stderr, "dnsfake: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* fake_wire - wire form of p; caller frees */
static uint8_t *
fake_wire(ldns_pkt *p, size_t *len)
{
	uint8_t	*w = NULL;

	if (ldns_pkt2wire(&w, p, len) != LDNS_STATUS_OK) {
		fprintf(stderr, "dnsfake: ldns_pkt2wire failed\n");
		exit(1);
	}
	return w;
}

/* fake_add - add an answer record given in presentation form */
static void
fake_add(ldns_pkt *p, const char *rec)
{
	ldns_rr	*rr = NULL;

	if (ldns_rr_new_frm_str(&rr, rec, 300, NULL, NULL) !=
	    LDNS_STATUS_OK) {
		fprintf(stderr, "dnsfake: bad record %s\n", rec);
		exit(1);
	}
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
}

/*
 * fake_answer - the answer to q; sets *drop (no answer), *slow,
 * *spoof, *tcpclose. Returns NULL for a query we do not understand.
 */
static ldns_pkt *
fake_answer(ldns_pkt *q, int tcp, int *drop, int *slow, int *spoof,
    int *tcpclose)
{
	ldns_pkt	*a;
	ldns_rr		*qrr;
	ldns_rdf	*label;
	char		*name, *first, rec[600];
	const char	*pre;
	ldns_rr_type	 t;

	*drop = *slow = *spoof = *tcpclose = 0;
	if (ldns_pkt_qdcount(q) != 1 || ldns_pkt_qr(q))
		return NULL;
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	t = ldns_rr_get_type(qrr);
	name = ldns_rdf2str(ldns_rr_owner(qrr));
	label = ldns_dname_label(ldns_rr_owner(qrr), 0);
	first = label != NULL ? ldns_rdf2str(label) : strdup(".");
	if (label != NULL)
		ldns_rdf_deep_free(label);
	if (first[0] != '\0' && first[strlen(first) - 1] == '.')
		first[strlen(first) - 1] = '\0';
	if (logfp != NULL) {
		fprintf(logfp, "%s %s %s\n", tcp ? "tcp" : "udp", name,
		    ldns_rr_descript(t) != NULL ? ldns_rr_descript(t)->_name :
		    "?");
		fflush(logfp);
	}

	a = ldns_pkt_new();
	ldns_pkt_set_id(a, ldns_pkt_id(q));
	ldns_pkt_set_qr(a, 1);
	ldns_pkt_set_rd(a, ldns_pkt_rd(q));
	ldns_pkt_set_ra(a, 1);
	ldns_pkt_set_opcode(a, LDNS_PACKET_QUERY);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, ldns_rr_clone(qrr));
	ldns_pkt_set_rcode(a, LDNS_RCODE_NOERROR);

	if (strcasecmp(first, "drop") == 0)
		*drop = 1;
	else if (strcasecmp(first, "servfail") == 0)
		ldns_pkt_set_rcode(a, LDNS_RCODE_SERVFAIL);
	else if (strcasecmp(first, "refused") == 0)
		ldns_pkt_set_rcode(a, LDNS_RCODE_REFUSED);
	else if (strcasecmp(first, "nx") == 0)
		ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
	else if ((strcasecmp(first, "tc") == 0 ||
	    strcasecmp(first, "tcpbad") == 0) && !tcp)
		ldns_pkt_set_tc(a, 1);
	else if (strcasecmp(first, "tcpbad") == 0)
		*tcpclose = 1;
	else {
		if (strcasecmp(first, "slow") == 0)
			*slow = 1;
		if (strcasecmp(first, "spoof") == 0 && !tcp)
			*spoof = 1;
		switch (t) {
		case LDNS_RR_TYPE_A:
			snprintf(rec, sizeof(rec), "%s IN A 192.0.2.1", name);
			fake_add(a, rec);
			break;
		case LDNS_RR_TYPE_AAAA:
			snprintf(rec, sizeof(rec), "%s IN AAAA 2001:db8::1",
			    name);
			fake_add(a, rec);
			break;
		case LDNS_RR_TYPE_MX:
			pre = strcasecmp(first, "slowmx") == 0 ? "slow." : "";
			snprintf(rec, sizeof(rec), "%s IN MX 10 %smx1.%s",
			    name, pre, name);
			fake_add(a, rec);
			snprintf(rec, sizeof(rec), "%s IN MX 10 %smx2.%s",
			    name, pre, name);
			fake_add(a, rec);
			break;
		case LDNS_RR_TYPE_TXT:
			snprintf(rec, sizeof(rec),
			    "%s IN TXT \"hello \" \"world\"", name);
			fake_add(a, rec);
			break;
		default:
			break;
		}
	}
	LDNS_FREE(name);
	free(first);
	return a;
}

/*
 * fake_wrong - an answer that must be ignored: q's question with a
 * wrong id, or the right id with a question for another name
 */
static uint8_t *
fake_wrong(ldns_pkt *q, int wrong_id, size_t *len)
{
	ldns_pkt	*a;
	ldns_rr		*qrr = NULL;
	uint8_t		*w;
	char		*owner, rec[600];

	a = ldns_pkt_new();
	ldns_pkt_set_id(a, wrong_id ? (uint16_t)(ldns_pkt_id(q) ^ 0x5a5a) :
	    ldns_pkt_id(q));
	ldns_pkt_set_qr(a, 1);
	ldns_pkt_set_rd(a, ldns_pkt_rd(q));
	ldns_pkt_set_ra(a, 1);
	if (wrong_id)
		qrr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
	else if (ldns_rr_new_question_frm_str(&qrr, "other.invalid. IN A",
	    NULL, NULL) != LDNS_STATUS_OK)
		exit(1);
	owner = ldns_rdf2str(ldns_rr_owner(qrr));
	snprintf(rec, sizeof(rec), "%s IN A 192.0.2.66", owner);
	LDNS_FREE(owner);
	ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, qrr);
	fake_add(a, rec);
	w = fake_wire(a, len);
	ldns_pkt_free(a);
	return w;
}

/* fake_udp - one datagram in, the chosen behaviour out */
static void
fake_udp(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t		 buf[65536];
	static const uint8_t	 garbage[] = "\x01\x02garb";
	struct sockaddr_storage	 peer;
	socklen_t		 plen = sizeof(peer);
	ldns_pkt		*q, *a;
	uint8_t			*w;
	size_t			 len;
	ssize_t			 n;
	int			 drop, slow, spoof, tcpclose;
	struct pending		*pd;
	struct timeval		 tv = { 1, 500000 };

	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
	    &plen);
	if (n <= 0)
		return;
	if (ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
		return;
	a = fake_answer(q, 0, &drop, &slow, &spoof, &tcpclose);
	if (a == NULL || drop) {
		if (a != NULL)
			ldns_pkt_free(a);
		ldns_pkt_free(q);
		return;
	}
	if (spoof) {
		w = fake_wrong(q, 1, &len);
		sendto(fd, w, len, 0, (struct sockaddr *)&peer, plen);
		free(w);
		w = fake_wrong(q, 0, &len);
		sendto(fd, w, len, 0, (struct sockaddr *)&peer, plen);
		free(w);
		sendto(fd, garbage, sizeof(garbage) - 1, 0,
		    (struct sockaddr *)&peer, plen);
	}
	w = fake_wire(a, &len);
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	if (!slow) {
		sendto(fd, w, len, 0, (struct sockaddr *)&peer, plen);
		free(w);
		return;
	}
	pd = calloc(1, sizeof(*pd));
	if (pd == NULL)
		fake_fatal("calloc");
	pd->peer = peer;
	pd->peerlen = plen;
	pd->wire = w;
	pd->len = len;
	pd->ev = evtimer_new(base, fake_delayed, pd);
	evtimer_add(pd->ev, &tv);
}

/* fake_delayed - send a slow answer */
static void
fake_delayed(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*pd = arg;

	sendto(udpfd, pd->wire, pd->len, 0, (struct sockaddr *)&pd->peer,
	    pd->peerlen);
	event_free(pd->ev);
	free(pd->wire);
	free(pd);
}

static void
fake_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		fake_fatal("bufferevent_socket_new");
	bufferevent_setcb(bev, fake_tcp_read, NULL, fake_tcp_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* fake_tcp_read - length-prefixed queries in, answers out */
static void
fake_tcp_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[2], *msg, *w;
	size_t		 qlen, len;
	ldns_pkt	*q, *a;
	int		 drop, slow, spoof, tcpclose;

	while (evbuffer_get_length(in) >= 2) {
		evbuffer_copyout(in, hdr, 2);
		qlen = (size_t)hdr[0] << 8 | hdr[1];
		if (evbuffer_get_length(in) < qlen + 2)
			return;
		evbuffer_drain(in, 2);
		msg = malloc(qlen);
		if (msg == NULL)
			fake_fatal("malloc");
		evbuffer_remove(in, msg, qlen);
		if (ldns_wire2pkt(&q, msg, qlen) != LDNS_STATUS_OK) {
			free(msg);
			bufferevent_free(bev);
			return;
		}
		free(msg);
		a = fake_answer(q, 1, &drop, &slow, &spoof, &tcpclose);
		ldns_pkt_free(q);
		if (a == NULL || tcpclose) {
			if (a != NULL)
				ldns_pkt_free(a);
			bufferevent_free(bev);
			return;
		}
		if (drop) {
			ldns_pkt_free(a);
			continue;
		}
		w = fake_wire(a, &len);
		ldns_pkt_free(a);
		hdr[0] = (uint8_t)(len >> 8);
		hdr[1] = (uint8_t)len;
		bufferevent_write(bev, hdr, 2);
		bufferevent_write(bev, w, len);
		free(w);
	}
}

static void
fake_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
fake_watchdog(evutil_socket_t fd, short what, void *arg)
{
	fprintf(stderr, "dnsfake: watchdog\n");
	exit(2);
}

static void
fake_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(base);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sslen;
	const char		*addr = "127.0.0.1", *portfile = NULL;
	const char		*logfile = NULL;
	struct evconnlistener	*lis = NULL;
	struct event		*uev = NULL, *wd, *sigterm, *sigint;
	struct timeval		 tv = { 120, 0 };
	int			 ch, dead = 0, tfd, try;
	unsigned		 port = 0;
	char			 tmp[4096];
	FILE			*f;

	while ((ch = getopt(argc, argv, "a:dl:P:t:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'd':
			dead = 1;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 't':
			tv.tv_sec = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: dnsfake [-d] [-a addr] "
			    "[-P portfile] [-l logfile] [-t secs]\n");
			return 64;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (logfile != NULL && (logfp = fopen(logfile, "a")) == NULL)
		fake_fatal(logfile);
	if ((base = event_base_new()) == NULL)
		fake_fatal("event_base_new");

	/* UDP on an ephemeral port, then TCP on the same one */
	for (try = 0; try < 20; try++) {
		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			sslen = sizeof(*s4);
		} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			sslen = sizeof(*s6);
		} else {
			fprintf(stderr, "dnsfake: bad address %s\n", addr);
			return 64;
		}
		if (udpfd != -1)
			close(udpfd);
		udpfd = socket(ss.ss_family, SOCK_DGRAM, 0);
		if (udpfd == -1 || bind(udpfd, (struct sockaddr *)&ss,
		    sslen) == -1 || getsockname(udpfd,
		    (struct sockaddr *)&ss, &sslen) == -1)
			fake_fatal("udp socket");
		port = ntohs(ss.ss_family == AF_INET ? s4->sin_port :
		    s6->sin6_port);
		tfd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (tfd == -1)
			fake_fatal("tcp socket");
		ch = 1;
		setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &ch, sizeof(ch));
		if (bind(tfd, (struct sockaddr *)&ss, sslen) == 0 &&
		    listen(tfd, 16) == 0)
			break;
		close(tfd);
		tfd = -1;
	}
	if (tfd == -1)
		fake_fatal("no port free for both UDP and TCP");
	evutil_make_socket_nonblocking(udpfd);
	evutil_make_socket_nonblocking(tfd);
	if (!dead) {
		uev = event_new(base, udpfd, EV_READ | EV_PERSIST, fake_udp,
		    NULL);
		event_add(uev, NULL);
		lis = evconnlistener_new(base, fake_accept, NULL,
		    LEV_OPT_CLOSE_ON_FREE, -1, tfd);
		if (lis == NULL)
			fake_fatal("evconnlistener_new");
	}
	if (portfile != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "w")) == NULL)
			fake_fatal(tmp);
		fprintf(f, "%u\n", port);
		fclose(f);
		if (rename(tmp, portfile) == -1)
			fake_fatal("rename");
	} else
		printf("%u\n", port);
	wd = evtimer_new(base, fake_watchdog, NULL);
	evtimer_add(wd, &tv);
	sigterm = evsignal_new(base, SIGTERM, fake_signal, NULL);
	sigint = evsignal_new(base, SIGINT, fake_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(base);
	if (uev != NULL)
		event_free(uev);
	if (lis != NULL)
		evconnlistener_free(lis);
	else
		close(tfd);
	event_free(wd);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	close(udpfd);
	if (logfp != NULL)
		fclose(logfp);
	return 0;
}
