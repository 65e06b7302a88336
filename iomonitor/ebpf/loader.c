/*
 * iomonitor's eBPF loader: loads iomonitor.bpf.c, runs a command (or adopts
 * running processes) with their whole tree traced, and writes every traced
 * call as a line of strace's own `-f -ttt -T -yy` output to --out-fd. The
 * lines go through the same converter as strace's, so this file holds no
 * I/O semantics: it only prints what the kernel saw, in strace's words.
 *
 * usage: loader --out-fd N --status-fd N [--ring MB] -- command [args...]
 *        loader --out-fd N --status-fd N [--ring MB] --pid PID [--pid PID...]
 *
 * --status-fd gets one line per event of the capture itself: "ready",
 * "child PID", "execfail ERRNO", "drops N" (all records lost: ring buffer full,
 * no room for a call in flight, or program runs the kernel skipped, "missed N"),
 * "exit STATUS" / "signal N",
 * "error TEXT", then "done" once the log is closed: what follows is the
 * detach from the kernel (seconds), which nobody needs to wait for.
 * SIGINT/SIGTERM end the capture (a command keeps running; an attached
 * process is left alone); when its parent ends, the loader stops, detaches
 * and ends too.
 *
 * No buffer contents are read: buffers print as "".
 */
#define _GNU_SOURCE
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
#include "iomonitor.skel.h"

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

#define CALL(n, c) {#n, SYS_##n, c, NULL, 0}
#define CALL3(n, c) {#n, SYS_##n, c, NULL, 1}
/* The syscalls traced, as in schema.py's TRACED_SYSCALLS. Process
 * creation, exec and exit come from the scheduler's tracepoints instead. */
static const struct call calls[] = {
	CALL3(read, C_FD0), CALL3(write, C_FD0), CALL3(pread64, C_FD0), CALL3(pwrite64, C_FD0),
	CALL3(readv, C_FD0), CALL3(writev, C_FD0), CALL3(preadv, C_FD0), CALL3(pwritev, C_FD0),
	CALL3(preadv2, C_FD0), CALL3(pwritev2, C_FD0), CALL3(vmsplice, C_FD0),
	CALL(sendto, C_SENDTO), CALL(recvfrom, C_RECVFROM), CALL3(sendmsg, C_MSG),
	CALL3(recvmsg, C_RECVMSG), CALL(sendmmsg, C_MMSG), CALL(recvmmsg, C_MMSG),
	{"sendfile", SYS_sendfile, C_XFER1, "sendfile64", 0}, CALL(tee, C_XFER1), CALL(splice, C_XFER2),
	CALL(copy_file_range, C_XFER2), CALL(mmap, C_MMAP),
	CALL(open, C_OPEN0), CALL(creat, C_OPEN0), CALL3(openat, C_PATH1), CALL(openat2, C_OPENAT2),
	CALL(chdir, C_PATH0), CALL(fchdir, C_FD0), CALL(memfd_create, C_PATH0),
	CALL3(connect, C_ADDR), CALL3(bind, C_ADDR), CALL(accept, C_ACCEPT), CALL(accept4, C_ACCEPT),
	CALL(pipe, C_PAIR0), CALL(pipe2, C_PAIR0), CALL(socketpair, C_PAIR3),
	CALL(socket, C_PLAIN), CALL(close, C_PLAIN), CALL(close_range, C_PLAIN),
	CALL(dup, C_FD0), CALL(dup2, C_FD0), CALL3(dup3, C_FD0), CALL3(fcntl, C_FCNTL),
	CALL(unshare, C_PLAIN), CALL(eventfd, C_PLAIN), CALL(eventfd2, C_PLAIN),
	CALL(epoll_create, C_PLAIN), CALL(epoll_create1, C_PLAIN), CALL(timerfd_create, C_PLAIN),
	CALL(signalfd, C_PLAIN), CALL(signalfd4, C_PLAIN), CALL(inotify_init, C_PLAIN),
	CALL(inotify_init1, C_PLAIN), CALL(fanotify_init, C_PLAIN), CALL(pidfd_open, C_PLAIN),
	CALL(pidfd_getfd, C_PLAIN), CALL(open_by_handle_at, C_PLAIN),
	CALL(io_uring_setup, C_PLAIN), CALL(io_uring_enter, C_PLAIN),
	CALL(io_uring_register, C_PLAIN), CALL(io_setup, C_PLAIN), CALL(io_submit, C_PLAIN),
	CALL(io_getevents, C_PLAIN), CALL(io_pgetevents, C_PLAIN),
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))
#define NR_MAX 512
static const struct call *by_nr[NR_MAX];

/* -- output ----------------------------------------------------------------- */

static int out_fd = -1, status_fd = -1;
/*
 * Formatted lines waiting for the reader. The loader never blocks on a slow
 * reader while the ring buffer fills: it formats everything the ring holds
 * into this buffer, which grows as needed (up to OBUF_MAX), and writes it out
 * as fast as the pipe takes it.
 */
#define OBUF_MAX ((size_t)4 << 30)
static char *obuf;
static size_t ohead, olen, ocap;
static int out_broken;

/* Write what the pipe takes now (all of it if `all`). */
static void flush_out(int all)
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

static void reserve_out(size_t need)
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
#define LINE_MAX_BYTES 8192
static char line[LINE_MAX_BYTES];
static size_t llen;

static void put(const char *fmt, ...)
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

