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
 */
#ifndef SLEUTH_CLASSIFY_H
#define SLEUTH_CLASSIFY_H

#include "common.h"
#include "memcap.h"
#include "pkt.h"

#define CLASSIFY_MAX_PACKETS 24     /* packets per flow (and per TLS sub-flow) shown to nDPI */

struct classifier;
struct classify_flow;

struct classifier *classifier_new(char *err, size_t errlen);
void classifier_free(struct classifier *c);

struct classify_flow *classify_flow_new(struct classifier *c);
/* The accountant that the flow's later state is reserved against: the
 * headers kept until the first payload, and nDPI's struct made then. */
void classify_flow_set_memcap(struct classify_flow *f, struct memcap *mem);
/* Bytes of a new flow, for the caller to reserve (the state made later
 * is reserved by the flow itself, see classify_flow_set_memcap); after
 * classify_starttls() the caller reserves one more nDPI struct with what
 * nDPI allocates inside it (classify_starttls_size()). */
size_t classify_flow_size(void);
size_t classify_starttls_size(void);
/* Feeds one packet; returns true while nDPI still wants packets of this flow. */
bool classify_packet(struct classifier *c, struct classify_flow *f, const struct pkt *p);
/* STARTTLS was accepted: classify the TLS that follows in a second nDPI flow. */
void classify_starttls(struct classifier *c, struct classify_flow *f);
/* Gives up on an undecided flow (port guess allowed). Idempotent. */
void classify_finish(struct classifier *c, struct classify_flow *f);
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
