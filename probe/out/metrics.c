/*
 * metrics.c - Prometheus text exposition of a run (include/metrics.h).
 *
 * The families, all gauges but one summary, each with HELP and TYPE:
 *
 *   smtprobe_info{command,version}		1
 *   smtprobe_last_run_timestamp_seconds	when the file was written
 *   smtprobe_run_duration_seconds		the whole run
 *   smtprobe_exit_code				the run's exit status
 *   smtprobe_sessions{status,exit_code}	sessions per result, every
 *						result listed (0 included)
 *   smtprobe_verdicts{class}			sessions per verdict class
 *   smtprobe_stage_latency_seconds{stage}	summary (_sum, _count): the
 *						steps of every session, from
 *						command sent to reply complete
 *   smtprobe_batch_records{status}		batch: records per status
 *   smtprobe_probe_success{target,address}	1 accepted, 0 otherwise
 *   smtprobe_probe_exit_code{target,address}
 *   smtprobe_probe_duration_seconds{target,address}
 *   smtprobe_probe_stage_latency_seconds{target,address,stage}
 *						that session's time in the
 *						stage (its steps summed)
 *   smtprobe_certificate_expiry_timestamp_seconds{target,address}
 *						the server certificate's
 *						notAfter, when TLS ran
 *   smtprobe_certificate_remaining_seconds{target,address}
 *						its time left when the
 *						session ended (< 0: expired);
 *						days left, in the base unit
 *						Prometheus wants (promtool
 *						refuses a "days" metric)
 *
 * The per-target families hold the first session of each target and
 * address (a suite runs several against one server, a batch scenario
 * several per job: they come one after the other, so only the last
 * target added is compared; the totals count them all), for the first
 * MT_MAX_TARGETS targets:
 *
 *   smtprobe_target_sessions_omitted	the sessions of targets past
 *						that cap (a batch of
 *						millions would otherwise
 *						hold them all in memory);
 *						they are still in the totals
 * Every family's samples are written together, as the format
 * wants. Stages are listed in the order of enum smtp_stage.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "record.h"
#include "stage.h"
#include "tls.h"
#include "util.h"
#include "verdict.h"

#define RES__COUNT	(RES_EXPECT + 1)
#define MT_MAX_TARGETS	10000	/* per-target series, at most */

/* one target and address: its first session */
struct mt_target {
	char	*target;
	char	*address;
	int	 success;
	int	 exit_code;
	double	 duration_s;
	double	 stage_s[STAGE__COUNT];
	int	 has_stage[STAGE__COUNT];
	int64_t	 expiry;	/* notAfter, Unix time */
	int64_t	 remaining;	/* seconds left at the session's end */
	int	 has_cert;
};

struct metrics {
	char		*command;
	struct mt_target *t;
	size_t		 nt;
	size_t		 omitted;	/* sessions past MT_MAX_TARGETS */
	size_t		 sessions[RES__COUNT];
	char		**classes;	/* verdict classes seen ... */
	size_t		*nclass;	/* ... and their counts */
	size_t		 nclasses;
	double		 stage_sum[STAGE__COUNT];
	size_t		 stage_n[STAGE__COUNT];
	char		**bstatus;	/* batch statuses ... */
	size_t		*bcount;	/* ... and their counts */
	size_t		 nbstatus;
};

/* metrics_new - an empty set */
struct metrics *
metrics_new(const char *command)
{
	struct metrics	*m = xcalloc(1, sizeof(*m));

	m->command = xstrdup(command);
	return m;
}

/* metrics_free - m and all it holds */
void
metrics_free(struct metrics *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nt; i++) {
		free(m->t[i].target);
		free(m->t[i].address);
	}
	for (i = 0; i < m->nclasses; i++)
		free(m->classes[i]);
	for (i = 0; i < m->nbstatus; i++)
		free(m->bstatus[i]);
	free(m->t);
	free(m->classes);
	free(m->nclass);
	free(m->bstatus);
	free(m->bcount);
	free(m->command);
	free(m);
}

