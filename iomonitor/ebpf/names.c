/*
 * iomonitor's eBPF loader: the paths of fds open before an attach, and fd
 * decorations as strace's -yy prints them (see loader.c).
 */
#define _GNU_SOURCE
#include "loader.h"

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

const char *cwd_of(unsigned int tgid)
{
	for (int i = 0; i < ncwds; i++)
		if (cwds[i].tgid == tgid)
			return cwds[i].path;
	return NULL;
}

void snapshot(int pid)
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

const char *netlink_name(int proto)
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
void put_deco(const struct io_fdname *n)
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

void put_fd(long long fd, const struct io_fdname *n)
{
	put_i((int)fd);
	if (fd >= 0)
		put_deco(n);
}

/* A sockaddr as strace prints it. */
void put_sockaddr(const unsigned char *raw, unsigned len)
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
