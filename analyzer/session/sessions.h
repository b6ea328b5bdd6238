/*
 * sessions.h - the session glue: packets in, one finished session view out
 * per TCP flow that carried SMTP (or aimed at a mail port).
 *
 * It owns the engine, the nDPI classifier, the dissectors, the timelines and
 * the extraction; it knows nothing of verdicts or reports. The caller's
 * session_fn gets each session's view as the session ends (valid during the
 * call only) together with the summary, in which it counts what it reported.
 */
#ifndef SLEUTH_SESSIONS_H
#define SLEUTH_SESSIONS_H

#include "common.h"
#include "engine.h"
#include "packet.h"
#include "session_view.h"
#include "summary.h"

struct keylog;
struct classifier;
struct memcap;

struct sessions_config {
	struct engine_config engine;
	const char *extract_dir;    /* NULL = no extraction */
	bool extract_force;         /* replace regular files already in extract_dir */
	/* --shard K/N: analyse only the flows in shard K (1..N) of N, by
	 * shard_of_flow(). 0/0 = every flow. The engine still tracks every flow
	 * (cheap next to the analysis), so session ids, frame numbers and the
	 * order sessions end in are those of a run without --shard. */
	uint32_t shard_k, shard_n;
	const struct keylog *keylog;    /* --tls-keylog: decrypt TLS (tls_session.c); NULL = no; the caller owns it */
	/* An nDPI classifier to use instead of making one (its setup costs
	 * milliseconds: a fuzz target or a test running many short analyses
	 * keeps one); the caller frees it after sessions_free. NULL: our own. */
	struct classifier *classifier;
	/* nDPI's work on a session that is reported whatever nDPI says goes
	 * with its view (session_view.cls_kept) for the session_fn to do
	 * (classify_defer.h), on its thread with its own classifier; false:
	 * done here before the call, with ours. Either way the answer (but
	 * for nDPI's caches across flows, see pipeline.c) and what is
	 * reserved for it are the same. */
	bool defer_classify;
	/* nDPI fed as the packets come (no keeping, nothing deferred): the
	 * reference tests/check_classify_defer.c holds keep mode to. */
	bool classify_live;
};

/* The engine's defaults, with the mail ports for guessing roles. */
void sessions_config_default(struct sessions_config *cfg);

typedef void (*session_fn)(void *ctx, const struct session_view *v, struct summary *sum);

#define SESSIONS_MAX_SHARDS 1024

/* The shard (1..n) of a flow: the first four bytes of its Community ID's
 * SHA-1 digest (seed 0; see community_id.h), read as a big-endian number,
 * modulo n, plus 1. The same for both directions, every run and machine. */
uint32_t shard_of_flow(const struct sl_addr *a, uint16_t aport, const struct sl_addr *b, uint16_t bport,
		       uint32_t n);
/* Parses "K/N" (1 <= K <= N <= SESSIONS_MAX_SHARDS). */
bool shard_parse(const char *s, uint32_t *k, uint32_t *n);

struct sessions;

struct sessions *sessions_new(const struct sessions_config *cfg, session_fn on_session, void *ctx,
			      char *err, size_t errlen);
/* Names the input the next records come from (flow_info.file). */
void sessions_set_input(struct sessions *p, const char *name);
/* Several inputs merged by time: their names by file number (frame_file()). */
void sessions_set_files(struct sessions *p, const char *const *names, size_t n);
void sessions_feed(struct sessions *p, const struct raw_packet *raw);
/* Ends flows idle by `now` (live capture's timer). */
void sessions_sweep(struct sessions *p, sl_time now);
/* An input error, kept in the summary (every one, up to SUMMARY_MAX_ERRORS). */
void sessions_input_error(struct sessions *p, const char *msg);
/* A damaged or truncated input file (file number, its last good record's
 * time): the sessions it cut get capture_incomplete naming msg. */
void sessions_input_cut(struct sessions *p, int file, sl_time last_ts, const char *msg);
/* A signal stopped the analysis: sessions still open are reported as cut. */
void sessions_interrupt(struct sessions *p, const char *signame);
void sessions_set_kernel_drops(struct sessions *p, uint64_t drops);
/* Ends every open flow (each reaches session_fn) and completes the summary. */
void sessions_finish(struct sessions *p);
const struct summary *sessions_summary(const struct sessions *p);
/* The memory accountant of the analysis (bytes reserved now and at the peak). */
const struct memcap *sessions_memcap(const struct sessions *p);
void sessions_free(struct sessions *p);

#endif
