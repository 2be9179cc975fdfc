/*
 * log.h - diagnostics on stderr, and the one place where allocation
 * failure is handled.
 *
 * Diagnostics never go to stdout: stdout carries the probe's product
 * (transcript, JSON). log_warn() appends strerror(errno); log_warnx()
 * does not. fatal()/fatalx() print and exit with status 70 (EX_SOFTWARE).
 * log_debug() prints only at verbosity >= 2, log_info() at >= 1.
 */
#ifndef SMTPROBE_LOG_H
#define SMTPROBE_LOG_H

#include <stddef.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *progname, int verbosity);
int	log_verbosity(void);
void	log_warn(const char *, ...) LOG_PRINTF(1, 2);
void	log_warnx(const char *, ...) LOG_PRINTF(1, 2);
void	log_info(const char *, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *, ...) LOG_PRINTF(1, 2);
void	fatal(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/* Allocation either succeeds or does not return. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) LOG_PRINTF(1, 2);

#endif
