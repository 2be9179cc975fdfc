/*
 * idn.c - IDNA through libidn2: to A-labels before a domain reaches DNS
 * or a server without SMTPUTF8, to U-labels for display. See idn.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "idn.h"
#include "log.h"

int
idn_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

char *
idn_to_ascii(const char *domain, char *err, size_t errlen)
{
	char	*out = NULL, *copy;
	int	 rc;

	if (idn_ascii(domain))
		return xstrdup(domain);
	/* UTS #46 non-transitional: "ß" stays "ß", as browsers and MTAs do */
	rc = idn2_to_ascii_8z(domain, &out, IDN2_NONTRANSITIONAL |
	    IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		snprintf(err, errlen, "\"%s\" is not a valid international "
		    "domain name (IDNA2008: %s)", domain, idn2_strerror(rc));
		return NULL;
	}
	copy = xstrdup(out);
	idn2_free(out);
	return copy;
}

char *
idn_to_unicode(const char *domain)
{
	char	*out = NULL, *copy;
	const char *p;

	for (p = domain; (p = strcasestr(p, "xn--")) != NULL; p += 4)
		if (p == domain || p[-1] == '.')
			break;
	if (p == NULL)
		return NULL;
	if (idn2_to_unicode_8z8z(domain, &out, 0) != IDN2_OK)
		return NULL;
	copy = xstrdup(out);
	idn2_free(out);
	return copy;
}
