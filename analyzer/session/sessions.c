/*
 * sessions.c - glue from the packet engine to the dissectors: one session
 * per TCP flow, handed on when it ends.
 *
 * The engine calls us per flow (engine_sink). For each TCP flow we keep a
 * session: its nDPI classification, the SMTP dissector and the timeline the
 * dissector and the TCP events write to, and (with --extract) its files.
 * When the engine ends the flow we decide whether it was an SMTP session,
 * hand its view to the caller's session_fn (which diagnoses and reports it),
 * count it in the summary, and free everything.
 *
 * Which flows are SMTP: the dissector is fed every flow from its first byte
 * (it is cheap and port-agnostic); nDPI classifies in parallel. A flow stops
 * being dissected once the dissector says the bytes are not SMTP and nDPI
 * does not call it SMTP either, or once DISSECT_PROBE_BYTES went by in both
 * directions without an SMTP dialog. Flows that never carried a byte count
 * as SMTP sessions when they aimed at a mail port, so refused and unanswered
 * connections to a mail server get their verdict.
 *
 * nDPI is not run while a flow lasts: the flow keeps what nDPI would be
 * shown (classify.h, keep mode). Its answer is needed here in two places
 * only: when the dissector gave up on a flow and only nDPI calling it SMTP
 * keeps it going (session_ndpi_smtp: nDPI is shown the kept packets then
 * and fed live from there), and at the end of a flow that is not reported
 * whatever nDPI says (its name decides, or is counted in the summary).
 * Every other session is reported with its kept packets, for the consumer
 * to show its own nDPI module (defer_classify, classify_defer.h; without
 * it they are shown to ours at the end). The answer is the same each way.
 *
 * When a session is reported: as soon as both sides have sent their FIN —
 * on the flow's next packet, so every byte the closing packet released has
 * been dissected — or else when the engine ends the flow (after the linger
 * that follows a RST, idle, capture end, eviction). The heavy state (dissector, timeline)
 * is freed then; a small stub stays until the engine forgets the flow after
 * its linger, so memory follows the number of open connections, not the
 * number of recently closed ones.
 *
 * Memory: every per-session allocation is reserved against the engine's
 * accountant (memcap.h) before it is made, and the session remembers what
 * it holds (`held`) so its end returns exactly that. State comes when it is
 * needed: the session stub with the first packet the engine delivers
 * (for a flow that starts with a bare SYN, the engine delivers it with the
 * flow's second packet or at its end: a SYN-only flow costs the engine's
 * record alone), the packets kept for nDPI as they come (reserved by
 * classify.c, up to CLASSIFY_KEEP_BYTES), the timeline with its first event, the
 * SMTP dissector (the largest part) with the first byte, FIN or RST.
 * Another shard's flow costs a 16-byte stub the engine keeps in its record
 * (docs/engine.md has the figures).
 *
 * Evicted flows (by --max-flows or --memory-cap) are sessions like any
 * other: reported with what was known (the diagnosis calls them
 * capture_incomplete and says which cap), and counted in the summary's
 * `evicted`. A later packet of such a flow opens a flow marked
 * after_eviction, which the diagnosis never gives a confident verdict.
 *
 * Accounting: every flow the engine opens ends in exactly one of
 * smtp_sessions, other_flows or flows_dropped (untracked), so the summary
 * adds up.
 */
#include "sessions.h"

#include "community_id.h"
#include "numparse.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "classify_defer.h"
#include "engine.h"
#include "extract.h"
#include "session_view.h"
#include "smtp.h"
#include "timeline.h"
#include "tls_session.h"

/* Bytes per direction the dissector may see without recognising SMTP before
 * we stop feeding a flow nDPI does not call SMTP either. */
#define DISSECT_PROBE_BYTES 16384
/* Repetitive TCP events (retransmissions, keep-alives, zero windows) kept in
 * a timeline per direction; the rest are counted in the TCP stats only. */
#define TL_REPEAT_EVENTS_MAX 8
/* Damaged files remembered to mark the sessions they cut. */
#define SESSIONS_MAX_CUTS 64

static const uint16_t mail_ports[] = { 25, 465, 587, 2525, 10025, 0 };

/* nDPI's answer for a session (and its Community ID), needed until it is
 * reported. Allocated apart from the session (and reserved against the
 * memory cap) and freed when the session is reported: a reported session
 * stays as a stub until the engine's linger ends (tens of thousands of them
 * on a busy link), and this is most of its size. */
