/*
 * io.h - the only code that touches bufferevents.
 *
 * An io object carries one TCP connection: connect (optionally from a
 * chosen source address), read lines cut at LF with a hard length cap,
 * write, start TLS on the live connection (STARTTLS, or right after
 * connect for implicit TLS), and one deadline timer. Everything that
 * happens is reported to the owner's callback as an enum io_event.
 * In raw mode (io_set_raw(), for HTTPS) input is not cut into lines:
 * IO_DATA says bytes are there and io_read() takes them.
 *
 * Reentrancy: the callback may call any io_* function, including
 * io_close(), but must not call io_free() on the io that is calling it.
 * io_close() drops the connection at once and delivers nothing more.
 */
#ifndef SMTPROBE_IO_H
#define SMTPROBE_IO_H

#include <sys/types.h>
#include <sys/socket.h>
#include <stddef.h>

struct event_base;
struct io;
typedef struct ssl_st SSL;

enum io_event {
	IO_CONNECTED,	/* TCP connection up */
	IO_TLSREADY,	/* TLS handshake done */
	IO_LINE,	/* a line is ready: io_line() */
	IO_DATA,	/* raw mode: input is ready: io_read() */
	IO_TIMEOUT,	/* the deadline passed */
	IO_EOF,		/* the peer closed */
	IO_ERROR	/* connect, socket, TLS or framing error: io_error() */
};

typedef void (*io_cb)(struct io *, enum io_event, void *);

/* What kind of IO_ERROR happened (io_error_kind()) */
enum io_err {
	IO_ERR_NONE,
	IO_ERR_SOCKET,	/* connect, reset, any socket error */
	IO_ERR_REFUSED,	/* the peer refused the connection (ECONNREFUSED) */
	IO_ERR_TLS,	/* handshake or TLS record error */
	IO_ERR_LINE	/* a line longer than io_set_maxline() allows */
};

/*
 * Test seams. A connector replaces the socket: io_connect() asks it for
 * a bufferevent (one end of a bufferevent_pair, say) and reports
 * IO_CONNECTED from the loop; it writes the local address text to
 * local. A clock replaces the deadline timer: arm(io, ms) is called
 * instead of arming it (ms 0 cancels), and the clock calls io_expire()
 * when the deadline has passed. Both are process-wide; NULL restores
 * the real ones. Only tests and fuzzers set them.
 */
struct bufferevent;
struct io_seams {
	struct bufferevent *(*connect)(void *arg, struct event_base *,
			    const struct sockaddr *, char *local, size_t);
	void		(*arm)(void *arg, struct io *, long ms);
	void		*arg;
};
void		 io_set_seams(const struct io_seams *);
void		 io_expire(struct io *);

#define IO_MAX_LINE_DEFAULT	4096	/* bytes per line, line end excluded */

struct io	*io_new(struct event_base *, io_cb, void *arg);
void		 io_free(struct io *);

/* io_set_maxline - longest line accepted; a longer one is IO_ERROR */
void		 io_set_maxline(struct io *, size_t);

/* io_set_raw - input as IO_DATA and io_read() instead of lines */
void		 io_set_raw(struct io *);

/* io_read - up to len bytes of unread input into buf; the count */
size_t		 io_read(struct io *, void *buf, size_t len);

/*
 * io_connect - start a non-blocking connect to sa, bound to local when
 * local is not NULL. Returns 0, or -1 with io_error() set.
 */
int		 io_connect(struct io *, const struct sockaddr *, socklen_t,
		    const struct sockaddr *local, socklen_t locallen);

/*
 * io_starttls - wrap the live connection in TLS with ssl (io takes
 * ownership of ssl). Bytes already received and not yet read as lines
 * are plaintext the server pushed before the handshake (response
 * injection, RFC 3207 4.2): then nothing is started, io_pending()
 * describes them and -1 is returned. IO_TLSREADY or IO_ERROR follows.
 */
int		 io_starttls(struct io *, SSL *);

/* io_has_line - 1 when unread input holds a whole line */
int		 io_has_line(struct io *);

/* io_pending - escaped copy of unread input (caller frees) and its size */
char		*io_pending(struct io *, size_t *);

void		 io_write(struct io *, const char *, size_t);

/* io_set_deadline - IO_TIMEOUT after ms milliseconds; 0 cancels */
void		 io_set_deadline(struct io *, long ms);

/* io_line - during IO_LINE: the line (no line end), its length, bare LF */
const char	*io_line(struct io *, size_t *len, int *bare_lf);

/* io_close - drop the connection now; no more events are delivered */
void		 io_close(struct io *);

const char	*io_error(struct io *);
enum io_err	 io_error_kind(struct io *);
SSL		*io_ssl(struct io *);
int		 io_tls_active(struct io *);
int		 io_is_open(struct io *);

/* io_addr_text - sa as "ADDR:PORT" ("[v6]:PORT") into buf */
void		 io_addr_text(const struct sockaddr *, char *, size_t);

/*
 * io_local / io_peer - socket addresses as "ADDR:PORT" ("[v6]:PORT"),
 * while IO_CONNECTED is delivered (the peer's from io_connect() on);
 * after it "": the owner copies what it keeps
 */
const char	*io_local(struct io *);
const char	*io_peer(struct io *);

/* io_sockname - our end of the socket (getsockname): 0, or -1 */
int		 io_sockname(struct io *, struct sockaddr_storage *,
		    socklen_t *);

/*
 * io_set_interface - the next io_connect() binds its socket to the
 * network interface ifname (SO_BINDTODEVICE; Linux); a kernel that
 * refuses (no such interface, no privilege) makes it fail with the
 * reason. ifname is borrowed; NULL: any.
 */
void		 io_set_interface(struct io *, const char *ifname);

/*
 * io_pipe - instead of a connection: run command with /bin/sh -c, its
 * stdin and stdout one end of a socketpair (its stderr is ours), and
 * report IO_CONNECTED from the loop. io_close() reaps it: it gets half
 * a second after the close to exit, then SIGTERM, then SIGKILL, to its
 * whole process group. Returns 0, or -1 with io_error() set.
 */
int		 io_pipe(struct io *, const char *command);
/* io_pipe_pid - the command's process id while it runs, else 0 */
long		 io_pipe_pid(struct io *);
/*
 * io_pipe_status - how the command ended, as text ("exited with
 * status 0") into buf; its exit status (128 + N for signal N), or -1
 * while it was not reaped
 */
int		 io_pipe_status(struct io *, char *buf, size_t len);

/*
 * io_after - call cb(arg) once, ms milliseconds from now, on base (a
 * pause with no connection). io_after_free() cancels; NULL is a no-op.
 */
struct io_after;
struct io_after	*io_after(struct event_base *, long ms, void (*)(void *),
		    void *);
void		 io_after_free(struct io_after *);

#endif
