// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel side of iomonitor's eBPF backend.
 *
 * One program runs at the entry and one at the exit of each traced system
 * call, attached by the loader to that call's own tracepoints
 * (syscalls/sys_enter_NAME, sys_exit_NAME): the kernel tests a bitmap of
 * enabled calls before it runs any program, so the calls iomonitor does not
 * trace (most of what a busy program does) cost it nothing. The raw
 * tracepoints (sys_enter, sys_exit) ran a program on every call of every
 * task: 1.7-1.8x untraced on a getppid loop, against 1.07x. A hash of traced
 * thread ids (filled on fork) drops other processes; a traced thread's task
 * storage, made at its first traced call, marks it from then on.
 *
 * At the call's exit one record goes into the ring buffer, with the fds the
 * call names looked up in the task's own fd table (device, inode, type; for
 * sockets family, type and both addresses, read from the socket itself).
 * Records are submitted without a wake-up (a wake-up costs ~11 us here); the
 * loader drains every 10 ms, and a half-full ring forces one. A full ring
 * drops the record and counts it per CPU.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "record.h"

char LICENSE[] SEC("license") = "GPL";

#define NR_MAX 512
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define MAP_ANONYMOUS 0x20
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

/* Set by the loader before load: what to do per syscall number (C_*). */
const volatile unsigned char wanted[NR_MAX] = {};
/* Ring size, for the forced wake-up at half full. */
const volatile unsigned long long ring_size = 1;

/* Sized by the loader before load (--ring). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} rb SEC(".maps");

/* Thread ids of the traced tree: TRACED, or WAIT_EXEC for the command the
 * loader forked, whose own calls before its execve are the loader's; HELD
 * once the thread has room for its calls in flight (see on_exit). */
#define TRACED 1
#define WAIT_EXEC 2
#define HELD 4
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, u32);
	__type(value, u8);
} traced SEC(".maps");

/* Records lost to a full ring, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

struct inflight {
	u64 ts;
	u64 args[6];
	u32 nr;
	u32 live;
};

/* The call a thread is in, between sys_enter and sys_exit. Created at a
 * traced thread's first traced call, and only for traced threads. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} calls SEC(".maps");

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&drops, &zero);
	if (n)
		*n += 1;
}

/*
 * No wake-up per record: the loader drains every 10 ms. The record that
 * takes the ring past half full wakes it early, that one only: a wake-up
 * for every record while the ring stays past half (a loader that is slow to
 * get a CPU) cost the traced program ~1 us more per call. A crossing missed
 * (another CPU's record counted in the same query) leaves the 10 ms drain.
 */
