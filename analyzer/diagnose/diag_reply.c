/*
 * diag_reply.c - reads one SMTP reply through the rule table of
 * diag_reply_rules.c: the first row whose command, class, code, enhanced
 * code and word conditions all hold decides.
 *
 * Words are matched at most once per reply, and only when a row that the
 * codes let through asks for words: the text is lowered into a bounded local
 * copy and every keyword family is tested against it as whole words, which
 * gives a bit mask the rows then test with one AND each. A family word that
 * ends in '*' matches as a word prefix. Pure but for one index of the rule
 * table (by class and command answered), built once on first use under
 * pthread_once and never changed; any byte string in the reply text is safe
 * (it is bounded by SMTP_TEXT_MAX).
 */
#include "diag_reply_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static bool is_word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/* Does the lowered text hold w as a whole word (or a word prefix for "w*")? */
static bool has_word(const char *text, size_t tn, const char *w)
{
	size_t wn = strlen(w);
	bool prefix = wn && w[wn - 1] == '*';
	if (prefix)
		wn--;
	if (!wn || wn > tn)
		return false;
	for (size_t i = 0; i + wn <= tn; i++) {
		if (text[i] != w[0] || memcmp(text + i, w, wn) != 0)
			continue;
		/* A boundary matters only where the word itself has a word byte. */
		bool left = i == 0 || !is_word_byte((unsigned char)text[i - 1]) ||
			    !is_word_byte((unsigned char)w[0]);
		bool right = prefix || i + wn == tn || !is_word_byte((unsigned char)text[i + wn]) ||
			     !is_word_byte((unsigned char)w[wn - 1]);
		if (left && right)
			return true;
	}
	return false;
}

/* An IPv4 address (four dot-separated numbers of 1-3 digits) standing as a
 * word, or a bracketed IPv6 address ("[2001:db8::25]"). */
static bool has_ip_literal(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '[' && i + 3 < n && (isxdigit((unsigned char)t[i + 1]))) {
			size_t j = i + 1, colons = 0;
			while (j < n && (isxdigit((unsigned char)t[j]) || t[j] == ':' || t[j] == '.'))
				colons += t[j++] == ':';
			if (j < n && t[j] == ']' && colons >= 2)
				return true;
		}
		if (!isdigit((unsigned char)t[i]) || (i && (isalnum((unsigned char)t[i - 1]) || t[i - 1] == '.')))
			continue;
		size_t j = i;
		int parts = 0;
		for (;;) {
			size_t d = 0;
			while (j < n && isdigit((unsigned char)t[j]) && d < 4)
				j++, d++;
			if (d == 0 || d > 3)
				break;
			if (++parts == 4) {
				if (j == n || !(isalnum((unsigned char)t[j]) || t[j] == '.'))
					return true;
				break;
			}
			if (j >= n || t[j] != '.')
				break;
			j++;
		}
	}
	return false;
}

/* The text starts with the address it refuses: "<user@domain>: ..." (Postfix),
 * "<user@domain>... ..." (Sendmail) or a bare "user@domain ..." (DHL's 472). */
static bool has_addr_lead(const char *t, size_t n)
{
	size_t i = 0;
	while (i < n && t[i] == ' ')
		i++;
	size_t end = i;
	if (i < n && t[i] == '<') {
		const char *gt = memchr(t + i, '>', n - i);
		if (!gt)
			return false;
		end = (size_t)(gt - t);
	} else {
		while (end < n && t[end] != ' ' && t[end] != ':')
			end++;
	}
	const char *at = memchr(t + i, '@', end - i);
	return at != NULL && at > t + i + (t[i] == '<') && at + 1 < t + end;
}

static uint64_t families_of(const char *text)
{
	char low[SMTP_TEXT_MAX];
	size_t n = 0;
	for (; text[n] && n < sizeof(low) - 1; n++)
		low[n] = (char)tolower((unsigned char)text[n]);
	low[n] = '\0';
	/* Which bytes occur: a word whose first byte does not occur cannot
	 * match, and most words of most families are ruled out so. */
	bool present[256] = { false };
	for (size_t i = 0; i < n; i++)
		present[(unsigned char)low[i]] = true;
	uint64_t mask = 0;
	if (has_ip_literal(low, n))
		mask |= KW(KW_IPLIT);
	if (has_addr_lead(low, n))
		mask |= KW(KW_ADDR_LEAD);
	for (unsigned f = 0; f < KW__COUNT; f++) {
		for (const char *const *w = KW_TABLE[f].words; *w; w++) {
			if (!present[(unsigned char)(*w)[0]])
				continue;
			if (has_word(low, n, *w)) {
				mask |= KW(f);
				break;
			}
		}
	}
	return mask;
}

/* "5.3.4" matches that code; "x.7.1" that subject and detail in any class;
 * "x.3.*" (or "5.3.*") the subject; "-" a reply without an enhanced code. */
