// rootfs: a created init's setup (mounts, devices, the root switch,
// hostname, sysctls, read-only and masked paths) from a plan that Go
// made (libcontainer/rootfs/cplan_linux.go, where the layout and the
// operations are), so that the init never starts the Go runtime (issue
// 18). Every decision is Go's; this file makes the calls of the Go init
// (rootfs.Prepare, finalizeContainer) in their order, resolving paths
// inside the rootfs with openat2(RESOLVE_IN_ROOT) and mounting through
// /proc/self/fd as they do.
//
// It reports no error of its own. It works in a mount namespace it makes
// for the purpose; if a step fails (or the parent cannot plan the last
// steps) it goes back to the mount namespace it was cloned in, which the
// failed attempt never touched, says "rootfs-fallback" to the parent and
// returns: the Go runtime starts and the Go init does the whole setup
// again, and fails, if it does, in its own words.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "preinit.h"

enum {
	OP_END, OP_PROPAGATE, OP_BIND_ROOT, OP_MOUNT, OP_BIND, OP_MKDIR, OP_DEVICE, OP_SYMLINK,
	OP_PTMX, OP_PIVOT, OP_DEVNULL, OP_HOSTNAME, OP_DOMAINNAME, OP_WRITE, OP_READONLY, OP_MASK,
	OP_REMOUNT, OP_LOOPBACK, OP_KEYRING, OP_UNSHARE, OP_UMASK, OP_SKIP_PTMX, OP_AFFINITY,
};
#define CHECK_DIR 1
#define TMPFS_MODE 2

struct op {
	uint32_t op, nstr;
	uint64_t a, b;
	int64_t c, d;
	const char *s[4];
};

// The state of a run: the root paths resolve in, the masked
// directories' shared tmpfs, the umask kept while it is 0.
static int root = -1, shared_mask = -1, skip_device, umask_zero;
static mode_t old_umask;
// why: the step that failed, for the parent's debug log.
static char why[256];

static int failed(const char *what, const char *path)
{
	snprintf(why, sizeof(why), "%s %s: %s", what, path ? path : "", strerror(errno));
	return -1;
}

static const char *pp(int fd)
{
	static char buf[2][40];
	static int i;
	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "/proc/self/fd/%d", fd);
	return buf[i];
}

// open_in is safepath.Open: path resolved inside root.
static int open_in(const char *path, int flags)
{
	while (*path == '/')
		path++;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof(how));
}

// mk_last is mk_all's common cases in fewer lookups (each one resolves
// the path from root again): path resolves whole, or only its last
// component is missing and is made under its resolved parent. Anything
// else, or a ".." anywhere, returns -1 and mk_all walks the path a
// component at a time, making what is missing or failing as before.
static int mk_last(const char *path, mode_t mode, int dir)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = 0;
	for (char *p = buf; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == buf || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
			return -1;
	int fd = open_in(buf, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	char *slash = strrchr(buf, '/');
	const char *name = slash ? slash + 1 : buf;
	if (!*name || strcmp(name, ".") == 0)
		return -1;
	if (slash)
		*slash = 0;
	int parent = open_in(slash ? buf : ".", O_PATH | O_DIRECTORY);
	if (slash)
		*slash = '/';
	if (parent < 0)
		return -1;
	int r;
	if (dir) {
		r = mkdirat(parent, name, mode);
	} else {
		r = openat(parent, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_WRONLY, mode);
		if (r >= 0)
			close(r);
	}
	close(parent);
	if (r < 0 && errno != EEXIST)
		return -1;
	return open_in(buf, O_PATH);
}

// mk_all is safepath.MkdirAll (dir) or MkFileAll: the missing
// components made relative to their resolved parents; an O_PATH fd of
// the last. A dangling symlink on the way (which Go follows) or a ".."
// fails: Go then does it.
static int mk_all(const char *path, mode_t mode, int dir)
{
	int fast = mk_last(path, mode, dir);
	if (fast >= 0)
		return fast;
	char buf[4096];
	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return failed("create", path);
	}
	strcpy(buf, path);
	int cur = open_in(".", O_PATH | O_DIRECTORY);
	if (cur < 0)
		return failed("open root", "");
	char *p = buf;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *name = p, *end = strchr(p, '/');
		if (end)
			*end = 0;
		int last = !end || !end[1 + strspn(end + 1, "/")];
		if (strcmp(name, "..") == 0) {
			close(cur);
			errno = EINVAL;
			return failed("create (..)", path);
		}
		if (strcmp(name, ".") != 0) {
			int fd = open_in(buf, O_PATH);
			if (fd < 0 && errno == ENOENT) {
				int r;
				if (last && !dir) {
					r = openat(cur, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_WRONLY, mode);
					if (r >= 0)
						close(r);
				} else {
					r = mkdirat(cur, name, dir ? mode : 0755);
				}
				if (r < 0 && errno != EEXIST) {
					close(cur);
					return failed("create", buf);
				}
				fd = open_in(buf, O_PATH);
			}
			close(cur);
			if (fd < 0)
				return failed("open", buf);
			struct stat st;
			if (!last && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
				close(fd);
				errno = ENOTDIR;
				return failed("create", path);
			}
			cur = fd;
		}
		if (!end)
			break;
		*end = '/';
		p = end + 1;
	}
	return cur;
}

