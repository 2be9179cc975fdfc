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

/* fuzz_printable - 1 if s holds printable ASCII only */
static inline int
fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

#endif
