/*
 * tu_replay.h - runs a capture file through the real session glue (engine,
 * nDPI, SMTP and TLS dissectors, timeline) and the diagnosis, and keeps one
 * verdict per SMTP session the glue reports (in flow order), so tests can
 * check the rules on real captures.
 */
#ifndef SLEUTH_TU_REPLAY_H
#define SLEUTH_TU_REPLAY_H

#include "diagnose.h"
#include "verdict.h"

#define TU_REPLAY_MAX 64

struct tu_replayed {
	uint64_t id;
	uint16_t client_port, server_port;
	bool is_smtp;
	struct verdict v;
};

struct tu_replay {
	struct tu_replayed s[TU_REPLAY_MAX];
	size_t n;
	char err[256];              /* source error, "" if none */
};

/* Called for every flow with its session view before it is freed (for
 * debugging tools; NULL by default). */
struct session_view;
extern void (*tu_replay_hook)(const struct session_view *sv, const struct verdict *v);

/* False when the file cannot be opened. */
bool tu_replay_file(const char *path, struct tu_replay *out);
/* The n-th (0-based) flow whose server port is port (0 = any), or NULL. */
const struct tu_replayed *tu_replay_get(const struct tu_replay *r, uint16_t port, size_t nth);

#endif
