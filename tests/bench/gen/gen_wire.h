/*
 * gen_wire.h - what gen_capture.c takes from gen_wire.c: the generator's
 * sizes, its random numbers, text pools and pcap output.
 */
#ifndef GEN_WIRE_H
#define GEN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MSS            1448u
#define OUTBUF_SIZE    (8u << 20)        /* output buffer; one fwrite per fill */
#define MAX_FRAME      (16 + 14 + 40 + 32 + MSS)
#define POOL_SIZE      (1u << 20)        /* shared text pool for bodies */
#define BIN_POOL_SIZE  (1u << 18)        /* random bytes for TLS records */
#define MAX_STEPS      64                /* script steps per session */
#define MAX_PIECES     3
#define TEXT_CAP       4096              /* dialog text per session */
#define MAX_CONC       20000
#define START_SEC      1709251200LL      /* 2024-03-01T00:00:00Z */
#define NS_US          1000LL
#define NS_MS          1000000LL
#define NS_S           1000000000LL

#define SL_ARRAY_LEN_W 40u                /* words[] */
#define SL_MIN_U(a, b) ((uint32_t)(a) < (uint32_t)(b) ? (uint32_t)(a) : (uint32_t)(b))
#define SL_MIN_U64(a, b) ((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))

extern uint64_t rng_state;
uint64_t rnd(void);
uint64_t rnd_range(uint64_t lo, uint64_t hi);    /* inclusive */
double rnd_unit(void);
bool rnd_pct(double pct);
uint64_t rnd_log(double lo, double hi);
extern uint8_t text_pool[POOL_SIZE];
extern uint8_t bin_pool[BIN_POOL_SIZE];
extern const char *const words[SL_ARRAY_LEN_W];
void pool_init(void);
uint32_t pool_line_start(void);
uint32_t pool_fix_len(uint32_t o, uint32_t n);
extern uint8_t *outbuf;
extern FILE *outf;
extern uint64_t bytes_written, packets_written;
void out_flush(void);
uint8_t *out_reserve(void);
void out_commit(size_t n);
void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n);
void store_csum(uint8_t *p, uint64_t acc);
void pcap_file_header(void);
void pcap_rec_header(uint8_t *h, int64_t ts, uint32_t len);

#endif
