/*
 * fork, then close in the child: the parent's fd stays valid and named.
 *
 * usage: fork_close OUTDIR
 * parent.txt: W 10 (parent, before fork), W 15 (child, inherited fd),
 *             W 30 (parent, after the child closed its copy)
 * child.txt:  W 20 (child, on the fd number it got back after closing)
 */
#include "common.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *out = argv[1];
    note("pid.parent %d", (int)getpid());

    int fd = open_out(out, "parent.txt", 0);
    write_n(fd, 10);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        note("pid.child %d", (int)getpid());
        write_n(fd, 15);
        close(fd);
        int again = open_out(out, "child.txt", 0);
        if (again != fd)
            die("expected the same fd number");
        write_n(again, 20);
        _exit(0);
    }
    wait_ok(pid);
    write_n(fd, 30);
    return 0;
}
