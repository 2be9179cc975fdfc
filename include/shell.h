/*
 * shell.h - "smtprobe shell HOST[:PORT]": an interactive SMTP session,
 * what admins use telnet for, on the scenario runner (scn.h).
 *
 * Each input line is a scenario step, run at once on a live session;
 * a line that is not a keyword is sent as it is. Replies come back
 * annotated (stage, meaning of the enhanced code, verdict for a
 * refusal). The steps typed can be saved as a scenario file that
 * "smtprobe --scenario" replays. Line editing and history (libedit)
 * when standard input is a terminal; plain lines from a pipe.
 * Documented in smtprobe(1), SHELL.
 */
#ifndef SMTPROBE_SHELL_H
#define SMTPROBE_SHELL_H

/*
 * shell_main - run the subcommand (argv[0] is "shell"); returns the
 * exit status: 0, 1 when an expect line was not met, 3 when no greeting
 * was accepted, 64 on a usage error.
 */
int	shell_main(int, char **);

#endif
