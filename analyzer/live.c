/*
 * live.c - `smtpsleuth live -i IFACE [-f BPF] [options]`: capture from an
 * interface with libpcap and give each SMTP session its verdict as soon as
 * the session ends.
 *
 * Shape: open and activate the handle (immediate mode, big ring, nanosecond
 * stamps), set the filter, open the -w file, drop privileges, then one loop:
 * poll() on the handle's selectable fd with a LIVE_TICK_MS timeout; read
 * whatever is queued with pcap_dispatch() in non-blocking mode, feeding the
 * pipeline record by record (and the -w writer); on every tick sweep the
 * pipeline with the wall clock so closed and idle flows end even when no
 * packet comes, flush the -w file and stdout. SIGINT/SIGTERM only set a
 * flag; the loop sees it after poll() returns EINTR (or at the next tick),
 * ends every open session with its honest verdict (pipeline_finish) and
 * exits 0.
 *
 * Time: packets carry the kernel's CLOCK_REALTIME stamp, so the sweep's "now"
 * is CLOCK_REALTIME in ns, never earlier than the newest packet seen (a clock
 * step backwards must not make time run back for the engine).
 *
 * The engine's closed-flow linger is shortened for live use (default 300 ms
 * instead of the offline 5 s) so a verdict appears within a second of the
 * session's last packet; it only decides how long stray packets after both
 * FINs or a RST are still attributed to the old flow.
 */
#include "live.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <math.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "packet.h"
#include "pcap_rotate.h"
#include "numparse.h"
#include "options.h"
#include "pipeline.h"

const char LIVE_USAGE[] =
	"usage: smtpsleuth live -i IFACE [-f BPF] [options]\n"
	"\n"
	"Captures from IFACE (\"any\" for all interfaces) and prints a verdict for\n"
	"each SMTP session as soon as it ends. Stop with Ctrl-C (SIGINT) or SIGTERM:\n"
	"open sessions then get their verdict and the summary is printed.\n"
	"\n"
	"capture options:\n"
	"  -i, --interface IFACE   interface to capture on (required)\n"
	"  -f, --filter BPF        capture filter (default \"tcp\": SMTP on any port)\n"
	"  -w, --write FILE        also keep the raw packets in FILE (pcap, nanosecond\n"
	"                          stamps) for a later `smtpsleuth analyze FILE`\n"
	"  -C, --file-size MB      with -w: start a new file when this one would pass\n"
	"                          MB million bytes; files are FILE, FILE.1, FILE.2, ...\n"
	"  -W, --file-count N      with -C: keep at most N files, reusing FILE, FILE.1,\n"
	"                          ... FILE.(N-1) in a ring\n"
	"  -Z, --user USER         after opening the interface and FILE, drop root\n"
	"                          privileges to USER (and its groups); FILE is given\n"
	"                          to USER, whose rights the later files are made with\n"
	"  -c, --count N           stop after N packets\n"
	"      --duration SECONDS  stop after SECONDS\n"
	"  -B, --buffer-size MB    kernel capture buffer (default 64)\n"
	"      --promisc           put the interface in promiscuous mode\n"
	"      --linger SECONDS    keep a closed flow this long for stray packets\n"
	"                          before its verdict (default 0.3)\n"
	"      --fanout N          N capture processes (2..64) sharing the packets by\n"
	"                          flow (Linux PACKET_FANOUT, hash mode); their reports\n"
	"                          are written to stdout record by record, one summary\n"
	"                          (--json); -w FILE becomes FILE-K per process\n"
	"      --fanout-split PFX  with --fanout: process K writes its report to PFX.K\n"
	"  -h, --help              this text\n";


/* ---- option parsing ---- */

static const char *opt_name(int c, char *buf, size_t len)
{
	return opt_display(OPT_LIVE, c, buf, len);
}

