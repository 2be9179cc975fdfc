/*
 * batch_input.c - the input of "smtprobe batch": one target per line,
 * an address, a host, a mail domain (or user@domain) with an optional
 * port, or a JSON object with its own sender, recipients and tag. The
 * whole input is read before the loop starts; a line that is not a
 * target becomes an "invalid" record, never a stop.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "batch_int.h"
#include "log.h"
#include "record.h"
#include "report.h"
#include "util.h"
#include "valid.h"

static char	 *binput_canon(const char *s);
static int	 binput_parse_target(struct batch *b, struct bt_target *t,
	    const char *s);
static void	 binput_parse_json(struct batch *b, struct bt_target *t,
	    const char *line, size_t len);

/*
 * binput_name_ok - lower-case name in place and drop one trailing dot; 1 if
 * it then looks like a host name (letters, digits, '-', '_', labels of
 * 1 to 63, at most 253 in all).
 */
int
binput_name_ok(char *s)
{
	char	 err[160];
	size_t	 n = strlen(s), i;

	if (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	/* ASCII only: names go to DNS as they are (no IDNA here) */
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 0;
		s[i] = (char)tolower((unsigned char)s[i]);
	}
	return n <= 253 && valid_domain(s, err, sizeof(err)) == 0;
}

/* binput_canon - an address literal in its inet_ntop form; NULL if none */
static char *
binput_canon(const char *s)
{
	struct dns_addr	 a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a.family, s, a.addr) != 1)
		return NULL;
	inet_ntop(a.family, a.addr, a.text, sizeof(a.text));
	return xstrdup(a.text);
}

/*
 * binput_parse_target - one target: user@domain, user@[address],
 * [IPv6]:PORT, [address], IPv6, IPv4[:PORT], NAME:PORT (a host) or NAME
 * (a mail domain; a host with --no-mx). Fills t, or sets t->why.
 */
static int
binput_parse_target(struct batch *b, struct bt_target *t, const char *s)
{
	char		 err[256], *copy = NULL, *mbox = NULL, *at, *end;
	const char	*port = NULL;
	long		 n;

	if (*s == '\0') {
		t->why = xstrdup("empty target");
		return -1;
	}
	if (strchr(s, '@') != NULL) {
		if ((mbox = valid_address(s, 0, err, sizeof(err))) == NULL) {
			t->why = xstrdup(err);
			return -1;
		}
		at = strrchr(mbox, '@');
		copy = xstrdup(at + 1);
		if (at == mbox || copy[0] == '\0') {
			t->why = xasprintf("\"%s\" is not user@domain", mbox);
			goto bad;
		}
		if (copy[0] == '[') {
			size_t	 len = strlen(copy);
			char	*in = copy + 1;

			if (copy[len - 1] != ']') {
				t->why = xstrdup("unbalanced [ in the domain");
				goto bad;
			}
			copy[len - 1] = '\0';
			if (strncasecmp(in, "IPv6:", 5) == 0)
				in += 5;
			if ((t->host = binput_canon(in)) == NULL) {
				t->why = xasprintf("[%s] is not an address",
				    in);
				goto bad;
			}
			t->kind = BT_LITERAL;
		} else {
			if (!binput_name_ok(copy)) {
				t->why = xasprintf("\"%s\" is not a domain "
				    "name", copy);
				goto bad;
			}
			t->host = copy;
			copy = NULL;
			t->kind = BT_DOMAIN;
		}
		t->to = xcalloc(1, sizeof(char *));
		t->to[0] = mbox;
		t->nto = 1;
		free(copy);
		return 0;
	}
	copy = xstrdup(s);
	if (copy[0] == '[') {
		if ((end = strchr(copy, ']')) == NULL) {
			t->why = xstrdup("unbalanced [");
			goto bad;
		}
		*end = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			t->why = xstrdup("text after ]");
			goto bad;
		}
		if ((t->host = binput_canon(copy + 1)) == NULL) {
			t->why = xasprintf("[%s] is not an address", copy + 1);
			goto bad;
		}
		t->kind = BT_LITERAL;
	} else if (strchr(copy, ':') != NULL &&
	    strchr(copy, ':') != strrchr(copy, ':')) {
		/* IPv6 without brackets: no port */
		if ((t->host = binput_canon(copy)) == NULL) {
			t->why = xasprintf("\"%s\" is not an address (an IPv6 "
			    "address with a port needs [ ])", copy);
			goto bad;
		}
		t->kind = BT_LITERAL;
	} else {
		if ((end = strchr(copy, ':')) != NULL) {
			*end = '\0';
			port = end + 1;
		}
		if ((t->host = binput_canon(copy)) != NULL)
			t->kind = BT_LITERAL;
		else if (binput_name_ok(copy)) {
			t->host = xstrdup(copy);
			t->kind = port != NULL || b->o.no_mx ? BT_HOST :
			    BT_DOMAIN;
		} else {
			t->why = xasprintf("\"%s\" is neither an address nor "
			    "a host name", copy);
			goto bad;
		}
	}
	if (port != NULL) {
		char	*e;

		errno = 0;
		n = strtol(port, &e, 10);
		if (*port == '\0' || *e != '\0' || errno != 0 || n < 1 ||
		    n > 65535) {
			t->why = xasprintf("port \"%s\" is not a number from 1 "
			    "to 65535", port);
			free(t->host);
			t->host = NULL;
			goto bad;
		}
		t->port = (uint16_t)n;
	}
	free(copy);
	return 0;
