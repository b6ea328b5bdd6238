/*
 * main.c - the smtpsleuth command: dispatches to analyze, live, serve and
 * reproduce. `analyze` lives here; the others have their own modules.
 *
 * Exit status: 0 success, 1 runtime error (unreadable file, capture failure),
 * 2 usage error. A file that breaks off mid-way is reported and the sessions
 * read so far still count; the next file is read as usual.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "filter.h"
#include "merge.h"
#include "pipeline.h"
#include "server.h"

#ifndef SLEUTH_VERSION
#define SLEUTH_VERSION "dev"
#endif

/* How often (in records) the progress line checks the clock. */
#define PROGRESS_CHECK_RECORDS 4096
#define PROGRESS_INTERVAL_S    0.5

/* SIGINT/SIGTERM: set by the handler, read by the loop. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* The first SIGINT or SIGTERM stops reading; the open sessions are then
 * reported and the summary printed. SA_RESTART is left out on purpose: a
 * read blocked on stdin returns EINTR instead of waiting for more packets.
 * SA_RESETHAND: a second signal kills as usual, should finishing hang. */
static void install_stop_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

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
		"\n"
		"'smtpsleuth COMMAND --help' describes a command's options; see also smtpsleuth(1).\n");
}

static void analyze_usage(FILE *f)
{
	fprintf(f, "usage: smtpsleuth analyze [options] FILE...   (- reads stdin)\n\noptions:\n%s"
		"  --progress             a progress line on stderr (default: when stderr is a terminal\n"
		"                         and the inputs are files)\n"
		"  --no-progress          no progress line\n"
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
	double start, last;
	bool shown;
};

static void progress_tick(struct progress *pr, const struct pipeline *pl, const struct merge *m)
{
	double now = mono_now();
	if (now - pr->last < PROGRESS_INTERVAL_S)
		return;
	pr->last = now;
	uint64_t done, total;
	merge_progress(m, &done, &total);
	const struct summary *s = pipeline_summary(pl);
	double el = now - pr->start > 0.001 ? now - pr->start : 0.001;
	if (total)
		fprintf(stderr, "\rsmtpsleuth: %.1f/%.1f MB (%.0f%%), %" PRIu64 " SMTP session%s, %.1f MB/s   ",
			(double)done / 1e6, (double)total / 1e6, 100.0 * (double)done / (double)total,
			s->smtp_sessions, s->smtp_sessions == 1 ? "" : "s", (double)done / 1e6 / el);
	else
		fprintf(stderr, "\rsmtpsleuth: %.1f MB, %" PRIu64 " SMTP session%s, %.1f MB/s   ",
			(double)s->bytes_read / 1e6, s->smtp_sessions, s->smtp_sessions == 1 ? "" : "s",
			(double)s->bytes_read / 1e6 / el);
	pr->shown = true;
}

static void progress_clear(struct progress *pr)
{
	if (pr->shown)
		fprintf(stderr, "\r\033[K");
	pr->shown = false;
}

static void on_input_error(void *ctx, int file, sl_time last_ts, const char *msg)
{
	if (stop_signal)
		return;         /* a read the signal interrupted, not damage */
	fprintf(stderr, "smtpsleuth: %s\n", msg);
	pipeline_input_cut(ctx, file, last_ts, msg);
}

/* What `analyze` reads of its inputs (beyond the pipeline's options). */
struct analyze_opts {
	const char *bpf;            /* -f: records the expression rejects are skipped */
	sl_time since, until;       /* --since/--until; 0 = open */
	uint64_t count;             /* -c: stop after this many records analysed; 0 = all */
	int progress;               /* 1 on, 0 off, -1 auto */
};

/* A BPF syntax error is a usage error: checked once against Ethernet before
 * any file is read (each file compiles it again for its own link type). */
static bool bpf_check(const char *expr, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;
	if (!dead) {
		snprintf(err, errlen, "cannot compile filters");
		return false;
	}
	bool ok = pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (ok)
		pcap_freecode(&prog);
	else
		snprintf(err, errlen, "-f '%s': %s", expr, pcap_geterr(dead));
	pcap_close(dead);
	return ok;
}

/* Reads every input, merged by time, into the pipeline: the records the
 * filter and the time window let through, up to -c of them. progress: 1 on,
 * 0 off, -1 auto (stderr is a TTY and every input a regular file). Returns
 * false when an input could not be read to its end. */
static bool analyze_inputs(struct pipeline *pl, char *const *paths, size_t n, const struct analyze_opts *ao)
{
	char err[512];
	int progress = ao->progress;
	struct merge *m = merge_open(paths, n, ao->bpf, on_input_error, pl, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		pipeline_input_error(pl, err);
		return false;
	}
	merge_set_stop_flag(m, &stop_signal);
	pipeline_set_files(pl, merge_file_names(m), merge_files(m));
	uint64_t done, total;
	merge_progress(m, &done, &total);
	struct progress pr = { .on = progress > 0 || (progress < 0 && total && isatty(STDERR_FILENO)) };
	pr.start = pr.last = mono_now();
	struct raw_packet raw;
	uint64_t k = 0, fed = 0;
	while (merge_next(m, &raw) > 0) {
		if (ao->since && raw.ts < ao->since)
			continue;
		/* The merge delivers in time order: past --until, nothing more
		 * is wanted (a record out of order in one file is the exception
		 * mergecap makes too). */
		if (ao->until && raw.ts > ao->until)
			break;
		pipeline_feed(pl, &raw);
		if (ao->count && ++fed >= ao->count)
			break;
		if (pr.on && ++k % PROGRESS_CHECK_RECORDS == 0)
			progress_tick(&pr, pl, m);
	}
	progress_clear(&pr);
	bool ok = merge_failed(m) == 0;
	if (stop_signal)
		pipeline_interrupt(pl, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	pipeline_finish(pl);
	merge_close(m);
	return ok;
}

static int analyze_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		PIPELINE_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'N' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_config cfg;
	char err[512];
	int c;
	struct analyze_opts ao = { .progress = -1 };

	pipeline_config_default(&cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, PIPELINE_SHORT_OPTIONS "hf:c:", longopts, NULL)) != -1) {
		if (c == 'h') {
			analyze_usage(stdout);
			return 0;
		}
		if (c == 'P' || c == 'N') {
			ao.progress = c == 'P';
			continue;
		}
		if (c == 'S' || c == 'U') {
			if (!time_parse(optarg, c == 'S' ? &ao.since : &ao.until)) {
				fprintf(stderr, "smtpsleuth analyze: --%s: '%s' is not a time (ISO 8601 like 2024-05-01T10:00:00Z, or epoch seconds)\n",
					c == 'S' ? "since" : "until", optarg);
				return 2;
			}
			continue;
		}
		if (c == 'f') {
			if (!bpf_check(optarg, err, sizeof(err))) {
				fprintf(stderr, "smtpsleuth analyze: %s\n", err);
				return 2;
			}
			ao.bpf = optarg;
			continue;
		}
		if (c == 'c') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || optarg[0] == '-') {
				fprintf(stderr, "smtpsleuth analyze: -c: '%s' is not a positive number of packets\n", optarg);
				return 2;
			}
			ao.count = v;
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
	install_stop_handlers();
	bool ok = analyze_inputs(pl, argv + optind, (size_t)(argc - optind), &ao);
	pipeline_free(pl);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	/* Stopped by a signal: the output is complete for what was read; the
	 * status says how it ended, as a shell reports a killed command. */
	if (stop_signal)
		return 128 + stop_signal;
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