/*
 * The hot path's pieces, by hand: a line of a small read or write was seven
 * vsnprintf calls, the loader's main cost per record (and the loader shares
 * the CPUs with the traced program).
 */
static void put_mem(const char *s, size_t n)
{
	if (n > sizeof(line) - 1 - llen)
		n = sizeof(line) - 1 - llen;
	memcpy(line + llen, s, n);
	llen += n;
}

#define PUT_LIT(s) put_mem(s, sizeof(s) - 1)

static void put_str(const char *s)
{
	put_mem(s, strlen(s));
}

static void put_u(unsigned long long v)
{
	char b[20];
	int i = sizeof(b);
	do {
		b[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	put_mem(b + i, sizeof(b) - i);
}

static void put_i(long long v)
{
	if (v < 0) {
		PUT_LIT("-");
		put_u(-(unsigned long long)v);
	} else {
		put_u(v);
	}
}

/* ns as seconds with six decimals (strace's -ttt and -T precision). */
static void put_secs(unsigned long long ns)
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

static void end_line(void)
{
	reserve_out(llen + 1);
	memcpy(obuf + olen, line, llen);
	olen += llen;
	obuf[olen++] = '\n';
	llen = 0;
}

static void status(const char *fmt, ...)
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
static void put_escaped(const unsigned char *s, size_t n, int deco)
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

static void put_quoted(const unsigned char *s, size_t n)
{
	put("\"");
	put_escaped(s, n, 0);
	put("\"");
}

/* -- paths of fds open before an attach ---------------------------------------- */

struct known {
	unsigned long long dev, ino;
	char *path;
};
static struct known *known;
static size_t nknown, capknown;

static void remember(dev_t dev, ino_t ino, const char *path)
{
	/* The kernel's dev_t: major << 20 | minor. */
	unsigned long long kdev = ((unsigned long long)major(dev) << 20) | minor(dev);
	for (size_t i = 0; i < nknown; i++)
		if (known[i].dev == kdev && known[i].ino == ino)
			return;
	if (nknown == capknown) {
		capknown = capknown ? 2 * capknown : 64;
		known = realloc(known, capknown * sizeof(*known));
		if (!known)
			exit(EXIT_BPF);
	}
	known[nknown].dev = kdev;
	known[nknown].ino = ino;
	known[nknown].path = strdup(path);
	nknown++;
}

static const char *known_path(const struct io_fdname *n)
{
	for (size_t i = 0; i < nknown; i++)
		if (known[i].dev == n->dev && known[i].ino == n->ino)
			return known[i].path;
	return NULL;
}

/* Working directories of attached processes, for AT_FDCWD decorations. */
struct cwd {
	unsigned int tgid;
	char *path;
};
static struct cwd cwds[64];
static int ncwds;

static const char *cwd_of(unsigned int tgid)
{
	for (int i = 0; i < ncwds; i++)
		if (cwds[i].tgid == tgid)
			return cwds[i].path;
	return NULL;
}

static void snapshot(int pid)
{
	char dir[64], p[PATH_MAX + 64], target[PATH_MAX];
	struct dirent *d;
	DIR *dh;
	ssize_t n;
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/cwd", pid);
	n = readlink(p, target, sizeof(target) - 1);
	if (n > 0 && ncwds < 64) {
		target[n] = 0;
		cwds[ncwds].tgid = pid;
		cwds[ncwds].path = strdup(target);
		ncwds++;
	}
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	dh = opendir(dir);
	if (!dh)
		return;
	while ((d = readdir(dh))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, d->d_name);
		n = readlink(p, target, sizeof(target) - 1);
		if (n <= 0 || target[0] != '/' || stat(p, &st) != 0)
			continue; /* sockets, pipes, anon inodes: named in the kernel */
		target[n] = 0;
		remember(st.st_dev, st.st_ino, target);
	}
	closedir(dh);
}

/* -- decorations ----------------------------------------------------------------- */

static const char *netlink_name(int proto)
{
	static const char *names[] = {
		[0] = "ROUTE", [2] = "USERSOCK", [4] = "SOCK_DIAG", [5] = "NFLOG",
		[6] = "XFRM", [7] = "SELINUX", [8] = "ISCSI", [9] = "AUDIT",
		[10] = "FIB_LOOKUP", [11] = "CONNECTOR", [12] = "NETFILTER",
		[15] = "KOBJECT_UEVENT", [16] = "GENERIC", [18] = "SCSITRANSPORT",
		[19] = "ECRYPTFS", [20] = "RDMA", [21] = "CRYPTO",
	};
	if (proto >= 0 && proto < (int)(sizeof(names) / sizeof(names[0])) && names[proto])
		return names[proto];
	return NULL;
}

static void put_inet(int family, const unsigned char *addr, unsigned port)
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(family, addr, buf, sizeof(buf));
	if (family == AF_INET6)
		put("[%s]:%u", buf, port);
	else
		put("%s:%u", buf, port);
}

