/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel side of iomonitor's eBPF backend: naming an fd from the task's own
 * fd table (device, inode, type; sockets from the socket itself), walking an
 * opened file's path, and naming the fds a recvmsg received. Included once,
 * by iomonitor.bpf.c (a BPF object is one compilation unit).
 */
#ifndef IOMONITOR_FDNAME_BPF_H
#define IOMONITOR_FDNAME_BPF_H

/* A kernel pointer read by a helper, made readable by direct loads. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KCAST(type, p) ((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))

/*
 * The task pointer of a tp_btf program is trusted BTF: fields are read by
 * direct loads (CO-RE relocated, faulting loads handled by the kernel), much
 * cheaper than a bpf_probe_read_kernel() helper call per field.
 */

static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	struct fdtable *fdt = t->files->fdt;
	struct file **slot;

	if (fd < 0 || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	/* The slot read by a direct load: bpf_rdonly_cast to no type (0) gives
	 * a pointer the kernel reads with a fault handler, as the helper did,
	 * without the helper call (~40 ns of on_exit's ~210 per call). */
	slot = bpf_rdonly_cast((void *)((unsigned long)fdt->fd + fd * sizeof(*slot)), 0);
	return *slot;
}

static __always_inline void name_sock(struct file *f, struct io_fdname *n)
{
	struct socket *sock = KCAST(struct socket, f->private_data);
	struct sock *sk = sock->sk;
	struct sock_common *c;

	if (!sk)
		return;
	c = &sk->__sk_common;
	n->family = c->skc_family;
	n->stype = sk->sk_type;
	n->proto = sk->sk_protocol;
	if (n->family == AF_INET) {
		u32 l = c->skc_rcv_saddr, r = c->skc_daddr;
		__builtin_memcpy(n->laddr, &l, 4);
		__builtin_memcpy(n->raddr, &r, 4);
	} else if (n->family == AF_INET6) {
		BPF_CORE_READ_INTO(&n->laddr, c, skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&n->raddr, c, skc_v6_daddr);
	}
	if (n->family == AF_INET || n->family == AF_INET6) {
		n->lport = c->skc_num;
		/* A TCP socket that reached CLOSE (both ends shut) has given its
		 * port back (skc_num = 0); inet_sport still holds it. */
		if (!n->lport)
			n->lport = bpf_ntohs(KCAST(struct inet_sock, sk)->inet_sport);
		n->rport = bpf_ntohs(c->skc_dport);
	} else if (n->family == AF_UNIX) {
		struct sock *peer = KCAST(struct unix_sock, sk)->peer;
		if (peer)
			n->peer = BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino);
	}
}

static __always_inline void name_fd(struct task_struct *t, long fd, struct io_fdname *n)
{
	struct file *f = fd_file(t, fd);
	struct inode *ino;
	u16 mode;

	if (!f)
		return;
	f = KCAST(struct file, f);
	ino = f->f_inode;
	if (!ino)
		return;
	mode = ino->i_mode & S_IFMT;
	n->ino = ino->i_ino;
	n->dev = ino->i_sb->s_dev;
	switch (mode) {
	case S_IFREG: n->type = FT_REG; break;
	case S_IFDIR: n->type = FT_DIR; break;
	case S_IFCHR: n->type = FT_CHR; break;
	case S_IFBLK: n->type = FT_BLK; break;
	case S_IFIFO: n->type = FT_FIFO; break;
	case S_IFLNK: n->type = FT_LNK; break;
	case S_IFSOCK: n->type = FT_SOCK; name_sock(f, n); break;
	default: n->type = FT_OTHER;
	}
}

/*
 * The path of an opened file as the kernel knows it (symbolic links and
 * "..", resolved), as strace's -yy prints it: its dentries up to the root,
 * crossing mount points. Components go into ext leaf first; ext2_len gets
 * their count, and WALK_DONE when the root was reached (otherwise the
 * loader prints no decoration and the converter resolves the opened path).
 * bpf_d_path would do this, but it needs fentry, which lockdown refuses.
 */
#define WALK_SIZE (EXT_SIZE - EXT_WALK)

/* Scratch room for the components (bpf_loop's callback cannot hold the
 * ring buffer record). */
struct walk_buf {
	unsigned char b[2048 + 256];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct walk_buf);
} walk_scratch SEC(".maps");

struct walk_ctx {
	u64 d, m; /* the current dentry and mount */
	u32 pos, n;
	u32 done;
};

static long walk_step(u64 i, void *arg)
{
	struct walk_ctx *w = arg;
	struct dentry *d = KCAST(struct dentry, (void *)w->d);
	struct mount *m = KCAST(struct mount, (void *)w->m);
	struct dentry *parent = d->d_parent;
	struct walk_buf *buf;
	u32 zero = 0;
	long k;

	if (d == m->mnt.mnt_root) {
		struct mount *up = m->mnt_parent;
		if (up == m) {
			w->done = 1;
			return 1;
		}
		w->d = (u64)m->mnt_mountpoint;
		w->m = (u64)up;
		return 0;
	}
	if (d == parent || w->pos > WALK_SIZE - 256)
		return 1; /* detached, or no room left: no decoration */
	buf = bpf_map_lookup_elem(&walk_scratch, &zero);
	if (!buf)
		return 1;
	k = bpf_probe_read_kernel_str(buf->b + (w->pos & 2047), 256, d->d_name.name);
	if (k <= 0)
		return 1;
	w->pos += k;
	w->n++;
	w->d = (u64)parent;
	return 0;
}

