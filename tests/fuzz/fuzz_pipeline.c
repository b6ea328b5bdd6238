/*
 * fuzz_pipeline.c - libFuzzer target for the whole analysis: a capture file
 * (pcap or pcapng bytes) read through the real source and fed to the
 * pipeline with every reporter on (JSON, transcript, ladder, HTML) and extraction to a
 * scratch directory, so the glue, the SMTP and TLS dissectors, the diagnosis
 * and the reporters all see hostile input together.
 *
 * The nDPI module is set up per input (pipeline_new), which makes this target
 * slow (a few hundred runs a second); fuzz_engine and fuzz_smtp cover their
 * stages faster. Output goes to /dev/null; extracted files are removed.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pipeline.h"
#include "source.h"

static FILE *devnull;
static char xdir[64];

static void clean_xdir(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/*", xdir);
	if (system(cmd) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		snprintf(xdir, sizeof(xdir), "/tmp/fuzz-pipeline-XXXXXX");
		if (!devnull || !mkdtemp(xdir))
			abort();
	}
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct source *src = source_open_file(path, err, sizeof(err));
	if (src) {
		struct pipeline_config cfg;
		pipeline_config_default(&cfg);
		cfg.report.out = devnull;
		cfg.report.color = false;
		/* Alternate the reporters by the input's size so both paths run. */
		cfg.report.json = size & 1;
		cfg.report.transcript = !(size & 1);
		cfg.report.ladder = (size & 4) != 0;
		cfg.report.html = devnull;
		cfg.extract_dir = (size & 2) ? xdir : NULL;
		cfg.engine.max_flows = 64;
		struct pipeline *p = pipeline_new(&cfg, err, sizeof(err));
		if (p) {
			pipeline_set_input(p, source_name(src));
			struct raw_packet r;
			int rc;
			while ((rc = source_next(src, &r, err, sizeof(err))) == 1)
				pipeline_feed(p, &r);
			if (rc < 0)
				pipeline_input_error(p, err);
			pipeline_finish(p);
			pipeline_free(p);
		}
		source_close(src);
		if (cfg.extract_dir)
			clean_xdir();
	}
	close(fd);
	return 0;
}
