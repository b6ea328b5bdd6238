/*
 * pipeline.h - the whole analysis behind one face, shared by `analyze` and
 * `live`: raw records in, session reports and a summary out.
 *
 * It owns the engine, the nDPI classifier, one session per TCP flow (SMTP
 * dissector + timeline), the diagnosis and the reporters. Sessions are
 * reported as they end.
 */
#ifndef SLEUTH_PIPELINE_H
#define SLEUTH_PIPELINE_H

#include "diagnose.h"
#include "engine.h"
#include "report.h"
#include "sessions.h"

struct classifier;

struct pipeline_config {
	struct engine_config engine;
	struct diag_config diag;
	struct report_opts report;
	const char *extract_dir;    /* NULL = no extraction */
	bool extract_force;         /* --force: replace regular files already in extract_dir */
	const char *tls_keylog;     /* --tls-keylog FILE; NULL: SSLKEYLOGFILE when set, else none */
	bool tls_keylog_follow;     /* live: read lines appended to the key log later (keylog_follow) */
	bool progress;              /* progress line on stderr (analyze, large files, TTY) */
	/* Called for every SMTP session after its diagnosis, before it is
	 * reported: may change the verdict and set v->extra; false keeps the
	 * session out of the report and of the summary's causes (analyze
	 * --pair). NULL = none. */
	bool (*session_hook)(void *ctx, struct session_view *v, struct verdict *vd);
	void *hook_ctx;
	bool no_summary;            /* pipeline_finish prints no summary */
	/* --shard K/N: analyse only the flows in shard K (1..N) of N, by
	 * shard_of_flow(). 0/0 = every flow. The engine still tracks every flow
	 * (cheap next to the analysis), so session ids, frame numbers and the
	 * order sessions end in are those of a run without --shard. */
	uint32_t shard_k, shard_n;
	struct classifier *classifier;  /* shared nDPI classifier (sessions.h); NULL: one per pipeline */
	/* The classifier that sessions' kept packets are shown to after their
	 * end (the stage thread's with two threads), shared the same way (one
	 * pipeline at a time); NULL: one is made when first needed. */
	struct classifier *stage_classifier;
	unsigned threads;           /* --threads; 0 = the default (pipeline_threads) */
};

/* Threads asked for at most. Two stages exist (stage.h): 2 and more use
 * both; more than 2 changes nothing today. */
#define PIPELINE_MAX_THREADS 64

/* Defaults: engine and diagnosis defaults, text to stdout, colour if stdout is a TTY. */
void pipeline_config_default(struct pipeline_config *cfg);

/*
 * The options `analyze` and `live` share. The commands build their getopt_long
 * arrays from the option table (options.c), whose rows use these keys, and
 * hand every option they do not handle themselves to pipeline_config_option().
 * PIPELINE_LONG_OPTIONS and PIPELINE_OPTIONS_HELP are the older form of the
 * same list, kept for code not yet moved to the table.
 * Returns 1 when handled, 0 when not a shared option, -1 when the value is
 * invalid (message in err).
 */
#define PIPELINE_OPT_BASE 0x1000
#define PIPELINE_LONG_OPTIONS \
	{ "json", no_argument, NULL, PIPELINE_OPT_BASE + 0 }, \
	{ "transcript", no_argument, NULL, PIPELINE_OPT_BASE + 1 }, \
	{ "extract", required_argument, NULL, PIPELINE_OPT_BASE + 2 }, \
	{ "idle-threshold", required_argument, NULL, PIPELINE_OPT_BASE + 3 }, \
	{ "cause", required_argument, NULL, PIPELINE_OPT_BASE + 4 }, \
	{ "failures", no_argument, NULL, PIPELINE_OPT_BASE + 5 }, \
	{ "host", required_argument, NULL, PIPELINE_OPT_BASE + 6 }, \
	{ "port", required_argument, NULL, PIPELINE_OPT_BASE + 7 }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "color", required_argument, NULL, PIPELINE_OPT_BASE + 8 }, \
	{ "max-flows", required_argument, NULL, PIPELINE_OPT_BASE + 9 }, \
	{ "flow-timeout", required_argument, NULL, PIPELINE_OPT_BASE + 10 }, \
	{ "reassembly-cap", required_argument, NULL, PIPELINE_OPT_BASE + 11 }, \
	{ "force", no_argument, NULL, PIPELINE_OPT_BASE + 12 }, \
	{ "json-format", required_argument, NULL, PIPELINE_OPT_BASE + 13 }, \
	{ "tls-keylog", required_argument, NULL, PIPELINE_OPT_BASE + 14 }, \
	{ "memory-cap", required_argument, NULL, PIPELINE_OPT_BASE + 15 }, \
	{ "threads", required_argument, NULL, PIPELINE_OPT_BASE + 16 }
#define PIPELINE_SHORT_OPTIONS "q"
extern const char PIPELINE_OPTIONS_HELP[];

int pipeline_config_option(struct pipeline_config *cfg, int opt, const char *arg,
			   char *err, size_t errlen);

struct pipeline;

/* Threads the analysis uses: --threads, or by default the number of
 * cores, at most 2 (the stages there are). */
unsigned pipeline_threads(const struct pipeline_config *cfg);
struct pipeline *pipeline_new(const struct pipeline_config *cfg, char *err, size_t errlen);
/* Name of the input the next records come from (for messages and flow_info.file). */
void pipeline_set_input(struct pipeline *p, const char *name);
/* The merged input files by file number (merge.h); names stay valid until
 * pipeline_finish. Counts them in the summary. */
void pipeline_set_files(struct pipeline *p, const char *const *names, size_t n);
void pipeline_feed(struct pipeline *p, const struct raw_packet *raw);
/* Live capture: end flows idle by the wall clock even when no packets come. */
void pipeline_sweep(struct pipeline *p, sl_time now);
/* Records an input error for the summary (reading stops, sessions so far count). */
void pipeline_input_error(struct pipeline *p, const char *msg);
/* An input file broke off: file is its number (frame_file) and last_ts the
 * time of its last record read. Records the error, and sessions still open
 * whose last packet came from that file get capture_incomplete with msg as
 * the damage named (unless a server reply already proves their cause). */
void pipeline_input_cut(struct pipeline *p, int file, sl_time last_ts, const char *msg);
/* The analysis is being stopped by a signal (name: "SIGINT", "SIGTERM"):
 * call before pipeline_finish; the sessions still open get
 * capture_incomplete ("analysis interrupted") and the summary says so. */
void pipeline_interrupt(struct pipeline *p, const char *signame);
void pipeline_set_kernel_drops(struct pipeline *p, uint64_t drops);
/* Ends every open session and prints the summary. */
void pipeline_finish(struct pipeline *p);
const struct summary *pipeline_summary(const struct pipeline *p);
void pipeline_free(struct pipeline *p);

#endif
