/*
 * valid.c - the checks on our own input (see include/valid.h).
 *
 * Grammar of a path (RFC 5321 4.1.2, RFC 6531 3.3 for UTF-8):
 *	Mailbox     = Local-part "@" ( Domain / address-literal )
 *	Local-part  = Dot-string / Quoted-string
 *	Dot-string  = Atom *("." Atom), Atom = 1*atext (or UTF-8)
 *	Quoted      = DQUOTE *( qtextSMTP / "\" %d32-126 ) DQUOTE
 * Source routes ("@a,@b:user@c"), bang paths and other relics are not
 * paths today; a tester sends them with the raw escape.
 */
#include "config.h"

#include <sys/stat.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idn.h"
#include "log.h"
#include "util.h"
#include "valid.h"

static int	valid_atext(unsigned char);
static size_t	valid_local(const char *, size_t, char *, size_t);

/* valid_utf8 - well-formed UTF-8 */
int
valid_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, n;
	unsigned long		 cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* valid_line - bytes fit for one command line */
int
valid_line(const char *s, size_t len, unsigned flags, int allow_tab,
    const char *what, char *err, size_t errlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\0') {
			snprintf(err, errlen, "%s contains a NUL byte", what);
			return -1;
		}
		if (p[i] == '\r' || p[i] == '\n') {
			snprintf(err, errlen, "%s contains a %s", what,
			    p[i] == '\r' ? "carriage return (CR)" :
			    "line feed (LF)");
			return -1;
		}
		if ((p[i] < 0x20 && !(p[i] == '\t' && allow_tab)) ||
		    p[i] == 0x7f) {
			snprintf(err, errlen, "%s contains a control "
			    "character (\\x%02x)", what, p[i]);
			return -1;
		}
	}
	if (!(flags & VALID_RAW) && !valid_utf8(s, len)) {
		snprintf(err, errlen, "%s is not valid UTF-8", what);
		return -1;
	}
	return 0;
}

/* valid_domain - a domain name */
int
valid_domain(const char *d, char *err, size_t errlen)
{
	const unsigned char	*p = (const unsigned char *)d;
	size_t			 i, n = strlen(d), label = 0;
	char			*esc;

	if (n > 1 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > VALID_MAX_DOMAIN) {
		snprintf(err, errlen, "a domain has 1 to %d octets, not %zu",
		    VALID_MAX_DOMAIN, n);
		return -1;
	}
	if (!valid_utf8(d, n))
		goto bad;
	for (i = 0; i <= n; i++) {
		if (i == n || p[i] == '.') {
			if (label == 0 || p[i - 1] == '-')
				goto bad;
			label = 0;
			continue;
		}
		if (!isalnum(p[i]) && p[i] != '-' && p[i] != '_' &&
		    p[i] < 0x80)
			goto bad;
		if (label == 0 && p[i] == '-')
			goto bad;
		if (++label > 63) {
			esc = util_escape(d, n < 60 ? n : 60);
			snprintf(err, errlen, "\"%s\" has a label longer than "
			    "63 octets", esc);
			free(esc);
			return -1;
		}
	}
	return 0;
bad:
	esc = util_escape(d, n < 60 ? n : 60);
	snprintf(err, errlen, "\"%s%s\" is not a domain name (labels of "
	    "letters, digits and inner hyphens, joined by dots)", esc,
	    n > 60 ? "..." : "");
	free(esc);
	return -1;
}

/* valid_fqdn - a domain name with a dot */
int
valid_fqdn(const char *name)
{
	char	 err[160];
	size_t	 n;

	if (name == NULL || valid_domain(name, err, sizeof(err)) == -1)
		return 0;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	return memchr(name, '.', n) != NULL;
}

