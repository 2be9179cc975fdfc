/*
 * io_int.h - the inside of the io module, shared by its two files:
 * io.c (the io object, lines, TLS and the bufferevent, --pipe) and
 * io_fd.c (our own plain socket, the input buffer, and the one event
 * that waits for the socket and the deadline). Only probe/wire/io*.c
 * include it.
 */
#ifndef SMTPROBE_IO_INT_H
#define SMTPROBE_IO_INT_H

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io.h"

struct bufferevent;
struct event;

struct io {
	struct event_base	*base;
	struct bufferevent	*bev;		/* TLS, a seam or --pipe; else
					   NULL */
	struct event		*ev;		/* fd and deadline (in this
					   block, after the io) */
	io_cb			 cb;
	void			*arg;
	size_t			 maxline;
	char			*in;		/* unread input: in[inoff,
					   inlen); NULL when none */
	size_t			 inoff;
	size_t			 inlen;
	size_t			 incap;
	char			*out;		/* fd: what send() did not take:
					   out[outoff, outlen) */
	size_t			 outoff;
	size_t			 outlen;
	char			*line;		/* during IO_LINE */
	size_t			 linelen;
	int64_t			 deadline;	/* monotonic microseconds; 0
					   none */
	unsigned		 gen;		/* +1 at io_close() and
					   io_starttls(): input delivery
					   stops */
	unsigned		 dl_gen;	/* +1 at io_set_deadline() */
	int			 fd;		/* our own plain socket; -1 */
	short			 watch;		/* what ev waits for on fd */
	unsigned char		 armed;		/* ev is pending */
	unsigned char		 raw;		/* IO_DATA, not lines */
	unsigned char		 tls;		/* TLS handshake done */
	unsigned char		 tls_started;
	unsigned char		 bare_lf;
	unsigned char		 connected;	/* the TCP connection is up */
	unsigned char		 connecting;	/* fd: connect() under way */
	unsigned char		 busy;		/* delivering input: in stays */
	char			*stale;		/* in, as it was when a line was
					   delivered, if a pull during the
					   callback had to move it */
	unsigned char		 child_reaped;
	enum io_err		 err;		/* kind of the last IO_ERROR */
	int			 kick_err;	/* fd: connect() failed at once
					   (reported from the loop) */
	int			 settle_n;	/* io_tls_settle_cb() runs since
					   the last TLS activity */
	struct event		*kick;		/* IO_CONNECTED of a seam */
	struct event		*settle;	/* TLS: io_tls_settle_cb() */
	char			*errmsg;	/* the last error, allocated when
					   there is one (idle sessions
					   carry none) */
	const char		*ifname;	/* --interface, borrowed */
	pid_t			 child;		/* --pipe: the command, 0 none */
	int			 child_status;	/* its wait status, once reaped */
	char			*local;		/* the addresses as text,
					   from io_connect() (or
					   io_pipe()) until IO_CONNECTED
					   has been delivered; then NULL */
	char			*peer;
};

#define IO_ADDR_TEXT	(INET6_ADDRSTRLEN + 8)	/* an address text's
						   size, its NUL included */

#define IO_READ_MAX	4096	/* bytes per read() of a plain socket (as
				   libevent's evbuffer_read()) */

extern const struct io_seams *io_seams;	/* tests only: io_set_seams() */

/* io.c */
void	io_connected(struct io *);
void	io_set_addr(char **, const struct sockaddr *);
void	io_input(struct io *);
void	io_eof_report(struct io *);
void	io_plain_fail(struct io *, int);
void	io_tls_settle(struct io *);

/* io_fd.c */
void	io_watch(struct io *, short);
void	io_pull(struct io *);
void	io_in_done(struct io *);
void	io_sockfail(struct io *, int);

#endif
