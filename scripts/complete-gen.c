/*
 * complete-gen.c - shell completion for smtprobe, written from the
 * option table (include/opt.def, read through opt_def()), the stage
 * names (stage_name()) and the AUTH mechanisms (smtp_auth_mech_name()),
 * so that it cannot drift from the options. Built and run at build
 * time; the scripts are installed where bash-completion and zsh look.
 *
 * usage: complete-gen bash|zsh
 *
 * What an option's argument completes to follows from its declaration:
 * OT_ENUM - its words ("text|json|ticket"); an argument named STAGE -
 * the stage names a stop point or timeout takes; MECH - the mechanisms;
 * FILE - file names ("FILE|-" also "-"); DIR - directories; anything
 * else (host names, addresses, text) - nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "opt.h"
#include "smtp.h"
#include "stage.h"

enum val_kind {
	VAL_NONE,	/* a flag */
	VAL_FREE,	/* text we cannot guess */
	VAL_WORDS,	/* a fixed list */
	VAL_FILE,
	VAL_DIR
};

static const struct {
	const char	*name;		/* as typed after "smtprobe" */
	int		 cmd;		/* OC_* */
	const char	*operand;	/* what the operands are */
} cmds[] = {
	{ "probe", OC_PROBE, NULL },
	{ "shell", OC_SHELL, "host" },
	{ "batch", OC_BATCH, "file" },
	{ "explain", OC_EXPLAIN, "file" },
};

/* stages - the stages an option names: the conversation's, in order */
static void
stages(char *buf, size_t len)
{
	int	 st;

	buf[0] = '\0';
	for (st = STAGE_CONNECT; st <= STAGE_EOD; st++) {
		if (buf[0] != '\0')
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, stage_name(st), len - strlen(buf) - 1);
	}
}

/* mechs - the AUTH mechanisms, lower case, as --auth takes them */
static void
mechs(char *buf, size_t len)
{
	const char	*n;
	size_t		 o;
	int		 m;

	buf[0] = '\0';
	for (m = 0; m < AUTH__COUNT; m++) {
		if (buf[0] != '\0')
			strncat(buf, " ", len - strlen(buf) - 1);
		o = strlen(buf);
		for (n = smtp_auth_mech_name(m); *n != '\0' && o + 1 < len;
		    n++)
			buf[o++] = (char)(*n >= 'A' && *n <= 'Z' ? *n + 32 :
			    *n);
		buf[o] = '\0';
	}
}

/* kind - what the argument of d completes to; words filled for a list */
static enum val_kind
kind(const struct opt_def *d, char *words, size_t len)
{
	const char	*p;
	size_t		 i;

	words[0] = '\0';
	if (d->arg == NULL)
		return VAL_NONE;
	if (d->type == OT_ENUM) {
		for (i = 0, p = d->arg; *p != '\0' && i + 1 < len; p++)
			words[i++] = *p == '|' ? ' ' : *p;
		words[i] = '\0';
		return VAL_WORDS;
	}
	if (strcmp(d->arg, "STAGE") == 0 || strcmp(d->arg, "[STAGE=]SECS") ==
	    0) {
		if (strcmp(d->arg, "STAGE") != 0)
			return VAL_FREE;
		stages(words, len);
		return VAL_WORDS;
	}
	if (strcmp(d->arg, "MECH") == 0) {
		mechs(words, len);
		return VAL_WORDS;
	}
	if (strcmp(d->arg, "FILE|-") == 0) {
		snprintf(words, len, "-");
		return VAL_FILE;
	}
	if (strstr(d->arg, "FILE") != NULL)
		return VAL_FILE;
	if (strcmp(d->arg, "DIR") == 0)
		return VAL_DIR;
	return VAL_FREE;
}

/* zsh_text - help text for an _arguments spec: no ' : [ ] \ */
static void
zsh_text(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
			printf("\\%c", *s);
		else
			putchar(*s);
	}
}

