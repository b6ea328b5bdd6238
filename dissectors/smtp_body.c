/*
 * smtp_body.c - message bodies, streamed and never stored.
 *
 * DATA: a small state machine (enum body_st) finds the end of data, a line
 * holding only "." (CRLF.CRLF, a bare LF tolerated and flagged), wherever
 * the segments split it. It counts bytes as sent (dot-stuffed, without the
 * final ".\r\n") and after unstuffing (the leading dot of a line removed),
 * hands unstuffed runs to the body sink, and checks the 1000-byte text line
 * limit. BDAT: chunk bytes are counted by size, passed through untouched.
 *
 * The message head is scanned for From, To, Subject, Date and Message-ID
 * (folded lines joined, at most SMTP_HEADER_SCAN_MAX bytes, each unfolded
 * header at most SMTP_HDR_LINE_MAX bytes) from the unstuffed bytes. RFC 2047
 * encoded words are kept as they are.
 */
#include <string.h>

#include "smtp_int.h"

/*
 * The bulk of a message, fast: ordinary lines, each ended by CRLF within the
 * line limit and not starting with '.'. Scanning them line by line costs at
 * least a mispredicted branch per line; skip_lines() skips whole 64-byte
 * blocks made only of such lines with one well-predicted branch per block,
 * from masks of the block's LF, CR and '.' bytes (AVX-512BW or AVX2, chosen
 * at run time; elsewhere nothing is skipped and the byte-wise scan does it
 * all). It leaves *len (the bytes of the open line) as the byte-wise scan
 * would, and stops at the first block holding anything else (a CR or LF not
 * in a CRLF pair, a line starting with '.', a line reaching the limit, a CR
 * or LF as its last byte: the next line would start in the next block) or
 * when fewer than 64 bytes are left; the byte-wise scan goes on from there.
 */
#define BODY_BLOCK      64

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BODY_SIMD 1

/* One block's verdict: true (and *l updated) when it holds only ordinary
 * lines. cr_prev: the byte before the block is a CR. */
static inline bool block_ordinary(uint64_t lfm, uint64_t crm, uint64_t dotm, bool cr_prev, uint64_t *l)
{
	if ((crm << 1 | (uint64_t)cr_prev) != lfm || (crm | lfm) >> 63 || ((lfm << 1) & dotm))
		return false;
	if (!lfm) {
		if (*l + BODY_BLOCK + 2 > SMTP_TEXT_LINE_MAX)
			return false;
		*l += BODY_BLOCK;
		return true;
	}
	/* the first line ends in this block: its length without the CR */
	if (*l + (uint64_t)__builtin_ctzll(lfm) - 1 + 2 > SMTP_TEXT_LINE_MAX)
		return false;
	*l = (uint64_t)__builtin_clzll(lfm);    /* the bytes after the last LF */
	return true;
}

__attribute__((target("avx512bw")))
static size_t skip_lines_avx512(const uint8_t *b, size_t i, size_t n, uint64_t *len)
{
	const __m512i lf = _mm512_set1_epi8('\n'), cr = _mm512_set1_epi8('\r'), dot = _mm512_set1_epi8('.');
	bool cr_prev = i > 0 && b[i - 1] == '\r';
	uint64_t l = *len;      /* in a register: a store through len may alias b */
	while (n - i >= BODY_BLOCK) {
		__m512i v = _mm512_loadu_si512((const void *)(b + i));
		if (!block_ordinary(_mm512_cmpeq_epi8_mask(v, lf), _mm512_cmpeq_epi8_mask(v, cr),
				    _mm512_cmpeq_epi8_mask(v, dot), cr_prev, &l))
			break;
		cr_prev = false;        /* a block ending in CR was not skipped */
		i += BODY_BLOCK;
	}
	*len = l;
	return i;
}

__attribute__((target("avx2")))
static inline uint64_t eq_mask_avx2(__m256i lo, __m256i hi, __m256i c)
{
	return (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)) |
	       (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c)) << 32;
}

