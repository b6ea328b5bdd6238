/*
 * profile.c - reading a server profile and playing it in the session (see
 * profile.h for the model). Reading is strict: an unknown value of a known
 * member is an error naming it, so a hand edit that does not mean what the
 * user thinks is refused rather than ignored. Unknown members are ignored,
 * so a profile written by a newer version still loads.
 */
#include "srv.h"
#include "profile.h"
#include "jsonr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *prof_close_name(enum prof_close c)
{
	return c == PC_FIN ? "fin" : c == PC_RST ? "rst" : "none";
}

bool prof_close_parse(const char *s, enum prof_close *out)
{
	if (!s)
		return false;
	if (!strcmp(s, "fin")) *out = PC_FIN;
	else if (!strcmp(s, "rst")) *out = PC_RST;
	else if (!strcmp(s, "none")) *out = PC_NONE;
	else return false;
	return true;
}

void profile_free(struct srv_profile *pr)
{
	free(pr);
}

/* ---- reading ---- */

static bool copy_str(char *dst, size_t cap, const char *s)
{
	if (!s || strlen(s) >= cap)
		return false;
	/* reply text goes on the wire: no CR/LF that would forge another line */
	for (const char *c = s; *c; c++)
		if (*c == '\r' || *c == '\n')
			return false;
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

static int read_reply(const struct jsonr *j, int o, struct prof_reply *r, const char *where,
                      char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (!jsonr_is(j, o, JR_OBJECT)) {
		snprintf(err, errlen, "%s: an object is expected", where);
		return 1;
	}
	int m;
	uint64_t code = 0;
	if ((m = jsonr_get(j, o, "command")) >= 0 && !copy_str(r->verb, sizeof(r->verb), jsonr_str(j, m))) {
		snprintf(err, errlen, "%s: \"command\" must be a verb of at most %d characters", where,
		         PROF_VERB_MAX - 1);
		return 1;
	}
	if ((m = jsonr_get(j, o, "code")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		if (!jsonr_u64(j, m, &code) || code < 100 || code > 599) {
			snprintf(err, errlen, "%s: \"code\" must be a reply code 100..599 (or null: no reply)", where);
			return 1;
		}
	}
	r->code = (uint16_t)code;
	r->none = code == 0;
	if ((m = jsonr_get(j, o, "enhanced")) >= 0 && !copy_str(r->enh, sizeof(r->enh), jsonr_str(j, m))) {
		snprintf(err, errlen, "%s: \"enhanced\" must be a string like \"5.3.4\" or \"\"", where);
		return 1;
	}
	if ((m = jsonr_get(j, o, "text")) >= 0 && !copy_str(r->text, sizeof(r->text), jsonr_str(j, m))) {
		snprintf(err, errlen, "%s: \"text\" must be one line of at most %d bytes", where, PROF_TEXT_MAX - 1);
		return 1;
	}
	if ((m = jsonr_get(j, o, "delay")) >= 0 && (!jsonr_num(j, m, &r->delay) || r->delay < 0)) {
		snprintf(err, errlen, "%s: \"delay\" must be seconds >= 0", where);
		return 1;
	}
	if ((m = jsonr_get(j, o, "close")) >= 0 && !prof_close_parse(jsonr_str(j, m), &r->close)) {
		snprintf(err, errlen, "%s: \"close\" must be \"none\", \"fin\" or \"rst\"", where);
		return 1;
	}
	if ((m = jsonr_get(j, o, "policy")) >= 0 && !jsonr_bool(j, m, &r->policy)) {
		snprintf(err, errlen, "%s: \"policy\" must be true or false", where);
		return 1;
	}
	return 0;
}

int profile_from_json(struct policy *p, const struct jsonr *j, int s, char *err, size_t errlen)
{
	if (!jsonr_is(j, s, JR_OBJECT)) {
		snprintf(err, errlen, "profile: \"server\" must be an object");
		return 1;
	}
	struct srv_profile *pr = calloc(1, sizeof(*pr));
	if (!pr) {
		snprintf(err, errlen, "profile: out of memory");
		return 1;
	}
	int m;
	char where[64];
	if ((m = jsonr_get(j, s, "greeting")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		if (read_reply(j, m, &pr->greeting, "profile: server.greeting", err, errlen))
			goto bad;
		pr->has_greeting = true;
	} else if (m >= 0) {
		/* null: accept, then close (greeting_close says how) without a word */
		pr->has_greeting = false;
		pr->greeting.none = true;
		int c = jsonr_get(j, s, "greeting_close");
		pr->greeting.close = PC_FIN;
		if (c >= 0 && !prof_close_parse(jsonr_str(j, c), &pr->greeting.close)) {
			snprintf(err, errlen, "profile: server.greeting_close must be \"fin\" or \"rst\"");
			goto bad;
		}
	} else {
		pr->has_greeting = true;   /* no member: the server's own greeting */
		pr->greeting.policy = true;
	}
	if ((m = jsonr_get(j, s, "ehlo")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		int h = jsonr_get(j, m, "hostname");
		if (h >= 0 && !copy_str(pr->hostname, sizeof(pr->hostname), jsonr_str(j, h))) {
			snprintf(err, errlen, "profile: server.ehlo.hostname must be a string of at most 63 bytes");
			goto bad;
		}
		int e = jsonr_get(j, m, "extensions");
		if (e >= 0 && !jsonr_is(j, e, JR_ARRAY)) {
			snprintf(err, errlen, "profile: server.ehlo.extensions must be an array of strings");
			goto bad;
		}
		for (int x = jsonr_first(j, e); x >= 0; x = jsonr_next(j, x)) {
			if (pr->n_ext >= PROF_MAX_EXT) {
				snprintf(err, errlen, "profile: more than %d EHLO extensions", PROF_MAX_EXT);
				goto bad;
			}
			if (!copy_str(pr->ext[pr->n_ext], PROF_EXT_MAX, jsonr_str(j, x))) {
				snprintf(err, errlen, "profile: server.ehlo.extensions[%u] must be a string of at most %d bytes",
				         pr->n_ext, PROF_EXT_MAX - 1);
				goto bad;
			}
			pr->n_ext++;
		}
		pr->has_ehlo = true;
	}
	if ((m = jsonr_get(j, s, "replies")) >= 0) {
		if (!jsonr_is(j, m, JR_ARRAY)) {
			snprintf(err, errlen, "profile: server.replies must be an array");
			goto bad;
		}
		for (int x = jsonr_first(j, m); x >= 0; x = jsonr_next(j, x)) {
			if (pr->n_steps >= PROF_MAX_STEPS) {
				snprintf(err, errlen, "profile: more than %d replies (PROF_MAX_STEPS)", PROF_MAX_STEPS);
				goto bad;
			}
			snprintf(where, sizeof(where), "profile: server.replies[%u]", pr->n_steps);
			if (read_reply(j, x, &pr->steps[pr->n_steps], where, err, errlen))
				goto bad;
			if (!pr->steps[pr->n_steps].verb[0]) {
				snprintf(err, errlen, "%s: \"command\" is missing", where);
				goto bad;
			}
			pr->n_steps++;
		}
	}
	if ((m = jsonr_get(j, s, "cut")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		int a = jsonr_get(j, m, "after_bytes"), h = jsonr_get(j, m, "how");
		if (!jsonr_u64(j, a, &pr->cut_after) || !prof_close_parse(jsonr_str(j, h), &pr->cut_how) ||
		    pr->cut_how == PC_NONE) {
			snprintf(err, errlen, "profile: server.cut needs \"after_bytes\" (a byte count) and \"how\" (\"fin\" or \"rst\")");
			goto bad;
		}
	}
	/* Policy knobs, as the command-line options set them. */
	uint64_t u;
	double d;
	bool b;
	if ((m = jsonr_get(j, s, "max_size")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		if (!jsonr_u64(j, m, &u)) {
			snprintf(err, errlen, "profile: server.max_size must be a byte count (0: no limit)");
			goto bad;
		}
		p->max_size = u;
	}
	if ((m = jsonr_get(j, s, "size_action")) >= 0) {
		const char *v = jsonr_str(j, m);
		if (v && !strcmp(v, "reply")) p->size_action = SIZE_REPLY;
		else if (v && !strcmp(v, "close")) p->size_action = SIZE_CLOSE;
		else if (v && !strcmp(v, "reset")) p->size_action = SIZE_RESET;
		else {
			snprintf(err, errlen, "profile: server.size_action must be \"reply\", \"close\" or \"reset\"");
			goto bad;
		}
	}
	if ((m = jsonr_get(j, s, "idle_timeout")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		if (!jsonr_num(j, m, &d) || d < 0 || d > 86400) {
			snprintf(err, errlen, "profile: server.idle_timeout must be seconds (0..86400)");
			goto bad;
		}
		p->idle_timeout = d;
	}
	if ((m = jsonr_get(j, s, "idle_reply")) >= 0 && !jsonr_is(j, m, JR_NULL)) {
		if (read_reply(j, m, &pr->idle_reply, "profile: server.idle_reply", err, errlen))
			goto bad;
		if (pr->idle_reply.code < 400 || pr->idle_reply.code > 599) {
			snprintf(err, errlen, "profile: server.idle_reply.code must be 4xx or 5xx");
			goto bad;
		}
		pr->has_idle_reply = true;
	}
	if ((m = jsonr_get(j, s, "idle_action")) >= 0) {
		const char *v = jsonr_str(j, m);
		if (v && !strcmp(v, "reply")) p->idle_action = IDLE_REPLY;
		else if (v && !strcmp(v, "close")) p->idle_action = IDLE_CLOSE;
		else {
			snprintf(err, errlen, "profile: server.idle_action must be \"reply\" or \"close\"");
			goto bad;
		}
	}
	if ((m = jsonr_get(j, s, "starttls")) >= 0) {
		if (!jsonr_bool(j, m, &b)) {
			snprintf(err, errlen, "profile: server.starttls must be true or false");
			goto bad;
		}
		p->no_tls = !b;
	}
	if ((m = jsonr_get(j, s, "greeting_delay")) >= 0) {
		if (!jsonr_num(j, m, &d) || d < 0 || d > 3600) {
			snprintf(err, errlen, "profile: server.greeting_delay must be seconds (0..3600)");
			goto bad;
		}
		p->greeting_delay = d;
	}
	if ((m = jsonr_get(j, s, "max_errors")) >= 0) {
		if (!jsonr_u64(j, m, &u) || u == 0 || u > 1000000) {
			snprintf(err, errlen, "profile: server.max_errors must be a count >= 1");
			goto bad;
		}
		p->max_errors = (unsigned)u;
	}
	if (pr->hostname[0])
		snprintf(p->hostname, sizeof(p->hostname), "%s", pr->hostname);
	profile_free(p->profile);
	p->profile = pr;
	return 0;
bad:
	profile_free(pr);
	return 1;
}

int profile_load(struct policy *p, const char *path, char *err, size_t errlen)
{
	struct jsonr j;
	char e[400];
	if (jsonr_parse_file(&j, path, e, sizeof(e))) {
		snprintf(err, errlen, "--profile %s", e);
		jsonr_free(&j);
		return 1;
	}
	int s = jsonr_get(&j, 0, "server");
	int rc;
	if (s < 0) {
		snprintf(err, errlen, "--profile %s: no \"server\" object", path);
		rc = 1;
	} else {
		rc = profile_from_json(p, &j, s, e, sizeof(e));
		if (rc)
			snprintf(err, errlen, "--profile %s: %s", path, e);
	}
	jsonr_free(&j);
	return rc;
}

/* ---- playing ---- */

static const struct srv_profile *prof(const struct session *ss)
{
	return ss->srv->pol->profile;
}

static void do_close(struct session *ss, enum prof_close c)
{
	if (c == PC_NONE || ss->state == SS_DRAIN || ss->state == SS_DEAD)
		return;
	if (c == PC_RST)
		sess_flush(ss);   /* the captured server's last reply went out before its RST */
	if (ss->state == SS_DEAD)
		return;
	sess_server_close(ss, c == PC_RST ? CL_RST : CL_FIN);
}

bool profile_greet(struct session *ss)
{
	const struct srv_profile *pr = prof(ss);
	if (!pr || (pr->has_greeting && pr->greeting.policy))
		return false;
	sess_enter(ss, SS_CMD, PH_GREETING);
	if (pr->has_greeting && !pr->greeting.none) {
		ss->prof_ovr = &pr->greeting;
		sess_reply(ss, pr->greeting.code, NULL, "%s", "");
		if (pr->greeting.code == 554)
			sess_enter(ss, SS_DENIED, PH_GREETING);
	}
	enum prof_close c = pr->greeting.close;
	if (pr->greeting.code >= 400 && c == PC_NONE && pr->greeting.code != 554)
		c = PC_FIN;   /* a 421 greeting is followed by a close (RFC 5321 3.8) */
	do_close(ss, c);
	return true;
}

void profile_before(struct session *ss, const char *l, size_t n)
{
	const struct srv_profile *pr = prof(ss);
	if (ss->prof_step)
		return;   /* a BDAT step being answered at its chunk's end */
	ss->prof_ovr = NULL;
	if (!pr || ss->prof_next >= pr->n_steps)
		return;
	const struct prof_reply *r = &pr->steps[ss->prof_next];
	size_t vl = 0;
	while (vl < n && l[vl] != ' ')
		vl++;
	bool match = !strcmp(r->verb, "*") ||
	             (strlen(r->verb) == vl && strncasecmp(l, r->verb, vl) == 0);
	if (!match)
		return;   /* the client went another way: the server's own answer */
	ss->prof_next++;
	ss->prof_ovr = r;
	ss->prof_step = r;
}

void profile_after(struct session *ss)
{
	const struct prof_reply *r = ss->prof_step;
	if (r && ss->state == SS_BDAT) {
		/* BDAT is answered after its octets: the step waits for them */
		ss->prof_bdat = r;
		ss->prof_step = ss->prof_ovr = NULL;
		return;
	}
	ss->prof_step = NULL;
	ss->prof_ovr = NULL;
	if (!r || r->policy)
		return;
	/* The state follows what the reply said, through sess_enter(). */
	if (ss->state == SS_DATA && r->code != 354)
		sess_enter(ss, SS_CMD, ss->phase);
	else if (ss->state == SS_CMD && r->code == 354 && !strcasecmp(r->verb, "DATA"))
		sess_begin_data(ss);
	if ((ss->state == SS_AUTH_PLAIN || ss->state == SS_AUTH_USER || ss->state == SS_AUTH_PASS) &&
	    r->code != 334)
		sess_enter(ss, SS_CMD, ss->phase);
	do_close(ss, r->close);
}

void profile_bdat_end(struct session *ss)
{
	if (!ss->prof_bdat)
		return;
	ss->prof_step = ss->prof_ovr = ss->prof_bdat;
	ss->prof_bdat = NULL;
}

bool profile_ehlo(struct session *ss)
{
	const struct srv_profile *pr = prof(ss);
	const struct prof_reply *r = ss->prof_ovr;
	if (r && !r->policy && r->code != 250) {
		/* the captured server refused EHLO: one line, the profile's */
		sess_reply(ss, r->code, NULL, "%s", "");
		return true;
	}
	if (!pr || !pr->has_ehlo || (r && r->policy))
		return false;
	ss->prof_ovr = NULL;
	const struct policy *pol = ss->srv->pol;
	/* The lines first (STARTTLS is not offered again inside TLS), then
	 * written with '-' on all but the last. */
	char lines[PROF_MAX_EXT + 1][PROF_TEXT_MAX + 8];
	unsigned n = 0;
	snprintf(lines[n++], sizeof(lines[0]), "%s", r && r->text[0] ? r->text : pol->hostname);
	for (unsigned i = 0; i < pr->n_ext; i++) {
		/* SIZE follows the policy, so an edited max_size is advertised */
		if (!strncasecmp(pr->ext[i], "SIZE", 4) && (pr->ext[i][4] == ' ' || !pr->ext[i][4])) {
			if (pol->max_size)
				snprintf(lines[n++], sizeof(lines[0]), "SIZE %llu", (unsigned long long)pol->max_size);
			else
				snprintf(lines[n++], sizeof(lines[0]), "SIZE");
		} else if (!strcasecmp(pr->ext[i], "STARTTLS") && (ss->tls_on || pol->no_tls)) {
			continue;
		} else {
			snprintf(lines[n++], sizeof(lines[0]), "%s", pr->ext[i]);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		char line[PROF_TEXT_MAX + 16];
		int k = snprintf(line, sizeof(line), "250%c%s\r\n", i + 1 < n ? '-' : ' ', lines[i]);
		sess_out_raw(ss, line, (size_t)k);
	}
	return true;
}

bool profile_idle_reply(struct session *ss, uint16_t *code, const char **enh)
{
	const struct srv_profile *pr = prof(ss);
	if (!pr || !pr->has_idle_reply)
		return false;
	ss->prof_ovr = &pr->idle_reply;
	sess_reply(ss, pr->idle_reply.code, NULL, "%s", "");
	*code = pr->idle_reply.code;
	*enh = pr->idle_reply.enh;
	return true;
}

bool profile_reply_line(struct session *ss, unsigned code, char *line, size_t cap, size_t *len)
{
	const struct prof_reply *r = ss->prof_ovr;
	ss->prof_said = NULL;
	if (!r)
		return false;
	ss->prof_ovr = NULL;   /* one reply per step: later lines are the server's */
	/* The policy decides; when it decides as the captured server did, it
	 * speaks as that server did (its enhanced code and text) */
	if (r->policy && (r->none || code != r->code))
		return false;
	if (r->policy)
		ss->prof_said = r;
	if (r->none) {
		*len = 0;          /* the captured server did not answer */
		return true;
	}
	int n;
	if (r->enh[0])
		n = snprintf(line, cap, "%03u %s %s\r\n", r->code, r->enh, r->text);
	else
		n = snprintf(line, cap, "%03u %s\r\n", r->code, r->text);
	if (n < 0 || (size_t)n >= cap) {
		n = (int)cap - 1;
		line[n - 2] = '\r';
		line[n - 1] = '\n';
	}
	*len = (size_t)n;
	return true;
}

bool profile_body_cut(struct session *ss)
{
	const struct srv_profile *pr = prof(ss);
	if (!pr || !pr->cut_after || ss->body_bytes < pr->cut_after)
		return false;
	sess_cause(ss, CAUSE_SIZE_LIMIT, 0, "");
	do_close(ss, pr->cut_how);
	return true;
}