int live_parse_args(int argc, char **argv, struct live_opts *lo, struct pipeline_config *cfg,
		    char *err, size_t errlen)
{
	memset(lo, 0, sizeof(*lo));
	lo->filter = LIVE_DEFAULT_FILTER;
	lo->buffer_mb = LIVE_DEFAULT_BUFFER_MB;
	cfg->engine.closed_linger = LIVE_DEFAULT_LINGER_MS * NS_PER_MS;
	cfg->report.out = stdout;
	cfg->progress = false;

	struct option live_long_options[OPT_MAX_LONGS];
	char shortopts[OPT_MAX_SHORTS];
	if (!opt_getopt(OPT_LIVE, live_long_options, SL_ARRAY_LEN(live_long_options), shortopts, sizeof(shortopts))) {
		snprintf(err, errlen, "option table too large");
		return -1;
	}
	optind = 0;     /* glibc: full reset, so the parser can run more than once */
	opterr = 0;
	char name[48];
	int c;
	while ((c = getopt_long(argc, argv, shortopts, live_long_options, NULL)) != -1) {
		double d;
		uint64_t n;
		switch (c) {
		case 'i':
			lo->iface = optarg;
			break;
		case 'f':
			lo->filter = optarg;
			break;
		case 'w':
			if (!strcmp(optarg, "-") || !*optarg) {
				snprintf(err, errlen, "-w needs a file name (stdout carries the report)");
				return -1;
			}
			lo->write_path = optarg;
			break;
		case 'C':
			if (!sl_parse_number(optarg, 1e9, &d) || d * LIVE_BYTES_PER_MB < 4096) {
				snprintf(err, errlen, "-C: bad file size '%s' (million bytes, at least 0.004096)", optarg);
				return -1;
			}
			lo->rotate_bytes = (uint64_t)(d * LIVE_BYTES_PER_MB);
			break;
		case 'W':
			if (!sl_parse_uint(optarg, PCAP_ROTATE_MAX_FILES, &n) || n < 2) {
				snprintf(err, errlen, "-W: bad file count '%s' (2..%u)", optarg, PCAP_ROTATE_MAX_FILES);
				return -1;
			}
			lo->rotate_files = (unsigned)n;
			break;
		case 'Z':
			if (!*optarg) {
				snprintf(err, errlen, "-Z needs a user name");
				return -1;
			}
			lo->user = optarg;
			break;
		case 'c':
			if (!sl_parse_uint(optarg, UINT64_MAX, &n) || n == 0) {
				snprintf(err, errlen, "--count: bad packet count '%s'", optarg);
				return -1;
			}
			lo->count = n;
			break;
		case LIVE_OPT_DURATION:
			/* at most ~30 years so the ns value cannot overflow */
			if (!sl_parse_number(optarg, 1e9, &d) || d <= 0) {
				snprintf(err, errlen, "--duration: bad number of seconds '%s'", optarg);
				return -1;
			}
			lo->duration = (sl_time)(d * (double)NS_PER_SEC);
			if (lo->duration < 1)
				lo->duration = 1;
			break;
		case 'B':
			if (!sl_parse_uint(optarg, LIVE_MAX_BUFFER_MB, &n) || n == 0) {
				snprintf(err, errlen, "-B: bad buffer size '%s' (1..%u MB)", optarg, LIVE_MAX_BUFFER_MB);
				return -1;
			}
			lo->buffer_mb = (unsigned)n;
			break;
		case LIVE_OPT_PROMISC:
			lo->promisc = true;
			break;
		case LIVE_OPT_LINGER:
			if (!strcmp(optarg, "0")) {
				cfg->engine.closed_linger = 0;
				break;
			}
			if (!sl_parse_number(optarg, 3600, &d) || d <= 0) {
				snprintf(err, errlen, "--linger: bad number of seconds '%s'", optarg);
				return -1;
			}
			cfg->engine.closed_linger = (sl_time)(d * (double)NS_PER_SEC);
			break;
		case LIVE_OPT_FANOUT:
			if (!sl_parse_uint(optarg, LIVE_MAX_FANOUT, &n) || n < 2) {
				snprintf(err, errlen, "--fanout: bad process count '%s' (2..%u)", optarg, LIVE_MAX_FANOUT);
				return -1;
			}
			lo->fanout = (unsigned)n;
			break;
		case LIVE_OPT_FANOUT_SPLIT:
			if (!*optarg) {
				snprintf(err, errlen, "--fanout-split needs a file name prefix");
				return -1;
			}
			lo->fanout_split = optarg;
			break;
		case 'h':
			lo->help = true;
			return 0;
		case 'V':
			lo->version = true;
			return 0;
		case ':':
		case '?':
			opt_getopt_error(OPT_LIVE, c, argv, err, errlen);
			return -1;
		default: {
			int r = pipeline_config_option(cfg, c, optarg, err, errlen);
			if (r < 0)
				return -1;
			if (r == 0) {
				snprintf(err, errlen, "option %s is not valid for live",
					 opt_name(c, name, sizeof(name)));
				return -1;
			}
			break;
		}
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (the filter goes after -f)", argv[optind]);
		return -1;
	}
	if (!lo->iface) {
		snprintf(err, errlen, "-i IFACE is required (\"any\" for all interfaces)");
		return -1;
	}
	if ((lo->rotate_bytes || lo->rotate_files) && !lo->write_path) {
		snprintf(err, errlen, "-C and -W need -w FILE");
		return -1;
	}
	if (lo->rotate_files && !lo->rotate_bytes) {
		snprintf(err, errlen, "-W needs -C MB");
		return -1;
	}
	if (lo->fanout_split && !lo->fanout) {
		snprintf(err, errlen, "--fanout-split needs --fanout N");
		return -1;
	}
	/* The report goes to stdout; --extract writes files and is fine. */
	cfg->report.out = stdout;
	return 0;
}

/* ---- signals ---- */

static volatile sig_atomic_t live_stop_signal;

static void on_stop_signal(int sig)
{
	live_stop_signal = sig;
}

static int install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() must return EINTR. SA_RESETHAND: a second
	 * Ctrl-C while the summary is being written ends the process at once. */
	sa.sa_flags = SA_RESETHAND;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	/* A closed reader of stdout (live | head) must not kill us mid-summary
	 * before the -w file is flushed; writes then fail with EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- privileges ---- */

/*
 * Becomes USER for good: supplementary groups, gid, uid, in that order (once
 * the uid is gone the others cannot be changed), then checks that root
 * cannot be regained. The -w file opened as root is first given to USER, so
 * a ring (-W) can reopen it after the drop.
 */
static int drop_privileges(const char *user, const char *write_path, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "-Z: no such user: %s", user);
		return -1;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (geteuid() != 0) {
		if (getuid() == uid && geteuid() == uid)
			return 0;   /* already that user (e.g. running with file capabilities) */
		snprintf(err, errlen, "-Z %s: only root can change user", user);
		return -1;
	}
	if (write_path && chown(write_path, uid, gid) < 0) {
		snprintf(err, errlen, "-Z %s: cannot give %s to the user: %s", user, write_path,
			 strerror(errno));
		return -1;
	}
	if (initgroups(pw->pw_name, gid) < 0) {
		snprintf(err, errlen, "-Z %s: initgroups: %s", user, strerror(errno));
		return -1;
	}
	if (setgid(gid) < 0) {
		snprintf(err, errlen, "-Z %s: setgid: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(uid) < 0) {
		snprintf(err, errlen, "-Z %s: setuid: %s", user, strerror(errno));
		return -1;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
		snprintf(err, errlen, "-Z %s: ids did not change as asked", user);
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "-Z %s: root privileges could be regained", user);
		return -1;
	}
	return 0;
}

