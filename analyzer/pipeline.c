/*
 * pipeline.c - the whole analysis behind one face, for `analyze` and `live`:
 * the session glue (engine, classification, dissectors) hands each finished
 * session here; we diagnose it, report it and count it, and print the summary
 * at the end. Also the options both commands share.
 */
#include "pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "classify_defer.h"
#include "community_id.h"
#include "keylog.h"
#include "numparse.h"
#include "sessions.h"
#include "stage.h"

struct pipeline {
	struct pipeline_config cfg;
	struct sessions *ss;
	struct reporter *rep;
	struct keylog *kl;              /* --tls-keylog / SSLKEYLOGFILE, NULL when none */
	char kl_source[16];
	bool finished;
	/* --threads 2 and more: diagnosis and report on the stage thread
	 * (stage.h). It counts what it reported here; pipeline_finish adds
	 * that to the summary (total) once the thread has drained. */
	struct stage *stage;
	/* The nDPI module that is shown the packets each session kept
	 * (sessions_config.defer_classify), whatever the number of threads:
	 * the stage thread's, or with one thread a second module on it. nDPI
	 * 4.2 keeps a few caches across the flows of a module (a later TLS
	 * flow to a server ip:port without a visible certificate gets the
	 * application of an earlier one's certificate; BitTorrent, STUN,
	 * Ookla peers), so which module sees which flows, in which order, must
	 * not depend on the threads: this one sees the reported sessions in
	 * the order they end, the reading thread's module the flows it needs
	 * an answer for during the flow. Made with the first session that
	 * needs it (on the stage thread, its set-up of tens of millions of
	 * instructions runs beside the reading); stage_cls_failed once that
	 * could not be done (said on stderr; protocols are then "Unknown"). */
	struct classifier *stage_cls;
	bool stage_cls_failed;
	uint64_t st_reported, st_causes[CAUSE__COUNT];
	struct summary total;
};

const char PIPELINE_OPTIONS_HELP[] =
	"  --json                 JSON Lines: one object per session as it ends, then a summary\n"
	"  --json-format native|ecs  field names: ours (default) or Elastic Common Schema; implies --json\n"
	"  --transcript           each session's dialog with timestamps\n"
	"  --extract DIR          per session: ID.pcap, ID.c2s, ID.s2c, ID-N.eml, and index.json\n"
	"  --force                with --extract: replace files already there (never links)\n"
	"  --idle-threshold SEC   silence that counts as an idle timeout (default 300)\n"
	"  --cause LIST           report only these causes (comma-separated)\n"
	"  --failures             report only sessions whose cause is not 'completed'\n"
	"  --host ADDR            report only sessions with this client or server address\n"
	"  --port N               report only sessions with this client or server port\n"
	"  -q, --quiet            summary only\n"
	"  --color auto|always|never  ANSI colour in the text report (default auto: on a TTY)\n"
	"  --max-flows N          flows tracked at once; older idle flows are evicted (default 1048576)\n"
	"  --flow-timeout SEC     a flow without packets for this long is ended (default 600)\n"
	"  --reassembly-cap BYTES out-of-order bytes buffered in all flows (default 256M)\n"
	"  --tls-keylog FILE      decrypt TLS with this NSS key log (default: $SSLKEYLOGFILE)\n"
	"  --memory-cap BYTES     memory for all per-flow state (default 1G); past it flows are evicted and reported\n"
	"  --threads N            threads for the analysis (default: the number of cores, at most 2)\n";

void pipeline_config_default(struct pipeline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	struct sessions_config sc;
	sessions_config_default(&sc);
	cfg->engine = sc.engine;
	diag_config_default(&cfg->diag);
	cfg->report.out = stdout;
	cfg->report.color = isatty(STDOUT_FILENO);
}

static int parse_causes(const char *arg, uint32_t *mask, char *err, size_t errlen)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum cause c;
		while (*t == ' ')
			t++;
		for (char *q = t; *q; q++)      /* any case: --cause Size_Limit */
			*q = (char)tolower((unsigned char)*q);
		size_t tl = strlen(t);
		while (tl && t[tl - 1] == ' ')
			t[--tl] = '\0';
		if (!cause_parse(t, &c)) {
			char valid[600];
			size_t k = 0;
			valid[0] = '\0';
			for (int i = 0; i < CAUSE__COUNT && k + 1 < sizeof(valid); i++)
				k += (size_t)snprintf(valid + k, sizeof(valid) - k, "%s%s", i ? ", " : "", cause_name((enum cause)i));
			snprintf(err, errlen, "--cause: unknown cause '%s' (valid: %s)", t, valid);
			return -1;
		}
		*mask |= 1u << c;
	}
	return 1;
}

