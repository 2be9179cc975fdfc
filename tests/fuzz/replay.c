/*
 * replay.c - a harness without libFuzzer: replay_NAME FILE|DIR ...
 *
 * Linked with one tests/fuzz/fuzz_NAME.c by the normal build, it feeds
 * every file named (or found in a directory named, not recursively) to
 * LLVMFuzzerTestOneInput() once. make check runs it on the seeds and on
 * tests/fuzz/regress/NAME (tests/fuzz/replay.sh), so every input that
 * once crashed a harness is tested by gcc, valgrind-free and ASan
 * builds alike, with or without clang. Prints how many inputs ran;
 * exits 0, 1 when a file cannot be read; a finding aborts.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "log.h"

static int	 replay_file(const char *, size_t *);
static int	 replay_dir(const char *, size_t *);

/* replay_file - one input; -1 if it cannot be read */
static int
replay_file(const char *path, size_t *n)
{
	FILE	*fp;
	uint8_t	*buf = NULL;
	size_t	 len = 0, cap = 0, got;

	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	if (ferror(fp)) {
		perror(path);
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*n)++;
	return 0;
}

/* replay_dir - every regular file of a directory */
static int
replay_dir(const char *dir, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		*path;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    replay_file(path, n) == -1)
			rc = -1;
		free(path);
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat	 sb;
	size_t		 n = 0;
	int		 i, rc = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) == -1) {
			perror(argv[i]);
			rc = 1;
		} else if (S_ISDIR(sb.st_mode)) {
			if (replay_dir(argv[i], &n) == -1)
				rc = 1;
		} else if (replay_file(argv[i], &n) == -1)
			rc = 1;
	}
	printf("replayed %zu inputs\n", n);
	return rc;
}