/* mt_bump - add n to the count of name in names[]/counts[] */
static void
mt_bump(char ***names, size_t **counts, size_t *len, const char *name,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < *len; i++)
		if (strcmp((*names)[i], name) == 0) {
			(*counts)[i] += n;
			return;
		}
	*names = xreallocarray(*names, *len + 1, sizeof(**names));
	*counts = xreallocarray(*counts, *len + 1, sizeof(**counts));
	(*names)[*len] = xstrdup(name);
	(*counts)[*len] = n;
	(*len)++;
}

/*
 * mt_same - the session is one more of the target and address added
 * last (the sessions of one target come together)
 */
static int
mt_same(const struct metrics *m, const char *target, const char *address)
{
	return m->nt > 0 && strcmp(m->t[m->nt - 1].target, target) == 0 &&
	    strcmp(m->t[m->nt - 1].address, address) == 0;
}

/*
 * mt_expiry - the certificate's notAfter ("YYYY-MM-DDTHH:MM:SSZ", as
 * tls.c writes it) as Unix time; from days_left when it cannot be read
 */
static void
mt_expiry(struct mt_target *t, const struct tls_cert *c)
{
	struct tm	 tm;
	time_t		 now = time(NULL), e;

	memset(&tm, 0, sizeof(tm));
	if (c->not_after != NULL && sscanf(c->not_after, "%d-%d-%dT%d:%d:%dZ",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec) == 6) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		e = timegm(&tm);
	} else
		e = now + (time_t)c->days_left * 86400;
	t->expiry = (int64_t)e;
	t->remaining = (int64_t)e - (int64_t)now;
	t->has_cert = 1;
}

/* metrics_add - one session */
void
metrics_add(struct metrics *m, const struct record *r, const char *target)
{
	struct verdict	 v;
	struct mt_target *t = NULL;
	const char	*addr = r->address != NULL ? r->address : "";
	size_t		 i;
	double		 s;

	if ((size_t)r->status < RES__COUNT)
		m->sessions[r->status]++;
	verdict_record(r, &v);
	mt_bump(&m->classes, &m->nclass, &m->nclasses, v.class, 1);
	if (target == NULL)
		target = r->host != NULL ? r->host : "";
	if (!mt_same(m, target, addr) && m->nt >= MT_MAX_TARGETS)
		m->omitted++;
	else if (!mt_same(m, target, addr)) {
		m->t = xreallocarray(m->t, m->nt + 1, sizeof(*m->t));
		t = &m->t[m->nt++];
		memset(t, 0, sizeof(*t));
		t->target = xstrdup(target);
		t->address = xstrdup(addr);
		t->success = r->status == RES_OK;
		t->exit_code = record_exit_code(r);
		t->duration_s = r->t_end >= 0 ? (double)r->t_end / 1e6 : 0;
		if (record_tls_of(r)->done && record_tls_of(r)->nchain > 0)
			mt_expiry(t, &record_tls_of(r)->chain[0]);
	}
	for (i = 0; i < r->nsteps; i++) {
		const struct step *st = &r->steps[i];

		if (st->t_sent < 0 || st->t_done < st->t_sent ||
		    (unsigned)st->stage >= STAGE__COUNT)
			continue;
		s = (double)(st->t_done - st->t_sent) / 1e6;
		m->stage_sum[st->stage] += s;
		m->stage_n[st->stage]++;
		if (t != NULL) {
			t->stage_s[st->stage] += s;
			t->has_stage[st->stage] = 1;
		}
	}
}

/* metrics_count - a batch status's count */
void
metrics_count(struct metrics *m, const char *status, size_t n)
{
	mt_bump(&m->bstatus, &m->bcount, &m->nbstatus, status, n);
}