int pipeline_config_option(struct pipeline_config *cfg, int opt, const char *arg,
			   char *err, size_t errlen)
{
	uint64_t n;

	switch (opt) {
	case PIPELINE_OPT_BASE + 0:
		cfg->report.json = true;
		return 1;
	case PIPELINE_OPT_BASE + 1:
		cfg->report.transcript = true;
		return 1;
	case PIPELINE_OPT_BASE + 2:
		cfg->extract_dir = arg;
		return 1;
	case PIPELINE_OPT_BASE + 12:
		cfg->extract_force = true;
		return 1;
	case PIPELINE_OPT_BASE + 3:
		if (!sl_parse_seconds(arg, &cfg->diag.idle_threshold) || cfg->diag.idle_threshold == 0) {
			snprintf(err, errlen, "--idle-threshold: '%s' is not a positive number of seconds", arg);
			return -1;
		}
		return 1;
	case PIPELINE_OPT_BASE + 4:
		return parse_causes(arg, &cfg->report.cause_mask, err, errlen);
	case PIPELINE_OPT_BASE + 5:
		cfg->report.failures_only = true;
		return 1;
	case PIPELINE_OPT_BASE + 6:
		if (cfg->report.n_hosts == REPORT_MAX_FILTERS) {
			snprintf(err, errlen, "--host: at most %d values", REPORT_MAX_FILTERS);
			return -1;
		}
		if (!sl_cidr_parse(arg, &cfg->report.hosts[cfg->report.n_hosts])) {
			snprintf(err, errlen, "--host: '%s' is not an IPv4 or IPv6 address or ADDR/BITS block", arg);
			return -1;
		}
		cfg->report.n_hosts++;
		return 1;
	case PIPELINE_OPT_BASE + 7:
		if (!sl_parse_size(arg, &n) || n == 0 || n > 65535) {
			snprintf(err, errlen, "--port: '%s' is not a port number", arg);
			return -1;
		}
		if (cfg->report.n_ports == REPORT_MAX_FILTERS) {
			snprintf(err, errlen, "--port: at most %d values", REPORT_MAX_FILTERS);
			return -1;
		}
		cfg->report.ports[cfg->report.n_ports++] = (uint16_t)n;
		return 1;
	case 'q':
		cfg->report.quiet = true;
		return 1;
	case PIPELINE_OPT_BASE + 8:
		if (!strcmp(arg, "always"))
			cfg->report.color = true;
		else if (!strcmp(arg, "never"))
			cfg->report.color = false;
		else if (!strcmp(arg, "auto"))
			cfg->report.color = isatty(STDOUT_FILENO);
		else {
			snprintf(err, errlen, "--color: expected auto, always or never");
			return -1;
		}
		return 1;
	case PIPELINE_OPT_BASE + 9:
		if (!sl_parse_size(arg, &n) || n < 16 || n > (1u << 28)) {
			snprintf(err, errlen, "--max-flows: '%s' is not a number from 16 to 268435456", arg);
			return -1;
		}
		cfg->engine.max_flows = (uint32_t)n;
		return 1;
	case PIPELINE_OPT_BASE + 10:
		if (!sl_parse_seconds(arg, &cfg->engine.flow_timeout) || cfg->engine.flow_timeout == 0) {
			snprintf(err, errlen, "--flow-timeout: '%s' is not a positive number of seconds", arg);
			return -1;
		}
		return 1;
	case PIPELINE_OPT_BASE + 11:
		if (!sl_parse_size(arg, &n)) {
			snprintf(err, errlen, "--reassembly-cap: '%s' is not a size", arg);
			return -1;
		}
		cfg->engine.ooo_global = n;
		if (cfg->engine.ooo_per_dir > n)
			cfg->engine.ooo_per_dir = n;
		return 1;
	case PIPELINE_OPT_BASE + 13:
		if (!strcmp(arg, "native"))
			cfg->report.json_format = JSON_NATIVE;
		else if (!strcmp(arg, "ecs"))
			cfg->report.json_format = JSON_ECS;
		else {
			snprintf(err, errlen, "--json-format: expected native or ecs");
			return -1;
		}
		cfg->report.json = true;
		return 1;
	case PIPELINE_OPT_BASE + 14:
		cfg->tls_keylog = arg;
		return 1;
	case PIPELINE_OPT_BASE + 15:
		if (!sl_parse_size(arg, &n) || n < MEMCAP_MIN) {
			snprintf(err, errlen, "--memory-cap: '%s' is not a size of at least 4M", arg);
			return -1;
		}
		cfg->engine.memory_cap = n;
		return 1;
	case PIPELINE_OPT_BASE + 16:
		if (!sl_parse_size(arg, &n) || n == 0 || n > PIPELINE_MAX_THREADS) {
			snprintf(err, errlen, "--threads: '%s' is not a number from 1 to %d", arg, PIPELINE_MAX_THREADS);
			return -1;
		}
		cfg->threads = (unsigned)n;
		return 1;
	}
	return 0;
}