static int do_mount(const char *src, const char *dest, const char *type, unsigned long flags, const char *data)
{
	if (mount(src, dest, type, flags, data) < 0)
		return failed("mount on", dest);
	return 0;
}

static int remount(const char *path, unsigned long flags)
{
	int fd = open_in(path, O_PATH);
	if (fd < 0)
		return failed("open", path);
	int r = do_mount("", pp(fd), NULL, flags | MS_BIND | MS_REMOUNT, NULL);
	close(fd);
	return r;
}

static int op_mount(struct op *o)
{
	const char *dest = o->s[1];
	char data[4096];
	snprintf(data, sizeof(data), "%s", o->s[3]);
	struct stat st;
	int fd;
	if (o->b & CHECK_DIR) {
		if ((fd = open_in(dest, O_PATH | O_NOFOLLOW)) >= 0) {
			int r = fstat(fd, &st);
			close(fd);
			if (r == 0 && !S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return failed("mount", dest);
			}
		}
	}
	if ((o->b & TMPFS_MODE) && (fd = open_in(dest, O_PATH)) >= 0) {
		int r = fstat(fd, &st);
		close(fd);
		if (r < 0)
			return failed("stat", dest);
		int n = snprintf(data, sizeof(data), "mode=%04o%s%s", st.st_mode & 07777, *o->s[3] ? "," : "", o->s[3]);
		if (n >= (int)sizeof(data)) {
			errno = E2BIG;
			return failed("mount data of", dest);
		}
	}
	if ((fd = mk_all(dest, 0755, 1)) < 0)
		return -1;
	int r = do_mount(o->s[0], pp(fd), o->s[2], o->a, data);
	close(fd);
	return r;
}

static int op_bind(struct op *o)
{
	const char *src = o->s[0], *dest = o->s[1];
	struct stat st;
	if (stat(src, &st) < 0)
		return failed("stat", src);
	int dst = S_ISDIR(st.st_mode) ? mk_all(dest, 0755, 1) : mk_all(dest, 0644, 0);
	if (dst < 0)
		return -1;
	unsigned int how = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o->a ? AT_RECURSIVE : 0);
	int tree = syscall(SYS_open_tree, AT_FDCWD, src, how);
	if (tree < 0) {
		close(dst);
		return failed("open_tree", src);
	}
	int r = syscall(SYS_move_mount, tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	close(dst);
	if (r < 0)
		r = failed("move_mount to", dest);
	else if (o->b)
		r = do_mount("", pp(tree), NULL, o->b, NULL);
	close(tree);
	return r;
}

// in_dir makes the parent of path and returns its fd; *base is the last
// component.
static int in_dir(const char *path, const char **base)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= sizeof(dir)) {
		errno = EINVAL;
		return failed("bad path", path);
	}
	memcpy(dir, path, slash - path);
	dir[slash - path] = 0;
	*base = slash + 1;
	return mk_all(*dir ? dir : "/", 0755, 1);
}

