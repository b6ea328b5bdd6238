/*
 * pcap_map.c - classic pcap files walked in place (pcap_map.h says when
 * and why).
 *
 * The records handed out here are those libpcap 1.10 would hand out for
 * the same bytes: its sf-pcap.c reads a record header, byte-swaps it for a
 * file of the other byte order, scales microseconds to nanoseconds (we
 * open files at nanosecond precision), refuses or cuts a captured length
 * past the snapshot length and fails on a short read. The first two we do
 * alike; every record that would take one of the other paths, or whose
 * fraction of a second is out of range (where libpcap's 32-bit arithmetic
 * would decide the value), goes back to libpcap. check_source compares
 * both readers record by record on every capture we have and on damaged
 * files.
 */
#define _GNU_SOURCE
#include "pcap_map.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16
#define MAGIC_USEC 0xa1b2c3d4u
#define MAGIC_NSEC 0xa1b23c4du
/* libpcap's largest snapshot for every link type below (max_snaplen_for_dlt). */
#define MAP_MAX_SNAPLEN 262144u
/* Mappings the SIGBUS handler knows at once; files past it are read by
 * libpcap (merging more files than this is rare, and still works). */
#define MAP_SLOTS 256
/* Mapped pages count in the process's resident size: those behind the
 * reader are given back every `step` bytes (twice the caller's read buffer
 * size, at least MAP_STEP_MIN), keeping the last step / 2 bytes, where
 * the record handed out last lies unless it is larger (a page given back
 * is read again from the file if touched: slower, never wrong). A mapped
 * file thus holds about three read buffers of memory. Each release costs
 * a TLB flush on every core running one of our threads, so steps are not
 * made smaller than needed. */
#define MAP_STEP_MIN (64u << 10)
/* The pager: a thread per large mapping that maps pages in ahead of the
 * reader (MADV_POPULATE_READ) and gives back those behind it, so that the
 * reading thread takes neither the page faults nor the releases' TLB
 * flushes: on bulk-500M those were 27 % of its time (perf, docs/bench.md).
 * It keeps MAP_AHEAD bytes mapped past the reader, populating MAP_CHUNK at
 * a time, and is woken every half step. Smaller files are not worth a
 * thread's start; at most MAP_PAGERS_MAX run at once (a merge of many
 * files reads the others without). Its work is only a hint: a page it has
 * not mapped yet faults in as before, one it gave back is read again. */
#define MAP_PAGER_MIN (32u << 20)
#define MAP_AHEAD (2u << 20)
#define MAP_CHUNK (512u << 10)
#define MAP_PAGERS_MAX 4
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22           /* Linux 5.14; older kernels say EINVAL */
#endif

/* LINKTYPE_ values (the file's, before libpcap maps them to DLT_) whose
 * records libpcap hands over untouched in either byte order: the link
 * types the decoder reads. USB, NFLOG and the like get their pseudo-headers
 * swapped by libpcap and are left to it. */
static const uint32_t plain_links[] = {
	0,      /* NULL (BSD loopback) */
	1,      /* ETHERNET */
	101,    /* RAW */
	108,    /* LOOP */
	113,    /* LINUX_SLL */
	228,    /* IPV4 */
	229,    /* IPV6 */
	276,    /* LINUX_SLL2 */
};

struct pcap_map {
	const uint8_t *base;
	uint64_t size;          /* mapped bytes: the file's size when opened */
	uint64_t off;           /* the next record */
	uint64_t released;      /* bytes from the start given back (page multiple) */
	uint64_t step;
	uint32_t snapshot;
	bool swapped, nano;
	int fd;                 /* for the size after a cut (owned by the caller) */
	int slot;
	struct pager *pager;    /* NULL: the reader releases pages itself */
	uint64_t kick;          /* the offset at which the pager is woken next */
};

struct pager {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t reader;        /* the reader's offset, as last told (under mu) */
	bool stop;              /* under mu */
	const uint8_t *base;
	uint64_t size, step;
	_Atomic uint64_t released;      /* bytes from the start given back */
};

