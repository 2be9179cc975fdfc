/*
 * t_tlspolicy.c - the pure parts of the TLS policy modules: the
 * MTA-STS TXT record and policy grammar (RFC 8461 3.1, 3.2), MX
 * pattern matching (4.1), the TLS-RPT record (RFC 8460 3), chunked
 * HTTP bodies (https.c), which TLSA records SMTP may use and what
 * dane_judge() makes of a lookup and a handshake (RFC 7672), and the
 * X.509 error to TLS-RPT result type map.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "dane.h"
#include "https.h"
#include "mtasts.h"
#include "tap.h"
#include "tls.h"
#include "tlsrpt.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*txt;
	const char	*id;		/* NULL: invalid */
} txts[] = {
	{ "v=STSv1; id=20240101T000000;", "20240101T000000" },
	{ "v=STSv1; id=2024-01-01T00:00;", NULL },
	{ "v=STSv1; id=20240101;", "20240101" },
	{ "v=STSv1;id=abc", "abc" },
	{ "v=STSv1 ; id=abc ;", "abc" },
	{ "v=STSv1; id=abc; ext=va.lue", "abc" },
	{ "v=STSv1; id=12345678901234567890123456789012",
	    "12345678901234567890123456789012" },
	{ "v=STSv1; id=123456789012345678901234567890123", NULL },
	{ "v=STSv1; id=", NULL },
	{ "v=STSv1", NULL },
	{ "v=STSv1;", NULL },
	{ "v=STSv2; id=1", NULL },
	{ "id=1; v=STSv1", NULL },
	{ "v=STSv1; id=1;; x=y", NULL },
	{ "v=STSv1; id=1; id=2", NULL },
	{ "v=STSv1; id=a-b", NULL },
	{ "v=STSv1; id=1; bad", NULL },
	{ "v=STSv1; id=1; x=a;b", NULL },
	{ "v=STSv1; id=1; _x=y", NULL },
};

static const struct {
	const char	*name;
	const char	*text;
	int		 ok;
	int		 mode;
	long		 max_age;
	size_t		 nmx;
	size_t		 nwarn;
} policies[] = {
	{ "enforce, CRLF", "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
	    1, MTASTS_MODE_ENFORCE, 86400, 2, 0 },
	{ "testing, LF, no final newline", "version: STSv1\nmode: testing\n"
	    "mx: mx.example\nmax_age: 0", 1, MTASTS_MODE_TESTING, 0, 1, 0 },
	{ "none without mx", "version: STSv1\nmode: none\nmax_age: 1\n", 1,
	    MTASTS_MODE_NONE, 1, 0, 0 },
	{ "unknown fields ignored", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\nfoo_bar: anything goes\n", 1,
	    MTASTS_MODE_ENFORCE, 5, 1, 0 },
	{ "tabs and trailing blanks", "version:\tSTSv1 \nmode:  enforce\t\n"
	    "mx: a.example\nmax_age: 31557600\n", 1, MTASTS_MODE_ENFORCE,
	    31557600, 1, 0 },
	{ "first mode wins, with a warning", "version: STSv1\nmode: testing\n"
	    "mode: enforce\nmx: a.example\nmax_age: 5\n", 1,
	    MTASTS_MODE_TESTING, 5, 1, 1 },
	{ "empty line inside, with a warning", "version: STSv1\n\n"
	    "mode: enforce\nmx: a.example\nmax_age: 5\n\n\n", 1,
	    MTASTS_MODE_ENFORCE, 5, 1, 1 },
	{ "wrong version", "version: STSv2\nmode: enforce\nmx: a.example\n"
	    "max_age: 5\n", 0, 0, 0, 0, 0 },
	{ "no version", "mode: enforce\nmx: a.example\nmax_age: 5\n", 0, 0,
	    0, 0, 0 },
	{ "Version is not version", "Version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n", 0, 0, 0, 0, 0 },
	{ "bad mode", "version: STSv1\nmode: Enforce\nmx: a.example\n"
	    "max_age: 5\n", 0, 0, 0, 0, 0 },
	{ "no mode", "version: STSv1\nmx: a.example\nmax_age: 5\n", 0, 0, 0,
	    0, 0 },
	{ "no max_age", "version: STSv1\nmode: enforce\nmx: a.example\n", 0,
	    0, 0, 0, 0 },
	{ "max_age too big", "version: STSv1\nmode: enforce\nmx: a.example\n"
	    "max_age: 31557601\n", 0, 0, 0, 0, 0 },
	{ "max_age eleven digits", "version: STSv1\nmode: none\n"
	    "max_age: 00000000001\n", 0, 0, 0, 0, 0 },
	{ "max_age negative", "version: STSv1\nmode: none\nmax_age: -1\n", 0,
	    0, 0, 0, 0 },
	{ "enforce without mx", "version: STSv1\nmode: enforce\n"
	    "max_age: 5\n", 0, 0, 0, 0, 0 },
	{ "not key: value", "version: STSv1\nmode enforce\nmx: a.example\n"
	    "max_age: 5\n", 0, 0, 0, 0, 0 },
	{ "space before colon", "version : STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n", 0, 0, 0, 0, 0 },
	{ "bad mx wildcard", "version: STSv1\nmode: enforce\n"
	    "mx: a.*.example\nmax_age: 5\n", 0, 0, 0, 0, 0 },
	{ "bad mx label", "version: STSv1\nmode: enforce\nmx: -a.example\n"
	    "max_age: 5\n", 0, 0, 0, 0, 0 },
	{ "an HTML page", "<html><body>Not here</body></html>\n", 0, 0, 0, 0,
	    0 },
	{ "empty", "", 0, 0, 0, 0, 0 },
};

