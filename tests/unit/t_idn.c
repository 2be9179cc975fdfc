/*
 * t_idn.c - IDNA: U-labels to A-labels (IDNA2008, UTS #46
 * non-transitional), ASCII names unchanged, invalid names refused, and
 * A-labels back to U-labels for display.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"
#include "tap.h"

static void
to_ascii(const char *in, const char *want)
{
	char	 err[256], *a = idn_to_ascii(in, err, sizeof(err));

	if (want == NULL)
		ok(a == NULL && strstr(err, "not a valid international") !=
		    NULL, "refused: %s", err);
	else
		ok(a != NULL && strcmp(a, want) == 0, "%s -> %s (got %s)", in,
		    want, a != NULL ? a : err);
	free(a);
}

int
main(void)
{
	char	*u;

	to_ascii("b\xc3\xbc" "cher.example", "xn--bcher-kva.example");
	to_ascii("B\xc3\x9c" "CHER.example", "xn--bcher-kva.example");
	to_ascii("fa\xc3\x9f.de", "xn--fa-hia.de");	/* not "fass.de" */
	to_ascii("mx.example.net", "mx.example.net");
	to_ascii("MX.Example.NET", "MX.Example.NET");
	to_ascii("\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95",
	    "xn--fsqu00a.xn--0zwm56d");
	to_ascii("x\xe2\x80\x8dy.example", NULL);	/* ZWJ, no context */
	to_ascii("\xe2\x98\x83.example", NULL);		/* a snowman */
	ok(idn_ascii("mx.example") && !idn_ascii("b\xc3\xbc.example"),
	    "idn_ascii");
	u = idn_to_unicode("xn--bcher-kva.example");
	ok(u != NULL && strcmp(u, "b\xc3\xbc" "cher.example") == 0,
	    "A-label back to U-label: %s", u ? u : "(null)");
	free(u);
	ok(idn_to_unicode("mx.example") == NULL, "no A-label: NULL");
	ok(idn_to_unicode("axn--x.example") == NULL,
	    "xn-- inside a label is not an A-label");
	return tap_done();
}
