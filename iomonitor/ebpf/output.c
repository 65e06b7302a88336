/*
 * iomonitor's eBPF loader: the log's output buffer and line pieces, and the
 * status lines (see loader.c).
 */
#define _GNU_SOURCE
#include "loader.h"

/* -- output ----------------------------------------------------------------- */

int out_fd = -1, status_fd = -1;
/*
 * Formatted lines waiting for the reader. The loader never blocks on a slow
 * reader while the ring buffer fills: it formats everything the ring holds
 * into this buffer, which grows as needed (up to OBUF_MAX), and writes it out
 * as fast as the pipe takes it.
 */
#define OBUF_MAX ((size_t)4 << 30)
char *obuf;
size_t olen;
static size_t ohead, ocap;
static int out_broken;

/* Write what the pipe takes now (all of it if `all`). */
void flush_out(int all)
{
	while (ohead < olen && !out_broken) {
		ssize_t n = write(out_fd, obuf + ohead, olen - ohead);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {out_fd, POLLOUT, 0};
				if (!all)
					break;
				poll(&p, 1, 100);
				continue;
			}
			out_broken = 1; /* the reader is gone: keep draining, drop */
			break;
		}
		ohead += n;
	}
	if (ohead == olen || out_broken)
		ohead = olen = 0;
}

void reserve_out(size_t need)
{
	if (olen + need <= ocap)
		return;
	if (ohead > 0) { /* reuse the written part first */
		memmove(obuf, obuf + ohead, olen - ohead);
		olen -= ohead;
		ohead = 0;
		if (olen + need <= ocap)
			return;
	}
	if (ocap >= OBUF_MAX) {
		flush_out(1);
		return;
	}
	size_t cap = ocap ? 2 * ocap : (size_t)1 << 20;
	char *p = realloc(obuf, cap);
	if (!p) {
		flush_out(1);
		return;
	}
	obuf = p;
	ocap = cap;
}

/* Room for one line: lines are capped well below this. */
char line[LINE_MAX_BYTES];
size_t llen;

void put(const char *fmt, ...)
{
	va_list ap;
	int n;
	if (llen >= sizeof(line) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + llen, sizeof(line) - llen, fmt, ap);
	va_end(ap);
	if (n > 0)
		llen += (size_t)n < sizeof(line) - llen ? (size_t)n : sizeof(line) - llen - 1;
}

void status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(status_fd, buf, n) < 0) {
		/* nobody listens: nothing to do */
	}
}

/* A string as strace quotes it: printable ASCII raw, the rest escaped. In a
 * decoration (deco=1) `<` and `>` are escaped too, as strace does. */
void put_escaped(const unsigned char *s, size_t n, int deco)
{
	for (size_t i = 0; i < n && llen < sizeof(line) - 8; i++) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			line[llen++] = '\\';
			line[llen++] = c;
		} else if (c == '\n') {
			line[llen++] = '\\';
			line[llen++] = 'n';
		} else if (c < 0x20 || c >= 0x7f || (deco && (c == '<' || c == '>'))) {
			llen += snprintf(line + llen, 5, "\\%03o", c);
		} else {
			line[llen++] = c;
		}
	}
}

void put_quoted(const unsigned char *s, size_t n)
{
	put("\"");
	put_escaped(s, n, 0);
	put("\"");
}
