/*
 * Raw clone(2), without and with CLONE_FILES.
 *
 * Without CLONE_FILES the child works on a copy of the fd table: its close and
 * open of fd 3 do not change what fd 3 is in the parent. With CLONE_FILES the
 * table is shared: the child's open and close are the parent's too.
 *
 * usage: clone_files OUTDIR
 * p.txt:  W 11 (child1, inherited copy), W 13 (parent)
 * c1.txt: W 12 (child1, its own fd 3)
 * s.txt:  W 14 (child2, shared table), W 15 (parent, fd the child opened)
 * q.txt:  W 16 (parent, fd 3 after child2 closed p.txt and opened q.txt)
 */
#include "common.h"
#include <sched.h>

static const char *out;
static int s_fd;

static int child_copy(void *arg)
{
    (void)arg;
    note("pid.child1 %d", (int)getpid());
    write_n(3, 11);
    close(3);
    if (open_out(out, "c1.txt", 0) != 3)
        die("c1.txt not on fd 3");
    write_n(3, 12);
    return 0;
}

static int child_shared(void *arg)
{
    (void)arg;
    note("pid.child2 %d", (int)getpid());
    int fd = open_out(out, "s.txt", 0);
    write_n(fd, 14);
    close(3);
    if (open_out(out, "q.txt", 0) != 3)
        die("q.txt not on fd 3");
    return fd; /* exit status: the fd number it opened */
}

static pid_t spawn(int (*fn)(void *), int flags)
{
    size_t size = 256 * 1024;
    char *stack = malloc(size);
    if (!stack)
        die("malloc");
    pid_t pid = clone(fn, stack + size, flags | SIGCHLD, NULL);
    if (pid < 0)
        die("clone");
    return pid;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    out = argv[1];
    note("pid.parent %d", (int)getpid());
    if (open_out(out, "p.txt", 0) != 3)
        die("p.txt not on fd 3");

    wait_ok(spawn(child_copy, 0));
    write_n(3, 13);

    pid_t pid = spawn(child_shared, CLONE_FILES);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        die("waitpid");
    s_fd = WEXITSTATUS(status);
    write_n(s_fd, 15);
    write_n(3, 16);
    return 0;
}
