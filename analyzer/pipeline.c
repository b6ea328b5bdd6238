/*
 * pipeline.c - glue from the packet engine to the reporters.
 *
 * The engine calls us per flow (engine_sink). For each TCP flow we keep a
 * session: its nDPI classification, the SMTP dissector and the timeline the
 * dissector and the TCP events write to, and (with --extract) its files.
 * When the engine ends the flow we decide whether it was an SMTP session,
 * diagnose it, report it, count it in the summary, and free everything.
 *
 * Which flows are SMTP: the dissector is fed every flow from its first byte
 * (it is cheap and port-agnostic); nDPI classifies in parallel. A flow stops
 * being dissected once the dissector says the bytes are not SMTP and nDPI
 * does not call it SMTP either, or once DISSECT_PROBE_BYTES went by in both
 * directions without an SMTP dialog. Flows that never carried a byte count
 * as SMTP sessions when they aimed at a mail port, so refused and unanswered
 * connections to a mail server get their verdict.
 *
 * When a session is reported: as soon as both sides have sent their FIN —
 * on the flow's next packet, so every byte the closing packet released has
 * been dissected — or else when the engine ends the flow (after the linger
 * that follows a RST, idle, capture end, eviction). The heavy state (dissector, timeline)
 * is freed then; a small stub stays until the engine forgets the flow after
 * its linger, so memory follows the number of open connections, not the
 * number of recently closed ones.
 *
 * Accounting: every flow the engine opens ends in exactly one of
 * smtp_sessions, other_flows or flows_evicted, so the summary adds up.
 */
#include "pipeline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"
#include "extract.h"
#include "session.h"
#include "timeline.h"
#include "../dissectors/smtp.h"

/* Bytes per direction the dissector may see without recognising SMTP before
 * we stop feeding a flow nDPI does not call SMTP either. */
#define DISSECT_PROBE_BYTES 16384
/* Repetitive TCP events (retransmissions, keep-alives, zero windows) kept in
 * a timeline per direction; the rest are counted in the TCP stats only. */
#define TL_REPEAT_EVENTS_MAX 8

static const uint16_t mail_ports[] = { 25, 465, 587, 2525, 10025, 0 };

struct session {
	struct pipeline *pl;
	const struct flow_info *fi;
	struct classify_flow *cf;       /* NULL once nDPI is done */
	char protocol[32];
	char community_id[COMMUNITY_ID_STRLEN];
	const char *risks[SESSION_MAX_RISKS];
	uint32_t n_risks;
	struct smtp *smtp;              /* NULL once we stopped dissecting */
	struct timeline tl;
	struct extract_session *xs;
	bool starttls_signalled;
	bool midstream;
	bool not_smtp;                  /* we gave up on SMTP for this flow */
	bool saw_smtp;                  /* dissector recognised SMTP at some point */
	bool saw_payload;
	bool fin[2];                    /* FIN seen per direction */
	bool closing;                   /* the connection is closed: report at the next call */
	bool done;                      /* reported (or counted) and heavy state freed */
	bool reported_smtp;             /* it was an SMTP session (keep its extracted files) */
	bool other_shard;               /* --shard: another process analyses this flow; we only
	                                   follow its FINs so that ends are counted in the same order */
	uint8_t repeats[2][3];          /* retrans, keep-alive, zero-window events kept */
};

struct pipeline {
	struct pipeline_config cfg;
	struct engine *eng;
	struct classifier *cls;
	struct reporter *rep;
	struct extractor *ext;
	struct summary sum;
	sl_time capture_end;
	char input[256];
	bool finished;
	bool discarding;                /* freeing without reporting */
	uint64_t ends;                  /* flows finalized so far, in every shard (session_view.seq) */
};

