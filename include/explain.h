/*
 * explain.h - "smtprobe explain": the verdict engine offline, on a
 * reply line pasted by a person or on a whole bounce message (DSN).
 */
#ifndef SMTPROBE_EXPLAIN_H
#define SMTPROBE_EXPLAIN_H

/* explain_main - run the subcommand; returns the exit status */
int	explain_main(int, char **);

#endif
