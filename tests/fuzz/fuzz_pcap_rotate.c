/*
 * fuzz_pcap_rotate.c - libFuzzer target for `live -w` rotation
 * (analyzer/capture/pcap_rotate.c): records of hostile sizes written under
 * tiny size caps and rings, then every file read back with libpcap, which
 * must see whole records only, each file on its own.
 *
 * Input: byte 0 the size cap (0 = no rotation, else 40 + 8 * byte), byte 1
 * the ring size (% 5; 0 = no ring), then records: u16 captured length
 * (big-endian, % 2048), u8 fill byte. Files go to a scratch directory
 * (tmpfs when there is one), emptied after each input.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_dir.h"
#include "pcap_rotate.h"

static char dir[64];
static pcap_t *dead;

static void read_back_and_clean(void)
{
	DIR *d = opendir(dir);
	if (!d)
		abort();
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[160], err[PCAP_ERRBUF_SIZE];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		pcap_t *p = pcap_open_offline(path, err);
		if (!p) {
			fprintf(stderr, "fuzz: %s does not open as pcap: %s\n", path, err);
			abort();
		}
		struct pcap_pkthdr *h;
		const u_char *b;
		int rc;
		while ((rc = pcap_next_ex(p, &h, &b)) == 1)
			;
		if (rc != PCAP_ERROR_BREAK) {
			fprintf(stderr, "fuzz: %s holds a partial record (%s)\n", path, pcap_geterr(p));
			abort();
		}
		pcap_close(p);
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dead) {
		dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_MICRO);
		if (!dead || !fuzz_scratch_dir(dir, sizeof(dir), "rotate"))
			abort();
	}
	if (size < 2 || size > 8192)
		return 0;
	uint64_t cap = data[0] ? 40 + 8u * data[0] : 0;
	unsigned ring = data[1] % 5;
	char base[96], err[512];
	snprintf(base, sizeof(base), "%s/cap.pcap", dir);
	struct pcap_rotate *w = pcap_rotate_open(dead, base, cap, ring, err, sizeof(err));
	if (!w)
		abort();
	static uint8_t rec[2048];
	for (size_t i = 2; i + 3 <= size; i += 3) {
		struct pcap_pkthdr h;
		h.caplen = ((uint32_t)data[i] << 8 | data[i + 1]) % sizeof(rec);
		h.len = h.caplen + data[i + 2];
		h.ts.tv_sec = (time_t)i;
		h.ts.tv_usec = data[i + 2];
		memset(rec, data[i + 2], h.caplen);
		if (pcap_rotate_write(w, &h, rec, err, sizeof(err)) < 0)
			abort();
		if (ring && pcap_rotate_index(w) >= ring)
			abort();
	}
	if (pcap_rotate_close(w, err, sizeof(err)) < 0)
		abort();
	read_back_and_clean();
	return 0;
}
