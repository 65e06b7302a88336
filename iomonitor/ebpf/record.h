/*
 * The records the BPF program hands the loader through the ring buffer.
 * Shared by iomonitor.bpf.c (kernel side) and loader.c (user side): both are
 * compiled from this one definition, so the layout cannot drift.
 */
#ifndef IOMONITOR_RECORD_H
#define IOMONITOR_RECORD_H

/* Record kinds. */
#define REC_SYS 1   /* a whole system call, without the ext area */
#define REC_SYS_EXT 2 /* a whole system call with its ext area */
#define REC_FORK 3  /* a new task in the traced tree (sched_process_fork) */
#define REC_EXEC 4  /* a successful execve (sched_process_exec) */
#define REC_EXIT 5  /* a task ended (sched_process_exit) */
#define REC_UNSEEN 6 /* a call the task died in: no result (strace's "= ?") */

/*
 * What the BPF program does at a call's exit, by syscall number (the loader
 * fills the table: syscall numbers are the architecture's business, and the
 * loader is compiled with the system's headers). 0: not traced.
 */
#define C_PLAIN 1     /* arguments and return value only */
#define C_FD0 2       /* name the fd in args[0] */
#define C_XFER1 3     /* name args[0] and args[1] (sendfile, tee) */
#define C_XFER2 4     /* name args[0] and args[2] (splice, copy_file_range) */
#define C_SENDTO 5    /* fd0 + sockaddr at args[4], length args[5] */
#define C_RECVFROM 6  /* fd0 + sockaddr at args[4], length at *args[5] */
#define C_MSG 7       /* fd0 + msghdr at args[1]: msg_name and SCM_RIGHTS fds */
#define C_MMSG 8      /* fd0 + the msg_len of each message at args[1] */
#define C_MMAP 9      /* name the fd in args[4], unless MAP_ANONYMOUS */
#define C_PATH0 10    /* the string at args[0] (open, creat, chdir, memfd_create) */
#define C_PATH1 11    /* fd0 + the string at args[1] (openat, openat2) */
#define C_ADDR 12     /* fd0 + sockaddr at args[1], length args[2] (connect, bind) */
#define C_ACCEPT 13   /* fd0 + the returned fd + sockaddr at args[1], length at *args[2] */
#define C_PAIR0 14    /* the int[2] at args[0] (pipe, pipe2), both named */
#define C_PAIR3 15    /* the int[2] at args[3] (socketpair), both named */
#define C_FCNTL 16    /* fd0, only for F_DUPFD, F_DUPFD_CLOEXEC and F_SETFD */
#define C_OPENAT2 17  /* as C_PATH1, and the flags from the struct open_how at args[2] */
#define C_OPEN0 18    /* as C_PATH0 (open, creat), and the opened file's path */
#define C_RECVMSG 19  /* as C_MSG, and the received SCM_RIGHTS fds named */

/* File types of a named fd. */
#define FT_NONE 0
#define FT_REG 1
#define FT_DIR 2
#define FT_CHR 3
#define FT_BLK 4
#define FT_FIFO 5
#define FT_SOCK 6
#define FT_LNK 7
#define FT_OTHER 8 /* anon inodes and the like */

/* How the kernel named an fd at the call: from the task's own fd table. */
struct io_fdname {
	unsigned char type;   /* FT_* */
	unsigned char family; /* sockets: AF_* */
	unsigned short stype; /* sockets: SOCK_* */
	unsigned short proto; /* sockets: protocol (netlink family) */
	unsigned short lport; /* host order */
	unsigned short rport; /* host order */
	unsigned short pad;
	unsigned int dev;     /* the kernel's dev_t (major << 20 | minor) */
	unsigned long long ino;
	unsigned long long peer; /* UNIX sockets: the peer's inode */
	unsigned char laddr[16];
	unsigned char raddr[16];
};

#define EXT_SIZE 3072
#define EXT_SCM 128  /* offset of the SCM_RIGHTS fds in ext */
/*
 * The fds of one SCM_RIGHTS message the kernel side reads (the kernel allows
 * 253): fds past it are not in the line, so the converter does not know them
 * and counts their I/O in unknown_fds.
 */
#define MAX_SCM 16
/*
 * A recvmsg's received fds are named in the kernel, in the receiver's table,
 * as strace's -yy prints them: the receiver's line then does not depend on
 * the sender's sendmsg line coming first (it may not: each line is written
 * at its call's exit, and the receiver's call can end before the sender's).
 * Each fd read gets a struct io_fdname at EXT_SCM_NAMES and, unless a pipe or
 * a socket, its path walked into the EXT_WALK area after the previous ones;
 * EXT_SCM_WALKS holds each walk's component count (with WALK_DONE when it
 * reached the root).
 */
#define SCM_NAMED MAX_SCM
#define EXT_SCM_WALKS 192
#define EXT_SCM_NAMES 256
#define MAX_MMSG 64
#define EXT_MMSG 256  /* offset of the msg_len array in ext (the first message's
		       * msg_name is at 0) */
#define EXEC_ARGV 256 /* offset of argv in an exec record's ext */
#define EXEC_ARGV_MAX 1023
/* Opens: the opened file's path components, leaf first; recvmsg: those of
 * each received file, one after the other (a file whose path no longer fits
 * gets no decoration: the converter names it from the sender's line). */
#define EXT_WALK 1280
#define WALK_DONE (1u << 16) /* in ext2_len: the walk reached the root */

struct io_rec {
	unsigned int kind;
	unsigned int tid;
	unsigned int tgid;
	unsigned int nr;
	unsigned long long ts; /* CLOCK_MONOTONIC ns at entry */
	unsigned long long dt; /* ns inside the call */
	long long ret;
	unsigned long long args[6];
	struct io_fdname fd[2];
	unsigned int ext_len;  /* bytes of ext used (strings: with the NUL) */
	unsigned int ext2_len; /* second part: SCM fds, mmsg count, argv length */
};

struct io_rec_ext {
	struct io_rec h;
	unsigned char ext[EXT_SIZE];
};

#endif
