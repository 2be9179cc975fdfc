/*
 * scn_txn.c - the runner's mail transaction and what its commands
 * send: MAIL's and RCPT's paths with their ESMTP parameters (the glue
 * to esmtp.c, with --size auto), the message a data step sends, the
 * AUTH secret. Part of the runner (scn_run.c; struct scn_exec in
 * scn_int.h).
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "esmtp.h"
#include "msg.h"
#include "log.h"
#include "scn.h"
#include "valid.h"
#include "scn_int.h"

void
exec_txn_clear(struct scn_exec *x)
{
	size_t	 i;

	for (i = 0; i < x->ntxn_rcpt; i++) {
		free(x->txn_rcpt[i]);
		free(x->rcpt_params[i]);
	}
	free(x->txn_rcpt);
	x->txn_rcpt = NULL;
	x->ntxn_rcpt = 0;
	free(x->txn_from);
	x->txn_from = NULL;
	free(x->rcpt_params);
	x->rcpt_params = NULL;
	free(x->txn_params);
	x->txn_params = NULL;
	x->txn_utf8 = x->txn_8bit = 0;
	x->txn_failed = 0;
	x->txn_rcpt_ok = 0;
}

/* exec_txn_trim - forget the recipients after the first n */
void
exec_txn_trim(struct scn_exec *x, size_t n)
{
	while (x->ntxn_rcpt > n) {
		x->ntxn_rcpt--;
		free(x->txn_rcpt[x->ntxn_rcpt]);
		if (x->rcpt_params != NULL)
			free(x->rcpt_params[x->ntxn_rcpt]);
	}
}

/* exec_secret - the AUTH secret for step st, or NULL with why */
char *
exec_secret(struct scn_exec *x, const struct scn_step *st, char *why,
    size_t whylen)
{
	char	*buf, *nl;
	size_t	 len;
	const char *v;

	if (st->secret_env != NULL) {
		if ((v = getenv(st->secret_env)) == NULL) {
			snprintf(why, whylen, "environment variable %s is not "
			    "set", st->secret_env);
			return NULL;
		}
		return xstrdup(v);
	}
	if (st->secret_file != NULL) {
		if (msg_read(st->secret_file, &buf, &len, why, whylen) == -1)
			return NULL;
		if (valid_secret(buf, len, why, whylen) == -1) {
			OPENSSL_cleanse(buf, len);
			free(buf);
			return NULL;
		}
		/* the first line is the secret; wipe the rest */
		if ((nl = strpbrk(buf, "\r\n")) != NULL)
			explicit_bzero(nl, len - (size_t)(nl - buf));
		return buf;
	}
	if (x->p->secret != NULL)
		return xstrdup(x->p->secret);
	snprintf(why, whylen, "no secret given (use --auth-secret-env, "
	    "--auth-secret-file, or secret-env/secret-file in the "
	    "scenario)");
	return NULL;
}

/*
 * exec_data_8bit - data typed in the shell after its MAIL (no look-ahead
 * there) with 8-bit bytes given as they are, to a server without
 * 8BITMIME: typed by hand, it goes on the user's word, with the
 * warning eightbit-raw-sent that --raw-message gives
 */
void
exec_data_8bit(struct scn_exec *x, const struct scn_step *st)
{
	const struct ehlo *e = smtp_ehlo(x->cur);
	size_t		 n = smtp_session_record(x->cur)->nfindings;

	if (!x->p->interactive || x->txn_8bit ||
	    (e != NULL && reply_ehlo_has(e, "8BITMIME")))
		return;
	if (((st->data == SCN_DATA_INLINE || st->data == SCN_DATA_RAW) &&
	    esmtp_has8bit(st->body, st->bodylen)) || (st->data ==
	    SCN_DATA_DEFAULT && esmtp_has8bit(x->p->message,
	    x->p->messagelen))) {
		record_add_finding(smtp_session_record_mut(x->cur), FIND_WARN,
		    "eightbit-raw-sent", STAGE_DATA, "the message has 8-bit "
		    "bytes and the server does not offer 8BITMIME; sent as "
		    "typed");
		exec_echo(x, n);
	}
}

/*
 * exec_auto_size - --size auto: the size of the message that the
 * transaction step i opens will send (RFC 1870: its octets with CR LF,
 * less the final dot), built now as its data step will build it, with
 * the paths MAIL and RCPT will send; no data step: no SIZE
 */
static void
exec_auto_size(struct scn_exec *x, size_t i, struct esmtp_mail *m,
    const char *uparams, struct record *rec)
{
	const struct scn_step *d = NULL;
	const char	**rs;
	char		**rcpt, *msg, why[256];
	size_t		 j, n, len;

	for (j = i + 1; j < x->scn->nsteps; j++) {
		d = &x->scn->steps[j];
		if (d->op == SCN_MAIL || d->op == SCN_RSET ||
		    d->op == SCN_CONNECT || d->op == SCN_QUIT)
			return;
		if (d->op == SCN_DATA)
			break;
	}
	if (j == x->scn->nsteps || d == NULL)
		return;
	rs = esmtp_scn_rcpts(x->scn, i, &n);
	rcpt = xcalloc(n + 1, sizeof(*rcpt));
	for (j = 0; j < n; j++)
		if ((rcpt[j] = esmtp_path(rs[j], m->utf8, why,
		    sizeof(why))) == NULL)
			rcpt[j] = xstrdup(rs[j]);
	/* the transaction as it will be, for exec_message(), then back */
	x->txn_from = m->from;
	x->txn_rcpt = rcpt;
	x->ntxn_rcpt = n;
	x->txn_8bit = m->eightbit;
	x->txn_utf8 = m->utf8;
	msg = exec_message(x, d, &len, why, sizeof(why));
	x->txn_from = NULL;
	x->txn_rcpt = NULL;
	x->ntxn_rcpt = 0;
	for (j = 0; j < n; j++)
		free(rcpt[j]);
	free(rcpt);
	free(rs);
	if (msg != NULL && len >= 3)
		esmtp_mail_size(m, smtp_ehlo(x->cur), uparams,
		    (long long)len - 3, rec);
	free(msg);
}

