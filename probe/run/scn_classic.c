/*
 * scn_classic.c - the command line's probe as a scenario
 * (scn_classic()), run by scn_run.c like a file: one code path for
 * both.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "scn.h"
#include "srvcheck.h"
#include "util.h"

/*
 * classic_harvest - --server-check's address harvesting probes: VRFY
 * of a made-up user and of postmaster, EXPN of a made-up list, each
 * expecting any reply (the judge reads them, srvcheck.h), so that a
 * refusal neither stops the run nor decides its result
 */
static void
classic_harvest(struct scn *s)
{
	static const char *const args[] = { SRVCHECK_FAKE_USER, "postmaster",
	    ("EXPN " SRVCHECK_FAKE_LIST) };
	struct scn_expect e;
	struct scn_step	 st;
	size_t		 i;

	memset(&e, 0, sizeof(e));
	e.spec = (char *)"2xx or 4xx or 5xx else continue";
	e.want = (char *)"2xx or 4xx or 5xx";
	snprintf(e.match[0], sizeof(e.match[0]), "2xx");
	snprintf(e.match[1], sizeof(e.match[1]), "4xx");
	snprintf(e.match[2], sizeof(e.match[2]), "5xx");
	e.group[1] = 1;
	e.group[2] = 2;
	e.nmatch = 3;
	e.cont = 1;
	for (i = 0; i < nitems(args); i++) {
		memset(&st, 0, sizeof(st));
		st.op = i < 2 ? SCN_VRFY : SCN_SEND;
		st.arg = (char *)args[i];
		st.expect = &e;
		scn_add(s, &st);	/* copies arg and the expectation */
	}
}

struct scn *
scn_classic(const struct scn_classic *c)
{
	struct scn	*s = scn_new("default");
	struct scn_step	 st;
	size_t		 i, j;

#define ADD(o) do {						\
	memset(&st, 0, sizeof(st));				\
	st.op = (o);						\
} while (0)
	ADD(SCN_CONNECT);
	scn_add(s, &st);
	ADD(SCN_EHLO);
	scn_add(s, &st);
	if (c->tls_mode == SMTP_TLS_REQUIRE ||
	    c->tls_mode == SMTP_TLS_OPTIONAL) {
		ADD(SCN_STARTTLS);
		if (c->tls_mode == SMTP_TLS_OPTIONAL)
			st.flags = SMTP_F_OPTIONAL;
		scn_add(s, &st);
	}
	if (c->auth_mech >= 0) {
		ADD(SCN_AUTH);
		st.mech = c->auth_mech;
		st.arg = (char *)c->auth_user;
		st.flags = c->auth_insecure ? SMTP_F_INSECURE : 0;
		scn_add(s, &st);
	}
	if (c->server_check)
		classic_harvest(s);
	for (i = 0; i < c->ntxn; i++) {
		if (i > 0) {
			ADD(SCN_RSET);
			scn_add(s, &st);
		}
		ADD(SCN_MAIL);
		st.arg = (char *)c->txn[i].from;
		st.group = -1 - (int)i;
		scn_add(s, &st);
		for (j = 0; j < c->txn[i].nrcpt; j++) {
			ADD(SCN_RCPT);
			st.arg = (char *)c->txn[i].rcpt[j];
			st.group = -1 - (int)i;
			scn_add(s, &st);
		}
		if (c->data) {
			ADD(SCN_DATA);
			st.group = -1 - (int)i;
			st.flags = c->bdat ? SMTP_F_BDAT : 0;
			scn_add(s, &st);
		}
	}
	ADD(SCN_QUIT);
	scn_add(s, &st);
#undef ADD
	return s;
}
