/*
 * t_auth.c - SMTP AUTH payloads (probe/wire/auth.c) against known answers:
 * RFC 4648 base64, PLAIN (RFC 4616), CRAM-MD5 (RFC 2195's own example),
 * XOAUTH2 (Google's documented example), OAUTHBEARER (RFC 7628 4.1 and
 * the GS2 escapes of RFC 5801), the number of rounds each mechanism
 * answers, and base64 that must be refused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "smtp.h"
#include "tap.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* RFC 4648 10 */
static const struct {
	const char	*raw;
	const char	*b64;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

/* what auth_decode() shows: printable, escaped */
static const struct {
	const char	*b64;
	const char	*shown;		/* NULL: refused */
} decodes[] = {
	{ "VXNlcm5hbWU6", "Username:" },
	{ "UGFzc3dvcmQ6", "Password:" },
	{ "AHVzZXIAcGFzcw==", "\\x00user\\x00pass" },
	{ "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	    "<1896.697170952@postoffice.reston.mci.net>" },
	{ "AQ==", "\\x01" },
	{ "", "" },
	/* refused */
	{ "VXNlcm5hbWU", NULL },	/* length not a multiple of 4 */
	{ "VXNlcm5hbWU6=", NULL },
	{ "!!!!", NULL },
	{ "QQ=A", NULL },		/* "=" before the end */
	{ "QUJD=QUJ", NULL },
	{ "QQ==QUJD", NULL },
	{ "A===", NULL },		/* three "=" */
	{ "====", NULL },
	{ " QUJ", NULL },		/* blanks */
	{ "QUJ ", NULL },
	{ "QU J", NULL },
	{ "Zm9v-ZZZ", NULL },		/* base64url is not base64 */
	{ "Zm9v_ZZZ", NULL },
	{ "Username:", NULL },
};

/* redecode - auth_decode(b64), b64 wiped; NULL stays NULL */
static char *
redecode(char *b64)
{
	char	*s;

	if (b64 == NULL)
		return NULL;
	s = auth_decode(b64);
	auth_wipe(b64);
	return s;
}

int
main(void)
{
	const char	*err;
	char		*s;
	size_t		 i;
	int		 m, r;

	/* base64 both ways */
	for (i = 0; i < nitems(rfc4648); i++) {
		s = auth_b64((const unsigned char *)rfc4648[i].raw,
		    strlen(rfc4648[i].raw));
		ok(strcmp(s, rfc4648[i].b64) == 0, "base64 \"%s\" is \"%s\" "
		    "(got \"%s\")", rfc4648[i].raw, rfc4648[i].b64, s);
		free(s);
		s = auth_decode(rfc4648[i].b64);
		ok(s != NULL && strcmp(s, rfc4648[i].raw) == 0,
		    "decode \"%s\" is \"%s\"", rfc4648[i].b64, rfc4648[i].raw);
		free(s);
	}
	for (i = 0; i < nitems(decodes); i++) {
		s = auth_decode(decodes[i].b64);
		if (decodes[i].shown == NULL)
			ok(s == NULL, "decode refuses \"%s\" (got \"%s\")",
			    decodes[i].b64, s != NULL ? s : "(null)");
		else
			ok(s != NULL && strcmp(s, decodes[i].shown) == 0,
			    "decode \"%s\" shows \"%s\" (got \"%s\")",
			    decodes[i].b64, decodes[i].shown,
			    s != NULL ? s : "(null)");
		free(s);
	}

	/* mechanism names */
	ok(smtp_auth_mech_lookup("plain") == AUTH_PLAIN &&
	    smtp_auth_mech_lookup("LOGIN") == AUTH_LOGIN &&
	    smtp_auth_mech_lookup("cram-md5") == AUTH_CRAM_MD5 &&
	    smtp_auth_mech_lookup("XOAuth2") == AUTH_XOAUTH2 &&
	    smtp_auth_mech_lookup("oauthbearer") == AUTH_OAUTHBEARER,
	    "mechanism names, any case");
	ok(smtp_auth_mech_lookup("cram_md5") == -1 &&
	    smtp_auth_mech_lookup("") == -1 &&
	    smtp_auth_mech_lookup("PLAINX") == -1, "unknown mechanisms");
	for (m = 0; m < AUTH__COUNT; m++)
		ok(smtp_auth_mech_lookup(smtp_auth_mech_name(
		    (enum smtp_auth_mech)m)) == m, "%s round-trips",
		    smtp_auth_mech_name((enum smtp_auth_mech)m));

	/* PLAIN: "" NUL user NUL secret */
	s = auth_initial(AUTH_PLAIN, "user", "pass", NULL, NULL);
	ok(s != NULL && strcmp(s, "AHVzZXIAcGFzcw==") == 0,
	    "PLAIN user/pass is AHVzZXIAcGFzcw== (got %s)", s);
	auth_wipe(s);
	s = auth_initial(AUTH_PLAIN, "bob", "p\xc3\xa4ss w0rd", NULL, NULL);
	ok(s != NULL && strcmp(s, "AGJvYgBww6RzcyB3MHJk") == 0,
	    "PLAIN keeps UTF-8 and blanks in the secret (got %s)", s);
	auth_wipe(s);
	s = auth_initial(AUTH_PLAIN, "u", "", NULL, NULL);
	ok(s != NULL && strcmp(s, "AHUA") == 0, "PLAIN empty secret (got %s)",
	    s);
	auth_wipe(s);
	s = auth_response(AUTH_PLAIN, 1, "", "user", "pass", &err);
	ok(s != NULL && strcmp(s, "AHVzZXIAcGFzcw==") == 0 && err == NULL,
	    "PLAIN answers an empty 334 with the same payload");
	auth_wipe(s);
	s = auth_response(AUTH_PLAIN, 2, "", "user", "pass", &err);
	ok(s == NULL && err != NULL, "PLAIN refuses a second 334 (%s)",
	    err != NULL ? err : "no reason");

	/* LOGIN: no initial response, user then password, nothing more */
	ok(auth_initial(AUTH_LOGIN, "user", "pass", NULL, NULL) == NULL,
	    "LOGIN has no initial response");
	s = auth_response(AUTH_LOGIN, 1, "VXNlcm5hbWU6", "tim", "pass", &err);
	ok(s != NULL && strcmp(s, "dGlt") == 0 && err == NULL,
	    "LOGIN round 1 is the user (got %s)", s);
	auth_wipe(s);
	s = auth_response(AUTH_LOGIN, 2, "UGFzc3dvcmQ6", "tim", "pass", &err);
	ok(s != NULL && strcmp(s, "cGFzcw==") == 0 && err == NULL,
	    "LOGIN round 2 is the password (got %s)", s);
	auth_wipe(s);
	s = auth_response(AUTH_LOGIN, 1, "UGFzc3dvcmQ6", "tim", "pass", &err);
	ok(s != NULL && strcmp(s, "dGlt") == 0,
	    "LOGIN answers by round, not by what the prompt says");
	auth_wipe(s);
	s = auth_response(AUTH_LOGIN, 1, "not base64!", "tim", "pass", &err);
	ok(s != NULL && strcmp(s, "dGlt") == 0,
	    "LOGIN ignores a prompt that is not base64");
	auth_wipe(s);
	for (r = 3; r <= 5; r++) {
		s = auth_response(AUTH_LOGIN, r, "UGFzc3dvcmQ6", "tim",
		    "pass", &err);
		ok(s == NULL && err != NULL, "LOGIN refuses round %d (%s)", r,
		    err != NULL ? err : "no reason");
	}

	/* CRAM-MD5: RFC 2195 2's example */
	ok(auth_initial(AUTH_CRAM_MD5, "tim", "tanstaaftanstaaf", NULL,
	    NULL) == NULL, "CRAM-MD5 has no initial response");
	s = auth_response(AUTH_CRAM_MD5, 1,
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	    "tim", "tanstaaftanstaaf", &err);
	ok(s != NULL && strcmp(s,
	    "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw") == 0 &&
	    err == NULL, "CRAM-MD5 RFC 2195 example (got %s)", s);
	auth_wipe(s);
	s = auth_response(AUTH_CRAM_MD5, 1, "QQ=A", "tim", "x", &err);
	ok(s == NULL && err != NULL, "CRAM-MD5 refuses a bad base64 "
	    "challenge (%s)", err != NULL ? err : "no reason");
	s = auth_response(AUTH_CRAM_MD5, 1, "PDE4OTY", "tim", "x", &err);
	ok(s == NULL && err != NULL, "CRAM-MD5 refuses a truncated "
	    "challenge");
	s = auth_response(AUTH_CRAM_MD5, 2,
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	    "tim", "tanstaaftanstaaf", &err);
	ok(s == NULL && err != NULL, "CRAM-MD5 refuses a second challenge");

	/* XOAUTH2: Google's example */
	s = auth_initial(AUTH_XOAUTH2, "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL, NULL);
	ok(s != NULL && strcmp(s, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRo"
	    "PUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXV"
	    "ZMjl0Q2cBAQ==") == 0, "XOAUTH2 documented example (got %s)", s);
	auth_wipe(s);
	s = auth_response(AUTH_XOAUTH2, 1, "eyJzdGF0dXMiOiI0MDAifQ==", "u",
	    "t", &err);
	ok(s != NULL && s[0] == '\0' && err == NULL,
	    "XOAUTH2 answers the error report with an empty line");
	auth_wipe(s);
	s = auth_response(AUTH_XOAUTH2, 2, "eyJzdGF0dXMiOiI0MDAifQ==", "u",
	    "t", &err);
	ok(s == NULL && err != NULL, "XOAUTH2 refuses a second 334 (%s)",
	    err != NULL ? err : "no reason");

	/* OAUTHBEARER: RFC 7628 4.1, and the GS2 escapes */
	s = auth_initial(AUTH_OAUTHBEARER, "user@example.com",
	    "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
	    "server.example.com", "143");
	ok(s != NULL && strcmp(s, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2V"
	    "ydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbV"
	    "RjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB") == 0,
	    "OAUTHBEARER RFC 7628 4.1 example (got %s)", s);
	auth_wipe(s);
	s = auth_initial(AUTH_OAUTHBEARER, "a,b=c", "tok", "mx.example.org",
	    "587");
	ok(s != NULL && strcmp(s, "bixhPWE9MkNiPTNEYywBaG9zdD1teC5leGFtcGxl"
	    "Lm9yZwFwb3J0PTU4NwFhdXRoPUJlYXJlciB0b2sBAQ==") == 0,
	    "OAUTHBEARER escapes \",\" as =2C and \"=\" as =3D (got %s)", s);
	auth_wipe(s);
	s = auth_initial(AUTH_OAUTHBEARER, "a,b=c", "tok", "mx.example.org",
	    "587");
	s = redecode(s);
	ok(s != NULL && strncmp(s, "n,a=a=2Cb=3Dc,\\x01host=", 20) == 0,
	    "OAUTHBEARER GS2 header decodes to n,a=a=2Cb=3Dc, (got %s)", s);
	free(s);
	s = auth_initial(AUTH_OAUTHBEARER, "==,,", "t", NULL, NULL);
	s = redecode(s);
	ok(s != NULL && strcmp(s, "n,a==3D=3D=2C=2C,\\x01host=\\x01port="
	    "\\x01auth=Bearer t\\x01\\x01") == 0,
	    "OAUTHBEARER escapes every \",\" and \"=\", empty host and port "
	    "(got %s)", s);
	free(s);
	s = auth_response(AUTH_OAUTHBEARER, 1, "eyJzdGF0dXMiOiI0MDAifQ==",
	    "u", "t", &err);
	ok(s != NULL && strcmp(s, "AQ==") == 0 && err == NULL,
	    "OAUTHBEARER answers the error report with ^A");
	auth_wipe(s);
	s = auth_response(AUTH_OAUTHBEARER, 2, "eyJzdGF0dXMiOiI0MDAifQ==",
	    "u", "t", &err);
	ok(s == NULL && err != NULL, "OAUTHBEARER refuses a second 334 (%s)",
	    err != NULL ? err : "no reason");

	/* the payloads carry the secret: wiping NULL is harmless */
	auth_wipe(NULL);
	ok(1, "auth_wipe(NULL) is a no-op");
	return tap_done();
}
