/*
 * merge.h - `smtpsleuth merge`: joins the JSON of `analyze --shard K/N` runs.
 */
#ifndef SLEUTH_MERGE_H
#define SLEUTH_MERGE_H

int merge_main(int argc, char **argv);

#endif