static const struct {
	const char	*pattern;
	const char	*host;
	int		 match;
} mxs[] = {
	{ "mail.example.com", "mail.example.com", 1 },
	{ "mail.example.com", "MAIL.Example.COM.", 1 },
	{ "mail.example.com", "mail2.example.com", 0 },
	{ "*.example.com", "mx1.example.com", 1 },
	{ "*.example.com", "example.com", 0 },
	{ "*.example.com", "a.b.example.com", 0 },
	{ "*.example.com", "mx1.notexample.com", 0 },
	{ "*.example.com", ".example.com", 0 },
};

static const struct {
	const char	*txt;
	size_t		 nrua;		/* 0: invalid */
} rpts[] = {
	{ "v=TLSRPTv1; rua=mailto:tlsrpt@example.com", 1 },
	{ "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example/x;", 2 },
	{ "v=TLSRPTv1; rua=mailto:a@example.com , mailto:b@example.com", 2 },
	{ "v=TLSRPTv1; ext=1; rua=https://example.com/r", 1 },
	{ "v=TLSRPTv1", 0 },
	{ "v=TLSRPTv1; rua=", 0 },
	{ "v=TLSRPTv1; rua=ftp://example.com/", 0 },
	{ "v=TLSRPTv1; rua=mailto:nobody", 0 },
	{ "v=TLSRPTv1; rua=mailto:a@b.example; rua=mailto:c@d.example", 0 },
	{ "v=TLSRPTv2; rua=mailto:a@b.example", 0 },
	{ "v=TLSRPTv1; rua=mailto:a@b.example,", 0 },
};