/* ---- capture ---- */

struct live_ctx {
	struct pipeline *p;
	struct pcap_rotate *w;
	pcap_t *pc;
	int linktype;
	bool nano;
	uint64_t frames;
	uint64_t limit;         /* --count, 0 = none */
	sl_time last_ts;
	bool write_failed;
	char werr[512];
};

static sl_time wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (sl_time)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct live_ctx *lc = (struct live_ctx *)user;
	if (lc->w && !lc->write_failed &&
	    pcap_rotate_write(lc->w, h, bytes, lc->werr, sizeof(lc->werr)) < 0)
		lc->write_failed = true;

	struct raw_packet raw = {
		.frame = ++lc->frames,
		.ts = (sl_time)h->ts.tv_sec * NS_PER_SEC +
		      (sl_time)h->ts.tv_usec * (lc->nano ? 1 : NS_PER_USEC),
		.caplen = h->caplen,
		.wirelen = h->len,
		.linktype = lc->linktype,
		.data = bytes,
	};
	if (raw.ts > lc->last_ts)
		lc->last_ts = raw.ts;
	pipeline_feed(lc->p, &raw);
	if (lc->limit && lc->frames >= lc->limit)
		pcap_breakloop(lc->pc);
}

/* Opens and activates IFACE. Prints and returns NULL on failure (*rc set). */
static pcap_t *open_interface(const struct live_opts *lo, int *rc)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc = pcap_create(lo->iface, eb);
	if (!pc) {
		fprintf(stderr, "smtpsleuth live: %s: %s\n", lo->iface, eb);
		*rc = 1;
		return NULL;
	}
	/* These setters only fail on an activated handle, which this is not,
	 * except the precision, which a platform may not offer: the precision
	 * actually in force is read back after activation. */
	pcap_set_snaplen(pc, LIVE_SNAPLEN);
	pcap_set_promisc(pc, lo->promisc);
	pcap_set_timeout(pc, LIVE_TICK_MS);
	pcap_set_immediate_mode(pc, 1);
	pcap_set_buffer_size(pc, (int)(lo->buffer_mb << 20));
	pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_NANO);

	int r = pcap_activate(pc);
	if (r < 0) {
		const char *why = pcap_geterr(pc);
		switch (r) {
		case PCAP_ERROR_NO_SUCH_DEVICE:
			fprintf(stderr, "smtpsleuth live: no such interface: %s\n", lo->iface);
			break;
		case PCAP_ERROR_PERM_DENIED:
			fprintf(stderr, "smtpsleuth live: %s: permission denied: capturing needs root or "
				"the CAP_NET_RAW capability (%s)\n", lo->iface, why);
			break;
		case PCAP_ERROR_IFACE_NOT_UP:
			fprintf(stderr, "smtpsleuth live: %s: interface is not up\n", lo->iface);
			break;
		case PCAP_ERROR_PROMISC_PERM_DENIED:
			fprintf(stderr, "smtpsleuth live: %s: promiscuous mode not permitted "
				"(try without --promisc)\n", lo->iface);
			break;
		default:
			fprintf(stderr, "smtpsleuth live: %s: %s\n", lo->iface,
				why && *why ? why : pcap_statustostr(r));
			break;
		}
		pcap_close(pc);
		*rc = 1;
		return NULL;
	}
	if (r > 0) {
		const char *why = pcap_geterr(pc);
		fprintf(stderr, "smtpsleuth live: warning: %s: %s%s%s\n", lo->iface, pcap_statustostr(r),
			why && *why ? ": " : "", why && *why ? why : "");
	}
	return pc;
}

