/*
 * main.c - the smtpsleuth command: dispatches to analyze, live, serve and
 * reproduce. `analyze` lives here; the others have their own modules.
 *
 * Exit status: 0 success, 1 runtime error (unreadable file, capture failure),
 * 2 usage error. A file that breaks off mid-way is reported and the sessions
 * read so far still count; the next file is read as usual.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "merge.h"
#include "pipeline.h"
#include "server.h"
#include "source.h"

#ifndef SLEUTH_VERSION
#define SLEUTH_VERSION "dev"
#endif

/* How often (in records) the progress line checks the clock. */
#define PROGRESS_CHECK_RECORDS 65536

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smtpsleuth COMMAND [options]\n"
		"\n"
		"Tells for every SMTP session in a capture why the connection ended.\n"
		"\n"
		"commands:\n"
		"  analyze [options] FILE...     pcap or pcapng files, or - for stdin\n"
		"  live -i IFACE [-f BPF] [options]\n"
		"                                capture live and report sessions as they end\n"
		"  serve [--listen ADDR:PORT] [policy options]\n"
		"                                the bundled SMTP server (127.0.0.1:2525)\n"
		"  reproduce CAUSE -w OUT.pcap   rebuild a case on loopback and capture it\n"
		"  merge [FILE...]               join the --json output of analyze --shard runs\n"
		"\n"
		"'smtpsleuth COMMAND --help' describes a command's options; see also smtpsleuth(1).\n");
}

static void analyze_usage(FILE *f)
{
	fprintf(f, "usage: smtpsleuth analyze [options] FILE...   (- reads stdin)\n\noptions:\n%s"
		"  --shard K/N            analyse only the flows of shard K of N (by a flow hash that does not\n"
		"                         depend on direction); join the N --json outputs with 'smtpsleuth merge'\n"
		"  -h, --help             this text\n", PIPELINE_OPTIONS_HELP);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
	bool on;
	double last;
	bool shown;
};

static void progress_tick(struct progress *pr, const struct pipeline *pl, const char *name)
{
	double now = mono_now();
	if (now - pr->last < 0.5)
		return;
	pr->last = now;
	const struct summary *s = pipeline_summary(pl);
	fprintf(stderr, "\r%s: %llu packets, %.1f MB, %llu SMTP sessions ended   ", name,
		(unsigned long long)s->records, (double)s->bytes_read / 1e6,
		(unsigned long long)s->smtp_sessions);
	pr->shown = true;
}

static void progress_clear(struct progress *pr)
{
	if (pr->shown)
		fprintf(stderr, "\r\033[K");
	pr->shown = false;
}

/* Reads one input into the pipeline. Returns false on an input error. */
static bool analyze_file(struct pipeline *pl, const char *path, struct progress *pr)
{
	char err[512];
	struct source *src = source_open_file(path, err, sizeof(err));
	if (!src) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		pipeline_input_error(pl, err);
		return false;
	}
	pipeline_set_input(pl, strcmp(path, "-") ? path : "(stdin)");
	struct raw_packet raw;
	uint64_t n = 0;
	int r;
	while ((r = source_next(src, &raw, err, sizeof(err))) > 0) {
		pipeline_feed(pl, &raw);
		if (pr->on && ++n % PROGRESS_CHECK_RECORDS == 0)
			progress_tick(pr, pl, path);
	}
	progress_clear(pr);
	source_close(src);
	if (r < 0) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		pipeline_input_error(pl, err);
		return false;
	}
	return true;
}

static int analyze_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		PIPELINE_LONG_OPTIONS,
		{ "shard", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_config cfg;
	char err[512];
	int c;

	pipeline_config_default(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, PIPELINE_SHORT_OPTIONS "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			analyze_usage(stdout);
			return 0;
		}
		if (c == 'S') {
			if (!shard_parse(optarg, &cfg.shard_k, &cfg.shard_n)) {
				fprintf(stderr, "smtpsleuth analyze: --shard: '%s' is not K/N with 1 <= K <= N <= %d\n",
					optarg, PIPELINE_MAX_SHARDS);
				return 2;
			}
			continue;
		}
		int r = pipeline_config_option(&cfg, c, optarg, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "smtpsleuth analyze: %s\n", err);
			return 2;
		}
		if (r == 0) {
			analyze_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "smtpsleuth analyze: no capture file given (use - for stdin)\n");
		analyze_usage(stderr);
		return 2;
	}

	struct pipeline *pl = pipeline_new(&cfg, err, sizeof(err));
	if (!pl) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		return 1;
	}
	struct progress pr = { .on = isatty(STDERR_FILENO) && !cfg.report.json, .last = mono_now() };
	bool ok = true;
	for (int i = optind; i < argc; i++)
		ok &= analyze_file(pl, argv[i], &pr);
	pipeline_finish(pl);
	pipeline_free(pl);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "analyze"))
		return analyze_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "live"))
		return live_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return serve_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "reproduce"))
		return reproduce_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "merge"))
		return merge_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("smtpsleuth %s\n", SLEUTH_VERSION);
		return 0;
	}
	fprintf(stderr, "smtpsleuth: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