const char PIPELINE_OPTIONS_HELP[] =
	"  --json                 JSON Lines: one object per session as it ends, then a summary\n"
	"  --json-format native|ecs  field names: ours (default) or Elastic Common Schema; implies --json\n"
	"  --transcript           each session's dialog with timestamps\n"
	"  --extract DIR          per session: ID.pcap, ID.c2s, ID.s2c, ID-N.eml\n"
	"  --idle-threshold SEC   silence that counts as an idle timeout (default 300)\n"
	"  --cause LIST           report only these causes (comma-separated)\n"
	"  --failures             report only sessions whose cause is not 'completed'\n"
	"  --host ADDR            report only sessions with this client or server address\n"
	"  --port N               report only sessions with this client or server port\n"
	"  -q, --quiet            summary only\n"
	"  --color auto|always|never  ANSI colour in the text report (default auto: on a TTY)\n"
	"  --max-flows N          flows tracked at once; older idle flows are evicted (default 1048576)\n"
	"  --flow-timeout SEC     a flow without packets for this long is ended (default 600)\n"
	"  --reassembly-cap BYTES out-of-order bytes buffered in all flows (default 256M)\n";

void pipeline_config_default(struct pipeline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	engine_config_default(&cfg->engine);
	cfg->engine.server_ports = mail_ports;
	diag_config_default(&cfg->diag);
	cfg->report.out = stdout;
	cfg->report.color = isatty(STDOUT_FILENO);
}

/* Parses a non-negative decimal number with an optional K/M/G suffix. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return false;
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end || v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

static bool parse_seconds(const char *s, sl_time *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e9)
		return false;
	*out = (sl_time)(v * (double)NS_PER_SEC);
	return true;
}

static int parse_causes(const char *arg, uint32_t *mask, char *err, size_t errlen)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum cause c;
		if (!cause_parse(t, &c)) {
			snprintf(err, errlen, "unknown cause '%s'", t);
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
	case PIPELINE_OPT_BASE + 3:
		if (!parse_seconds(arg, &cfg->diag.idle_threshold) || cfg->diag.idle_threshold == 0) {
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
		if (!sl_addr_parse(arg, &cfg->report.addr_filter)) {
			snprintf(err, errlen, "--host: '%s' is not an IPv4 or IPv6 address", arg);
			return -1;
		}
		cfg->report.has_addr_filter = true;
		return 1;
	case PIPELINE_OPT_BASE + 7:
		if (!parse_size(arg, &n) || n == 0 || n > 65535) {
			snprintf(err, errlen, "--port: '%s' is not a port number", arg);
			return -1;
		}
		cfg->report.port_filter = (uint16_t)n;
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
		if (!parse_size(arg, &n) || n < 16 || n > (1u << 28)) {
			snprintf(err, errlen, "--max-flows: '%s' is not a number from 16 to 268435456", arg);
			return -1;
		}
		cfg->engine.max_flows = (uint32_t)n;
		return 1;
	case PIPELINE_OPT_BASE + 10:
		if (!parse_seconds(arg, &cfg->engine.flow_timeout) || cfg->engine.flow_timeout == 0) {
			snprintf(err, errlen, "--flow-timeout: '%s' is not a positive number of seconds", arg);
			return -1;
		}
		return 1;
	case PIPELINE_OPT_BASE + 11:
		if (!parse_size(arg, &n)) {
			snprintf(err, errlen, "--reassembly-cap: '%s' is not a size", arg);
			return -1;
		}
		cfg->engine.ooo_global = n;
		if (cfg->engine.ooo_per_dir > n)
			cfg->engine.ooo_per_dir = n;
		return 1;
	case PIPELINE_OPT_BASE + 12:
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
	}
	return 0;
}

static uint32_t shard_from_digest(const uint8_t *d, uint32_t n);

/* ---- summary helpers ---- */

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

/* ---- the engine sink ---- */

/* Stops dissecting: the flow is not SMTP (it will be counted as another
 * protocol, so its facts are not needed). */
static void session_drop_smtp(struct session *s)
{
	smtp_free(s->smtp);
	s->smtp = NULL;
	s->not_smtp = true;
}

static void session_finalize(struct session *s, enum flow_end why);

static void session_refresh_class(struct session *s)
{
	if (!s->cf)
		return;
	snprintf(s->protocol, sizeof(s->protocol), "%s", classify_name(s->cf));
	s->n_risks = classify_risks(s->cf, s->risks, SESSION_MAX_RISKS);
}

