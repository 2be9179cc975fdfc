/*
 * floor.c - the bare envelope client of bench/run.sh: the least a
 * client can spend on an SMTP envelope session (connect, greeting,
 * EHLO, MAIL, RCPT, QUIT) at a given concurrency. No TLS, no DNS, no
 * record, no verdict, no libevent: nonblocking sockets on one epoll
 * set, one read and one write per reply. What smtprobe batch spends
 * per envelope session above this is the cost of what it does beyond
 * the protocol. Not a tool: it trusts the server (a sink on loopback)
 * and counts a session that goes wrong as failed.
 *
 * usage: floor -n SESSIONS -c CONCURRENCY HOST PORT
 * prints "ok N failed M" on stdout.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum state { S_GREET, S_EHLO, S_MAIL, S_RCPT, S_QUIT };

struct conn {
	int		 fd;
	enum state	 st;
	size_t		 len;
	char		 buf[2048];
};

static const char *const cmds[] = {
	[S_GREET] = "EHLO bench.test\r\n",
	[S_EHLO] = "MAIL FROM:<a@bench.test>\r\n",
	[S_MAIL] = "RCPT TO:<b@bench.test>\r\n",
	[S_RCPT] = "QUIT\r\n",
};

static struct sockaddr_in	 dst;
static int			 ep;
static long			 started, ok, failed, total;

/* start - open one session, or return -1 */
static int
start(struct conn *c)
{
	struct epoll_event	 ev;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd == -1)
		return -1;
	c->st = S_GREET;
	c->len = 0;
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) == -1 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		close(c->fd);
		return -1;
	}
	started++;
	return 0;
}

/* finish - close a session and start the next one */
static void
finish(struct conn *c, int good)
{
	close(c->fd);
	if (good)
		ok++;
	else
		failed++;
	while (started < total && start(c) == -1)
		failed++, started++;
}

/* complete - true when buf holds a whole reply (a final "NNN " line) */
static int
complete(const char *buf, size_t len, int *code)
{
	size_t	 i = 0, e;

	while (i < len) {
		for (e = i; e < len && buf[e] != '\n'; e++)
			;
		if (e == len)
			return 0;
		if (e - i >= 4 && buf[i + 3] != '-') {
			*code = (buf[i] - '0') * 100 + (buf[i + 1] - '0') * 10 +
			    (buf[i + 2] - '0');
			return 1;
		}
		i = e + 1;
	}
	return 0;
}

/* readable - read what came; on a whole reply send the next command */
static void
readable(struct conn *c)
{
	ssize_t		 n;
	int		 code;
	const char	*cmd;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		finish(c, 0);
		return;
	}
	c->len += (size_t)n;
	if (!complete(c->buf, c->len, &code)) {
		if (c->len == sizeof(c->buf))
			finish(c, 0);
		return;
	}
	c->len = 0;
	if (c->st == S_QUIT) {
		finish(c, code == 221);
		return;
	}
	if (code / 100 != 2) {
		finish(c, 0);
		return;
	}
	cmd = cmds[c->st];
	if (write(c->fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd)) {
		finish(c, 0);
		return;
	}
	c->st++;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	*evs;
	struct conn		*conns;
	struct rlimit		 rl;
	long			 conc = 50, i;
	int			 ch, n;

	while ((ch = getopt(argc, argv, "c:n:")) != -1) {
		switch (ch) {
		case 'c':
			conc = strtol(optarg, NULL, 10);
			break;
		case 'n':
			total = strtol(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || conc < 1 || total < 1)
		goto usage;
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)strtol(argv[1], NULL, 10));
	if (inet_pton(AF_INET, argv[0], &dst.sin_addr) != 1)
		goto usage;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (conc > total)
		conc = total;
	ep = epoll_create1(0);
	conns = calloc((size_t)conc, sizeof(*conns));
	evs = calloc((size_t)conc, sizeof(*evs));
	if (ep == -1 || conns == NULL || evs == NULL)
		return 1;
	for (i = 0; i < conc; i++)
		if (start(&conns[i]) == -1)
			failed++, started++;
	while (ok + failed < total) {
		n = epoll_wait(ep, evs, (int)conc, 10000);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			readable(evs[i].data.ptr);
	}
	printf("ok %ld failed %ld\n", ok, total - ok);
	return ok == total ? 0 : 1;
usage:
	fprintf(stderr, "usage: floor -n SESSIONS -c CONCURRENCY ADDR PORT\n");
	return 2;
}
