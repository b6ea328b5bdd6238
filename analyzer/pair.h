/*
 * pair.h - two-point analysis: the same TCP sessions captured at the client
 * and at the server, joined, and what the path between them did.
 *
 * pair_read() takes every TCP packet of each side (decoded with the engine's
 * decoder) into a compact table; pair_join() splits them into flows, joins
 * each client-side flow with its server-side twin (same addresses and ports;
 * through NAT, the same initial sequence numbers, or the same first payload
 * bytes at the same time), matches packets across the two captures by
 * content (sequence, acknowledgement, length, flags, payload hash; never by
 * time), estimates the offset between the two capture clocks from the
 * matched packets, and computes per joined flow its `path` facts: packets
 * sent and never received, received and never sent, reordering, one-way
 * delays, TTL hops, MSS clamping, the NAT mapping.
 *
 * The normal pipeline then runs over each side; pair_session_hook() is its
 * per-session hook: it attaches the path facts to the session's report and
 * adjusts the verdict with what only both views prove (a forged RST, a PMTU
 * black hole, a path that went dead). Server-side sessions that were joined
 * are held back (their verdict is kept as the server's view), so each joined
 * session is reported once, from the client side.
 *
 * Memory: a fixed-size record per packet (PAIR_MAX_PACKETS per side) and per
 * flow (PAIR_MAX_FLOWS per side); two-point captures are captures of a
 * problem, not of a backbone. Packets past a cap are counted, not kept.
 */
#ifndef SLEUTH_PAIR_H
#define SLEUTH_PAIR_H

#include <stdio.h>

#include "common.h"
#include "session_view.h"
#include "verdict.h"

#define PAIR_MAX_PACKETS (2u << 20)  /* TCP packets kept per side (56 bytes each) */
#define PAIR_MAX_FLOWS   (1u << 18)  /* TCP flows kept per side */
#define PAIR_MAX_FILES   64          /* capture files per side */
#define PAIR_LIST_MAX    8           /* dropped / injected packets listed per direction */

enum pair_side { PAIR_CLIENT = 0, PAIR_SERVER = 1 };

struct pair;

struct pair *pair_new(void);
void pair_free(struct pair *p);

/* Reads one capture file of a side. False on an error (message in err);
 * the packets read before it are kept. */
bool pair_read(struct pair *p, enum pair_side side, const char *path, char *err, size_t errlen);

/* Splits flows, joins them, matches packets, estimates the clock offset and
 * computes the path facts. Call once, after every pair_read(). */
void pair_join(struct pair *p);

/* Which side the next pipeline pass reads (the hook needs to know). */
void pair_set_pass(struct pair *p, enum pair_side side);

/* Pipeline session hook (struct pipeline_config.session_hook): ctx is the
 * struct pair. Returns false to hold the session back. */
bool pair_session_hook(void *ctx, struct session_view *v, struct verdict *vd);

/* The pair's own summary: one {"type":"pair",...} line, or a text block. */
void pair_summary(const struct pair *p, FILE *f, bool json);

/* The `analyze --pair` command: CLIENT_SIDE and SERVER_SIDE are each a file
 * or a comma-separated list of files. Returns the exit status. */
struct pipeline_config;
int pair_analyze(const struct pipeline_config *cfg, const char *client_side, const char *server_side);

#endif
