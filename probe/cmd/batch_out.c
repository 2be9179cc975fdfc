/*
 * batch_out.c - what a batch writes: one JSON record per job (written
 * with jsonw.c, one write(2) each, in completion order) and the
 * --metadata document of the run.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "batch_int.h"
#include "jsonw.h"
#include "log.h"
#include "record.h"
#include "report.h"
#include "schema.h"
#include "util.h"
#include "valid.h"

const char *const bt_status_names[ST__COUNT] = {
	[ST_OK] = "ok", [ST_PERMFAIL] = "permfail",
	[ST_TEMPFAIL] = "tempfail", [ST_TIMEOUT] = "timeout",
	[ST_REFUSED] = "refused", [ST_UNREACHABLE] = "unreachable",
	[ST_TLS] = "tls", [ST_DNS] = "dns", [ST_ERROR] = "error",
	[ST_EXPECT] = "expect", [ST_BLOCKLISTED] = "blocklisted",
	[ST_INVALID] = "invalid", [ST_INTERRUPTED] = "interrupted",
};

static json_t	*bout_head(struct batch *b, const struct bt_target *t,
		    const struct bt_job *j, enum bt_status st, int code,
		    json_t *verdict, const char *started, const char *ended,
		    const char *error);
static void	 bout_emit(struct batch *b, json_t *o,
		    void (*tail)(struct jw_buf *, void *), void *arg);

/*
 * bout_report - write the record of target t (job j, NULL before any
 * job). verdict, session and more are stolen.
 */
void
bout_report(struct batch *b, const struct bt_target *t, const struct bt_job *j,
    enum bt_status st, int code, json_t *verdict, const char *started,
    const char *ended, const char *error, json_t *session, json_t *more)
{
	json_t	*o;

	jw_arena_begin();
	o = bout_head(b, t, j, st, code, verdict, started, ended, error);
	if (session != NULL && (b->bl_base != NULL ||
	    b->o.baseline_save != NULL))
		bbase_record(b, t, session, o);
	json_object_set_new(o, "session", session != NULL ? session :
	    json_null());
	if (more != NULL)
		json_object_set_new(o, "more_sessions", more);
	b->count[st]++;
	bout_emit(b, o, NULL, NULL);
}

/*
 * bout_report_tail - bout_report() for a record whose "session" (and
 * "more_sessions") tail() writes itself, from the leading ',' on, with
 * no tree (report_jw_doc()): the same bytes, without the baseline,
 * which needs the session's tree. verdict is stolen.
 */
void
bout_report_tail(struct batch *b, const struct bt_target *t,
    const struct bt_job *j, enum bt_status st, int code, json_t *verdict,
    const char *started, const char *ended,
    void (*tail)(struct jw_buf *, void *), void *arg)
{
	json_t	*o;

	jw_arena_begin();
	o = bout_head(b, t, j, st, code, verdict, started, ended, NULL);
	b->count[st]++;
	bout_emit(b, o, tail, arg);
}

/* bout_head - a record's fields before "session", in the arena */
static json_t *
bout_head(struct batch *b, const struct bt_target *t, const struct bt_job *j,
    enum bt_status st, int code, json_t *verdict, const char *started,
    const char *ended, const char *error)
{
	const struct route_addr	*ra = j != NULL ? j->ra : NULL;
	json_t			*o;

	o = json_object();

	json_object_set_new(o, "schema", json_string(SCHEMA_BATCH_RECORD));
	json_object_set_new(o, "input_index", json_integer((json_int_t)
	    t->index));
	json_object_set_new(o, "target", jw_string(t->text));
	if (t->tag != NULL)	/* a copy: the tree holds nothing else */
		json_object_set_new(o, "tag", json_deep_copy(t->tag));
	json_object_set_new(o, "address", j != NULL && j->dest != NULL ?
	    json_string(j->dest->a.text) : json_null());
	json_object_set_new(o, "port", t->kind == BT_INVALID ? json_null() :
	    json_integer(bsess_port(b, t)));
	json_object_set_new(o, "mx", ra != NULL && ra->pref >= 0 ?
	    jw_string(ra->host) : json_null());
	if (ra != NULL && ra->pref >= 0)
		json_object_set_new(o, "mx_preference",
		    json_integer(ra->pref));
	if (b->o.all_mx && j != NULL && j->mx_count > 0) {
		json_object_set_new(o, "mx_index", json_integer(j->mx_index));
		json_object_set_new(o, "mx_count", json_integer(j->mx_count));
	}
	if (b->shard_n > 1)
		json_object_set_new(o, "shard", json_pack("{s:I, s:I, s:I}",
		    "i", (json_int_t)b->shard_i, "n", (json_int_t)b->shard_n,
		    "seed", (json_int_t)b->o.seed));
	json_object_set_new(o, "status", json_string(bt_status_names[st]));
	json_object_set_new(o, "exit_code", code >= 0 ? json_integer(code) :
	    json_null());
	json_object_set_new(o, "verdict", verdict != NULL ? verdict :
	    json_null());
	json_object_set_new(o, "started", jw_string(started));
	json_object_set_new(o, "ended", jw_string(ended));
	if (error != NULL)
		json_object_set_new(o, "error", jw_string(error));
	return o;
}

