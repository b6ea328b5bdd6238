/*
 * smtp_line.c - line framing over reassembled bytes, one direction.
 *
 * Lines may be split anywhere across segments (even between CR and LF), so
 * the framer keeps the partial line in a fixed buffer of SMTP_LINE_CAP
 * bytes. Invariants:
 *  - memory never grows: bytes past the cap are counted in `total`, not kept;
 *  - a CR is held back (`cr`) until the next byte shows whether it ends the
 *    line (CRLF) or is content ("\r\r\n" keeps one CR as content);
 *  - a line ending in a lone LF is delivered too, flagged bare_lf;
 *  - sline_feed consumes at most one line, so the caller can change how the
 *    following bytes are read (body, TLS) right after any line.
 */
#include <string.h>

#include "smtp_int.h"

static void keep(struct smtp_line *l, const uint8_t *b, size_t n)
{
	size_t room = sizeof(l->buf) - l->kept;
	size_t k = n < room ? n : room;
	if (k) {
		memcpy(l->buf + l->kept, b, k);
		l->kept += k;
	}
	l->total += n;
}

/* Appends content bytes, holding back a trailing CR. */
static void append(struct smtp_line *l, const uint8_t *b, size_t n)
{
	if (n == 0)
		return;
	if (l->cr) {
		keep(l, (const uint8_t *)"\r", 1);
		l->cr = false;
	}
	if (b[n - 1] == '\r') {
		keep(l, b, n - 1);
		l->cr = true;
	} else {
		keep(l, b, n);
	}
}

size_t sline_feed(struct smtp_line *l, const uint8_t *b, size_t n, struct line_ev *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (n == 0)
		return 0;
	const uint8_t *lf = memchr(b, '\n', n);
	if (l->skip) {
		if (!lf)
			return n;
		l->skip = false;
		sline_reset(l);
		ev->resynced = true;
		return (size_t)(lf - b) + 1;
	}
	if (!lf) {
		append(l, b, n);
		return n;
	}
	size_t pre = (size_t)(lf - b);
	append(l, b, pre);
	ev->complete = true;
	ev->bare_lf = !l->cr;
	l->cr = false;
	return pre + 1;
}

void sline_reset(struct smtp_line *l)
{
	l->kept = 0;
	l->total = 0;
	l->cr = false;
}

void sline_gap(struct smtp_line *l)
{
	sline_reset(l);
	l->skip = true;
}
