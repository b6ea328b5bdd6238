/*
 * rules_doc.c - prints the reply-reading tables as Markdown (diag_reply_doc),
 * the text docs/RULES.md carries between its reply-table markers. Used by
 * `make rules-doc` to regenerate that part of the doc.
 */
#include <stdio.h>

#include "diag_reply.h"

int main(void)
{
	diag_reply_doc(stdout);
	return ferror(stdout) ? 1 : 0;
}