__attribute__((target("avx2")))
static size_t skip_lines_avx2(const uint8_t *b, size_t i, size_t n, uint64_t *len)
{
	const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r'), dot = _mm256_set1_epi8('.');
	bool cr_prev = i > 0 && b[i - 1] == '\r';
	uint64_t l = *len;
	while (n - i >= BODY_BLOCK) {
		__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
		__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(b + i + 32));
		if (!block_ordinary(eq_mask_avx2(lo, hi, lf), eq_mask_avx2(lo, hi, cr), eq_mask_avx2(lo, hi, dot),
				    cr_prev, &l))
			break;
		cr_prev = false;
		i += BODY_BLOCK;
	}
	*len = l;
	return i;
}
#endif

/* The widest block scan used: 2 any, 1 AVX2 at most, 0 none. Only the tests
 * lower it (check_smtp_body.c runs every path against the byte-wise scan). */
int smtp_body_simd_max = 2;

static size_t skip_lines(const uint8_t *b, size_t i, size_t n, uint64_t *len)
{
#ifdef BODY_SIMD
	if (n - i < BODY_BLOCK)
		return i;
	if (smtp_body_simd_max >= 2 && __builtin_cpu_supports("avx512bw"))
		return skip_lines_avx512(b, i, n, len);
	if (smtp_body_simd_max >= 1 && __builtin_cpu_supports("avx2"))
		return skip_lines_avx2(b, i, n, len);
#else
	(void)b;
	(void)n;
	(void)len;
#endif
	return i;
}

static void hdr_commit(struct smtp *s)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	size_t n = s->hdr_len;
	s->hdr_len = 0;
	if (!msg || n == 0)
		return;
	const uint8_t *h = s->hdr;
	const uint8_t *colon = memchr(h, ':', n);
	if (!colon)
		return;
	size_t klen = (size_t)(colon - h);
	size_t v = klen + 1;
	while (v < n && (h[v] == ' ' || h[v] == '\t'))
		v++;
	size_t vlen = n - v;
	while (vlen && (h[v + vlen - 1] == ' ' || h[v + vlen - 1] == '\t'))
		vlen--;
	char *dst = NULL;
	size_t dstlen = 0;
	if (smtp_ascii_ieq(h, klen, "FROM")) {
		dst = msg->from; dstlen = sizeof(msg->from);
	} else if (smtp_ascii_ieq(h, klen, "TO")) {
		dst = msg->to; dstlen = sizeof(msg->to);
	} else if (smtp_ascii_ieq(h, klen, "SUBJECT")) {
		dst = msg->subject; dstlen = sizeof(msg->subject);
	} else if (smtp_ascii_ieq(h, klen, "DATE")) {
		dst = msg->date; dstlen = sizeof(msg->date);
	} else if (smtp_ascii_ieq(h, klen, "MESSAGE-ID")) {
		dst = msg->message_id; dstlen = sizeof(msg->message_id);
	}
	if (dst && !dst[0])
		sl_text_copy(dst, dstlen, h + v, vlen);
}

/* Header scan over unstuffed bytes: a logical header is a line plus its
 * continuation lines (starting with space or tab); a blank line ends the head. */