struct session_class {
	struct classify_outcome cls;    /* "Unknown" until classification ends */
	char community_id[COMMUNITY_ID_STRLEN];
};

/* The consumer's pointer of a flow another --shard process analyses: the
 * few facts that order its end among every shard's (session_view.seq). The
 * first two members are those of struct session, so either can be told
 * apart by other_shard. The engine keeps it in its flow record (a lite
 * flow, engine_sink.flow_lite), copied from sessions.shard_template. */
struct shard_stub {
	struct sessions *pl;
	bool other_shard;               /* true */
	bool fin[2];                    /* FIN seen per direction */
	bool closing;                   /* both FINs: counted at the next call */
	bool done;                      /* counted */
};

struct session {
	struct sessions *pl;
	bool other_shard;               /* false (struct shard_stub when true) */
	const struct flow_info *fi;
	struct classify_flow *cf;       /* NULL once nDPI is done (kept until the report in keep mode) */
	struct session_class *k;        /* NULL once reported (done), and for another shard's flow */
	struct smtp *smtp;              /* NULL once we stopped dissecting */
	struct timeline tl;
	struct extract_session *xs;
	struct tlss *tls;               /* --tls-keylog: decryption (tls_session.c); NULL without */
	bool starttls_signalled;
	bool midstream;
	bool not_smtp;                  /* we gave up on SMTP for this flow */
	bool saw_smtp;                  /* dissector recognised SMTP at some point */
	bool saw_payload;
	bool fin[2];                    /* FIN seen per direction */
	bool closing;                   /* the connection is closed: report at the next call */
	bool done;                      /* reported (or counted) and heavy state freed */
	bool reported_smtp;             /* it was an SMTP session (keep its extracted files) */
	uint8_t repeats[2][4];          /* retrans, keep-alive, zero-window, bad-time events kept */
	size_t held;                    /* bytes reserved against the memory cap for us */
	size_t cls_held;                /* of which for the classification */
};

struct sessions {
	struct sessions_config cfg;
	struct engine *eng;
	struct memcap *mem;             /* the engine's accountant */
	struct classifier *cls;
	session_fn on_session;
	void *ctx;
	struct extractor *ext;
	struct summary sum;
	sl_time capture_end;
	char input[256];
	struct {
		uint32_t file;
		sl_time last_ts;
		char msg[256];
	} cuts[SESSIONS_MAX_CUTS];      /* damaged files (first SESSIONS_MAX_CUTS) */
	uint32_t n_cuts;
	char interrupt_msg[64];         /* "" unless sessions_interrupt */
	bool finished;
	uint64_t ends;                  /* flows finalized so far, in every shard (session_view.seq) */
	struct shard_stub shard_template;   /* another shard's flows start from it */
	bool discarding;                /* freeing without reporting */
};

/* ---- summary helpers ---- */

static uint32_t shard_from_digest(const uint8_t *d, uint32_t n);

static void count_protocol(struct summary *sum, const char *name, uint64_t seq)
{
	for (uint32_t i = 0; i < sum->n_protocols; i++) {
		if (!strcmp(sum->protocols[i].name, name)) {
			sum->protocols[i].n++;
			return;
		}
	}
	if (sum->n_protocols == REPORT_MAX_PROTOCOLS) {
		sum->protocols_other++;
		return;
	}
	snprintf(sum->protocols[sum->n_protocols].name, sizeof(sum->protocols[0].name), "%s", name);
	sum->protocol_first_seq[sum->n_protocols] = seq;
	sum->protocols[sum->n_protocols++].n = 1;
}

static bool is_mail_port(uint16_t port)
{
	for (const uint16_t *p = mail_ports; *p; p++)
		if (*p == port)
			return true;
	return false;
}

/* ---- memory ---- */

static bool s_reserve(struct session *s, size_t n)
{
	if (!memcap_reserve(s->pl->mem, n))
		return false;
	s->held += n;
	return true;
}

static void s_release(struct session *s, size_t n)
{
	memcap_release(s->pl->mem, n);
	s->held -= n;
}

/* The dissector, made with the first byte (or FIN/RST) of the flow. A
 * reservation refused (one flow outgrew the headroom between the memory
 * cap's marks) leaves the flow undissected, which the timeline says. */