static atomic_int pagers_running;

/* The SIGBUS handler's view of every mapping: the only state shared with a
 * signal handler, as the signal flags are. */
static struct {
	_Atomic uintptr_t base;
	_Atomic size_t len;
	volatile sig_atomic_t cut;
} slots[MAP_SLOTS];
static size_t page_size;
static struct sigaction prev_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static bool handler_ok;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	for (int i = 0; i < MAP_SLOTS; i++) {
		uintptr_t b = atomic_load(&slots[i].base);
		size_t l = atomic_load(&slots[i].len);
		if (!b || a < b || a - b >= l)
			continue;
		/* The file lost these pages: zeros in their place let the
		 * faulting read finish; the source reports the cut next. */
		uintptr_t pg = a & ~(uintptr_t)(page_size - 1);
		if (mmap((void *)pg, b + l - pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
		    MAP_FAILED) {
			slots[i].cut = 1;
			return;
		}
		break;
	}
	/* Not ours: what was there before (the default ends the process
	 * when the faulting access runs again). */
	if ((prev_bus.sa_flags & SA_SIGINFO) && prev_bus.sa_sigaction) {
		prev_bus.sa_sigaction(sig, si, uc);
	} else if (prev_bus.sa_handler != SIG_DFL && prev_bus.sa_handler != SIG_IGN) {
		prev_bus.sa_handler(sig);
	} else {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigemptyset(&dfl.sa_mask);
		sigaction(SIGBUS, &dfl, NULL);
	}
}

static void install_handler(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	page_size = ps > 0 ? (size_t)ps : 4096;
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigemptyset(&sa.sa_mask);
	handler_ok = sigaction(SIGBUS, &sa, &prev_bus) == 0;
}

static uint32_t rd32(const uint8_t *p, bool swapped)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const uint8_t *p, bool swapped)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap16(v) : v;
}

/* Reads the file header: true for a file we walk, with its byte order,
 * precision and libpcap's snapshot length for it. */
static bool header_ok(int fd, bool *swapped, bool *nano, uint32_t *snapshot)
{
	uint8_t h[PCAP_FILE_HDR];
	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return false;
	uint32_t magic = rd32(h, false);
	if (magic == MAGIC_USEC || magic == MAGIC_NSEC)
		*swapped = false;
	else if (magic == __builtin_bswap32(MAGIC_USEC) || magic == __builtin_bswap32(MAGIC_NSEC))
		*swapped = true;
	else
		return false;
	*nano = rd32(h, *swapped) == MAGIC_NSEC;
	/* 2.4 is what every writer since 1998 writes; older versions may have
	 * the two lengths swapped, which libpcap sorts out */
	if (rd16(h + 4, *swapped) != 2 || rd16(h + 6, *swapped) != 4)
		return false;
	uint32_t link = rd32(h + 20, *swapped);
	bool plain = false;
	for (size_t i = 0; i < sizeof(plain_links) / sizeof(plain_links[0]); i++)
		plain |= link == plain_links[i];
	if (!plain)
		return false;
	/* as libpcap: a snapshot length of 0 or past the link type's largest
	 * (or negative as a signed int) means the largest */
	uint32_t snap = rd32(h + 16, *swapped);
	*snapshot = snap == 0 || snap > MAP_MAX_SNAPLEN ? MAP_MAX_SNAPLEN : snap;
	return true;
}

/* Gives back the pages before `to`. Either thread may: the reader does
 * when the pager has fallen behind (another thread held its core), which
 * bounds what stays mapped whatever the scheduling. */
static void pager_release(struct pager *pg, uint64_t to)
{
	uint64_t from = atomic_load(&pg->released);
	if (to <= from)
		return;
	madvise((void *)(pg->base + from), (size_t)(to - from), MADV_DONTNEED);
	while (from < to && !atomic_compare_exchange_weak(&pg->released, &from, to))
		;
}

