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

struct pipeline_config {
	struct engine_config engine;
	struct diag_config diag;
	struct report_opts report;
	const char *extract_dir;    /* NULL = no extraction */
	bool progress;              /* progress line on stderr (analyze, large files, TTY) */
	/* --shard K/N: analyse only the flows in shard K (1..N) of N, by
	 * shard_of_flow(). 0/0 = every flow. The engine still tracks every flow
	 * (cheap next to the analysis), so session ids, frame numbers and the
	 * order sessions end in are those of a run without --shard. */
	uint32_t shard_k, shard_n;
};

#define PIPELINE_MAX_SHARDS 1024

/* The shard (1..n) of a flow: the first four bytes of its Community ID's
 * SHA-1 digest (seed 0; see community_id.h), read as a big-endian number,
 * modulo n, plus 1. The same for both directions, every run and machine. */
uint32_t shard_of_flow(const struct sl_addr *a, uint16_t aport, const struct sl_addr *b, uint16_t bport,
		       uint32_t n);
/* Parses "K/N" (1 <= K <= N <= PIPELINE_MAX_SHARDS). */
bool shard_parse(const char *s, uint32_t *k, uint32_t *n);

/* Defaults: engine and diagnosis defaults, text to stdout, colour if stdout is a TTY. */
void pipeline_config_default(struct pipeline_config *cfg);

/*
 * The options `analyze` and `live` share. Each command builds its getopt_long
 * table from PIPELINE_LONG_OPTIONS plus its own, and hands every option it
 * does not know itself to pipeline_config_option().
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
	{ "json-format", required_argument, NULL, PIPELINE_OPT_BASE + 12 }
#define PIPELINE_SHORT_OPTIONS "q"
extern const char PIPELINE_OPTIONS_HELP[];

int pipeline_config_option(struct pipeline_config *cfg, int opt, const char *arg,
			   char *err, size_t errlen);

struct pipeline;

struct pipeline *pipeline_new(const struct pipeline_config *cfg, char *err, size_t errlen);
/* Name of the input the next records come from (for messages and flow_info.file). */
void pipeline_set_input(struct pipeline *p, const char *name);
void pipeline_feed(struct pipeline *p, const struct raw_packet *raw);
/* Live capture: end flows idle by the wall clock even when no packets come. */
void pipeline_sweep(struct pipeline *p, sl_time now);
/* Records an input error for the summary (reading stops, sessions so far count). */
void pipeline_input_error(struct pipeline *p, const char *msg);
void pipeline_set_kernel_drops(struct pipeline *p, uint64_t drops);
/* Ends every open session and prints the summary. */
void pipeline_finish(struct pipeline *p);
const struct summary *pipeline_summary(const struct pipeline *p);
void pipeline_free(struct pipeline *p);

#endif