static void
bash(void)
{
	const struct opt_def *d;
	char		 words[512];
	size_t		 c;
	int		 id, k;

	printf("# bash completion for smtprobe(1), generated from its option "
	    "table by\n# scripts/complete-gen.c: do not edit.\n");
	printf("_smtprobe()\n{\n");
	printf("\tlocal cur prev cmd=probe i\n\tCOMPREPLY=()\n");
	printf("\tcur=${COMP_WORDS[COMP_CWORD]}\n");
	printf("\tprev=${COMP_WORDS[COMP_CWORD-1]}\n");
	printf("\tcase ${COMP_WORDS[1]} in\n\tshell|batch|explain) "
	    "cmd=${COMP_WORDS[1]} ;;\n\tesac\n");
	/* "batch merge PART...": its own two options, then files */
	printf("\tif [ \"$cmd\" = batch ] && [ \"$COMP_CWORD\" -gt 2 ] &&\n"
	    "\t    [ \"${COMP_WORDS[2]}\" = merge ]; then\n"
	    "\t\tcase $prev:$cur in\n"
	    "\t\t--input:*) ;;\n"
	    "\t\t*:-*) COMPREPLY=($(compgen -W '--input -q --help' -- "
	    "\"$cur\")); return ;;\n"
	    "\t\tesac\n"
	    "\t\tcompopt -o filenames 2>/dev/null\n"
	    "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\t\treturn\n\tfi\n");
	printf("\tcase $cmd:$prev in\n");
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		for (id = OPT__BASE + 1; id < OPT__END; id++) {
			d = opt_def(id);
			if (d == NULL || !(d->cmds & cmds[c].cmd) ||
			    (d->cmds & OC_HIDDEN))
				continue;
			k = kind(d, words, sizeof(words));
			if (k == VAL_NONE)
				continue;
			printf("\t%s:--%s", cmds[c].name, d->name);
			if (d->letter != 0)
				printf("|%s:-%c", cmds[c].name, d->letter);
			printf(")\n");
			if (k == VAL_WORDS)
				printf("\t\tCOMPREPLY=($(compgen -W '%s' -- "
				    "\"$cur\"))\n", words);
			else if (k == VAL_FILE)
				printf("\t\tcompopt -o filenames 2>/dev/null\n"
				    "\t\tCOMPREPLY=($(compgen -f -- \"$cur\")"
				    "%s)\n", words[0] != '\0' ?
				    " $(compgen -W '-' -- \"$cur\")" : "");
			else if (k == VAL_DIR)
				printf("\t\tcompopt -o filenames 2>/dev/null\n"
				    "\t\tCOMPREPLY=($(compgen -d -- \"$cur\"))"
				    "\n");
			printf("\t\treturn ;;\n");
		}
	printf("\tesac\n");
	printf("\tcase $cur in\n\t-*)\n\t\tcase $cmd in\n");
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		printf("\t\t%s) COMPREPLY=($(compgen -W '", cmds[c].name);
		k = 0;
		for (id = OPT__BASE + 1; id < OPT__END; id++) {
			d = opt_def(id);
			if (d == NULL || !(d->cmds & cmds[c].cmd) ||
			    (d->cmds & OC_HIDDEN))
				continue;
			printf("%s--%s", k++ > 0 ? " " : "", d->name);
			if (d->cmds & OC_NEG)
				printf(" --no-%s", d->name);
			if (d->letter != 0)
				printf(" -%c", d->letter);
		}
		printf(" --help' -- \"$cur\")) ;;\n");
	}
	printf("\t\tesac\n\t\treturn ;;\n\tesac\n");
	printf("\tif [ \"$cmd\" = probe ] && [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W 'shell batch explain' -- "
	    "\"$cur\"))\n"
	    "\telif [ \"$cmd\" = batch ] && [ \"$COMP_CWORD\" -eq 2 ]; then\n"
	    "\t\tcompopt -o filenames 2>/dev/null\n"
	    "\t\tCOMPREPLY=($(compgen -W merge -- \"$cur\") "
	    "$(compgen -f -- \"$cur\"))\n"
	    "\telif [ \"$cmd\" = batch ] || [ \"$cmd\" = explain ]; then\n"
	    "\t\tcompopt -o filenames 2>/dev/null\n"
	    "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n\tfi\n}\n");
	printf("complete -F _smtprobe smtprobe\n");
}