static int all_zero(const unsigned char *a, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

/* `<...>` for an fd the kernel named, as strace's -yy prints it; nothing
 * when the fd is a file not known from an attach (the converter's fd table,
 * built from the open calls, names those). */
static void put_deco(const struct io_fdname *n)
{
	const char *path;

	switch (n->type) {
	case FT_NONE:
	case FT_OTHER:
		return;
	case FT_FIFO:
		path = known_path(n);
		if (path) {
			put("<");
			put_escaped((const unsigned char *)path, strlen(path), 1);
			put(">");
		} else {
			put("<pipe:[%llu]>", n->ino);
		}
		return;
	case FT_SOCK:
		break;
	default:
		path = known_path(n);
		if (path) {
			put("<");
			put_escaped((const unsigned char *)path, strlen(path), 1);
			put(">");
		}
		return;
	}
	if (n->family == AF_INET || n->family == AF_INET6) {
		const char *proto = n->stype == SOCK_STREAM ? "TCP" : n->stype == SOCK_DGRAM ? "UDP" : NULL;
		int alen = n->family == AF_INET ? 4 : 16;
		if (!proto) {
			put("<socket:[%llu]>", n->ino);
			return;
		}
		put("<%s%s:[", proto, n->family == AF_INET6 ? "v6" : "");
		if (n->lport == 0 && all_zero(n->laddr, alen)) {
			put("%llu]>", n->ino);
			return;
		}
		put_inet(n->family, n->laddr, n->lport);
		if (n->rport) {
			put("->");
			put_inet(n->family, n->raddr, n->rport);
		}
		put("]>");
	} else if (n->family == AF_UNIX) {
		const char *t = n->stype == SOCK_STREAM ? "STREAM" : n->stype == SOCK_DGRAM ? "DGRAM"
			      : n->stype == SOCK_SEQPACKET ? "SEQPACKET" : NULL;
		if (t)
			put("<UNIX-%s:[%llu", t, n->ino);
		else
			put("<UNIX:[%llu", n->ino);
		if (n->peer)
			put("->%llu", n->peer);
		put("]>");
	} else if (n->family == AF_NETLINK) {
		const char *name = netlink_name(n->proto);
		if (name)
			put("<NETLINK:[%s:%llu]>", name, n->ino);
		else
			put("<NETLINK:[%d:%llu]>", n->proto, n->ino);
	} else {
		put("<socket:[%llu]>", n->ino);
	}
}

static void put_fd(long long fd, const struct io_fdname *n)
{
	put_i((int)fd);
	if (fd >= 0)
		put_deco(n);
}

/* A sockaddr as strace prints it. */
static void put_sockaddr(const unsigned char *raw, unsigned len)
{
	unsigned short family;
	char buf[INET6_ADDRSTRLEN];

	if (len < 2) {
		put("NULL");
		return;
	}
	memcpy(&family, raw, 2);
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const void *)raw;
		inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
		put("{sa_family=AF_INET, sin_port=htons(%u), sin_addr=inet_addr(\"%s\")}",
		    ntohs(a->sin_port), buf);
	} else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const void *)raw;
		inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
		put("{sa_family=AF_INET6, sin6_port=htons(%u), sin6_flowinfo=htonl(0), "
		    "inet_pton(AF_INET6, \"%s\", &sin6_addr), sin6_scope_id=0}",
		    ntohs(a->sin6_port), buf);
	} else if (family == AF_UNIX) {
		const unsigned char *p = raw + 2;
		size_t n = len - 2;
		put("{sa_family=AF_UNIX");
		if (n > 0) {
			put(", sun_path=");
			if (p[0] == 0) { /* abstract */
				put("@");
				put_quoted(p + 1, n - 1);
			} else {
				put_quoted(p, strnlen((const char *)p, n));
			}
		}
		put("}");
	} else {
		put("{sa_family=%u}", family);
	}
}

static int unseen; /* the call being printed never returned: "= ?" */

static void put_ret(long long ret)
{
	if (unseen) {
		PUT_LIT(" = ?");
		return;
	}
	if (ret < 0 && ret >= -4095) {
		const char *name = strerrorname_np(-ret);
		put(" = -1 %s (%s)", name ? name : "EUNKNOWN", strerror(-ret));
	} else {
		PUT_LIT(" = ");
		put_i(ret);
	}
}

/* -- records -> lines ------------------------------------------------------------- */

static long long wall_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */

