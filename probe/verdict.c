/*
 * verdict.c - rules that turn a reply into a diagnosis (verdict.h).
 *
 * rules[] is the data: each row names a class and a reason and the
 * conditions under which it applies - stages, reply classes or an exact
 * code, an enhanced code pattern ("x.7.1" matches any class, "x.7." a
 * prefix) and words ('|' between alternatives, case-insensitive; "also"
 * is a second list of which one must match too). Every matching row is
 * scored by its weight; the highest wins, the first on a tie. Weights:
 *   90-99  the reply text names the cause ("blocked using", "SPF")
 *   70-89  text that points one way, or a specific enhanced code
 *   50-69  an enhanced code alone
 *   30-49  the stage alone
 * The tests hold every rule to at least one line of the corpus
 * (tests/verdict/corpus.tsv) and the corpus to an accuracy floor.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "reply.h"
#include "smtp.h"
#include "verdict.h"

#define ST(x)		(1u << STAGE_##x)
#define ANY		0u
#define PRE		(ST(BANNER) | ST(EHLO) | ST(STARTTLS) | ST(AUTH))
#define ENV		(ST(MAIL) | ST(RCPT))

struct rule {
	const char	*id;
	const char	*class;
	const char	*reason;
	unsigned	 stages;	/* ANY, or ST() bits */
	const char	*classes;	/* allowed first digits, NULL any */
	int		 code;		/* exact code, 0 any */
	const char	*enh;		/* enhanced code pattern, NULL any */
	const char	*words;		/* any of these, NULL none */
	const char	*also;		/* and any of these, NULL none */
	int		 weight;
};

