/*
 * Torture: many processes, threads and fd-table changes in a seeded random
 * order, every write of a known size into a known file.
 *
 * usage: torture OUTDIR SEED OPS
 *        torture --write FD NBYTES      (the exec'd writer, used internally)
 *
 * Each operation picks one of NFILES files (OUTDIR/fNN.txt, opened with
 * O_APPEND) and writes a random number of bytes into it through a route that
 * only a correct fd table can follow: dup/dup2/dup3/fcntl F_DUPFD copies,
 * close and reuse of a number, close_range, fork, vfork + execve of this
 * program (writing through an inherited fd), clone with and without
 * CLONE_FILES, a pthread, and an fd passed over a UNIX socket (SCM_RIGHTS).
 * Up to MAX_RUNNING forked children run at a time, so their lines interleave.
 *
 * The ground truth, counted in shared memory by whoever writes, is printed at
 * the end as "file.NAME BYTES" lines, with "ops.KIND COUNT" for each route
 * and "processes N" (children created).
 */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define NFILES 16
#define MAX_RUNNING 6
#define MAX_WRITE 3000

enum { DIRECT, DUP, DUP2, DUP3, FDUPFD, REUSE, CLOSE_RANGE, FORK, VFORK_EXEC,
       CLONE_COPY, CLONE_SHARED, THREAD, SCM, NKINDS };
static const char *kind_names[NKINDS] = {
    "direct", "dup", "dup2", "dup3", "fcntl_dupfd", "close_reuse", "close_range", "fork",
    "vfork_exec", "clone_copy", "clone_files", "thread", "scm_rights",
};

struct shared {
    long bytes[NFILES];
    long ops[NKINDS];
    long processes;
    int fd_from_child;
};