static void session_end_classify(struct session *s)
{
	if (!s->cf)
		return;
	classify_finish(s->pl->cls, s->cf);
	session_refresh_class(s);
	classify_flow_free(s->cf);
	s->cf = NULL;
}

static void *sink_flow_open(void *ctx, const struct flow_info *fi, const struct pkt *first)
{
	struct pipeline *pl = ctx;
	struct session *s = calloc(1, sizeof(*s));
	uint8_t digest[COMMUNITY_ID_DIGEST_LEN];
	bool have_digest = community_id_digest(0, COMMUNITY_ID_PROTO_TCP, &fi->client, fi->client_port, &fi->server,
					       fi->server_port, digest);
	bool mine = pl->cfg.shard_n <= 1 || (have_digest && shard_from_digest(digest, pl->cfg.shard_n) == pl->cfg.shard_k);
	if (mine)
		pl->sum.flows++;
	if (!s) {
		/* Counted among the dropped flows. Without its stub the order of
		 * ends may differ from other shards' (out of memory anyway). */
		if (mine)
			pl->sum.flows_untracked++;
		return NULL;
	}
	s->pl = pl;
	s->fi = fi;
	if (!mine) {
		s->other_shard = true;
		s->not_smtp = true;
		return s;
	}
	if (have_digest)
		community_id_format(digest, s->community_id, sizeof(s->community_id));
	tl_init(&s->tl);
	snprintf(s->protocol, sizeof(s->protocol), "Unknown");
	s->cf = classify_flow_new(pl->cls);
	s->smtp = smtp_new(&s->tl);
	if (!s->smtp)
		s->not_smtp = true;
	s->midstream = !(first->flags & TH_SYN);
	if (pl->ext) {
		s->xs = extract_session_open(pl->ext, fi->id);
		if (s->xs && s->smtp)
			smtp_set_body_sink(s->smtp, extract_body, s->xs);
	}
	return s;
}

static void sink_packet(void *ctx, void *user, enum sl_dir dir, const struct pkt *p)
{
	struct session *s = user;
	(void)ctx;
	(void)dir;
	if (s->closing && !s->done)
		session_finalize(s, END_CLOSED);
	if (s->xs)
		extract_packet(s->xs, p->raw);
	if (s->done)
		return;
	if (s->cf) {
		if (!classify_packet(s->pl->cls, s->cf, p))
			session_end_classify(s);
	}
}

/* Decides after new bytes whether to keep dissecting. */
static void session_check_smtp(struct session *s)
{
	const struct smtp_facts *f = smtp_facts(s->smtp);
	bool ndpi_smtp = s->cf ? classify_is_smtp(s->cf) : !strncmp(s->protocol, "SMTP", 4);

	if (f->is_smtp) {
		s->saw_smtp = true;
		if (f->starttls == STLS_ACCEPTED && !s->starttls_signalled) {
			s->starttls_signalled = true;
			if (s->cf)
				classify_starttls(s->pl->cls, s->cf);
		}
		return;
	}
	if (ndpi_smtp)
		return;
	if (f->not_smtp ||
	    (f->c2s_bytes >= DISSECT_PROBE_BYTES && f->s2c_bytes >= DISSECT_PROBE_BYTES))
		session_drop_smtp(s);
}

static void sink_data(void *ctx, void *user, enum sl_dir dir, const uint8_t *b, size_t n,
		      const struct seg_meta *m)
{
	struct session *s = user;
	(void)ctx;
	if (s->done)
		return;
	s->saw_payload = true;
	if (s->xs)
		extract_stream(s->xs, dir, b, n);
	if (!s->smtp)
		return;
	smtp_data(s->smtp, dir, b, n, m);
	if (!s->saw_smtp || !s->starttls_signalled)
		session_check_smtp(s);
}

