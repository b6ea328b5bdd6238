/*
 * server.h - entry points of the bundled SMTP server and of `reproduce`.
 * argv[0] is the subcommand name ("serve" / "reproduce").
 * Return values are process exit codes: 0 ok, 1 runtime error, 2 usage.
 */
#ifndef SLEUTH_SERVER_H
#define SLEUTH_SERVER_H

int serve_main(int argc, char **argv);
int reproduce_main(int argc, char **argv);

#endif