/* The pager's loop: releases behind what the reader was last told to be
 * at (keeping step / 2 bytes, as the reader did itself), maps in up to
 * MAP_AHEAD past it, then sleeps until told again. A failed populate
 * (an old kernel, a file cut shorter) ends the populating, not the
 * releasing. */
static void *pager_run(void *arg)
{
	struct pager *pg = arg;
	uint64_t populated = 0;
	bool populate = true;
	pthread_mutex_lock(&pg->mu);
	while (!pg->stop) {
		uint64_t at = pg->reader;
		pthread_mutex_unlock(&pg->mu);
		uint64_t keep = pg->step / 2;
		uint64_t to = at > keep ? (at - keep) & ~(uint64_t)(page_size - 1) : 0;
		if (to >= atomic_load(&pg->released) + pg->step)
			pager_release(pg, to);
		if (populated < to)
			populated = to;
		/* whole chunks (madvise wants page-aligned starts) */
		uint64_t ahead = (at + MAP_AHEAD) & ~(uint64_t)(MAP_CHUNK - 1);
		if (ahead > pg->size)
			ahead = pg->size;
		while (populate && populated < ahead) {
			uint64_t n = ahead - populated < MAP_CHUNK ? ahead - populated : MAP_CHUNK;
			if (madvise((void *)(pg->base + populated), (size_t)n, MADV_POPULATE_READ) != 0)
				populate = false;
			populated += n;
		}
		pthread_mutex_lock(&pg->mu);
		while (!pg->stop && pg->reader == at)
			pthread_cond_wait(&pg->cv, &pg->mu);
	}
	pthread_mutex_unlock(&pg->mu);
	return NULL;
}

/* Tells the pager where the reader is; called every half step. Past
 * 2.5 steps not given back, the reader gives them back itself (so never
 * more than 3 steps stay mapped behind it; 1.5 without a pager). */
static void pager_tell(struct pcap_map *m)
{
	struct pager *pg = m->pager;
	if (m->off - atomic_load_explicit(&pg->released, memory_order_relaxed) >= 2 * m->step + m->step / 2)
		pager_release(pg, (m->off - m->step / 2) & ~(uint64_t)(page_size - 1));
	pthread_mutex_lock(&pg->mu);
	pg->reader = m->off;
	pthread_cond_signal(&pg->cv);
	pthread_mutex_unlock(&pg->mu);
	m->kick = m->off + m->step / 2;
}

/* A pager for m when it pays and one may run; NULL otherwise (the reader
 * then releases pages itself). Its signals are blocked: SIGBUS stays a
 * fault of the reader's, and stop signals go to the other threads. */
static struct pager *pager_start(struct pcap_map *m)
{
	if (m->size < MAP_PAGER_MIN)
		return NULL;
	if (atomic_fetch_add(&pagers_running, 1) >= MAP_PAGERS_MAX) {
		atomic_fetch_sub(&pagers_running, 1);
		return NULL;
	}
	struct pager *pg = calloc(1, sizeof(*pg));
	if (pg) {
		pg->base = m->base;
		pg->size = m->size;
		pg->step = m->step;
		pg->reader = m->off;
		pthread_mutex_init(&pg->mu, NULL);
		pthread_cond_init(&pg->cv, NULL);
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int rc = pthread_create(&pg->thread, NULL, pager_run, pg);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc == 0)
			return pg;
		pthread_cond_destroy(&pg->cv);
		pthread_mutex_destroy(&pg->mu);
		free(pg);
	}
	atomic_fetch_sub(&pagers_running, 1);
	return NULL;
}

static void pager_stop(struct pager *pg)
{
	if (!pg)
		return;
	pthread_mutex_lock(&pg->mu);
	pg->stop = true;
	pthread_cond_signal(&pg->cv);
	pthread_mutex_unlock(&pg->mu);
	pthread_join(pg->thread, NULL);
	pthread_cond_destroy(&pg->cv);
	pthread_mutex_destroy(&pg->mu);
	free(pg);
	atomic_fetch_sub(&pagers_running, 1);
}

