/*
 * live.h - `smtpsleuth live`: libpcap live capture feeding the pipeline.
 * argv[0] is "live". Returns a process exit code (0 ok, 1 runtime error,
 * 2 usage error).
 *
 * The option parser is public so it can be tested without a network.
 */
#ifndef SLEUTH_LIVE_H
#define SLEUTH_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

struct pipeline_config;

#define LIVE_DEFAULT_FILTER      "tcp"
#define LIVE_SNAPLEN             262144
#define LIVE_DEFAULT_BUFFER_MB   64          /* kernel ring; immediate mode uses fixed frames */
#define LIVE_MAX_BUFFER_MB       1024        /* bytes must fit pcap_set_buffer_size's int */
#define LIVE_TICK_MS             200         /* sweep, flush and stop checks */
#define LIVE_DEFAULT_LINGER_MS   300         /* closed flow kept for stray packets */
#define LIVE_BYTES_PER_MB        1000000ULL  /* -C counts in millions of bytes, like tcpdump */

struct live_opts {
	const char *iface;          /* -i, required */
	const char *filter;         /* -f, default LIVE_DEFAULT_FILTER */
	const char *write_path;     /* -w, NULL = do not keep packets */
	uint64_t rotate_bytes;      /* -C MB in bytes; 0 = no rotation */
	unsigned rotate_files;      /* -W N ring size; 0 = unlimited */
	const char *user;           /* -Z, NULL = keep privileges */
	sl_time duration;           /* --duration in ns; 0 = until a signal */
	uint64_t count;             /* -c/--count packets; 0 = unlimited */
	unsigned buffer_mb;         /* -B/--buffer-size */
	bool promisc;               /* --promisc */
	bool help;
	bool version;                  /* -h/--help was given */
	unsigned fanout;            /* --fanout N: N capture processes (0 = one, no fanout) */
	const char *fanout_split;   /* --fanout-split PREFIX: worker K reports to PREFIX.K */
	unsigned fanout_group;      /* PACKET_FANOUT group id (set by live_fanout_fork) */
	unsigned worker;            /* 1..N in a fanout worker, 0 otherwise */
};

#define LIVE_MAX_FANOUT 64

/* Forks the --fanout workers. Returns false in a worker (go on capturing,
 * lo->worker set, stdout redirected to the parent), true in the parent once
 * every worker has ended, with the exit code in *rc. */
bool live_fanout_fork(struct live_opts *lo, const struct pipeline_config *cfg, int *rc);
/* Joins the socket (pcap_fileno() of an activated handle) to the fanout group. */
bool live_fanout_join(int fd, unsigned group, char *err, size_t errlen);

/*
 * Parses argv (argv[0] = "live") into lo and the shared options into cfg
 * (which the caller has set with pipeline_config_default). Also applies the
 * live defaults to cfg (short closed-flow linger, output to stdout).
 * Returns 0 on success (check lo->help), -1 on a usage error with the
 * message in err.
 */
int live_parse_args(int argc, char **argv, struct live_opts *lo, struct pipeline_config *cfg,
		    char *err, size_t errlen);

/* The --help text (without the shared options' part). */
extern const char LIVE_USAGE[];

/* getopt keys of live's long-only options (options.c lists them). */
enum {
	LIVE_OPT_DURATION = 0x2000,
	LIVE_OPT_PROMISC,
	LIVE_OPT_LINGER,
	LIVE_OPT_FANOUT,
	LIVE_OPT_FANOUT_SPLIT,
};

int live_main(int argc, char **argv);

/*
 * The capture loop over an opened, activated, non-blocking handle, with
 * options already parsed: -w rotation, the pipeline, the sweeps, the
 * summary. live_main calls it after opening the interface (and installing
 * the signal handlers); a test or fuzz target may hand it a savefile
 * (pcap_open_offline), whose end stops the loop. Closes pc. 0, or 1 on a
 * runtime error.
 */
struct pcap;
int live_run(struct pcap *pc, const struct live_opts *lo, const struct pipeline_config *cfg);

#endif
