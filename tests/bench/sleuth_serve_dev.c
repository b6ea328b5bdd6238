/*
 * sleuth_serve_dev.c - a stand-in for `smtpsleuth` that runs only the server
 * verbs (`serve`, `reproduce`), so the server's tests run before (or without)
 * the analyzer's main.c.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "reproduce") == 0)
		return reproduce_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: %s serve|reproduce [options]\n", argv[0]);
	return 2;
}
