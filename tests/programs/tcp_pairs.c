/*
 * Several loopback TCP connections between two processes at once.
 *
 * usage: tcp_pairs CONNS
 * The parent listens on 127.0.0.1 (any port) and forks the client. The client
 * opens CONNS connections (all open at once); on connection i it sends
 * 1000 + 977 * i bytes in chunks of 1500, rotating write, send, sendmsg and
 * writev, then shuts its write side down. The server accepts them one by one,
 * reads each to end of file rotating read, recv, recvmsg and readv (chunks of
 * at most 700), and answers 2 * received + 5 bytes the same way; the client
 * reads every answer to end of file the same way.
 * Prints "port.server P", and per connection "conn.I.port P" (the client's
 * local port), "conn.I.sent N", "conn.I.answer N".
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

static char buf[1 << 16];

static size_t move(int fd, size_t n, int out, int *turn)
{
    size_t chunk = out ? 1500 : 700;
    size_t done = 0;
    for (;;) {
        size_t want = out ? (n - done < chunk ? n - done : chunk) : chunk;
        if (out && want == 0)
            return done;
        struct iovec iov = {buf, want};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        ssize_t r;
        switch ((*turn)++ % 4) {
        case 0:
            r = out ? write(fd, buf, want) : read(fd, buf, want);
            break;
        case 1:
            r = out ? send(fd, buf, want, 0) : recv(fd, buf, want, 0);
            break;
        case 2:
            r = out ? sendmsg(fd, &msg, 0) : recvmsg(fd, &msg, 0);
            break;
        default:
            r = out ? writev(fd, &iov, 1) : readv(fd, &iov, 1);
            break;
        }
        if (r < 0)
            die(out ? "send" : "recv");
        if (!out && r == 0)
            return done;
        done += (size_t)r;
    }
}

static int local_port(int fd)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    if (getsockname(fd, (struct sockaddr *)&in, &len) < 0)
        die("getsockname");
    return ntohs(in.sin_port);
}

int main(int argc, char **argv)
{
    int conns = argc > 1 ? atoi(argv[1]) : 4;
    if (conns < 1 || conns > 64)
        return 2;
    memset(buf, 'q', sizeof buf);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 64) < 0)
        die("listen");
    addr.sin_port = htons((unsigned short)local_port(lfd));
    note("port.server %d", local_port(lfd));

    pid_t client = fork();
    if (client < 0)
        die("fork");
    if (client == 0) {
        close(lfd);
        int fds[64];
        int turn = 0;
        for (int i = 0; i < conns; i++) {
            fds[i] = socket(AF_INET, SOCK_STREAM, 0);
            if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&addr, sizeof addr) < 0)
                die("connect");
            note("conn.%d.port %d", i, local_port(fds[i]));
        }
        for (int i = 0; i < conns; i++) {
            size_t n = move(fds[i], 1000 + 977 * (size_t)i, 1, &turn);
            note("conn.%d.sent %zu", i, n);
            if (shutdown(fds[i], SHUT_WR) < 0)
                die("shutdown");
        }
        for (int i = 0; i < conns; i++) {
            note("conn.%d.answer %zu", i, move(fds[i], 0, 0, &turn));
            close(fds[i]);
        }
        _exit(0);
    }
    int turn = 1;
    for (int i = 0; i < conns; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            die("accept");
        size_t got = move(fd, 0, 0, &turn);
        move(fd, 2 * got + 5, 1, &turn);
        close(fd);
    }
    wait_ok(client);
    return 0;
}
