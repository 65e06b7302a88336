/*
 * iomonitor's eBPF loader: loads iomonitor.bpf.c, runs a command (or adopts
 * running processes) with their whole tree traced, and writes every traced
 * call as a line of strace's own `-f -ttt -T -yy` output to --out-fd. The
 * lines go through the same converter as strace's, so this file holds no
 * I/O semantics: it only prints what the kernel saw, in strace's words.
 *
 * usage: loader --out-fd N --status-fd N [--go-fd N] [--ring MB] -- command [args...]
 *        loader --out-fd N --status-fd N [--go-fd N] [--ring MB] --pid PID [--pid PID...]
 *
 * --go-fd: tracing starts (the command is started, or the processes are
 * adopted) once a byte can be read from it, so that iomonitor loads its own
 * libraries while the kernel verifies and attaches the programs, and not
 * while the traced programs run beside it.
 *
 * --status-fd gets one line per event of the capture itself: "ready",
 * "child PID", "execfail ERRNO", "drops N" (all records lost: ring buffer full,
 * no room for a call in flight, or program runs the kernel skipped, "missed N"),
 * "exit STATUS" / "signal N",
 * "error TEXT", then "done" once the log is closed: what follows is the
 * detach from the kernel (seconds), which nobody needs to wait for.
 * SIGINT/SIGTERM end the capture (a command keeps running; an attached
 * process is left alone); when its parent ends, the loader stops, detaches
 * and ends too.
 *
 * No buffer contents are read: buffers print as "".
 */
#define _GNU_SOURCE
#include "loader.h"
#include "iomonitor.skel.h"

#define CALL(n, c) {#n, SYS_##n, c, NULL, 0}
#define CALL3(n, c) {#n, SYS_##n, c, NULL, 1}
/* The syscalls traced, as in schema.py's TRACED_SYSCALLS. Process
 * creation, exec and exit come from the scheduler's tracepoints instead. */
