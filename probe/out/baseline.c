/*
 * baseline.c - baseline / drift mode (--baseline-save, --baseline): what
 * should stay stable about an MX address, taken from a session's JSON
 * document, kept in a versioned JSON file, and compared with a later
 * run. What naturally varies (times, queue ids, reply texts, the
 * certificate's dates within their window, the port's source address)
 * is never recorded, so it cannot drift.
 *
 * The file (format version BASELINE_VERSION, documented in smtprobe(1),
 * BASELINE):
 *   {"schema": SCHEMA_BASELINE, "baseline": 1, "tool": {...},
 *    "saved": TIME, "entries": {"ADDR:PORT": ENTRY, ...}}
 * ENTRY:
 *   {"ehlo_extensions": [sorted keywords], "starttls_offered": bool,
 *    "tls": null | {"version", "cipher", "issuer", "expiry_window",
 *                   "spki_sha256", "verified"},
 *    "dane": null | {"status", "published"},
 *    "mta_sts": null | {"status", "mode"},
 *    "stages": ["stage:outcome:Nxx", ...], "result": STATUS,
 *    "verdict": CLASS}
 * A drift item: {"address", "field", "severity": "error"|"warning",
 * "was", "now", "detail"}.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "baseline.h"
#include "log.h"
#include "schema.h"
#include "util.h"

static json_t	*bl_extensions(json_t *doc);
static int	 bl_starttls_offered(json_t *doc);
static json_t	*bl_tls(json_t *doc);
static json_t	*bl_stages(json_t *doc);
static void	 bl_add(json_t *drift, const char *addr, const char *field,
		    int error, json_t *was, json_t *now, const char *detail);
static void	 bl_cmp_ext(json_t *drift, const char *addr, json_t *was,
		    json_t *now);
static void	 bl_cmp_tls(json_t *drift, const char *addr, json_t *was,
		    json_t *now, int dane);
static int	 bl_window_rank(const char *w);
static void	 bl_cmp_stages(json_t *drift, const char *addr, json_t *was,
		    json_t *now);

/* bl_str - o.k as a string, or NULL */
static const char *
bl_str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* bl_cmpstr - qsort of C strings */
static int
bl_cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* bl_extensions - the EHLO keywords of the last EHLO, sorted */
static json_t *
bl_extensions(json_t *doc)
{
	json_t		*ext = json_object_get(json_object_get(doc, "ehlo"),
			    "extensions"), *arr = json_array(), *v;
	const char	*k, **keys;
	size_t		 n = 0, i;

	keys = xcalloc(json_object_size(ext) + 1, sizeof(char *));
	json_object_foreach(ext, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(char *), bl_cmpstr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(keys[i]));
	free(keys);
	return arr;
}

/* bl_starttls_offered - an EHLO before TLS listed STARTTLS (or TLS was
   started, which needs it) */
static int
bl_starttls_offered(json_t *doc)
{
	json_t		*st, *l;
	size_t		 i, j;
	const char	*s;

	json_array_foreach(json_object_get(doc, "steps"), i, st) {
		s = bl_str(st, "stage");
		if (s != NULL && strcmp(s, "starttls") == 0 &&
		    json_is_object(json_object_get(st, "reply")) &&
		    json_integer_value(json_object_get(json_object_get(st,
		    "reply"), "code")) / 100 == 2)
			return 1;
		if (s == NULL || strcmp(s, "ehlo") != 0 ||
		    json_is_true(json_object_get(st, "tls")))
			continue;
		json_array_foreach(json_object_get(json_object_get(st,
		    "reply"), "lines"), j, l) {
			const char *t = json_string_value(l);

			if (t != NULL && strlen(t) >= 12 &&
			    strncasecmp(t + 4, "STARTTLS", 8) == 0 &&
			    (t[12] == '\0' || t[12] == ' '))
				return 1;
		}
	}
	return 0;
}

/* bl_window - the expiry window of a certificate with days_left */
static const char *
bl_window(json_t *cert)
{
	json_int_t	 d = json_integer_value(json_object_get(cert,
			    "days_left"));

	if (json_is_true(json_object_get(cert, "expired")) || d < 0)
		return "expired";
	if (d < 7)
		return "under-7-days";
	if (d < 30)
		return "under-30-days";
	return "30-days-or-more";
}

/* bl_window_rank - how close to expiry a window is (0 far) */
static int
bl_window_rank(const char *w)
{
	static const char *const order[] = { "30-days-or-more",
	    "under-30-days", "under-7-days", "expired" };
	int	 i;

	for (i = 0; w != NULL && i < 4; i++)
		if (strcmp(w, order[i]) == 0)
			return i;
	return 0;
}