static const struct rule rules[] = {
	/* accepted: positive replies */
	{ "accepted", "accepted", "accepted", ANY, "23", 0, NULL, NULL, NULL,
	    99 },

	/* provider tokens that name the cause outright */
	{ "ip-provider-token", "ip", "blocked", ANY, "45", 0, NULL,
	    "[tss09]|(con:b1)|rly:b1|bl000000|comcast block|"
	    "[bl21]|[bl22]|[bl23]", NULL, 97 },
	{ "ip-provider-reputation", "ip", "reputation", ANY, "45", 0, NULL,
	    "[ts01]|[ts02]|ou-001|ou-002|sc-001|sc-002|sc-004|s3150|"
	    "s3140|delist@|banned sender[", NULL, 97 },
	{ "ip-provider-dynamic", "ip", "dynamic", ANY, "45", 0, NULL,
	    "(dyn:t1)|dyn:t2|dy-001|dy-002|send email directly to our "
	    "servers|not authorized to send email directly", NULL, 97 },
	{ "policy-provider", "policy", "policy", ANY, "45", 0, NULL,
	    "envelope blocked|notauthenticatedforgroup|"
	    "delivery restriction check failed", NULL, 97 },

	/* the connecting IP */
	{ "ip-your-ip", "ip", "reputation", ANY, "45", 0, NULL,
	    "from your ip|your ip address|reputation of the sending ip|"
	    "low reputation|poor reputation|ip reputation|"
	    "sending ip address", NULL, 91 },
	{ "ip-dynamic", "ip", "dynamic", ANY, "45", 0, NULL,
	    "dynamic ip|dynamic address|dynamic-ip|dynamic or residential|"
	    "residential|dial-up|dialup|pbl|generic reverse|dy-00|"
	    "end-user|end user ip|consumer ip", NULL, 95 },
	{ "ip-rdns", "ip", "rdns", ANY, "45", 0, NULL,
	    "reverse dns|reverse-dns|rdns|ptr record|no ptr|ptr lookup|"
	    "cannot find your hostname|cannot find your reverse hostname|"
	    "reverse hostname|reverse lookup|reverse name|fcrdns|"
	    "hostname does not resolve|client host name|unknown[|"
	    "dns ptr|ptr resource record", NULL, 93 },
	{ "ip-rdns-code", "ip", "rdns", ANY, "45", 0, "x.7.25", NULL, NULL,
	    80 },
	{ "ip-dnsbl", "ip", "dnsbl", ANY, "45", 0, NULL,
	    "blocked using|listed at|listed on|listed in|blacklist|"
	    "blocklist|block list|black list|dnsbl|rbl|spamhaus|spamcop|"
	    "sorbs|uceprotect|psbl|invaluement|barracudacentral|"
	    "barracuda reputation|b.barracuda|zen.|bl.|sbl|xbl|css",
	    NULL, 92 },
	{ "ip-reputation", "ip", "reputation", ANY, "45", 0, NULL,
	    "reputation|banned sending ip|sending ip|your ip|ip address|"
	    "ip has been|ip blocked|blocked ip|s3150|sc-001|sc-002|"
	    "ou-001|ou-002|ts01|ts02|[bl21]|bl21|5.7.606|5.7.708|"
	    "client host rejected|client host [|client host blocked|"
	    "host rejected|connection refused|connection rejected|"
	    "not accepting messages|not accepting mail from|"
	    "traffic not accepted", NULL, 86 },
	{ "ip-ms-banned", "ip", "reputation", ANY, "5", 0, "x.7.606", NULL,
	    NULL, 80 },
	{ "ip-ms-511", "ip", "blocked", ANY, "5", 0, "x.7.511", NULL, NULL,
	    80 },
	{ "ip-ms-708", "ip", "reputation", ANY, "5", 0, "x.7.708", NULL,
	    NULL, 80 },
	{ "ip-banner", "ip", "blocked", ST(BANNER), "5", 0, NULL, NULL, NULL,
	    50 },
	{ "ip-admin-banner", "ip", "blocked", ST(BANNER), "5", 0, NULL,
	    "administrative prohibition|access denied|not welcome|blocked",
	    NULL, 80 },

	/* HELO */
	{ "helo-fqdn", "helo", "non-fqdn", ANY, "45", 0, NULL,
	    "fully-qualified|fully qualified|fqdn|not a valid hostname|"
	    "need a hostname|bare hostname", "helo|ehlo|hostname|host name",
	    94 },
	{ "helo-forged", "helo", "forged-helo", ANY, "45", 0, NULL,
	    "impersonat|forged|helo mismatch|spoofed helo|"
	    "is not a valid helo|your own|is my name|pretending",
	    "helo|ehlo|host", 93 },
	{ "helo-rejected", "helo", "invalid-helo", ANY, "45", 0, NULL,
	    "helo command rejected|ehlo command rejected|invalid helo|"
	    "bad helo|helo name|invalid ehlo|bad ehlo|"
	    "helo rejected|ehlo rejected|"
	    "syntactically invalid helo|syntactically invalid ehlo|"
	    "helo/ehlo argument|empty helo|"
	    "helo argument|helo identity", NULL, 90 },
	{ "helo-stage", "helo", "invalid-helo", ST(EHLO), "5", 0, NULL,
	    NULL, NULL, 45 },
	{ "helo-domain", "helo", "invalid-helo", ST(EHLO), "45", 0, NULL,
	    "invalid domain|invalid hostname|invalid host name|"
	    "domain name|host name", NULL, 88 },
	{ "helo-admin", "helo", "invalid-helo", ST(EHLO), "5", 0, NULL,
	    "administrative prohibition|access denied|not welcome", NULL,
	    80 },

	/* the sender */
	{ "sender-spf", "sender", "spf", ANY, "45", 0, NULL,
	    "spf", NULL, 94 },
	{ "sender-spf-code", "sender", "spf", ANY, "45", 0, "x.7.23", NULL,
	    NULL, 80 },
	{ "sender-spf-error", "sender", "spf", ANY, "45", 0, "x.7.24", NULL,
	    NULL, 80 },
	{ "sender-dmarc", "sender", "dmarc", ANY, "45", 0, NULL,
	    "dmarc", NULL, 95 },
	{ "sender-dmarc-code", "sender", "dmarc", ANY, "45", 0, "x.7.26",
	    NULL, NULL, 80 },
	{ "sender-dkim", "sender", "dkim", ANY, "45", 0, NULL,
	    "dkim|domainkeys", NULL, 94 },
	{ "sender-dkim-code", "sender", "dkim", ANY, "45", 0, NULL, NULL,
	    NULL, 0 },
	{ "sender-spoof", "sender", "spoofing", ANY, "45", 0, NULL,
	    "spoof|anti-spoofing|impersonation of|forged sender|"
	    "forged from", NULL, 92 },
	{ "sender-domain", "sender", "unknown-domain", ANY, "45", 0, NULL,
	    "domain of sender address|sender domain|domain not found|"
	    "unresolvable|does not resolve|no such domain|"
	    "domain does not exist|sender address does not exist|"
	    "unrouteable sender|null mx|mx lookup|invalid dns mx|a/aaaa",
	    "sender|mail from|dns mx", 94 },
	{ "sender-explicit", "sender", "sender-rejected", ANY, "45", 0, NULL,
	    "sender address rejected|sender verify failed|"
	    "verification failed for|sender verification failed|"
	    "send as this sender|permissions to send as", NULL, 93 },
	{ "sender-at-mail", "sender", "sender-rejected", ST(MAIL), "45", 0,
	    NULL, "user unknown|unknown user|no such user|"
	    "mailbox unavailable|does not exist|unrouteable address|"
	    "address rejected|invalid address", NULL, 88 },
	{ "sender-domain-code", "sender", "unknown-domain", ANY, "45", 0,
	    "x.1.8", NULL, NULL, 80 },
	{ "sender-nullmx", "sender", "unknown-domain", ANY, "45", 0,
	    "x.7.27", NULL, NULL, 80 },
	{ "sender-rejected", "sender", "sender-rejected", ANY, "45", 0, NULL,
	    "sender address rejected|sender rejected|sender denied|"
	    "sender verify failed|verification failed for|"
	    "sender address|envelope sender|sender is|sender not|"
	    "bad sender|sender blocked|sender refused|from address|"
	    "blocked sender|sender verification|not owned by",
	    NULL, 85 },
	{ "sender-syntax", "sender", "sender-rejected", ANY, "5", 0,
	    "x.1.7", NULL, NULL, 70 },
	{ "sender-stage", "sender", "sender-rejected", ST(MAIL), "5", 0,
	    NULL, NULL, NULL, 45 },
	{ "sender-admin", "sender", "sender-rejected", ST(MAIL), "5", 0,
	    NULL, "administrative prohibition|access denied", NULL, 80 },

	/* the recipient */
	{ "rcpt-domain", "recipient", "recipient-rejected", ANY, "45", 0,
	    NULL, "domain not found|no such domain|domain does not exist|"
	    "unrouteable domain", "recipient", 94 },
	{ "rcpt-unknown", "recipient", "user-unknown", ANY, "45", 0, NULL,
	    "user unknown|unknown user|no such user|no such recipient|"
	    "no such mailbox|mailbox not found|mailbox unavailable|"
	    "invalid recipient|recipient not found|recipnotfound|"
	    "does not exist|doesn't exist|unrouteable address|"
	    "not a valid mailbox|user not found|undeliverable address|"
	    "unknown recipient|no mailbox|address unknown|"
	    "recipient unknown|not our customer|invalid mailbox|"
	    "unknown local part|mailbox does not|no such person|"
	    "user doesn't|addressee unknown|unknown address|"
	    "not found in directory", NULL, 90 },
	{ "rcpt-unknown-code", "recipient", "user-unknown", ANY, "5", 0,
	    "x.1.1", NULL, NULL, 75 },
	{ "rcpt-system-code", "recipient", "user-unknown", ANY, "5", 0,
	    "x.1.2", NULL, NULL, 65 },
	{ "rcpt-moved-code", "recipient", "recipient-rejected", ANY, "5", 0,
	    "x.1.6", NULL, NULL, 65 },
	{ "rcpt-full", "recipient", "mailbox-full", ANY, "45", 0, NULL,
	    "mailbox full|mailbox is full|over quota|quota exceeded|"
	    "exceeded storage|exceeds quota|mailbox size limit|"
	    "out of storage space|overquota|over its quota|"
	    "storage allocation|inbox is full", NULL, 93 },
	{ "rcpt-full-code", "recipient", "mailbox-full", ANY, "45", 0,
	    "x.2.2", NULL, NULL, 75 },
	{ "rcpt-disabled", "recipient", "disabled", ANY, "45", 0, NULL,
	    "disabled|inactive|suspended|deactivated|account locked|"
	    "no longer|account has been|account is|expired",
	    "account|mailbox|user|recipient|address", 91 },
	{ "rcpt-disabled-code", "recipient", "disabled", ANY, "45", 0,
	    "x.2.1", NULL, NULL, 75 },
	{ "rcpt-disabled-code2", "recipient", "disabled", ANY, "5", 0,
	    "x.7.13", NULL, NULL, 75 },
	{ "rcpt-rejected", "recipient", "recipient-rejected", ANY, "45", 0,
	    NULL, "recipient address rejected|recipient rejected|"
	    "rcpt rejected|recipient denied|recipient blocked|"
	    "recipient refused", NULL, 80 },
	{ "rcpt-stage", "recipient", "recipient-rejected", ST(RCPT), "5", 0,
	    NULL, NULL, NULL, 40 },
	{ "rcpt-admin", "recipient", "recipient-rejected", ST(RCPT), "5", 0,
	    NULL, "administrative prohibition", NULL, 80 },

	/* relaying */
	{ "relay-denied", "relay", "relay-denied", ANY, "45", 0, NULL,
	    "relay access denied|relaying denied|unable to relay|"
	    "relay not permitted|not permitted to relay|relay denied|"
	    "we do not relay|do not relay|rcpthosts|relaying not allowed|"
	    "relay not allowed|no relaying|relaying prohibited|"
	    "not allowed to relay|cannot relay|relay prohibited|"
	    "credentials for relay|smtp relay service|relay service",
	    NULL, 95 },
	{ "relay-code", "relay", "relay-denied", ANY, "5", 0, "x.7.64", NULL,
	    NULL, 70 },

	/* content, after the final dot */
	{ "content-virus", "content", "virus", ANY, "45", 0, NULL,
	    "virus|malware|infected|trojan|worm|clamav", NULL, 94 },
	{ "content-spam", "content", "spam", ANY, "45", 0, NULL,
	    "spam|ube|unsolicited|junk|bulk mail|looks like spam|"
	    "spamassassin|rspamd|high score|spam score|scored",
	    NULL, 88 },
	{ "content-url", "content", "url", ST(DATA) | ST(EOD), "45", 0, NULL,
	    "url|uribl|link|dbl.|phish|surbl|domain in the message|"
	    "domains in the message", "block|listed|reject|contain|"
	    "phish|bad|suspicious|spam", 94 },
	{ "content-attachment", "content", "attachment", ANY, "45", 0, NULL,
	    "attachment|file type|file extension|executable|"
	    "banned file|prohibited file|blocked file|.exe|"
	    "banned content", NULL, 93 },
	{ "content-size", "content", "size", ANY, "45", 0, NULL,
	    "message size|size exceeds|too large|too big|exceeds the "
	    "maximum|size limit|message length exceeds|exceeded the size|"
	    "exceeds size|size of the message", NULL, 91 },
	{ "content-size-code", "content", "size", ANY, "45", 0, "x.3.4",
	    NULL, NULL, 80 },
	{ "content-size-code2", "content", "size", ANY, "45", 0, "x.2.3",
	    NULL, NULL, 80 },
	{ "content-rejected", "content", "content-rejected", ANY, "45", 0,
	    NULL, "message content|content rejected|content filter|"
	    "message rejected|rejected due to content|message refused|"
	    "not delivered for policy reasons|headers|header check|"
	    "body check|message not accepted|message-id", NULL, 82 },
	{ "content-code", "content", "content-rejected", ST(EOD), "5", 0,
	    "x.6.", NULL, NULL, 65 },
	{ "content-stage", "content", "content-rejected", ST(EOD), "5", 0,
	    NULL, NULL, NULL, 62 },

	/* authentication */
	{ "auth-required", "auth", "auth-required", ANY, "45", 0, NULL,
	    "authentication required|authentication is required|"
	    "must authenticate|not logged in|auth required|"
	    "sender not authenticated|client not authenticated|"
	    "smtp-auth|smtp auth|please authenticate|login required|"
	    "requires authentication|need to authenticate",
	    NULL, 94 },
	{ "auth-failed", "auth", "auth-failed", ANY, "45", 0, NULL,
	    "authentication failed|authentication unsuccessful|"
	    "auth failed|invalid credentials|bad credentials|"
	    "username and password not accepted|invalid login|"
	    "login failed|incorrect password|authentication credentials "
	    "invalid|password incorrect|authentication failure", NULL, 95 },
	{ "auth-code", "auth", "auth-failed", ANY, "45", 0, "x.7.8", NULL,
	    NULL, 80 },
	{ "auth-code57", "auth", "auth-required", ANY, "5", 0, "x.7.57",
	    NULL, NULL, 80 },
	{ "auth-code530", "auth", "auth-required", ANY, "5", 530, NULL,
	    NULL, NULL, 60 },
	{ "auth-535", "auth", "auth-failed", ANY, "5", 535, NULL, NULL, NULL,
	    75 },
	{ "auth-stage", "auth", "auth-failed", ST(AUTH), "45", 0, NULL, NULL,
	    NULL, 50 },

	/* TLS */
	{ "tls-required", "tls", "tls-required", ANY, "45", 0, NULL,
	    "starttls first|must issue a starttls|tls required|"
	    "requires tls|encryption required|must use tls|"
	    "tls is required|starttls is required|require tls|"
	    "requiretls|secure connection required|"
	    "encryption needed", NULL, 96 },
	{ "tls-required-code", "tls", "tls-required", ANY, "45", 0, "x.7.10",
	    NULL, NULL, 80 },
	{ "tls-required-code11", "tls", "tls-required", ANY, "45", 0,
	    "x.7.11", NULL, NULL, 80 },
	{ "tls-required-code30", "tls", "tls-required", ANY, "45", 0,
	    "x.7.30", NULL, NULL, 80 },
	{ "tls-unavailable", "tls", "tls-unavailable", ANY, "45", 0, NULL,
	    "tls not available|tls unavailable|starttls not available|"
	    "tls is not available|cannot start tls|tls not supported",
	    NULL, 94 },
	{ "tls-stage", "tls", "tls-unavailable", ST(STARTTLS), "45", 0,
	    NULL, NULL, NULL, 50 },

	/* rate and volume */
	{ "rate-limit", "rate", "rate-limit", ANY, "45", 0, NULL,
	    "rate limit|rate-limit|ratelimit|too many messages|too fast|"
	    "slow down|unusual rate|rate of|exceeded the rate|"
	    "sending rate|message rate|too much mail|too many emails|"
	    "unexpected volume|volume of|throttl|tss04|ts03|"
	    "temporarily deferred|frequency|too frequent|limit exceeded|"
	    "mail flood|too quickly|too many login attempts|"
	    "too many auth", NULL, 90 },
	{ "rate-quota", "rate", "rate-limit", ANY, "45", 0, NULL,
	    "sending quota|sending limit|daily sending|send quota|"
	    "daily user sending|submissionquotaexceeded", NULL, 95 },
	{ "rate-ms-busy", "rate", "rate-limit", ANY, "45", 0, "x.7.500",
	    NULL, NULL, 80 },
	{ "rate-flood-code", "rate", "rate-limit", ANY, "45", 0, "x.7.28",
	    NULL, NULL, 92 },
	{ "rate-explicit", "rate", "rate-limit", ANY, "45", 0, NULL,
	    "rate limited|rate-limited|ratelimited", NULL, 92 },
	{ "rate-connections", "rate", "too-many-connections", ANY, "45", 0,
	    NULL, "too many connections|too many concurrent|"
	    "too many sessions|connection limit|too many simultaneous|"
	    "too many open connections|"
	    "connections from your|concurrent connections|"
	    "max connections", NULL, 94 },
	{ "rate-recipients", "rate", "too-many-recipients", ANY, "45", 0,
	    NULL, "too many recipients|recipient limit|"
	    "too many rcpt|maximum number of recipients|"
	    "too many addresses", NULL, 95 },
	{ "rate-recipients-code", "rate", "too-many-recipients", ANY, "45",
	    0, "x.5.3", NULL, NULL, 80 },
	{ "rate-banner-421", "rate", "rate-limit", ST(BANNER) | ST(EHLO), "4",
	    0, NULL, "try again later|later|closing connection|busy", NULL,
	    78 },

	/* greylisting */
	{ "greylist", "greylist", "greylisted", ANY, "4", 0, NULL,
	    "greylist|grey-list|graylist|gray-list|greylisted|graylisted|"
	    "postgrey|grey listing|gray listing|greylisting|"
	    "not yet authorized to deliver|come back later|"
	    "deferred for|retry later|"
	    "internal resources are temporarily unavailable", NULL, 95 },
	{ "greylist-try-later", "greylist", "greylisted", ENV | ST(DATA) |
	    ST(EOD), "4", 0, NULL, "try again later|please try again|"
	    "please retry|temporarily deferred|try again in", NULL, 78 },
	{ "greylist-rcpt", "greylist", "greylisted", ST(RCPT), "4", 0, NULL,
	    NULL, NULL, 40 },

	/* local policy */
	{ "policy-explicit", "policy", "policy", ANY, "45", 0, NULL,
	    "local policy|policy reasons|security policies|"
	    "policy violation|for policy|due to policy|by policy|"
	    "unregistered domain|not allowed to receive|"
	    "delivery not authorized|does not allow|has a policy",
	    NULL, 84 },
	{ "policy", "policy", "policy", ANY, "45", 0, NULL,
	    "policy|administrative prohibition|access denied|"
	    "not authorized|not authorised|prohibited|not allowed|"
	    "blocked|rejected by|refused by|denied", NULL, 60 },
	{ "policy-code", "policy", "policy", ANY, "45", 0, "x.7.1", NULL,
	    NULL, 55 },
	{ "policy-code0", "policy", "policy", ANY, "45", 0, "x.7.0", NULL,
	    NULL, 52 },

	/* the server's own trouble */
	{ "server-storage", "server", "storage", ANY, "45", 0, NULL,
	    "insufficient system storage|queue file write error|disk full|"
	    "no space left|out of disk|system storage|space shortage|"
	    "disk space",
	    NULL, 93 },
	{ "server-backend", "server", "temporary-error", ANY, "4", 0, NULL,
	    "no responsive virus scanner|virus_scan failed|"
	    "scanner unavailable|storedrv|mailbox database", NULL, 96 },
	{ "server-storage-code", "server", "storage", ANY, "45", 0, "x.3.1",
	    NULL, NULL, 70 },
	{ "server-config", "server", "config", ANY, "45", 0, NULL,
	    "configuration|misconfigured|config error|mail loop|"
	    "loops back to myself|too many hops|loop detected",
	    NULL, 88 },
	{ "server-config-code", "server", "config", ANY, "45", 0, "x.3.5",
	    NULL, NULL, 70 },
	{ "server-temp", "server", "temporary-error", ANY, "4", 0, NULL,
	    "local error|temporary failure|temporary error|"
	    "internal error|system error|server error|temporarily "
	    "unavailable|try again|qq temporary problem|"
	    "temporary problem|local problem|resources|lookup failure|"
	    "timeout|timed out|unable to process|processing error",
	    NULL, 75 },
	{ "server-unavailable", "server", "unavailable", ANY, "45", 0, NULL,
	    "service not available|service unavailable|"
	    "not accepting network messages|closing transmission channel|"
	    "shutting down|maintenance", NULL, 80 },
	{ "server-temp-explicit", "server", "temporary-error", ANY, "4", 0,
	    NULL, "temporary server error|temporary system problem|"
	    "system problem|server error", NULL, 82 },
	{ "server-code", "server", "temporary-error", ANY, "4", 0, "x.3.",
	    NULL, NULL, 55 },
	{ "server-code4", "server", "temporary-error", ANY, "4", 0, "x.4.",
	    NULL, NULL, 55 },
	{ "server-421", "server", "unavailable", ANY, "4", 421, NULL, NULL,
	    NULL, 45 },
	{ "server-tempfail", "server", "temporary-error", ANY, "4", 0, NULL,
	    NULL, NULL, 30 },

	/* our own protocol errors */
	{ "protocol-syntax", "protocol", "syntax", ANY, "5", 0, NULL,
	    "syntax|command not recognized|unrecognized command|"
	    "unrecognised command|unknown command|not implemented|"
	    "unsupported option|invalid argument|line too long|"
	    "parameter not|bad parameter|unsupported parameter|"
	    "unimplemented|bare <lf>|bare lf", NULL, 86 },
	{ "protocol-sequence", "protocol", "bad-sequence", ANY, "5", 0, NULL,
	    "bad sequence|need mail command|need rcpt command|"
	    "mail first|rcpt first|helo first|ehlo first|"
	    "send hello first|need helo|nested mail|helo required|"
	    "ehlo required|sender already|no valid recipients|"
	    "out of sequence|helo/ehlo first|synchronization error",
	    NULL, 91 },
	{ "protocol-code", "protocol", "syntax", ANY, "5", 0, "x.5.", NULL,
	    NULL, 60 },
	{ "protocol-500", "protocol", "syntax", ANY, "5", 500, NULL, NULL,
	    NULL, 45 },
	{ "protocol-501", "protocol", "syntax", ANY, "5", 501, NULL, NULL,
	    NULL, 45 },
	{ "protocol-502", "protocol", "syntax", ANY, "5", 502, NULL, NULL,
	    NULL, 45 },
	{ "protocol-503", "protocol", "bad-sequence", ANY, "5", 503, NULL,
	    NULL, NULL, 55 },
	{ "protocol-504", "protocol", "syntax", ANY, "5", 504, NULL, NULL,
	    NULL, 45 },
	{ "protocol-555", "protocol", "syntax", ANY, "5", 555, NULL, NULL,
	    NULL, 55 },

	/* last resort: the basic code */
	{ "fallback-perm", "policy", "policy", ANY, "5", 0, NULL, NULL, NULL,
	    20 },
};