static bool session_smtp(struct session *s)
{
	if (s->smtp)
		return true;
	if (s->not_smtp || s->done)
		return false;
	if (!s_reserve(s, smtp_state_size())) {
		struct event *e = tl_add(&s->tl, EV_NOTE, DIR_C2S, s->fi->last_ts, s->fi->last_frame, NULL, 0);
		if (e)
			snprintf(e->text, sizeof(e->text), "not dissected: memory cap reached");
		s->not_smtp = true;
		return false;
	}
	s->smtp = smtp_new(&s->tl);
	if (!s->smtp) {
		s_release(s, smtp_state_size());
		s->not_smtp = true;
		return false;
	}
	if (s->midstream)
		smtp_set_midstream(s->smtp);
	if (s->xs)
		smtp_set_body_sink(s->smtp, extract_body, s->xs);
	if (s->pl->cfg.keylog)
		s->tls = tlss_new(s->pl->cfg.keylog, s->smtp, s->xs);
	return true;
}

static void session_smtp_free(struct session *s)
{
	if (!s->smtp)
		return;
	tlss_free(s->tls);
	s->tls = NULL;
	smtp_free(s->smtp);
	s->smtp = NULL;
	s_release(s, smtp_state_size());
}

/* ---- the engine sink ---- */

/* Stops dissecting: the flow is not SMTP (it will be counted as another
 * protocol, so its facts are not needed). */
static void session_drop_smtp(struct session *s)
{
	session_smtp_free(s);
	s->not_smtp = true;
}

static void session_finalize(struct session *s, enum flow_end why);

static void session_free_classify(struct session *s)
{
	classify_flow_free(s->cf);
	s->cf = NULL;
	s_release(s, s->cls_held);
	s->cls_held = 0;
}

/* Ends classification here, on this thread: nDPI sees what the flow kept
 * (if it was still keeping), its answer goes to s->k. */
static void session_end_classify(struct session *s)
{
	if (!s->cf)
		return;
	classify_finish(s->pl->cls, s->cf);
	if (s->k)
		classify_outcome_of(s->cf, is_mail_port(s->fi->server_port), &s->k->cls);
	session_free_classify(s);
}

/* The classifier wants no more packets of the flow: a live flow ends its
 * classification now; a flow still keeping keeps what it has for later. */
static void session_stop_classify(struct session *s)
{
	if (s->cf && !classify_keeping(s->cf))
		session_end_classify(s);
}

/* nDPI's answer is needed now, during the flow: a flow still keeping is
 * shown to this thread's nDPI and goes on live (the answer is the one it
 * would have had all along). True when nDPI calls it SMTP (or SMTPS). */
static bool session_ndpi_smtp(struct session *s)
{
	if (s->cf && classify_keeping(s->cf) && !classify_go_live(s->pl->cls, s->cf))
		session_end_classify(s);
	return s->cf ? classify_is_smtp(s->cf) : !strncmp(s->k->cls.protocol, "SMTP", 4);
}

static void *sink_flow_open(void *ctx, const struct flow_info *fi, const struct pkt *first)
{
	struct sessions *pl = ctx;
	/* The Community ID's digest picks a flow's shard; without --shard it
	 * is left to the consumer of the view (community_id "" here), off the
	 * reading thread: a SHA-1 per flow was 3 % of that thread's work on
	 * small sessions. */
	uint8_t digest[COMMUNITY_ID_DIGEST_LEN];
	bool have_digest = pl->cfg.shard_n > 1 &&
			   community_id_digest(0, COMMUNITY_ID_PROTO_TCP, &fi->client, fi->client_port, &fi->server,
					       fi->server_port, digest);
	bool mine = pl->cfg.shard_n <= 1 || (have_digest && shard_from_digest(digest, pl->cfg.shard_n) == pl->cfg.shard_k);
	if (!mine) {
		/* --shard: another process analyses this flow; we only follow
		 * its FINs so that ends are counted in the same order. The
		 * engine copies the template into its record (sink_flow_lite). */
		pl->shard_template.pl = pl;
		pl->shard_template.other_shard = true;
		return &pl->shard_template;
	}
	pl->sum.flows++;
	struct session *s = NULL;
	if (memcap_reserve(pl->mem, sizeof(*s))) {
		s = calloc(1, sizeof(*s));
		if (!s)
			memcap_release(pl->mem, sizeof(*s));
	}
	if (!s) {
		/* Counted among the dropped flows. */
		pl->sum.flows_untracked++;
		return NULL;
	}
	s->pl = pl;
	s->fi = fi;
	s->held = sizeof(*s);
	tl_init(&s->tl);
	s->tl.mem = pl->mem;
	if (s_reserve(s, sizeof(*s->k))) {
		s->k = calloc(1, sizeof(*s->k));
		if (!s->k)
			s_release(s, sizeof(*s->k));
	}
	if (!s->k) {
		/* Counted among the dropped flows, as when the session itself
		 * cannot be had. */
		memcap_release(pl->mem, s->held);
		free(s);
		pl->sum.flows_untracked++;
		return NULL;
	}
	if (have_digest)
		community_id_format(digest, s->k->community_id, sizeof(s->k->community_id));
	classify_outcome_init(&s->k->cls);
	if (s_reserve(s, classify_flow_size())) {
		s->cf = classify_flow_new(pl->cls);
		if (!s->cf) {
			s_release(s, classify_flow_size());
		} else {
			s->cls_held = classify_flow_size();
			classify_flow_set_memcap(s->cf, pl->mem);
			if (!pl->cfg.classify_live)
				classify_flow_keep(s->cf);
		}
	}
	/* the dissector comes with the first byte (session_smtp) */
	s->midstream = !(first->flags & TH_SYN) || fi->after_eviction;
	if (pl->ext)
		s->xs = extract_session_open(pl->ext, fi->id);
	return s;
}