static void sample_offset(void)
{
	struct timespec r, m;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	wall_offset = (r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

static void put_head(unsigned tid, unsigned long long ts)
{
	size_t start = llen;
	put_u(tid);
	while (llen - start < 5) /* strace's "%-5u " */
		PUT_LIT(" ");
	PUT_LIT(" ");
	put_secs((long long)ts + wall_offset);
	PUT_LIT(" ");
}

static void put_dt(unsigned long long dt)
{
	if (unseen)
		return;
	PUT_LIT(" <");
	put_secs(dt);
	PUT_LIT(">");
}

static void put_flags_cloexec(int cloexec, const char *flag)
{
	put(cloexec ? "%s" : "0", flag);
}

/*
 * `<path>` from n components the kernel side walked, leaf first, starting at
 * *p (printed only when `print`); *p moves past them. 0 when they do not fit
 * in the ext area.
 */
static int put_walked(const unsigned char **p, const unsigned char *end, unsigned n, int print)
{
	const unsigned char *parts[64];
	unsigned i;

	if (n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		size_t len = strnlen((const char *)*p, end - *p);
		if (*p + len >= end)
			return 0;
		parts[i] = *p;
		*p += len + 1;
	}
	if (!print)
		return 1;
	put("<");
	if (n == 0)
		put("/");
	while (n-- > 0) {
		put("/");
		put_escaped(parts[n], strlen((const char *)parts[n]), 1);
	}
	put(">");
	return 1;
}

/* The fds a recvmsg received, as strace's -yy prints them: each named in
 * the receiver's table by the kernel side (see SCM_NAMED in record.h). */
static void put_received(const unsigned char *ext, unsigned n)
{
	const int *fds = (const int *)(ext + EXT_SCM);
	const unsigned *walks = (const unsigned *)(ext + EXT_SCM_WALKS);
	const struct io_fdname *names = (const struct io_fdname *)(ext + EXT_SCM_NAMES);
	const unsigned char *p = ext + EXT_WALK, *end = ext + EXT_SIZE;

	for (unsigned i = 0; i < n && i < MAX_SCM; i++) {
		put(i ? ", %d" : "%d", fds[i]);
		if (!put_walked(&p, end, walks[i] & 0xffff, walks[i] & WALK_DONE))
			return;
		if (!(walks[i] & WALK_DONE))
			put_deco(&names[i]);
	}
}

static int sys_line(const struct io_rec *h, const unsigned char *ext)
{
	const struct call *c = h->nr < NR_MAX ? by_nr[h->nr] : NULL;
	const unsigned long long *a = h->args;
	const char *nm;

	if (!c)
		return 0;
	nm = c->name;
	put_head(h->tid, h->ts);
	put_str(nm);
	PUT_LIT("(");
	switch (c->cls) {
	case C_FD0:
		put_fd((int)a[0], &h->fd[0]);
		if (c->nr == SYS_dup2 || c->nr == SYS_dup3)
			put(", %d", (int)a[1]);
		if (c->nr == SYS_dup3) {
			put(", %s", (a[2] & O_CLOEXEC) ? "O_CLOEXEC" : "0");
		} else if (c->nr != SYS_fchdir && c->nr != SYS_dup && c->nr != SYS_dup2) {
			PUT_LIT(", \"\", "); /* buffers are never read */
			put_u(a[2]);
		}
		break;
	case C_FCNTL:
		put_fd((int)a[0], &h->fd[0]);
		if (a[1] == F_SETFD)
			put(", F_SETFD, %s", (a[2] & FD_CLOEXEC) ? "FD_CLOEXEC" : "0");
		else
			put(", %s, %d", a[1] == F_DUPFD ? "F_DUPFD" : "F_DUPFD_CLOEXEC", (int)a[2]);
		break;
	case C_XFER1: /* sendfile(out, in, ...), tee(in, out, ...) */
		put_fd((int)a[0], &h->fd[0]);
		put(", ");
		put_fd((int)a[1], &h->fd[1]);
		put(", NULL, %llu", a[2]);
		break;
	case C_XFER2: /* splice / copy_file_range (in, off, out, off, len, flags) */
		put_fd((int)a[0], &h->fd[0]);
		put(", NULL, ");
		put_fd((int)a[2], &h->fd[1]);
		put(", NULL, %llu, 0", a[4]);
		break;
	case C_MMAP:
		put("NULL, %llu, PROT_READ, %s, ", a[1], (a[3] & MAP_SHARED) ? "MAP_SHARED" : "MAP_PRIVATE");
		put_fd((int)a[4], &h->fd[0]);
		put(", %llu", a[5]);
		if (h->ret >= 0 || h->ret < -4095) {
			put(") = %#llx", (unsigned long long)h->ret);
			put_dt(h->dt);
			return 1;
		}
		break;
	case C_SENDTO:
	case C_RECVFROM:
		put_fd((int)a[0], &h->fd[0]);
		put(", \"\", %llu, %s, ", a[2], (a[3] & MSG_PEEK) ? "MSG_PEEK" : "0");
		if (h->ext_len)
			put_sockaddr(ext, h->ext_len);
		else
			put("NULL");
		put(", %u", h->ext_len);
		break;
	case C_MSG:
	case C_RECVMSG:
		put_fd((int)a[0], &h->fd[0]);
		put(", {");
		if (h->ext_len) {
			put("msg_name=");
			put_sockaddr(ext, h->ext_len);
			put(", msg_namelen=%u, ", h->ext_len);
		}
		put("msg_iov=[], msg_iovlen=0");
		if (h->ext2_len) {
			const int *fds = (const int *)(ext + EXT_SCM);
			put(", msg_control=[{cmsg_len=%u, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[",
			    16 + 4 * h->ext2_len);
			if (c->cls == C_RECVMSG)
				put_received(ext, h->ext2_len);
			else
				for (unsigned i = 0; i < h->ext2_len && i < MAX_SCM; i++)
					put(i ? ", %d" : "%d", fds[i]);
			put("]}]");
		}
		put(", msg_flags=0}, %s",
		    (a[2] & MSG_PEEK) ? ((a[2] & MSG_CMSG_CLOEXEC) ? "MSG_PEEK|MSG_CMSG_CLOEXEC" : "MSG_PEEK")
		    : (a[2] & MSG_CMSG_CLOEXEC) ? "MSG_CMSG_CLOEXEC" : "0");
		break;
	case C_MMSG: {
		const unsigned *lens = (const unsigned *)(ext + EXT_MMSG);
		put_fd((int)a[0], &h->fd[0]);
		put(", [");
		for (unsigned i = 0; i < h->ext2_len && i < MAX_MMSG; i++) {
			put(i ? ", {msg_hdr={" : "{msg_hdr={");
			if (i == 0 && h->ext_len) {
				put("msg_name=");
				put_sockaddr(ext, h->ext_len);
				put(", msg_namelen=%u", h->ext_len);
			}
			put("}, msg_len=%u}", lens[i]);
		}
		/* More messages than the kernel side reads: strace's own "..." for
		 * an array cut short, which the converter counts as unseen bytes. */
		if (h->ret > MAX_MMSG)
			put(", ...");
		put("], %llu, %s", a[2], (a[3] & MSG_PEEK) ? "MSG_PEEK" : "0");
		break;
	}
	case C_PATH0:
	case C_OPEN0:
		put_quoted(ext, h->ext_len ? h->ext_len - 1 : 0);
		if (!strcmp(nm, "open"))
			put(", %s", (a[1] & O_CLOEXEC) ? "O_RDONLY|O_CLOEXEC" : "O_RDONLY");
		else if (!strcmp(nm, "memfd_create"))
			put(", %s", (a[1] & 1) ? "MFD_CLOEXEC" : "0");
		else if (!strcmp(nm, "creat"))
			put(", 0644");
		break;
	case C_PATH1:
	case C_OPENAT2:
		if ((int)a[0] == AT_FDCWD) {
			const char *cwd = cwd_of(h->tgid);
			put("AT_FDCWD");
			if (cwd) {
				put("<");
				put_escaped((const unsigned char *)cwd, strlen(cwd), 1);
				put(">");
			}
		} else {
			put_fd((int)a[0], &h->fd[0]);
		}
		put(", ");
		put_quoted(ext, h->ext_len ? h->ext_len - 1 : 0);
		if (!strcmp(nm, "openat2"))
			put(", {flags=%s}, 24", (a[2] & O_CLOEXEC) ? "O_RDONLY|O_CLOEXEC" : "O_RDONLY");
		else
			put(", %s", (a[2] & O_CLOEXEC) ? "O_RDONLY|O_CLOEXEC" : "O_RDONLY");
		break;
	case C_ADDR:
		put_fd((int)a[0], &h->fd[0]);
		put(", ");
		if (h->ext_len)
			put_sockaddr(ext, h->ext_len);
		else
			put("NULL");
		put(", %u", h->ext_len);
		break;
	case C_ACCEPT:
		put_fd((int)a[0], &h->fd[0]);
		put(", ");
		if (h->ext_len)
			put_sockaddr(ext, h->ext_len);
		else
			put("NULL");
		put(", %s", h->ext_len ? "[16]" : "NULL");
		if (!strcmp(nm, "accept4"))
			put(", %s", (a[3] & SOCK_CLOEXEC) ? "SOCK_CLOEXEC" : "0");
		put(")");
		if (h->ret >= 0) {
			put(" = ");
			put_fd(h->ret, &h->fd[1]);
		} else {
			put_ret(h->ret);
		}
		put_dt(h->dt);
		return 1;
	case C_PAIR0:
	case C_PAIR3: {
		int fds[2] = {-1, -1};
		int cloexec;
		if (h->ext_len >= sizeof(fds))
			memcpy(fds, ext, sizeof(fds));
		if (c->cls == C_PAIR3) {
			put("%s, %s%s, 0, ", a[0] == AF_UNIX ? "AF_UNIX" : "AF_INET",
			    (a[1] & 0xf) == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM",
			    (a[1] & SOCK_CLOEXEC) ? "|SOCK_CLOEXEC" : "");
		}
		put("[");
		put_fd(fds[0], &h->fd[0]);
		put(", ");
		put_fd(fds[1], &h->fd[1]);
		put("]");
		if (!strcmp(nm, "pipe2")) {
			cloexec = (a[1] & O_CLOEXEC) != 0;
			put(", ");
			put_flags_cloexec(cloexec, "O_CLOEXEC");
		}
		break;
	}
	case C_PLAIN:
		if (!strcmp(nm, "socket")) {
			int fam = a[0], typ = a[1];
			const char *f = fam == AF_INET ? "AF_INET" : fam == AF_INET6 ? "AF_INET6"
				      : fam == AF_UNIX ? "AF_UNIX" : fam == AF_NETLINK ? "AF_NETLINK" : NULL;
			const char *t = (typ & 0xf) == SOCK_STREAM ? "SOCK_STREAM"
				      : (typ & 0xf) == SOCK_DGRAM ? "SOCK_DGRAM"
				      : (typ & 0xf) == SOCK_SEQPACKET ? "SOCK_SEQPACKET" : "SOCK_RAW";
			if (f)
				put("%s, ", f);
			else
				put("%d /* AF_??? */, ", fam);
			put("%s%s, ", t, (typ & SOCK_CLOEXEC) ? "|SOCK_CLOEXEC" : "");
			if (fam == AF_NETLINK && netlink_name((int)a[2]))
				put("NETLINK_%s", netlink_name((int)a[2]));
			else
				put("%d", (int)a[2]);
		} else if (!strcmp(nm, "close")) {
			put("%d", (int)a[0]);
		} else if (!strcmp(nm, "close_range")) {
			put("%u, %u, ", (unsigned)a[0], (unsigned)a[1]);
			if (!(a[2] & 6))
				put("0");
			else
				put("%s%s%s", (a[2] & 2) ? "CLOSE_RANGE_UNSHARE" : "",
				    (a[2] & 6) == 6 ? "|" : "", (a[2] & 4) ? "CLOSE_RANGE_CLOEXEC" : "");
		} else if (!strcmp(nm, "unshare")) {
			put("%s%s%s", (a[0] & 0x400) ? "CLONE_FILES" : "",
			    (a[0] & 0x600) == 0x600 ? "|" : "", (a[0] & 0x200) ? "CLONE_FS" : "");
			if (!(a[0] & 0x600))
				put("0");
		} else if (!strcmp(nm, "signalfd") || !strcmp(nm, "signalfd4")) {
			put("%d, [], 8, %s", (int)a[0], (a[3] & O_CLOEXEC) ? "SFD_CLOEXEC" : "0");
		} else if (!strcmp(nm, "pidfd_open")) {
			put("%d, 0", (int)a[0]);
		} else if (!strcmp(nm, "pidfd_getfd")) {
			put("%d, %d, 0", (int)a[0], (int)a[1]);
		} else if (!strcmp(nm, "eventfd2") || !strcmp(nm, "epoll_create1") ||
			   !strcmp(nm, "inotify_init1")) {
			/* The *_CLOEXEC flags all equal O_CLOEXEC. */
			put("%s", (a[1 - (strcmp(nm, "eventfd2") != 0)] & O_CLOEXEC) ? "O_CLOEXEC" : "0");
		} else if (!strcmp(nm, "timerfd_create")) {
			put("CLOCK_MONOTONIC, %s", (a[1] & O_CLOEXEC) ? "TFD_CLOEXEC" : "0");
		}
		break;
	}
	PUT_LIT(")");
	put_ret(h->ret);
	if (!unseen && h->ret >= 0 && (h->ext2_len & WALK_DONE) &&
	    (c->cls == C_OPEN0 || c->cls == C_PATH1 || c->cls == C_OPENAT2)) {
		const unsigned char *p = ext + EXT_WALK;
		put_walked(&p, ext + EXT_SIZE, h->ext2_len & 0xffff, 1);
	}
	put_dt(h->dt);
	return 1;
}

static const char *sig_name(int sig, char *buf)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, 32, "SIG%s", abbrev);
	else
		snprintf(buf, 32, "%d", sig);
	return buf;
}