static const struct {
	const char	*class;
	const char	*reason;	/* NULL: any reason of the class */
	const char	*advice;
} advice[] = {
	{ "accepted", NULL, "Nothing to fix: the server accepted this step." },
	{ "ip", "dnsbl", "Our sending IP is on a DNS blocklist. Look it up "
	    "on the list named in the reply (e.g. the Spamhaus or Spamcop "
	    "lookup page), fix the cause (open relay, compromised account, "
	    "bulk mail), then ask that list for delisting." },
	{ "ip", "rdns", "Our IP has no usable reverse DNS. Ask whoever owns "
	    "the address block to set a PTR record to a name that resolves "
	    "back to this IP (FCrDNS), and use that name as HELO." },
	{ "ip", "dynamic", "The IP is in a dynamic/residential range (e.g. "
	    "Spamhaus PBL). Send through your provider's smarthost or a "
	    "static IP with proper PTR, or have the range owner change its "
	    "policy record." },
	{ "ip", NULL, "The server refuses our IP. Check the IP's reputation "
	    "(blocklists, provider postmaster pages such as Microsoft SNDS or "
	    "Google Postmaster Tools) and follow the delisting link in the "
	    "reply if there is one." },
	{ "helo", "non-fqdn", "Use a fully-qualified domain name as HELO "
	    "(--helo mail.example.org) that resolves to our IP." },
	{ "helo", "forged-helo", "The HELO name claims to be the receiver or "
	    "a name we do not own. Use our own FQDN, matching our PTR." },
	{ "helo", NULL, "The HELO name was refused. Use an FQDN that resolves "
	    "to our IP and matches its PTR record." },
	{ "sender", "spf", "SPF failed for the sender domain. Add our sending "
	    "IP to the domain's SPF record, or send through a server it "
	    "lists." },
	{ "sender", "dkim", "DKIM failed. Sign outgoing mail with a key "
	    "published in DNS for the sender domain." },
	{ "sender", "dmarc", "DMARC failed: neither SPF nor DKIM aligned with "
	    "the From domain. Fix SPF and DKIM for that domain, and check its "
	    "DMARC policy." },
	{ "sender", "unknown-domain", "The sender's domain does not resolve "
	    "(no A or MX record, or a null MX). Use a sender address whose "
	    "domain exists in DNS." },
	{ "sender", NULL, "The sender address was refused. Check the sender "
	    "domain has A/MX records and SPF/DKIM/DMARC, and that we may send "
	    "as that address; try the null sender or postmaster@ to compare "
	    "(--diagnose)." },
	{ "recipient", "user-unknown", "The mailbox does not exist there. "
	    "Check the address for typos; remove it from lists." },
	{ "recipient", "mailbox-full", "The recipient's mailbox is full; "
	    "retry later or reach them another way." },
	{ "recipient", "disabled", "The recipient's account is disabled; "
	    "remove it or reach them another way." },
	{ "recipient", NULL, "The recipient was refused. Check the address, "
	    "and compare with postmaster@ of the same domain (--diagnose)." },
	{ "relay", NULL, "The server does not accept mail for that domain from "
	    "us: it is not the domain's MX, or relaying needs "
	    "authentication. Check the MX records of the recipient domain." },
	{ "content", "spam", "The message was judged spam. Look at the whole "
	    "message: subject, wording, links and their domains, headers, "
	    "authentication (SPF/DKIM/DMARC) of the From domain." },
	{ "content", "virus", "A virus or malware was detected. Scan the "
	    "attachments and the sending machine." },
	{ "content", "url", "A link or domain in the body is blocklisted or "
	    "suspicious. Check every URL host (fully-qualified, resolving, "
	    "not on a domain blocklist such as Spamhaus DBL)." },
	{ "content", "attachment", "An attachment type is not allowed. Send "
	    "a link instead, or an allowed file type." },
	{ "content", "size", "The message is too large. Compare with the "
	    "SIZE the server announced in EHLO; send less." },
	{ "content", NULL, "The whole message was refused after the final "
	    "dot: look at content, headers, links and sender authentication, "
	    "not at the envelope." },
	{ "auth", "auth-required", "The server wants authentication. Use the "
	    "submission port (587 with STARTTLS or 465) with AUTH, or send "
	    "to the domain's MX instead." },
	{ "auth", NULL, "Authentication failed. Check user name, password or "
	    "token, and the mechanism." },
	{ "tls", NULL, "TLS is required or failed. Use --starttls (or "
	    "--tls-on-connect on 465) and check the certificate and TLS "
	    "versions on both sides." },
	{ "rate", NULL, "We send too much or too fast. Slow down, lower the "
	    "number of connections and recipients per message, and retry "
	    "later." },
	{ "greylist", NULL, "Greylisting: a normal MTA retries after a few "
	    "minutes and gets through. Retry later; nothing else is wrong." },
	{ "policy", NULL, "A local policy refused it. Read the reply text and "
	    "any URL in it; ask the receiving postmaster if unclear." },
	{ "server", NULL, "The receiving server has a problem of its own. "
	    "Retry later; tell its postmaster if it lasts." },
	{ "network", NULL, "No usable answer: check the address, port, "
	    "firewalls, and whether the server is up (port 25 is often "
	    "blocked by access providers)." },
	{ "protocol", NULL, "The server did not understand a command. Check "
	    "addresses and parameters for syntax, and the command order." },
};