/* ---- the analysis ---- */

/* Diagnosis, the --pair hook and the report of one session; true when it
 * was reported (counted by the caller). The same on either thread. */
static bool analyse(struct pipeline *pl, const struct session_view *v, enum cause *cause)
{
	struct verdict verdict;

	diagnose(v, &pl->cfg.diag, &verdict);
	/* analyze --pair: the hook may change the verdict and add the path facts
	 * (v->extra), or keep the session out of the report. */
	struct session_view view = *v;
	/* sessions.c leaves it to us unless --shard needed it there */
	if (!view.community_id[0])
		community_id_v1(0, COMMUNITY_ID_PROTO_TCP, &view.fi->client, view.fi->client_port, &view.fi->server,
				view.fi->server_port, view.community_id, sizeof(view.community_id));
	if (pl->cfg.session_hook && !pl->cfg.session_hook(pl->cfg.hook_ctx, &view, &verdict))
		return false;
	if (!reporter_wants(pl->rep, &view, &verdict))
		return false;
	*cause = verdict.cause;
	/* The reporters write with the unlocked stdio calls; the lock keeps a
	 * flush from the reading thread (live flushes stdout after each batch
	 * of packets) out of the middle of a session. */
	flockfile(pl->cfg.report.out);
	reporter_session(pl->rep, &view, &verdict);
	funlockfile(pl->cfg.report.out);
	return true;
}

/* nDPI's answer for a session whose classification was deferred, with
 * stage_cls (on the stage thread; on the reading thread with one thread,
 * or once the stage is drained); then the analysis. */
static bool analyse_deferred(struct pipeline *pl, const struct session_view *v, enum cause *cause)
{
	if (!v->cls_kept)
		return analyse(pl, v, cause);
	if (!pl->stage_cls && !pl->stage_cls_failed) {
		char err[256];
		pl->stage_cls = classifier_new(err, sizeof(err));
		if (!pl->stage_cls) {
			pl->stage_cls_failed = true;
			fprintf(stderr, "smtpsleuth: %s: nDPI names are reported as Unknown\n", err);
		}
	}
	struct session_view view = *v;
	struct classify_outcome o;
	classify_outcome_deferred(pl->stage_cls, v->cls_kept, v->cls_kept_len, v->cls_mail_port, &o);
	classify_outcome_view(&o, &view);
	return analyse(pl, &view, cause);
}

/* On the stage thread: the same work as on_session, counted apart. */
static void on_stage_session(void *ctx, const struct session_view *v)
{
	struct pipeline *pl = ctx;
	enum cause cause;

	if (analyse_deferred(pl, v, &cause)) {
		pl->st_reported++;
		pl->st_causes[cause]++;
	}
}

static void on_session(void *ctx, const struct session_view *v, struct summary *sum)
{
	struct pipeline *pl = ctx;
	enum cause cause;

	if (pl->stage) {
		if (stage_push(pl->stage, v))
			return;
		/* No memory for the copy: analyse it here, after the sessions
		 * before it, so the order holds. */
		stage_drain(pl->stage);
	}
	if (analyse_deferred(pl, v, &cause)) {
		sum->sessions_reported++;
		sum->causes[cause]++;
	}
}

/* The key log, read once (live: followed): --tls-keylog FILE (an error stops the command),
 * else SSLKEYLOGFILE when set (a file that cannot be read is said on stderr
 * and the analysis goes on without). */
static bool load_keylog(struct pipeline *pl, char *err, size_t errlen)
{
	const char *path = pl->cfg.tls_keylog, *env = getenv("SSLKEYLOGFILE");
	const char *source = "option";
	if (!path && env && *env) {
		path = env;
		source = "SSLKEYLOGFILE";
	}
	if (!path)
		return true;
	char why[512];
	pl->kl = keylog_new();
	if (!pl->kl || !(pl->cfg.tls_keylog_follow ? keylog_follow(pl->kl, path, why, sizeof(why))
					       : keylog_load_file(pl->kl, path, why, sizeof(why)))) {
		if (!pl->kl)
			snprintf(why, sizeof(why), "out of memory");
		keylog_free(pl->kl);
		pl->kl = NULL;
		if (pl->cfg.tls_keylog) {
			snprintf(err, errlen, "--tls-keylog: %s", why);
			return false;
		}
		fprintf(stderr, "smtpsleuth: SSLKEYLOGFILE: %s; TLS is not decrypted\n", why);
		return true;
	}
	snprintf(pl->kl_source, sizeof(pl->kl_source), "%s", source);
	return true;
}