/* Walk f's path into the scratch room from w->pos on; its component count,
 * with WALK_DONE when the walk reached the root. */
static __always_inline u32 walk_file(struct walk_ctx *w, struct file *f)
{
	if (!f->f_path.dentry || !f->f_path.mnt)
		return 0;
	w->d = (u64)f->f_path.dentry;
	w->m = (u64)f->f_path.mnt - bpf_core_field_offset(struct mount, mnt);
	w->n = 0;
	w->done = 0;
	bpf_loop(64, walk_step, w, 0);
	return w->n | (w->done ? WALK_DONE : 0);
}

/* The scratch room's walks into the record's ext area. */
static __always_inline bool copy_walks(struct io_rec_ext *r)
{
	struct walk_buf *buf;
	u32 zero = 0;

	buf = bpf_map_lookup_elem(&walk_scratch, &zero);
	return buf && !bpf_probe_read_kernel(r->ext + EXT_WALK, WALK_SIZE, buf->b);
}

static __always_inline void walk_path(struct io_rec_ext *r, struct file *f)
{
	struct walk_ctx w = {};
	u32 n = walk_file(&w, f);

	if ((n & WALK_DONE) && copy_walks(r))
		r->h.ext2_len = n;
}

/*
 * The fds a recvmsg received (already in the receiver's table at the call's
 * exit), named as its other fds are, and their paths walked: see SCM_NAMED
 * in record.h for why. One fd per bpf_loop step: the verifier checks the
 * step once, where an unrolled loop multiplied its paths (a 13 s load).
 */
struct scm_names {
	u32 walks[SCM_NAMED];
	struct io_fdname names[SCM_NAMED];
};
_Static_assert(EXT_SCM + MAX_SCM * 4 <= EXT_SCM_WALKS, "scm fds layout");
_Static_assert(WALK_SIZE <= 2048, "walk_buf room");
_Static_assert(EXT_SCM_WALKS + SCM_NAMED * 4 == EXT_SCM_NAMES, "scm walks layout");
_Static_assert(sizeof(struct scm_names) == EXT_WALK - EXT_SCM_WALKS, "scm_names layout");

/*
 * The loop's state lives in a map, not on the stack: the verifier treats
 * values loaded from a map as unknown, so it checks a step once, where
 * stack state it could follow made it check every step (a second per load).
 */
struct scm_state {
	struct scm_names out;
	int fds[SCM_NAMED];
	u32 n;
	u32 next;    /* the next fd to name */
	u32 walking; /* 1 + the index of the fd whose path is being walked, or 0 */
	u32 walked;
	struct walk_ctx w;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct scm_state);
} scm_scratch SEC(".maps");

/* One step: name the next fd, or one component of the path being walked. */
static long scm_step(u64 i, void *arg)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct scm_state *s;
	struct io_fdname *n;
	struct file *f;
	u32 zero = 0, k;
	int fd;

	s = bpf_map_lookup_elem(&scm_scratch, &zero);
	if (!s)
		return 1;
	if (s->walking) {
		k = (s->walking - 1) & (SCM_NAMED - 1);
		if (walk_step(0, &s->w) == 0)
			return 0;
		s->out.walks[k] = s->w.n | (s->w.done ? WALK_DONE : 0);
		s->walking = 0;
		return 0;
	}
	if (s->next >= s->n)
		return 1;
	k = s->next++ & (SCM_NAMED - 1);
	fd = s->fds[k];
	n = &s->out.names[k];
	s->out.walks[k] = 0;
	__builtin_memset(n, 0, sizeof(*n));
	name_fd(t, fd, n);
	/* Pipes and sockets are named by their inode and addresses. */
	if (n->type == FT_NONE || n->type == FT_FIFO || n->type == FT_SOCK || n->type == FT_OTHER)
		return 0;
	f = fd_file(t, fd);
	if (!f)
		return 0;
	f = KCAST(struct file, f);
	if (!f->f_path.dentry || !f->f_path.mnt)
		return 0;
	s->w.d = (u64)f->f_path.dentry;
	s->w.m = (u64)f->f_path.mnt - bpf_core_field_offset(struct mount, mnt);
	s->w.n = 0;
	s->w.done = 0;
	s->walking = k + 1;
	s->walked = 1;
	return 0;
}

static __always_inline void name_received(struct io_rec_ext *r)
{
	struct scm_state *s;
	u32 zero = 0;

	s = bpf_map_lookup_elem(&scm_scratch, &zero);
	if (!s)
		return;
	s->n = r->h.ext2_len < SCM_NAMED ? r->h.ext2_len : SCM_NAMED;
	s->next = 0;
	s->walking = 0;
	s->walked = 0;
	__builtin_memset(&s->w, 0, sizeof(s->w));
	__builtin_memcpy(s->fds, r->ext + EXT_SCM, sizeof(s->fds));
	bpf_loop(SCM_NAMED * 66, scm_step, NULL, 0);
	if (bpf_probe_read_kernel(r->ext + EXT_SCM_WALKS, sizeof(s->out), &s->out))
		return;
	if (s->walked && !copy_walks(r))
		__builtin_memset(r->ext + EXT_SCM_WALKS, 0, SCM_NAMED * 4);
}

#endif
