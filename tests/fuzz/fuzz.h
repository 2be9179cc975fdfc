/*
 * fuzz.h - what every libFuzzer harness in tests/fuzz shares.
 *
 * A harness is one file tests/fuzz/fuzz_NAME.c that defines
 * LLVMFuzzerTestOneInput() and has, in its opening comment, the line
 *	FUZZ-OPTIONS: libFuzzer options of its own (e.g. -max_len=N)
 * that tests/fuzz/run.sh reads. run.sh builds it with clang and
 * -fsanitize=fuzzer,address,undefined, linked with every probe module;
 * tests/fuzz/replay.c turns the same file into a plain program that
 * make check runs on the seeds and on tests/fuzz/regress/NAME, so a
 * crash found once stays tested with gcc and the sanitizer build too.
 *
 * FUZZ_CHECK(cond) aborts when an invariant of the code under test does
 * not hold: a wrong answer is a finding just as a crash is.
 */
#ifndef SMTPROBE_FUZZ_H
#define SMTPROBE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * fuzz_printable - 1 if s is what util_escape() promises: valid
 * shortest-form UTF-8 with no C0 control, DEL, C1 control, bidi control
 * (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), U+FFFE or
 * U+FFFF
 */
static inline int
fuzz_printable(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned long		 c, min;
	size_t			 n, i;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p < 0xc2 || *p > 0xf4)
			return 0;
		n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;
		c = *p & (0x7f >> n);
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (c < min || c <= 0x9f || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff) || c == 0x61c ||
		    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069) || c == 0xfffe || c == 0xffff)
			return 0;
		p += n;
	}
	return 1;
}

#endif
