/*
 * io_fd.c - our own plain socket (see io.c, include/io.h).
 *
 * A plain TCP (or unix) socket is io's own: one event of its own for
 * the socket, the unread input in a buffer that exists only while
 * bytes wait in it, and what send() did not take in another. An idle
 * session, waiting for a reply, holds neither buffer: no bufferevent,
 * no evbuffers (about 0.9 KB a session less than a bufferevent with
 * its two buffers). One event, in the same allocation as the io,
 * waits for the socket and for the deadline at once; when there is no
 * socket of io's own (a bufferevent, or none) it is the deadline timer
 * alone (io_arm()).
 *
 * Here: the socket's event and the deadline (io_watch, io_arm,
 * io_set_deadline), the connect's end, reads and writes of the socket
 * (io_fd_*), and the input buffer every connection's lines are cut
 * from (io_room, io_pull, io_in_done). Connecting, lines, TLS and the
 * bufferevent are in io.c.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "io_int.h"
#include "log.h"
#include "util.h"

static void	io_timeout(struct io *);
static void	io_evcb(evutil_socket_t, short, void *);
static void	io_fdcb(struct io *, short);
static void	io_arm(struct io *);
static int	io_left(struct io *, struct timeval *);
static void	io_fd_connected(struct io *);
static void	io_fd_read(struct io *);
static void	io_fd_flush(struct io *);
static char	*io_room(struct io *, size_t);
static void	io_eof(struct io *);

/* io_watch - let the socket's event wait for what (0: nothing) */
void
io_watch(struct io *io, short what)
{
	if (io->watch == what)
		return;
	io->watch = what;
	io_arm(io);
}

/* io_now - monotonic microseconds */
static int64_t
io_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* io_left - the time to the deadline into tv (0 when past); 0 none */
static int
io_left(struct io *io, struct timeval *tv)
{
	int64_t	 us;

	if (io->deadline == 0)
		return 0;
	us = io->deadline - io_now();
	if (us < 0)
		us = 0;
	tv->tv_sec = (time_t)(us / 1000000);
	tv->tv_usec = (suseconds_t)(us % 1000000);
	return 1;
}

/*
 * io_arm - (re)make the one event: our socket's, for io->watch and the
 * deadline, or the deadline alone (no socket of our own, or nothing to
 * watch on it), or nothing
 */
static void
io_arm(struct io *io)
{
	struct timeval	 tv;
	int		 dl;
	short		 what = io->fd != -1 ? io->watch : 0;

	if (io->armed) {
		event_del(io->ev);
		io->armed = 0;
	}
	dl = io_left(io, &tv);
	if (what == 0 && !dl)
		return;
	if (event_assign(io->ev, io->base, what != 0 ? io->fd : -1,
	    what != 0 ? what | EV_PERSIST : 0, io_evcb, io) == -1 ||
	    event_add(io->ev, dl ? &tv : NULL) == -1)
		fatalx("cannot watch a socket");
	io->armed = 1;
}

/*
 * io_evcb - the socket is ready, or the deadline passed, or both (then
 * the input first, as when they were two events: a deadline set again
 * meanwhile is not the one that passed). A persistent event's timeout
 * starts again at any activity; the deadline is not moved by input,
 * so it is set back to what is left of it.
 */
static void
io_evcb(evutil_socket_t fd, short what, void *arg)
{
	struct io	*io = arg;
	unsigned	 gen = io->gen, dl_gen = io->dl_gen;
	struct timeval	 tv;

	(void)fd;
	if (!(event_get_events(io->ev) & EV_PERSIST))
		io->armed = 0;		/* a timer alone fires once */
	if ((what & (EV_READ | EV_WRITE)) && io->fd != -1) {
		io_fdcb(io, what);
		if (io->gen != gen)
			return;
	}
	if (io->dl_gen != dl_gen || io->deadline == 0)
		return;
	if (what & EV_TIMEOUT) {
		io_timeout(io);
		return;
	}
	if (io->armed && io->watch != 0 && io_left(io, &tv))
		event_add(io->ev, &tv);
}