/* Another shard's flow: its end is counted when both FINs were seen (at
 * its next packet) or when the engine ends it, as a session's. */
static void stub_end(struct shard_stub *o)
{
	if (!o->done) {
		o->done = true;
		o->pl->ends++;
	}
}

static void sink_packet(void *ctx, void *user, enum sl_dir dir, const struct pkt *p)
{
	struct session *s = user;
	(void)dir;
	/* a record the engine held (its time was in doubt) comes here after
	 * sessions_feed returned: the capture's end follows the time used */
	struct sessions *pl = ctx;
	if (p->ts > pl->capture_end)
		pl->capture_end = p->ts;
	if (s->other_shard) {
		struct shard_stub *o = user;
		if (o->closing)
			stub_end(o);
		return;
	}
	if (s->closing && !s->done)
		session_finalize(s, END_CLOSED);
	if (s->xs)
		extract_packet(s->xs, p->raw);
	if (s->done)
		return;
	if (s->cf && !classify_packet(s->pl->cls, s->cf, p))
		session_stop_classify(s);
}

/* Decides after new bytes whether to keep dissecting. */
static void session_check_smtp(struct session *s)
{
	const struct smtp_facts *f = smtp_facts(s->smtp);

	if (f->is_smtp) {
		s->saw_smtp = true;
		if (f->starttls == STLS_ACCEPTED && !s->starttls_signalled) {
			s->starttls_signalled = true;
			/* nDPI's second flow, for the TLS that follows; without
			 * room, classification ends with what the plain part said */
			if (s->cf && !classify_starttls(s->pl->cls, s->cf))
				session_stop_classify(s);
		}
		return;
	}
	/* Only here does the flow need nDPI's answer: the dissector gave up
	 * (or saw no SMTP in the probe) and only nDPI would keep it going. */
	if ((f->not_smtp || (f->c2s_bytes >= DISSECT_PROBE_BYTES && f->s2c_bytes >= DISSECT_PROBE_BYTES)) &&
	    !session_ndpi_smtp(s))
		session_drop_smtp(s);
}

static void sink_data(void *ctx, void *user, enum sl_dir dir, const uint8_t *b, size_t n,
		      const struct seg_meta *m)
{
	struct session *s = user;
	(void)ctx;
	if (s->other_shard || s->done)
		return;
	s->saw_payload = true;
	if (s->xs)
		extract_stream(s->xs, dir, b, n);
	if (!session_smtp(s))
		return;
	tlss_data(s->tls, s->smtp, dir, b, n, m);
	if (!s->saw_smtp || !s->starttls_signalled)
		session_check_smtp(s);
}

static void sink_gap(void *ctx, void *user, enum sl_dir dir, uint64_t len, const struct seg_meta *m)
{
	struct session *s = user;
	(void)ctx;
	if (s->other_shard || s->done)
		return;
	struct event *e = tl_add(&s->tl, EV_GAP, dir, m->ts, m->frame, NULL, 0);
	if (e) {
		e->num = len;
		snprintf(e->text, sizeof(e->text), "%llu bytes not captured", (unsigned long long)len);
	}
	if (s->smtp)
		tlss_gap(s->tls, s->smtp, dir, len, m);
}

