/*
 * sendmmsg/recvmmsg over UDP loopback: one event per call, bytes = the sum
 * of msg_len.
 *
 * usage: mmsg OUTDIR
 * client (connected): sendmmsg of 10+20+30 = 60, recvmmsg of 5+6+7+8 = 26
 * server (unconnected, addresses in msg_name): recvmmsg 60, sendmmsg 26
 * Prints port.server and port.client.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static struct sockaddr_in lo(int port)
{
    struct sockaddr_in in = {0};
    in.sin_family = AF_INET;
    in.sin_port = htons((unsigned short)port);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return in;
}

static int port_of(int fd)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    if (getsockname(fd, (struct sockaddr *)&in, &len) < 0)
        die("getsockname");
    return ntohs(in.sin_port);
}

#define MAXMSG 4
static char data[MAXMSG][128];
static struct iovec iov[MAXMSG];
static struct mmsghdr msgs[MAXMSG];
static struct sockaddr_in names[MAXMSG];

/* Fill n message headers; sizes NULL means receive buffers of 128 bytes. */
static void setup(int n, const int *sizes, struct sockaddr_in *to, int with_names)
{
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < n; i++) {
        memset(data[i], 'm', sizeof data[i]);
        iov[i].iov_base = data[i];
        iov[i].iov_len = sizes ? (size_t)sizes[i] : sizeof data[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (with_names) {
            if (to)
                names[i] = *to;
            msgs[i].msg_hdr.msg_name = &names[i];
            msgs[i].msg_hdr.msg_namelen = sizeof names[i];
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    (void)argv;
    note("pid.server %d", (int)getpid());
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = lo(0);
    if (u < 0 || bind(u, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind");
    int sport = port_of(u);
    note("port.server %d", sport);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        note("pid.client %d", (int)getpid());
        int c = socket(AF_INET, SOCK_DGRAM, 0);
        a = lo(sport);
        if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
            die("connect");
        note("port.client %d", port_of(c));
        static const int out_sizes[3] = {10, 20, 30};
        setup(3, out_sizes, NULL, 0);
        if (sendmmsg(c, msgs, 3, 0) != 3)
            die("sendmmsg");
        setup(4, NULL, NULL, 0);
        if (recvmmsg(c, msgs, 4, 0, NULL) != 4)
            die("recvmmsg");
        _exit(0);
    }
    setup(3, NULL, NULL, 1);
    if (recvmmsg(u, msgs, 3, 0, NULL) != 3)
        die("recvmmsg");
    struct sockaddr_in client = names[0];
    static const int back_sizes[4] = {5, 6, 7, 8};
    setup(4, back_sizes, &client, 1);
    if (sendmmsg(u, msgs, 4, 0) != 4)
        die("sendmmsg");
    wait_ok(pid);
    return 0;
}