/* mt_label - a label value, escaped as the format wants */
static void
mt_label(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '"')
			fputs("\\\"", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

/* mt_head - the HELP and TYPE lines of a family */
static void
mt_head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* mt_tl - the target and address labels of t, opening the braces */
static void
mt_tl(FILE *fp, const char *name, const struct mt_target *t)
{
	fprintf(fp, "%s{target=\"", name);
	mt_label(fp, t->target);
	fputs("\",address=\"", fp);
	mt_label(fp, t->address);
	fputc('"', fp);
}

/* mt_totals - the families of the whole run */
static void
mt_totals(FILE *fp, const struct metrics *m, double wall_s, int exit_code)
{
	struct record	 r;
	size_t		 i;

	mt_head(fp, "smtprobe_info", "gauge",
	    "The command that wrote this file and smtprobe's version.");
	fputs("smtprobe_info{command=\"", fp);
	mt_label(fp, m->command);
	fputs("\",version=\"", fp);
	mt_label(fp, PACKAGE_VERSION);
	fputs("\"} 1\n", fp);
	mt_head(fp, "smtprobe_last_run_timestamp_seconds", "gauge",
	    "When the run ended, seconds since the Unix epoch.");
	fprintf(fp, "smtprobe_last_run_timestamp_seconds %lld\n",
	    (long long)time(NULL));
	mt_head(fp, "smtprobe_run_duration_seconds", "gauge",
	    "How long the whole run took.");
	fprintf(fp, "smtprobe_run_duration_seconds %.6f\n", wall_s);
	mt_head(fp, "smtprobe_exit_code", "gauge",
	    "The exit status of the run (smtprobe(1), EXIT STATUS).");
	fprintf(fp, "smtprobe_exit_code %d\n", exit_code);
	mt_head(fp, "smtprobe_sessions", "gauge",
	    "SMTP sessions of the run by result and the exit status it "
	    "gives.");
	memset(&r, 0, sizeof(r));
	for (i = 0; i < RES__COUNT; i++) {
		r.status = i;
		fprintf(fp, "smtprobe_sessions{status=\"%s\",exit_code=\"%d\"} "
		    "%zu\n", record_status_name(i), record_exit_code(&r),
		    m->sessions[i]);
	}
	mt_head(fp, "smtprobe_verdicts", "gauge",
	    "SMTP sessions of the run by verdict class.");
	for (i = 0; i < m->nclasses; i++) {
		fputs("smtprobe_verdicts{class=\"", fp);
		mt_label(fp, m->classes[i]);
		fprintf(fp, "\"} %zu\n", m->nclass[i]);
	}
	mt_head(fp, "smtprobe_stage_latency_seconds", "summary",
	    "Steps of every session by stage: command sent to reply "
	    "complete.");
	for (i = 0; i < STAGE__COUNT; i++) {
		if (m->stage_n[i] == 0)
			continue;
		fprintf(fp, "smtprobe_stage_latency_seconds_sum{stage=\"%s\"} "
		    "%.6f\n", stage_name(i), m->stage_sum[i]);
		fprintf(fp, "smtprobe_stage_latency_seconds_count{stage=\"%s\"}"
		    " %zu\n", stage_name(i), m->stage_n[i]);
	}
	mt_head(fp, "smtprobe_target_sessions_omitted", "gauge",
	    "Sessions of targets past the first 10000, left out of the "
	    "per-target series; the totals count them.");
	fprintf(fp, "smtprobe_target_sessions_omitted %zu\n", m->omitted);
	if (m->nbstatus == 0)
		return;
	mt_head(fp, "smtprobe_batch_records", "gauge",
	    "Records the batch wrote, by status.");
	for (i = 0; i < m->nbstatus; i++) {
		fputs("smtprobe_batch_records{status=\"", fp);
		mt_label(fp, m->bstatus[i]);
		fprintf(fp, "\"} %zu\n", m->bcount[i]);
	}
}

/* mt_targets - the families of each target and address */
static void
mt_targets(FILE *fp, const struct metrics *m)
{
	size_t	 i, k;

	if (m->nt == 0)
		return;
	mt_head(fp, "smtprobe_probe_success", "gauge",
	    "1 when everything asked for was accepted, else 0.");
	for (i = 0; i < m->nt; i++) {
		mt_tl(fp, "smtprobe_probe_success", &m->t[i]);
		fprintf(fp, "} %d\n", m->t[i].success);
	}
	mt_head(fp, "smtprobe_probe_exit_code", "gauge",
	    "The exit status the session's result gives.");
	for (i = 0; i < m->nt; i++) {
		mt_tl(fp, "smtprobe_probe_exit_code", &m->t[i]);
		fprintf(fp, "} %d\n", m->t[i].exit_code);
	}
	mt_head(fp, "smtprobe_probe_duration_seconds", "gauge",
	    "How long the session took.");
	for (i = 0; i < m->nt; i++) {
		mt_tl(fp, "smtprobe_probe_duration_seconds", &m->t[i]);
		fprintf(fp, "} %.6f\n", m->t[i].duration_s);
	}
	mt_head(fp, "smtprobe_probe_stage_latency_seconds", "gauge",
	    "The session's time in each stage: command sent to reply "
	    "complete, its steps summed.");
	for (i = 0; i < m->nt; i++)
		for (k = 0; k < STAGE__COUNT; k++) {
			if (!m->t[i].has_stage[k])
				continue;
			mt_tl(fp, "smtprobe_probe_stage_latency_seconds",
			    &m->t[i]);
			fprintf(fp, ",stage=\"%s\"} %.6f\n", stage_name(k),
			    m->t[i].stage_s[k]);
		}
	for (i = 0; i < m->nt && !m->t[i].has_cert; i++)
		;
	if (i == m->nt)
		return;
	mt_head(fp, "smtprobe_certificate_expiry_timestamp_seconds", "gauge",
	    "When the server certificate expires (notAfter), seconds since "
	    "the Unix epoch.");
	for (i = 0; i < m->nt; i++) {
		if (!m->t[i].has_cert)
			continue;
		mt_tl(fp, "smtprobe_certificate_expiry_timestamp_seconds",
		    &m->t[i]);
		fprintf(fp, "} %lld\n", (long long)m->t[i].expiry);
	}
	mt_head(fp, "smtprobe_certificate_remaining_seconds", "gauge",
	    "Time left until the server certificate expires, when the "
	    "session ended (negative: expired; divide by 86400 for days).");
	for (i = 0; i < m->nt; i++) {
		if (!m->t[i].has_cert)
			continue;
		mt_tl(fp, "smtprobe_certificate_remaining_seconds", &m->t[i]);
		fprintf(fp, "} %lld\n", (long long)m->t[i].remaining);
	}
}

/* metrics_print - every family */
void
metrics_print(FILE *fp, const struct metrics *m, double wall_s,
    int exit_code)
{
	mt_totals(fp, m, wall_s, exit_code);
	mt_targets(fp, m);
}

/* metrics_write - into a temporary file beside path, then renamed */
int
metrics_write(const char *path, const struct metrics *m, double wall_s,
    int exit_code)
{
	const char	*slash = strrchr(path, '/');
	char		*tmp;
	FILE		*fp;
	int		 fd, ok;

	/* a dot file: the textfile collector reads only *.prom */
	if (slash != NULL)
		tmp = xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path,
		    slash + 1);
	else
		tmp = xasprintf(".%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		log_warn("--metrics %s: cannot create a file beside it", path);
		free(tmp);
		return -1;
	}
	(void)fchmod(fd, 0644);
	if ((fp = fdopen(fd, "w")) == NULL) {
		log_warn("--metrics %s", path);
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	metrics_print(fp, m, wall_s, exit_code);
	ok = fflush(fp) == 0 && !ferror(fp) && fsync(fd) == 0;
	ok = fclose(fp) == 0 && ok;
	if (!ok || rename(tmp, path) == -1) {
		log_warn("--metrics %s", path);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}
