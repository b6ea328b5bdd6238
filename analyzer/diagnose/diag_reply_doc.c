/*
 * diag_reply_doc.c - writes the reply-reading tables as Markdown, so
 * docs/RULES.md shows exactly what the code reads (`smtpsleuth rules-doc`
 * prints it; check_diag_reply proves the doc carries it unchanged).
 */
#include "diag_reply_int.h"

#include <string.h>

static const char *const KW_NAMES[KW__COUNT] = {
#define X(e, s) [e] = s,
	KW_FAMILIES(X)
#undef X
};

static void families(FILE *out, uint64_t mask, const char *joiner)
{
	bool first = true;
	for (unsigned f = 0; f < KW__COUNT; f++) {
		if (mask & KW(f)) {
			fprintf(out, "%s%s", first ? "" : joiner, KW_NAMES[f]);
			first = false;
		}
	}
}

static void commands(FILE *out, uint32_t mask)
{
	bool first = true;
	for (unsigned c = 0; c < CMD__COUNT; c++) {
		if (mask & ON(c)) {
			const char *n = smtp_cmd_name((enum smtp_cmd)c);
			fprintf(out, "%s%s", first ? "" : "/", c == CMD_NONE ? "(nothing pending)" : n);
			first = false;
		}
	}
}

static void condition(FILE *out, const struct reply_rule *r)
{
	const char *sep = "";
	if (r->on) {
		fputs("answering ", out);
		commands(out, r->on);
		sep = "; ";
	}
	if (r->not_on) {
		fprintf(out, "%snot answering ", sep);
		commands(out, r->not_on);
		sep = "; ";
	}
	if (r->klass) {
		fprintf(out, "%s%uxx", sep, r->klass);
		sep = "; ";
	}
	if (r->codes[0]) {
		fputs(sep, out);
		for (size_t i = 0; i < SL_ARRAY_LEN(r->codes) && r->codes[i]; i++)
			fprintf(out, "%s%u", i ? "/" : "", r->codes[i]);
		sep = "; ";
	}
	if (r->enh[0]) {
		fputs(sep, out);
		for (size_t i = 0; i < SL_ARRAY_LEN(r->enh) && r->enh[i]; i++)
			fprintf(out, "%s%s", i ? " or " : "", r->enh[i]);
		sep = "; ";
	}
	if (r->not_enh[0]) {
		fprintf(out, "%snot ", sep);
		for (size_t i = 0; i < SL_ARRAY_LEN(r->not_enh) && r->not_enh[i]; i++)
			fprintf(out, "%s%s", i ? "/" : "", r->not_enh[i]);
		sep = "; ";
	}
	if (r->any) {
		fprintf(out, "%swords: ", sep);
		families(out, r->any, " or ");
		sep = "; ";
	}
	if (r->also) {
		fprintf(out, "%sand: ", sep);
		families(out, r->also, " or ");
		sep = "; ";
	}
	if (r->unless) {
		fprintf(out, "%snone of: ", sep);
		families(out, r->unless, ", ");
		sep = "; ";
	}
	if (r->cond & COND_STARTTLS_UNUSED) {
		fprintf(out, "%sSTARTTLS offered and not used", sep);
		sep = "; ";
	}
	if (r->cond & COND_REPEATED_ERRORS) {
		fprintf(out, "%s3+ errors in a row or 3+ unknown commands", sep);
		sep = "; ";
	}
	if (!*sep)
		fputs("any 4xx/5xx", out);
}

void diag_reply_doc(FILE *out)
{
	fputs("| id | reply | reading | confidence | from |\n|---|---|---|---|---|\n", out);
	for (size_t i = 0; i < REPLY_RULES_N; i++) {
		const struct reply_rule *r = &REPLY_RULES[i];
		fprintf(out, "| %s | ", r->id);
		condition(out, r);
		if (r->cls == RC_NONE)
			fputs(" | not a refusal | | ", out);
		else if (r->cls == RC_SYNTAX)
			fputs(" | syntax class (R3) | | ", out);
		else
			fprintf(out, " | `%s`: %s | %s | ", cause_name(r->cause), r->what, confidence_name(r->conf));
		fprintf(out, "%s |\n", r->why);
	}
	fputs("\n| family | words | from |\n|---|---|---|\n", out);
	for (unsigned f = 0; f < KW__COUNT; f++) {
		fprintf(out, "| %s | ", KW_NAMES[f]);
		for (const char *const *w = KW_TABLE[f].words; *w; w++)
			fprintf(out, "%s%s", w == KW_TABLE[f].words ? "" : ", ", *w);
		fprintf(out, " | %s |\n", KW_TABLE[f].why);
	}
}