static int handle(void *ctx, void *data, size_t size)
{
	const struct io_rec *h = data;
	const unsigned char *ext = size >= sizeof(struct io_rec_ext) ? ((const struct io_rec_ext *)data)->ext : NULL;
	static const unsigned char empty[EXT_SIZE];
	char sbuf[32];

	(void)ctx;
	if (!ext)
		ext = empty;
	switch (h->kind) {
	case REC_SYS:
	case REC_SYS_EXT:
	case REC_UNSEEN:
		unseen = h->kind == REC_UNSEEN;
		if (sys_line(h, ext))
			end_line();
		else
			llen = 0;
		break;
	case REC_FORK: {
		unsigned long long f = h->args[0];
		put_head(h->tid, h->ts);
		put("clone(child_stack=NULL, flags=");
		if (f & 16)
			put("CLONE_VM|");
		if (f & 2)
			put("CLONE_FS|");
		if (f & 1)
			put("CLONE_FILES|");
		if (f & 4)
			put("CLONE_SIGHAND|CLONE_THREAD|");
		if (f & 8)
			put("CLONE_PARENT|");
		put("SIGCHLD) = %lld <0.000000>", h->ret);
		end_line();
		break;
	}
	case REC_EXEC: {
		const unsigned char *argv = ext + EXEC_ARGV;
		size_t n = h->ext2_len, i = 0;
		if (h->args[0] != h->tid) {
			put_head(h->args[0], h->ts);
			put("+++ superseded by execve in pid %u +++", h->tid);
			end_line();
		}
		put_head(h->tid, h->ts);
		put("execve(");
		put_quoted(ext, h->ext_len ? h->ext_len - 1 : 0);
		put(", [");
		while (i < n) {
			size_t len = strnlen((const char *)argv + i, n - i);
			put(i ? ", " : "");
			put_quoted(argv + i, len);
			i += len + 1;
		}
		put("], 0x0 /* 0 vars */) = 0 <0.000000>");
		end_line();
		break;
	}
	case REC_EXIT: {
		int code = (int)h->ret;
		put_head(h->tid, h->ts);
		if (code & 0x7f)
			put("+++ killed by %s%s +++", sig_name(code & 0x7f, sbuf),
			    (code & 0x80) ? " (core dumped)" : "");
		else
			put("+++ exited with %d +++", (code >> 8) & 0xff);
		end_line();
		break;
	}
	}
	return 0;
}

