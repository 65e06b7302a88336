/*
 * A tiny writer, exec'd by other test programs, built static so that no
 * dynamic loader opens files (and takes fd numbers) before it runs.
 *
 * usage: iowriter OP...
 *   w:FD:N   write N bytes to FD in one call (EBADF is reported, not fatal)
 *   o:PATH   open PATH for writing (create, truncate); prints "fd.open N"
 */
#include "common.h"

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *op = argv[i];
        if (op[0] == 'w' && op[1] == ':') {
            int fd = atoi(op + 2);
            size_t n = (size_t)atol(strchr(op + 2, ':') + 1);
            static char buf[1 << 16];
            memset(buf, 'w', n);
            ssize_t r = write(fd, buf, n);
            if (r < 0 && errno == EBADF)
                note("ebadf.%d 1", fd);
            else if (r != (ssize_t)n)
                die("write");
        } else if (op[0] == 'o' && op[1] == ':') {
            int fd = open(op + 2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0)
                die(op + 2);
            note("fd.open %d", fd);
        } else {
            return 2;
        }
    }
    return 0;
}