static int	 words_match(const char *, const char *, char *, size_t);
static int	 enh_match(const char *, const char *);
static const char *advice_for(const char *, const char *);
static int	 rule_matches(const struct rule *, int, int, const char *,
		    const char *, char *, size_t);
static char	*lower_text(const char *, const char *, char *);

/* words_match - 1 if any '|'-separated word occurs in lower-case text */
static int
words_match(const char *text, const char *words, char *hit, size_t hitlen)
{
	const char	*w = words, *end;
	char		 word[96];
	size_t		 n;

	while (*w != '\0') {
		end = strchr(w, '|');
		n = end != NULL ? (size_t)(end - w) : strlen(w);
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, w, n);
			word[n] = '\0';
			if (strstr(text, word) != NULL) {
				if (hit != NULL)
					snprintf(hit, hitlen, "%s", word);
				return 1;
			}
		}
		if (end == NULL)
			break;
		w = end + 1;
	}
	return 0;
}

/* enh_match - "x.7.1" any class, a trailing "." a prefix */
static int
enh_match(const char *pat, const char *enh)
{
	size_t	 n = strlen(pat);

	if (enh[0] == '\0')
		return 0;
	if (pat[0] == 'x') {
		pat++;
		enh++;
		n--;
	}
	if (n > 0 && pat[n - 1] == '.')
		return strncmp(pat, enh, n) == 0;
	return strcmp(pat, enh) == 0;
}

