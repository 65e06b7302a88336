/*
 * TCP and UDP over loopback between a server (the parent) and a client (its
 * child). Each side's events must name the other side: file = peer IP,
 * port = peer port.
 *
 * usage: inet OUTDIR MODE     MODE: tcp4 | tcp6 | udp4 | udp6
 * tcp4/tcp6: client sends 100 (write) + 200 (send) + 50 (sendmsg), shuts down
 *            its write side and reads to end of file; the server reads to end of
 *            file (recv, then recvmsg) and answers 300 (write) + 400 (send).
 *            client: W 350, R 700; server: R 350, W 700.
 * udp4: the client binds, then connects, and sends 64 (write), 128 (send),
 *       256 (sendmsg); the unconnected server receives them with recvfrom,
 *       recvfrom, recvmsg and answers 512 (sendto) and 1024 (sendmsg with an
 *       address); the client reads them with read and recv.
 * udp6: the same datagrams, with the client unconnected too: it uses sendto,
 *       sendto, sendmsg with an address, then recvfrom, recvmsg.
 * Prints port.server and port.client.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

static int family;
static struct sockaddr_storage server_addr;
static socklen_t addr_len;

static void loopback(struct sockaddr_storage *ss, int port)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((unsigned short)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr_len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((unsigned short)port);
        in6->sin6_addr = in6addr_loopback;
        addr_len = sizeof *in6;
    }
}

static int port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        die("getsockname");
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static char buf[1 << 16];

static void xsend(int fd, size_t n, int how, const struct sockaddr_storage *to)
{
    ssize_t r;
    memset(buf, 'z', n);
    if (how == 0) {
        r = write(fd, buf, n);
    } else if (how == 1) {
        r = sendto(fd, buf, n, 0, (const struct sockaddr *)to, to ? addr_len : 0);
    } else {
        struct iovec iov = {buf, n};
        struct msghdr msg = {0};
        msg.msg_name = (void *)to;
        msg.msg_namelen = to ? addr_len : 0;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        r = sendmsg(fd, &msg, 0);
    }
    if (r != (ssize_t)n)
        die("send");
}

/* Receive one datagram (or one chunk); how: 0 read, 1 recvfrom, 2 recvmsg. */
static ssize_t xrecv(int fd, int how, struct sockaddr_storage *from)
{
    ssize_t r;
    socklen_t len = sizeof *from;
    if (how == 0) {
        r = read(fd, buf, sizeof buf);
    } else if (how == 1) {
        r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)from, from ? &len : NULL);
    } else {
        struct iovec iov = {buf, sizeof buf};
        struct msghdr msg = {0};
        msg.msg_name = from;
        msg.msg_namelen = from ? len : 0;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        r = recvmsg(fd, &msg, 0);
    }
    if (r < 0)
        die("recv");
    return r;
}

static void tcp(void)
{
    struct sockaddr_storage ss;
    int lsock = socket(family, SOCK_STREAM, 0);
    loopback(&ss, 0);
    if (lsock < 0 || bind(lsock, (struct sockaddr *)&ss, addr_len) < 0 || listen(lsock, 1) < 0)
        die("listen");
    int sport = port_of(lsock);
    note("port.server %d", sport);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        note("pid.client %d", (int)getpid());
        int c = socket(family, SOCK_STREAM, 0);
        loopback(&ss, sport);
        if (c < 0 || connect(c, (struct sockaddr *)&ss, addr_len) < 0)
            die("connect");
        note("port.client %d", port_of(c));
        xsend(c, 100, 0, NULL);
        xsend(c, 200, 1, NULL);
        xsend(c, 50, 2, NULL);
        shutdown(c, SHUT_WR);
        if (read_to_eof(c) != 700)
            die("client total");
        _exit(0);
    }
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int s = accept(lsock, (struct sockaddr *)&peer, &plen);
    if (s < 0)
        die("accept");
    size_t total = (size_t)xrecv(s, 1, NULL);
    for (;;) {
        ssize_t r = xrecv(s, 2, NULL);
        if (r == 0)
            break;
        total += (size_t)r;
    }
    if (total != 350)
        die("server total");
    xsend(s, 300, 0, NULL);
    xsend(s, 400, 1, NULL);
    close(s);
    wait_ok(pid);
}

static void udp(int connected_client)
{
    struct sockaddr_storage ss;
    int u = socket(family, SOCK_DGRAM, 0);
    loopback(&ss, 0);
    if (u < 0 || bind(u, (struct sockaddr *)&ss, addr_len) < 0)
        die("bind");
    int sport = port_of(u);
    note("port.server %d", sport);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        note("pid.client %d", (int)getpid());
        int c = socket(family, SOCK_DGRAM, 0);
        if (c < 0)
            die("socket");
        loopback(&server_addr, sport);
        if (connected_client) {
            /* Bound before connect: strace -yy keeps printing UDP:[local]. */
            loopback(&ss, 0);
            if (bind(c, (struct sockaddr *)&ss, addr_len) < 0)
                die("bind client");
            note("port.client %d", port_of(c));
            if (connect(c, (struct sockaddr *)&server_addr, addr_len) < 0)
                die("connect");
            xsend(c, 64, 0, NULL);
            xsend(c, 128, 1, NULL);
            xsend(c, 256, 2, NULL);
            if (xrecv(c, 0, NULL) != 512 || xrecv(c, 1, NULL) != 1024)
                die("client recv");
        } else {
            xsend(c, 64, 1, &server_addr);
            note("port.client %d", port_of(c));
            xsend(c, 128, 1, &server_addr);
            xsend(c, 256, 2, &server_addr);
            struct sockaddr_storage from;
            if (xrecv(c, 1, &from) != 512 || xrecv(c, 2, &from) != 1024)
                die("client recv");
        }
        _exit(0);
    }
    struct sockaddr_storage from;
    if (xrecv(u, 1, &from) != 64 || xrecv(u, 1, &from) != 128 || xrecv(u, 2, &from) != 256)
        die("server recv");
    xsend(u, 512, 1, &from);
    xsend(u, 1024, 2, &from);
    wait_ok(pid);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    note("pid.server %d", (int)getpid());
    const char *mode = argv[2];
    family = mode[3] == '4' ? AF_INET : AF_INET6;
    if (strncmp(mode, "tcp", 3) == 0)
        tcp();
    else
        udp(family == AF_INET);
    return 0;
}