/* valid_literal - an address literal */
int
valid_literal(const char *s, char *err, size_t errlen)
{
	unsigned char	 buf[16];
	char		 in[64];
	size_t		 n = strlen(s);

	if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof(in))
		goto bad;
	memcpy(in, s + 1, n - 2);
	in[n - 2] = '\0';
	if (strncasecmp(in, "IPv6:", 5) == 0) {
		if (strchr(in + 5, ':') != NULL &&
		    inet_pton(AF_INET6, in + 5, buf) == 1)
			return 0;
	} else if (inet_pton(AF_INET, in, buf) == 1)
		return 0;
bad:
	snprintf(err, errlen, "not an address literal (expected [192.0.2.1] "
	    "or [IPv6:2001:db8::1])");
	return -1;
}

/* valid_helo - a HELO/EHLO name */
int
valid_helo(const char *s, unsigned flags, char *err, size_t errlen)
{
	size_t	 n = strlen(s), max = flags & VALID_RAW ? VALID_MAX_RAW :
		    VALID_MAX_HELO;
	char	 why[200];

	if (n == 0) {
		snprintf(err, errlen, "the HELO name is empty");
		return -1;
	}
	if (n > max) {
		snprintf(err, errlen, "the HELO name has %zu octets, more "
		    "than %zu", n, max);
		return -1;
	}
	if (valid_line(s, n, flags, 0, "the HELO name", err, errlen) == -1)
		return -1;
	if (strchr(s, ' ') != NULL) {
		snprintf(err, errlen, "the HELO name contains a space");
		return -1;
	}
	if (flags & VALID_RAW)
		return 0;
	if (s[0] == '[') {
		if (valid_literal(s, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "the HELO name: %s (or use "
			    "--raw-helo to send it as it is)", why);
			return -1;
		}
		return 0;
	}
	if (valid_domain(s, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "the HELO name: %s; a domain or an "
		    "address literal is needed (or --raw-helo to send it as "
		    "it is)", why);
		return -1;
	}
	return 0;
}