/*
 * bout_emit - one record, one line, one write(2); o is freed. tail,
 * when given, writes the last members of the object after o's.
 */
static void
bout_emit(struct batch *b, json_t *o, void (*tail)(struct jw_buf *, void *),
    void *arg)
{
	size_t		 off = 0;
	ssize_t		 w;
	struct pollfd	 pfd;

	b->out.len = 0;
	if (!b->out_error) {
		jw_value(&b->out, o);
		if (tail != NULL) {
			b->out.len--;		/* o's closing brace */
			tail(&b->out, arg);
			jw_need(&b->out, 1);
			b->out.p[b->out.len++] = '}';
		}
		jw_need(&b->out, 1);
		b->out.p[b->out.len++] = '\n';
	}
	/*
	 * Every block of the tree lies in the arena (the tag was copied
	 * in): resetting it frees the tree without walking it.
	 */
	(void)o;
	jw_arena_end();
	while (!b->out_error && off < b->out.len) {
		w = write(b->out_fd, b->out.p + off, b->out.len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN) {
			/* a non-blocking stdout: wait for the reader */
			pfd.fd = b->out_fd;
			pfd.events = POLLOUT;
			poll(&pfd, 1, -1);
			continue;
		}
		if (w == -1) {
			b->out_error = errno;
			log_warn("batch: cannot write the records");
			bloop_stop_now(b);
			return;
		}
		off += (size_t)w;
	}
	if (!b->out_error)
		b->nrecords++;
}

/* bout_job_reported - the record of job j is written */
void
bout_job_reported(struct batch *b, struct bt_job *j)
{
	if (--j->t->pending == 0)
		bout_target_reported(b, j->t);
}

/* bout_target_reported - every record of t is written */
void
bout_target_reported(struct batch *b, struct bt_target *t)
{
	b->ndone++;
	if (--b->outstanding == 0 && b->base != NULL)
		event_base_loopbreak(b->base);
}

/* bout_target_dropped - t turned out to belong to another shard (or to be
   done already) once resolved */
void
bout_target_dropped(struct batch *b, struct bt_target *t)
{
	b->nselected--;
	if (--b->outstanding == 0 && b->base != NULL)
		event_base_loopbreak(b->base);
}

/* bout_counts - the records per status, as JSON */
static json_t *
bout_counts(const struct batch *b)
{
	json_t	*counts = json_object();
	int	 i;

	for (i = 0; i < ST__COUNT; i++)
		json_object_set_new(counts, bt_status_names[i],
		    json_integer((json_int_t)b->count[i]));
	return counts;
}

/* bout_shard - which shard of the input this run is, as JSON */
static json_t *
bout_shard(const struct batch *b)
{
	return json_pack("{s:I, s:I, s:I, s:s, s:o}",
	    "i", (json_int_t)b->shard_i, "n", (json_int_t)b->shard_n,
	    "seed", (json_int_t)b->o.seed, "key",
	    b->o.shard_by_name ? "name" : "ip", "from",
	    b->shard_from != NULL ? json_string(b->shard_from) : json_null());
}

/* bout_metadata - the run summary as JSON, written to a temporary file
   and renamed */