/* io_fdcb - our own socket is ready */
static void
io_fdcb(struct io *io, short what)
{
	unsigned	 gen = io->gen;

	if (io->connecting) {
		if (what & EV_WRITE)
			io_fd_connected(io);
		return;
	}
	if (what & EV_READ) {
		io_fd_read(io);
		if (io->gen != gen || io->fd == -1)
			return;
	}
	if ((what & EV_WRITE) && io->outlen > io->outoff)
		io_fd_flush(io);
}

/* io_fd_connected - the socket is writable after connect(): up, or not */
static void
io_fd_connected(struct io *io)
{
	struct sockaddr_storage ss;
	socklen_t	 sl = sizeof(ss);
	int		 e = 0;
	socklen_t	 el = sizeof(e);

	if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
		e = errno;
	if (e == EINPROGRESS || e == EINTR)
		return;
	io->connecting = 0;
	if (e != 0) {
		io_watch(io, 0);
		io_sockfail(io, e);
		return;
	}
	memset(&ss, 0, sizeof(ss));	/* an unnamed unix socket fills
					   only the family */
	if (getsockname(io->fd, (struct sockaddr *)&ss, &sl) == 0)
		io_set_addr(&io->local, (struct sockaddr *)&ss);
	io->connected = 1;
	io_watch(io, io->outlen > io->outoff ? EV_READ | EV_WRITE : EV_READ);
	io_connected(io);
}

/*
 * io_room - at least n bytes free after the unread input (moved to the
 * front first); the place to put them
 */
static char *
io_room(struct io *io, size_t n)
{
	size_t	 unread = io->inlen - io->inoff;

	if (io->inoff > 0 && !io->busy) {
		memmove(io->in, io->in + io->inoff, unread);
		io->inoff = 0;
		io->inlen = unread;
	}
	if (io->incap - io->inlen < n) {
		size_t	 cap = io->inlen + n;
		char	*nb;

		if (io->busy) {
			/* the line being delivered must stay where it is */
			nb = xmalloc(cap);
			if (io->inlen > 0)
				memcpy(nb, io->in, io->inlen);
			if (io->stale == NULL)
				io->stale = io->in;
			else
				free(io->in);
			io->in = nb;
		} else
			io->in = xreallocarray(io->in, cap, 1);
		io->incap = cap;
	}
	return io->in + io->inlen;
}

/* io_in_done - give the input buffer back once everything is read */
void
io_in_done(struct io *io)
{
	if (io->busy || io->inoff < io->inlen)
		return;
	free(io->in);
	io->in = NULL;
	io->inoff = io->inlen = io->incap = 0;
}

/* io_pull - move what the bufferevent received into the input buffer */
void
io_pull(struct io *io)
{
	struct evbuffer	*src;
	size_t		 n;

	if (io->bev == NULL)
		return;
	src = bufferevent_get_input(io->bev);
	if ((n = evbuffer_get_length(src)) == 0)
		return;
	evbuffer_remove(src, io_room(io, n), n);
	io->inlen += n;
}

/*
 * io_fd_read - one read() of our socket, as a socket bufferevent does.
 * It reads onto the stack and keeps only what came: a reply is a few
 * dozen bytes, and a 4 KiB block from malloc() each time (a request
 * that large makes glibc consolidate its fast bins first) cost more
 * than the copy.
 */
static void
io_fd_read(struct io *io)
{
	ssize_t		 n;
	char		 buf[IO_READ_MAX];
	int		 e;

	n = read(io->fd, buf, sizeof(buf));
	if (n == -1) {
		e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) {
			io_in_done(io);
			return;
		}
		io_watch(io, io->watch & ~EV_READ);
		io_sockfail(io, e);
		return;
	}
	if (n == 0) {
		io_watch(io, io->watch & ~EV_READ);
		io_eof(io);
		return;
	}
	memcpy(io_room(io, (size_t)n), buf, (size_t)n);
	io->inlen += (size_t)n;
	io_input(io);
}

