/*
 * classify_defer.c - nDPI's answer as a session reports it (protocol name,
 * guessed or not, risks shown and set apart), from a finished flow or from
 * a flow's kept packets replayed on the consumer's thread (see
 * classify_defer.h). No nDPI call here: classify.c makes them.
 */
#include "classify_defer.h"

#include <stdio.h>
#include <string.h>

#include "classify.h"

void classify_outcome_init(struct classify_outcome *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->protocol, sizeof(o->protocol), "Unknown");
}

void classify_outcome_of(const struct classify_flow *f, bool mail_port, struct classify_outcome *o)
{
	snprintf(o->protocol, sizeof(o->protocol), "%s", classify_name(f));
	o->guessed = classify_guessed(f);
	struct classify_risk cr[2 * SESSION_MAX_RISKS];
	uint32_t n = classify_risks_judged(f, mail_port, cr, SL_ARRAY_LEN(cr));
	o->n_risks = o->n_ignored = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!cr[i].ignored_why && o->n_risks < SESSION_MAX_RISKS) {
			o->risks[o->n_risks++] = cr[i].name;
		} else if (cr[i].ignored_why && o->n_ignored < SESSION_MAX_RISKS) {
			o->ignored[o->n_ignored] = cr[i].name;
			o->ignored_why[o->n_ignored++] = cr[i].ignored_why;
		}
	}
}

void classify_outcome_deferred(struct classifier *c, const uint8_t *kept, size_t len, bool mail_port,
			       struct classify_outcome *o)
{
	classify_outcome_init(o);
	struct classify_flow *f = c ? classify_flow_new(c) : NULL;
	if (!f)
		return;
	classify_replay(c, f, kept, len);
	classify_outcome_of(f, mail_port, o);
	classify_flow_free(f);
}

void classify_outcome_view(const struct classify_outcome *o, struct session_view *v)
{
	v->protocol = o->protocol;
	v->protocol_guessed = o->guessed;
	memcpy(v->risks, o->risks, sizeof(v->risks));
	v->n_risks = o->n_risks;
	memcpy(v->risks_ignored, o->ignored, sizeof(v->risks_ignored));
	memcpy(v->risks_ignored_why, o->ignored_why, sizeof(v->risks_ignored_why));
	v->n_risks_ignored = o->n_ignored;
	v->cls_kept = NULL;
	v->cls_kept_len = 0;
}
