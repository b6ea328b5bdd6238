/*
 * fuzz_options.c - libFuzzer target for option parsing: the option table
 * (analyzer/options.c), getopt over it, live's parser (live_parse_args)
 * and the shared options' values (pipeline_config_option): sizes, times,
 * causes, addresses and blocks, ports, colours, caps.
 *
 * Input: byte 0 picks the command (even: analyze's loop as main.c runs it,
 * odd: live_parse_args); the rest is split at NUL bytes into argv words (at
 * most 64). Usage errors are expected; a crash, a leak or a sanitizer
 * report is not.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "options.h"
#include "pipeline.h"

#define MAX_WORDS 64

static void analyze_args(int argc, char **argv)
{
	struct pipeline_config cfg;
	pipeline_config_default(&cfg);
	struct option longs[OPT_MAX_LONGS];
	char shorts[OPT_MAX_SHORTS], err[512], msg[512];
	if (!opt_getopt(OPT_ANALYZE, longs, SL_ARRAY_LEN(longs), shorts, sizeof(shorts)))
		abort();
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == '?' || c == ':') {
			opt_getopt_error(OPT_ANALYZE, c, argv, msg, sizeof(msg));
			continue;
		}
		char disp[64];
		opt_display(OPT_ANALYZE, c, disp, sizeof(disp));
		if (pipeline_config_option(&cfg, c, optarg, err, sizeof(err)) < 0 && !err[0])
			abort();        /* an invalid value must say why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	char *argv[MAX_WORDS + 2];
	int argc = 0;
	argv[argc++] = (data[0] & 1) ? "live" : "analyze";
	for (char *p = buf; p < buf + size - 1 && argc < MAX_WORDS;) {
		argv[argc++] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
	if (data[0] & 1) {
		struct pipeline_config cfg;
		struct live_opts lo;
		char err[512];
		pipeline_config_default(&cfg);
		if (live_parse_args(argc, argv, &lo, &cfg, err, sizeof(err)) < 0 && !err[0])
			abort();
	} else {
		analyze_args(argc, argv);
	}
	free(buf);
	return 0;
}
