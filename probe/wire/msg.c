/*
 * msg.c - test message and input checks (see include/msg.h).
 *
 * Wire form (RFC 5321 4.5.2, 2.3.8): every LF, CR LF or lone CR ends a
 * line and is sent as CR LF; a line that starts with "." gets a second
 * "."; the message ends with CR LF "." CR LF. A NUL byte is refused:
 * without BINARYMIME it cannot be sent, and silently dropping it would
 * change the message.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "util.h"
#include "valid.h"

static int	header_named(const char *, const char *, size_t);

int
msg_read(const char *path, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	return util_read_file(path, MSG_MAX_SIZE, out, outlen, err, errlen);
}

int
msg_wire(const char *raw, size_t len, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct util_buf	 b = { NULL, 0, 0 };
	size_t		 i, start = 0;
	int		 bol = 1;

	if (memchr(raw, '\0', len) != NULL) {
		snprintf(err, errlen, "the message contains a NUL byte at "
		    "offset %zu", (size_t)((const char *)memchr(raw, '\0',
		    len) - raw));
		return -1;
	}
	util_buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		if (bol && raw[i] == '.')
			util_buf_add(&b, ".", 1);
		bol = 0;
		if (raw[i] != '\r' && raw[i] != '\n')
			continue;
		util_buf_add(&b, raw + start, i - start);
		util_buf_add(&b, "\r\n", 2);
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			i++;
		start = i + 1;
		bol = 1;
		/* the dot check above runs on the next byte */
	}
	if (start < len) {
		util_buf_add(&b, raw + start, len - start);
		util_buf_add(&b, "\r\n", 2);
	}
	util_buf_add(&b, ".\r\n", 3);
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* header_named - 1 if header line h has field name name (len n) */
static int
header_named(const char *h, const char *name, size_t n)
{
	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

int
msg_build(const struct msg_params *p, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	struct util_buf	 b = { NULL, 0, 0 };
	static const char *generated[] = { "Date", "From", "To", "Subject",
	    "Message-ID", "MIME-Version", "Content-Type", "X-Mailer" };
	char		 date[64], id[128], *line;
	time_t		 now = time(NULL);
	struct tm	 tm;
	size_t		 i, j, k;
	int		 wire;

	for (i = 0; i < p->nheaders; i++)
		if (valid_header(p->headers[i], err, errlen) == -1)
			return -1;
	util_buf_add(&b, "", 0);
	if (p->message != NULL) {
		/* the user's message as given; --header lines go on top */
		for (i = 0; i < p->nheaders; i++) {
			util_buf_str(&b, p->headers[i]);
			util_buf_str(&b, "\r\n");
		}
		util_buf_add(&b, p->message, p->messagelen);
		goto done;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(id, sizeof(id), "<smtprobe.%lld.%ld@%s>", (long long)now,
	    (long)getpid(), p->domain != NULL ? p->domain :
	    "smtprobe.invalid");
	for (i = 0; i < nitems(generated); i++) {
		const char *name = generated[i];
		size_t	 nl = strlen(name);

		for (j = 0; j < p->nheaders; j++)
			if (header_named(p->headers[j], name, nl))
				break;
		if (j < p->nheaders)
			continue;	/* the user's version comes below */
		if (strcmp(name, "Date") == 0)
			line = xasprintf("Date: %s", date);
		else if (strcmp(name, "From") == 0)
			line = xasprintf("From: <%s>", p->from[0] != '\0' ?
			    p->from : "MAILER-DAEMON");
		else if (strcmp(name, "To") == 0) {
			struct util_buf t = { NULL, 0, 0 };

			util_buf_str(&t, "To: ");
			for (k = 0; k < p->nto; k++) {
				util_buf_str(&t, k > 0 ? ",\r\n  <" : "<");
				util_buf_str(&t, p->to[k]);
				util_buf_str(&t, ">");
			}
			line = t.p;
		} else if (strcmp(name, "Subject") == 0)
			line = xasprintf("Subject: smtprobe test message %s",
			    date);
		else if (strcmp(name, "Message-ID") == 0)
			line = xasprintf("Message-ID: %s", id);
		else if (strcmp(name, "MIME-Version") == 0)
			line = xstrdup("MIME-Version: 1.0");
		else if (strcmp(name, "Content-Type") == 0)
			line = xstrdup("Content-Type: text/plain; "
			    "charset=us-ascii");
		else
			line = xasprintf("X-Mailer: smtprobe %s", p->version);
		util_buf_str(&b, line);
		util_buf_str(&b, "\r\n");
		free(line);
	}
	for (i = 0; i < p->nheaders; i++) {
		util_buf_str(&b, p->headers[i]);
		util_buf_str(&b, "\r\n");
	}
	util_buf_str(&b, "\r\n");
	if (p->body != NULL)
		util_buf_add(&b, p->body, p->bodylen);
	else {
		line = xasprintf(
		    "This is a test message sent by smtprobe %s, an SMTP\r\n"
		    "diagnostic tool, to check that mail to this address is\r\n"
		    "accepted. It needs no answer and can be deleted.\r\n"
		    "\r\n"
		    "Sent: %s\r\n", p->version, date);
		util_buf_str(&b, line);
		free(line);
	}
done:
	wire = msg_wire(b.p, b.len, out, outlen, err, errlen);
	free(b.p);
	return wire;
}
