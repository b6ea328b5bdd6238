/*
 * diag_client_view.c - what the sending mail client was shown, in plain
 * words (verdict.client_view), read from the verdict after the rules.
 *
 * A client shows the server's last reply when there is one (Outlook: "The
 * server responded: ...", Thunderbird: "The mail server responded: ...").
 * Where the connection ended without a reply, the words users search for are
 * given only where the client's behaviour is published: Microsoft documents
 * Outlook's and Outlook Express's 0x800CCC0F ("Your server has unexpectedly
 * terminated the connection", KB 813514) for a connection ended during a
 * send, and 0x800CCC0E ("Cannot connect to the server", KB 813514) for a
 * connection that never opened. Rows are tried in order.
 *
 * Also the relay hint: a recipient refused with no words, on a one-recipient
 * transaction to another domain than the server's, from a client that did not
 * authenticate, may be a relay refusal worded as an address refusal.
 */
#include "diag_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define OUTLOOK_0F "Outlook and Outlook Express report \"Your server has unexpectedly terminated the connection. " \
	"Possible causes for this include server problems, network problems, or a long period of inactivity. " \
	"Error Number: 0x800CCC0F\""
#define OUTLOOK_0E "Outlook and Outlook Express report that they cannot connect to the server " \
	"(Error Number: 0x800CCC0E)"

enum cv_when {
	CV_COMPLETED,           /* mail (if any) went through */
	CV_REPLY,               /* a decisive reply: the client shows it */
	CV_NO_CONNECT,          /* the connection never opened */
	CV_CUT_BY_OTHER,        /* closed by the server or a middlebox without a reply */
	CV_CLIENT_ENDED,        /* the client ended it */
	CV_UNSEEN               /* the capture does not show the ending */
};

static const struct {
	enum cv_when when;
	const char *text;       /* for CV_REPLY: before the reply */
	const char *after;      /* for CV_REPLY: after the reply */
} CLIENT_VIEW[] = {
	{ CV_COMPLETED, "Nothing went wrong for the client: the server accepted what it was sent.", "" },
	{ CV_REPLY, "The client was shown the server's refusal: \"",
		    "\" (Outlook: \"The server responded: ...\"; Thunderbird: \"The mail server responded: ...\")." },
	{ CV_NO_CONNECT, "The client could not connect; " OUTLOOK_0E ".", "" },
	{ CV_CUT_BY_OTHER, "The client saw the connection end without a reply; " OUTLOOK_0F ".", "" },
	{ CV_CLIENT_ENDED, "The client itself ended the session; it shows an error only if the user cancelled or its own timeout expired.", "" },
	{ CV_UNSEEN, "The capture does not show what the client was shown.", "" },
};

static enum cv_when when_of(const struct verdict *v)
{
	switch (v->cause) {
	case CAUSE_COMPLETED:
		return CV_COMPLETED;
	case CAUSE_CONNECTION_REFUSED:
	case CAUSE_UNANSWERED:
		return CV_NO_CONNECT;
	case CAUSE_CAPTURE_INCOMPLETE:
	case CAUSE_ENCRYPTED:
		return CV_UNSEEN;
	case CAUSE_CLIENT_ABORT:
		return CV_CLIENT_ENDED;
	default:
		break;
	}
	if (v->has_reply && v->reply_code)
		return CV_REPLY;
	if (v->closed_by == BY_SERVER || v->closed_by == BY_MIDDLEBOX)
		return CV_CUT_BY_OTHER;
	if (v->closed_by == BY_CLIENT)
		return CV_CLIENT_ENDED;
	return CV_UNSEEN;
}

void diag_client_view(struct verdict *v)
{
	enum cv_when w = when_of(v);
	for (size_t i = 0; i < SL_ARRAY_LEN(CLIENT_VIEW); i++) {
		if (CLIENT_VIEW[i].when != w)
			continue;
		if (w == CV_REPLY) {
			/* the reply text is cut to fit: the client shows it whole */
			char reply[160];
			diag_fmt(reply, sizeof(reply), "%u%s%s %.140s", v->reply_code, v->reply_enhanced[0] ? " " : "",
				 v->reply_enhanced, v->reply_text);
			diag_fmt(v->client_view, sizeof(v->client_view), "%s%s%s", CLIENT_VIEW[i].text, reply,
				 CLIENT_VIEW[i].after);
		} else {
			diag_fmt(v->client_view, sizeof(v->client_view), "%s", CLIENT_VIEW[i].text);
		}
		return;
	}
}

/* The domain of an address ("bob@Example.org" -> "Example.org"), or NULL. */
static const char *addr_domain(const char *a)
{
	const char *at = strrchr(a, '@');
	return at && at[1] ? at + 1 : NULL;
}

/* Does host lie in domain (equal, or a name under it), without regard to case? */
static bool in_domain(const char *host, size_t hl, const char *dom)
{
	size_t dl = strlen(dom);
	while (dl && dom[dl - 1] == '>')
		dl--;
	if (!dl || dl > hl)
		return false;
	if (strncasecmp(host + hl - dl, dom, dl) != 0)
		return false;
	return hl == dl || host[hl - dl - 1] == '.';
}

void diag_relay_hint(struct dctx *d)
{
	struct verdict *v = d->v;
	const struct smtp_facts *f = d->f;
	if (v->cause != CAUSE_RECIPIENT_REJECTED || !v->has_reply || f->auth_result == AUTH_ACCEPTED)
		return;
	/* Only a refusal read from its structure alone (no words, no address code). */
	struct smtp_reply r;
	memset(&r, 0, sizeof(r));
	r.code = v->reply_code;
	diag_fmt(r.enhanced, sizeof(r.enhanced), "%s", v->reply_enhanced);
	diag_fmt(r.text, sizeof(r.text), "%s", v->reply_text);
	r.answers = CMD_RCPT;
	struct reply_reading rd;
	diag_classify_reply(&r, &d->rc, &rd);
	if (strcmp(rd.rule, "N8") != 0)
		return;
	uint32_t kept = smtp_msgs_kept(f);
	if (!kept || f->msgs[kept - 1].rcpts != 1)
		return;
	const char *dom = addr_domain(f->msgs[kept - 1].rcpt_to[0]);
	/* the server's name: the first word of its greeting */
	const char *g = f->greeting.text;
	size_t gl = strcspn(g, " ");
	if (!dom || !gl || in_domain(g, gl, dom))
		return;
	EXPLAIN(d, " The recipient's domain (%.64s) is not the server's (%.*s) and the client had not "
		   "authenticated: the server may have refused to relay, in words that do not say so.",
		dom, (int)SL_MIN(gl, (size_t)64), g);
}
