/* Seed program for the benchmark logs: a small service-like mix of I/O.
 *
 * Per round: file writes/reads/pread64 on a data file, a TCP request/response
 * over loopback with a server thread (blocking recvfrom -> split calls),
 * UDP datagrams with addresses, a pipe to a forked child, dup'd fds, and some
 * calls that move no bytes (fstat, lseek). Run it under
 * strace -f -ttt -T [-yy]; benchmarks/gen_log.py replicates the log.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int rounds = 40;
static int listen_fd;

static void *server(void *arg) {
    (void)arg;
    int c = accept(listen_fd, NULL, NULL);
    char buf[8192];
    for (;;) {
        ssize_t n = recvfrom(c, buf, sizeof buf, 0, NULL, NULL);
        if (n <= 0) break;
        memset(buf, 'r', 700);
        sendto(c, buf, 700, 0, NULL, 0);
    }
    close(c);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atoi(argv[1]);
    const char *path = argc > 2 ? argv[2] : "ioloop.dat";
    char block[4096];
    memset(block, 'x', sizeof block);

    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    bind(listen_fd, (struct sockaddr *)&a, sizeof a);
    getsockname(listen_fd, (struct sockaddr *)&a, &al);
    listen(listen_fd, 4);
    pthread_t th;
    pthread_create(&th, NULL, server, NULL);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    connect(tcp, (struct sockaddr *)&a, sizeof a);

    struct sockaddr_in u = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t ul = sizeof u;
    int udp_srv = socket(AF_INET, SOCK_DGRAM, 0);
    bind(udp_srv, (struct sockaddr *)&u, sizeof u);
    getsockname(udp_srv, (struct sockaddr *)&u, &ul);
    int udp_cli = socket(AF_INET, SOCK_DGRAM, 0);
    int devnull = open("/dev/null", O_WRONLY);

    for (int r = 0; r < rounds; r++) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        for (int i = 0; i < 12; i++) write(fd, block, 512 + 256 * (i % 8));
        struct stat st;
        fstat(fd, &st);
        lseek(fd, 0, SEEK_SET);
        ssize_t n;
        while ((n = read(fd, block, 1024)) > 0) {
        }
        for (int i = 0; i < 8; i++) pread(fd, block, 333, 100 * i);
        int d = dup(fd);
        write(d, "tail\n", 5);
        close(d);
        close(fd);

        for (int i = 0; i < 6; i++) {
            sendto(tcp, block, 64 + 16 * i, 0, NULL, 0);
            recvfrom(tcp, block, sizeof block, 0, NULL, NULL);
        }
        for (int i = 0; i < 6; i++) {
            sendto(udp_cli, block, 48, 0, (struct sockaddr *)&u, sizeof u);
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            recvfrom(udp_srv, block, sizeof block, 0, (struct sockaddr *)&from, &fl);
        }
        for (int i = 0; i < 6; i++) write(devnull, block, 128);

        if (r % 4 == 0) {
            int p[2];
            pipe2(p, O_CLOEXEC);
            pid_t pid = fork();
            if (pid == 0) {
                close(p[0]);
                for (int i = 0; i < 10; i++) write(p[1], block, 200 + i);
                _exit(0);
            }
            close(p[1]);
            while (read(p[0], block, 4096) > 0) {
            }
            close(p[0]);
            waitpid(pid, NULL, 0);
        }
    }
    shutdown(tcp, SHUT_WR);
    pthread_join(th, NULL);
    close(tcp);
    unlink(path);
    return 0;
}