static const char *
advice_for(const char *class, const char *reason)
{
	size_t	 i;

	for (i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		if (strcmp(advice[i].class, class) == 0 &&
		    (advice[i].reason == NULL ||
		    strcmp(advice[i].reason, reason) == 0))
			return advice[i].advice;
	return "";
}

/* rule_matches - 1 if every condition of r holds (low: lower case) */
static int
rule_matches(const struct rule *r, int stage, int code, const char *enh,
    const char *low, char *hit, size_t hitlen)
{
	if (r->weight == 0)
		return 0;
	if (r->stages != ANY && (stage < 0 ||
	    (r->stages & (1u << stage)) == 0))
		return 0;
	if (r->classes != NULL && (code == 0 ||
	    strchr(r->classes, '0' + code / 100) == NULL))
		return 0;
	if (r->code != 0 && r->code != code)
		return 0;
	if (r->enh != NULL && !enh_match(r->enh, enh))
		return 0;
	hit[0] = '\0';
	if (r->words != NULL && !words_match(low, r->words, hit, hitlen))
		return 0;
	if (r->also != NULL && !words_match(low, r->also, NULL, 0))
		return 0;
	return 1;
}

/* lower_text - lower-case copy of text; the enhanced code into enh */
static char *
lower_text(const char *text, const char *enhanced, char *enh)
{
	char	*low;
	size_t	 i;

	enh[0] = '\0';
	if (enhanced != NULL)
		snprintf(enh, 16, "%s", enhanced);
	if (text == NULL)
		text = "";
	low = xstrdup(text);
	for (i = 0; low[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	/* "550-5.7.1 ..." or "550 5.7.1": look after the code */
	if (enh[0] == '\0' && strlen(text) > 4 &&
	    isdigit((unsigned char)text[0]))
		reply_enhanced_parse(text + 4, enh);
	return low;
}

int
verdict_rule_matches(const char *id, int stage, int code,
    const char *enhanced, const char *text, const char **class)
{
	char	 enh[16], hit[96], *low;
	size_t	 i;
	int	 m = 0;

	low = lower_text(text, enhanced, enh);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].id, id) == 0) {
			m = rule_matches(&rules[i], stage, code, enh, low, hit,
			    sizeof(hit));
			*class = rules[i].class;
			break;
		}
	free(low);
	return m;
}

