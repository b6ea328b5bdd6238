/*
 * replay.h - `reproduce --from FILE` and `reproduce --profile P.json`: the
 * bundled server plays a profile on loopback, the client script is replayed
 * against it, captured, and both captures are analysed side by side.
 */
#ifndef SLEUTH_REPLAY_H
#define SLEUTH_REPLAY_H

/* argv as reproduce_main's; exit status 0 when the causes match, 1 when they
 * do not (or on a runtime error), 2 on a usage error. */
int replay_main(int argc, char **argv);

#endif
