/*
 * cursor.h - a bounds-checked reader over untrusted bytes.
 *
 * Every reader returns false instead of reading past the end, and leaves the
 * cursor unchanged when it fails. Bounds tests are written as `len - off >= n`
 * so they cannot overflow. Multi-byte integers are big-endian (network order).
 */
#ifndef SLEUTH_CURSOR_H
#define SLEUTH_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline struct cursor cur_make(const uint8_t *p, size_t len)
{
	struct cursor c = { p, len, 0 };
	return c;
}

static inline size_t cur_left(const struct cursor *c) { return c->len - c->off; }
static inline const uint8_t *cur_ptr(const struct cursor *c) { return c->p + c->off; }

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (c->len - c->off < n)
		return false;
	c->off += n;
	return true;
}

static inline bool cur_u8(struct cursor *c, uint8_t *v)
{
	if (c->len - c->off < 1)
		return false;
	*v = c->p[c->off++];
	return true;
}

static inline bool cur_u16(struct cursor *c, uint16_t *v)
{
	if (c->len - c->off < 2)
		return false;
	*v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
	c->off += 2;
	return true;
}

static inline bool cur_u24(struct cursor *c, uint32_t *v)
{
	if (c->len - c->off < 3)
		return false;
	*v = ((uint32_t)c->p[c->off] << 16) | ((uint32_t)c->p[c->off + 1] << 8) | c->p[c->off + 2];
	c->off += 3;
	return true;
}

static inline bool cur_u32(struct cursor *c, uint32_t *v)
{
	if (c->len - c->off < 4)
		return false;
	*v = ((uint32_t)c->p[c->off] << 24) | ((uint32_t)c->p[c->off + 1] << 16) |
	     ((uint32_t)c->p[c->off + 2] << 8) | c->p[c->off + 3];
	c->off += 4;
	return true;
}

/* Points *out at the next n bytes (no copy) and advances. */
static inline bool cur_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (c->len - c->off < n)
		return false;
	*out = c->p + c->off;
	c->off += n;
	return true;
}

/* A sub-cursor over the next n bytes; the parent advances past them. */
static inline bool cur_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	const uint8_t *p;
	if (!cur_bytes(c, n, &p))
		return false;
	*sub = cur_make(p, n);
	return true;
}

#endif
