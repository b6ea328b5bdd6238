/*
 * netfault.h - `reproduce` for the causes a network makes (netfault.c).
 */
#ifndef SLEUTH_NETFAULT_H
#define SLEUTH_NETFAULT_H

#include <stdbool.h>

bool netfault_cause(const char *cause);
/* 0 when the scenario played; 1 on failure (or when not root). Writes the
 * expected verdict as a server-log-like line to log_path (NULL: stdout). */
int netfault_main(const char *cause, const char *out, const char *log_path);

#endif
