/*
 * valid.h - the checks on our own input, in one place (base layer).
 *
 * Every front end (the command line, the shell, batch, scenarios) calls
 * these before the first byte is sent, so that an address, a HELO name,
 * a header, a message, a number, a secret or a file name is refused the
 * same way whichever way it came in.
 *
 * Conventions: functions returning int return 0 when the input is
 * usable, or -1 with err filled (a sentence without a trailing period,
 * input bytes escaped); functions returning char * return an allocated
 * string the caller frees, or NULL with err filled. None of them
 * prints or exits.
 *
 * The raw escape (VALID_RAW, --raw-address, --raw-helo, "raw" in a
 * scenario) lifts the syntax checks for a tester who sends odd input on
 * purpose; it never lets CR, LF, NUL or another control character
 * through (nor would the engine), and keeps a length cap.
 */
#ifndef SMTPROBE_VALID_H
#define SMTPROBE_VALID_H

#include <stddef.h>

#define VALID_MAX_LOCAL		64	/* RFC 5321 4.5.3.1.1 */
#define VALID_MAX_DOMAIN	255	/* RFC 5321 4.5.3.1.2 */
#define VALID_MAX_PATH		256	/* RFC 5321 4.5.3.1.3, with <> */
#define VALID_MAX_HELO		255	/* a domain, or an address literal */
#define VALID_MAX_HEADER	998	/* RFC 5322 2.1.1 */
#define VALID_MAX_RAW		998	/* a raw address or HELO name: what
					   fits on one command line */

/* flags of valid_address() and valid_helo() */
#define VALID_NULL_OK	0x01	/* the empty reverse path "<>" (MAIL only) */
#define VALID_RAW	0x02	/* lift the syntax checks (not CR LF NUL) */

/*
 * valid_utf8 - 1 if len bytes are well-formed UTF-8 (no overlong form,
 * no surrogate, nothing past U+10FFFF), else 0
 */
int	 valid_utf8(const char *, size_t);

/*
 * valid_line - bytes that may go into one command line: no CR, LF, NUL
 * or other control character (TAB only when allow_tab), and, unless
 * VALID_RAW, well-formed UTF-8. what names the input in the message
 * ("the address"). The engine refuses the same bytes (smtp_do).
 */
int	 valid_line(const char *, size_t, unsigned flags, int allow_tab,
	    const char *what, char *err, size_t errlen);

/*
 * valid_domain - a domain name: dot-separated labels of letters,
 * digits, hyphens and underscores (or UTF-8 U-labels), 1 to 63 octets
 * each, no label starting or ending with a hyphen, at most 255 octets,
 * one trailing dot allowed
 */
int	 valid_domain(const char *, char *err, size_t errlen);

/*
 * valid_fqdn - 1 if name is a domain name (valid_domain) with a dot
 * between two labels: what a HELO name should be (RFC 5321 4.1.1.1)
 */
int	 valid_fqdn(const char *);

/* valid_literal - an address literal: "[1.2.3.4]" or "[IPv6:...]" */
int	 valid_literal(const char *, char *err, size_t errlen);

/* valid_helo - a HELO/EHLO name: a domain or an address literal */
int	 valid_helo(const char *, unsigned flags, char *err, size_t errlen);

/*
 * valid_address - a path for MAIL FROM or RCPT TO, given with or without
 * angle brackets: a dot-atom or quoted-string local part, "@", a domain
 * or an address literal (RFC 5321 4.1.2; UTF-8 allowed, RFC 6531).
 * "<>" only with VALID_NULL_OK. Returns the bare address, caller frees.
 */
char	*valid_address(const char *, unsigned flags, char *err,
	    size_t errlen);

/* valid_header - one "Name: value" header line for --header */
int	 valid_header(const char *, char *err, size_t errlen);

/*
 * valid_message - the bytes of a body or a message (--body, --message,
 * data file): no NUL (it cannot be sent without BINARYMIME). CR and LF
 * are line ends, sent as CR LF. what names the input.
 */
int	 valid_message(const char *, size_t, const char *what, char *err,
	    size_t errlen);

/*
 * valid_secret - a secret read from a file or the environment: no NUL
 * (a NUL would cut it short without a word), no other control byte in
 * its first line, not empty. The message never holds the secret.
 */
int	 valid_secret(const char *, size_t, char *err, size_t errlen);

/*
 * valid_long - a whole decimal number from lo to hi: digits only, a
 * leading "-" when lo < 0; no blanks, "+", hex or exponent
 */
int	 valid_long(const char *, long lo, long hi, long *out, char *err,
	    size_t errlen);

/*
 * valid_seconds - a decimal number of seconds from lo to hi: digits
 * with at most one ".", finite by construction ("nan", "inf", "0x10",
 * "1e3" are refused)
 */
int	 valid_seconds(const char *, double lo, double hi, double *out,
	    char *err, size_t errlen);

/*
 * valid_same_file - 1 if the paths name the same file (same device and
 * inode once symbolic links are followed, or the same name), 0 if not
 * or when one of them does not exist yet; "-" (a standard stream) is
 * never the same
 */
int	 valid_same_file(const char *, const char *);

/* valid_same_fd - 1 if the file at path is the one open on fd */
int	 valid_same_fd(const char *, int fd);

#endif
