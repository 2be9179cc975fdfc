/*
 * auth.h - SMTP AUTH payloads (RFC 4954): PLAIN (RFC 4616), LOGIN,
 * CRAM-MD5 (RFC 2195), XOAUTH2 and OAUTHBEARER (RFC 7628).
 *
 * Only the bytes are made here; the engine (smtp.c) sends them and
 * masks them in the record. Every returned string is base64, ends in no
 * line end, and is allocated: the caller wipes it with auth_wipe()
 * after use, since it carries the secret.
 */
#ifndef SMTPROBE_AUTH_H
#define SMTPROBE_AUTH_H

#include <stddef.h>

/* the mechanisms; their names are in smtp.c (smtp_auth_mech_name()) */
enum smtp_auth_mech {
	AUTH_PLAIN,
	AUTH_LOGIN,
	AUTH_CRAM_MD5,
	AUTH_XOAUTH2,
	AUTH_OAUTHBEARER,
	AUTH__COUNT
};

#define AUTH_MASK	"********"	/* what the record shows instead */

/*
 * auth_initial - the initial response sent on the AUTH line, or NULL
 * when the mechanism waits for a challenge first (LOGIN, CRAM-MD5).
 * host and port go into OAUTHBEARER's GS2 header fields.
 */
char	*auth_initial(enum smtp_auth_mech, const char *user,
	    const char *secret, const char *host, const char *port);

/*
 * auth_response - the answer to the round-th 334 challenge (from 1;
 * challenge is the base64 text after "334 "). Returns NULL with *err
 * set to a static message when the challenge cannot be answered (bad
 * base64, more rounds than the mechanism has). An XOAUTH2 or
 * OAUTHBEARER challenge is the server's error report: the answer is
 * the empty response that lets it send the final 5xx.
 */
char	*auth_response(enum smtp_auth_mech, int round, const char *challenge,
	    const char *user, const char *secret, const char **err);

/* auth_decode - printable, escaped copy of a base64 challenge, or NULL */
char	*auth_decode(const char *);

/* auth_wipe - clear and free a payload */
void	 auth_wipe(char *);

/* auth_b64 - base64 of len bytes (caller frees) */
char	*auth_b64(const unsigned char *, size_t);

#endif
