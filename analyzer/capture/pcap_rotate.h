/*
 * pcap_rotate.h - the `live -w FILE` writer: raw packets to a pcap file,
 * optionally rotated by size into FILE, FILE.1, FILE.2, ...
 *
 * Every file starts with its own pcap header (same link type, snaplen and
 * timestamp precision as the capture handle) and holds whole records only,
 * so each one can be read on its own by `smtpsleuth analyze`. A file is
 * rotated before a record that would take it over the size cap, unless the
 * file holds no record yet (one record bigger than the cap still gets written).
 * With a file count (ring), the index wraps to 0 and old files are overwritten.
 * Library code: errors are handed back in err, nothing is printed.
 */
#ifndef SLEUTH_PCAP_ROTATE_H
#define SLEUTH_PCAP_ROTATE_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#define PCAP_ROTATE_FILE_HDR 24u   /* pcap file header bytes */
#define PCAP_ROTATE_REC_HDR  16u   /* pcap record header bytes */
#define PCAP_ROTATE_MAX_FILES 1000000u

struct pcap_rotate;

/*
 * Writes the name of file number idx into buf: idx 0 is base itself, idx n
 * is "base.n". Returns 0, or -1 when it does not fit in len.
 */
int pcap_rotate_name(char *buf, size_t len, const char *base, unsigned idx);

/*
 * Opens base for writing with pc's link type, snaplen and precision (pc may
 * be a live handle or one from pcap_open_dead). max_bytes 0 = never rotate;
 * max_files 0 = no limit, otherwise the ring size. pc must outlive the writer.
 * NULL on failure, with the reason in err.
 */
struct pcap_rotate *pcap_rotate_open(pcap_t *pc, const char *base, uint64_t max_bytes,
				     unsigned max_files, char *err, size_t errlen);

/* Appends one record, rotating first when needed. 0, or -1 with err set (the
 * writer is then unusable: later calls fail at once). */
int pcap_rotate_write(struct pcap_rotate *w, const struct pcap_pkthdr *h,
		      const uint8_t *data, char *err, size_t errlen);

/* Pushes buffered records to the kernel. 0, or -1 with err set. */
int pcap_rotate_flush(struct pcap_rotate *w, char *err, size_t errlen);

/* Number of the file being written (0 for base), files opened in all, and
 * the bytes in the current file (headers included). */
unsigned pcap_rotate_index(const struct pcap_rotate *w);
uint64_t pcap_rotate_files_opened(const struct pcap_rotate *w);
uint64_t pcap_rotate_file_bytes(const struct pcap_rotate *w);

/* Flushes and closes; -1 with err set when the last flush failed. NULL is fine. */
int pcap_rotate_close(struct pcap_rotate *w, char *err, size_t errlen);

#endif
