/*
 * jsonr.h - a small bounded JSON reader for files a user edits by hand (the
 * reproduce profile). It parses a whole text into a flat array of nodes
 * (objects and arrays point at their first child, every node at its next
 * sibling), so lookups need no allocation and the tree dies with one free.
 *
 * Caps are named and checked before anything grows: JSONR_MAX_NODES nodes,
 * JSONR_MAX_DEPTH nesting, JSONR_MAX_STRING bytes per decoded string,
 * JSONR_MAX_TEXT bytes of input. Errors name the line and column.
 * Strings are decoded (escapes, \uXXXX with surrogate pairs to UTF-8);
 * a string holding U+0000 is refused, so every string is a C string.
 */
#ifndef SLEUTH_JSONR_H
#define SLEUTH_JSONR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONR_MAX_NODES  16384
#define JSONR_MAX_DEPTH  32
#define JSONR_MAX_STRING 4096
#define JSONR_MAX_TEXT   (4u << 20)

enum jsonr_type { JR_NULL, JR_FALSE, JR_TRUE, JR_NUMBER, JR_STRING, JR_ARRAY, JR_OBJECT };

struct jsonr_node {
	enum jsonr_type type;
	int key;          /* for a member of an object: index into strs of its name, else -1 */
	int child;        /* first child of an array/object, -1 if empty */
	int next;         /* next sibling, -1 at the end */
	int str;          /* JR_STRING: offset into strs */
	double num;       /* JR_NUMBER */
};

struct jsonr {
	struct jsonr_node *n;
	int count, cap;
	char *strs;       /* decoded strings, NUL-separated */
	size_t strs_len, strs_cap;
};

/* Parses text[0..len); 0 on success, else -1 with "line L col C: what" in err.
 * Call jsonr_free() in both cases. */
int jsonr_parse(struct jsonr *j, const char *text, size_t len, char *err, size_t errlen);
/* Reads and parses a file (at most JSONR_MAX_TEXT bytes). */
int jsonr_parse_file(struct jsonr *j, const char *path, char *err, size_t errlen);
void jsonr_free(struct jsonr *j);

/* Node 0 is the root. Member of object `obj` named key, or -1. */
int jsonr_get(const struct jsonr *j, int obj, const char *key);
/* Typed reads; false (and *out untouched) when missing or of another type. */
bool jsonr_num(const struct jsonr *j, int node, double *out);
bool jsonr_u64(const struct jsonr *j, int node, uint64_t *out);   /* integral, >= 0 */
bool jsonr_bool(const struct jsonr *j, int node, bool *out);
const char *jsonr_str(const struct jsonr *j, int node);            /* NULL if not a string */
const char *jsonr_key(const struct jsonr *j, int node);            /* member name or NULL */
/* Iteration: first child and next sibling (-1 at the end). */
int jsonr_first(const struct jsonr *j, int node);
int jsonr_next(const struct jsonr *j, int node);
bool jsonr_is(const struct jsonr *j, int node, enum jsonr_type t);

#endif
