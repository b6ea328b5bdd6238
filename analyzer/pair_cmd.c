/*
 * pair_cmd.c - the `analyze --pair CLIENT_SIDE SERVER_SIDE` command (see
 * pair.h): each side's files (a comma-separated list, ordered by their first
 * timestamp) read into the pair tables and joined, then the usual pipeline
 * run over the server side (its joined sessions held back, no summary) and
 * over the client side (every session reported, with its path), then the
 * pair line.
 */
#include "pair_int.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "source.h"

struct file_start {
	char *path;
	sl_time first;
};

static int by_first(const void *a, const void *b)
{
	const struct file_start *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

/* Splits a comma-separated list and orders the files by their first
 * record's time (rotated files in any order). Returns the count, -1 on
 * error. */
static int side_files(const char *list, struct file_start *out, char *err, size_t errlen)
{
	char *dup = strdup(list);
	int n = 0;
	if (!dup) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (char *save = NULL, *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == PAIR_MAX_FILES) {
			snprintf(err, errlen, "more than %d files for one side", PAIR_MAX_FILES);
			goto fail;
		}
		out[n].path = strdup(t);
		if (!out[n].path) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		out[n].first = 0;
		struct source *src = source_open_file(t, err, errlen);
		n++;
		if (!src)
			goto fail;
		struct raw_packet raw;
		char e2[256];
		if (source_next(src, &raw, e2, sizeof(e2)) > 0)
			out[n - 1].first = raw.ts;
		source_close(src);
	}
	free(dup);
	qsort(out, (size_t)n, sizeof(*out), by_first);
	return n;
fail:
	for (int i = 0; i < n; i++)
		free(out[i].path);
	free(dup);
	return -1;
}

/* One pipeline pass over one side's files. */
static bool run_side(const struct pipeline_config *base, struct pair *p, enum pair_side side,
		     struct file_start *files, int n, bool summary)
{
	struct pipeline_config cfg = *base;
	cfg.session_hook = pair_session_hook;
	cfg.hook_ctx = p;
	cfg.no_summary = !summary;
	cfg.extract_dir = NULL;
	char err[512];
	struct pipeline *pl = pipeline_new(&cfg, err, sizeof(err));
	if (!pl) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		return false;
	}
	pair_set_pass(p, side);
	bool ok = true;
	for (int i = 0; i < n; i++) {
		struct source *src = source_open_file(files[i].path, err, sizeof(err));
		if (!src) {
			fprintf(stderr, "smtpsleuth: %s\n", err);
			pipeline_input_error(pl, err);
			ok = false;
			continue;
		}
		pipeline_set_input(pl, files[i].path);
		struct raw_packet raw;
		int r;
		while ((r = source_next(src, &raw, err, sizeof(err))) > 0)
			pipeline_feed(pl, &raw);
		source_close(src);
		if (r < 0) {
			fprintf(stderr, "smtpsleuth: %s\n", err);
			pipeline_input_error(pl, err);
			ok = false;
		}
	}
	pipeline_finish(pl);
	pipeline_free(pl);
	return ok;
}

int pair_analyze(const struct pipeline_config *cfg, const char *client_side, const char *server_side)
{
	struct file_start files[2][PAIR_MAX_FILES];
	int n[2];
	char err[512];
	const char *lists[2] = { client_side, server_side };
	for (int s = 0; s < 2; s++) {
		n[s] = side_files(lists[s], files[s], err, sizeof(err));
		if (n[s] < 0) {
			fprintf(stderr, "smtpsleuth: %s side: %s\n", pair_side_name((enum pair_side)s), err);
			if (s)
				for (int i = 0; i < n[0]; i++)
					free(files[0][i].path);
			return 1;
		}
	}
	int rc = 0;
	struct pair *p = pair_new();
	if (!p) {
		fprintf(stderr, "smtpsleuth: out of memory\n");
		rc = 1;
		goto out;
	}
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n[s]; i++)
			if (!pair_read(p, (enum pair_side)s, files[s][i].path, err, sizeof(err))) {
				fprintf(stderr, "smtpsleuth: %s\n", err);
				rc = 1;
			}
	pair_join(p);
	/* --html: one page for both passes, its inputs the client side's files
	 * then the server side's (the order each pass reads them in) */
	struct pipeline_config pcfg = *cfg;
	const char *inputs[2 * PAIR_MAX_FILES];
	char nonce[REPORT_HTML_NONCE_LEN] = "";
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n[s]; i++)
			inputs[s * n[0] + i] = files[s][i].path;
	pcfg.report.inputs = inputs;
	pcfg.report.n_inputs = n[0] + n[1];
	pcfg.report.html_nonce = nonce;
	/* the server side first: its joined sessions are held back and
	 * their verdicts kept for the client-side report */
	if (!run_side(&pcfg, p, PAIR_SERVER, files[1], n[1], false))
		rc = 1;
	pcfg.report.html_resume = true;
	if (!run_side(&pcfg, p, PAIR_CLIENT, files[0], n[0], true))
		rc = 1;
	pair_summary(p, cfg->report.out, cfg->report.json);
	if (fflush(cfg->report.out) != 0 || ferror(cfg->report.out))
		rc = 1;
out:
	pair_free(p);
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n[s]; i++)
			free(files[s][i].path);
	return rc;
}
