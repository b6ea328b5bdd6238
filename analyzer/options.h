/*
 * options.h - the command line of every smtpsleuth command, as data.
 *
 * One table (options.c) lists each option once: long name, short letter,
 * the value it takes, the commands it belongs to, and its help line. The
 * table feeds `--help` (on stdout), the getopt_long arrays of analyze and
 * live, the names in usage errors, and a test that compares it with the man
 * page (tests/check_options.c), so the three cannot drift. serve's options
 * are parsed by the server's policy module; their rows here give its help
 * and are checked against that parser by the same test.
 *
 * Adding an option: add a row (and, for analyze/live, a case where the
 * command handles its key), and a line in docs/smtpsleuth.1.
 */
#ifndef SLEUTH_OPTIONS_H
#define SLEUTH_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

#include "common.h"

/* Commands, as bits of opt_def.cmds. */
#define OPT_ANALYZE   (1u << 0)
#define OPT_LIVE      (1u << 1)
#define OPT_SERVE     (1u << 2)
#define OPT_REPRODUCE (1u << 3)
#define OPT_PIPELINE  (OPT_ANALYZE | OPT_LIVE)      /* shared by analyze and live */
#define OPT_ALL       (OPT_ANALYZE | OPT_LIVE | OPT_SERVE | OPT_REPRODUCE)

/* Keys of options without a short letter that a command's own parser
 * handles (pipeline.h and live.h have theirs). */
enum {
	OPT_KEY_PROGRESS = 0x3000,
	OPT_KEY_NO_PROGRESS,
	OPT_KEY_SINCE,
	OPT_KEY_UNTIL,
	OPT_KEY_HTML,
	OPT_KEY_LADDER,
	OPT_KEY_PAIR,
	OPT_KEY_SHARD,
	OPT_KEY_OTHER,          /* parsed elsewhere (serve, reproduce) */
};

/* Room for one command's getopt arrays. */
#define OPT_MAX_LONGS  128
#define OPT_MAX_SHORTS 128

struct opt_def {
	const char *name;       /* long name without "--"; NULL when short only */
	char shortname;         /* 0 when long only */
	int key;                /* getopt_long's val (the short letter when there is one) */
	const char *arg;        /* metavariable of the value; NULL when it takes none */
	unsigned cmds;          /* OPT_* bits */
	const char *help;       /* one line */
};

extern const struct opt_def opt_table[];
extern const size_t opt_table_len;

/* The command's bit for its name ("analyze", ...), 0 when unknown. */
unsigned opt_cmd(const char *name);
const char *opt_cmd_name(unsigned cmd);

/* Builds getopt_long's arrays for a command (terminated; shorts starts
 * with "+:" so parsing stops at the first file name and a missing value is
 * reported as ':'). false when the arrays are too small. */
bool opt_getopt(unsigned cmd, struct option *longs, size_t nlongs, char *shorts, size_t nshorts);

/* `COMMAND --help`: the usage line, what the command does, its options. */
void opt_help(FILE *f, unsigned cmd);

/* How the user wrote the option with this key: "-f", "--json". */
const char *opt_display(unsigned cmd, int key, char *buf, size_t len);

/* A usage error: "smtpsleuth: CMD: MESSAGE; see 'smtpsleuth CMD --help'"
 * on stderr. Returns 2 (the exit status for usage errors). */
int opt_usage_error(unsigned cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message for getopt's '?' or ':' (unknown option, missing value). */
void opt_getopt_error(unsigned cmd, int c, char *const *argv, char *buf, size_t len);

#endif