/* valid_atext - RFC 5322 atext, and any byte of a UTF-8 sequence */
static int
valid_atext(unsigned char c)
{
	return isalnum(c) || c >= 0x80 ||
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * valid_local - the length of the local part at the start of a (n
 * bytes), up to the "@" it must be followed by; 0 with err filled
 */
static size_t
valid_local(const char *a, size_t n, char *err, size_t errlen)
{
	const unsigned char	*p = (const unsigned char *)a;
	size_t			 i = 0;

	if (n > 0 && p[0] == '"') {
		for (i = 1; i < n && p[i] != '"'; i++) {
			if (p[i] == '\\') {
				if (++i >= n || p[i] < 32 || p[i] > 126)
					break;
				continue;
			}
			if ((p[i] < 32 || p[i] == 127) && p[i] < 0x80)
				break;
		}
		if (i >= n || p[i] != '"') {
			snprintf(err, errlen, "the quoted local part is not "
			    "closed, or holds a bad byte");
			return 0;
		}
		i++;
	} else {
		for (i = 0; i < n && p[i] != '@'; i++) {
			if (p[i] == '.' && i > 0 && p[i - 1] != '.' &&
			    i + 1 < n && p[i + 1] != '@')
				continue;
			if (!valid_atext(p[i])) {
				snprintf(err, errlen, "the local part has %s "
				    "at offset %zu (a dot-atom or a \"quoted "
				    "string\" is needed, or --raw-address)",
				    p[i] == '.' ? "a misplaced dot" :
				    "a character that needs quoting", i);
				return 0;
			}
		}
	}
	if (i == 0 && n > 0 && p[0] == '@') {
		snprintf(err, errlen, "the local part before \"@\" is "
		    "missing (source routes \"@a:user@b\" need "
		    "--raw-address)");
		return 0;
	}
	if (i == 0 || i >= n || p[i] != '@') {
		snprintf(err, errlen, "not user@domain: no \"@\" (only RCPT "
		    "TO:<postmaster> goes without a domain; or use "
		    "--raw-address to send it as it is)");
		return 0;
	}
	if (i > VALID_MAX_LOCAL) {
		snprintf(err, errlen, "the local part has %zu octets, more "
		    "than %d (RFC 5321 4.5.3.1.1)", i, VALID_MAX_LOCAL);
		return 0;
	}
	return i;
}

/* valid_address - a MAIL/RCPT path, returned bare */
char *
valid_address(const char *s, unsigned flags, char *err, size_t errlen)
{
	const char	*a = s, *dom;
	size_t		 n = strlen(s), local, max;
	char		 why[200], *esc;

	max = flags & VALID_RAW ? VALID_MAX_RAW : VALID_MAX_PATH - 2;
	if (valid_line(s, n, flags, 0, "the address", why, sizeof(why)) ==
	    -1)
		goto bad;
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	if (n == 0) {
		if (flags & VALID_NULL_OK)
			return xstrdup("");
		snprintf(why, sizeof(why), "empty address (the null path <> "
		    "is only valid as sender)");
		goto bad;
	}
	if (n > max) {
		snprintf(why, sizeof(why), "the address has %zu octets, more "
		    "than %zu%s", n, max, flags & VALID_RAW ? "" :
		    " (RFC 5321 4.5.3.1.3)");
		goto bad;
	}
	if (flags & VALID_RAW)
		return xstrndup(a, n);
	if (memchr(a, '<', n) != NULL || memchr(a, '>', n) != NULL) {
		snprintf(why, sizeof(why), "contains \"<\" or \">\" inside");
		goto bad;
	}
	/* RFC 5321 4.1.1.3: RCPT TO:<Postmaster> needs no domain */
	if (!(flags & VALID_NULL_OK) && n == 10 &&
	    strncasecmp(a, "postmaster", 10) == 0)
		return xstrndup(a, n);
	if ((local = valid_local(a, n, why, sizeof(why))) == 0)
		goto bad;
	dom = a + local + 1;
	{
		char	*d = xstrndup(dom, n - local - 1);
		size_t	 dl = strlen(d);
		int	 rc;

		if (dl == 0) {
			snprintf(why, sizeof(why), "nothing after \"@\": the "
			    "domain is missing");
			rc = -1;
		} else if (strchr(d, '@') != NULL) {
			snprintf(why, sizeof(why), "a second \"@\"; an \"@\" "
			    "in the local part must be quoted "
			    "(\"a@b\"@example.org), or use --raw-address");
			rc = -1;
		} else if (d[0] == '[')
			rc = valid_literal(d, why, sizeof(why));
		else if (dl > 0 && d[dl - 1] == '.') {
			snprintf(why, sizeof(why), "the domain ends with a "
			    "dot");
			rc = -1;
		} else if ((rc = valid_domain(d, why, sizeof(why))) == 0 &&
		    !idn_ascii(d)) {
			/* a U-label must be one IDNA2008 allows */
			char *al = idn_to_ascii(d, why, sizeof(why));

			rc = al != NULL ? 0 : -1;
			free(al);
		}
		free(d);
		if (rc == -1)
			goto bad;
	}
	return xstrndup(a, n);
bad:
	esc = util_escape(s, strlen(s) < 60 ? strlen(s) : 60);
	snprintf(err, errlen, "address \"%s%s\": %s", esc, strlen(s) > 60 ?
	    "..." : "", why);
	free(esc);
	return NULL;
}

/* valid_header - one --header line */
int
valid_header(const char *h, char *err, size_t errlen)
{
	const char	*p;
	char		 why[200], *esc;
	size_t		 n = strlen(h);

	esc = util_escape(h, n < 40 ? n : 40);
	if (valid_line(h, n, 0, 1, "the header", why, sizeof(why)) == -1) {
		snprintf(err, errlen, "header \"%s\": %s", esc, why);
		goto bad;
	}
	for (p = h; *p != '\0' && *p != ':'; p++)
		if (*p <= ' ' || *p > '~') {
			snprintf(err, errlen, "header \"%s\": invalid "
			    "character in the field name", esc);
			goto bad;
		}
	if (*p != ':' || p == h) {
		snprintf(err, errlen, "header \"%s\" is not \"Name: value\"",
		    esc);
		goto bad;
	}
	if (n > VALID_MAX_HEADER) {
		snprintf(err, errlen, "header \"%s...\" is longer than %d "
		    "characters (RFC 5322 2.1.1)", esc, VALID_MAX_HEADER);
		goto bad;
	}
	free(esc);
	return 0;
bad:
	free(esc);
	return -1;
}

/* valid_message - message bytes: no NUL */
int
valid_message(const char *s, size_t len, const char *what, char *err,
    size_t errlen)
{
	const char	*nul = memchr(s, '\0', len);

	if (nul != NULL) {
		snprintf(err, errlen, "%s contains a NUL byte at offset %zu "
		    "(it cannot be sent without BINARYMIME)", what,
		    (size_t)(nul - s));
		return -1;
	}
	return 0;
}

/* valid_secret - a secret: no NUL, not empty */
int
valid_secret(const char *s, size_t len, char *err, size_t errlen)
{
	size_t	 line = strcspn(s, "\r\n"), i;

	if (memchr(s, '\0', len) != NULL) {
		snprintf(err, errlen, "the secret contains a NUL byte (it "
		    "would be cut short there)");
		return -1;
	}
	if (line == 0) {
		snprintf(err, errlen, "the secret is empty");
		return -1;
	}
	for (i = 0; i < line; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(err, errlen, "the secret contains a control "
			    "character");
			return -1;
		}
	return 0;
}

/* valid_long - a whole decimal number in range */
int
valid_long(const char *s, long lo, long hi, long *out, char *err,
    size_t errlen)
{
	const char	*p = s;
	char		*end;
	long		 n;

	if (*p == '-' && lo < 0)
		p++;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
		goto bad;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		goto bad;
	*out = n;
	return 0;
bad:
	snprintf(err, errlen, "\"%.40s\" is not a whole number from %ld to "
	    "%ld", s, lo, hi);
	return -1;
}

/* valid_seconds - decimal seconds in range */
int
valid_seconds(const char *s, double lo, double hi, double *out, char *err,
    size_t errlen)
{
	size_t	 ip = strspn(s, "0123456789"), fp = 0;
	char	*end;
	double	 d;

	if (ip == 0 || ip > 9)
		goto bad;
	if (s[ip] == '.') {
		fp = strspn(s + ip + 1, "0123456789");
		if (fp == 0 || fp > 9)
			goto bad;
		fp++;
	}
	if (s[ip + fp] != '\0')
		goto bad;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(d >= lo) || !(d <= hi))
		goto bad;
	*out = d;
	return 0;
bad:
	snprintf(err, errlen, "\"%.40s\" is not a number of seconds from %g "
	    "to %g (decimal, e.g. 1.5)", s, lo, hi);
	return -1;
}

/* valid_same_file - two names of one file */
int
valid_same_file(const char *a, const char *b)
{
	struct stat	 sa, sb;

	if (a == NULL || b == NULL || strcmp(a, "-") == 0 ||
	    strcmp(b, "-") == 0)
		return 0;
	if (strcmp(a, b) == 0)
		return 1;
	if (stat(a, &sa) == -1 || stat(b, &sb) == -1)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* valid_same_fd - a name of the file open on fd */
int
valid_same_fd(const char *a, int fd)
{
	struct stat	 sa, sb;

	if (a == NULL || strcmp(a, "-") == 0)
		return 0;
	if (stat(a, &sa) == -1 || fstat(fd, &sb) == -1)
		return 0;
	return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev &&
	    sa.st_ino == sb.st_ino;
}
