/*
 * fuzz_engine.c - libFuzzer target for the packet engine.
 *
 * The input is either a whole capture file (it starts with a pcap or pcapng
 * magic: read through the real capture source from a memory file), or a
 * scripted run of raw frames:
 *   byte 0     link type (index into LINKTYPES)
 *   byte 1     config: bit 0 tiny caps (3 flows, 64-byte reassembly buffers),
 *              bit 1 short timeouts (1 s idle, 0 linger)
 *   then frames: u16 length (big-endian), u16 time step in ms, bytes.
 * Every delivered byte is read so the sanitizers see any stale pointer.
 * A capture file is also read twice in step, walked in place (pcap_map.c)
 * and by libpcap alone: any record, time, length or error that differs
 * aborts.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "source.h"

static const int LINKTYPES[] = { 1, 113, 276, 12, 101, 228, 229, 0, 108, 14, 147 };

static volatile uint64_t sink_sum;

static void *s_open(void *ctx, const struct flow_info *fi, const struct pkt *first)
{
	sink_sum += fi->id + first->payload_len;
	return (void *)1;
}

static void s_packet(void *ctx, void *user, enum sl_dir d, const struct pkt *p)
{
	uint64_t x = 0;
	for (uint32_t i = 0; i < p->l3_len; i++)
		x += p->l3[i];
	for (uint32_t i = 0; i < p->payload_len; i++)
		x += p->payload[i];
	sink_sum += x;
}

static void s_data(void *ctx, void *user, enum sl_dir d, const uint8_t *b, size_t n,
		   const struct seg_meta *m)
{
	uint64_t x = m->frame;
	for (size_t i = 0; i < n; i++)
		x += b[i];
	sink_sum += x;
}

static void s_gap(void *ctx, void *user, enum sl_dir d, uint64_t len, const struct seg_meta *m)
{
	sink_sum += len + m->seq;
}

static void s_event(void *ctx, void *user, enum sl_dir d, enum tcp_event ev, uint64_t arg,
		    const struct seg_meta *m)
{
	sink_sum += (uint64_t)ev + arg + m->ttl + strlen(tcp_event_name(ev));
}

static void s_close(void *ctx, void *user, const struct flow_info *fi, enum flow_end why)
{
	sink_sum += fi->dir[0].bytes + fi->dir[1].bytes + strlen(flow_end_name(why));
}

static const struct engine_sink SINK = { NULL, s_open, s_packet, s_data, s_gap, s_event, s_close, NULL };

/* Both readers of the capture at path, record by record: the same. */
static void same_readers(const char *path)
{
	char ea[512] = "", eb[512] = "";
	source_map_files = false;
	struct source *a = source_open_file_buf(path, 16u << 10, ea, sizeof(ea));
	source_map_files = true;
	struct source *b = source_open_file_buf(path, 16u << 10, eb, sizeof(eb));
	if (!a || !b) {
		if (!a != !b || strcmp(ea, eb) != 0)
			abort();
		return;
	}
	for (;;) {
		struct raw_packet ra, rb;
		int x = source_next(a, &ra, ea, sizeof(ea)), y = source_next(b, &rb, eb, sizeof(eb));
		if (x != y)
			abort();
		if (x != 1) {
			if (x < 0 && strcmp(ea, eb) != 0)
				abort();
			break;
		}
		if (ra.frame != rb.frame || ra.ts != rb.ts || ra.caplen != rb.caplen ||
		    ra.wirelen != rb.wirelen || ra.linktype != rb.linktype ||
		    memcmp(ra.data, rb.data, ra.caplen) != 0)
			abort();
	}
	source_close(a);
	source_close(b);
}

static void run_capture(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* a small read buffer: the input is in memory already, and a fresh
	 * 1 MiB (the analyzer's default) per input cost the sanitizers time */
	struct source *s = source_open_file_buf(path, 16u << 10, err, sizeof(err));
	if (s) {
		struct engine *e = engine_new(NULL, &SINK);
		engine_set_file(e, source_name(s));
		struct raw_packet r;
		while (source_next(s, &r, err, sizeof(err)) == 1)
			engine_feed(e, &r);
		engine_finish(e);
		engine_free(e);
		source_close(s);
	}
	same_readers(path);
	close(fd);
}

static void run_frames(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	struct engine_config cfg;
	engine_config_default(&cfg);
	if (data[1] & 1) {
		cfg.max_flows = 3;
		cfg.ooo_per_dir = 64;
		cfg.ooo_global = 96;
	}
	if (data[1] & 2) {
		cfg.flow_timeout = NS_PER_SEC;
		cfg.closed_linger = 0;
	}
	struct engine *e = engine_new(&cfg, &SINK);
	int lt = LINKTYPES[data[0] % (sizeof(LINKTYPES) / sizeof(LINKTYPES[0]))];
	size_t off = 2;
	uint64_t frame = 0;
	sl_time ts = 1700000000LL * NS_PER_SEC;
	while (size - off >= 4) {
		size_t len = ((size_t)data[off] << 8) | data[off + 1];
		ts += (sl_time)(((unsigned)data[off + 2] << 8) | data[off + 3]) * NS_PER_MS;
		off += 4;
		if (len > size - off)
			len = size - off;
		/* a copy of exactly len bytes, so reading past it is caught */
		uint8_t *buf = malloc(len ? len : 1);
		memcpy(buf, data + off, len);
		struct raw_packet r = { ++frame, ts, (uint32_t)len, (uint32_t)len + (data[1] >> 4), lt, buf };
		engine_feed(e, &r);
		free(buf);
		off += len;
	}
	if (data[1] & 4)
		engine_sweep(e, ts + 3600 * NS_PER_SEC);
	engine_finish(e);
	engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 }, { 0x4d, 0x3c, 0xb2, 0xa1 },
		{ 0xa1, 0xb2, 0x3c, 0x4d }, { 0x0a, 0x0d, 0x0d, 0x0a },
	};
	for (size_t i = 0; size >= 4 && i < sizeof(magics) / sizeof(magics[0]); i++)
		if (memcmp(data, magics[i], 4) == 0) {
			run_capture(data, size);
			return 0;
		}
	run_frames(data, size);
	return 0;
}