/* Compiles and sets the filter. Prints and returns -1 on failure. */
static int set_filter(pcap_t *pc, const char *filter)
{
	struct bpf_program prog;
	if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		fprintf(stderr, "smtpsleuth live: bad filter \"%s\": %s\n", filter, pcap_geterr(pc));
		return -1;
	}
	int r = pcap_setfilter(pc, &prog);
	pcap_freecode(&prog);
	if (r < 0) {
		fprintf(stderr, "smtpsleuth live: cannot set filter \"%s\": %s\n", filter, pcap_geterr(pc));
		return -1;
	}
	return 0;
}

static void report_write_failure(struct live_ctx *lc)
{
	fprintf(stderr, "smtpsleuth live: %s; no more packets are kept (analysis goes on)\n", lc->werr);
	pcap_rotate_close(lc->w, lc->werr, sizeof(lc->werr));
	lc->w = NULL;
}

/* Pushes the report out; false when stdout is gone (reader closed the pipe,
 * disk full): capturing on would only lose the verdicts. */
static bool flush_report(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return true;
	fprintf(stderr, "smtpsleuth live: cannot write the report: %s; stopping\n", strerror(errno));
	return false;
}

/* Runs the capture loop until a signal, a limit or an error. 0 or 1. */
static int capture_loop(struct live_ctx *lc, const struct live_opts *lo)
{
	int fd = pcap_get_selectable_fd(lc->pc);
	if (fd < 0) {
		fprintf(stderr, "smtpsleuth live: %s: no selectable descriptor\n", lo->iface);
		return 1;
	}
	sl_time start = sl_mono_ns();
	sl_time next_tick = start + LIVE_TICK_MS * NS_PER_MS;
	int rc = 0;
	bool write_reported = false;

	while (!live_stop_signal) {
		sl_time now = sl_mono_ns();
		if (lo->duration && now - start >= lo->duration)
			break;
		sl_time wait = next_tick - now;
		if (lo->duration && start + lo->duration - now < wait)
			wait = start + lo->duration - now;
		int timeout_ms = wait <= 0 ? 0 : (int)((wait + NS_PER_MS - 1) / NS_PER_MS);

		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr < 0 && errno != EINTR) {
			fprintf(stderr, "smtpsleuth live: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (pr > 0) {
			int budget = -1;
			if (lc->limit) {
				uint64_t left = lc->limit - lc->frames;
				budget = left > (uint64_t)INT32_MAX ? -1 : (int)left;
			}
			int n = pcap_dispatch(lc->pc, budget, on_packet, (u_char *)lc);
			if (n == 0 && pcap_file(lc->pc))
				break;  /* a savefile (live_run from a test or fuzzer) ended */
			if (n < 0 && n != PCAP_ERROR_BREAK) {
				fprintf(stderr, "smtpsleuth live: %s: %s\n", lo->iface, pcap_geterr(lc->pc));
				rc = 1;
				break;
			}
			/* Sessions that ended on these packets have been reported. */
			if (!flush_report()) {
				rc = 1;
				break;
			}
		}
		if (lc->write_failed && !write_reported) {
			report_write_failure(lc);
			write_reported = true;
			rc = 1;
		}
		if (lc->limit && lc->frames >= lc->limit)
			break;

		now = sl_mono_ns();
		if (now >= next_tick) {
			sl_time t = wall_now();
			pipeline_sweep(lc->p, t > lc->last_ts ? t : lc->last_ts);
			if (!flush_report()) {
				rc = 1;
				break;
			}
			if (lc->w && pcap_rotate_flush(lc->w, lc->werr, sizeof(lc->werr)) < 0) {
				lc->write_failed = true;
				report_write_failure(lc);
				write_reported = true;
				rc = 1;
			}
			next_tick = now + LIVE_TICK_MS * NS_PER_MS;
		}
	}
	return rc;
}

