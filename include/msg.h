/*
 * msg.h - the test message: reading it, building the default one, and
 * turning it into its wire form (CRLF line ends, dot-stuffing, final
 * ".\r\n"). The checks on addresses and headers are in valid.h.
 *
 * Functions returning int return 0, or -1 with err filled.
 * Strings returned through pointers are allocated; caller frees.
 */
#ifndef SMTPROBE_MSG_H
#define SMTPROBE_MSG_H

#include <stddef.h>

#define MSG_MAX_SIZE	(64 * 1024 * 1024)	/* bytes read from a file */
#define MSG_MAX_PATH	256	/* RFC 5321 4.5.3.1.3, incl. brackets */

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
};

/* msg_read - a message file: util_read_file() with MSG_MAX_SIZE */
int	msg_read(const char *path, char **buf, size_t *len, char *err,
	    size_t errlen);
int	msg_build(const struct msg_params *, char **out, size_t *outlen,
	    char *err, size_t errlen);
int	msg_wire(const char *raw, size_t len, char **out, size_t *outlen,
	    char *err, size_t errlen);

#endif
