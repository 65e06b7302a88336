/*
 * Load for the capture: many events, many threads, many processes.
 *
 * usage: load events FILE N
 *   N writes of 1 + i % 13 bytes to FILE, then N reads of the same sizes from
 *   its start (each read returns exactly its size). Prints "calls N" and
 *   "bytes B" (the byte total of the writes, and of the reads).
 * usage: load threads DIR N
 *   N threads, all alive at once (a barrier), thread i writes to DIR/t<i>
 *   three times: i + 1, i + 2 and i + 3 bytes. Prints "tid.I TID".
 * usage: load procs DIR N WRITER
 *   N children one after the other: child i opens DIR/p<i> as fd 3 and
 *   execs WRITER (tests/programs/iowriter) to write 1 + i % 50 bytes to it;
 *   every third child (i % 3 == 0) is given a bad last operation, so that it
 *   exits with status 2 after its write. Prints "proc.I PID STATUS".
 */
#include "common.h"
#include <pthread.h>
#include <sys/syscall.h>

static char buf[64];

static int events(const char *path, long n)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die(path);
    memset(buf, 'e', sizeof buf);
    long long bytes = 0;
    for (long i = 0; i < n; i++) {
        size_t k = 1 + (size_t)(i % 13);
        if (write(fd, buf, k) != (ssize_t)k)
            die("write");
        bytes += (long long)k;
    }
    if (lseek(fd, 0, SEEK_SET) != 0)
        die("lseek");
    for (long i = 0; i < n; i++) {
        size_t k = 1 + (size_t)(i % 13);
        if (read(fd, buf, k) != (ssize_t)k)
            die("read");
    }
    close(fd);
    note("calls %ld", n);
    note("bytes %lld", bytes);
    return 0;
}

static pthread_barrier_t all_alive;
static const char *dir;

static void *thread_main(void *arg)
{
    long i = (long)arg;
    char name[32];
    snprintf(name, sizeof name, "t%ld", i);
    int fd = open_out(dir, name, 0);
    note("tid.%ld %ld", i, (long)syscall(SYS_gettid));
    pthread_barrier_wait(&all_alive);
    for (long k = 1; k <= 3; k++)
        write_n(fd, (size_t)(i + k));
    close(fd);
    return NULL;
}

static int threads(long n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (t == NULL || pthread_barrier_init(&all_alive, NULL, (unsigned)n) != 0)
        die("threads");
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, thread_main, (void *)i) != 0)
            die("pthread_create");
    for (long i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}

static int procs(long n, const char *writer)
{
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            char name[32], op[32];
            snprintf(name, sizeof name, "p%ld", i);
            int fd = open_out(dir, name, 0);
            if (fd != 3 && (dup2(fd, 3) != 3 || close(fd) != 0))
                die("dup2");
            snprintf(op, sizeof op, "w:3:%ld", 1 + i % 50);
            execl(writer, "iowriter", op, i % 3 == 0 ? "bad" : (char *)NULL, (char *)NULL);
            die(writer);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
            die("waitpid");
        note("proc.%ld %d %d", i, (int)pid, WEXITSTATUS(status));
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long n = atol(argv[3]);
    dir = argv[2];
    if (strcmp(argv[1], "events") == 0)
        return events(argv[2], n);
    if (strcmp(argv[1], "threads") == 0)
        return threads(n);
    if (strcmp(argv[1], "procs") == 0 && argc > 4)
        return procs(n, argv[4]);
    return 2;
}
