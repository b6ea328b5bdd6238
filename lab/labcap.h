/*
 * labcap.h - the lab's loopback capture and port helpers, shared by
 * `reproduce CAUSE` (reproduce.c, where they live) and the replay of a
 * profile (replay.c).
 */
#ifndef SLEUTH_LABCAP_H
#define SLEUTH_LABCAP_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct capture {
	pcap_t *p;
	pcap_dumper_t *d;
	volatile int stop;
	unsigned long packets;
};

/* Opens iface in immediate mode with filter "tcp port PORT", dumping to out;
 * 0, or 1 with a message on stderr. */
int capture_open(struct capture *c, const char *iface, unsigned port, const char *out);
/* The capture thread's body: dispatches until c->stop, then drains. */
void *capture_loop(void *arg);
/* A loopback TCP socket on port want (0: any), listening or only bound. */
bool loopback_port(int *fd_out, unsigned *port, bool listening, unsigned want);
void sleep_s(double s);
/* Reads the server child's log from fd until it closes, for wait seconds at
 * most (then SIGTERM, 2 s more, then SIGKILL). Keeps up to cap - 1 bytes in
 * buf, NUL-terminated (buf NULL: none), and copies it to echo when not
 * NULL. Closes fd; true when the child exited with status 0. */
bool server_drain(pid_t pid, int fd, double wait, char *buf, size_t cap, FILE *echo);

#endif