static void hdr_scan(struct smtp *s, const uint8_t *b, size_t n)
{
	if (s->hst == H_DONE)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!s->hdr_bol && s->hdr_scanned < SMTP_HEADER_SCAN_MAX) {
			/* Inside a line: up to its LF (or the scan cap) in one go,
			 * as the byte loop below would: CRs dropped, the rest kept
			 * while the header buffer has room. */
			size_t lim = SL_MIN(n - i, (size_t)(SMTP_HEADER_SCAN_MAX - s->hdr_scanned));
			const uint8_t *lf = memchr(b + i, '\n', lim);
			size_t end = lf ? (size_t)(lf - b) : i + lim;
			for (size_t k = i; k < end; k++)
				if (b[k] != '\r' && s->hdr_len < sizeof(s->hdr))
					s->hdr[s->hdr_len++] = b[k];
			s->hdr_scanned += end - i;
			if (!lf) {
				i = end - 1;    /* the loop's i++ moves on to end */
				continue;
			}
			s->hdr_scanned++;
			s->hdr_bol = true;
			i = end;            /* the LF; the loop's i++ passes it */
			continue;
		}
		if (s->hdr_scanned >= SMTP_HEADER_SCAN_MAX) {
			hdr_commit(s);
			struct smtp_message *msg = smtp_cur_msg(s);
			if (msg)
				msg->header_truncated = true;
			s->hst = H_DONE;
			return;
		}
		s->hdr_scanned++;
		uint8_t c = b[i];
		if (s->hdr_bol) {
			if (c == '\r')
				continue;       /* part of a blank line or a stray CR */
			if (c == '\n') {
				hdr_commit(s);
				s->hst = H_DONE;
				return;
			}
			s->hdr_bol = false;
			if (c == ' ' || c == '\t') {
				/* folded: the line break becomes one space */
				if (s->hdr_len < sizeof(s->hdr))
					s->hdr[s->hdr_len++] = ' ';
				continue;
			}
			hdr_commit(s);
		}
		if (c == '\n') {
			s->hdr_bol = true;
			continue;
		}
		if (c == '\r')
			continue;
		if (s->hdr_len < sizeof(s->hdr))
			s->hdr[s->hdr_len++] = c;
	}
}

static void emit(struct smtp *s, const uint8_t *b, size_t n)
{
	if (n == 0)
		return;
	struct smtp_message *msg = smtp_cur_msg(s);
	if (msg)
		msg->body_bytes += n;
	hdr_scan(s, b, n);
	if (s->body_fn && s->f.n_msgs > 0)
		s->body_fn(s->body_ctx, s->f.n_msgs - 1, b, n, false);
}

void smtp_body_begin(struct smtp *s, bool bdat, const struct seg_meta *m)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	if (msg && !msg->data_started) {
		msg->data_started = true;
		msg->bdat = bdat;
		msg->first_frame = m->frame;
		msg->start_ts = m->ts;
	}
	s->bst = B_BOL;
	s->body_line_len = 0;
	s->body_long_noted = false;
	s->f.in_body = true;
	if (!bdat || !msg || msg->bdat_chunks == 0) {
		s->hst = H_LINE;
		s->hdr_scanned = 0;
		s->hdr_len = 0;
		s->hdr_bol = true;
	}
}

static void line_end(struct smtp *s, bool bare, const struct seg_meta *m)
{
	if (s->body_line_len + (bare ? 1 : 2) > SMTP_TEXT_LINE_MAX && !s->body_long_noted) {
		s->f.long_lines++;
		struct event *e = smtp_ev(s, EV_LONG_LINE, DIR_C2S, m, "body line", 9);
		if (e)
			e->num = s->body_line_len;
		s->body_long_noted = true;  /* one event per message is enough */
	}
	if (bare) {
		if (s->f.bare_lf == 0)
			smtp_ev(s, EV_BARE_LF, DIR_C2S, m, "in message body", 15);
		s->f.bare_lf++;
	}
	s->body_line_len = 0;
}