void
verdict_reply(int stage, int code, const char *enhanced, const char *text,
    struct verdict *v)
{
	const struct rule *best = NULL;
	char		*low, hit[96], besthit[96] = "";
	char		 enh[16];
	size_t		 i;

	low = lower_text(text, enhanced, enh);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];

		if (!rule_matches(r, stage, code, enh, low, hit, sizeof(hit)))
			continue;
		if (best == NULL || r->weight > best->weight) {
			best = r;
			snprintf(besthit, sizeof(besthit), "%s", hit);
		}
	}
	free(low);
	memset(v, 0, sizeof(*v));
	v->stage = stage;
	v->code = code;
	snprintf(v->enhanced, sizeof(v->enhanced), "%s", enh);
	if (best == NULL) {
		v->class = "server";
		v->reason = "temporary-error";
		v->rule = "none";
		v->confidence = 10;
		v->advice = advice_for(v->class, v->reason);
		return;
	}
	v->class = best->class;
	v->reason = best->reason;
	v->rule = best->id;
	v->confidence = best->weight;
	snprintf(v->words, sizeof(v->words), "%s", besthit);
	v->advice = advice_for(v->class, v->reason);
}

/* verdict_failure - a step that ended without a usable reply */
static void
verdict_failure(const struct record *r, const struct step *st,
    struct verdict *v)
{
	const char	*d = st->detail != NULL ? st->detail : "";

