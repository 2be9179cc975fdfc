/*
 * dns_int.h - what the files of the DNS module share (private to
 * probe/dns/dns*.c; the interface is include/dns.h):
 *
 *   dns.c        the context, one query's tries over UDP and TCP,
 *                delivery
 *   dns_conf.c   server addresses and resolv.conf
 *   dns_parse.c  an answer packet turned into a struct dns_result;
 *                reverse names
 *   dns_mx.c     MX resolution: MX, then the hosts' addresses, ordered
 */
#ifndef SMTPROBE_DNS_INT_H
#define SMTPROBE_DNS_INT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "dns.h"


#define DNS_EDNS_SIZE		1232	/* RFC 9715 / DNS flag day 2020 */
#define DNS_MAXNS_CONF		3	/* resolv.conf servers, as libc */
#define DNS_TIMEOUT_DEFAULT	5000
#define DNS_ATTEMPTS_DEFAULT	2
#define DNS_CNAME_HOPS		16
#define DNS_RESOLV_CONF		"/etc/resolv.conf"

struct dns_server {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[INET6_ADDRSTRLEN + 16];
};

struct dns_ctx {
	struct event_base	*base;
	struct dns_server	 servers[DNS_MAXNS];
	size_t			 nservers;
	long			 timeout_ms;
	int			 attempts;
	uint64_t		 rng;		/* MX shuffle state */
	LIST_HEAD(, dns_query)	 queries;
	LIST_HEAD(, dns_mxq)	 mxqs;
	int			 busy;		/* callbacks running */
	int			 dead;		/* freed during a callback */
	uint8_t			*buf;		/* UDP receive buffer */
};

struct dns_query {
	struct dns_ctx		*ctx;
	LIST_ENTRY(dns_query)	 entry;
	ldns_rdf		*qrdf;		/* NULL: invalid name */
	char			*qname;
	uint16_t		 qtype;
	uint16_t		 id;		/* of the current try */
	int			 try;		/* tries started */
	int			 maxtries;
	size_t			 srv;		/* server of the current try */
	int			 fd;
	int			 tcp;		/* current try is on TCP */
	struct event		*ev;
	struct event		*timer;
	int			 done;		/* result decided, to deliver */
	int64_t			 t0;
	int			 npackets;
	int			 saw_timeout;
	int			 saw_network;
	ldns_pkt		*saved;		/* SERVFAIL and such, kept */
	size_t			 saved_srv;
	int			 saved_tcp;
	uint8_t			*tcpbuf;	/* out: len+query; in: answer */
	size_t			 tcplen;	/* bytes expected */
	size_t			 tcpoff;	/* bytes done */
	int			 tcp_reading;
	dns_cb			 cb;
	void			*arg;
	struct dns_result	 res;
	char			 detail[512];
	char			 neterr[256];
};


/* dns_conf.c */
int	dns_conf_read(struct dns_ctx *, const char *, int, char *, size_t);
int	dns_add_server(struct dns_ctx *, const char *, char *, size_t);

/* dns_parse.c */
void	dns_result_fill(struct dns_query *, ldns_pkt *);
void	dns_result_clear(struct dns_result *);

/* dns.c */
uint64_t dns_rng_next(struct dns_ctx *);

#endif