struct pcap_map *pcap_map_open(int fd, uint64_t size, size_t window, bool pager)
{
	bool swapped, nano;
	uint32_t snapshot;
	if (size < PCAP_FILE_HDR || size > SIZE_MAX || !header_ok(fd, &swapped, &nano, &snapshot))
		return NULL;
	pthread_once(&handler_once, install_handler);
	if (!handler_ok)
		return NULL;
	struct pcap_map *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->slot = -1;
	for (int i = 0; i < MAP_SLOTS && m->slot < 0; i++) {
		uintptr_t none = 0;
		/* a placeholder claims the slot; the real base follows */
		if (atomic_compare_exchange_strong(&slots[i].base, &none, (uintptr_t)1))
			m->slot = i;
	}
	if (m->slot < 0) {
		free(m);
		return NULL;
	}
	void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		atomic_store(&slots[m->slot].base, 0);
		free(m);
		return NULL;
	}
	/* read once, front to back: the kernel may read ahead further and drop
	 * pages behind us */
	madvise(p, (size_t)size, MADV_SEQUENTIAL);
	slots[m->slot].cut = 0;
	atomic_store(&slots[m->slot].len, (size_t)size);
	atomic_store(&slots[m->slot].base, (uintptr_t)p);
	m->base = p;
	m->size = size;
	m->off = PCAP_FILE_HDR;
	m->step = 2 * (window > MAP_STEP_MIN ? window : MAP_STEP_MIN);
	m->snapshot = snapshot;
	m->swapped = swapped;
	m->nano = nano;
	m->fd = fd;
	m->pager = pager ? pager_start(m) : NULL;
	m->kick = m->off + m->step / 2;
	return m;
}

int pcap_map_next(struct pcap_map *m, struct pcap_pkthdr *h, const uint8_t **data, uint64_t *now_size)
{
	if (slots[m->slot].cut) {
		struct stat st;
		*now_size = fstat(m->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
		return -1;
	}
	if (m->off > m->size || m->size - m->off < PCAP_REC_HDR)
		return 0;
	const uint8_t *r = m->base + m->off;
	uint32_t caplen = rd32(r + 8, m->swapped);
	uint32_t frac = rd32(r + 4, m->swapped);
	/* reading that header may have been what found the cut (the handler
	 * ran during the load): its zeros are no record */
	atomic_signal_fence(memory_order_seq_cst);
	if (slots[m->slot].cut)
		return pcap_map_next(m, h, data, now_size);
	if (caplen > m->snapshot || caplen > m->size - m->off - PCAP_REC_HDR ||
	    frac >= (m->nano ? 1000000000u : 1000000u))
		return 0;
	/* libpcap's seconds are a signed 32-bit field */
	h->ts.tv_sec = (time_t)(int32_t)rd32(r, m->swapped);
	h->ts.tv_usec = (suseconds_t)(m->nano ? frac : frac * 1000u);
	h->caplen = caplen;
	h->len = rd32(r + 12, m->swapped);
	*data = r + PCAP_REC_HDR;
	m->off += PCAP_REC_HDR + (uint64_t)caplen;
	if (m->pager) {
		if (m->off >= m->kick)
			pager_tell(m);
	} else if (m->off - m->released >= m->step + m->step / 2) {
		uint64_t to = (m->off - m->step / 2) & ~(uint64_t)(page_size - 1);
		madvise((void *)(m->base + m->released), (size_t)(to - m->released), MADV_DONTNEED);
		m->released = to;
	}
	return 1;
}

uint32_t pcap_map_snapshot(const struct pcap_map *m) { return m->snapshot; }

uint64_t pcap_map_offset(const struct pcap_map *m) { return m->off; }

void pcap_map_seek(struct pcap_map *m, uint64_t off) { m->off = off; }

void pcap_map_close(struct pcap_map *m)
{
	if (!m)
		return;
	pager_stop(m->pager);
	atomic_store(&slots[m->slot].base, 0);
	atomic_store(&slots[m->slot].len, 0);
	munmap((void *)m->base, (size_t)m->size);
	free(m);
}
