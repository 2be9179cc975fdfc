/*
 * batch_select.c - which targets a run probes: the sets of --blocklist
 * (networks by prefix, domains with their subdomains), the targets an
 * earlier run already reported (--resume), and this shard's share of
 * the rest (--shard: FNV-1a + splitmix64 of the seed and the key, see
 * include/batch.h). bselect_run() decides for every target once.
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

#include "batch_int.h"
#include "log.h"
#include "record.h"
#include "report.h"
#include "util.h"
#include "valid.h"

static uint64_t	 bselect_fnv(uint64_t h, const void *p, size_t len);
static uint64_t	 bselect_mix(uint64_t h);
static void	 bselect_set_add(struct bt_set *s, const char *k);
static void	 bselect_net_key(int family, const unsigned char *addr,
	    int len, char *buf, size_t size);
static int	 bselect_done_index(const struct batch *b, size_t i);
static long	 bselect_env_num(const char *name);
static long	 bselect_slurm_count(void);

/* bselect_fnv - FNV-1a of p, continuing from h */
static uint64_t
bselect_fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*s = p;

	while (len-- > 0) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* bselect_mix - the splitmix64 finaliser */
static uint64_t
bselect_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* batch_hash - the sharding hash (batch.h) */
uint64_t
batch_hash(uint64_t seed, const char *key, size_t len)
{
	unsigned char	 s[8];
	int		 i;

	for (i = 0; i < 8; i++)
		s[i] = (unsigned char)(seed >> (8 * i));
	return bselect_mix(bselect_fnv(bselect_fnv(0xcbf29ce484222325ULL, s, sizeof(s)),
	    key, len));
}

/* bselect_set_has - k is in s */
int
bselect_set_has(const struct bt_set *s, const char *k)
{
	size_t	 i;

	if (s->cap == 0)
		return 0;
	i = (size_t)batch_hash(0, k, strlen(k)) & (s->cap - 1);
	while (s->slot[i] != NULL) {
		if (strcmp(s->slot[i], k) == 0)
			return 1;
		i = (i + 1) & (s->cap - 1);
	}
	return 0;
}

/* bselect_set_add - add a copy of k (nothing when present) */
static void
bselect_set_add(struct bt_set *s, const char *k)
{
	char	**old = s->slot;
	size_t	  oldcap = s->cap, i, j;

	if (bselect_set_has(s, k))
		return;
	if ((s->n + 1) * 2 > s->cap) {
		s->cap = s->cap == 0 ? 64 : s->cap * 2;
		s->slot = xcalloc(s->cap, sizeof(char *));
		for (j = 0; j < oldcap; j++) {
			if (old[j] == NULL)
				continue;
			i = (size_t)batch_hash(0, old[j], strlen(old[j])) &
			    (s->cap - 1);
			while (s->slot[i] != NULL)
				i = (i + 1) & (s->cap - 1);
			s->slot[i] = old[j];
		}
		free(old);
	}
	i = (size_t)batch_hash(0, k, strlen(k)) & (s->cap - 1);
	while (s->slot[i] != NULL)
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = xstrdup(k);
	s->n++;
}

