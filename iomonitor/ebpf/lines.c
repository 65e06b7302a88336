/*
 * iomonitor's eBPF loader: each record the kernel side hands over, as a line
 * of strace's -f -ttt -T -yy output (see loader.c).
 */
#define _GNU_SOURCE
#include "loader.h"

const struct call *by_nr[NR_MAX];

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

void sample_offset(void)
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
		put_sockaddr(ext, h->ext_len); /* "NULL" when the call named none */
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
		put_sockaddr(ext, h->ext_len); /* "NULL" when the call named none */
		put(", %u", h->ext_len);
		break;
	case C_ACCEPT:
		put_fd((int)a[0], &h->fd[0]);
		put(", ");
		put_sockaddr(ext, h->ext_len); /* "NULL" when the call named none */
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

int handle(void *ctx, void *data, size_t size)
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