	memset(v, 0, sizeof(*v));
	v->stage = (int)st->stage;
	v->confidence = 90;
	v->class = "network";
	if (st->stage == STAGE_STARTTLS || strstr(d, "TLS") != NULL ||
	    strstr(d, "certificate") != NULL || strstr(d, "STARTTLS") !=
	    NULL) {
		v->class = "tls";
		v->reason = strstr(d, "injection") != NULL ? "injection" :
		    strstr(d, "certificate") != NULL ? "verify-failed" :
		    strstr(d, "not offer") != NULL ? "tls-unavailable" :
		    "handshake-failed";
		v->rule = "tls-failure";
	} else if (strstr(d, "malformed") != NULL ||
	    strstr(d, "too long") != NULL || strstr(d, "too many") != NULL ||
	    strstr(d, "too large") != NULL || strstr(d, "unexpected") != NULL ||
	    strstr(d, "before the") != NULL) {
		v->class = "server";
		v->reason = "malformed-reply";
		v->rule = "server-malformed";
	} else if (st->stage == STAGE_RESOLVE) {
		v->reason = "resolve";
		v->rule = "network-resolve";
	} else if (st->outcome == OUT_TIMEOUT) {
		v->reason = "timeout";
		v->rule = "network-timeout";
	} else if (strstr(d, "refused") != NULL) {
		v->reason = "refused";
		v->rule = "network-refused";
	} else if (strstr(d, "reset") != NULL) {
		v->reason = "reset";
		v->rule = "network-reset";
	} else if (st->outcome == OUT_CLOSED) {
		v->reason = "closed";
		v->rule = "network-closed";
	} else {
		v->reason = "error";
		v->rule = "network-error";
	}
	if (st->reply != NULL) {
		v->code = st->reply->code;
		snprintf(v->enhanced, sizeof(v->enhanced), "%s",
		    st->reply->enhanced);
	}
	snprintf(v->words, sizeof(v->words), "%.120s", d);
	v->advice = advice_for(v->class, v->reason);
}

void
verdict_step(const struct record *r, const struct step *st,
    struct verdict *v)
{
	struct reply	*rp = st->reply;
	char		*text;
	size_t		 i, len = 1;

	if (rp == NULL || st->outcome == OUT_TIMEOUT ||
	    st->outcome == OUT_CLOSED || st->outcome == OUT_ERROR) {
		verdict_failure(r, st, v);
		return;
	}
	for (i = 0; i < rp->nlines; i++)
		len += strlen(rp->lines[i]) + 3;
	text = xmalloc(len);
	text[0] = '\0';
	for (i = 0; i < rp->nlines; i++) {
		if (i > 0)
			strncat(text, " | ", len - strlen(text) - 1);
		strncat(text, rp->lines[i], len - strlen(text) - 1);
	}
	verdict_reply((int)st->stage, rp->code, rp->enhanced, text, v);
	free(text);
}

void
verdict_record(const struct record *r, struct verdict *v)
{
	size_t		 i;

	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];

		if (st->stage == STAGE_QUIT || (st->stage == STAGE_RESOLVE &&
		    st->outcome == OUT_OK))
			continue;
		if (r->status == RES_ERROR &&
		    (st->outcome == OUT_TIMEOUT || st->outcome == OUT_CLOSED ||
		    st->outcome == OUT_ERROR || (st->outcome == OUT_SKIPPED &&
		    st->detail != NULL && st->stage == STAGE_STARTTLS))) {
			verdict_failure(r, st, v);
			return;
		}
		if ((r->status == RES_PERMFAIL &&
		    st->outcome == OUT_PERMFAIL) ||
		    (r->status == RES_TEMPFAIL &&
		    st->outcome == OUT_TEMPFAIL)) {
			verdict_step(r, st, v);
			return;
		}
	}
	memset(v, 0, sizeof(*v));
	v->stage = -1;
	v->confidence = r->status == RES_OK ? 99 : 30;
	v->class = r->status == RES_OK ? "accepted" : "network";
	v->reason = r->status == RES_OK ? "accepted" : "error";
	v->rule = r->status == RES_OK ? "accepted" : "session-error";
	if (r->status != RES_OK && r->message != NULL)
		snprintf(v->words, sizeof(v->words), "%.120s", r->message);
	v->advice = advice_for(v->class, v->reason);
}