/*
 * exec_mail - MAIL's path and ESMTP parameters (esmtp.h), with the
 * RCPTs and the message that follow in the scenario; -1 with why
 */
int
exec_mail(struct scn_exec *x, size_t i, struct smtp_cmd *c, char *why,
    size_t whylen)
{
	const struct scn_step *st = &x->scn->steps[i];
	struct record	*rec = smtp_session_record_mut(x->cur);
	struct esmtp_txn t;
	struct esmtp_mail m;
	const char	**rcpt;
	size_t		 n = rec->nfindings;
	int		 rc;

	memset(&t, 0, sizeof(t));
	t.from = st->arg != NULL ? st->arg : "";
	t.params = st->params;
	t.rcpt = rcpt = esmtp_scn_rcpts(x->scn, i, &t.nrcpt);
	t.body = esmtp_scn_body(x->scn, i, x->p);
	rc = esmtp_mail(x->p->esmtp, smtp_ehlo(x->cur),
	    smtp_tls_active(x->cur), &t, rec, &m, why, whylen);
	free(rcpt);
	if (rc == 0 && x->p->esmtp != NULL &&
	    x->p->esmtp->size == ESMTP_SIZE_AUTO)
		exec_auto_size(x, i, &m, st->params, rec);
	exec_echo(x, n);
	if (rc == -1)
		return -1;
	x->txn_from = m.from;
	x->txn_params = m.params;
	x->txn_utf8 = m.utf8;
	x->txn_8bit = m.eightbit;
	c->arg = x->txn_from;
	c->params = x->txn_params;
	return 0;
}

/* exec_rcpt - a RCPT's path and parameters; -1 with why */
int
exec_rcpt(struct scn_exec *x, const struct scn_step *st, struct smtp_cmd *c,
    char *why, size_t whylen)
{
	struct record	*rec = smtp_session_record_mut(x->cur);
	char		*path, *params;
	size_t		 n = rec->nfindings;

	if (esmtp_rcpt(x->p->esmtp, smtp_ehlo(x->cur), x->txn_utf8,
	    st->arg != NULL ? st->arg : "", st->params, rec, &path,
	    &params, why, whylen) == -1)
		return -1;
	exec_echo(x, n);
	x->txn_rcpt = xreallocarray(x->txn_rcpt, x->ntxn_rcpt + 1,
	    sizeof(char *));
	x->rcpt_params = xreallocarray(x->rcpt_params, x->ntxn_rcpt + 1,
	    sizeof(char *));
	x->rcpt_params[x->ntxn_rcpt] = params;
	x->txn_rcpt[x->ntxn_rcpt++] = path;
	c->arg = path;
	c->params = params;
	return 0;
}

/* exec_message - the wire form for a data step, or NULL with why */
char *
exec_message(struct scn_exec *x, const struct scn_step *st, size_t *len,
    char *why, size_t whylen)
{
	struct msg_params mp;
	char	*raw, *out = NULL;
	size_t	 rawlen;

	switch (st->data) {
	case SCN_DATA_RAW:
		out = xmalloc(st->bodylen + 6);
		memcpy(out, st->body, st->bodylen);
		memcpy(out + st->bodylen, "\r\n.\r\n", 6);
		*len = st->bodylen + 5;
		return out;
	case SCN_DATA_FILE:
		if (msg_read(st->body, &raw, &rawlen, why, whylen) == -1)
			return NULL;
		if (msg_wire(raw, rawlen, &out, len, why, whylen) == -1)
			out = NULL;
		free(raw);
		return out;
	case SCN_DATA_INLINE:
		if (msg_wire(st->body, st->bodylen, &out, len, why,
		    whylen) == -1)
			return NULL;
		return out;
	default:
		memset(&mp, 0, sizeof(mp));
		mp.from = x->txn_from != NULL ? x->txn_from : "";
		mp.to = (const char **)x->txn_rcpt;
		mp.nto = x->ntxn_rcpt;
		mp.domain = x->p->helo_domain;
		mp.headers = x->p->headers;
		mp.nheaders = x->p->nheaders;
		mp.body = x->p->body;
		mp.bodylen = x->p->bodylen;
		mp.message = x->p->message;
		mp.messagelen = x->p->messagelen;
		mp.version = x->p->version;
		mp.mime = x->p->mime;
		mp.eightbit = x->txn_8bit;
		mp.utf8 = x->txn_utf8;
		if (msg_build(&mp, &out, len, why, whylen) == -1)
			return NULL;
		return out;
	}
}