static enum ev_kind tcp_event_kind(enum tcp_event ev)
{
	switch (ev) {
	case TCP_SYN: return EV_SYN;
	case TCP_SYNACK: return EV_SYNACK;
	case TCP_SYN_RST: return EV_SYN_RST;
	case TCP_FIN: return EV_FIN;
	case TCP_RST: return EV_RST;
	case TCP_RETRANSMISSION: return EV_RETRANSMISSION;
	case TCP_OVERLAP_CONFLICT: return EV_OVERLAP;
	case TCP_ZERO_WINDOW: return EV_ZERO_WINDOW;
	case TCP_KEEPALIVE: return EV_KEEPALIVE;
	case TCP_OOO_CAP: return EV_REASSEMBLY_CAP;
	case TCP_TRUNCATED: return EV_TRUNCATED;
	case TCP_MIDSTREAM: return EV_MIDSTREAM;
	case TCP_DATA_AFTER_CLOSE: return EV_DATA_AFTER_CLOSE;
	case TCP_BAD_TIMESTAMP: return EV_BAD_TIMESTAMP;
	case TCP_EV__COUNT: break;
	}
	return EV_NOTE;
}

/* Index into session.repeats for events that can come by the thousand. */
static int repeat_slot(enum tcp_event ev)
{
	switch (ev) {
	case TCP_RETRANSMISSION: return 0;
	case TCP_KEEPALIVE: return 1;
	case TCP_ZERO_WINDOW: return 2;
	case TCP_BAD_TIMESTAMP: return 3;
	default: return -1;
	}
}

static void sink_tcp_event(void *ctx, void *user, enum sl_dir dir, enum tcp_event ev,
			   uint64_t arg, const struct seg_meta *m)
{
	struct session *s = user;
	(void)ctx;
	if (s->other_shard) {
		struct shard_stub *o = user;
		if (ev == TCP_FIN)
			o->fin[dir] = true;
		if (o->fin[0] && o->fin[1])
			o->closing = true;
		return;
	}
	if (s->done)
		return;
	int slot = repeat_slot(ev);
	if (slot >= 0) {
		if (s->repeats[dir][slot] >= TL_REPEAT_EVENTS_MAX)
			goto smtp;
		s->repeats[dir][slot]++;
	}
	/* The event's text: the event's name, or one formatted below; none
	 * where the kind and num (bytes) say it all. */
	const char *name = NULL;
	switch (ev) {
	case TCP_RST:
	case TCP_BAD_TIMESTAMP:
	case TCP_RETRANSMISSION:
	case TCP_OOO_CAP:
	case TCP_TRUNCATED:
	case TCP_OVERLAP_CONFLICT:
		break;
	case TCP_SYN:
		name = arg > 1 ? NULL : "SYN";
		break;
	default:
		name = tcp_event_name(ev);
		break;
	}
	struct event *e = tl_add(&s->tl, tcp_event_kind(ev), dir, m->ts, m->frame, name, name ? strlen(name) : 0);
	if (e) {
		e->num = arg;
		e->code = m->ttl;
		if (ev == TCP_RST)
			snprintf(e->text, sizeof(e->text), "RST (%s window, TTL %u)", arg ? "in" : "out of", m->ttl);
		else if (ev == TCP_SYN && arg > 1)
			snprintf(e->text, sizeof(e->text), "SYN (attempt %llu)", (unsigned long long)arg);
		else if (ev == TCP_BAD_TIMESTAMP)
			snprintf(e->text, sizeof(e->text),
				 "record time cannot be right (seconds %llu): the previous record's time is used",
				 (unsigned long long)arg);
	}
smtp:
	if ((ev == TCP_FIN || ev == TCP_RST) && session_smtp(s))
		tlss_end(s->tls, s->smtp, dir, m);
	if (ev == TCP_FIN)
		s->fin[dir] = true;
	/* Both FINs: the dialog is over, report at the next packet. A session
	 * ended by a RST waits for the engine's linger instead: whether the
	 * peer goes on sending after "its" RST is what shows an injected one. */
	if (s->fin[0] && s->fin[1])
		s->closing = true;
}

