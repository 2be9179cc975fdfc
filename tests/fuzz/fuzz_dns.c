/*
 * fuzz_dns.c - DNS answers as dns.c reads them (dns_parse_answer), and
 * what check.c makes of DNSBL answers.
 * FUZZ-OPTIONS: -max_len=4096
 *
 * The first byte picks the question type (modulo 7: A, AAAA, MX, TXT,
 * PTR, TLSA, CNAME); the rest is the answer packet. With a 50% chance the packet's
 * question section is rewritten to ask what the harness asks, so that
 * the parser gets past the question check and into the records. Every
 * result must be consistent: a status, a detail, printable names and
 * texts, addresses of the right family, MX hosts that are names.
 */
#include "config.h"

#include <string.h>

#include <event2/event.h>

#include "check.h"
#include "dns.h"
#include "fuzz.h"
#include "log.h"

static int	 delivered;

static void
answer_cb(const struct dns_result *r, void *arg)
{
	size_t	 i;
	const char *meaning;

	delivered++;
	FUZZ_CHECK(r->detail != NULL);
	FUZZ_CHECK((r->status == DNS_OK) == (r->error == NULL));
	FUZZ_CHECK(r->canon != NULL && fuzz_printable(r->canon));
	for (i = 0; i < r->naddrs; i++) {
		FUZZ_CHECK(r->addrs[i].family == 2 || r->addrs[i].family ==
		    10);
		FUZZ_CHECK(memchr(r->addrs[i].text, '\0',
		    sizeof(r->addrs[i].text)) != NULL);
		(void)check_dnsbl_answer("zen.fuzz.test", r->addrs[i].text,
		    &meaning);
	}
	for (i = 0; i < r->nmx; i++)
		FUZZ_CHECK(r->mx[i].host != NULL &&
		    fuzz_printable(r->mx[i].host));
	for (i = 0; i < r->nnames; i++)
		FUZZ_CHECK(fuzz_printable(r->names[i]));
	for (i = 0; i < r->ntxts; i++)
		FUZZ_CHECK(fuzz_printable(r->txts[i]));
	for (i = 0; i < r->nrrs; i++)
		FUZZ_CHECK(r->rrs[i] != NULL);
	for (i = 0; i < r->ntlsa; i++)
		FUZZ_CHECK(r->tlsa[i].len == 0 || r->tlsa[i].data != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX,
	    DNS_T_TXT, DNS_T_PTR, DNS_T_TLSA, DNS_T_CNAME };
	static struct event_base *base;
	static struct dns_ctx *ctx;
	static const uint8_t qname[] = "\003www\004fuzz\004test";
	struct dns_params p = { "127.0.0.1:1", NULL, 100, 1 };
	uint8_t		 pkt[4096 + 64];
	char		 err[256];
	uint16_t	 type;
	size_t		 n;
	int		 rc;

	if (base == NULL) {
		log_init("fuzz_dns", -1);
		if ((base = event_base_new()) == NULL ||
		    (ctx = dns_ctx_new(base, &p, err, sizeof(err))) == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	data++;
	size--;
	n = size;
	if (n > 4096)
		n = 4096;
	memcpy(pkt, data, n);
	if ((data[-1] & 0x80) && n >= 12) {
		/* ask what we ask: one question www.fuzz.test/type/IN */
		uint8_t	 tail[4096];
		size_t	 q = 12, k;

		/* skip the packet's own question, if it has one */
		while (q < n && pkt[q] != 0 && q - 12 < 255)
			q += (size_t)pkt[q] + 1;
		q += 5;
		k = q < n ? n - q : 0;
		memcpy(tail, pkt + (q < n ? q : n), k);
		pkt[4] = 0;
		pkt[5] = 1;
		pkt[2] |= 0x80;			/* QR */
		pkt[2] &= (uint8_t)~0x78;	/* opcode QUERY */
		memcpy(pkt + 12, qname, sizeof(qname));
		n = 12 + sizeof(qname);
		pkt[n++] = (uint8_t)(type >> 8);
		pkt[n++] = (uint8_t)type;
		pkt[n++] = 0;
		pkt[n++] = 1;			/* IN */
		memcpy(pkt + n, tail, k);
		n += k;
	}
	delivered = 0;
	rc = dns_parse_answer(ctx, pkt, n, "www.fuzz.test", type, answer_cb,
	    NULL);
	FUZZ_CHECK((rc == 0) == (delivered == 1));
	return 0;
}