bad:
	t->kind = BT_INVALID;
	free(copy);
	free(mbox);
	return -1;
}

/* binput_parse_json - a JSON object line: target, from, to, port, tag */
static void
binput_parse_json(struct batch *b, struct bt_target *t, const char *line,
    size_t len)
{
	json_error_t	 je;
	json_t		*o, *v, *e;
	char		 err[256], *a;
	size_t		 i;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		t->text = xstrndup(line, len);
		t->why = o == NULL ? xasprintf("not JSON: %s", je.text) :
		    xstrdup("not a JSON object");
		json_decref(o);
		return;
	}
	v = json_object_get(o, "target");
	if (!json_is_string(v)) {
		t->text = xstrndup(line, len);
		t->why = xstrdup("no \"target\" string");
		goto out;
	}
	t->text = xstrdup(json_string_value(v));
	if ((v = json_object_get(o, "tag")) != NULL)
		t->tag = json_incref(v);
	if (binput_parse_target(b, t, t->text) == -1)
		goto out;
	if ((v = json_object_get(o, "port")) != NULL) {
		json_int_t p = json_is_integer(v) ? json_integer_value(v) : -1;

		if (json_is_string(v)) {
			long	 n;
			char	*end;

			errno = 0;
			n = strtol(json_string_value(v), &end, 10);
			p = *json_string_value(v) != '\0' && *end == '\0' &&
			    errno == 0 ? n : -1;
		}
		if (p < 1 || p > 65535) {
			t->why = xstrdup("\"port\" is not a number from 1 to "
			    "65535");
			goto out;
		}
		t->port = (uint16_t)p;
	}
	if ((v = json_object_get(o, "from")) != NULL) {
		if (!json_is_string(v) || (t->from = valid_address(
		    json_string_value(v), VALID_NULL_OK | b->raw, err,
		    sizeof(err))) == NULL) {
			t->why = xasprintf("\"from\": %s", json_is_string(v) ?
			    err : "not a string");
			goto out;
		}
	}
	if ((v = json_object_get(o, "to")) != NULL) {
		size_t	 n = json_is_array(v) ? json_array_size(v) : 1;

		if (!json_is_array(v) && !json_is_string(v)) {
			t->why = xstrdup("\"to\" is neither a string nor an "
			    "array");
			goto out;
		}
		for (i = 0; i < t->nto; i++)
			free(t->to[i]);
		free(t->to);
		t->to = xcalloc(n + 1, sizeof(char *));
		t->nto = 0;
		for (i = 0; i < n; i++) {
			e = json_is_array(v) ? json_array_get(v, i) : v;
			if (!json_is_string(e) || (a = valid_address(
			    json_string_value(e), b->raw, err,
			    sizeof(err))) == NULL) {
				t->why = xasprintf("\"to\": %s",
				    json_is_string(e) ? err : "not a string");
				goto out;
			}
			t->to[t->nto++] = a;
		}
	}
out:
	if (t->why != NULL)
		t->kind = BT_INVALID;
	json_decref(o);
}

/* binput_load - read and parse every target */
int
binput_load(struct batch *b)
{
	char	 err[512], *p, *line, *nl, *e;
	size_t	 len, index = 0, cap = 0;

	if (util_read_file(b->o.input, 0, &b->input, &len, err, sizeof(err)) ==
	    -1) {
		log_warnx("batch: %s", err);
		return -1;
	}
	b->input_len = len;
	for (p = b->input; p < b->input + len; p = nl + 1, index++) {
		struct bt_target *t;
		size_t	 n;

		line = p;
		if ((nl = memchr(p, '\n', (size_t)(b->input + len - p))) ==
		    NULL)
			nl = b->input + len;
		e = nl;
		while (line < e && isspace((unsigned char)*line))
			line++;
		while (e > line && isspace((unsigned char)e[-1]))
			e--;
		n = (size_t)(e - line);
		if (n == 0 || *line == '#')
			continue;
		if (b->nt == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			b->t = xreallocarray(b->t, cap, sizeof(*b->t));
		}
		t = &b->t[b->nt++];
		memset(t, 0, sizeof(*t));
		t->index = index;
		if (memchr(line, '\0', n) != NULL) {
			t->text = util_escape(line, n);
			t->why = xstrdup("the line holds a NUL byte");
			continue;
		}
		if (*line == '{') {
			binput_parse_json(b, t, line, n);
			continue;
		}
		t->text = xstrndup(line, n);
		binput_parse_target(b, t, t->text);
	}
	return 0;
}

/* binput_free - free the targets and the input */
void
binput_free(struct batch *b)
{
	size_t	 i, j;

	for (i = 0; i < b->nt; i++) {
		struct bt_target *t = &b->t[i];

		free(t->text);
		free(t->host);
		free(t->why);
		free(t->from);
		for (j = 0; j < t->nto; j++)
			free(t->to[j]);
		free(t->to);
		json_decref(t->tag);
	}
	free(b->t);
	free(b->input);
}
