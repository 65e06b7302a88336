/*
 * The kernel's own I/O counters of one program run.
 *
 * usage: iocount OUT PROGRAM [ARGS...]
 *   forks, execs PROGRAM, waits for it to exit without reaping it
 *   (waitid WEXITED|WNOWAIT), copies its /proc/PID/io and writes
 *   "pid N", "status N" and the counters ("rchar N", "wchar N", ...) to OUT,
 *   then reaps it. Exits with PROGRAM's exit status.
 *
 * usage: iocount --exec-only OUT PROGRAM [ARGS...]
 *   the same, but the child stops (PTRACE_TRACEME) right after its execve
 *   succeeded, before the program's first instruction: the counters then
 *   hold only what the kernel itself read to load the program (the ELF
 *   headers, the interpreter's headers), which the program's own system
 *   calls do not show. The child is killed there. Cannot run under a tracer.
 */
#include "common.h"

#include <signal.h>
#include <sys/ptrace.h>

static void copy_io(pid_t pid, const char *out, const char *extra)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    int in = open(path, O_RDONLY);
    if (in < 0)
        die(path);
    ssize_t n = read(in, buf, sizeof buf - 1);
    if (n <= 0)
        die("read /proc/PID/io");
    close(in);
    buf[n] = 0;
    /* "rchar: 123" -> "rchar 123" */
    for (char *c = buf; *c; c++)
        if (*c == ':' && c[1] == ' ')
            memmove(c, c + 1, strlen(c));
    FILE *f = fopen(out, "w");
    if (f == NULL)
        die(out);
    fprintf(f, "pid %d\n%s%s", (int)pid, extra, buf);
    if (fclose(f) != 0)
        die(out);
}

int main(int argc, char **argv)
{
    int exec_only = argc > 1 && strcmp(argv[1], "--exec-only") == 0;
    if (argc < 3 + exec_only) {
        fprintf(stderr, "usage: iocount [--exec-only] OUT PROGRAM [ARGS...]\n");
        return 2;
    }
    const char *out = argv[1 + exec_only];
    char **prog = argv + 2 + exec_only;

    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (exec_only && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            die("PTRACE_TRACEME");
        execvp(prog[0], prog);
        die(prog[0]);
    }
    if (exec_only) {
        int status;
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid");
        if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
            fprintf(stderr, "iocount: child did not stop after execve: %#x\n", status);
            return 97;
        }
        copy_io(pid, out, "");
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return 0;
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) != 0)
        die("waitid");
    char extra[64];
    int status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    snprintf(extra, sizeof extra, "status %d\n", status);
    copy_io(pid, out, extra);
    if (waitpid(pid, NULL, 0) != pid)
        die("waitpid");
    return status;
}