int
bout_metadata(struct batch *b, double wall, int rc)
{
	json_t	*counts = bout_counts(b), *doc, *shard;
	char	 ended[32], *tmp;
	int	 ok;

	util_utc_iso(ended, sizeof(ended));
	shard = b->shard_n > 1 ? bout_shard(b) : json_null();
	doc = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:f, s:o, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:f, s:o, s:o, "
	    "s:o, s:b, s:i}",
	    "schema", SCHEMA_BATCH_METADATA,
	    "tool", "name", "smtprobe", "version", PACKAGE_VERSION,
	    "started", b->started, "ended", ended, "wall_s", wall,
	    "input", jw_string(b->o.input != NULL ? b->o.input : "-"),
	    "targets", (json_int_t)b->nt,
	    "selected", (json_int_t)b->nselected,
	    "reported", (json_int_t)b->ndone,
	    "not_reported", (json_int_t)b->outstanding,
	    "skipped_resume", (json_int_t)b->nresumed,
	    "skipped_other_shards", (json_int_t)b->nother,
	    "records", (json_int_t)b->nrecords,
	    "counts", counts,
	    "concurrency_cap", (json_int_t)b->cap,
	    "peak_concurrency", (json_int_t)b->peak_active,
	    "fd_limit", (json_int_t)b->fd_limit,
	    "per_ip", (json_int_t)b->o.per_ip,
	    "per_ip_gap_s", (double)b->o.gap_ms / 1000,
	    "rate_per_s", b->o.rate > 0 ? json_real(b->o.rate) : json_null(),
	    "shard", shard,
	    "contact", jw_string(b->o.contact),
	    "interrupted", b->interrupted,
	    "exit_code", rc);
	if (doc == NULL)
		fatalx("cannot build the metadata");
	tmp = xasprintf("%s.tmp%ld", b->o.metadata, (long)getpid());
	ok = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ==
	    0 && rename(tmp, b->o.metadata) == 0;
	if (!ok) {
		log_warn("batch --metadata: %s", b->o.metadata);
		unlink(tmp);
	}
	free(tmp);
	json_decref(doc);
	return ok ? 0 : -1;
}

/* batch_json - v as the records print it, into *buf (t_batch) */
size_t
batch_json(json_t *v, char **buf, size_t *cap)
{
	struct jw_buf	 o;

	o.p = *buf;
	o.len = 0;
	o.cap = *cap;
	jw_value(&o, v);
	jw_need(&o, 1);
	o.p[o.len] = '\0';
	*buf = o.p;
	*cap = o.cap;
	return o.len;
}

/*
 * bout_input_json - what "batch merge" needs to know of the input: its
 * line count, the lines that are no target (blank, # comments), its
 * SHA-256
 */
static json_t *
bout_input_json(struct batch *b)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[2 * EVP_MAX_MD_SIZE + 1];
	json_t		*skipped = json_array();
	size_t		 lines = 0, i, k = 0;
	const char	*p;

	for (p = b->input; p != NULL && p < b->input + b->input_len; p++)
		if (*p == '\n')
			lines++;
	if (b->input_len > 0 && b->input[b->input_len - 1] != '\n')
		lines++;
	for (i = 0; i < lines; i++) {
		if (k < b->nt && b->t[k].index == i) {
			k++;
			continue;
		}
		json_array_append_new(skipped, json_integer((json_int_t)i));
	}
	if (EVP_Digest(b->input != NULL ? b->input : "", b->input_len, md,
	    &mdlen, EVP_sha256(), NULL) != 1)
		fatalx("cannot hash the input");
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", md[i]);
	hex[2 * mdlen] = '\0';
	return json_pack("{s:o, s:I, s:I, s:o, s:s}",
	    "name", jw_string(b->o.input != NULL ? b->o.input : "-"),
	    "lines", (json_int_t)lines, "targets", (json_int_t)b->nt,
	    "skipped_lines", skipped, "sha256", hex);
}

/*
 * bout_summary_record - the last line of the output with
 * --summary-record: {"schema":..., "summary":{...}}, what "batch merge"
 * checks
 */
void
bout_summary_record(struct batch *b, double wall, int rc)
{
	json_t	*sum, *o;
	char	 ended[32];

	jw_arena_begin();
	util_utc_iso(ended, sizeof(ended));
	sum = json_pack("{s:{s:s, s:s}, s:s, s:s, s:f, s:o, "
	    "s:o, s:b, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:o, s:b, s:i}",
	    "tool", "name", "smtprobe", "version", PACKAGE_VERSION,
	    "started", b->started, "ended", ended, "wall_s", wall,
	    "input", bout_input_json(b),
	    "shard", bout_shard(b),
	    "all_mx", b->o.all_mx,
	    "selected", (json_int_t)b->nselected,
	    "reported", (json_int_t)b->ndone,
	    "not_reported", (json_int_t)b->outstanding,
	    "skipped_resume", (json_int_t)b->nresumed,
	    "skipped_other_shards", (json_int_t)b->nother,
	    "records", (json_int_t)b->nrecords,
	    "counts", bout_counts(b),
	    "interrupted", b->interrupted,
	    "exit_code", rc);
	if (sum == NULL)
		fatalx("cannot build the summary record");
	o = json_pack("{s:s}", "schema", SCHEMA_BATCH_SUMMARY);
	json_object_set_new(o, "summary", sum);
	bout_emit(b, o, NULL, NULL);
}
