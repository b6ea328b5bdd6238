/*
 * check_phrasebook.c - the reply reader against the phrasebook: the real
 * texts of refusals (and of ordinary replies) as each server family
 * publishes them, tests/data/phrasebook.tsv, each row with the command it
 * answers, its code, enhanced code, text, the cause it must be read as, and
 * the source the text comes from (see tests/data/phrasebook.md).
 *
 * Each row is read exactly as the dissector would hand the reply on: code,
 * enhanced code (the empty field means the server sends none), text, and the
 * command answered. A row whose cause is `completed` must not be read as a
 * refusal at all. Every row must cite its source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag_reply.h"
#include "testutil.h"

#define PB_LINE_MAX 4096
#define PB_MIN_ROWS 300
#define PB_MIN_FAMILIES 15

static const struct {
	const char *name;
	enum smtp_cmd cmd;
} PB_COMMANDS[] = {
	{ "CONNECT", CMD_CONNECT }, { "EHLO", CMD_EHLO }, { "HELO", CMD_HELO },
	{ "AUTH", CMD_AUTH }, { "MAIL", CMD_MAIL }, { "RCPT", CMD_RCPT },
	{ "DATA", CMD_DATA }, { "EOD", CMD_BODY_END }, { "BDAT", CMD_BDAT },
	{ "STARTTLS", CMD_STARTTLS }, { "QUIT", CMD_QUIT }, { "RSET", CMD_RSET },
	{ "VRFY", CMD_VRFY },
	/* unsolicited: a reply with no command pending */
	{ "ANY", CMD_NONE },
};

static bool pb_command(const char *s, enum smtp_cmd *out)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(PB_COMMANDS); i++) {
		if (!strcmp(s, PB_COMMANDS[i].name)) {
			*out = PB_COMMANDS[i].cmd;
			return true;
		}
	}
	return false;
}

/* Splits a line at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == '\t') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

static const char *phrasebook_path(void)
{
	static char path[1024];
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/data/phrasebook.tsv", src ? src : "..");
	return path;
}

START_TEST(test_phrasebook)
{
	FILE *f = fopen(phrasebook_path(), "r");
	ck_assert_msg(f != NULL, "cannot open %s", phrasebook_path());
	char line[PB_LINE_MAX];
	char families[64][32];
	int n_families = 0, rows = 0, wrong = 0;
	bool header = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (!header) {
			header = true;      /* family command code enhanced text cause source */
			continue;
		}
		char *fl[8];
		int nf = split_tabs(line, fl, 8);
		ck_assert_msg(nf == 7, "row %d: %d fields, want 7: %s", rows + 1, nf, line);
		ck_assert_msg(fl[6][0] != '\0', "row %d (%s) cites no source", rows + 1, fl[4]);
		enum smtp_cmd cmd;
		ck_assert_msg(pb_command(fl[1], &cmd), "row %d: unknown command '%s'", rows + 1, fl[1]);
		enum cause want;
		ck_assert_msg(cause_parse(fl[5], &want), "row %d: unknown cause '%s'", rows + 1, fl[5]);
		int code = atoi(fl[2]);
		ck_assert_msg(code >= 200 && code <= 599, "row %d: bad code '%s'", rows + 1, fl[2]);

		struct smtp_reply r;
		memset(&r, 0, sizeof(r));
		r.code = (uint16_t)code;
		snprintf(r.enhanced, sizeof(r.enhanced), "%s", fl[3]);
		snprintf(r.text, sizeof(r.text), "%s", fl[4]);
		r.answers = cmd;
		r.lines = 1;
		struct reply_ctx ctx;
		memset(&ctx, 0, sizeof(ctx));
		struct reply_reading rd;
		diag_classify_reply(&r, &ctx, &rd);

		bool ok;
		if (want == CAUSE_COMPLETED)
			ok = rd.cls == RC_NONE;
		else
			ok = rd.cls != RC_NONE && rd.cause == want;
		if (!ok) {
			wrong++;
			fprintf(stderr, "phrasebook: %s %s %d %s \"%s\": want %s, read %s (%s)\n", fl[0], fl[1],
				code, fl[3], fl[4], fl[5], rd.cls == RC_NONE ? "no refusal" : cause_name(rd.cause),
				rd.what ? rd.what : "-");
		}
		rows++;
		int k;
		for (k = 0; k < n_families; k++)
			if (!strcmp(families[k], fl[0]))
				break;
		if (k == n_families && n_families < 64)
			snprintf(families[n_families++], sizeof(families[0]), "%s", fl[0]);
	}
	fclose(f);
	fprintf(stderr, "phrasebook: %d rows, %d families, %d read wrong\n", rows, n_families, wrong);
	ck_assert_int_ge(rows, PB_MIN_ROWS);
	ck_assert_int_ge(n_families, PB_MIN_FAMILIES);
	ck_assert_int_eq(wrong, 0);
}
END_TEST

static Suite *phrasebook_suite(void)
{
	Suite *s = suite_create("phrasebook");
	TCase *tc = tcase_create("Rows");
	tcase_add_test(tc, test_phrasebook);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(phrasebook_suite());
}
