/*
 * tu_sink.h - a recording engine sink for tests.
 *
 * Collects per flow and direction the delivered bytes, gaps and TCP events,
 * the flow_info at open and at close, and the end reason. It also checks the
 * engine's call-order contract as it goes: every data/gap/event call carries
 * the frame of the flow's latest packet (sink.packet came first), nothing
 * arrives after flow_close, and flow_info's address is stable.
 * A text log per flow ("c2s:fin:23 s2c:gap:5@12 ...") makes event order easy
 * to assert on.
 */
#ifndef SLEUTH_TU_SINK_H
#define SLEUTH_TU_SINK_H

#include "engine.h"

struct tu_flow {
	uint64_t id;
	struct flow_info at_open;
	const struct flow_info *live;
	struct flow_info final;
	bool closed;
	enum flow_end why;
	uint8_t *bytes[2];
	size_t n[2], cap[2];
	unsigned gaps[2];
	uint64_t gap_bytes[2];
	uint64_t packets[2];
	uint64_t ev[2][TCP_EV__COUNT];
	uint64_t ev_arg[2][TCP_EV__COUNT];  /* sum of the events' args */
	uint64_t last_frame;        /* of the latest sink.packet */
	unsigned order_errors;      /* contract violations seen */
	char *log;
	size_t loglen, logcap;
};

struct tu_sink {
	struct tu_flow **flows;
	size_t n, cap;
	bool refuse;                /* flow_open returns NULL */
	unsigned stray_calls;       /* calls for unknown or closed flows */
	struct engine_sink sink;
};

void tu_sink_init(struct tu_sink *s);
void tu_sink_free(struct tu_sink *s);
/* Flow by id (1-based), NULL if none. */
struct tu_flow *tu_sink_flow(const struct tu_sink *s, uint64_t id);
/* Whether the flow's log contains the text. */
bool tu_flow_logged(const struct tu_flow *f, const char *text);

#endif
