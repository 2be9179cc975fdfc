/*
 * t_batch.c - unit tests for batch mode: the record writer (jsonw.c)
 * gives what json_dumps() gives with the probe's flags (strings,
 * numbers, reals of every magnitude with the probe's 12 digits,
 * nesting, key order), and the shard hash is the documented FNV-1a +
 * splitmix64 of the seed and the key.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch.h"
#include "jsonw.h"
#include "report.h"
#include "tap.h"

static char	*buf;
static size_t	 cap;

/* same - batch_json(v) equals json_dumps(v) as the probe dumps; frees v */
static int
same(json_t *v, const char *what)
{
	char	*want;
	int	 eq;

	want = json_dumps(v, JW_FLAGS);
	batch_json(v, &buf, &cap);
	eq = want != NULL && strcmp(want, buf) == 0;
	if (!eq)
		printf("# %s: want %s got %s\n", what, want, buf);
	free(want);
	json_decref(v);
	return eq;
}

/* text - batch_json(v) is exactly want; frees v */
static int
text(json_t *v, const char *want)
{
	int	 eq;

	batch_json(v, &buf, &cap);
	eq = strcmp(want, buf) == 0;
	if (!eq)
		printf("# want %s got %s\n", want, buf);
	json_decref(v);
	return eq;
}

/* reference - the documented hash, written out again */
static uint64_t
reference(uint64_t seed, const char *key)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < 8; i++) {
		h ^= (seed >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	for (i = 0; key[i] != '\0'; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* rnd - xorshift64*, reproducible */
static uint64_t
rnd(void)
{
	static uint64_t	 x = 88172645463325252ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 2685821657736338717ULL;
}

int
main(void)
{
	static const double fixed[] = { 0.0, -0.0, 1.0, -1.0, 0.5, 0.55,
	    0.1, 0.3, 1.14, 7.76, 1e-5, 9.9999999999999995e-6, 1e-4, 0.001,
	    123456789.12, 1e16, 9999999999999998.0, 1e17, 1e21, 2.5e20,
	    1234567.89, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308,
	    0.30000000000000004, 99999999999999.99, 100000.0, 65536.5,
	    69.87, 999999999999.4, 999999999999.5, 999999999999.9, 1e12,
	    99999999999.95, 0.000099999999999995, 1e-5 * 0.99999999999995 };
	json_t		*o, *a;
	char		 s[2];
	size_t		 i, bad;
	uint64_t	 bits;
	double		 d;
	int		 c;

	/* strings: every ASCII byte, UTF-8, empty */
	bad = 0;
	for (c = 1; c < 128; c++) {
		s[0] = (char)c;
		s[1] = '\0';
		bad += !same(json_string(s), "byte");
	}
	ok(bad == 0, "every ASCII character is escaped as jansson does");
	ok(same(json_string(""), "empty"), "empty string");
	ok(same(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7 \"q\" "
	    "back\\slash /slash \t\r\n"), "utf8"), "UTF-8 and escapes");

	/* numbers and the other scalars */
	ok(same(json_integer(0), "0") && same(json_integer(-1), "-1") &&
	    same(json_integer(LLONG_MAX), "max") &&
	    same(json_integer(LLONG_MIN), "min") &&
	    same(json_integer(1234567890), "int"), "integers");
	ok(same(json_true(), "t") && same(json_false(), "f") &&
	    same(json_null(), "n"), "true, false, null");
	bad = 0;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		bad += !same(json_real(fixed[i]), "real");
	ok(bad == 0, "reals: edge values");
	ok(text(json_real(69.87), "69.87") && text(json_real(0.1 + 0.2),
	    "0.3") && text(json_real(1234.5678), "1234.5678") &&
	    text(json_real(2.0), "2.0") && text(json_real(1e-7), "1e-7") &&
	    text(json_real(123456789012.5), "123456789012.0") &&
	    text(json_real(1e13), "1e13"),
	    "reals: the probe's 12 digits, 69.87 and not 69.870000000000005");
	ok(JW_FLAGS == (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
	    (REPORT_JSON_FLAGS & JSON_REAL_PRECISION(31))),
	    "the writer's precision is the probe's (report.h)");
	bad = 0;
	for (i = 0; i < 300000; i++)
		bad += !same(json_real((double)i / 100.0), "ms");
	ok(bad == 0, "reals: milliseconds with two decimals, 0 to 3000");
	bad = 0;
	for (i = 0; i < 300000; i++) {
		do {
			bits = rnd();
			memcpy(&d, &bits, sizeof(d));
		} while (!isfinite(d));
		bad += !same(json_real(d), "random");
	}
	ok(bad == 0, "reals: 300000 random doubles");
	bad = 0;
	for (i = 0; i < 300000; i++) {
		d = ldexp((double)(rnd() >> 11), (int)(rnd() % 120) - 110);
		bad += !same(json_real(d), "scaled");
	}
	ok(bad == 0, "reals: 300000 random values from 1e-17 to 1e19");

	/* containers: order of insertion, nesting, empty ones */
	o = json_object();
	json_object_set_new(o, "z", json_integer(1));
	json_object_set_new(o, "a", json_array());
	json_object_set_new(o, "m", json_object());
	a = json_array();
	json_array_append_new(a, json_real(0.25));
	json_array_append_new(a, json_string("x\x01y"));
	json_array_append_new(a, json_pack("{s:[i,{s:n}]}", "k", 1, "q"));
	json_object_set_new(o, "arr", a);
	json_object_set_new(o, "key \"quoted\"\n", json_false());
	ok(same(o, "object"), "objects and arrays, keys in insertion order");

	/* the shard hash */
	ok(batch_hash(0, "127.0.0.1", 9) == reference(0, "127.0.0.1") &&
	    batch_hash(7, "mx.example.com", 14) == reference(7,
	    "mx.example.com") && batch_hash(~0ULL, "", 0) == reference(~0ULL,
	    ""), "batch_hash is FNV-1a of seed and key, then splitmix64");
	ok(batch_hash(0, "127.0.0.1", 9) != batch_hash(1, "127.0.0.1", 9),
	    "the seed changes the hash");
	free(buf);
	return tap_done();
}