static void
zsh_specs(int cmd)
{
	const struct opt_def *d;
	char		 words[512], help[1024];
	int		 id, k, pass;

	for (id = OPT__BASE + 1; id < OPT__END; id++) {
		d = opt_def(id);
		if (d == NULL || !(d->cmds & cmd) || (d->cmds & OC_HIDDEN))
			continue;
		k = kind(d, words, sizeof(words));
		for (pass = 0; pass < 3; pass++) {
			if ((pass == 1 && d->letter == 0) ||
			    (pass == 2 && !(d->cmds & OC_NEG)))
				continue;
			if (pass == 0)
				printf("\t\t'--%s%s[", d->name,
				    k == VAL_NONE ? "" : "=");
			else if (pass == 1)
				printf("\t\t'-%c%s[", d->letter,
				    k == VAL_NONE ? "" : "+");
			else
				printf("\t\t'--no-%s[", d->name);
			if (pass == 2)
				printf("take back --%s", d->name);
			else
				zsh_text(opt_expand(cmd, d, help,
				    sizeof(help)));
			printf("]");
			if (pass == 2) {
				printf("' \\\n");
				continue;
			}
			if (k != VAL_NONE) {
				printf(":");
				zsh_text(d->arg);
				printf(":");
			}
			if (k == VAL_WORDS)
				printf("(%s)", words);
			else if (k == VAL_FILE)
				printf("_files");
			else if (k == VAL_DIR)
				printf("_files -/");
			printf("' \\\n");
		}
	}
}

static void
zsh(void)
{
	size_t	 c;

	printf("#compdef smtprobe\n# zsh completion for smtprobe(1), "
	    "generated from its option table by\n# scripts/complete-gen.c: "
	    "do not edit.\n");
	printf("_smtprobe() {\n\tlocal cmd=probe\n");
	printf("\tif (( CURRENT > 2 )); then\n\t\tcase $words[2] in\n"
	    "\t\tshell|batch|explain) cmd=$words[2]\n"
	    "\t\t\tshift words\n\t\t\t(( CURRENT-- )) ;;\n\t\tesac\n\tfi\n");
	/* "batch merge PART...": its own two options, then files */
	printf("\tif [[ $cmd == batch && $words[2] == merge ]]; then\n"
	    "\t\tshift words\n\t\t(( CURRENT-- ))\n"
	    "\t\t_arguments -s '--input=[the target list the shards "
	    "read]:file:_files' '-q[no line per problem, only the count]' "
	    "'--help[this help]' '*:part:_files'\n\t\treturn\n\tfi\n");
	printf("\tcase $cmd in\n");
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		printf("\t%s)\n\t\t_arguments -s \\\n", cmds[c].name);
		zsh_specs(cmds[c].cmd);
		printf("\t\t'--help[this help]' \\\n");
		if (cmds[c].operand == NULL)
			printf("\t\t'1::command:(shell batch explain)'\n");
		else if (cmds[c].cmd == OC_BATCH)
			printf("\t\t'1:file or merge:{_alternative "
			    "\"cmd:command:(merge)\" \"files:file:_files\"}' "
			    "'*:file:_files'\n");
		else if (strcmp(cmds[c].operand, "file") == 0)
			printf("\t\t'*:file:_files'\n");
		else
			printf("\t\t'1:host:_hosts'\n");
		printf("\t\t;;\n");
	}
	printf("\tesac\n}\n_smtprobe \"$@\"\n");
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "bash") == 0)
		bash();
	else if (argc == 2 && strcmp(argv[1], "zsh") == 0)
		zsh();
	else {
		fprintf(stderr, "usage: complete-gen bash|zsh\n");
		return 64;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