static void sink_gap(void *ctx, void *user, enum sl_dir dir, uint64_t len, const struct seg_meta *m)
{
	struct session *s = user;
	(void)ctx;
	if (s->done || s->other_shard)
		return;
	struct event *e = tl_add(&s->tl, EV_GAP, dir, m->ts, m->frame, NULL, 0);
	if (e) {
		e->num = len;
		snprintf(e->text, sizeof(e->text), "%llu bytes not captured", (unsigned long long)len);
	}
	if (s->smtp)
		smtp_gap(s->smtp, dir, len, m);
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
	default: return -1;
	}
}

static void sink_tcp_event(void *ctx, void *user, enum sl_dir dir, enum tcp_event ev,
			   uint64_t arg, const struct seg_meta *m)
{
	struct session *s = user;
	(void)ctx;
	if (s->done)
		return;
	if (s->other_shard)
		goto smtp;
	int slot = repeat_slot(ev);
	if (slot >= 0) {
		if (s->repeats[dir][slot] >= TL_REPEAT_EVENTS_MAX)
			goto smtp;
		s->repeats[dir][slot]++;
	}
	struct event *e = tl_add(&s->tl, tcp_event_kind(ev), dir, m->ts, m->frame, NULL, 0);
	if (e) {
		e->num = arg;
		e->code = m->ttl;
		switch (ev) {
		case TCP_RST:
			snprintf(e->text, sizeof(e->text), "RST (%s window, TTL %u)",
				 arg ? "in" : "out of", m->ttl);
			break;
		case TCP_SYN:
			snprintf(e->text, sizeof(e->text), arg > 1 ? "SYN (attempt %llu)" : "SYN",
				 (unsigned long long)arg);
			break;
		case TCP_RETRANSMISSION:
		case TCP_OOO_CAP:
		case TCP_TRUNCATED:
		case TCP_OVERLAP_CONFLICT:
			break;          /* the kind and num (bytes) say it all */
		default:
			snprintf(e->text, sizeof(e->text), "%s", tcp_event_name(ev));
			break;
		}
	}
smtp:
	if (s->smtp && (ev == TCP_FIN || ev == TCP_RST))
		smtp_end(s->smtp, dir, m);
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
	if (!strncmp(s->protocol, "SMTP", 4))
		return true;
	/* No SMTP bytes either way: a refused, unanswered or silent connection
	 * to a mail port is still a session a mail administrator asks about. */
	return !s->saw_payload && is_mail_port(s->fi->server_port);
}

/* Decides what the flow was, reports it if it was an SMTP session, and
 * frees everything but the stub the engine still points to. */
static void session_finalize(struct session *s, enum flow_end why)
{
	struct pipeline *pl = s->pl;
	const struct flow_info *fi = s->fi;

	s->done = true;
	pl->ends++;
	if (s->other_shard)
		return;
	if (s->smtp && !s->saw_smtp)
		session_check_smtp(s);
	session_end_classify(s);

	bool smtp = session_is_smtp(s);
	if (pl->discarding) {
		/* pipeline_free without pipeline_finish: release only. */
	} else if (why == END_EVICTED) {
		pl->sum.flows_evicted++;
	} else if (!smtp || !s->smtp) {
		/* A flow without a dissector (it ran out of memory at the start)
		 * cannot be diagnosed; it counts with the other protocols. */
		pl->sum.other_flows++;
		count_protocol(&pl->sum, s->protocol, s->pl->ends);
	} else {
		struct session_view v = {
			.id = fi->id,
			.fi = fi,
			.smtp = smtp_facts(s->smtp),
			.tl = &s->tl,
			.protocol = s->protocol,
			.n_risks = s->n_risks,
			.end = why,
			.capture_end = pl->capture_end,
			.capture_started_midstream = s->midstream,
			.seq = pl->ends,
		};
		memcpy(v.risks, s->risks, sizeof(v.risks));
		memcpy(v.community_id, s->community_id, sizeof(v.community_id));
		struct verdict verdict;
		diagnose(&v, &pl->cfg.diag, &verdict);
		pl->sum.smtp_sessions++;
		if (reporter_wants(pl->rep, &v, &verdict)) {
			pl->sum.sessions_reported++;
			pl->sum.causes[verdict.cause]++;
			reporter_session(pl->rep, &v, &verdict);
		}
	}
	s->reported_smtp = smtp && why != END_EVICTED;
	smtp_free(s->smtp);
	s->smtp = NULL;
	tl_free(&s->tl);
}

