/*
 * Relative paths: open before any chdir (resolved against the start
 * directory, which the test gives the converter), after chdir and fchdir,
 * with "..", openat with a directory fd, and a child whose chdir does not
 * move its parent.
 *
 * usage: chdir_open OUTDIR   (run with OUTDIR as the current directory)
 * OUTDIR/initial.txt     W 5
 * OUTDIR/sub/rel.txt     W 6
 * OUTDIR/up.txt          W 7   ("../up.txt" from OUTDIR/sub)
 * OUTDIR/at.txt          W 8   (openat(dirfd of OUTDIR, "at.txt"))
 * OUTDIR/sub/at2.txt     W 9   (openat(dirfd of OUTDIR, "sub/at2.txt"))
 * OUTDIR/fchdir.txt      W 10  (after fchdir(dirfd of OUTDIR))
 * OUTDIR/sub/child.txt   W 11  (child, after its own chdir("sub"))
 * OUTDIR/parent.txt      W 12  (parent, after the child's chdir)
 * OUTDIR/sub/cwd_at.txt  W 13  (openat(AT_FDCWD, "sub/cwd_at.txt"))
 */
#include "common.h"

static int open_rel(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die(name);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *out = argv[1];
    note("pid.parent %d", (int)getpid());

    int fd = open("initial.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("initial.txt");
    write_n(fd, 5);
    close(fd);

    if (mkdir("sub", 0755) < 0)
        die("mkdir");
    if (chdir("sub") < 0)
        die("chdir");
    fd = open_rel(AT_FDCWD, "rel.txt");
    write_n(fd, 6);
    close(fd);
    fd = open_rel(AT_FDCWD, "../up.txt");
    write_n(fd, 7);
    close(fd);

    int dirfd = open(out, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0)
        die("open dir");
    fd = open_rel(dirfd, "at.txt");
    write_n(fd, 8);
    close(fd);
    fd = open_rel(dirfd, "sub/at2.txt");
    write_n(fd, 9);
    close(fd);

    if (fchdir(dirfd) < 0)
        die("fchdir");
    fd = open_rel(AT_FDCWD, "fchdir.txt");
    write_n(fd, 10);
    close(fd);

    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        note("pid.child %d", (int)getpid());
        if (chdir("sub") < 0)
            die("chdir child");
        fd = open_rel(AT_FDCWD, "child.txt");
        write_n(fd, 11);
        _exit(0);
    }
    wait_ok(pid);
    fd = open_rel(AT_FDCWD, "parent.txt");
    write_n(fd, 12);
    fd = open_rel(AT_FDCWD, "sub/cwd_at.txt");
    write_n(fd, 13);
    return 0;
}
