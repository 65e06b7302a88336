/* Seed program for the process-heavy benchmark log: many short-lived processes.
 *
 * Per round, like a shell script's loop: fork + exec /bin/true (the dynamic
 * loader's openat/read/pread64/mmap/close, exit), then a pipeline
 * `cat FILE | parent`: pipe2, fork, dup2 onto stdout, exec /bin/cat, the
 * parent reading the pipe to EOF, waitpid. Nearly every line belongs to a
 * process that lives for a few dozen lines. Run it under iomonitor's own
 * strace flags (see gen_log.py); benchmarks/gen_log.py replicates the log.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    const char *file = argc > 2 ? argv[2] : "/etc/hostname";
    for (int i = 0; i < rounds; i++) {
        pid_t p = fork();
        if (p == 0) {
            execl("/bin/true", "true", (char *)0);
            _exit(127);
        }
        waitpid(p, NULL, 0);

        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return 1;
        p = fork();
        if (p == 0) {
            dup2(fds[1], 1);
            execl("/bin/cat", "cat", file, (char *)0);
            _exit(127);
        }
        close(fds[1]);
        char buf[4096];
        while (read(fds[0], buf, sizeof buf) > 0)
            ;
        close(fds[0]);
        waitpid(p, NULL, 0);
    }
    return 0;
}
