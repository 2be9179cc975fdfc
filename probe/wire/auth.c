/*
 * auth.c - SMTP AUTH payloads (see include/auth.h).
 *
 * PLAIN    one initial response: base64("" NUL user NUL secret).
 * LOGIN    no initial response; the server asks for the user name and
 *          then the password (334 "VXNlcm5hbWU6", 334 "UGFzc3dvcmQ6"),
 *          answered in that order whatever the prompts say.
 * CRAM-MD5 the server sends a challenge; the answer is base64(user SP
 *          hex(HMAC-MD5(secret, challenge))).
 * XOAUTH2  base64("user=" user ^A "auth=Bearer " token ^A ^A).
 * OAUTHBEARER  base64("n,a=" user "," ^A "host=" host ^A "port=" port
 *          ^A "auth=Bearer " token ^A ^A) (RFC 7628 3.1), with "," and
 *          "=" in the user name escaped as "=2C" and "=3D" (RFC 5801).
 * For both OAuth mechanisms a 334 is an error report (JSON in base64);
 * the client answers with ^A (OAUTHBEARER) or an empty line (XOAUTH2)
 * and the server ends with 5xx.
 *
 * Every buffer that held a secret is cleared before it is freed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "log.h"
#include "util.h"

static char	*auth_b64_str(const char *, size_t);
static unsigned char *auth_unb64(const char *, size_t *);

void
auth_wipe(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

char *
auth_b64(const unsigned char *in, size_t len)
{
	char	*out;

	if (len > (size_t)1 << 28)
		fatalx("auth payload too large");
	out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static char *
auth_b64_str(const char *s, size_t len)
{
	return auth_b64((const unsigned char *)s, len);
}

/* auth_unb64 - decode strict base64 (NUL-terminated), NULL if invalid */
static unsigned char *
auth_unb64(const char *in, size_t *outlen)
{
	size_t	 n = strlen(in);

	if (n > (size_t)1 << 20)
		return NULL;
	return (unsigned char *)util_b64_decode(in, n, outlen, 1);
}

char *
auth_decode(const char *b64)
{
	unsigned char	*raw;
	size_t		 n;
	char		*esc;

	if ((raw = auth_unb64(b64, &n)) == NULL)
		return NULL;
	esc = util_escape((const char *)raw, n);
	free(raw);
	return esc;
}

/* auth_gs2_user - user with "," and "=" escaped for a GS2 header */
static char *
auth_gs2_user(const char *user)
{
	size_t	 n = 0;
	char	*out, *o;
	const char *p;

	for (p = user; *p != '\0'; p++)
		n += (*p == ',' || *p == '=') ? 3 : 1;
	o = out = xmalloc(n + 1);
	for (p = user; *p != '\0'; p++) {
		if (*p == ',' || *p == '=') {
			memcpy(o, *p == ',' ? "=2C" : "=3D", 3);
			o += 3;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

char *
auth_initial(enum smtp_auth_mech mech, const char *user, const char *secret,
    const char *host, const char *port)
{
	char	*raw, *out, *u;
	size_t	 ul = strlen(user), sl = strlen(secret), n;

	switch (mech) {
	case AUTH_PLAIN:
		n = ul + sl + 2;
		raw = xmalloc(n + 1);
		raw[0] = '\0';
		memcpy(raw + 1, user, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, secret, sl);
		raw[n] = '\0';
		out = auth_b64_str(raw, n);
		OPENSSL_cleanse(raw, n);
		free(raw);
		return out;
	case AUTH_XOAUTH2:
		raw = xasprintf("user=%s\001auth=Bearer %s\001\001", user,
		    secret);
		out = auth_b64_str(raw, strlen(raw));
		auth_wipe(raw);
		return out;
	case AUTH_OAUTHBEARER:
		u = auth_gs2_user(user);
		raw = xasprintf("n,a=%s,\001host=%s\001port=%s\001auth=Bearer "
		    "%s\001\001", u, host != NULL ? host : "",
		    port != NULL ? port : "", secret);
		free(u);
		out = auth_b64_str(raw, strlen(raw));
		auth_wipe(raw);
		return out;
	default:
		return NULL;
	}
}

char *
auth_response(enum smtp_auth_mech mech, int round, const char *challenge,
    const char *user, const char *secret, const char **err)
{
	unsigned char	*ch, mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	size_t		 chlen, i;
	char		*raw, *out, hex[2 * EVP_MAX_MD_SIZE + 1];

	*err = NULL;
	switch (mech) {
	case AUTH_LOGIN:
		if (round > 2) {
			*err = "LOGIN has two rounds; the server asked for a "
			    "third";
			return NULL;
		}
		return round == 1 ? auth_b64_str(user, strlen(user)) :
		    auth_b64_str(secret, strlen(secret));
	case AUTH_CRAM_MD5:
		if (round > 1) {
			*err = "CRAM-MD5 has one round; the server asked for "
			    "another";
			return NULL;
		}
		if ((ch = auth_unb64(challenge, &chlen)) == NULL) {
			*err = "the CRAM-MD5 challenge is not valid base64";
			return NULL;
		}
		if (HMAC(EVP_md5(), secret, (int)strlen(secret), ch, chlen,
		    mac, &maclen) == NULL) {
			free(ch);
			*err = "HMAC-MD5 is not available (OpenSSL)";
			return NULL;
		}
		free(ch);
		for (i = 0; i < maclen; i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		raw = xasprintf("%s %s", user, hex);
		OPENSSL_cleanse(mac, sizeof(mac));
		OPENSSL_cleanse(hex, sizeof(hex));
		out = auth_b64_str(raw, strlen(raw));
		auth_wipe(raw);
		return out;
	case AUTH_XOAUTH2:
	case AUTH_OAUTHBEARER:
		/* one error report, then the final reply (RFC 7628 3.2.3) */
		if (round > 1) {
			*err = mech == AUTH_XOAUTH2 ? "XOAUTH2 has one error "
			    "round; the server asked for another" :
			    "OAUTHBEARER has one error round; the server "
			    "asked for another";
			return NULL;
		}
		return mech == AUTH_XOAUTH2 ? xstrdup("") :
		    auth_b64_str("\001", 1);
	default:
		/* PLAIN sent everything at once; a 334 means "send it" */
		if (round > 1) {
			*err = "PLAIN has one round; the server asked for "
			    "another";
			return NULL;
		}
		return auth_initial(mech, user, secret, NULL, NULL);
	}
}
