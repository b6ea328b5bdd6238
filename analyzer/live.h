/*
 * live.h - `smtpsleuth live`: libpcap live capture feeding the pipeline.
 * argv[0] is "live". Returns a process exit code.
 */
#ifndef SLEUTH_LIVE_H
#define SLEUTH_LIVE_H

int live_main(int argc, char **argv);

#endif