/* bl_tls - the stable part of "tls", or null */
static json_t *
bl_tls(json_t *doc)
{
	json_t	*tls = json_object_get(doc, "tls"), *leaf;

	if (!json_is_object(tls) || bl_str(tls, "version") == NULL)
		return json_null();
	leaf = json_array_get(json_object_get(tls, "chain"), 0);
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:b}",
	    "version", bl_str(tls, "version"), "cipher", bl_str(tls, "cipher"),
	    "issuer", bl_str(leaf, "issuer"),
	    "expiry_window", leaf != NULL ? bl_window(leaf) : NULL,
	    "spki_sha256", bl_str(leaf, "spki_sha256"),
	    "verified", json_is_true(json_object_get(tls, "verified")));
}

/* bl_stages - "stage:outcome:Nxx" of every step, in order */
static json_t *
bl_stages(json_t *doc)
{
	json_t		*arr = json_array(), *st, *rep;
	size_t		 i;
	char		*s;

	json_array_foreach(json_object_get(doc, "steps"), i, st) {
		rep = json_object_get(st, "reply");
		if (json_is_object(rep))
			s = xasprintf("%s:%s:%dxx", bl_str(st, "stage"),
			    bl_str(st, "outcome"), (int)(json_integer_value(
			    json_object_get(rep, "code")) / 100));
		else
			s = xasprintf("%s:%s", bl_str(st, "stage"),
			    bl_str(st, "outcome"));
		json_array_append_new(arr, json_string(s));
		free(s);
	}
	return arr;
}

/* baseline_entry - the entry of one session's document (tls_check, when
   the document has one, for DANE and MTA-STS) */
json_t *
baseline_entry(json_t *doc)
{
	json_t	*dane = json_object_get(json_object_get(doc, "tls"), "dane");
	json_t	*sts = json_object_get(json_object_get(doc, "tls_check"),
		    "mta_sts");
	json_t	*e;

	e = json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:s?, s:s?}",
	    "ehlo_extensions", bl_extensions(doc),
	    "starttls_offered", bl_starttls_offered(doc),
	    "tls", bl_tls(doc),
	    "dane", json_is_object(dane) ? json_pack("{s:s?, s:b}", "status",
	    bl_str(dane, "status"), "published",
	    json_array_size(json_object_get(dane, "records")) > 0) :
	    json_null(),
	    "mta_sts", json_is_object(sts) ? json_pack("{s:s?, s:s?}",
	    "status", bl_str(sts, "status"), "mode", bl_str(sts, "mode")) :
	    json_null(),
	    "stages", bl_stages(doc),
	    "result", bl_str(json_object_get(doc, "result"), "status"),
	    "verdict", bl_str(json_object_get(doc, "verdict"), "class"));
	if (e == NULL)
		fatalx("cannot build a baseline entry");
	return e;
}

/* baseline_key - the entry's key: the address connected to */
const char *
baseline_key(json_t *doc)
{
	return bl_str(json_object_get(doc, "target"), "address");
}

/* bl_add - one drift item */
static void
bl_add(json_t *drift, const char *addr, const char *field, int error,
    json_t *was, json_t *now, const char *detail)
{
	/* copies: the item may live in batch's arena, was in the file */
	json_array_append_new(drift, json_pack("{s:s, s:s, s:s, s:o?, s:o?, "
	    "s:s}", "address", addr, "field", field, "severity", error ?
	    "error" : "warning", "was", json_deep_copy(was), "now",
	    json_deep_copy(now), "detail", detail));
}

/* bl_cmp_ext - extensions removed (error) or added (warning) */
static void
bl_cmp_ext(json_t *drift, const char *addr, json_t *was, json_t *now)
{
	json_t	*v, *w;
	size_t	 i, j;
	int	 found;
	char	*d;

	json_array_foreach(was, i, v) {
		found = 0;
		json_array_foreach(now, j, w)
			found |= json_equal(v, w);
		if (found)
			continue;
		d = xasprintf("EHLO extension %s removed",
		    json_string_value(v));
		bl_add(drift, addr, "ehlo_extensions", 1, v, NULL, d);
		free(d);
	}
	json_array_foreach(now, j, w) {
		found = 0;
		json_array_foreach(was, i, v)
			found |= json_equal(v, w);
		if (found)
			continue;
		d = xasprintf("EHLO extension %s added",
		    json_string_value(w));
		bl_add(drift, addr, "ehlo_extensions", 0, NULL, w, d);
		free(d);
	}
}

