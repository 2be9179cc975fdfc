/*
 * t_metrics.c - probe/out/metrics.c on records made by hand: label
 * values escaped (\\, \", \n), a stage's steps summed, the totals
 * counting every session and the per-target series the first one, the
 * certificate's notAfter read, and metrics_write() replacing the file
 * through a temporary one it leaves nowhere.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "record.h"
#include "tap.h"
#include "util.h"

/* session - a record: EHLO and two RCPTs (1 ms and 2 ms), status st */
static struct record *
session(const char *addr, enum result_status st, const char *not_after)
{
	struct record	*r = record_new();
	struct step	*s;

	r->host = xstrdup("mx.test");
	r->address = xstrdup(addr);
	r->status = st;
	r->t_end = 1500000;
	s = record_add_step(r, STAGE_EHLO, 0);
	s->t_done = 500;
	s = record_add_step(r, STAGE_RCPT, 1000);
	s->t_done = 2000;
	s->outcome = st == RES_OK ? OUT_OK : OUT_PERMFAIL;
	s = record_add_step(r, STAGE_RCPT, 3000);
	s->t_done = 5000;
	if (not_after != NULL) {
		struct tls_info	*tl = record_tls(r);

		tl->done = 1;
		tl->nchain = 1;
		tl->chain = xcalloc(1, sizeof(*tl->chain));
		tl->chain[0].not_after = xstrdup(not_after);
		tl->chain[0].days_left = -3;
	}
	return r;
}

/* has - the text holds line (a whole line) */
static int
has(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

/* count - how many lines of text start with prefix */
static int
count(const char *text, const char *prefix)
{
	const char	*p = text;
	int		 n = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

int
main(void)
{
	struct metrics	*m = metrics_new("suite");
	struct record	*a, *b, *c;
	const char	*weird = "we\"ird\\na\nme";
	char		*text = NULL, dir[] = "/tmp/t_metrics.XXXXXX", *path;
	char		 line[256];
	size_t		 len = 0;
	FILE		*fp;
	DIR		*d;
	struct dirent	*de;
	int		 others = 0;

	a = session("192.0.2.1:25", RES_OK, "2030-01-02T03:04:05Z");
	b = session("192.0.2.1:25", RES_PERMFAIL, NULL);
	c = session("192.0.2.2:25", RES_PERMFAIL, "garbage");
	metrics_add(m, a, weird);
	metrics_add(m, b, weird);
	metrics_add(m, c, "mx.test:25");
	metrics_count(m, "ok", 7);
	if ((fp = open_memstream(&text, &len)) == NULL)
		return 99;
	metrics_print(fp, m, 2.5, 1);
	fclose(fp);

	ok(has(text, "smtprobe_probe_success{target=\"we\\\"ird\\\\na\\nme\","
	    "address=\"192.0.2.1:25\"} 1"),
	    "a label value with \", \\ and a newline is escaped");
	ok(count(text, "smtprobe_probe_success{") == 2,
	    "per-target series: the first session of each target and address");
	ok(has(text, "smtprobe_sessions{status=\"accepted\",exit_code=\"0\"} 1")
	    && has(text, "smtprobe_sessions{status=\"permfail\","
	    "exit_code=\"1\"} 2") &&
	    has(text, "smtprobe_sessions{status=\"expectation-failed\","
	    "exit_code=\"1\"} 0"),
	    "sessions by result: every session, every result listed");
	ok(has(text, "smtprobe_stage_latency_seconds_count{stage=\"rcpt\"} 6")
	    && has(text, "smtprobe_stage_latency_seconds_sum{stage=\"rcpt\"} "
	    "0.009000"), "stage summary: 6 RCPT steps, 9 ms in all");
	ok(has(text, "smtprobe_probe_stage_latency_seconds{target=\"mx.test:25\""
	    ",address=\"192.0.2.2:25\",stage=\"rcpt\"} 0.003000"),
	    "a target's stage latency: its steps summed (1 + 2 ms)");
	ok(has(text, "smtprobe_certificate_expiry_timestamp_seconds{target="
	    "\"we\\\"ird\\\\na\\nme\",address=\"192.0.2.1:25\"} 1893553445"),
	    "notAfter 2030-01-02T03:04:05Z is 1893553445");
	snprintf(line, sizeof(line), "smtprobe_certificate_remaining_seconds{"
	    "target=\"mx.test:25\",address=\"192.0.2.2:25\"} ");
	ok(strstr(text, line) != NULL &&
	    strtoll(strstr(text, line) + strlen(line), NULL, 10) <= -3 * 86400 &&
	    strtoll(strstr(text, line) + strlen(line), NULL, 10) > -4 * 86400,
	    "an unreadable notAfter: the time left from days_left (-3 days)");
	ok(has(text, "smtprobe_batch_records{status=\"ok\"} 7") &&
	    has(text, "smtprobe_exit_code 1") &&
	    has(text, "smtprobe_run_duration_seconds 2.500000") &&
	    has(text, "smtprobe_info{command=\"suite\",version=\""
	    PACKAGE_VERSION "\"} 1"), "the run's own figures");
	ok(count(text, "# TYPE ") == count(text, "# HELP ") &&
	    count(text, "# TYPE smtprobe_stage_latency_seconds summary") == 1,
	    "a HELP and a TYPE per family (%d)", count(text, "# TYPE "));

	if (mkdtemp(dir) == NULL)
		return 99;
	path = xasprintf("%s/m.prom", dir);
	ok(metrics_write(path, m, 2.5, 1) == 0 &&
	    metrics_write(path, m, 2.5, 1) == 0, "metrics_write twice: 0");
	if ((d = opendir(dir)) == NULL)
		return 99;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "m.prom") != 0)
			others++;
	closedir(d);
	ok(others == 0, "no temporary file left beside it (%d)", others);
	unlink(path);
	rmdir(dir);
	free(path);
	path = xasprintf("%s/gone/m.prom", dir);
	ok(metrics_write(path, m, 2.5, 1) == -1,
	    "a directory that does not exist: -1");
	free(path);

	/* the per-target series stop at 10000 targets */
	metrics_free(m);
	m = metrics_new("batch");
	{
		struct record	*r;
		char		 addr[64];
		int		 i;

		for (i = 0; i < 10005; i++) {
			snprintf(addr, sizeof(addr), "10.0.%d.%d:25", i / 250,
			    i % 250);
			r = session(addr, RES_OK, NULL);
			metrics_add(m, r, "t");
			record_free(r);
		}
	}
	free(text);
	text = NULL;
	if ((fp = open_memstream(&text, &len)) == NULL)
		return 99;
	metrics_print(fp, m, 1, 0);
	fclose(fp);
	ok(count(text, "smtprobe_probe_success{") == 10000 &&
	    has(text, "smtprobe_target_sessions_omitted 5") &&
	    has(text, "smtprobe_sessions{status=\"accepted\",exit_code=\"0\"} "
	    "10005"), "10005 targets: 10000 with series, 5 omitted, all "
	    "counted");

	free(text);
	record_free(a);
	record_free(b);
	record_free(c);
	metrics_free(m);
	return tap_done();
}
