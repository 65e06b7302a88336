/*
 * What the loader's parts share: the traced calls' table, the output buffer
 * and its hot formatting pieces (inline: they run several times per record),
 * the fd decorations and the record formatter.
 */
#ifndef IOMONITOR_LOADER_H
#define IOMONITOR_LOADER_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "record.h"

/* Exit codes: the command's own status otherwise. */
#define EXIT_USAGE 2
#define EXIT_BPF 9 /* the BPF program could not be loaded or attached */

struct call {
	const char *name;
	long nr;
	unsigned char cls;
	const char *event; /* its tracepoints' name, when not the call's own */
	/* Three arguments or more, and its line needs no others: its entry is
	 * on_enter3, which reads them from the tracepoint's record. */
	unsigned char args3;
};


#define NR_MAX 512
/* The traced calls by syscall number (filled by main, read by sys_line). */
extern const struct call *by_nr[NR_MAX];

/* -- output.c: the log and the status lines -- */
extern int out_fd, status_fd;
extern char *obuf;
extern size_t olen;
/* Room for one line: lines are capped well below this. */
#define LINE_MAX_BYTES 8192
extern char line[LINE_MAX_BYTES];
extern size_t llen;
void flush_out(int all);
void reserve_out(size_t need);
void put(const char *fmt, ...);
void status(const char *fmt, ...);
void put_escaped(const unsigned char *s, size_t n, int deco);
void put_quoted(const unsigned char *s, size_t n);

/*
 * The hot path's pieces, by hand: a line of a small read or write was seven
 * vsnprintf calls, the loader's main cost per record (and the loader shares
 * the CPUs with the traced program).
 */
static inline void put_mem(const char *s, size_t n)
{
	if (n > sizeof(line) - 1 - llen)
		n = sizeof(line) - 1 - llen;
	memcpy(line + llen, s, n);
	llen += n;
}

#define PUT_LIT(s) put_mem(s, sizeof(s) - 1)

static inline void put_str(const char *s)
{
	put_mem(s, strlen(s));
}

static inline void put_u(unsigned long long v)
{
	char b[20];
	int i = sizeof(b);
	do {
		b[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	put_mem(b + i, sizeof(b) - i);
}

static inline void put_i(long long v)
{
	if (v < 0) {
		PUT_LIT("-");
		put_u(-(unsigned long long)v);
	} else {
		put_u(v);
	}
}

/* ns as seconds with six decimals (strace's -ttt and -T precision). */
static inline void put_secs(unsigned long long ns)
{
	unsigned us = (ns % 1000000000ULL) / 1000;
	char b[7];
	put_u(ns / 1000000000ULL);
	b[0] = '.';
	for (int i = 6; i > 0; i--) {
		b[i] = '0' + us % 10;
		us /= 10;
	}
	put_mem(b, 7);
}

static inline void end_line(void)
{
	reserve_out(llen + 1);
	memcpy(obuf + olen, line, llen);
	olen += llen;
	obuf[olen++] = '\n';
	llen = 0;
}

/* -- names.c: fds named before an attach, and decorations -- */
void snapshot(int pid);
const char *cwd_of(unsigned int tgid);
const char *netlink_name(int proto);
void put_deco(const struct io_fdname *n);
void put_fd(long long fd, const struct io_fdname *n);
void put_sockaddr(const unsigned char *raw, unsigned len);

/* -- lines.c: records -> lines -- */
void sample_offset(void);
int handle(void *ctx, void *data, size_t size);

#endif
