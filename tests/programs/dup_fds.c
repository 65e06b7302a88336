/*
 * dup, dup2, dup3, fcntl(F_DUPFD) and fcntl(F_DUPFD_CLOEXEC): writes of
 * distinct sizes through each duplicate must land on the file it refers to,
 * also after the original fd is closed and after dup2/dup3 replace a target.
 *
 * usage: dup_fds OUTDIR
 * dup_a.txt: W 101 102 103 104 105 106, then R 621 and R 0 (through a dup)
 * dup_b.txt: W 201 (through fd 10 after dup2 replaced it)
 * dup_c.txt: W 301 (through fd 11 after dup3 replaced it)
 */
#include "common.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *out = argv[1];
    note("pid.main %d", (int)getpid());

    int a = open_out(out, "dup_a.txt", 0);
    int d = dup(a);
    if (d < 0 || dup2(a, 10) != 10 || dup3(a, 11, O_CLOEXEC) != 11)
        die("dup");
    int c1 = fcntl(a, F_DUPFD_CLOEXEC, 20);
    int c2 = fcntl(a, F_DUPFD, 30);
    if (c1 < 20 || c2 < 30)
        die("fcntl");
    write_n(d, 101);
    write_n(10, 102);
    write_n(11, 103);
    write_n(c1, 104);
    write_n(c2, 105);
    close(a);
    write_n(d, 106); /* the duplicate outlives the original */

    int b = open_out(out, "dup_b.txt", 0);
    if (dup2(b, 10) != 10) /* silently closes the old fd 10 (dup_a.txt) */
        die("dup2");
    close(b);
    write_n(10, 201);

    int c = open_out(out, "dup_c.txt", 0);
    if (dup3(c, 11, 0) != 11)
        die("dup3");
    close(c);
    write_n(11, 301);

    int r = open_in(out, "dup_a.txt");
    int rd = fcntl(r, F_DUPFD, 40);
    close(r);
    if (read_to_eof(rd) != 621)
        die("dup_a.txt size");
    return 0;
}