/* bl_repr - v as compact JSON in buf (cut with "..."), "none" for NULL;
   no allocation: this runs in batch's arena too */
static const char *
bl_repr(json_t *v, char *buf, size_t size)
{
	size_t	 n;

	if (v == NULL)
		return "none";
	n = json_dumpb(v, buf, size - 1, JSON_ENCODE_ANY | JSON_COMPACT);
	if (n == 0)
		return "?";
	if (n > size - 1) {
		n = size - 4;
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* bl_cmp_field - was.k against now.k: a change is an item */
static void
bl_cmp_field(json_t *drift, const char *addr, const char *prefix,
    const char *k, json_t *was, json_t *now, int error, const char *what)
{
	json_t	*a = json_object_get(was, k), *b = json_object_get(now, k);
	char	*f, *d, sa[160], sb[160];

	if (json_equal(a, b) || (a == NULL && b == NULL))
		return;
	f = prefix != NULL ? xasprintf("%s.%s", prefix, k) : xstrdup(k);
	d = xasprintf("%s changed: %s -> %s", what, bl_repr(a, sa,
	    sizeof(sa)), bl_repr(b, sb, sizeof(sb)));
	bl_add(drift, addr, f, error, a, b, d);
	free(f);
	free(d);
}

/*
 * bl_cmp_tls - the TLS part: version, cipher, verification and the
 * certificate key are errors (the key only where DANE is published:
 * elsewhere a renewal rotates it), the issuer a warning (CAs rotate
 * their intermediates), the expiry window an error once under 7 days
 */
static void
bl_cmp_tls(json_t *drift, const char *addr, json_t *was, json_t *now,
    int dane)
{
	int	 rw, rn;

	if (json_is_null(was) && json_is_null(now))
		return;
	if (json_is_null(now) || json_is_null(was)) {
		bl_add(drift, addr, "tls", json_is_null(now), was, now,
		    json_is_null(now) ? "no TLS session any more" :
		    "a TLS session where there was none");
		return;
	}
	bl_cmp_field(drift, addr, "tls", "version", was, now, 1,
	    "TLS version");
	bl_cmp_field(drift, addr, "tls", "cipher", was, now, 1, "cipher");
	bl_cmp_field(drift, addr, "tls", "verified", was, now,
	    json_is_true(json_object_get(was, "verified")),
	    "certificate verification");
	bl_cmp_field(drift, addr, "tls", "issuer", was, now, 0,
	    "certificate issuer");
	bl_cmp_field(drift, addr, "tls", "spki_sha256", was, now, dane,
	    dane ? "certificate key (SPKI) where DANE is published" :
	    "certificate key (SPKI; no DANE: a renewal may rotate it)");
	rw = bl_window_rank(bl_str(was, "expiry_window"));
	rn = bl_window_rank(bl_str(now, "expiry_window"));
	if (rn > rw)
		bl_cmp_field(drift, addr, "tls", "expiry_window", was, now,
		    rn >= 2, "certificate expiry window");
}

/* bl_cmp_stages - the steps: one item naming the steps that differ */
static void
bl_cmp_stages(json_t *drift, const char *addr, json_t *was, json_t *now)
{
	size_t		 i, n;
	const char	*a, *b;
	char		*d = NULL, *t;

	if (json_equal(was, now))
		return;
	n = json_array_size(was) > json_array_size(now) ?
	    json_array_size(was) : json_array_size(now);
	for (i = 0; i < n; i++) {
		a = json_string_value(json_array_get(was, i));
		b = json_string_value(json_array_get(now, i));
		if (a != NULL && b != NULL && strcmp(a, b) == 0)
			continue;
		t = xasprintf("%s%sstep %zu: %s -> %s", d != NULL ? d : "",
		    d != NULL ? "; " : "", i + 1, a != NULL ? a : "none",
		    b != NULL ? b : "none");
		free(d);
		d = t;
	}
	bl_add(drift, addr, "stages", 1, was, now, d != NULL ? d :
	    "steps changed");
	free(d);
}

/* bl_published - DANE is published for the entry */
static int
bl_published(json_t *e)
{
	return json_is_true(json_object_get(json_object_get(e, "dane"),
	    "published"));
}

/* baseline_compare - the drift of entry now from was at addr, appended
   to drift */
void
baseline_compare(json_t *drift, const char *addr, json_t *was, json_t *now)
{
	bl_cmp_ext(drift, addr, json_object_get(was, "ehlo_extensions"),
	    json_object_get(now, "ehlo_extensions"));
	bl_cmp_field(drift, addr, NULL, "starttls_offered", was, now,
	    json_is_true(json_object_get(was, "starttls_offered")),
	    "STARTTLS offered");
	bl_cmp_tls(drift, addr, json_object_get(was, "tls"),
	    json_object_get(now, "tls"), bl_published(was) ||
	    bl_published(now));
	bl_cmp_field(drift, addr, NULL, "dane", was, now, 1, "DANE");
	bl_cmp_field(drift, addr, NULL, "mta_sts", was, now, 1, "MTA-STS");
	bl_cmp_stages(drift, addr, json_object_get(was, "stages"),
	    json_object_get(now, "stages"));
	bl_cmp_field(drift, addr, NULL, "result", was, now, 1, "result");
	bl_cmp_field(drift, addr, NULL, "verdict", was, now, 1, "verdict");
}

/* baseline_compare_all - every entry of the baseline file base against
   the entries of this run (now: address -> entry) */
json_t *
baseline_compare_all(json_t *base, json_t *now, int partial)
{
	json_t		*drift = json_array(), *old = json_object_get(base,
			    "entries"), *e, *w;
	const char	*addr;

	json_object_foreach(now, addr, e) {
		if ((w = json_object_get(old, addr)) == NULL)
			bl_add(drift, addr, "address", 0, NULL, NULL,
			    "an address the baseline does not know");
		else
			baseline_compare(drift, addr, w, e);
	}
	if (!partial)
		json_object_foreach(old, addr, w)
			if (json_object_get(now, addr) == NULL)
				bl_add(drift, addr, "address", 1, NULL, NULL,
				    "in the baseline, not probed or not "
				    "reached now");
	return drift;
}

/* baseline_errors - the drift items of severity error */
size_t
baseline_errors(json_t *drift)
{
	json_t	*d;
	size_t	 i, n = 0;

	json_array_foreach(drift, i, d)
		n += strcmp(bl_str(d, "severity"), "error") == 0;
	return n;
}

/* baseline_load - the baseline file at path, checked; NULL (said why) */
json_t *
baseline_load(const char *path)
{
	json_error_t	 je;
	json_t		*b;

	if ((b = json_load_file(path, 0, &je)) == NULL) {
		log_warnx("--baseline: %s: %s (line %d)", path, je.text,
		    je.line);
		return NULL;
	}
	if (json_integer_value(json_object_get(b, "baseline")) !=
	    BASELINE_VERSION || !json_is_object(json_object_get(b,
	    "entries"))) {
		log_warnx("--baseline: %s is not a baseline of format %d "
		    "(written by --baseline-save)", path, BASELINE_VERSION);
		json_decref(b);
		return NULL;
	}
	return b;
}

/* baseline_save - entries (address -> entry) to path, through a
   temporary file renamed into place */
int
baseline_save(const char *path, json_t *entries, const char *version)
{
	json_t	*doc;
	char	 now[32], *tmp;
	int	 ok;

	util_utc_iso(now, sizeof(now));
	doc = json_pack("{s:s, s:i, s:{s:s, s:s}, s:s, s:O}", "schema",
	    SCHEMA_BASELINE, "baseline", BASELINE_VERSION, "tool", "name",
	    "smtprobe", "version", version, "saved", now, "entries", entries);
	tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	ok = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
	    rename(tmp, path) == 0;
	if (!ok) {
		log_warn("--baseline-save: %s", path);
		unlink(tmp);
	}
	free(tmp);
	json_decref(doc);
	return ok ? 0 : -1;
}

/* baseline_print - the drift as text: one line per item */
void
baseline_print(FILE *fp, const char *path, json_t *base, json_t *drift)
{
	json_t	*d;
	size_t	 i;

	if (json_array_size(drift) == 0) {
		fprintf(fp, "baseline:   no drift from %s (saved %s)\n", path,
		    bl_str(base, "saved") != NULL ? bl_str(base, "saved") :
		    "?");
		return;
	}
	fprintf(fp, "baseline:   drift from %s (saved %s): %zu errors, "
	    "%zu warnings\n", path, bl_str(base, "saved") != NULL ?
	    bl_str(base, "saved") : "?", baseline_errors(drift),
	    json_array_size(drift) - baseline_errors(drift));
	json_array_foreach(drift, i, d)
		fprintf(fp, "  %-7s %s  %s: %s\n", bl_str(d, "severity"),
		    bl_str(d, "address"), bl_str(d, "field"),
		    bl_str(d, "detail"));
}
