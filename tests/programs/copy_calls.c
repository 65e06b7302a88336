/*
 * In-kernel copies and file-backed mappings. Each copy call is one R event on
 * its source fd and one W event on its destination fd, with equal bytes; a
 * file-backed mmap is one M event with bytes = the mapped length.
 *
 * usage: copy_calls OUTDIR
 * src.txt:      W 10000 (write); R 4000 (sendfile), R 3000 (splice),
 *               R 5000 (copy_file_range); M 8192 (mmap)
 * sendfile.txt: W 4000 (sendfile)
 * pipe:         W 3000 (splice), R 3000 (splice)    prints inode.pipe
 * splice.txt:   W 3000 (splice)
 * cfr.txt:      W 5000 (copy_file_range); M 4096 (mmap, shared, writable)
 */
#include "common.h"
#include <sys/mman.h>
#include <sys/sendfile.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *out = argv[1];
    char p[PATH_MAX];
    note("pid.main %d", (int)getpid());

    int w = open_out(out, "src.txt", 0);
    write_n(w, 10000);
    close(w);
    int src = open_in(out, "src.txt");

    int sf = open_out(out, "sendfile.txt", 0);
    if (sendfile(sf, src, NULL, 4000) != 4000)
        die("sendfile");

    int pp[2];
    if (pipe(pp) < 0)
        die("pipe");
    note("inode.pipe %lu", inode_of(pp[0]));
    int sp = open_out(out, "splice.txt", 0);
    loff_t off = 0;
    if (splice(src, &off, pp[1], NULL, 3000, 0) != 3000)
        die("splice in");
    if (splice(pp[0], NULL, sp, NULL, 3000, 0) != 3000)
        die("splice out");

    int cfr = open(path_in(p, out, "cfr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (cfr < 0)
        die("cfr.txt");
    off = 0;
    if (copy_file_range(src, &off, cfr, NULL, 5000, 0) != 5000)
        die("copy_file_range");

    void *m1 = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, src, 0);
    void *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, cfr, 0);
    void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m1 == MAP_FAILED || m2 == MAP_FAILED || anon == MAP_FAILED)
        die("mmap");
    munmap(m1, 8192);
    munmap(m2, 4096);
    munmap(anon, 4096);
    return 0;
}