static struct shared *sh;
static const char *out;
static unsigned long long rng;
static pid_t running[MAX_RUNNING];
static int nrunning;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static int open_file(int k)
{
    char name[32];
    snprintf(name, sizeof name, "f%02d.txt", k);
    char p[PATH_MAX];
    int fd = open(path_in(p, out, name), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        die(p);
    return fd;
}

/* One write of n bytes into file k through fd, counted in shared memory. */
static void put(int fd, int k, size_t n)
{
    write_n(fd, n);
    __atomic_fetch_add(&sh->bytes[k], (long)n, __ATOMIC_SEQ_CST);
}

static void reap_one(void)
{
    wait_ok(running[--nrunning]);
}

static void started(pid_t pid)
{
    __atomic_fetch_add(&sh->processes, 1, __ATOMIC_SEQ_CST);
    if (nrunning == MAX_RUNNING) {
        wait_ok(running[0]);
        memmove(running, running + 1, sizeof running[0] * (MAX_RUNNING - 1));
        nrunning--;
    }
    running[nrunning++] = pid;
}

static int clone_k;
static size_t clone_n;
static int clone_fd;

static int child_copy(void *arg)
{
    (void)arg;
    /* Our own copy of the table: closing and reusing clone_fd here changes
     * nothing in the parent. */
    close(clone_fd);
    int fd = open_file((clone_k + 1) % NFILES);
    if (fd != clone_fd)
        die("clone_copy: number not reused");
    put(fd, (clone_k + 1) % NFILES, clone_n);
    return 0;
}

static int child_shared(void *arg)
{
    (void)arg;
    /* The parent's table: the fd opened here stays open there. */
    int fd = open_file(clone_k);
    sh->fd_from_child = fd;
    put(fd, clone_k, clone_n);
    return 0;
}

static pid_t spawn(int (*fn)(void *), int flags)
{
    static char *stack;
    size_t size = 64 * 1024;
    if (!stack && !(stack = malloc(size)))
        die("malloc");
    pid_t pid = clone(fn, stack + size, flags | SIGCHLD, NULL);
    if (pid < 0)
        die("clone");
    return pid;
}

struct job {
    int k;
    size_t n;
    int fd;
};

static void *thread_main(void *arg)
{
    struct job *j = arg;
    j->fd = open_file(j->k);
    put(j->fd, j->k, j->n);
    return NULL;
}

static void send_fd(int sock, int fd)
{
    char byte = 'f';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &msg, 0) != 1)
        die("sendmsg");
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &msg, 0) != 1)
        die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        die("no fd received");
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void operation(const char *self)
{
    int kind = (int)rnd(NKINDS);
    int k = (int)rnd(NFILES);
    size_t n = 1 + rnd(MAX_WRITE);
    sh->ops[kind]++;
    int fd, fd2;
    switch (kind) {
    case DIRECT:
        fd = open_file(k);
        put(fd, k, n);
        close(fd);
        break;
    case DUP:
        fd = open_file(k);
        fd2 = dup(fd);
        close(fd);
        put(fd2, k, n);
        close(fd2);
        break;
    case DUP2:
        fd = open_file(k);
        fd2 = 40 + (int)rnd(20);
        if (dup2(fd, fd2) != fd2)
            die("dup2");
        close(fd);
        put(fd2, k, n);
        close(fd2);
        break;
    case DUP3:
        fd = open_file(k);
        fd2 = 60 + (int)rnd(20);
        if (dup3(fd, fd2, O_CLOEXEC) != fd2)
            die("dup3");
        close(fd);
        put(fd2, k, n);
        close(fd2);
        break;
    case FDUPFD:
        fd = open_file(k);
        fd2 = fcntl(fd, rnd(2) ? F_DUPFD_CLOEXEC : F_DUPFD, 100 + (int)rnd(50));
        if (fd2 < 0)
            die("fcntl");
        close(fd);
        put(fd2, k, n);
        close(fd2);
        break;
    case REUSE: {
        /* Same number, two different files one after the other. */
        fd = open_file(k);
        close(fd);
        int k2 = (k + 7) % NFILES;
        fd2 = open_file(k2);
        if (fd2 != fd)
            die("close_reuse: number not reused");
        put(fd2, k2, n);
        close(fd2);
        break;
    }
    case CLOSE_RANGE: {
        int a = open_file(k), b = open_file((k + 1) % NFILES), c = open_file((k + 2) % NFILES);
        int lo = a < b ? (a < c ? a : c) : (b < c ? b : c);
        int hi = a > b ? (a > c ? a : c) : (b > c ? b : c);
        if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi, 0u) != 0)
            die("close_range");
        fd = open_file((k + 3) % NFILES);
        put(fd, (k + 3) % NFILES, n);
        close(fd);
        break;
    }
    case FORK: {
        fd = open_file(k);
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            put(fd, k, n);
            _exit(0);
        }
        started(pid);
        close(fd);
        break;
    }
    case VFORK_EXEC: {
        fd = open_file(k);
        char fdbuf[16], nbuf[24];
        snprintf(fdbuf, sizeof fdbuf, "%d", fd);
        snprintf(nbuf, sizeof nbuf, "%zu", n);
        /* The exec'd writer has no shared memory: count before. */
        __atomic_fetch_add(&sh->bytes[k], (long)n, __ATOMIC_SEQ_CST);
        char *args[] = {(char *)self, "--write", fdbuf, nbuf, NULL};
        pid_t pid = vfork();
        if (pid < 0)
            die("vfork");
        if (pid == 0) {
            execv("/proc/self/exe", args);
            _exit(97);
        }
        started(pid);
        close(fd);
        break;
    }
    case CLONE_COPY: {
        clone_k = k;
        clone_n = n;
        clone_fd = open_file(k);
        pid_t pid = spawn(child_copy, 0);
        __atomic_fetch_add(&sh->processes, 1, __ATOMIC_SEQ_CST);
        wait_ok(pid);
        put(clone_fd, k, n); /* still file k here */
        close(clone_fd);
        break;
    }
    case CLONE_SHARED: {
        clone_k = k;
        clone_n = n;
        pid_t pid = spawn(child_shared, CLONE_FILES);
        __atomic_fetch_add(&sh->processes, 1, __ATOMIC_SEQ_CST);
        wait_ok(pid);
        put(sh->fd_from_child, k, n);
        close(sh->fd_from_child);
        break;
    }
    case THREAD: {
        struct job j = {k, n, -1};
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, &j) != 0)
            die("pthread_create");
        pthread_join(t, NULL);
        put(j.fd, k, n);
        close(j.fd);
        break;
    }
    case SCM: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
            die("socketpair");
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            close(sv[0]);
            int mine = open_file(k);
            send_fd(sv[1], mine);
            close(mine);
            _exit(0);
        }
        __atomic_fetch_add(&sh->processes, 1, __ATOMIC_SEQ_CST);
        close(sv[1]);
        fd = recv_fd(sv[0]);
        wait_ok(pid);
        put(fd, k, n);
        close(fd);
        close(sv[0]);
        break;
    }
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--write") == 0) {
        write_n(atoi(argv[2]), (size_t)strtoul(argv[3], NULL, 10));
        return 0;
    }
    if (argc != 4)
        return 2;
    out = argv[1];
    rng = strtoull(argv[2], NULL, 10) * 2654435761ULL + 88172645463325252ULL;
    long ops = atol(argv[3]);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        die("mmap");
    for (long i = 0; i < ops; i++)
        operation(argv[0]);
    while (nrunning)
        reap_one();
    for (int k = 0; k < NFILES; k++)
        note("file.f%02d.txt %ld", k, sh->bytes[k]);
    for (int i = 0; i < NKINDS; i++)
        note("ops.%s %ld", kind_names[i], sh->ops[i]);
    note("processes %ld", sh->processes);
    return 0;
}