const char *const *
verdict_rule_ids(void)
{
	static const char *ids[sizeof(rules) / sizeof(rules[0]) + 1];
	size_t	 i, n = 0;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].weight > 0)
			ids[n++] = rules[i].id;
	ids[n] = NULL;
	return ids;
}

const char *
verdict_enhanced_meaning(const char *e)
{
	static const struct {
		const char	*code;
		const char	*text;
	} reg[] = {
		{ ".0.0", "Other undefined status" },
		{ ".1.0", "Other address status" },
		{ ".1.1", "Bad destination mailbox address" },
		{ ".1.2", "Bad destination system address" },
		{ ".1.3", "Bad destination mailbox address syntax" },
		{ ".1.4", "Destination mailbox address ambiguous" },
		{ ".1.5", "Destination address valid" },
		{ ".1.6", "Destination mailbox has moved, no forwarding address" },
		{ ".1.7", "Bad sender's mailbox address syntax" },
		{ ".1.8", "Bad sender's system address" },
		{ ".1.9", "Message relayed to non-compliant mailer" },
		{ ".1.10", "Recipient address has null MX" },
		{ ".2.0", "Other or undefined mailbox status" },
		{ ".2.1", "Mailbox disabled, not accepting messages" },
		{ ".2.2", "Mailbox full" },
		{ ".2.3", "Message length exceeds administrative limit" },
		{ ".2.4", "Mailing list expansion problem" },
		{ ".3.0", "Other or undefined mail system status" },
		{ ".3.1", "Mail system full" },
		{ ".3.2", "System not accepting network messages" },
		{ ".3.3", "System not capable of selected features" },
		{ ".3.4", "Message too big for system" },
		{ ".3.5", "System incorrectly configured" },
		{ ".3.6", "Requested priority was changed" },
		{ ".4.0", "Other or undefined network or routing status" },
		{ ".4.1", "No answer from host" },
		{ ".4.2", "Bad connection" },
		{ ".4.3", "Directory server failure" },
		{ ".4.4", "Unable to route" },
		{ ".4.5", "Mail system congestion" },
		{ ".4.6", "Routing loop detected" },
		{ ".4.7", "Delivery time expired" },
		{ ".4.8", "MX host not found" },
		{ ".5.0", "Other or undefined protocol status" },
		{ ".5.1", "Invalid command" },
		{ ".5.2", "Syntax error" },
		{ ".5.3", "Too many recipients" },
		{ ".5.4", "Invalid command arguments" },
		{ ".5.5", "Wrong protocol version" },
		{ ".5.6", "Authentication Exchange line is too long" },
		{ ".6.0", "Other or undefined media error" },
		{ ".6.1", "Media not supported" },
		{ ".6.2", "Conversion required and prohibited" },
		{ ".6.3", "Conversion required but not supported" },
		{ ".6.4", "Conversion with loss performed" },
		{ ".6.5", "Conversion Failed" },
		{ ".6.6", "Message content not available" },
		{ ".6.7", "Non-ASCII addresses not permitted for that sender/recipient" },
		{ ".6.8", "UTF-8 string reply is required, but not permitted by the SMTP client" },
		{ ".6.9", "UTF-8 header message cannot be transferred to one or more recipients" },
		{ ".7.0", "Other or undefined security status" },
		{ ".7.1", "Delivery not authorized, message refused" },
		{ ".7.2", "Mailing list expansion prohibited" },
		{ ".7.3", "Security conversion required but not possible" },
		{ ".7.4", "Security features not supported" },
		{ ".7.5", "Cryptographic failure" },
		{ ".7.6", "Cryptographic algorithm not supported" },
		{ ".7.7", "Message integrity failure" },
		{ ".7.8", "Authentication credentials invalid" },
		{ ".7.9", "Authentication mechanism is too weak" },
		{ ".7.10", "Encryption Needed" },
		{ ".7.11", "Encryption required for requested authentication mechanism" },
		{ ".7.12", "A password transition is needed" },
		{ ".7.13", "User Account Disabled" },
		{ ".7.14", "Trust relationship required" },
		{ ".7.15", "Priority Level is too low" },
		{ ".7.16", "Message is too big for the specified priority" },
		{ ".7.17", "Mailbox owner has changed" },
		{ ".7.18", "Domain owner has changed" },
		{ ".7.19", "RRVS test cannot be completed" },
		{ ".7.20", "No passing DKIM signature found" },
		{ ".7.21", "No acceptable DKIM signature found" },
		{ ".7.22", "No valid author-matched DKIM signature found" },
		{ ".7.23", "SPF validation failed" },
		{ ".7.24", "SPF validation error" },
		{ ".7.25", "Reverse DNS validation failed" },
		{ ".7.26", "Multiple authentication checks failed" },
		{ ".7.27", "Sender address has null MX" },
		{ ".7.28", "Mail flood detected" },
		{ ".7.29", "ARC validation failure" },
		{ ".7.30", "REQUIRETLS support required" },
	};
	size_t	 i;

	if (e == NULL || e[0] == '\0' || e[1] != '.')
		return NULL;
	for (i = 0; i < sizeof(reg) / sizeof(reg[0]); i++)
		if (strcmp(e + 1, reg[i].code) == 0)
			return reg[i].text;
	return NULL;
}