int live_main(int argc, char **argv)
{
	struct pipeline_config cfg;
	struct live_opts lo;
	char err[512] = "";

	pipeline_config_default(&cfg);
	if (live_parse_args(argc, argv, &lo, &cfg, err, sizeof(err)) < 0)
		return opt_usage_error(OPT_LIVE, "%s", err);
	if (lo.help) {
		opt_help(stdout, OPT_LIVE);
		return 0;
	}
	if (lo.version) {
		printf("smtpsleuth %s\n", SLEUTH_VERSION);
		return 0;
	}

	char wpath[4096];
	if (lo.fanout) {
		int frc;
		if (live_fanout_fork(&lo, &cfg, &frc))
			return frc;
		/* a worker: its own -w file */
		if (lo.write_path) {
			snprintf(wpath, sizeof(wpath), "%s-%u", lo.write_path, lo.worker);
			lo.write_path = wpath;
		}
	}

	/* Caught from here on: a signal during start-up still ends with a
	 * summary and exit 0 (the loop sees the flag at once). */
	if (install_signals() < 0) {
		fprintf(stderr, "smtpsleuth live: sigaction: %s\n", strerror(errno));
		return 1;
	}
	int rc = 0;
	pcap_t *pc = open_interface(&lo, &rc);
	if (!pc)
		return rc;
	if (set_filter(pc, lo.filter) < 0) {
		pcap_close(pc);
		return 2;
	}
	if (lo.fanout && !live_fanout_join(pcap_fileno(pc), lo.fanout_group, err, sizeof(err))) {
		fprintf(stderr, "smtpsleuth live: %s: %s\n", lo.iface, err);
		pcap_close(pc);
		return 1;
	}
	char eb[PCAP_ERRBUF_SIZE];
	if (pcap_setnonblock(pc, 1, eb) < 0) {
		fprintf(stderr, "smtpsleuth live: %s: %s\n", lo.iface, eb);
		pcap_close(pc);
		return 1;
	}
	return live_run(pc, &lo, &cfg);
}

