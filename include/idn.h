/*
 * idn.h - internationalised domain names (IDNA2008 with UTS #46
 * non-transitional mapping, through libidn2): the A-label form DNS and
 * servers without SMTPUTF8 need, and back for display (base layer).
 */
#ifndef SMTPROBE_IDN_H
#define SMTPROBE_IDN_H

#include <stddef.h>

/* idn_ascii - 1 if s has no byte past 0x7f */
int	 idn_ascii(const char *);

/*
 * idn_to_ascii - domain in A-label form ("bücher.example" becomes
 * "xn--bcher-kva.example"; an ASCII name is lower-cased only when it
 * had a U-label), or NULL with err filled (not valid under IDNA2008).
 * Caller frees.
 */
char	*idn_to_ascii(const char *domain, char *err, size_t errlen);

/*
 * idn_to_unicode - domain with its A-labels as U-labels, for display,
 * or NULL when it has none or they do not decode. Caller frees.
 */
char	*idn_to_unicode(const char *domain);

#endif
