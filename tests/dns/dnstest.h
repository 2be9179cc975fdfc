/*
 * dnstest.h - shared scaffolding of the DNS tests that need servers.
 *
 * dt_init(NAME) picks the work directory tests/work/NAME under the
 * build tree (NAME-TAG with $SMTPROBE_DT_TAG set, so that a second run
 * of the same program can go on beside the first).
 * dt_servers_start() runs tests/dns/servers.sh there and fills
 * dt_resolver / dt_resolver6; dt_fake_start() runs tests/dnsfake and
 * returns its "127.0.0.1:PORT". Everything started is stopped at exit
 * (atexit); if the test dies before that, the servers' watcher (owner
 * PID) and the fakes' parent-death signal stop them. A server that
 * does not start is a test failure ("Bail out!"), never a skip.
 *
 * dt_loop(base, &flag, ms) runs the loop until flag is set or ms pass.
 */
#ifndef SMTPROBE_DNSTEST_H
#define SMTPROBE_DNSTEST_H

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define DT_MAXFAKE	8
#define DT_UNUSED	__attribute__((unused))

static char	 dt_work[PATH_MAX];
static char	 dt_resolver[80];
static char	 dt_resolver6[80];
static pid_t	 dt_fakes[DT_MAXFAKE];
static int	 dt_nfakes;
static int	 dt_servers_up;
static pid_t	 dt_pid;

static DT_UNUSED const char *
dt_srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return s != NULL ? s : ".";
}

static DT_UNUSED const char *
dt_builddir(void)
{
	const char	*s = getenv("top_builddir");

	return s != NULL ? s : ".";
}

static void __attribute__((noreturn, format(printf, 1, 2)))
dt_bail(const char *fmt, ...)
{
	va_list	 ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(99);
}

static DT_UNUSED void
dt_stop(void)
{
	char	 cmd[PATH_MAX * 2 + 64];
	int	 i;

	if (getpid() != dt_pid)
		return;		/* a forked child exiting */
	for (i = 0; i < dt_nfakes; i++) {
		kill(dt_fakes[i], SIGTERM);
		waitpid(dt_fakes[i], NULL, 0);
	}
	dt_nfakes = 0;
	if (dt_servers_up) {
		snprintf(cmd, sizeof(cmd), "sh '%s/tests/dns/servers.sh' stop "
		    "'%s' >/dev/null 2>&1", dt_srcdir(), dt_work);
		if (system(cmd) != 0)
			printf("# servers.sh stop failed\n");
		dt_servers_up = 0;
	}
}

static DT_UNUSED void
dt_init(const char *name)
{
	char		 cmd[PATH_MAX + 32];

	const char	*tag = getenv("SMTPROBE_DT_TAG");

	dt_pid = getpid();
	snprintf(dt_work, sizeof(dt_work), "%s/tests/work/%s%s%s",
	    dt_builddir(), name, tag != NULL ? "-" : "",
	    tag != NULL ? tag : "");
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dt_work);
	if (system(cmd) != 0)
		dt_bail("cannot create %s", dt_work);
	atexit(dt_stop);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* dt_readline - first line of a file into buf, "" if none */
static DT_UNUSED void
dt_readline(const char *path, char *buf, size_t len)
{
	FILE	*f;

	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* dt_servers_start - unbound + rbldnsd with the built-in zones */
static DT_UNUSED void
dt_servers_start(void)
{
	char	 cmd[PATH_MAX * 2 + 128], path[PATH_MAX + 32];
	int	 rc;

	snprintf(cmd, sizeof(cmd), "%d", (int)getpid());
	setenv("SMTPROBE_DNS_OWNER", cmd, 1);
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/dns/servers.sh' start '%s' "
	    "</dev/null >'%s/servers.out' 2>&1", dt_srcdir(), dt_work,
	    dt_work);
	dt_servers_up = 1;
	rc = system(cmd);
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "sed 's/^/# /' '%s/servers.out'",
		    dt_work);
		fflush(stdout);
		if (system(cmd) != 0)
			printf("# (no output)\n");
		dt_bail("tests/dns/servers.sh start failed (exit %d)",
		    WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
	}
	snprintf(path, sizeof(path), "%s/resolver", dt_work);
	dt_readline(path, dt_resolver, sizeof(dt_resolver));
	snprintf(path, sizeof(path), "%s/resolver6", dt_work);
	dt_readline(path, dt_resolver6, sizeof(dt_resolver6));
	if (dt_resolver[0] == '\0')
		dt_bail("servers.sh wrote no resolver");
	printf("# resolver %s %s\n", dt_resolver, dt_resolver6);
}

/*
 * dt_fake_start - run tests/dnsfake with extra options (e.g. "-d"),
 * logging to WORK/TAG.log; fill buf with "127.0.0.1:PORT"
 */
static DT_UNUSED void
dt_fake_start(const char *tag, const char *opt, char *buf, size_t len)
{
	char	 prog[PATH_MAX], pfile[PATH_MAX + 64], lfile[PATH_MAX + 64];
	char	 port[16];
	pid_t	 pid;
	int	 i;

	if (dt_nfakes == DT_MAXFAKE)
		dt_bail("too many fakes");
	snprintf(prog, sizeof(prog), "%s/tests/dnsfake", dt_builddir());
	snprintf(pfile, sizeof(pfile), "%s/%s.port", dt_work, tag);
	snprintf(lfile, sizeof(lfile), "%s/%s.log", dt_work, tag);
	unlink(pfile);
	unlink(lfile);
	fflush(stdout);
	if ((pid = fork()) == -1)
		dt_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		if (opt != NULL && opt[0] != '\0')
			execl(prog, "dnsfake", "-P", pfile, "-l", lfile, "-t",
			    "300", opt, (char *)NULL);
		else
			execl(prog, "dnsfake", "-P", pfile, "-l", lfile, "-t",
			    "300", (char *)NULL);
		_exit(127);
	}
	dt_fakes[dt_nfakes++] = pid;
	for (i = 0; i < 200; i++) {
		dt_readline(pfile, port, sizeof(port));
		if (port[0] != '\0')
			break;
		usleep(20000);
	}
	if (port[0] == '\0')
		dt_bail("dnsfake %s did not start", tag);
	snprintf(buf, len, "127.0.0.1:%s", port);
}

/* dt_fake_log_has - 1 if the fake TAG logged a line containing s */
static DT_UNUSED int
dt_fake_log_has(const char *tag, const char *s)
{
	char	 path[PATH_MAX + 64], line[512];
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "%s/%s.log", dt_work, tag);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

static DT_UNUSED void
dt_loop_timeout(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* dt_loop - run base until *flag is nonzero or ms milliseconds pass */
static DT_UNUSED void
dt_loop(struct event_base *base, const int *flag, long ms)
{
	struct event	*t;
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	t = evtimer_new(base, dt_loop_timeout, base);
	evtimer_add(t, &tv);
	while (*flag == 0) {
		if (event_base_loop(base, EVLOOP_ONCE) == -1)
			break;
		if (event_base_got_break(base))
			break;
	}
	event_free(t);
}

#endif