/* Is this flow an SMTP session (reported with a verdict)? */
static bool session_is_smtp(const struct session *s)
{
	if (s->saw_smtp)
		return true;
	if (s->not_smtp)
		return false;
	/* nDPI's name, even a guess by port: the dissector did not reject the
	 * bytes (not_smtp above), e.g. a lone QUIT to port 25. */
	if (!strncmp(s->k->cls.protocol, "SMTP", 4))
		return true;
	/* No SMTP bytes either way: a refused, unanswered or silent connection
	 * to a mail port is still a session a mail administrator asks about. */
	return !s->saw_payload && is_mail_port(s->fi->server_port);
}

/* Was this session cut short by the capture rather than ended? A session
 * that did not close (its flow ended at the end of input, or by the flow
 * timeout after its file broke off) whose last packet is in a damaged file,
 * or any session open when a signal stopped the analysis. */
static const char *session_cut(const struct sessions *pl, const struct flow_info *fi, enum flow_end why)
{
	if (why != END_CAPTURE_END && why != END_IDLE)
		return NULL;
	/* A RST, or a FIN each way, closed it: its ending is in the capture. */
	if (fi->dir[0].rst_frame || fi->dir[1].rst_frame || (fi->dir[0].fin_frame && fi->dir[1].fin_frame))
		return NULL;
	if (pl->interrupt_msg[0] && why == END_CAPTURE_END)
		return pl->interrupt_msg;
	uint32_t file = frame_file(fi->last_frame);
	for (uint32_t i = 0; i < pl->n_cuts; i++) {
		if (pl->cuts[i].file != file)
			continue;
		/* An idle end that was due before the file broke off is an
		 * ordinary idle end. */
		if (why == END_IDLE && fi->last_ts + pl->cfg.engine.flow_timeout <= pl->cuts[i].last_ts)
			return NULL;
		return pl->cuts[i].msg;
	}
	return NULL;
}

/* Decides what the flow was, reports it if it was an SMTP session, and
 * frees everything but the stub the engine still points to. */
static void session_finalize(struct session *s, enum flow_end why)
{
	struct sessions *pl = s->pl;
	const struct flow_info *fi = s->fi;

	s->done = true;
	pl->ends++;
	if (s->smtp && !s->saw_smtp)
		session_check_smtp(s);
	bool mail_port = is_mail_port(fi->server_port);
	/* nDPI's work goes with the report to the consumer (defer_classify)
	 * when the flow is reported whatever nDPI says: the dissector saw
	 * SMTP, or nothing flowed to a mail port. Otherwise its answer decides
	 * (session_is_smtp) or is counted in the summary: nDPI runs here. */
	size_t kept_len = 0;
	bool defer = pl->cfg.defer_classify && !pl->discarding && s->cf && classify_kept(s->cf, &kept_len) &&
		     (s->saw_smtp || (!s->not_smtp && !s->saw_payload && mail_port));
	if (!defer)
		session_end_classify(s);

	bool smtp = session_is_smtp(s);
	if (why == END_EVICTED)
		pl->sum.evicted_flow_table++;
	else if (why == END_MEMCAP)
		pl->sum.evicted_memory++;
	/* A session without bytes has no dissector yet: its facts are those of
	 * a fresh one (held only while it is reported, so not reserved). */
	bool transient = false;
	if (smtp && !s->smtp && !s->not_smtp && !pl->discarding) {
		s->smtp = smtp_new(&s->tl);
		transient = s->smtp != NULL;
		if (transient && s->midstream)
			smtp_set_midstream(s->smtp);
	}
	if (pl->discarding) {
		/* sessions_free without sessions_finish: release only. */
	} else if (!smtp || !s->smtp) {
		/* A flow without a dissector (it ran out of memory at the start)
		 * cannot be diagnosed; it counts with the other protocols. */
		session_end_classify(s);        /* if deferred: the name is needed */
		pl->sum.other_flows++;
		count_protocol(&pl->sum, s->k->cls.protocol, pl->ends);
	} else {
		struct session_view v = {
			.id = fi->id,
			.fi = fi,
			.smtp = smtp_facts(s->smtp),
			.tl = &s->tl,
			.end = why,
			.capture_end = pl->capture_end,
			.capture_started_midstream = s->midstream,
			.seq = pl->ends,
		};
		memcpy(v.community_id, s->k->community_id, sizeof(v.community_id));
		if (s->cf) {
			/* deferred: the consumer shows nDPI what the flow kept */
			v.cls_kept = classify_kept(s->cf, &v.cls_kept_len);
			v.cls_mail_port = mail_port;
		} else {
			classify_outcome_view(&s->k->cls, &v);
		}
		v.cut = session_cut(pl, fi, why);
		v.tls_dec = tlss_view(s->tls);
		pl->sum.smtp_sessions++;
		pl->on_session(pl->ctx, &v, &pl->sum);
	}
	s->reported_smtp = smtp;
	if (s->cf)
		session_free_classify(s);       /* deferred: handed on with the view */
	if (transient) {
		smtp_free(s->smtp);
		s->smtp = NULL;
	}
	session_smtp_free(s);
	tl_free(&s->tl);
	free(s->k);
	s->k = NULL;
	s_release(s, sizeof(*s->k));
}

