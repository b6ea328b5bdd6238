#include "server.h"
int reproduce_main(int argc, char **argv) { (void)argc; (void)argv; return 1; }