static const struct call calls[] = {
	CALL3(read, C_FD0), CALL3(write, C_FD0), CALL3(pread64, C_FD0), CALL3(pwrite64, C_FD0),
	CALL3(readv, C_FD0), CALL3(writev, C_FD0), CALL3(preadv, C_FD0), CALL3(pwritev, C_FD0),
	CALL3(preadv2, C_FD0), CALL3(pwritev2, C_FD0), CALL3(vmsplice, C_FD0),
	CALL(sendto, C_SENDTO), CALL(recvfrom, C_RECVFROM), CALL3(sendmsg, C_MSG),
	CALL3(recvmsg, C_RECVMSG), CALL(sendmmsg, C_MMSG), CALL(recvmmsg, C_MMSG),
	{"sendfile", SYS_sendfile, C_XFER1, "sendfile64", 0}, CALL(tee, C_XFER1), CALL(splice, C_XFER2),
	CALL(copy_file_range, C_XFER2), CALL(mmap, C_MMAP),
	CALL(open, C_OPEN0), CALL(creat, C_OPEN0), CALL3(openat, C_PATH1), CALL(openat2, C_OPENAT2),
	CALL(chdir, C_PATH0), CALL(fchdir, C_FD0), CALL(memfd_create, C_PATH0),
	CALL3(connect, C_ADDR), CALL3(bind, C_ADDR), CALL(accept, C_ACCEPT), CALL(accept4, C_ACCEPT),
	CALL(pipe, C_PAIR0), CALL(pipe2, C_PAIR0), CALL(socketpair, C_PAIR3),
	CALL(socket, C_PLAIN), CALL(close, C_PLAIN), CALL(close_range, C_PLAIN),
	CALL(dup, C_FD0), CALL(dup2, C_FD0), CALL3(dup3, C_FD0), CALL3(fcntl, C_FCNTL),
	CALL(unshare, C_PLAIN), CALL(eventfd, C_PLAIN), CALL(eventfd2, C_PLAIN),
	CALL(epoll_create, C_PLAIN), CALL(epoll_create1, C_PLAIN), CALL(timerfd_create, C_PLAIN),
	CALL(signalfd, C_PLAIN), CALL(signalfd4, C_PLAIN), CALL(inotify_init, C_PLAIN),
	CALL(inotify_init1, C_PLAIN), CALL(fanotify_init, C_PLAIN), CALL(pidfd_open, C_PLAIN),
	CALL(pidfd_getfd, C_PLAIN), CALL(open_by_handle_at, C_PLAIN),
	CALL(io_uring_setup, C_PLAIN), CALL(io_uring_enter, C_PLAIN),
	CALL(io_uring_register, C_PLAIN), CALL(io_setup, C_PLAIN), CALL(io_submit, C_PLAIN),
	CALL(io_getevents, C_PLAIN), CALL(io_pgetevents, C_PLAIN),
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* -- the capture ------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested, parent_gone;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * iomonitor is gone: stop now and detach. Not SIGKILL: a killed process
 * closes its tracepoints one after the other in the kernel (~10 s for all),
 * where detach_calls() overlaps them. The alarm ends a loader that would
 * hang on its way out anyway.
 */
static void on_parent_gone(int sig)
{
	(void)sig;
	parent_gone = 1;
	alarm(30);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("IOMONITOR_EBPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static int add_tids(int map_fd, int pid)
{
	char dir[64];
	struct dirent *d;
	DIR *dh;
	unsigned char one = 1;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	dh = opendir(dir);
	if (!dh)
		return -1;
	while ((d = readdir(dh))) {
		unsigned tid = strtoul(d->d_name, NULL, 10);
		if (tid && bpf_map_update_elem(map_fd, &tid, &one, BPF_ANY) == 0)
			n++;
	}
	closedir(dh);
	return n;
}

/* Whether any traced thread is still alive (entries of threads that ended
 * before the exit tracepoint could see them are removed on the way). */
static int anyone_traced(int map_fd)
{
	unsigned key, next;
	unsigned *prev = NULL;
	char p[64];
	int alive = 0;

	while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		snprintf(p, sizeof(p), "/proc/%u", key);
		if (access(p, F_OK) == 0)
			alive = 1;
		else
			bpf_map_delete_elem(map_fd, &key);
	}
	return alive;
}

static unsigned long long total_drops(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long sum = 0, *v;
	unsigned zero = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && bpf_map_lookup_elem(map_fd, &zero, v) == 0)
		for (int i = 0; i < ncpu; i++) {
			if (v[i])
				status("drops-cpu %d %llu", i, v[i]);
			sum += v[i];
		}
	free(v);
	return sum;
}

/*
 * Runs of the BPF programs the kernel skipped: a program that is still
 * running on a CPU is not run again there (it was preempted, or a tracepoint
 * fired inside it). Each skipped run can be a lost record.
 */
static unsigned long long total_missed(struct iomonitor_bpf *skel)
{
	struct bpf_program *prog;
	unsigned long long sum = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			sum += info.recursion_misses;
	}
	return sum;
}

/* -- the syscall tracepoints ----------------------------------------------------- */

static struct bpf_link *links[2 * NCALLS];
static int nlinks;

/* The syscall tracepoints live in tracefs, which a fresh system may not
 * have mounted. */
