/*
 * stage.h - the analysis stage on its own thread (--threads 2 and more).
 *
 * The work splits in two stages of about equal cost on mail traffic:
 *   1. the caller's thread reads the input and runs the engine and the
 *      dissectors (sessions.c), which hand each finished session's view on;
 *      for most sessions it only keeps the packets nDPI is to see;
 *   2. the stage thread shows them to its own nDPI module (the view's
 *      cls_kept, classify_defer.h; the caller's fn does it), diagnoses each
 *      session and writes its report.
 * A finished view is copied into a slot of a bounded ring (a slot's buffers
 * are kept and reused, so there is no allocation per session once the
 * ring is warm); the producer waits when the ring is full. There is one
 * stage thread and it takes sessions in the order they were handed on, so
 * the output is the same, byte for byte, whatever the number of threads.
 * Nothing per packet crosses threads: only finished sessions.
 */
#ifndef SLEUTH_STAGE_H
#define SLEUTH_STAGE_H

#include "session_view.h"

/* Slots in the ring: sessions finished and not yet reported. Each holds a
 * copy of a view (a few KB, plus the timeline's events: at most
 * TL_HEAD_KEEP + TL_TAIL_KEEP of them, and at most SMTP_MAX_MESSAGES
 * messages, and at most CLASSIFY_KEEP_BYTES kept for nDPI): at most
 * ~240 KB, so the ring stays under ~31 MB even when
 * every session in it is that large. */
#define STAGE_RING_SLOTS 128

/* Runs on the stage thread, once per session, in the order handed on. */
typedef void (*stage_fn)(void *ctx, const struct session_view *v);

struct stage;

/* Starts the thread (its signals blocked: they go to the caller's thread).
 * NULL (message in err) when it cannot. */
struct stage *stage_new(stage_fn fn, void *ctx, char *err, size_t errlen);
/* Copies the view into the ring (waits while the ring is full). Returns
 * false when the copy could not be made (out of memory): the caller then
 * runs fn itself, after stage_drain(), so order is kept. */
bool stage_push(struct stage *st, const struct session_view *v);
/* Wakes the stage thread for the sessions waiting, fewer than a batch
 * (live capture's timer: a quiet link still gets its reports). */
void stage_kick(struct stage *st);
/* Waits until every session handed on has been through fn. */
void stage_drain(struct stage *st);
/* Drains, stops and joins the thread, frees everything. NULL is fine. */
void stage_free(struct stage *st);

#endif
