/*
 * fuzz_live.c - libFuzzer target for `live`'s loop (analyzer/live.c
 * live_run) over a pcap-file source: the same poll/dispatch/sweep loop,
 * -w rotation and pipeline a live capture runs, fed from a savefile of
 * hostile bytes (pcap or pcapng) instead of an interface.
 *
 * The input's size picks the options: bit 0 writes -w with rotation (-C
 * of about a kilobyte, -W 3) to a scratch directory, bit 1 --json with
 * --transcript, bit 2 --count 5. Caps are small (64 flows, 4 MiB memory
 * cap), one nDPI classifier for the whole run. The report goes to stdout,
 * which the target points at /dev/null; live's start and end lines go to
 * stderr (libFuzzer's log) as in a real capture.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "classify.h"
#include "live.h"
#include "fuzz_dir.h"
#include "pipeline.h"

static char dir[64];
static struct classifier *cls;       /* one nDPI module for the run: its setup is slow */
static struct classifier *stage_cls; /* and one for the stage thread's */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char eb0[256];
	if (!dir[0]) {
		cls = classifier_new(eb0, sizeof(eb0));
		stage_cls = classifier_new(eb0, sizeof(eb0));
		if (!cls || !stage_cls || !fuzz_scratch_dir(dir, sizeof(dir), "live") || !freopen("/dev/null", "w", stdout))
			abort();
	}
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64], eb[PCAP_ERRBUF_SIZE], wpath[128];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (pc) {
		struct pipeline_config cfg;
		pipeline_config_default(&cfg);
		cfg.classifier = cls;
		cfg.stage_classifier = stage_cls;
		struct live_opts lo;
		memset(&lo, 0, sizeof(lo));
		lo.iface = "fuzz";
		lo.filter = "tcp";
		if (size & 1) {
			snprintf(wpath, sizeof(wpath), "%s/w.pcap", dir);
			lo.write_path = wpath;
			lo.rotate_bytes = 1000;
			lo.rotate_files = 3;
		}
		cfg.report.out = stdout;
		cfg.report.color = false;
		cfg.report.json = (size & 2) != 0;
		cfg.report.transcript = (size & 2) != 0;
		lo.count = (size & 4) ? 5 : 0;
		cfg.engine.max_flows = 64;
		cfg.engine.memory_cap = MEMCAP_MIN;
		cfg.engine.closed_linger = LIVE_DEFAULT_LINGER_MS * NS_PER_MS;
		live_run(pc, &lo, &cfg);
		if (size & 1)
			fuzz_clean_dir(dir);
	}
	close(fd);
	return 0;
}