/* Another shard's flow (or one not tracked) needs none of the engine's
 * facts, only its FINs: the engine keeps its TCP state alone, and the
 * stub in its record. */
static bool sink_flow_lite(void *ctx, void *user, size_t *keep)
{
	(void)ctx;
	if (user && ((const struct session *)user)->other_shard) {
		_Static_assert(sizeof(struct shard_stub) <= ENGINE_LITE_USER, "the engine keeps the stub");
		_Static_assert(offsetof(struct shard_stub, other_shard) == offsetof(struct session, other_shard),
			       "a stub and a session are told apart by other_shard at the same place");
		*keep = sizeof(struct shard_stub);
		return true;
	}
	return !user;
}

static void sink_flow_close(void *ctx, void *user, const struct flow_info *fi, enum flow_end why)
{
	struct session *s = user;
	(void)ctx;
	(void)fi;

	if (!s)
		return;
	if (s->other_shard) {
		stub_end(user);     /* the engine's copy: nothing to free */
		return;
	}
	if (!s->done)
		session_finalize(s, why);
	if (s->xs)
		extract_session_close(s->xs, s->reported_smtp);
	memcap_release(s->pl->mem, s->held);
	free(s);
}

/* ---- public face ---- */

void sessions_config_default(struct sessions_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	engine_config_default(&cfg->engine);
	cfg->engine.server_ports = mail_ports;
}

struct sessions *sessions_new(const struct sessions_config *cfg, session_fn on_session, void *ctx,
			      char *err, size_t errlen)
{
	struct sessions *pl = calloc(1, sizeof(*pl));
	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pl->cfg = *cfg;
	pl->on_session = on_session;
	pl->ctx = ctx;
	if (!pl->cfg.engine.server_ports)
		pl->cfg.engine.server_ports = mail_ports;
	pl->cls = cfg->classifier ? cfg->classifier : classifier_new(err, errlen);
	if (!pl->cls)
		goto fail;
	if (cfg->extract_dir) {
		pl->ext = extract_new(cfg->extract_dir, cfg->extract_force, err, errlen);
		if (!pl->ext)
			goto fail;
	}
	struct engine_sink sink = {
		.ctx = pl,
		.flow_open = sink_flow_open,
		.packet = sink_packet,
		.data = sink_data,
		.gap = sink_gap,
		.tcp_event = sink_tcp_event,
		.flow_lite = sink_flow_lite,
		.flow_close = sink_flow_close,
	};
	pl->eng = engine_new(&pl->cfg.engine, &sink);
	if (!pl->eng) {
		snprintf(err, errlen, "cannot allocate the flow table (--max-flows too large, or --memory-cap too small?)");
		goto fail;
	}
	pl->mem = engine_memcap(pl->eng);
	return pl;
fail:
	sessions_free(pl);
	return NULL;
}

void sessions_set_input(struct sessions *p, const char *name)
{
	snprintf(p->input, sizeof(p->input), "%s", name);
	engine_set_file(p->eng, p->input);
	p->sum.files++;
}

void sessions_set_files(struct sessions *p, const char *const *names, size_t n)
{
	if (n)
		engine_set_file(p->eng, names[0]);
	p->sum.files = (uint32_t)n;
}

void sessions_feed(struct sessions *p, const struct raw_packet *raw)
{
	p->sum.records++;
	p->sum.bytes_read += raw->caplen;
	sl_time ts = engine_feed(p->eng, raw);   /* a time that cannot be right is not used */
	if (ts > p->capture_end)
		p->capture_end = ts;
	if (ts && (!p->sum.first_ts || ts < p->sum.first_ts))
		p->sum.first_ts = ts;
}

void sessions_sweep(struct sessions *p, sl_time now)
{
	if (now > p->capture_end)
		p->capture_end = now;
	engine_sweep(p->eng, now);
}

