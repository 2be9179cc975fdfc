/*
 * util.h - small helpers shared by every layer: byte escaping for
 * display, monotonic and wall clocks, and the input checks that keep
 * user-supplied text from smuggling CR, LF or NUL onto the wire.
 */
#ifndef SMTPROBE_UTIL_H
#define SMTPROBE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* EXIT_USAGE - exit status of a usage error (sysexits' EX_USAGE) */
#define EXIT_USAGE	64

/* nitems - the number of elements of an array */
#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * util_escape - the one form in which text a peer or a certificate
 * controls reaches any output (transcript, report, JSON, XML): printable
 * ASCII and valid printable UTF-8 as they are; backslash as "\\";
 * CR, LF, TAB as "\r" "\n" "\t"; other C0 controls, DEL and every
 * byte that is not part of a valid shortest-form UTF-8 sequence as
 * "\xHH" (lower-case hex); the C1 controls U+0080-U+009F and the
 * bidirectional formatting characters (U+061C, U+200E-U+200F,
 * U+202A-U+202E, U+2066-U+2069) and U+FFFE, U+FFFF (not allowed in
 * XML) as "\uHHHH". The result is valid
 * UTF-8, holds no control character and is safe on a terminal; nothing
 * is dropped. Caller frees.
 */
char	*util_escape(const char *, size_t);
/* util_xtext - s in RFC 3461 xtext: bytes outside "!" to "~", "+" and "="
   as +XX (ESMTP DSN parameters, XCLIENT/XFORWARD values); caller frees */
char	*util_xtext(const char *);

/*
 * util_utf8_trim - drop the incomplete UTF-8 sequence a byte-count
 * truncation (snprintf into a fixed buffer) may leave at the end of s,
 * so that util_escape() output stays valid UTF-8 once cut.
 */
void	 util_utf8_trim(char *);

/* util_now_us - monotonic clock in microseconds */
int64_t	 util_now_us(void);
/* util_set_clock - tests only: util_now_us() asks now_us (NULL: real) */
void	 util_set_clock(int64_t (*now_us)(void));

/* util_utc_iso - current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" in buf */
void	 util_utc_iso(char *, size_t);

/*
 * util_read_file - the whole of path (NULL or "-": standard input) in
 * *buf with a NUL added (not counted in *len); more than max bytes (0:
 * no limit) is an error. Returns 0, or -1 with err filled ("PATH:
 * reason") and *buf NULL. Caller frees *buf.
 */
int	 util_read_file(const char *path, size_t max, char **buf, size_t *len,
	    char *err, size_t errlen);

/*
 * util_check_text - 0 if s is usable as one protocol token or header
 * value: no CR, LF, NUL or other control character except TAB when
 * allow_tab is set. On failure returns -1 and sets *why to a static
 * description ("contains a line feed" ...).
 */
int	 util_check_text(const char *, int allow_tab, const char **why);


/*
 * A growing byte buffer, always NUL-terminated after len bytes. Start
 * from {NULL, 0, 0}; the caller owns p and frees it.
 */
struct util_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	 util_buf_add(struct util_buf *, const void *, size_t);
void	 util_buf_str(struct util_buf *, const char *);

/*
 * util_field_next - the next ";"-separated field of a tag list such as
 * an MTA-STS or TLS-RPT TXT record ("v=STSv1; id=x"): [*f, *e) without
 * the blanks around it. Returns 0 when there is none left; *p moves past
 * the field and becomes NULL after the last one.
 */
int	 util_field_next(const char **p, const char **f, const char **e);

/* util_list_addf - append a formatted line to a list of strings */
void	 util_list_addf(char ***list, size_t *n, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 util_list_vaddf(char ***list, size_t *n, const char *fmt, va_list)
	    __attribute__((format(printf, 3, 0)));

/*
 * util_b64_decode - base64 p[0..n) into a new NUL-ended buffer (caller
 * frees), its length in *outlen. strict: only the alphabet, in groups
 * of four, with at most two "=" at the very end, else NULL; lenient
 * (MIME bodies): anything else is skipped, "=" ends the data.
 */
char	*util_b64_decode(const char *, size_t, size_t *outlen, int strict);

/*
 * util_fnv1a - 32-bit FNV-1a of a string's bytes (offset basis
 * 2166136261, prime 16777619): the verdict model's feature keys and the
 * corpus split (tests/verdict/split.py) use the same
 */
uint32_t util_fnv1a(const char *);

#endif