/* bselect_set_free - free s and its strings */
void
bselect_set_free(struct bt_set *s)
{
	size_t	 i;

	for (i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* bselect_net_key - "F/LEN/HEX" of the network of len bits of addr */
static void
bselect_net_key(int family, const unsigned char *addr, int len, char *buf,
    size_t size)
{
	unsigned char	 m[16];
	int		 nbytes = family == AF_INET6 ? 16 : 4, i;
	size_t		 off;

	memset(m, 0, sizeof(m));
	for (i = 0; i < nbytes; i++) {
		int	 bits = len - i * 8;

		if (bits >= 8)
			m[i] = addr[i];
		else if (bits > 0)
			m[i] = addr[i] & (unsigned char)(0xff << (8 - bits));
	}
	off = (size_t)snprintf(buf, size, "%d/%d/", family == AF_INET6 ?
	    6 : 4, len);
	for (i = 0; i < nbytes && off + 3 <= size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%02x", m[i]);
}

/* bselect_load_blocklist - CIDR, address or domain per line; # comments */
int
bselect_load_blocklist(struct batch *b, const char *path)
{
	char	 err[512], *buf, *p, *line, *nl, *slash, key[64];
	size_t	 len, lineno = 0;
	struct dns_addr a;

	if (util_read_file(path, 0, &buf, &len, err, sizeof(err)) == -1) {
		log_warnx("batch --blocklist: %s", err);
		return -1;
	}
	for (p = buf; p < buf + len; p = nl + 1) {
		long	 plen;

		lineno++;
		if ((nl = strchr(p, '\n')) == NULL)
			nl = buf + len;
		*nl = '\0';
		if ((line = strchr(p, '#')) != NULL)
			*line = '\0';
		line = p + strspn(p, " \t\r");
		line[strcspn(line, " \t\r")] = '\0';
		if (*line == '\0')
			continue;
		memset(&a, 0, sizeof(a));
		if ((slash = strchr(line, '/')) != NULL)
			*slash = '\0';
		a.family = strchr(line, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(a.family, line, a.addr) == 1) {
			int	 max = a.family == AF_INET6 ? 128 : 32;
			char	*end;

			plen = max;
			if (slash != NULL) {
				errno = 0;
				plen = strtol(slash + 1, &end, 10);
				if (slash[1] == '\0' || *end != '\0' ||
				    errno != 0 || plen < 0 || plen > max) {
					log_warnx("batch --blocklist: %s:%zu: "
					    "bad prefix length", path, lineno);
					free(buf);
					return -1;
				}
			}
			bselect_net_key(a.family, a.addr, (int)plen, key,
			    sizeof(key));
			bselect_set_add(&b->bl_nets, key);
			if (a.family == AF_INET6)
				b->bl_len6[plen] = 1;
			else
				b->bl_len4[plen] = 1;
			continue;
		}
		if (slash == NULL) {
			if (strncmp(line, "*.", 2) == 0)
				line += 2;
			else if (*line == '.')
				line++;
			if (binput_name_ok(line)) {
				bselect_set_add(&b->bl_names, line);
				continue;
			}
		}
		log_warnx("batch --blocklist: %s:%zu: not a CIDR, an address "
		    "or a domain", path, lineno);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

/* bselect_blocked_addr - the network that lists a, into buf, or NULL */
const char *
bselect_blocked_addr(struct batch *b, const struct dns_addr *a, char *buf,
    size_t len)
{
	const unsigned char *lens = a->family == AF_INET6 ? b->bl_len6 :
	    b->bl_len4;
	char		 key[64];
	int		 max = a->family == AF_INET6 ? 128 : 32, l;

	if (b->bl_nets.n == 0)
		return NULL;
	for (l = 0; l <= max; l++) {
		if (!lens[l])
			continue;
		bselect_net_key(a->family, a->addr, l, key, sizeof(key));
		if (bselect_set_has(&b->bl_nets, key)) {
			snprintf(buf, len, "%s/%d", a->text, l);
			return buf;
		}
	}
	return NULL;
}

/* bselect_blocked_name - the listed domain that name is or lies under */
const char *
bselect_blocked_name(struct batch *b, const char *name)
{
	const char	*p = name;

	if (b->bl_names.n == 0 || name == NULL)
		return NULL;
	while (p != NULL && *p != '\0') {
		if (bselect_set_has(&b->bl_names, p))
			return p;
		if ((p = strchr(p, '.')) != NULL)
			p++;
	}
	return NULL;
}

/*
 * bselect_load_resume - read the records of an earlier run: a complete
 * (newline-terminated) record whose status is not "interrupted" marks
 * its input index done (with --all-mx: its index and address). A
 * partial last line is cut off so that appending starts on a line of
 * its own. The file becomes the output, in append mode.
 */
int
bselect_load_resume(struct batch *b)
{
	const char	*path = b->o.resume;
	char		*buf = NULL, *p, *nl, *end, key[96];
	size_t		 len = 0, keep, bad = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		log_warn("batch --resume: %s", path);
		return -1;
	}
	{
		size_t	 cap = 65536;

		buf = xmalloc(cap);
		for (;;) {
			if (cap - len < 2) {
				cap *= 2;
				buf = xreallocarray(buf, cap, 1);
			}
			n = read(fd, buf + len, cap - len - 1);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		if (n == -1) {
			log_warn("batch --resume: %s", path);
			free(buf);
			close(fd);
			return -1;
		}
		buf[len] = '\0';
	}
	for (keep = len; keep > 0 && buf[keep - 1] != '\n'; keep--)
		;
	if (keep < len) {
		log_info("batch --resume: dropping a partial last record "
		    "(%zu bytes)", len - keep);
		if (ftruncate(fd, (off_t)keep) == -1) {
			log_warn("batch --resume: %s", path);
			free(buf);
			close(fd);
			return -1;
		}
	}
	end = buf + keep;
	for (p = buf; p < end; p = nl + 1) {
		json_t		*o, *v;
		json_int_t	 idx;
		const char	*st, *addr;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == p)
			continue;
		if ((o = json_loadb(p, (size_t)(nl - p), 0, NULL)) == NULL) {
			bad++;
			continue;
		}
		v = json_object_get(o, "input_index");
		if (v == NULL && json_is_object(json_object_get(o,
		    "summary"))) {
			json_decref(o);	/* --summary-record's line */
			continue;
		}
		st = json_string_value(json_object_get(o, "status"));
		addr = json_string_value(json_object_get(o, "address"));
		if (!json_is_integer(v) || (idx = json_integer_value(v)) < 0 ||
		    st == NULL) {
			bad++;
			json_decref(o);
			continue;
		}
		if (strcmp(st, "interrupted") != 0) {
			if (b->o.all_mx && addr != NULL) {
				snprintf(key, sizeof(key), "%lld/%s",
				    (long long)idx, addr);
				bselect_set_add(&b->done_keys, key);
			} else {
				size_t	 i = (size_t)idx;

				if (i >= b->done_nbits) {
					size_t	 nb = (i / 8 + 1) * 2;

					b->done_bits = xreallocarray(
					    b->done_bits, nb, 1);
					memset(b->done_bits + b->done_nbits / 8,
					    0, nb - b->done_nbits / 8);
					b->done_nbits = nb * 8;
				}
				b->done_bits[i / 8] |= (unsigned char)(1 <<
				    (i % 8));
			}
		}
		json_decref(o);
	}
	if (bad > 0)
		log_warnx("batch --resume: %s: %zu lines are not records; "
		    "ignored", path, bad);
	free(buf);
	if (fcntl(fd, F_SETFL, O_APPEND) == -1) {
		log_warn("batch --resume: %s", path);
		close(fd);
		return -1;
	}
	b->out_fd = fd;
	return 0;
}

/* bselect_done_index - --resume: input index i is done */
static int
bselect_done_index(const struct batch *b, size_t i)
{
	return i < b->done_nbits &&
	    (b->done_bits[i / 8] & (1 << (i % 8))) != 0;
}

/* bselect_env_num - a non-negative number from the environment, or -1 */
static long
bselect_env_num(const char *name)
{
	const char	*v = getenv(name);
	char		*end;
	long		 n;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*end != '\0' || errno != 0 || n < 0)
		return -1;
	return n;
}

/*
 * bselect_slurm_count - the tasks of a Slurm array: SLURM_ARRAY_TASK_COUNT,
 * else MAX - MIN + 1; -2 (said why) when the array is stepped or sparse
 * (--array=0-9:2 or 1,4,7: its IDs are not MIN..MAX), -1 when unknown.
 */
static long
bselect_slurm_count(void)
{
	long	 n, lo, hi;

	n = bselect_env_num("SLURM_ARRAY_TASK_COUNT");
	lo = bselect_env_num("SLURM_ARRAY_TASK_MIN");
	hi = bselect_env_num("SLURM_ARRAY_TASK_MAX");
	if (lo >= 0 && hi >= lo) {
		if (n > 0 && n != hi - lo + 1) {
			log_warnx("batch --shard auto: the Slurm array has "
			    "%ld tasks from %ld to %ld: a stepped or sparse "
			    "array; submit --array=%ld-%ld (a %% limit is "
			    "fine) or give --shard-count and --shard-base",
			    n, lo, hi, lo, lo + n - 1);
			return -2;
		}
		if (n <= 0)
			n = hi - lo + 1;
	}
	if (n <= 0 && (n = bselect_env_num("SMTPROBE_SHARD_COUNT")) <= 0)
		n = bselect_env_num("SHARD_COUNT");
	return n;
}

/*
 * bselect_setup_shard - --shard I/N, or auto: the index from a job array's
 * environment (Kubernetes Indexed Job, Slurm array, AWS Batch array,
 * Nomad), the count from the same place, --shard-count,
 * SMTPROBE_SHARD_COUNT or SHARD_COUNT.
 */
int
bselect_setup_shard(struct batch *b)
{
	static const struct {
		const char	*index;
		const char	*count;
		const char	*base;
	} env[] = {
		{ "JOB_COMPLETION_INDEX", NULL, NULL },
		{ "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
		    "SLURM_ARRAY_TASK_MIN" },
		{ "AWS_BATCH_JOB_ARRAY_INDEX", NULL, NULL },
		{ "NOMAD_META_shard", "NOMAD_META_shard_count", NULL },
	};
	const char	*s = b->o.shard;
	long		 i = -1, n = -1, base = b->o.shard_base;
	size_t		 k;
	char		*end;

	b->shard_i = 0;
	b->shard_n = 1;
	if (s == NULL) {
		if (b->o.shard_base >= 0 || b->o.shard_count > 0)
			log_warnx("batch: --shard-base and --shard-count "
			    "need --shard");
		return b->o.shard_base >= 0 || b->o.shard_count > 0 ? -1 : 0;
	}
	if (strcmp(s, "auto") == 0) {
		for (k = 0; k < sizeof(env) / sizeof(env[0]); k++)
			if ((i = bselect_env_num(env[k].index)) >= 0)
				break;
		if (i < 0) {
			log_warnx("batch --shard auto: none of "
			    "JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, "
			    "AWS_BATCH_JOB_ARRAY_INDEX, NOMAD_META_shard is "
			    "set to a number");
			return -1;
		}
		b->shard_from = env[k].index;
		if (b->o.shard_count > 0)
			n = b->o.shard_count;
		else if (k == 1)
			n = bselect_slurm_count();
		else if (env[k].count != NULL &&
		    (n = bselect_env_num(env[k].count)) > 0)
			;
		else if ((n = bselect_env_num("SMTPROBE_SHARD_COUNT")) <= 0)
			n = bselect_env_num("SHARD_COUNT");
		if (n == -2)
			return -1;
		if (n <= 0) {
			log_warnx("batch --shard auto: %s gives the index; "
			    "give the count with --shard-count, "
			    "SMTPROBE_SHARD_COUNT or SHARD_COUNT",
			    env[k].index);
			return -1;
		}
		if (base < 0 && env[k].base != NULL)
			base = bselect_env_num(env[k].base);
	} else {
		errno = 0;
		i = strtol(s, &end, 10);
		if (end == s || *end != '/' || errno != 0 || i < 0) {
			log_warnx("batch --shard: \"%s\" is not I/N or auto",
			    s);
			return -1;
		}
		s = end + 1;
		n = strtol(s, &end, 10);
		if (end == s || *end != '\0' || errno != 0) {
			log_warnx("batch --shard: \"%s\" is not I/N or auto",
			    b->o.shard);
			return -1;
		}
	}
	if (base < 0)
		base = 0;
	if (n < 1 || n > BT_SHARD_MAX || i < base || i - base >= n) {
		log_warnx("batch --shard: index %ld is not within %ld..%ld "
		    "(%ld shards, base %ld)", i, base, base + n - 1, n, base);
		return -1;
	}
	b->shard_i = (unsigned long)(i - base);
	b->shard_n = (unsigned long)n;
	return 0;
}

/* bselect_mine - whether key falls in this shard */
int
bselect_mine(const struct batch *b, const char *key)
{
	if (b->shard_n <= 1)
		return 1;
	return batch_hash(b->o.seed, key, strlen(key)) % b->shard_n ==
	    b->shard_i;
}

/*
 * bselect_run - decide for every target: done earlier (--resume), another
 * shard's, invalid, blocklisted by name or address, queued at its
 * destination (an address), or queued for DNS (a name).
 */
void
bselect_run(struct batch *b)
{
	struct bt_target *t;
	struct dns_addr	 a;
	const char	*why;
	char		*msg, net[80];
	size_t		 i;

	for (i = 0; i < b->nt; i++) {
		t = &b->t[i];
		if (bselect_done_index(b, t->index)) {
			b->nresumed++;
			continue;
		}
		if (t->kind == BT_INVALID) {
			if (!bselect_mine(b, t->text)) {
				b->nother++;
				continue;
			}
			b->nselected++;
			b->outstanding++;
			bout_report(b, t, NULL, ST_INVALID, 64, NULL, NULL, NULL,
			    t->why, NULL, NULL);
			bout_target_reported(b, t);
			continue;
		}
		if ((t->kind == BT_LITERAL || b->o.shard_by_name) &&
		    !bselect_mine(b, t->host)) {
			b->nother++;
			continue;
		}
		why = NULL;
		if (t->kind == BT_LITERAL) {
			memset(&a, 0, sizeof(a));
			a.family = strchr(t->host, ':') != NULL ? AF_INET6 :
			    AF_INET;
			inet_pton(a.family, t->host, a.addr);
			snprintf(a.text, sizeof(a.text), "%s", t->host);
			why = bselect_blocked_addr(b, &a, net, sizeof(net));
		} else if ((why = bselect_blocked_name(b, t->host)) != NULL &&
		    !b->o.shard_by_name && !bselect_mine(b, t->host)) {
			b->nother++;
			continue;
		}
		b->nselected++;
		b->outstanding++;
		if (why != NULL) {
			struct bt_job	*j = NULL;

			if (t->kind == BT_LITERAL)
				j = bsched_job_new(t, bsched_dest_get(b, &a), NULL,
				    NULL, 0, 0);
			msg = xasprintf("blocklisted: %s", why);
			bout_report(b, t, j, ST_BLOCKLISTED, -1, NULL, NULL, NULL,
			    msg, NULL, NULL);
			free(msg);
			bsched_job_free(b, j);
			bout_target_reported(b, t);
			continue;
		}
		if (t->kind == BT_LITERAL) {
			t->pending = 1;
			bsched_enqueue(b, bsched_job_new(t, bsched_dest_get(b, &a), NULL,
			    NULL, 0, 0));
		} else
			TAILQ_INSERT_TAIL(&b->dnsq, t, dq);
	}
}
