/*
 * msg.h - the test message: reading it, building the default one (with
 * MIME parts: an HTML alternative, attachments, the EICAR and GTUBE
 * test payloads), and turning it into its wire form (CRLF line ends,
 * dot-stuffing, final ".\r\n"). The checks on addresses and headers
 * are in valid.h.
 *
 * Text we build says what it is: charset=us-ascii and no transfer
 * encoding when it is ASCII with lines of at most 998 octets; else
 * charset=utf-8 with 8bit (eightbit: the server took BODY=8BITMIME)
 * or quoted-printable (RFC 2045 6.7). Attachments are base64. Every
 * line of a built message ends in CRLF and has at most 998 octets.
 *
 * Functions returning int return 0, or -1 with err filled.
 * Strings returned through pointers are allocated; caller frees.
 */
#ifndef SMTPROBE_MSG_H
#define SMTPROBE_MSG_H

#include <stddef.h>

#define MSG_MAX_SIZE	(64 * 1024 * 1024)	/* bytes read from a file */
#define MSG_MAX_PATH	256	/* RFC 5321 4.5.3.1.3, incl. brackets */

/* One --attach. */
struct msg_attach {
	const char	*name;		/* file name for the headers */
	const char	*type;		/* MIME type; NULL: from the name */
	const char	*data;
	size_t		 len;
};

/* The MIME parts of a built message; zeroed: none. */
struct msg_mime {
	const char	*html;		/* --body-html contents, or NULL */
	size_t		 htmllen;
	const struct msg_attach *att;	/* --attach, in order */
	size_t		 natt;
	int		 eicar;		/* --attach-eicar: eicar.com */
	int		 gtube;		/* --attach-gtube: GTUBE in the body */
};

struct msg_params {
	const char	 *from;		/* --from of the first transaction */
	const char	**to;		/* all --to */
	size_t		  nto;
	const char	 *domain;	/* for Message-ID; NULL: "smtprobe.invalid" */
	const char	**headers;	/* --header "Name: value" */
	size_t		  nheaders;
	const char	 *body;		/* --body contents, or NULL */
	size_t		  bodylen;
	const char	 *message;	/* --message contents, or NULL */
	size_t		  messagelen;
	const char	 *version;	/* tool version for X-Mailer */
	const struct msg_mime *mime;	/* parts, or NULL */
	int		  eightbit;	/* 8-bit text may go as 8bit */
	int		  utf8;		/* SMTPUTF8: 8-bit headers as they
					   are (else Subject, X-* ... as RFC
					   2047 encoded words) */
};

/* msg_read - a message file: util_read_file() with MSG_MAX_SIZE */
int	msg_read(const char *path, char **buf, size_t *len, char *err,
	    size_t errlen);
int	msg_build(const struct msg_params *, char **out, size_t *outlen,
	    char *err, size_t errlen);
/* msg_mime_type - the MIME type for a file name, by its extension */
const char *msg_mime_type(const char *name);
/* msg_eicar, msg_gtube - the test strings (static, NUL-terminated) */
const char *msg_eicar(void);
const char *msg_gtube(void);
int	msg_wire(const char *raw, size_t len, char **out, size_t *outlen,
	    char *err, size_t errlen);

#endif
