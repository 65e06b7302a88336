/*
 * execve closes close-on-exec fds and keeps the others; the process keeps its
 * pid and takes the new program's name.
 *
 * usage: exec_cloexec OUTDIR IOWRITER
 * Before the exec (fds 3..6):
 *   a.txt O_CLOEXEC                          W 3
 *   b.txt plain                              W 4
 *   c.txt plain, then F_SETFD FD_CLOEXEC     W 5
 *   d.txt O_CLOEXEC, then F_SETFD 0          W 6
 * Then execs IOWRITER, which writes 10 to fd 3 and 30 to fd 5 (both fail
 * with EBADF: not events), 20 to fd 4 (b.txt) and 40 to fd 6 (d.txt), opens
 * e.txt (fd 3 again) and writes 50 to it.
 */
#include "common.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const char *out = argv[1];
    char e[PATH_MAX + 2];
    note("pid.main %d", (int)getpid());

    int a = open_out(out, "a.txt", O_CLOEXEC);
    int b = open_out(out, "b.txt", 0);
    int c = open_out(out, "c.txt", 0);
    int d = open_out(out, "d.txt", O_CLOEXEC);
    if (a != 3 || b != 4 || c != 5 || d != 6)
        die("unexpected fd numbers");
    if (fcntl(c, F_SETFD, FD_CLOEXEC) < 0 || fcntl(d, F_SETFD, 0) < 0)
        die("F_SETFD");
    write_n(a, 3);
    write_n(b, 4);
    write_n(c, 5);
    write_n(d, 6);

    snprintf(e, sizeof e, "o:%s/e.txt", out);
    char *args[] = {"iowriter", "w:3:10", "w:4:20", "w:5:30", "w:6:40", e, "w:3:50", NULL};
    execv(argv[2], args);
    die("execv");
}
