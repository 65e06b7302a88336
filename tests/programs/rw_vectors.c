/*
 * Vectored and positioned reads and writes: bytes = the return value.
 *
 * usage: rw_vectors OUTDIR
 * vec.txt, written:  writev 100+200+300 = 600; pwrite64 50 at 1000;
 *                    pwritev 10+20 at 2000; pwritev2 7 at 3000 (RWF_DSYNC)
 *                    -> size 3007
 * then read back:    readv 500+500 = 1000 (from 0); pread64 of 100 at 1950 -> 100;
 *                    preadv 10+10 at 0 -> 20; preadv2 64 at 2990 (RWF_HIPRI) -> 17;
 *                    read 4096 from 1000 -> 2007; read -> 0
 */
#include "common.h"
#include <sys/uio.h>

static char b1[4096], b2[4096], b3[4096];

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *out = argv[1];
    char p[PATH_MAX];
    note("pid.main %d", (int)getpid());
    int fd = open(path_in(p, out, "vec.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("vec.txt");
    memset(b1, 'v', sizeof b1);

    struct iovec w3[3] = {{b1, 100}, {b2, 200}, {b3, 300}};
    if (writev(fd, w3, 3) != 600)
        die("writev");
    if (pwrite(fd, b1, 50, 1000) != 50)
        die("pwrite");
    struct iovec w2[2] = {{b1, 10}, {b2, 20}};
    if (pwritev(fd, w2, 2, 2000) != 30)
        die("pwritev");
    struct iovec w1[1] = {{b3, 7}};
    if (pwritev2(fd, w1, 1, 3000, RWF_DSYNC) != 7)
        die("pwritev2");

    if (lseek(fd, 0, SEEK_SET) != 0)
        die("lseek");
    struct iovec r2[2] = {{b1, 500}, {b2, 500}};
    if (readv(fd, r2, 2) != 1000)
        die("readv");
    if (pread(fd, b3, 100, 1950) != 100)
        die("pread");
    struct iovec r2b[2] = {{b1, 10}, {b2, 10}};
    if (preadv(fd, r2b, 2, 0) != 20)
        die("preadv");
    struct iovec r1[1] = {{b3, 64}};
    if (preadv2(fd, r1, 1, 2990, RWF_HIPRI) != 17)
        die("preadv2");
    if (read(fd, b1, sizeof b1) != 2007)
        die("read");
    if (read(fd, b1, sizeof b1) != 0)
        die("read eof");
    return 0;
}