static int op_device(struct op *o)
{
	if (skip_device) {
		skip_device = 0;
		return 0;
	}
	const char *name;
	int dir = in_dir(o->s[0], &name);
	if (dir < 0)
		return -1;
	mode_t mode = o->a;
	dev_t dev = o->b;
	int r = -1;
	if (mknodat(dir, name, mode, dev) < 0) {
		struct stat st;
		if (errno != EEXIST) {
			failed("mknod", o->s[0]);
			goto out;
		}
		if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode == mode && st.st_rdev == dev) {
			r = 0;
			goto out;
		}
		if (unlinkat(dir, name, 0) < 0 || mknodat(dir, name, mode, dev) < 0) {
			failed("replace", o->s[0]);
			goto out;
		}
	}
	if (fchmodat(dir, name, mode & 07777, 0) < 0) {
		failed("chmod", o->s[0]);
		goto out;
	}
	if ((o->c >= 0 || o->d >= 0) && fchownat(dir, name, o->c, o->d, AT_SYMLINK_NOFOLLOW) < 0) {
		failed("chown", o->s[0]);
		goto out;
	}
	r = 0;
out:
	close(dir);
	return r;
}

static int symlink_in(const char *target, const char *link)
{
	const char *name;
	int dir = in_dir(link, &name);
	if (dir < 0)
		return -1;
	int r = symlinkat(target, dir, name);
	close(dir);
	if (r < 0 && errno != EEXIST)
		return failed("symlink", link);
	return 0;
}

static int exists_nofollow(const char *path, struct stat *st)
{
	int fd = open_in(path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	int r = st ? fstat(fd, st) : 0;
	close(fd);
	return r == 0;
}

// op_pivot is pivotRoot: the old root stacked under the new one and
// detached, without a directory for it in the rootfs.
static int op_pivot(const char *rootfs)
{
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return failed("open", "/");
	int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int r = -1;
	if (newroot < 0) {
		failed("open", rootfs);
	} else if (fchdir(newroot) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
		failed("pivot_root to", rootfs);
	} else if (fchdir(oldroot) < 0 || mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
		   umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		failed("detach the old root", "");
	} else {
		r = 0;
	}
	close(oldroot);
	if (newroot >= 0)
		close(newroot);
	if (r == 0) {
		close(root);
		root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return failed("open", "/");
	}
	return r;
}

// op_devnull is reopenDevNull: stdio that is the caller's null device
// becomes the container's.
static int op_devnull(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat st;
	if (null < 0)
		return failed("open", "/dev/null");
	if (fstat(null, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(null);
		errno = EINVAL;
		return failed("check", "/dev/null");
	}
	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0) {
			close(null);
			return failed("fstat stdio", "");
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) && dup3(null, fd, 0) < 0) {
			close(null);
			return failed("dup /dev/null", "");
		}
	}
	close(null);
	return 0;
}

static int op_write(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return failed("open", path);
	size_t n = strlen(data);
	ssize_t w = write(fd, data, n);
	close(fd);
	if (w != (ssize_t)n)
		return failed("write", path);
	return 0;
}