/* -- the capture ------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested, parent_gone;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * iomonitor is gone: stop now and detach. Not SIGKILL: a killed process
 * closes its tracepoints one after the other in the kernel (~10 s for all),
 * where detach_calls() overlaps them. The alarm ends a loader that would
 * hang on its way out anyway.
 */
static void on_parent_gone(int sig)
{
	(void)sig;
	parent_gone = 1;
	alarm(30);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("IOMONITOR_EBPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int add_tids(int map_fd, int pid)
{
	char dir[64];
	struct dirent *d;
	DIR *dh;
	unsigned char one = 1;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	dh = opendir(dir);
	if (!dh)
		return -1;
	while ((d = readdir(dh))) {
		unsigned tid = strtoul(d->d_name, NULL, 10);
		if (tid && bpf_map_update_elem(map_fd, &tid, &one, BPF_ANY) == 0)
			n++;
	}
	closedir(dh);
	return n;
}

/* Whether any traced thread is still alive (entries of threads that ended
 * before the exit tracepoint could see them are removed on the way). */
static int anyone_traced(int map_fd)
{
	unsigned key, next;
	unsigned *prev = NULL;
	char p[64];
	int alive = 0;

	while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		snprintf(p, sizeof(p), "/proc/%u", key);
		if (access(p, F_OK) == 0)
			alive = 1;
		else
			bpf_map_delete_elem(map_fd, &key);
	}
	return alive;
}

static unsigned long long total_drops(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long sum = 0, *v;
	unsigned zero = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && bpf_map_lookup_elem(map_fd, &zero, v) == 0)
		for (int i = 0; i < ncpu; i++) {
			if (v[i])
				status("drops-cpu %d %llu", i, v[i]);
			sum += v[i];
		}
	free(v);
	return sum;
}

