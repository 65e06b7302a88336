/*
 * Pipes between a parent and its child, both directions, and a socketpair.
 * Both ends of one pipe carry the same name, pipe:[inode].
 *
 * usage: pipes OUTDIR
 * pipe "down" (parent -> child): W 1000 + 2000 by the parent, R 3000 by the child
 * pipe "up"   (child -> parent): W 500 + 700 by the child, R 1200 by the parent
 * socketpair: parent end W 300, R 400; child end W 400, R 300
 * Prints the inodes (inode.down, inode.up, inode.sp_parent, inode.sp_child)
 * and the fd numbers of the socketpair ends (fd.sp_parent, fd.sp_child).
 */
#include "common.h"
#include <sys/socket.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    (void)argv;
    note("pid.parent %d", (int)getpid());
    int down[2], up[2], sp[2];
    if (pipe(down) < 0 || pipe(up) < 0)
        die("pipe");
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
        die("socketpair");
    note("inode.down %lu", inode_of(down[0]));
    note("inode.up %lu", inode_of(up[0]));
    note("inode.sp_parent %lu", inode_of(sp[0]));
    note("inode.sp_child %lu", inode_of(sp[1]));
    note("fd.sp_parent %d", sp[0]);
    note("fd.sp_child %d", sp[1]);

    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        note("pid.child %d", (int)getpid());
        close(down[1]);
        close(up[0]);
        close(sp[0]);
        if (read_to_eof(down[0]) != 3000)
            die("down");
        write_n(up[1], 500);
        write_n(up[1], 700);
        close(up[1]);
        send_all(sp[1], 400);
        shutdown(sp[1], SHUT_WR);
        if (read_to_eof(sp[1]) != 300)
            die("sp child");
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    close(sp[1]);
    write_n(down[1], 1000);
    write_n(down[1], 2000);
    close(down[1]);
    if (read_to_eof(up[0]) != 1200)
        die("up");
    send_all(sp[0], 300);
    shutdown(sp[0], SHUT_WR);
    if (read_to_eof(sp[0]) != 400)
        die("sp parent");
    wait_ok(pid);
    return 0;
}