static bool enh_match(const char *have, const char *pat)
{
	if (!strcmp(pat, "-"))
		return !have[0];
	if (!have[0])
		return false;
	if (pat[0] != 'x' && pat[0] != have[0])
		return false;
	const char *ps = strchr(pat, '.'), *hs = strchr(have, '.');
	if (!ps || !hs)
		return false;
	size_t pl = strlen(ps);
	if (pl >= 2 && ps[pl - 1] == '*') {
		/* subject only: ".3.*" against ".3.4" */
		const char *pd = strchr(ps + 1, '.'), *hd = strchr(hs + 1, '.');
		return pd && hd && pd - ps == hd - hs && memcmp(ps, hs, (size_t)(pd - ps)) == 0;
	}
	return strcmp(ps, hs) == 0;
}

static bool enh_any(const char *have, const char *const pats[], size_t n, bool empty_is_true)
{
	if (!pats[0])
		return empty_is_true;
	for (size_t i = 0; i < n && pats[i]; i++)
		if (enh_match(have, pats[i]))
			return true;
	return false;
}

/* The first tests of a row depend only on the command answered and the
 * reply's class: does the row pass them? */
static bool rule_fits(const struct reply_rule *rule, uint32_t on, unsigned klass)
{
	if (rule->on && !(rule->on & on))
		return false;
	if (rule->not_on & on)
		return false;
	if (rule->klass ? klass != rule->klass : (klass != 4 && klass != 5))
		return false;
	return true;
}

/*
 * An index of the table by (class 2, 4 or 5; command answered, 0-31 or 32 for
 * any other): the rows that pass rule_fits(), in table order, so a reply
 * tries only those (a few dozen rather than every row). Built once, on the
 * first reply read; the order of the rows, and so which row decides, is the
 * table's. When it cannot be built, every row is tried as before.
 */
#define IDX_CMDS 33
static struct {
	uint16_t *rows;                 /* all lists, back to back */
	uint32_t start[3][IDX_CMDS], len[3][IDX_CMDS];
	bool ok;
} idx;
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

static int klass_slot(unsigned klass)
{
	return klass == 2 ? 0 : klass == 4 ? 1 : klass == 5 ? 2 : -1;
}

static void idx_build(void)
{
	static const unsigned klasses[3] = { 2, 4, 5 };
	size_t total = 0;
	for (int k = 0; k < 3; k++)
		for (uint32_t c = 0; c < IDX_CMDS; c++)
			for (size_t i = 0; i < REPLY_RULES_N; i++)
				total += rule_fits(&REPLY_RULES[i], c < 32 ? ON(c) : 0, klasses[k]);
	if (REPLY_RULES_N > UINT16_MAX || total > UINT32_MAX)
		return;
	idx.rows = malloc((total ? total : 1) * sizeof(*idx.rows));
	if (!idx.rows)
		return;
	uint32_t n = 0;
	for (int k = 0; k < 3; k++) {
		for (uint32_t c = 0; c < IDX_CMDS; c++) {
			idx.start[k][c] = n;
			for (size_t i = 0; i < REPLY_RULES_N; i++)
				if (rule_fits(&REPLY_RULES[i], c < 32 ? ON(c) : 0, klasses[k]))
					idx.rows[n++] = (uint16_t)i;
			idx.len[k][c] = n - idx.start[k][c];
		}
	}
	idx.ok = true;
}

/* The tests of a row after rule_fits(). */
static bool rule_applies(const struct reply_rule *rule, const struct smtp_reply *r, unsigned klass,
			 uint64_t *words, bool *words_known, const struct reply_ctx *c)
{
	if (rule->codes[0]) {
		bool hit = false;
		for (size_t i = 0; i < SL_ARRAY_LEN(rule->codes) && rule->codes[i]; i++)
			hit |= rule->codes[i] == r->code;
		if (!hit)
			return false;
	}
	if (!enh_any(r->enhanced, rule->enh, SL_ARRAY_LEN(rule->enh), true))
		return false;
	if (enh_any(r->enhanced, rule->not_enh, SL_ARRAY_LEN(rule->not_enh), false))
		return false;
	if ((rule->cond & COND_STARTTLS_UNUSED) &&
	    !((c->ext & SMTP_EXT_STARTTLS) && c->starttls == STLS_NONE))
		return false;
	if ((rule->cond & COND_REPEATED_ERRORS) && c->consecutive_errors < 3 && c->unknown_commands < 3)
		return false;
	if ((rule->cond & COND_CLIENT_QUIET) && (r->answers != CMD_NONE || r->client_quiet < REPLY_QUIET_NS))
		return false;
	if ((rule->cond & COND_BAD_ARGS) && !r->bad_args)
		return false;
	if ((rule->cond & COND_EARLY_TALKER) && !c->early_talker)
		return false;
	if (!rule->any && !rule->also && !rule->unless)
		return true;
	/* The words last: most replies (a 221 to QUIT, a 250) are decided by
	 * their codes, and reading the words is most of a reply's cost. */
	if (!*words_known) {
		*words = families_of(r->text);
		*words_known = true;
	}
	if (rule->any && !(*words & rule->any))
		return false;
	if (rule->also && !(*words & rule->also))
		return false;
	if (*words & rule->unless)
		return false;
	return true;
}

