/*
 * classify.h - the only face of nDPI in smtpsleuth. Every ndpi_* call lives
 * in classify.c, so an nDPI upgrade touches one file.
 *
 * nDPI sees only a flow's first packets, from the first one that carries
 * payload on (the packets before it are kept and shown to it then, or at
 * the flow's end, see classify.c) (until it decides, plus the extra
 * packets needed for TLS metadata, with a hard cap). It does not follow
 * STARTTLS; after the 220 to STARTTLS the caller says so and the next
 * packets go to a second nDPI flow so the TLS handshake is classified too.
 *
 * Keep mode (classify_flow_keep): nDPI is not run while the flow lasts.
 * The flow keeps what live feeding would show nDPI (each packet's IP
 * bytes and ms time, and where STARTTLS came), as far as live feeding
 * could go (CLASSIFY_MAX_PACKETS per part), and nDPI is shown it later, in
 * the same order with the same times, stopping where live feeding would
 * have stopped: the answer is the same. Later means: at the flow's end
 * (classify_finish), on another thread with its own classifier
 * (classify_kept + classify_replay), or at once when the caller needs the
 * answer during the flow (classify_go_live: the flow is live from then on,
 * as it would have been all along). A flow whose kept bytes would pass
 * CLASSIFY_KEEP_BYTES goes live by itself at that packet.
 */
#ifndef SLEUTH_CLASSIFY_H
#define SLEUTH_CLASSIFY_H

#include "common.h"
#include "memcap.h"
#include "pkt.h"

#define CLASSIFY_MAX_PACKETS 24     /* packets per flow (and per TLS sub-flow) shown to nDPI */
/* Bytes a flow in keep mode keeps for nDPI (with an 11-byte head per
 * packet); past it, the flow goes live. About what nDPI's own state for a
 * flow is counted as (classify.c, CLASSIFY_NDPI_HELD), so a flow does not
 * cost more than when it was fed at once; the small sessions of a mail
 * server fit (docs/engine.md). */
#define CLASSIFY_KEEP_BYTES 4096

struct classifier;
struct classify_flow;

struct classifier *classifier_new(char *err, size_t errlen);
void classifier_free(struct classifier *c);

struct classify_flow *classify_flow_new(struct classifier *c);
/* The accountant that the flow's later state is reserved against: the
 * headers kept until the first payload, nDPI's struct made then (and its
 * second one after STARTTLS, with what nDPI allocates inside them), and
 * in keep mode the kept packets. */
void classify_flow_set_memcap(struct classify_flow *f, struct memcap *mem);
/* Bytes of a new flow, for the caller to reserve (the state made later
 * is reserved by the flow itself, see classify_flow_set_memcap). */
size_t classify_flow_size(void);
/* Feeds one packet; returns true while nDPI still wants packets of this flow. */
bool classify_packet(struct classifier *c, struct classify_flow *f, const struct pkt *p);
/* STARTTLS was accepted: classify the TLS that follows in a second nDPI
 * flow (whose state it reserves; see classify_flow_set_memcap). False when
 * classification ends here (no room; or, in keep mode, live feeding would
 * have ended before): the caller ends it as when classify_packet says so. */
bool classify_starttls(struct classifier *c, struct classify_flow *f);
/* Gives up on an undecided flow (port guess allowed); a flow in keep mode
 * is shown what it kept first. Idempotent. */
void classify_finish(struct classifier *c, struct classify_flow *f);

/* Keep mode: call before the first packet. The kept bytes are reserved
 * against the flow's accountant (classify_flow_set_memcap); a reservation
 * refused ends keeping there (nDPI is then shown what was kept). In keep
 * mode classify_packet returns false once live feeding would surely have
 * stopped; the caller then stops feeding it but keeps the flow. The
 * answer (classify_name, _is_smtp, _risks...) is there only once the flow
 * went live or was finished. */
void classify_flow_keep(struct classify_flow *f);
bool classify_keeping(const struct classify_flow *f);
/* Shows nDPI what the flow kept, now, with c's module, and feeds it live
 * from then on. Returns what classify_packet would have returned for the
 * last packet: false when classification is over (the caller ends it). A
 * flow not in keep mode: classify_wants(). */
bool classify_go_live(struct classifier *c, struct classify_flow *f);
/* The record of what a flow in keep mode kept (NULL, 0 when nothing):
 * self-contained bytes, valid until the flow goes live or is freed. */
const uint8_t *classify_kept(const struct classify_flow *f, size_t *len);
/* Shows nDPI (c's module) a record from classify_kept, as classify_finish
 * would for the flow that kept it; f is a new flow (classify_flow_new,
 * not in keep mode), finished on return. */
void classify_replay(struct classifier *c, struct classify_flow *f, const uint8_t *kept, size_t len);
/* nDPI's name: "SMTP", "SMTPS", "TLS", "HTTP", "Unknown", ... */
const char *classify_name(const struct classify_flow *f);
bool classify_is_smtp(const struct classify_flow *f);     /* SMTP or SMTPS */
bool classify_decided(const struct classify_flow *f);
/* Risk names (static strings); returns how many were written to out. */
uint32_t classify_risks(const struct classify_flow *f, const char **out, uint32_t max);

/* A risk as reported: its nDPI name, and why it is left out (NULL when it
 * is shown). Risks that are wrong for a mail server's port are left out,
 * per the table in classify.c (README "nDPI's findings"). */
struct classify_risk {
	const char *name;
	const char *ignored_why;
};
/* Every risk of the flow, judged for a flow whose server port is (or is
 * not) a mail port; returns how many were written to out. */
uint32_t classify_risks_judged(const struct classify_flow *f, bool mail_port, struct classify_risk *out,
			       uint32_t max);
/* The name was guessed from the port (or address) only, not found in the
 * bytes: nDPI gave up and guessed. */
bool classify_guessed(const struct classify_flow *f);
void classify_flow_free(struct classify_flow *f);
/* nDPI's name for the TLS after STARTTLS ("TLS", "SMTPS", "Unknown"), or
 * NULL when classify_starttls was not called. */
const char *classify_tls_name(const struct classify_flow *f);
/* True while classify_packet would still feed nDPI for this flow. */
bool classify_wants(const struct classify_flow *f);

#endif
