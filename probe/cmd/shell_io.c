/*
 * shell_io.c - what "smtprobe shell" reads: lines from a terminal
 * (editline, with history) or a pipe, a password with the echo off
 * (restored on any signal), a message typed up to its end line.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <editline/readline.h>
#include <event2/event.h>

#include "log.h"
#include "shell_int.h"
#include "util.h"

static struct termios		shell_tio;	/* restored on a signal */
static volatile sig_atomic_t	shell_tio_saved;

/*
 * shell_getline - the next input line without its end (caller frees),
 * or NULL at the end of input. prompt is shown on a terminal only.
 */
char *
shell_getline(struct shell *sh, const char *prompt, size_t *len)
{
	char	*l;
	ssize_t	 n;

	if (sh->tty) {
		if ((l = readline(prompt)) == NULL)
			return NULL;
		*len = strlen(l);
		return l;
	}
	if ((n = getline(&sh->lbuf, &sh->lcap, stdin)) == -1)
		return NULL;
	if (n > 0 && sh->lbuf[n - 1] == '\n')
		n--;
	if (n > 0 && sh->lbuf[n - 1] == '\r')
		n--;
	l = xmalloc((size_t)n + 1);
	memcpy(l, sh->lbuf, (size_t)n);
	l[n] = '\0';
	*len = (size_t)n;
	return l;
}

void
shell_sigrestore(int sig)
{
	if (shell_tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &shell_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * shell_getpass - a password: on a terminal asked for without echo, on
 * a pipe the next line. NULL at the end of input. The caller wipes it.
 */
char *
shell_getpass(struct shell *sh, const char *user)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction sa, old[nitems(sigs)];
	struct termios	 t;
	char		 buf[SHELL_MAX_PASS], c, *pw;
	size_t		 n = 0, i;
	ssize_t		 r;

	if (!sh->tty) {
		pw = shell_getline(sh, NULL, &n);
		if (sh->lbuf != NULL)
			explicit_bzero(sh->lbuf, sh->lcap);
		return pw;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = shell_sigrestore;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nitems(sigs); i++)
		sigaction(sigs[i], &sa, &old[i]);
	if (tcgetattr(STDIN_FILENO, &shell_tio) == 0) {
		t = shell_tio;
		t.c_lflag &= ~(tcflag_t)ECHO;
		t.c_lflag |= ICANON;
		/* echo goes off before the prompt shows: nothing typed
		   after the prompt can be echoed */
		shell_tio_saved = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	}
	fprintf(stderr, "Password for %s: ", user);
	fflush(stderr);
	while ((r = read(STDIN_FILENO, &c, 1)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < sizeof(buf))
			buf[n++] = c;
	}
	if (shell_tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &shell_tio);
	shell_tio_saved = 0;
	for (i = 0; i < nitems(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	fputc('\n', stderr);
	c = '\0';
	if (r != 1 && n == 0) {
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	buf[n] = '\0';
	pw = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return pw;
}

/* shell_hist_add - a line typed, for "history" and libedit */
void
shell_hist_add(struct shell *sh, const char *line)
{
	sh->hist = xreallocarray(sh->hist, sh->nhist + 1, sizeof(char *));
	sh->hist[sh->nhist++] = xstrdup(line);
	if (sh->tty)
		add_history(line);
}

void
shell_history(const struct shell *sh)
{
	size_t	 i;

	for (i = 0; i < sh->nhist; i++)
		printf("%5zu  %s\n", i + 1, sh->hist[i]);
}

/*
 * shell_read_body - lines up to a line that is exactly end (the lone
 * "." of "data", a here-document's word, the "end" of a pipeline block),
 * each with "\n"; NULL when the input ends first or a line cannot go
 * into a scenario file (what names the lines in the message).
 */
char *
shell_read_body(struct shell *sh, const char *end, const char *what,
    size_t *len)
{
	char	*l, *b;
	size_t	 n, blen = 0, cap = 256;
	int	 bad = 0;

	b = xmalloc(cap);
	b[0] = '\0';
	for (;;) {
		if ((l = shell_getline(sh, SHELL_BODY, &n)) == NULL) {
			sh->eof = 1;
			fprintf(stderr, "!! the input ended inside %s (no "
			    "line \"%s\"); nothing was sent\n", what, end);
			free(b);
			return NULL;
		}
		if (strlen(l) == strlen(end) && strcmp(l, end) == 0) {
			free(l);
			break;
		}
		if (!bad && (strlen(l) != n || n > SHELL_MAX_LINE)) {
			fprintf(stderr, "!! a line of %s %s\n", what,
			    strlen(l) != n ? "holds a NUL byte" : "is longer "
			    "than 8192 bytes");
			bad = 1;
		}
		if (blen + n + 2 > cap) {
			cap = (blen + n + 2) * 2;
			b = xreallocarray(b, cap, 1);
		}
		memcpy(b + blen, l, n);
		blen += n;
		b[blen++] = '\n';
		b[blen] = '\0';
		free(l);
	}
	if (bad) {
		fprintf(stderr, "!! nothing was sent\n");
		free(b);
		return NULL;
	}
	if (b == NULL)
		b = xstrdup("");
	*len = blen;
	return b;
}
