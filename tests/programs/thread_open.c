/*
 * Threads share the fd table: a thread opens a file that the main thread
 * then writes, and writes to a file the main thread opened.
 *
 * usage: thread_open OUTDIR
 * by_thread.txt: W 7 (thread), W 70 (main thread)
 * by_main.txt:   W 5 (main thread), W 50 (thread)
 */
#include "common.h"
#include <pthread.h>

static const char *out;
static int main_fd;
static int thread_fd;

static void *worker(void *arg)
{
    (void)arg;
    note("tid.thread %d", (int)gettid());
    thread_fd = open_out(out, "by_thread.txt", 0);
    write_n(thread_fd, 7);
    write_n(main_fd, 50);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    out = argv[1];
    note("pid.main %d", (int)getpid());
    main_fd = open_out(out, "by_main.txt", 0);
    write_n(main_fd, 5);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        die("pthread_create");
    pthread_join(t, NULL);
    write_n(thread_fd, 70);
    return 0;
}