static void sink_flow_close(void *ctx, void *user, const struct flow_info *fi, enum flow_end why)
{
	struct session *s = user;
	(void)ctx;
	(void)fi;

	if (!s)
		return;
	if (!s->done)
		session_finalize(s, why);
	if (s->xs)
		extract_session_close(s->xs, s->reported_smtp);
	free(s);
}

/* ---- public face ---- */

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
	if (!pl->cfg.engine.server_ports)
		pl->cfg.engine.server_ports = mail_ports;
	pl->cls = classifier_new(err, errlen);
	if (!pl->cls)
		goto fail;
	if (cfg->extract_dir) {
		pl->ext = extract_new(cfg->extract_dir, err, errlen);
		if (!pl->ext)
			goto fail;
	}
	pl->rep = reporter_new(&pl->cfg.report);
	if (!pl->rep) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct engine_sink sink = {
		.ctx = pl,
		.flow_open = sink_flow_open,
		.packet = sink_packet,
		.data = sink_data,
		.gap = sink_gap,
		.tcp_event = sink_tcp_event,
		.flow_close = sink_flow_close,
	};
	pl->eng = engine_new(&pl->cfg.engine, &sink);
	if (!pl->eng) {
		snprintf(err, errlen, "cannot allocate the flow table (--max-flows too large?)");
		goto fail;
	}
	return pl;
fail:
	pipeline_free(pl);
	return NULL;
}

void pipeline_set_input(struct pipeline *p, const char *name)
{
	snprintf(p->input, sizeof(p->input), "%s", name);
	engine_set_file(p->eng, p->input);
	p->sum.files++;
}

void pipeline_feed(struct pipeline *p, const struct raw_packet *raw)
{
	p->sum.records++;
	p->sum.bytes_read += raw->caplen;
	if (raw->ts > p->capture_end)
		p->capture_end = raw->ts;
	if (!p->sum.first_ts || raw->ts < p->sum.first_ts)
		p->sum.first_ts = raw->ts;
	engine_feed(p->eng, raw);
}

void pipeline_sweep(struct pipeline *p, sl_time now)
{
	if (now > p->capture_end)
		p->capture_end = now;
	engine_sweep(p->eng, now);
}

void pipeline_input_error(struct pipeline *p, const char *msg)
{
	snprintf(p->sum.error, sizeof(p->sum.error), "%s", msg);
}

void pipeline_set_kernel_drops(struct pipeline *p, uint64_t drops)
{
	p->sum.kernel_drops = drops;
	p->sum.kernel_stats = true;
}

void pipeline_finish(struct pipeline *p)
{
	if (p->finished)
		return;
	p->finished = true;
	engine_finish(p->eng);
	const struct engine_stats *es = engine_stats(p->eng);
	memcpy(p->sum.decode, es->decode, sizeof(p->sum.decode));
	p->sum.ooo_cap_hits = es->ooo_cap_hits;
	p->sum.last_ts = p->capture_end;
	reporter_summary(p->rep, &p->sum);
	fflush(p->cfg.report.out);
}

const struct summary *pipeline_summary(const struct pipeline *p)
{
	return &p->sum;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	if (p->eng && !p->finished) {
		p->discarding = true;
		engine_finish(p->eng);
	}
	engine_free(p->eng);
	reporter_free(p->rep);
	extract_free(p->ext);
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
	char *end;
	errno = 0;
	unsigned long kk = strtoul(s, &end, 10);
	if (errno || end == s || *end != '/' || s[0] == '-')
		return false;
	const char *t = end + 1;
	unsigned long nn = strtoul(t, &end, 10);
	if (errno || end == t || *end || t[0] == '-')
		return false;
	if (kk < 1 || nn < 1 || kk > nn || nn > PIPELINE_MAX_SHARDS)
		return false;
	*k = (uint32_t)kk;
	*n = (uint32_t)nn;
	return true;
}