struct pipeline *pipeline_new(const struct pipeline_config *cfg, char *err, size_t errlen)
{
	struct pipeline *pl = calloc(1, sizeof(*pl));
	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pl->cfg = *cfg;
	pl->cfg.report.shard_k = cfg->shard_k;
	pl->cfg.report.shard_n = cfg->shard_n;
	pl->rep = reporter_new(&pl->cfg.report);
	if (!pl->rep) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!load_keylog(pl, err, errlen))
		goto fail;
	/* nDPI's work on sessions is done after their end, by stage_cls:
	 * with the stage thread, there. */
	bool two = pipeline_threads(cfg) >= 2;
	struct sessions_config sc = { .engine = cfg->engine, .extract_dir = cfg->extract_dir,
				      .extract_force = cfg->extract_force, .keylog = pl->kl,
				      .shard_k = cfg->shard_k, .shard_n = cfg->shard_n,
				      .classifier = cfg->classifier, .defer_classify = true };
	pl->cfg.report.shard_k = cfg->shard_k;
	pl->cfg.report.shard_n = cfg->shard_n;
	pl->ss = sessions_new(&sc, on_session, pl, err, errlen);
	if (!pl->ss)
		goto fail;
	pl->stage_cls = cfg->stage_classifier;
	if (two) {
		pl->stage = stage_new(on_stage_session, pl, err, errlen);
		if (!pl->stage)
			goto fail;
	}
	return pl;
fail:
	pipeline_free(pl);
	return NULL;
}

void pipeline_set_input(struct pipeline *p, const char *name)
{
	sessions_set_input(p->ss, name);
}

void pipeline_set_files(struct pipeline *p, const char *const *names, size_t n)
{
	reporter_set_files(p->rep, names, n);
	sessions_set_files(p->ss, names, n);
}

void pipeline_input_cut(struct pipeline *p, int file, sl_time last_ts, const char *msg)
{
	sessions_input_cut(p->ss, file, last_ts, msg);
}

void pipeline_interrupt(struct pipeline *p, const char *signame)
{
	sessions_interrupt(p->ss, signame);
}

void pipeline_feed(struct pipeline *p, const struct raw_packet *raw)
{
	sessions_feed(p->ss, raw);
}

void pipeline_sweep(struct pipeline *p, sl_time now)
{
	sessions_sweep(p->ss, now);
	if (p->stage)
		stage_kick(p->stage);
}

void pipeline_input_error(struct pipeline *p, const char *msg)
{
	sessions_input_error(p->ss, msg);
}

void pipeline_set_kernel_drops(struct pipeline *p, uint64_t drops)
{
	sessions_set_kernel_drops(p->ss, drops);
}

void pipeline_finish(struct pipeline *p)
{
	if (p->finished)
		return;
	p->finished = true;
	sessions_finish(p->ss);
	p->total = *sessions_summary(p->ss);
	if (p->stage) {
		stage_drain(p->stage);
		p->total.sessions_reported += p->st_reported;
		for (int i = 0; i < CAUSE__COUNT; i++)
			p->total.causes[i] += p->st_causes[i];
	}
	if (p->cfg.no_summary)
		return;
	if (p->kl) {
		snprintf(p->total.tls_keylog.source, sizeof(p->total.tls_keylog.source), "%s", p->kl_source);
		p->total.tls_keylog.entries = keylog_stats(p->kl)->entries;
		p->total.tls_keylog.malformed = keylog_stats(p->kl)->malformed;
	}
	reporter_summary(p->rep, &p->total);
	fflush(p->cfg.report.out);
}

const struct summary *pipeline_summary(const struct pipeline *p)
{
	/* Before the end the stage thread may still be counting: the
	 * producer's figures (what the progress line shows) are read. */
	return p->finished ? &p->total : sessions_summary(p->ss);
}

unsigned pipeline_threads(const struct pipeline_config *cfg)
{
	if (cfg->threads)
		return cfg->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n >= 2 ? 2 : 1;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	/* The sessions go first: freeing them unfinished reports nothing. The
	 * stage then reports what it was handed, before its reporter goes. */
	sessions_free(p->ss);
	stage_free(p->stage);
	if (p->stage_cls != p->cfg.stage_classifier)
		classifier_free(p->stage_cls);
	keylog_free(p->kl);
	reporter_free(p->rep);
	free(p);
}