size_t smtp_body_data(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m, bool *ended)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	size_t i = 0, run = 0;      /* run: start of the pending unstuffed span */
	*ended = false;
	while (i < n) {
		uint8_t c = b[i];
		switch (s->bst) {
		case B_BOL:
			if (c == '.') {
				emit(s, b + run, i - run);
				s->bst = B_DOT;
				run = i + 1;    /* the dot is not content (stuffing or end) */
			} else if (c == '\n') {
				line_end(s, true, m);
			} else if (c == '\r') {
				s->bst = B_CR;
			} else {
				s->bst = B_MID;
				s->body_line_len++;
			}
			break;
		case B_DOT:
			if (c == '\r') {
				s->bst = B_DOTCR;
			} else if (c == '\n') {
				/* ".\n": tolerated as the end, flagged */
				line_end(s, true, m);
				*ended = true;
				i++;
				goto done;
			} else {
				s->body_line_len += 1;
				s->bst = B_MID;
				s->body_line_len++;
			}
			break;
		case B_DOTCR:
			if (c == '\n') {
				*ended = true;
				i++;
				goto done;
			}
			/* ".\r" then something else: content "\r" (the dot dropped) */
			emit(s, (const uint8_t *)"\r", 1);
			run = i;
			s->bst = B_MID;
			s->body_line_len += 2;
			continue;   /* reread c in B_MID */
		case B_MID: {
			/* Fast path, line after line: whole blocks of
			 * ordinary lines skipped (skip_lines), then the next LF
			 * (memchr is vectorised); a line ended by CRLF within
			 * the limit and followed by an ordinary byte (not '.',
			 * CR or LF) starts the next line here, without going
			 * back through the state machine. */
			for (;;) {
				i = skip_lines(b, i, n, &s->body_line_len);
				const uint8_t *lf = memchr(b + i, '\n', n - i);
				if (!lf) {
					bool cr = b[n - 1] == '\r';
					s->body_line_len += (n - i) - (cr ? 1 : 0);
					s->bst = cr ? B_CR : B_MID;
					i = n;
					goto done;
				}
				size_t j = (size_t)(lf - b);
				bool crlf = j > i && b[j - 1] == '\r';
				s->body_line_len += (j - i) - (crlf ? 1 : 0);
				if (crlf && s->body_line_len + 2 <= SMTP_TEXT_LINE_MAX)
					s->body_line_len = 0;           /* what line_end does then */
				else
					line_end(s, !crlf, m);
				uint8_t next = j + 1 < n ? b[j + 1] : '\n';
				if (next == '.' || next == '\r' || next == '\n') {
					s->bst = B_BOL;
					i = j;
					break;
				}
				s->body_line_len = 1;                   /* B_BOL's ordinary byte */
				i = j + 2;
				if (i >= n) {
					s->bst = B_MID;
					goto done;
				}
			}
			break;
		}
		case B_CR:
			if (c == '\n') {
				line_end(s, false, m);
				s->bst = B_BOL;
			} else if (c != '\r') {
				s->bst = B_MID;
				s->body_line_len += 2;
			} else {
				s->body_line_len++;
			}
			break;
		}
		i++;
	}
done:
	/* At the end, everything before the final dot was emitted when the dot
	 * was met. Otherwise flush the run, unless a line-start dot is still
	 * undecided (run then points past it; the next chunk settles it). */
	if (!*ended && s->bst != B_DOT && s->bst != B_DOTCR)
		emit(s, b + run, i - run);
	if (msg)
		msg->wire_bytes += i;
	return i;
}

void smtp_body_bdat(struct smtp *s, const uint8_t *b, size_t n)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	if (msg)
		msg->wire_bytes += n;
	emit(s, b, n);
}

void smtp_body_finish(struct smtp *s, bool complete, const struct seg_meta *m)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	s->f.in_body = false;
	if (s->hst != H_DONE) {
		hdr_commit(s);
		s->hst = H_DONE;
	}
	if (msg) {
		if (complete) {
			msg->data_complete = true;
			if (!msg->bdat) {
				/* wire_bytes counted the final dot line: take it off */
				uint64_t fin = s->bst == B_DOTCR ? 3 : 2;
				msg->wire_bytes = msg->wire_bytes >= fin ? msg->wire_bytes - fin : 0;
			}
		}
		msg->end_frame = m->frame;
		msg->end_ts = m->ts;
	}
	if (s->body_fn && s->f.n_msgs > 0)
		s->body_fn(s->body_ctx, s->f.n_msgs - 1, NULL, 0, true);
	const char *t = complete ? "end of data" : "body cut short";
	struct event *e = smtp_ev(s, EV_DATA_END, DIR_C2S, m, t, strlen(t));
	if (e && msg)
		e->num = msg->wire_bytes;
	s->bst = B_BOL;
}

void smtp_body_gap(struct smtp *s, uint64_t len)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	if (msg)
		msg->gap_bytes += len;
	s->f.gaps_data++;
	/* Where the gap left us is unknown; assume a line start so a final
	 * ".\r\n" right after it is still found. */
	s->bst = B_BOL;
	s->body_line_len = 0;
}
