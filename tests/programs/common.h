/*
 * Helpers shared by the ground-truth programs of the integration tests.
 *
 * Every program does exactly known I/O and reports what the test cannot know
 * in advance (pids, thread ids, ports, pipe and socket inodes) as
 * "key value" lines on stdout. Those lines go out with one write(2) each, so
 * nothing is buffered across fork().
 */
#ifndef IOMONITOR_TEST_COMMON_H
#define IOMONITOR_TEST_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Print "key value\n" on stdout in one write. */
static inline void note(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    if (write(1, line, (size_t)n) != n)
        _exit(90);
}

static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    _exit(99);
}

/* outdir/name into buf. */
static inline const char *path_in(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        die("path too long");
    return buf;
}

static inline int open_out(const char *dir, const char *name, int extra_flags)
{
    char p[PATH_MAX];
    int fd = open(path_in(p, dir, name), O_WRONLY | O_CREAT | O_TRUNC | extra_flags, 0644);
    if (fd < 0)
        die(p);
    return fd;
}

static inline int open_in(const char *dir, const char *name)
{
    char p[PATH_MAX];
    int fd = open(path_in(p, dir, name), O_RDONLY);
    if (fd < 0)
        die(p);
    return fd;
}

/* One write(2) of exactly n filler bytes; dies unless all n were written. */
static inline void write_n(int fd, size_t n)
{
    static char buf[1 << 16];
    if (n > sizeof buf)
        die("write_n: too big");
    memset(buf, 'x', n);
    ssize_t r = write(fd, buf, n);
    if (r != (ssize_t)n)
        die("write_n");
}

/* Send exactly n bytes on a stream, whatever the number of calls. */
static inline void send_all(int fd, size_t n)
{
    static char buf[1 << 16];
    memset(buf, 'y', sizeof buf);
    while (n > 0) {
        ssize_t r = write(fd, buf, n < sizeof buf ? n : sizeof buf);
        if (r <= 0)
            die("send_all");
        n -= (size_t)r;
    }
}

/* Read until end of file; return the byte count. */
static inline size_t read_to_eof(int fd)
{
    static char buf[1 << 16];
    size_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0)
            die("read_to_eof");
        if (r == 0)
            return total;
        total += (size_t)r;
    }
}

static inline void wait_ok(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, __WALL) != pid)
        die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "child %d failed: status %#x\n", (int)pid, status);
        _exit(98);
    }
}

static inline unsigned long inode_of(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("fstat");
    return (unsigned long)st.st_ino;
}

#endif