/* io_fd_flush - send what waits; what the socket takes leaves */
static void
io_fd_flush(struct io *io)
{
	ssize_t	 n;
	int	 e;

	n = send(io->fd, io->out + io->outoff, io->outlen - io->outoff,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		io->outoff += (size_t)n;
		if (io->outoff == io->outlen) {
			free(io->out);
			io->out = NULL;
			io->outoff = io->outlen = 0;
			io_watch(io, io->watch & ~EV_WRITE);
		}
		return;
	}
	e = n == -1 ? errno : 0;
	if (n == -1 && (e == EAGAIN || e == EWOULDBLOCK || e == EINTR))
		return;
	io_watch(io, io->watch & ~EV_WRITE);
	if (n == 0)
		io_eof(io);
	else
		io_sockfail(io, e);
}

/*
 * io_write - send buf. On our own socket with nothing queued, the bytes
 * go out at once with send(): a command is a few dozen bytes, which
 * the socket takes whole, and the socket's event never has to wait
 * for writing (two epoll_ctl calls a command). What the socket does
 * not take waits in io's output buffer for the socket to be writable;
 * anything on TLS, a test seam or --pipe goes through the bufferevent.
 */
void
io_write(struct io *io, const char *buf, size_t len)
{
	ssize_t		 n;

	if (io->bev != NULL) {
		bufferevent_write(io->bev, buf, len);
		if (io->tls)
			io_tls_settle(io);
		return;
	}
	if (io->fd == -1)
		return;
	if (io->outlen == io->outoff && io->connected) {
		n = send(io->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ENOBUFS)
			/*
			 * The peer reset the connection: the bytes can go
			 * nowhere. The socket is readable now; the reader
			 * delivers what the server sent before the reset,
			 * then reports the reset (a write error reported
			 * first would lose that reply).
			 */
			return;
	}
	if (len == 0)
		return;
	if (io->outoff > 0 && io->outoff == io->outlen)
		io->outoff = io->outlen = 0;
	io->out = xreallocarray(io->out, io->outlen + len, 1);
	memcpy(io->out + io->outlen, buf, len);
	io->outlen += len;
	if (io->connected)
		io_watch(io, io->watch | EV_WRITE);
}

/*
 * io_set_deadline - on a pending socket event only its timeout changes
 * (event_add(), event_remove_timer(): no epoll_ctl)
 */
void
io_set_deadline(struct io *io, long ms)
{
	struct timeval	 tv;

	if (io_seams != NULL && io_seams->arm != NULL) {
		io_seams->arm(io_seams->arg, io, ms > 0 ? ms : 0);
		return;
	}
	io->dl_gen++;
	if (ms <= 0) {
		if (io->deadline == 0)
			return;
		io->deadline = 0;
		if (io->armed && io->fd != -1 && io->watch != 0)
			event_remove_timer(io->ev);
		else
			io_arm(io);
		return;
	}
	io->deadline = io_now() + (int64_t)ms * 1000;
	if (io->armed) {
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		event_add(io->ev, &tv);
	} else
		io_arm(io);
}

/* io_timeout - the deadline passed: it is gone, then IO_TIMEOUT */
static void
io_timeout(struct io *io)
{
	io->deadline = 0;
	io->dl_gen++;
	if (io->armed && io->fd != -1 && io->watch != 0)
		event_remove_timer(io->ev);
	else if (io->armed) {
		event_del(io->ev);
		io->armed = 0;
	}
	io_expire(io);
}

/* io_eof - our own socket: the peer closed; the lines before it first */
static void
io_eof(struct io *io)
{
	unsigned	 gen = io->gen;

	io_input(io);
	if (io->gen != gen || !io_is_open(io))
		return;
	io_eof_report(io);
}

/* io_sockfail - our own socket failed with errno err */
void
io_sockfail(struct io *io, int err)
{
	unsigned	 gen = io->gen;

	io_input(io);
	if (io->gen != gen || !io_is_open(io))
		return;
	io_plain_fail(io, err);
}

