/*
 * batch.h - "smtprobe batch": many targets on one event loop.
 *
 * batch_main() is the whole subcommand. It parses its own options from
 * its own table (strictly: an unknown option, a bad number or a bad
 * address is a usage error before anything is sent), reads every target
 * (FILE or standard input), and runs them on one libevent loop under a
 * global concurrency cap, a per-destination-IP cap with a minimum gap
 * between connections to one IP, and an optional global connection
 * rate. Each result is one JSON line on standard output (or appended to
 * the --resume file), written with one write(2). See smtprobe(1), BATCH.
 *
 * Exit status:
 *   0  the run completed: every selected target has its record (the
 *      targets' own failures are in the records, not in the status)
 *   2  interrupted by SIGTERM or SIGINT before every target was reported
 *   3  the records could not be written (output error)
 *   64 usage or configuration error
 *   70 internal error (fatal(), from log.c)
 *
 * Sharding: a target belongs to shard i of n when
 *   batch_hash(seed, key) % n == i
 * where key is the destination IP address in its canonical text form
 * (inet_ntop) once known, else the host or domain name in lower case,
 * else the input line itself. batch_hash() is FNV-1a (64 bit) over the
 * seed as 8 little-endian bytes followed by the key, then the
 * splitmix64 finaliser, so other tools can compute it.
 */
#ifndef SMTPROBE_BATCH_H
#define SMTPROBE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define BATCH_EXIT_OK		0
#define BATCH_EXIT_INTERRUPTED	2
#define BATCH_EXIT_OUTPUT	3

int		 batch_main(int argc, char **argv);

/* batch_hash - the sharding hash documented above */
uint64_t	 batch_hash(uint64_t seed, const char *key, size_t len);

/*
 * batch_json - v in the form of the records: what json_dumps() gives
 * with JW_FLAGS (jsonw.h: compact, keys in order, reals with the
 * probe's 12 digits), written faster, into *buf (grown as needed,
 * NUL-terminated). Returns the length.
 */
typedef struct json_t json_t;
size_t		 batch_json(json_t *v, char **buf, size_t *cap);

#endif