static int op_readonly(const char *path)
{
	int fd = open_in(path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : failed("open", path);
	int r = do_mount(pp(fd), pp(fd), NULL, MS_BIND | MS_REC, NULL);
	close(fd);
	return r < 0 ? r : remount(path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

// op_mask is maskPath: a directory under the shared empty read-only
// tmpfs, a file under the container's /dev/null (checked to be one).
static int op_mask(const char *path)
{
	int fd = open_in(path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : failed("open", path);
	struct stat st;
	int r;
	if (fstat(fd, &st) < 0) {
		r = failed("stat", path);
	} else if (S_ISDIR(st.st_mode)) {
		if (shared_mask >= 0) {
			r = do_mount(pp(shared_mask), pp(fd), NULL, MS_BIND, NULL);
		} else {
			r = do_mount("tmpfs", pp(fd), "tmpfs", MS_RDONLY, "size=0k");
			if (r == 0)
				shared_mask = open_in(path, O_PATH | O_NOFOLLOW);
		}
	} else {
		struct stat ns;
		int null = open_in("/dev/null", O_PATH | O_NOFOLLOW);
		if (null < 0 || fstat(null, &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
			errno = EINVAL;
			r = failed("mask with /dev/null", path);
		} else {
			r = do_mount(pp(null), pp(fd), NULL, MS_BIND, NULL);
		}
		if (null >= 0)
			close(null);
	}
	close(fd);
	return r;
}

static int op_loopback(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return failed("socket", "");
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return r < 0 ? failed("set up", "lo") : 0;
}

static int run_op(struct op *o)
{
	switch (o->op) {
	case OP_PROPAGATE:
		return do_mount("", o->s[0], NULL, o->a, NULL);
	case OP_BIND_ROOT:
		if (do_mount(o->s[0], o->s[0], NULL, MS_BIND | MS_REC, NULL) < 0)
			return -1;
		if ((root = open(o->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return failed("open", o->s[0]);
		return 0;
	case OP_MOUNT:
		return op_mount(o);
	case OP_BIND:
		return op_bind(o);
	case OP_MKDIR: {
		int fd = mk_all(o->s[0], 0755, 1);
		if (fd < 0)
			return -1;
		close(fd);
		return 0;
	}
	case OP_DEVICE:
		return op_device(o);
	case OP_SYMLINK:
		return symlink_in(o->s[0], o->s[1]);
	case OP_PTMX:
		if (exists_nofollow("/dev/pts/ptmx", NULL) && !exists_nofollow("/dev/ptmx", NULL))
			return symlink_in("pts/ptmx", "/dev/ptmx");
		return 0;
	case OP_SKIP_PTMX: {
		struct stat st;
		skip_device = exists_nofollow("/dev/ptmx", &st) && S_ISLNK(st.st_mode);
		return 0;
	}
	case OP_PIVOT:
		return op_pivot(o->s[0]);
	case OP_DEVNULL:
		return op_devnull();
	case OP_HOSTNAME:
		return sethostname(o->s[0], strlen(o->s[0])) < 0 ? failed("sethostname", o->s[0]) : 0;
	case OP_DOMAINNAME:
		return setdomainname(o->s[0], strlen(o->s[0])) < 0 ? failed("setdomainname", o->s[0]) : 0;
	case OP_WRITE:
		return op_write(o->s[0], o->s[1]);
	case OP_READONLY:
		return op_readonly(o->s[0]);
	case OP_MASK:
		return op_mask(o->s[0]);
	case OP_REMOUNT:
		return remount(o->s[0], o->a);
	case OP_LOOPBACK:
		return op_loopback();
	case OP_KEYRING:
		// KEYCTL_JOIN_SESSION_KEYRING; a kernel that refuses it is
		// no error, as in Go.
		if (syscall(SYS_keyctl, 1, o->s[0]) < 0 && errno != ENOSYS && errno != EPERM)
			return failed("join session keyring", o->s[0]);
		return 0;
	case OP_AFFINITY: {
		// As affinity.Reset: every CPU, errors ignored.
		static unsigned char all[64 * 1024 / 8];
		memset(all, 0xff, sizeof(all));
		syscall(SYS_sched_setaffinity, 0, sizeof(all), all);
		return 0;
	}
	case OP_UNSHARE:
		return unshare(o->a) < 0 ? failed("unshare", "") : 0;
	case OP_UMASK:
		if (o->a == 0 && !umask_zero)
			old_umask = umask(0);
		else if (o->a != 0 && umask_zero)
			umask(old_umask);
		umask_zero = o->a == 0;
		return 0;
	}
	errno = EINVAL;
	return failed("unknown operation", "");
}

static char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 14, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap && !(buf = realloc(buf, cap *= 2)))
			break;
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*len = n;
			return r == 0 ? buf : NULL;
		}
		n += r;
	}
	return NULL;
}

// run_plan carries out the plan in buf; -1 at the first failure.
static int run_plan(char *buf, size_t len)
{
	size_t off = 8;
	if (len < 8 || memcmp(buf, "HULLRFS1", 8) != 0) {
		errno = EINVAL;
		return failed("read the plan", "");
	}
	for (;;) {
		struct op o;
		if (len - off < 40) {
			errno = EINVAL;
			return failed("read the plan: truncated", "");
		}
		memcpy(&o.op, buf + off, 4);
		memcpy(&o.nstr, buf + off + 4, 4);
		memcpy(&o.a, buf + off + 8, 8);
		memcpy(&o.b, buf + off + 16, 8);
		memcpy(&o.c, buf + off + 24, 8);
		memcpy(&o.d, buf + off + 32, 8);
		off += 40;
		if (o.nstr > 4) {
			errno = EINVAL;
			return failed("read the plan: bad operation", "");
		}
		for (uint32_t i = 0; i < o.nstr; i++) {
			char *end = off < len ? memchr(buf + off, 0, len - off) : NULL;
			if (!end) {
				errno = EINVAL;
				return failed("read the plan: truncated", "");
			}
			o.s[i] = buf + off;
			off = end - buf + 1;
		}
		if (o.op == OP_END)
			return 0;
		if (run_op(&o) < 0)
			return -1;
	}
}

// keep_only closes every fd but stdio, the preserved ones and those of
// keep (n of them): what the init holds while it waits, as the image the
// Go init re-executes would.
static int keep_only(int npreserve, const int *keep, int n)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return failed("open", "/proc/self/fd");
	int self = dirfd(d), fds[1024], nfds = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nfds < 1024) {
		int fd = atoi(e->d_name), k = e->d_name[0] < '0' || fd == self || fd < 3 + npreserve;
		for (int i = 0; i < n; i++)
			k |= fd == keep[i];
		if (!k)
			fds[nfds++] = fd;
	}
	closedir(d);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	return 0;
}

static int frame_is(const char *frame, const char *type)
{
	char want[64];
	snprintf(want, sizeof(want), "\"type\":\"%s\"", type);
	return strstr(frame, want) != NULL;
}

int hull_rootfs(int plan_fd, int state_dir, int start_plan, int npreserve, int *fifo)
{
	char frame[512];
	*fifo = -1;
	// The parent says when: after the init is in its cgroups, with its
	// resources (device rules) set, where the Go init gets its config.
	if (hull_recv_frame(frame, sizeof(frame)) < 0)
		_exit(1);
	if (!frame_is(frame, "rootfs-go"))
		_exit(1); // the parent sends nothing else first
	size_t len;
	char *buf = read_all(plan_fd, &len);
	close(plan_fd);
	// The namespaces a failure goes back to: the mount namespace of
	// the clone, and its cgroup namespace (the plan may make one).
	int saved = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	int saved_cg = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
	if (!buf || saved < 0 || saved_cg < 0 || unshare(CLONE_NEWNS) < 0) {
		failed("make a mount namespace", "");
		free(buf);
		if (saved >= 0)
			close(saved);
		if (saved_cg >= 0)
			close(saved_cg);
		goto fallback;
	}
	if (run_plan(buf, len) < 0)
		goto undo;
	if (hull_send_frame("{\"type\":\"rootfs-done\"}") < 0)
		_exit(1);
	if (hull_recv_frame(frame, sizeof(frame)) < 0)
		_exit(1);
	if (!frame_is(frame, "plan-written")) {
		snprintf(why, sizeof(why), "the parent planned no start");
		goto undo;
	}
	*fifo = openat(state_dir, "exec.fifo", O_PATH | O_CLOEXEC);
	if (*fifo < 0) {
		failed("open", "exec.fifo");
		goto undo;
	}
	// saved and saved_cg too: an undo needs them until keep_only is
	// done, and they are closed below, not twice.
	int keep[] = {*fifo, start_plan, hull_sync_fd(), saved, saved_cg};
	if (keep_only(npreserve, keep, 5) < 0)
		goto undo;
	free(buf);
	close(saved);
	close(saved_cg);
	if (hull_send_frame("{\"type\":\"ready\"}") < 0)
		_exit(1);
	close(hull_sync_fd());
	return 0;
undo:
	free(buf);
	// Back to the mount namespace of the clone, which the attempt never
	// changed; setns also puts root and cwd back at its root.
	if (setns(saved, CLONE_NEWNS) < 0 || setns(saved_cg, CLONE_NEWCGROUP) < 0)
		_exit(1);
	close(saved);
	close(saved_cg);
	if (root >= 0)
		close(root);
	if (shared_mask >= 0)
		close(shared_mask);
	if (umask_zero)
		umask(old_umask);
	umask_zero = 0;
	if (*fifo >= 0)
		close(*fifo);
	root = shared_mask = *fifo = -1;
fallback: {
	char msg[700];
	// why is the C library's text and paths: no quotes or backslashes
	// escaped here, so they are dropped from it.
	for (char *c = why; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '?';
	snprintf(msg, sizeof(msg), "{\"type\":\"rootfs-fallback\",\"error\":\"%s\"}", why);
	if (hull_send_frame(msg) < 0)
		_exit(1);
	return -1;
}
}