static __always_inline void submit(void *rec, u64 size)
{
	u64 avail = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA);
	u64 half = ring_size / 2;

	/* A record takes its size and an 8-byte header, rounded up to 8. */
	bpf_ringbuf_submit(rec, avail > half && avail - half <= ((size + 15) & ~7ULL)
			   ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

#include "fdname.bpf.h"

/* The records of the syscalls/sys_enter_NAME and sys_exit_NAME tracepoints
 * (their format files): the common header, the call's number, then its
 * arguments or its return value. A program may read only what the shortest
 * record it is attached to holds (the kernel refuses to attach it otherwise):
 * on_enter3, for the calls of three arguments or more whose record needs no
 * others, reads them from the record; on_enter, for the rest, from the
 * task's saved registers (a helper call and six loads: ~35 ns more). */
struct sc_enter {
	u64 common;
	s32 nr;
	s32 pad;
};
struct sc_enter3 {
	u64 common;
	s32 nr;
	s32 pad;
	u64 args[3];
};
struct sc_exit {
	u64 common;
	s32 nr;
	s32 pad;
	s64 ret;
};

/* The room for the call a traced thread enters, or NULL for a thread that
 * is not traced. */
static __always_inline struct inflight *enter_call(struct task_struct *t, long id)
{
	struct inflight *c;

	if (id < 0 || id >= NR_MAX || !wanted[id])
		return NULL;
	/* Only traced threads have room for their calls, so the room is their
	 * mark: one lookup per call, where the hash of thread ids first cost a
	 * second one (~60 ns of the ~250 this program took per call). */
	c = bpf_task_storage_get(&calls, t, 0, 0);
	if (!c) {
		u32 tid = (u32)bpf_get_current_pid_tgid();
		u8 *v = bpf_map_lookup_elem(&traced, &tid);

		if (!v || !(*v & TRACED))
			return NULL;
		c = bpf_task_storage_get(&calls, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!c) {
			count_drop(); /* no room to hold the call: it is lost, and counted */
			return NULL;
		}
		*v |= HELD;
	}
	c->nr = id;
	return c;
}

SEC("tracepoint")
int on_enter(struct sc_enter *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct inflight *c = enter_call(t, ctx->nr);
	struct pt_regs *regs;

	if (!c)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	c->args[0] = regs->di;
	c->args[1] = regs->si;
	c->args[2] = regs->dx;
	c->args[3] = regs->r10;
	c->args[4] = regs->r8;
	c->args[5] = regs->r9;
	c->live = 1;
	c->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint")
int on_enter3(struct sc_enter3 *ctx)
{
	struct inflight *c = enter_call(bpf_get_current_task_btf(), ctx->nr);

	if (!c)
		return 0;
	c->args[0] = ctx->args[0];
	c->args[1] = ctx->args[1];
	c->args[2] = ctx->args[2];
	c->args[3] = 0;
	c->args[4] = 0;
	c->args[5] = 0;
	c->live = 1;
	c->ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void fill(struct io_rec *h, struct inflight *c, long ret, u64 now, u32 kind)
{
	u64 pt = bpf_get_current_pid_tgid();

	h->kind = kind;
	h->tid = (u32)pt;
	h->tgid = pt >> 32;
	h->nr = c->nr;
	h->ts = c->ts;
	h->dt = now - c->ts;
	h->ret = ret;
	h->args[0] = c->args[0];
	h->args[1] = c->args[1];
	h->args[2] = c->args[2];
	h->args[3] = c->args[3];
	h->args[4] = c->args[4];
	h->args[5] = c->args[5];
	h->ext_len = 0;
	h->ext2_len = 0;
	__builtin_memset(&h->fd, 0, sizeof(h->fd));
}

static __always_inline void read_addr(struct io_rec_ext *r, u64 ptr, u64 len)
{
	if (!ptr || len == 0)
		return;
	if (len > 128)
		len = 128;
	if (bpf_probe_read_user(r->ext, len & 255, (void *)ptr) == 0)
		r->h.ext_len = len;
}

struct umsg {
	u64 name;
	s32 namelen;
	s32 pad;
	u64 iov;
	u64 iovlen;
	u64 control;
	u64 controllen;
	u32 flags;
};

static __always_inline void read_msg(struct io_rec_ext *r, u64 ptr)
{
	struct umsg m;
	struct { u64 len; s32 level; s32 type; } cm;
	u32 n;

	if (bpf_probe_read_user(&m, sizeof(m), (void *)ptr))
		return;
	if (m.name && m.namelen > 0)
		read_addr(r, m.name, m.namelen);
	if (!m.control || m.controllen < sizeof(cm))
		return;
	if (bpf_probe_read_user(&cm, sizeof(cm), (void *)m.control))
		return;
	/* SOL_SOCKET, SCM_RIGHTS: an array of ints follows the header. */
	if (cm.level != 1 || cm.type != 1 || cm.len <= sizeof(cm))
		return;
	n = (cm.len - sizeof(cm)) / 4;
	if (n > MAX_SCM)
		n = MAX_SCM;
	for (u32 i = 0; i < MAX_SCM; i++) {
		if (i >= n)
			break;
		if (bpf_probe_read_user(r->ext + EXT_SCM + i * 4, 4,
					(void *)(m.control + sizeof(cm) + i * 4)))
			break;
		r->h.ext2_len = i + 1;
	}
}

SEC("tracepoint")
int on_exit(struct sc_exit *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct inflight *c;
	struct io_rec_ext *r;
	struct io_rec *h;
	long nr = ctx->nr, ret = ctx->ret;
	u64 now;
	u8 cls;

	/* Calls of other processes stop here, before any map is touched. */
	if (nr < 0 || nr >= NR_MAX || !wanted[nr])
		return 0;
	c = bpf_task_storage_get(&calls, t, 0, 0);
	if (!c) {
		/* A thread that has room for its calls, but the kernel did not
		 * hand it over (the storage is busy on this CPU): the call's
		 * record is lost, and counted. A thread without room yet is one
		 * attached to inside this call, or whose entry already counted. */
		u32 tid = (u32)bpf_get_current_pid_tgid();
		u8 *v = bpf_map_lookup_elem(&traced, &tid);
		if (v && (*v & HELD))
			count_drop();
		return 0;
	}
	if (!c->live)
		return 0;
	/* A call interrupted by a signal and restarted by the kernel enters
	 * again: only that second run is recorded (-ERESTARTSYS and kin). It
	 * stays live meanwhile: if the signal kills the task, the task's exit
	 * reports the call as unseen, as strace's "= ?". */
	if (ret <= -512 && ret >= -516)
		return 0;
	c->live = 0;
	now = bpf_ktime_get_ns();
	cls = wanted[c->nr & (NR_MAX - 1)];
	if (cls == C_FCNTL) {
		u64 cmd = c->args[1];
		if (cmd != 0 && cmd != 1030 && cmd != 2)
			return 0;
	}
	if (cls == C_MMAP && ((c->args[3] & MAP_ANONYMOUS) || (long)c->args[4] < 0))
		return 0;

	switch (cls) {
	case C_PLAIN:
	case C_FD0:
	case C_XFER1:
	case C_XFER2:
	case C_MMAP:
	case C_FCNTL:
		h = bpf_ringbuf_reserve(&rb, sizeof(*h), 0);
		if (!h) {
			count_drop();
			return 0;
		}
		fill(h, c, ret, now, REC_SYS);
		if (cls == C_MMAP)
			name_fd(t, c->args[4], &h->fd[0]);
		else if (cls != C_PLAIN)
			name_fd(t, c->args[0], &h->fd[0]);
		if (cls == C_XFER1)
			name_fd(t, c->args[1], &h->fd[1]);
		else if (cls == C_XFER2)
			name_fd(t, c->args[2], &h->fd[1]);
		submit(h, sizeof(*h));
		return 0;
	}

	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	h = &r->h;
	fill(h, c, ret, now, REC_SYS_EXT);
	switch (cls) {
	case C_SENDTO:
		name_fd(t, c->args[0], &h->fd[0]);
		read_addr(r, c->args[4], c->args[5]);
		break;
	case C_RECVFROM: {
		u32 len = 0;
		name_fd(t, c->args[0], &h->fd[0]);
		if (ret >= 0 && c->args[5] &&
		    bpf_probe_read_user(&len, sizeof(len), (void *)c->args[5]) == 0)
			read_addr(r, c->args[4], len);
		break;
	}
	case C_MSG:
	case C_RECVMSG:
		name_fd(t, c->args[0], &h->fd[0]);
		if (ret >= 0)
			read_msg(r, c->args[1]);
		if (ret >= 0 && cls == C_RECVMSG && h->ext2_len)
			name_received(r);
		break;
	case C_MMSG: {
		u32 *lens = (u32 *)(r->ext + EXT_MMSG);
		u64 base = c->args[1];
		long n = ret;
		struct umsg m;
		name_fd(t, c->args[0], &h->fd[0]);
		/* The first message's address: the peer of an unconnected socket. */
		if (n > 0 && bpf_probe_read_user(&m, sizeof(m), (void *)base) == 0 &&
		    m.name && m.namelen > 0)
			read_addr(r, m.name, m.namelen);
		if (n > MAX_MMSG)
			n = MAX_MMSG;
		for (int i = 0; i < MAX_MMSG; i++) {
			if (i >= n)
				break;
			/* struct mmsghdr: a 56-byte msghdr, then msg_len, padded to 64. */
			bpf_probe_read_user(&lens[i], 4, (void *)(base + i * 64 + 56));
		}
		h->ext2_len = n > 0 ? n : 0;
		break;
	}
	case C_PATH0:
	case C_OPEN0:
	case C_PATH1:
	case C_OPENAT2: {
		long n;
		bool at = cls == C_PATH1 || cls == C_OPENAT2;
		if (at)
			name_fd(t, c->args[0], &h->fd[0]);
		n = bpf_probe_read_user_str(r->ext, EXT_WALK, (void *)c->args[at ? 1 : 0]);
		h->ext_len = n > 0 ? n : 0;
		if (cls != C_PATH0 && ret >= 0) {
			struct file *f = fd_file(t, ret);
			if (f)
				walk_path(r, KCAST(struct file, f));
		}
		/* openat2: the flags are the first field of struct open_how. */
		if (cls == C_OPENAT2) {
			u64 flags = 0;
			bpf_probe_read_user(&flags, 8, (void *)c->args[2]);
			h->args[2] = flags;
		}
		break;
	}
	case C_ADDR:
		name_fd(t, c->args[0], &h->fd[0]);
		read_addr(r, c->args[1], c->args[2]);
		break;
	case C_ACCEPT: {
		u32 len = 0;
		name_fd(t, c->args[0], &h->fd[0]);
		if (ret >= 0) {
			name_fd(t, ret, &h->fd[1]);
			if (c->args[2] &&
			    bpf_probe_read_user(&len, sizeof(len), (void *)c->args[2]) == 0)
				read_addr(r, c->args[1], len);
		}
		break;
	}
	case C_PAIR0:
	case C_PAIR3: {
		int fds[2] = {-1, -1};
		if (ret == 0 &&
		    bpf_probe_read_user(fds, sizeof(fds), (void *)c->args[cls == C_PAIR0 ? 0 : 3]) == 0) {
			name_fd(t, fds[0], &h->fd[0]);
			name_fd(t, fds[1], &h->fd[1]);
			__builtin_memcpy(r->ext, fds, sizeof(fds));
			h->ext_len = sizeof(fds);
		}
		break;
	}
	}
	submit(r, sizeof(*r));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	u32 ptid = BPF_CORE_READ(parent, pid);
	u32 ctid = BPF_CORE_READ(child, pid);
	struct io_rec *h;
	u8 one = TRACED;
	u64 flags = 0;
	u8 *v = bpf_map_lookup_elem(&traced, &ptid);

	if (!v || !(*v & TRACED))
		return 0;
	bpf_map_update_elem(&traced, &ctid, &one, BPF_ANY);
	h = bpf_ringbuf_reserve(&rb, sizeof(*h), 0);
	if (!h) {
		count_drop();
		return 0;
	}
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = REC_FORK;
	h->tid = ptid;
	h->tgid = BPF_CORE_READ(parent, tgid);
	h->ts = bpf_ktime_get_ns();
	h->ret = ctid;
	/* What the child shares with its parent, from the tasks themselves. */
	if (BPF_CORE_READ(child, files) == BPF_CORE_READ(parent, files))
		flags |= 1; /* CLONE_FILES */
	if (BPF_CORE_READ(child, fs) == BPF_CORE_READ(parent, fs))
		flags |= 2; /* CLONE_FS */
	if (BPF_CORE_READ(child, tgid) == h->tgid)
		flags |= 4; /* CLONE_THREAD */
	else if (BPF_CORE_READ(child, real_parent, tgid) != h->tgid)
		flags |= 8; /* CLONE_PARENT */
	if (BPF_CORE_READ(child, mm) == BPF_CORE_READ(parent, mm))
		flags |= 16; /* CLONE_VM */
	h->args[0] = flags;
	submit(h, sizeof(*h));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u32 tid = BPF_CORE_READ(p, pid);
	u32 old = old_pid;
	struct io_rec_ext *r;
	u64 start, end, len;
	long n;

	u8 one = TRACED;

	if (!bpf_map_lookup_elem(&traced, &tid) &&
	    (old == tid || !bpf_map_lookup_elem(&traced, &old)))
		return 0;
	bpf_map_update_elem(&traced, &tid, &one, BPF_ANY);
	if (old != tid)
		bpf_map_delete_elem(&traced, &old);
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		count_drop();
		return 0;
	}
	__builtin_memset(&r->h, 0, sizeof(r->h));
	r->h.kind = REC_EXEC;
	r->h.tid = tid;
	r->h.tgid = BPF_CORE_READ(p, tgid);
	r->h.ts = bpf_ktime_get_ns();
	r->h.args[0] = old;
	n = bpf_probe_read_kernel_str(r->ext, EXEC_ARGV, BPF_CORE_READ(bprm, filename));
	r->h.ext_len = n > 0 ? n : 0;
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	if (len > EXEC_ARGV_MAX)
		len = EXEC_ARGV_MAX;
	if (len && bpf_probe_read_user(r->ext + EXEC_ARGV, len & 1023, (void *)start) == 0)
		r->h.ext2_len = len;
	submit(r, sizeof(*r));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_task_exit, struct task_struct *p)
{
	u32 tid = BPF_CORE_READ(p, pid);
	struct inflight *c;
	struct io_rec *h;

	if (!bpf_map_lookup_elem(&traced, &tid))
		return 0;
	bpf_map_delete_elem(&traced, &tid);
	/* Killed inside a call (another thread's exit_group, a signal): the
	 * call has no result, but what it asked for is known. The fds are
	 * still there: files are released after this tracepoint. */
	c = bpf_task_storage_get(&calls, p, 0, 0);
	if (c && c->live) {
		c->live = 0;
		h = bpf_ringbuf_reserve(&rb, sizeof(*h), 0);
		if (!h) {
			count_drop();
		} else {
			fill(h, c, 0, bpf_ktime_get_ns(), REC_UNSEEN);
			name_fd(p, c->args[0], &h->fd[0]);
			submit(h, sizeof(*h));
		}
	}
	h = bpf_ringbuf_reserve(&rb, sizeof(*h), 0);
	if (!h) {
		count_drop();
		return 0;
	}
	__builtin_memset(h, 0, sizeof(*h));
	h->kind = REC_EXIT;
	h->tid = tid;
	h->tgid = BPF_CORE_READ(p, tgid);
	h->ts = bpf_ktime_get_ns();
	/* Set by do_exit() before this tracepoint: wait-status encoding. */
	h->ret = BPF_CORE_READ(p, exit_code);
	submit(h, sizeof(*h));
	return 0;
}