static const struct {
	const char	*in;
	int		 rc;
	const char	*out;
} chunks[] = {
	{ "5\r\nhello\r\n0\r\n\r\n", 1, "hello" },
	{ "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 1, "hello world" },
	{ "a\nversion: S\n0\n\n", 1, "version: S" },
	{ "5\r\nhel", 0, NULL },
	{ "5\r\nhello", 0, NULL },
	{ "5\r\nhelloXX0\r\n", -1, NULL },
	{ "zz\r\n", -1, NULL },
	{ "ffffffff\r\n", -2, NULL },
};

/* judge - one dane_judge() call on a policy of given records */
static enum dane_status
judge(enum dane_dns dns, int usage, int tls, int depth, long code,
    const char **finding, const char **type)
{
	static const unsigned char d32[32];
	struct dane_policy	*p = dane_skipped("mx.example", "25", "-");
	struct dane_outcome	 o;

	p->dns = dns;
	if (usage >= 0)
		dane_add_rr(p, (uint8_t)usage, 1, 1, d32, sizeof(d32));
	dane_judge(p, tls, depth, depth >= 0 ? "3 1 1 00" : NULL, code,
	    "error", &o);
	*finding = o.finding;
	*type = o.result_type;
	dane_policy_free(p);
	return o.status;
}

int
main(void)
{
	struct mtasts_policy	 pol;
	struct tlsrpt_result	 rr;
	struct dane_policy	*p;
	const char		*f, *t;
	char			 err[256], *id, out[64];
	size_t			 i, k, outlen;
	int			 rc;

	for (i = 0; i < nitems(txts); i++) {
		rc = mtasts_parse_txt(txts[i].txt, &id, err, sizeof(err));
		if (txts[i].id == NULL)
			ok(rc == -1 && id == NULL, "TXT \"%s\" is invalid (%s)",
			    txts[i].txt, rc == -1 ? err : "taken");
		else
			ok(rc == 0 && id != NULL && strcmp(id, txts[i].id) ==
			    0, "TXT \"%s\" gives id %s", txts[i].txt,
			    txts[i].id);
		free(id);
	}
	for (i = 0; i < nitems(policies); i++) {
		rc = mtasts_parse_policy(policies[i].text,
		    strlen(policies[i].text), &pol, err, sizeof(err));
		if (!policies[i].ok)
			ok(rc == -1, "policy %s: invalid (%s)",
			    policies[i].name, rc == -1 ? err : "taken");
		else
			ok(rc == 0 && (int)pol.mode == policies[i].mode &&
			    pol.max_age == policies[i].max_age &&
			    pol.nmx == policies[i].nmx &&
			    pol.nwarnings == policies[i].nwarn,
			    "policy %s: mode %s, max_age %ld, %zu mx, %zu "
			    "warnings%s%s", policies[i].name,
			    mtasts_mode_name(pol.mode), pol.max_age, pol.nmx,
			    pol.nwarnings, rc == -1 ? ": " : "",
			    rc == -1 ? err : "");
		mtasts_policy_clear(&pol);
	}
	{
		static const char nul[] = "version: STSv1\0mode: none\n"
		    "max_age: 1\n";

		rc = mtasts_parse_policy(nul, sizeof(nul) - 1, &pol, err,
		    sizeof(err));
	}
	ok(rc == -1, "a policy with a NUL byte is invalid");
	mtasts_policy_clear(&pol);
	for (i = 0; i < nitems(mxs); i++)
		ok(mtasts_mx_match(mxs[i].pattern, mxs[i].host) ==
		    mxs[i].match, "mx %s %s %s", mxs[i].pattern,
		    mxs[i].match ? "matches" : "does not match", mxs[i].host);
	{
		static const char two[] = "version: STSv1\nmode: enforce\n"
		    "mx: a.example\nmx: *.b.example\nmax_age: 9\n";

		rc = mtasts_parse_policy(two, strlen(two), &pol, err,
		    sizeof(err));
	}
	ok(rc == 0 && mtasts_policy_match(&pol, "x.b.example") != NULL &&
	    strcmp(mtasts_policy_match(&pol, "x.b.example"),
	    "*.b.example") == 0 && mtasts_policy_match(&pol, "b.example") ==
	    NULL, "mtasts_policy_match names the pattern");
	mtasts_policy_clear(&pol);

	for (i = 0; i < nitems(rpts); i++) {
		memset(&rr, 0, sizeof(rr));
		rc = tlsrpt_parse(rpts[i].txt, &rr, err, sizeof(err));
		if (rpts[i].nrua == 0)
			ok(rc == -1, "TLS-RPT \"%s\" is invalid (%s)",
			    rpts[i].txt, rc == -1 ? err : "taken");
		else
			ok(rc == 0 && rr.nrua == rpts[i].nrua,
			    "TLS-RPT \"%s\": %zu rua", rpts[i].txt,
			    rpts[i].nrua);
		for (k = 0; k < rr.nrua; k++)
			free(rr.rua[k]);
		free(rr.rua);
	}

	for (i = 0; i < nitems(chunks); i++) {
		rc = https_dechunk(chunks[i].in, strlen(chunks[i].in), out,
		    &outlen, 20);
		ok(rc == chunks[i].rc && (chunks[i].out == NULL ||
		    (outlen == strlen(chunks[i].out) && memcmp(out,
		    chunks[i].out, outlen) == 0)), "chunked body %zu: %d", i,
		    chunks[i].rc);
	}
	{
		static const char big[] = "15\r\n0123456789abcdefghijk\r\n"
		    "0\r\n\r\n";

		rc = https_dechunk(big, strlen(big), out, &outlen, 20);
	}
	ok(rc == -2, "a chunked body over the limit is refused");

	/* which TLSA records SMTP may use (RFC 7672 3.1) */
	{
		static const unsigned char d32[32], d64[64];
		static const struct {
			uint8_t		 u, s, m;
			size_t		 len;
			int		 usable;
		} rrs[] = {
			{ 3, 1, 1, 32, 1 }, { 2, 0, 1, 32, 1 },
			{ 3, 0, 2, 64, 1 }, { 2, 1, 0, 32, 1 },
			{ 0, 0, 1, 32, 0 }, { 1, 1, 1, 32, 0 },
			{ 4, 1, 1, 32, 0 }, { 3, 2, 1, 32, 0 },
			{ 3, 1, 3, 32, 0 }, { 3, 1, 1, 31, 0 },
			{ 3, 1, 2, 32, 0 },
		};

		p = dane_skipped("mx.example", "25", "-");
		for (i = 0; i < nitems(rrs); i++) {
			dane_add_rr(p, rrs[i].u, rrs[i].s, rrs[i].m,
			    rrs[i].len == 64 ? d64 : d32, rrs[i].len);
			ok((p->rrs[i].note == NULL) == rrs[i].usable,
			    "TLSA %u %u %u (%zu bytes) %s", rrs[i].u, rrs[i].s,
			    rrs[i].m, rrs[i].len, rrs[i].usable ? "usable" :
			    p->rrs[i].note);
		}
		ok(p->nusable == 4 && strncmp(p->rrs[0].text, "3 1 1 0000",
		    10) == 0 && strcmp(p->qname, "_25._tcp.mx.example") == 0,
		    "four usable, shown as \"3 1 1 hex\", at _25._tcp");
		dane_policy_free(p);
	}
	ok(judge(DANE_DNS_SECURE, 3, 1, 0, 0, &f, &t) == DANE_ST_SECURE &&
	    f == NULL && t == NULL, "secure: a match at depth 0");
	ok(judge(DANE_DNS_SECURE, 3, 1, -1, X509_V_ERR_DANE_NO_MATCH, &f,
	    &t) == DANE_ST_MISMATCH && strcmp(f, "dane-mismatch") == 0 &&
	    strcmp(t, "validation-failure") == 0, "mismatch: no record "
	    "matches -> validation-failure");
	ok(judge(DANE_DNS_SECURE, 2, 1, -1, X509_V_ERR_HOSTNAME_MISMATCH, &f,
	    &t) == DANE_ST_MISMATCH && strcmp(t,
	    "certificate-host-mismatch") == 0, "DANE-TA with the wrong name "
	    "-> certificate-host-mismatch");
	ok(judge(DANE_DNS_SECURE, 1, 1, -1, 20, &f, &t) == DANE_ST_UNUSABLE &&
	    strcmp(f, "dane-unusable") == 0 && strcmp(t, "tlsa-invalid") == 0,
	    "only PKIX-EE: unusable -> tlsa-invalid");
	ok(judge(DANE_DNS_SECURE, 3, 0, -1, 0, &f, &t) == DANE_ST_NOTLS &&
	    strcmp(t, "starttls-not-supported") == 0, "secure records, no TLS "
	    "-> starttls-not-supported");
	ok(judge(DANE_DNS_BOGUS, -1, 1, -1, 0, &f, &t) == DANE_ST_BOGUS &&
	    strcmp(f, "dane-bogus") == 0 && strcmp(t, "dnssec-invalid") == 0,
	    "bogus -> dnssec-invalid");
	ok(judge(DANE_DNS_ERROR, -1, 1, -1, 0, &f, &t) ==
	    DANE_ST_INDETERMINATE && strcmp(t, "dnssec-invalid") == 0,
	    "a failed lookup is indeterminate, not \"no TLSA\"");
	ok(judge(DANE_DNS_INSECURE, 3, 1, -1, 0, &f, &t) == DANE_ST_INSECURE &&
	    f == NULL, "records without AD: insecure, no finding");
	ok(judge(DANE_DNS_NONE, -1, 0, -1, 0, &f, &t) == DANE_ST_INSECURE &&
	    f == NULL, "no records: insecure, even without TLS");
	ok(judge(DANE_DNS_SKIPPED, -1, 1, -1, 0, &f, &t) == DANE_ST_SKIPPED,
	    "no lookup: skipped");

	ok(dane_rpt_type(X509_V_OK) == NULL, "verified: no result type");
	ok(strcmp(dane_rpt_type(X509_V_ERR_CERT_HAS_EXPIRED),
	    "certificate-expired") == 0, "expired -> certificate-expired");
	ok(strcmp(dane_rpt_type(X509_V_ERR_HOSTNAME_MISMATCH),
	    "certificate-host-mismatch") == 0, "hostname mismatch -> "
	    "certificate-host-mismatch");
	ok(strcmp(dane_rpt_type(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
	    "certificate-not-trusted") == 0, "self-signed -> "
	    "certificate-not-trusted");
	ok(strcmp(dane_rpt_type(X509_V_ERR_DANE_NO_MATCH),
	    "validation-failure") == 0, "DANE no match -> validation-failure");
	return tap_done();
}