/*
 * Runs of the BPF programs the kernel skipped: a program that is still
 * running on a CPU is not run again there (it was preempted, or a tracepoint
 * fired inside it). Each skipped run can be a lost record.
 */
static unsigned long long total_missed(struct iomonitor_bpf *skel)
{
	struct bpf_program *prog;
	unsigned long long sum = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			sum += info.recursion_misses;
	}
	return sum;
}

/* -- the syscall tracepoints ----------------------------------------------------- */

static struct bpf_link *links[2 * NCALLS];
static int nlinks;

/* The syscall tracepoints live in tracefs, which a fresh system may not
 * have mounted. */
static void mount_tracefs(void)
{
	if (access("/sys/kernel/tracing/events/syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return;
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
}

/* on_enter and on_exit on the tracepoints of every traced call. */
static int attach_calls(struct iomonitor_bpf *skel)
{
	char name[64];

	mount_tracefs();
	for (size_t i = 0; i < NCALLS; i++) {
		if (calls[i].nr < 0 || calls[i].nr >= NR_MAX)
			continue;
		for (int exit = 0; exit < 2; exit++) {
			struct bpf_link *l;
			snprintf(name, sizeof(name), "sys_%s_%s", exit ? "exit" : "enter",
				 calls[i].event ? calls[i].event : calls[i].name);
			l = bpf_program__attach_tracepoint(exit ? skel->progs.on_exit
							   : calls[i].args3 ? skel->progs.on_enter3
							   : skel->progs.on_enter,
							   "syscalls", name);
			if (!l)
				return -errno;
			links[nlinks++] = l;
		}
	}
	return 0;
}

#define DETACH_THREADS 4

static void *detach_some(void *arg)
{
	for (int i = (int)(long)arg; i < nlinks; i += DETACH_THREADS)
		bpf_link__destroy(links[i]);
	return NULL;
}

/*
 * Closing a syscall tracepoint waits for the kernel's grace periods (~65 ms
 * each here), part of it under a kernel lock: ~130 closed in turn took
 * 8.3 s, from 4 threads 4.6 s, and no less from 16 or 64.
 */
static void detach_calls(void)
{
	pthread_t th[DETACH_THREADS];
	int started = 0;

	for (long i = 0; i < DETACH_THREADS; i++)
		if (pthread_create(&th[started], NULL, detach_some, (void *)i) == 0)
			started++;
		else
			detach_some((void *)i);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	nlinks = 0;
}

/* The capture ends before it started: the log and the status closed
 * first, as at a normal end, so that nobody waits for the detach. */
static int give_up(int code)
{
	close(out_fd);
	status("done");
	close(status_fd);
	detach_calls();
	return code;
}

int main(int argc, char **argv)
{
	struct iomonitor_bpf *skel;
	struct ring_buffer *ring = NULL;
	int pids[64], npids = 0, i, err, go[2], efd[2];
	char **cmd = NULL;
	pid_t child = -1, parent = getppid();
	int child_status = -1;
	unsigned long long ring_mb = 16;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out-fd") && i + 1 < argc)
			out_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--status-fd") && i + 1 < argc)
			status_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ring") && i + 1 < argc)
			ring_mb = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--pid") && i + 1 < argc && npids < 64)
			pids[npids++] = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--") && i + 1 < argc) {
			cmd = argv + i + 1;
			break;
		} else {
			fprintf(stderr, "iomonitor-ebpf: bad argument %s\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (out_fd < 0 || status_fd < 0 || (!cmd == !npids) || ring_mb < 1 || ring_mb > 1024) {
		fprintf(stderr, "iomonitor-ebpf: usage: --out-fd N --status-fd N (-- CMD | --pid P)\n");
		return EXIT_USAGE;
	}
	/* Never outlive iomonitor: the kernel tells us when it is gone. */
	signal(SIGUSR2, on_parent_gone);
	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	if (getppid() != parent)
		return EXIT_BPF;
	signal(SIGPIPE, SIG_IGN);
	fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
	for (i = 0; i < (int)NCALLS; i++)
		if (calls[i].nr >= 0 && calls[i].nr < NR_MAX)
			by_nr[calls[i].nr] = &calls[i];

	libbpf_set_print(libbpf_quiet);
	skel = iomonitor_bpf__open();
	if (!skel) {
		status("error cannot open the BPF object: %s", strerror(errno));
		return EXIT_BPF;
	}
	for (i = 0; i < (int)NCALLS; i++)
		if (calls[i].nr >= 0 && calls[i].nr < NR_MAX)
			skel->rodata->wanted[calls[i].nr] = calls[i].cls;
	/* A power of two, as the ring buffer requires. */
	bpf_map__set_max_entries(skel->maps.rb, ring_mb << 20);
	skel->rodata->ring_size = ring_mb << 20;
	/* The syscall programs are attached by attach_calls(), once per call. */
	bpf_program__set_autoattach(skel->progs.on_enter, false);
	bpf_program__set_autoattach(skel->progs.on_enter3, false);
	bpf_program__set_autoattach(skel->progs.on_exit, false);
	err = iomonitor_bpf__load(skel);
	if (err) {
		status("error cannot load the BPF program: %s", strerror(-err));
		return EXIT_BPF;
	}
	err = iomonitor_bpf__attach(skel);
	if (!err)
		err = attach_calls(skel);
	if (err) {
		status("error cannot attach the BPF program: %s", strerror(-err));
		return give_up(EXIT_BPF);
	}
	ring = ring_buffer__new(bpf_map__fd(skel->maps.rb), handle, NULL, NULL);
	if (!ring) {
		status("error cannot open the ring buffer: %s", strerror(errno));
		return give_up(EXIT_BPF);
	}
	signal(SIGTERM, on_stop);
	if (cmd) {
		/* As strace does with a command: a terminal's Ctrl-C, Ctrl-\ or
		 * hang-up goes to the command, which decides; the loader records
		 * until it ends. iomonitor stops the loader with SIGTERM. */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
	} else {
		signal(SIGINT, on_stop);
		signal(SIGHUP, on_stop);
	}
	sample_offset();

	int traced_fd = bpf_map__fd(skel->maps.traced);
	if (cmd) {
		if (pipe2(go, O_CLOEXEC) || pipe2(efd, O_CLOEXEC)) {
			status("error pipe: %s", strerror(errno));
			return give_up(EXIT_BPF);
		}
		child = fork();
		if (child < 0) {
			status("error fork: %s", strerror(errno));
			return give_up(EXIT_BPF);
		}
		if (child == 0) {
			char c;
			int e;
			signal(SIGINT, SIG_DFL);
			signal(SIGQUIT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGPIPE, SIG_DFL);
			prctl(PR_SET_PDEATHSIG, 0);
			close(go[1]);
			close(efd[0]);
			/* Wait until our pid is in the traced set. */
			if (read(go[0], &c, 1) != 1)
				_exit(127);
			close(out_fd);
			close(status_fd);
			execvp(cmd[0], cmd);
			e = errno;
			if (write(efd[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		close(go[0]);
		close(efd[1]);
		/* Traced from its execve on: what it does before is ours. */
		unsigned char wait_exec = 2;
		unsigned tid = child;
		bpf_map_update_elem(traced_fd, &tid, &wait_exec, BPF_ANY);
		status("child %d", child);
		if (write(go[1], "x", 1) != 1) {
			status("error cannot start the command");
			return give_up(EXIT_BPF);
		}
		close(go[1]);
		int e = 0;
		if (read(efd[0], &e, sizeof(e)) == sizeof(e)) {
			status("execfail %d", e);
			waitpid(child, NULL, 0);
			return give_up(127);
		}
		close(efd[0]);
	} else {
		for (i = 0; i < npids; i++) {
			snapshot(pids[i]);
			if (add_tids(traced_fd, pids[i]) <= 0) {
				status("nosuchpid %d", pids[i]);
				return give_up(EXIT_BPF);
			}
		}
	}
	status("ready");

	/* Drain every 10 ms; the BPF side wakes us early only when half full. */
	for (;;) {
		ring_buffer__poll(ring, 10);
		sample_offset();
		ring_buffer__consume(ring);
		flush_out(0);
		if (child > 0 && child_status < 0) {
			int st;
			if (waitpid(child, &st, WNOHANG) == child)
				child_status = st;
		}
		if (stop_requested) {
			/* Told to stop while the command runs: give it a moment to
			 * end (it may be ending on the same signal) for its status. */
			static struct timespec until;
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (!until.tv_sec)
				until.tv_sec = now.tv_sec + 1, until.tv_nsec = now.tv_nsec;
			if (child <= 0 || child_status >= 0 || now.tv_sec > until.tv_sec ||
			    (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
				break;
		}
		if (child > 0 && child_status >= 0 && !anyone_traced(traced_fd))
			break;
		if (!cmd) {
			static int tick;
			if (++tick % 10 == 0 && !anyone_traced(traced_fd))
				break;
		}
		if (parent_gone || getppid() != parent)
			break;
	}
	ring_buffer__consume(ring);
	flush_out(1);
	unsigned long long missed = total_missed(skel);
	unsigned long long dropped = total_drops(bpf_map__fd(skel->maps.drops));
	if (missed)
		status("missed %llu", missed);
	status("drops %llu", dropped + missed);
	if (child > 0 && child_status < 0) {
		int st;
		if (waitpid(child, &st, WNOHANG) == child)
			child_status = st;
	}
	if (child_status >= 0) {
		if (WIFSIGNALED(child_status))
			status("signal %d", WTERMSIG(child_status));
		else
			status("exit %d", WEXITSTATUS(child_status));
	}
	/* The end of the log: the reader needs nothing more from us, so the
	 * detach below (closing the links) never delays it. */
	close(out_fd);
	status("done");
	close(status_fd);
	ring_buffer__free(ring);
	detach_calls();
	iomonitor_bpf__destroy(skel);
	return 0;
}