void sessions_input_error(struct sessions *p, const char *msg)
{
	if (!p->sum.error[0])
		snprintf(p->sum.error, sizeof(p->sum.error), "%s", msg);
	if (p->sum.n_errors < SUMMARY_MAX_ERRORS)
		snprintf(p->sum.errors[p->sum.n_errors++], sizeof(p->sum.errors[0]), "%s", msg);
	p->sum.errors_total++;
}

void sessions_input_cut(struct sessions *p, int file, sl_time last_ts, const char *msg)
{
	sessions_input_error(p, msg);
	if (file < 0 || p->n_cuts == SESSIONS_MAX_CUTS)
		return;
	p->cuts[p->n_cuts].file = (uint32_t)file;
	p->cuts[p->n_cuts].last_ts = last_ts;
	snprintf(p->cuts[p->n_cuts].msg, sizeof(p->cuts[0].msg), "%s", msg);
	p->n_cuts++;
}

void sessions_interrupt(struct sessions *p, const char *signame)
{
	snprintf(p->sum.interrupted, sizeof(p->sum.interrupted), "%s", signame);
	snprintf(p->interrupt_msg, sizeof(p->interrupt_msg), "analysis interrupted (%s)", signame);
}

void sessions_set_kernel_drops(struct sessions *p, uint64_t drops)
{
	p->sum.kernel_drops = drops;
	p->sum.kernel_stats = true;
}

void sessions_finish(struct sessions *p)
{
	if (p->finished)
		return;
	p->finished = true;
	engine_finish(p->eng);
	const struct engine_stats *es = engine_stats(p->eng);
	memcpy(p->sum.decode, es->decode, sizeof(p->sum.decode));
	p->sum.ooo_cap_hits = es->ooo_cap_hits;
	p->sum.bad_timestamps = es->bad_timestamps;
	/* a record whose flow could not be allocated: a flow seen and dropped
	 * (counted per record, so a flow with several such records counts more
	 * than once; the sum still adds up) */
	p->sum.flows += es->flows_unallocated;
	p->sum.flows_untracked += es->flows_unallocated;
	if (p->ext) {
		extract_finish(p->ext);     /* every session is closed: complete index.json */
		p->sum.extract_on = true;
		p->sum.extract_errors = extract_errors(p->ext);
		snprintf(p->sum.extract_error, sizeof(p->sum.extract_error), "%s", extract_first_error(p->ext));
	}
	/* flows the engine could not track at all never reached a session */
	p->sum.flows += es->flows_untracked;
	p->sum.flows_untracked += es->flows_untracked;
	p->sum.last_ts = p->capture_end;
}

const struct summary *sessions_summary(const struct sessions *p)
{
	return &p->sum;
}

const struct memcap *sessions_memcap(const struct sessions *p)
{
	return p->mem;
}

void sessions_free(struct sessions *p)
{
	if (!p)
		return;
	if (p->eng && !p->finished) {
		p->discarding = true;
		engine_finish(p->eng);
	}
	engine_free(p->eng);
	extract_free(p->ext);
	if (p->cls != p->cfg.classifier)
		classifier_free(p->cls);
	free(p);
}

/* ---- shards ---- */

static uint32_t shard_from_digest(const uint8_t *d, uint32_t n)
{
	uint32_t h = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	return n ? h % n + 1 : 1;
}

uint32_t shard_of_flow(const struct sl_addr *a, uint16_t aport, const struct sl_addr *b, uint16_t bport,
		       uint32_t n)
{
	uint8_t d[COMMUNITY_ID_DIGEST_LEN];
	if (!community_id_digest(0, COMMUNITY_ID_PROTO_TCP, a, aport, b, bport, d))
		return 1;
	return shard_from_digest(d, n);
}

bool shard_parse(const char *s, uint32_t *k, uint32_t *n)
{
	uint64_t kk, nn;
	const char *slash = strchr(s, '/');
	char kbuf[16];
	if (!slash || (size_t)(slash - s) >= sizeof(kbuf))
		return false;
	memcpy(kbuf, s, (size_t)(slash - s));
	kbuf[slash - s] = '\0';
	if (!sl_parse_uint(kbuf, SESSIONS_MAX_SHARDS, &kk) || !sl_parse_uint(slash + 1, SESSIONS_MAX_SHARDS, &nn))
		return false;
	if (kk < 1 || nn < 1 || kk > nn)
		return false;
	*k = (uint32_t)kk;
	*n = (uint32_t)nn;
	return true;
}