int live_run(pcap_t *pc, const struct live_opts *lo_in, const struct pipeline_config *cfg_in)
{
	struct live_opts lo = *lo_in;
	struct pipeline_config cfg = *cfg_in;
	char err[512] = "";
	int rc;
	struct live_ctx lc = {
		.pc = pc,
		.linktype = pcap_datalink(pc),
		.nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO,
		.limit = lo.count,
	};
	if (!decode_link_supported(lc.linktype)) {
		const char *n = pcap_datalink_val_to_name(lc.linktype);
		fprintf(stderr, "smtpsleuth live: %s: link type %d (%s) is not supported; smtpsleuth reads %s\n",
			lo.iface, lc.linktype, n ? n : "unknown", DECODE_SUPPORTED_LINKS);
		pcap_close(pc);
		return 1;
	}
	if (lo.write_path) {
		lc.w = pcap_rotate_open(pc, lo.write_path, lo.rotate_bytes, lo.rotate_files,
					err, sizeof(err));
		if (!lc.w) {
			fprintf(stderr, "smtpsleuth live: -w: %s\n", err);
			pcap_close(pc);
			return 1;
		}
	}
	if (lo.user && drop_privileges(lo.user, lo.write_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "smtpsleuth live: %s\n", err);
		pcap_rotate_close(lc.w, err, sizeof(err));
		pcap_close(pc);
		return 1;
	}

	lc.p = pipeline_new(&cfg, err, sizeof(err));
	if (!lc.p) {
		fprintf(stderr, "smtpsleuth live: %s\n", err);
		pcap_rotate_close(lc.w, err, sizeof(err));
		pcap_close(pc);
		return 1;
	}
	pipeline_set_input(lc.p, lo.iface);
	const char *dlt = pcap_datalink_val_to_name(lc.linktype);
	char who[32] = "";
	if (lo.worker)
		snprintf(who, sizeof(who), " [%u/%u]", lo.worker, lo.fanout);
	fprintf(stderr, "smtpsleuth live%s: capturing on %s (%s), filter \"%s\"%s%s\n", who, lo.iface,
		dlt ? dlt : "?", lo.filter, lo.write_path ? ", writing " : "",
		lo.write_path ? lo.write_path : "");
	rc = capture_loop(&lc, &lo);

	struct pcap_stat st;
	bool have_stats = pcap_stats(pc, &st) == 0;
	if (have_stats)
		pipeline_set_kernel_drops(lc.p, st.ps_drop);
	pipeline_finish(lc.p);
	fflush(stdout);
	const struct summary *sum = pipeline_summary(lc.p);
	if (sum->extract_errors) {
		fprintf(stderr, "smtpsleuth live: --extract: %llu file%s refused or not fully written (first: %s)\n",
			(unsigned long long)sum->extract_errors, sum->extract_errors == 1 ? "" : "s",
			sum->extract_error);
		rc = 1;
	}
	if (lc.w && pcap_rotate_close(lc.w, err, sizeof(err)) < 0) {
		fprintf(stderr, "smtpsleuth live: %s\n", err);
		rc = 1;
	}
	/* ps_recv counts each packet twice on lo (outgoing copy), so it is not
	 * shown; the packets delivered to us are counted here. */
	if (have_stats)
		fprintf(stderr, "smtpsleuth live%s: %llu packets captured, %u dropped by the kernel\n", who,
			(unsigned long long)lc.frames, st.ps_drop);
	else
		fprintf(stderr, "smtpsleuth live%s: %llu packets captured\n", who, (unsigned long long)lc.frames);
	pipeline_free(lc.p);
	pcap_close(pc);
	return rc;
}