static void mount_tracefs(void)
{
	if (access("/sys/kernel/tracing/events/syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return;
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
}

/* on_enter and on_exit on the tracepoints of every traced call. */
static int attach_calls(struct iomonitor_bpf *skel)
{
	char name[64];

	mount_tracefs();
	for (size_t i = 0; i < NCALLS; i++) {
		if (calls[i].nr < 0 || calls[i].nr >= NR_MAX)
			continue;
		for (int exit = 0; exit < 2; exit++) {
			struct bpf_link *l;
			snprintf(name, sizeof(name), "sys_%s_%s", exit ? "exit" : "enter",
				 calls[i].event ? calls[i].event : calls[i].name);
			l = bpf_program__attach_tracepoint(exit ? skel->progs.on_exit
							   : calls[i].args3 ? skel->progs.on_enter3
							   : skel->progs.on_enter,
							   "syscalls", name);
			if (!l)
				return -errno;
			links[nlinks++] = l;
		}
	}
	return 0;
}

#define DETACH_THREADS 4

static void *detach_some(void *arg)
{
	for (int i = (int)(long)arg; i < nlinks; i += DETACH_THREADS)
		bpf_link__destroy(links[i]);
	return NULL;
}

/*
 * Closing a syscall tracepoint waits for the kernel's grace periods (~65 ms
 * each here), part of it under a kernel lock: ~130 closed in turn took
 * 8.3 s, from 4 threads 4.6 s, and no less from 16 or 64.
 */
static void detach_calls(void)
{
	pthread_t th[DETACH_THREADS];
	int started = 0;

	for (long i = 0; i < DETACH_THREADS; i++)
		if (pthread_create(&th[started], NULL, detach_some, (void *)i) == 0)
			started++;
		else
			detach_some((void *)i);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	nlinks = 0;
}

/* The capture ends before it started: the log and the status closed
 * first, as at a normal end, so that nobody waits for the detach. */
static int give_up(int code)
{
	close(out_fd);
	status("done");
	close(status_fd);
	detach_calls();
	return code;
}

int main(int argc, char **argv)
{
	struct iomonitor_bpf *skel;
	struct ring_buffer *ring = NULL;
	int pids[64], npids = 0, i, err, go[2], efd[2], go_fd = -1;
	char **cmd = NULL;
	pid_t child = -1, parent = getppid();
	int child_status = -1;
	unsigned long long ring_mb = 64; /* as runner.py's RING_MB */

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out-fd") && i + 1 < argc)
			out_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--status-fd") && i + 1 < argc)
			status_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--go-fd") && i + 1 < argc)
			go_fd = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ring") && i + 1 < argc)
			ring_mb = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--pid") && i + 1 < argc && npids < 64)
			pids[npids++] = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--") && i + 1 < argc) {
			cmd = argv + i + 1;
			break;
		} else {
			fprintf(stderr, "iomonitor-ebpf: bad argument %s\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (out_fd < 0 || status_fd < 0 || (!cmd == !npids) || ring_mb < 1 || ring_mb > 1024) {
		fprintf(stderr, "iomonitor-ebpf: usage: --out-fd N --status-fd N (-- CMD | --pid P)\n");
		return EXIT_USAGE;
	}
	/* Never outlive iomonitor: the kernel tells us when it is gone. */
	signal(SIGUSR2, on_parent_gone);
	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	if (getppid() != parent)
		return EXIT_BPF;
	signal(SIGPIPE, SIG_IGN);
	fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
	for (i = 0; i < (int)NCALLS; i++)
		if (calls[i].nr >= 0 && calls[i].nr < NR_MAX)
			by_nr[calls[i].nr] = &calls[i];

	libbpf_set_print(libbpf_quiet);
	skel = iomonitor_bpf__open();
	if (!skel) {
		status("error cannot open the BPF object: %s", strerror(errno));
		return EXIT_BPF;
	}
	for (i = 0; i < (int)NCALLS; i++)
		if (calls[i].nr >= 0 && calls[i].nr < NR_MAX)
			skel->rodata->wanted[calls[i].nr] = calls[i].cls;
	/* A power of two, as the ring buffer requires. */
	bpf_map__set_max_entries(skel->maps.rb, ring_mb << 20);
	skel->rodata->ring_size = ring_mb << 20;
	/* The syscall programs are attached by attach_calls(), once per call. */
	bpf_program__set_autoattach(skel->progs.on_enter, false);
	bpf_program__set_autoattach(skel->progs.on_enter3, false);
	bpf_program__set_autoattach(skel->progs.on_exit, false);
	err = iomonitor_bpf__load(skel);
	if (err) {
		status("error cannot load the BPF program: %s", strerror(-err));
		return EXIT_BPF;
	}
	err = iomonitor_bpf__attach(skel);
	if (!err)
		err = attach_calls(skel);
	if (err) {
		status("error cannot attach the BPF program: %s", strerror(-err));
		return give_up(EXIT_BPF);
	}
	ring = ring_buffer__new(bpf_map__fd(skel->maps.rb), handle, NULL, NULL);
	if (!ring) {
		status("error cannot open the ring buffer: %s", strerror(errno));
		return give_up(EXIT_BPF);
	}
	signal(SIGTERM, on_stop);
	if (cmd) {
		/* As strace does with a command: a terminal's Ctrl-C, Ctrl-\ or
		 * hang-up goes to the command, which decides; the loader records
		 * until it ends. iomonitor stops the loader with SIGTERM. */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
	} else {
		signal(SIGINT, on_stop);
		signal(SIGHUP, on_stop);
	}
	if (go_fd >= 0) {
		char c;
		ssize_t n;
		while ((n = read(go_fd, &c, 1)) < 0 && errno == EINTR && !stop_requested)
			;
		close(go_fd);
		if (n != 1) /* iomonitor gave up before tracing started */
			return give_up(EXIT_BPF);
	}
	sample_offset();

	int traced_fd = bpf_map__fd(skel->maps.traced);
	if (cmd) {
		if (pipe2(go, O_CLOEXEC) || pipe2(efd, O_CLOEXEC)) {
			status("error pipe: %s", strerror(errno));
			return give_up(EXIT_BPF);
		}
		child = fork();
		if (child < 0) {
			status("error fork: %s", strerror(errno));
			return give_up(EXIT_BPF);
		}
		if (child == 0) {
			char c;
			int e;
			signal(SIGINT, SIG_DFL);
			signal(SIGQUIT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGPIPE, SIG_DFL);
			prctl(PR_SET_PDEATHSIG, 0);
			close(go[1]);
			close(efd[0]);
			/* Wait until our pid is in the traced set. */
			if (read(go[0], &c, 1) != 1)
				_exit(127);
			close(out_fd);
			close(status_fd);
			execvp(cmd[0], cmd);
			e = errno;
			if (write(efd[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		close(go[0]);
		close(efd[1]);
		/* Traced from its execve on: what it does before is ours. */
		unsigned char wait_exec = 2;
		unsigned tid = child;
		bpf_map_update_elem(traced_fd, &tid, &wait_exec, BPF_ANY);
		status("child %d", child);
		if (write(go[1], "x", 1) != 1) {
			status("error cannot start the command");
			return give_up(EXIT_BPF);
		}
		close(go[1]);
		int e = 0;
		if (read(efd[0], &e, sizeof(e)) == sizeof(e)) {
			status("execfail %d", e);
			waitpid(child, NULL, 0);
			return give_up(127);
		}
		close(efd[0]);
	} else {
		for (i = 0; i < npids; i++) {
			snapshot(pids[i]);
			if (add_tids(traced_fd, pids[i]) <= 0) {
				status("nosuchpid %d", pids[i]);
				return give_up(EXIT_BPF);
			}
		}
	}
	status("ready");

	/* Drain every 10 ms; the BPF side wakes us early only when half full. */
	for (;;) {
		ring_buffer__poll(ring, 10);
		sample_offset();
		ring_buffer__consume(ring);
		flush_out(0);
		if (child > 0 && child_status < 0) {
			int st;
			if (waitpid(child, &st, WNOHANG) == child)
				child_status = st;
		}
		if (stop_requested) {
			/* Told to stop while the command runs: give it a moment to
			 * end (it may be ending on the same signal) for its status. */
			static struct timespec until;
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (!until.tv_sec)
				until.tv_sec = now.tv_sec + 1, until.tv_nsec = now.tv_nsec;
			if (child <= 0 || child_status >= 0 || now.tv_sec > until.tv_sec ||
			    (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
				break;
		}
		if (child > 0 && child_status >= 0 && !anyone_traced(traced_fd))
			break;
		if (!cmd) {
			static int tick;
			if (++tick % 10 == 0 && !anyone_traced(traced_fd))
				break;
		}
		if (parent_gone || getppid() != parent)
			break;
	}
	ring_buffer__consume(ring);
	flush_out(1);
	unsigned long long missed = total_missed(skel);
	unsigned long long dropped = total_drops(bpf_map__fd(skel->maps.drops));
	if (missed)
		status("missed %llu", missed);
	status("drops %llu", dropped + missed);
	if (child > 0 && child_status < 0) {
		int st;
		if (waitpid(child, &st, WNOHANG) == child)
			child_status = st;
	}
	if (child_status >= 0) {
		if (WIFSIGNALED(child_status))
			status("signal %d", WTERMSIG(child_status));
		else
			status("exit %d", WEXITSTATUS(child_status));
	}
	/* The end of the log: the reader needs nothing more from us, so the
	 * detach below (closing the links) never delays it. */
	close(out_fd);
	status("done");
	close(status_fd);
	ring_buffer__free(ring);
	detach_calls();
	iomonitor_bpf__destroy(skel);
	return 0;
}