/* qmail and its descendants put the enhanced code at the end, "(#4.3.0)";
 * Cisco ESA at the start of the text, "#5.7.1 ...". Read as if it led. */
static void enhanced_in_text(const char *t, char *out, size_t outlen)
{
	for (const char *p = strchr(t, '#'); p; p = strchr(p + 1, '#')) {
		if (p != t && p[-1] != '(' && p[-1] != ' ')
			continue;
		size_t len = smtp_parse_enhanced((const uint8_t *)p + 1, strlen(p + 1), false, out, outlen);
		if (len)
			return;
	}
	out[0] = '\0';
}

void diag_classify_reply(const struct smtp_reply *in, const struct reply_ctx *c, struct reply_reading *o)
{
	struct smtp_reply copy;
	const struct smtp_reply *r = in;
	if (!in->enhanced[0] && strchr(in->text, '#')) {
		char enh[sizeof(in->enhanced)];
		enhanced_in_text(in->text, enh, sizeof(enh));
		if (enh[0]) {
			copy = *in;
			memcpy(copy.enhanced, enh, sizeof(enh));
			r = &copy;
		}
	}
	memset(o, 0, sizeof(*o));
	o->cause = CAUSE_UNKNOWN;
	o->conf = CONF_LOW;
	o->rule = "";
	unsigned klass = r->code ? r->code / 100 : (r->enhanced[0] ? (unsigned)(r->enhanced[0] - '0') : 0);
	if (klass != 2 && klass != 4 && klass != 5)
		return;
	uint64_t words = 0;     /* families_of(r->text), read when a row first needs it */
	bool words_known = false;
	uint32_t on = (unsigned)r->answers < 32 ? ON(r->answers) : 0;
	pthread_once(&idx_once, idx_build);
	int ks = klass_slot(klass);
	uint32_t cs = (unsigned)r->answers < 32 ? (uint32_t)r->answers : 32;
	size_t n = idx.ok ? idx.len[ks][cs] : REPLY_RULES_N;
	for (size_t j = 0; j < n; j++) {
		size_t i = idx.ok ? idx.rows[idx.start[ks][cs] + j] : j;
		const struct reply_rule *rule = &REPLY_RULES[i];
		if (!idx.ok && !rule_fits(rule, on, klass))
			continue;
		if (!rule_applies(rule, r, klass, &words, &words_known, c))
			continue;
		o->cls = rule->cls;
		o->cause = rule->cause;
		o->conf = rule->conf;
		o->what = rule->what;
		o->advice = rule->advice;
		o->rule = rule->id;
		return;
	}
}

/* FNV-1a (64-bit) over the reply's text and enhanced code, with the text's
 * length beside it in the slot: two different texts of one frame, code and
 * command sharing both is a 2^-64 event. */
static uint64_t reply_text_hash(const struct smtp_reply *r, uint32_t *len)
{
	uint64_t h = 14695981039346656037u;
	const char *p = r->text;
	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211u;
	*len = (uint32_t)(p - r->text);
	h = (h ^ 0xff) * 1099511628211u;
	for (p = r->enhanced; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211u;
	return h;
}

void diag_reply_cached(struct reply_cache *cache, const struct smtp_reply *r,
		       const struct reply_ctx *c, struct reply_reading *out)
{
	uint32_t tlen;
	uint64_t th = reply_text_hash(r, &tlen);
	for (size_t i = 0; i < REPLY_CACHE_SLOTS; i++) {
		const struct reply_cache_slot *s = &cache->slot[i];
		if (s->used && s->frame == r->frame && s->code == r->code && s->answers == r->answers &&
		    s->text_hash == th && s->text_len == tlen) {
			*out = s->rd;
			cache->hits++;
			return;
		}
	}
	cache->misses++;
	diag_classify_reply(r, c, out);
	struct reply_cache_slot *s = &cache->slot[cache->next++ % REPLY_CACHE_SLOTS];
	s->used = true;
	s->frame = r->frame;
	s->code = r->code;
	s->answers = (uint8_t)r->answers;
	s->text_hash = th;
	s->text_len = tlen;
	s->rd = *out;
}

bool diag_ci_contains(const char *s, const char *needle)
{
	size_t nl = strlen(needle);
	if (!nl)
		return true;
	for (; *s; s++) {
		size_t i = 0;
		while (i < nl && s[i] && tolower((unsigned char)s[i]) == needle[i])
			i++;
		if (i == nl)
			return true;
	}
	return false;
}
