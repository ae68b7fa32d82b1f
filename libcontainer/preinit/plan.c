// plan: the last steps of a container process without the Go runtime
// (issue 18: a Go start-up there was half of `start`'s and `exec`'s
// time). Go decided everything (the executable, the environment, the
// capability masks, the seccomp filter compiled to BPF, the rlimits) and
// wrote it as a plan into a pipe; this file only carries it out, in the
// order of the Go finisher (libcontainer/initproc/finish_linux.go, drop
// and finish), and reports failures where and as that code does:
//   - a created init, after start (hull_run_plan): on exec.fifo, exit 127;
//   - an exec'd process (hull_exec_plan): before ready as an error frame
//     to the parent, exit 1; after ready on stderr, exit 255.
// Go writes no plan when there is something only Go does (hooks, a
// seccomp agent, LSM labels, a terminal, ...): the Go runtime then runs.
//
// The plan's layout is in libcontainer/internal/plan's package doc.
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "plan.h"

#define PLAN_CAPS 1
#define PLAN_NNP 2
#define PLAN_SECCOMP 4
#define PLAN_UMASK 8
#define PLAN_HDR 104

struct rlim {
	uint32_t res;
	uint64_t cur, max;
	const char *name;
};

struct plan {
	uint32_t flags, uid, gid, umask, ngroups, nrl, nas, nfilter, sflags, nargs, nenv, lastcap, npreserve;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	gid_t *groups;
	struct rlim *rl; // nrl others, then nas address-space limits
	struct sock_filter *filter;
	const char *path, *cwd;
	char **argv, **envp;
};

// Where a failure goes (see the top of the file).
enum { TO_FIFO, TO_PARENT, TO_STDERR };
static int fail_mode = TO_FIFO;
static int fifo_fd = -1; // TO_FIFO: exec.fifo; TO_PARENT: the sync socket

// errstr is Go's text for an errno: the C library's with a lower-case
// first letter ("no such file or directory").
static const char *errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = tolower((unsigned char)buf[0]);
	return buf;
}

// write_all writes all of buf: 0, or -1 if a write failed.
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= w;
	}
	return 0;
}

// send_error sends msg to the parent as internal/proto's error frame: a
// 4-byte big-endian length, then {"type":"error","error":msg} in JSON.
static void send_error(const char *msg)
{
	char frame[4 + 2200];
	size_t n = 4;
	n += snprintf(frame + n, 64, "{\"type\":\"error\",\"error\":\"");
	for (const unsigned char *c = (const unsigned char *)msg; *c && n < sizeof(frame) - 16; c++) {
		if (*c == '"' || *c == '\\') {
			frame[n++] = '\\';
			frame[n++] = *c;
		} else if (*c < 0x20) {
			n += snprintf(frame + n, 8, "\\u%04x", *c);
		} else {
			frame[n++] = *c;
		}
	}
	n += snprintf(frame + n, 4, "\"}");
	uint32_t len = n - 4;
	unsigned char hdr[4] = {len >> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff};
	memcpy(frame, hdr, 4);
	write_all(fifo_fd, frame, n);
}

// fail reports why, where fail_mode says, and exits with its status.
__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	switch (fail_mode) {
	case TO_FIFO:
		write_all(fifo_fd, msg, n > 0 ? n : 0);
		_exit(127);
	case TO_PARENT:
		send_error(msg);
		_exit(1);
	default:
		dprintf(2, "hull: %s\n", msg);
		_exit(255);
	}
}

static char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			fail("read init plan: out of memory");
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			continue;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("read init plan: %s", errstr(errno));
		if (r == 0)
			break;
		n += r;
	}
	*len = n;
	return buf;
}

// take returns n bytes at *off of the plan and advances past them.
static const char *take(const char *buf, size_t len, size_t *off, size_t n)
{
	if (n > len || *off > len - n)
		fail("read init plan: truncated");
	const char *p = buf + *off;
	*off += n;
	return p;
}

static uint32_t u32(const char *buf, size_t len, size_t *off)
{
	uint32_t v;
	memcpy(&v, take(buf, len, off, 4), 4);
	return v;
}

static uint64_t u64(const char *buf, size_t len, size_t *off)
{
	uint64_t v;
	memcpy(&v, take(buf, len, off, 8), 8);
	return v;
}

static const char *str(const char *buf, size_t len, size_t *off)
{
	const char *s = buf + *off;
	const char *end = *off < len ? memchr(s, 0, len - *off) : NULL;
	if (!end)
		fail("read init plan: truncated");
	*off += end - s + 1;
	return s;
}

static void parse(const char *buf, size_t len, struct plan *p)
{
	size_t off = 0;
	uint32_t i;
	if (len < PLAN_HDR || memcmp(take(buf, len, &off, 8), "HULLPLN1", 8) != 0)
		fail("read init plan: bad header");
	// The header's fields, in their order.
	uint32_t *u32s[] = {&p->flags, &p->uid, &p->gid, &p->umask, &p->ngroups, &p->nrl, &p->nas,
			    &p->nfilter, &p->sflags, &p->nargs, &p->nenv, &p->lastcap, &p->npreserve};
	uint64_t *u64s[] = {&p->bounding, &p->effective, &p->permitted, &p->inheritable, &p->ambient};
	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		*u32s[i] = u32(buf, len, &off);
	u32(buf, len, &off); // reserved
	for (i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		*u64s[i] = u64(buf, len, &off);
	// Counts bounded by what the plan's length can hold, before any
	// allocation sized by them.
	if (p->ngroups > len || p->nrl > len || p->nas > len || p->nfilter > len || p->nargs > len ||
	    p->nenv > len || p->nargs == 0)
		fail("read init plan: bad counts");
	p->groups = calloc(p->ngroups + 1, sizeof(gid_t));
	p->rl = calloc(p->nrl + p->nas + 1, sizeof(struct rlim));
	p->filter = calloc(p->nfilter + 1, sizeof(struct sock_filter));
	p->argv = calloc(p->nargs + 1, sizeof(char *));
	p->envp = calloc(p->nenv + 1, sizeof(char *));
	if (!p->groups || !p->rl || !p->filter || !p->argv || !p->envp)
		fail("read init plan: out of memory");
	for (i = 0; i < p->ngroups; i++)
		p->groups[i] = u32(buf, len, &off);
	for (i = 0; i < p->nrl + p->nas; i++) {
		p->rl[i].res = u32(buf, len, &off);
		u32(buf, len, &off); // padding
		p->rl[i].cur = u64(buf, len, &off);
		p->rl[i].max = u64(buf, len, &off);
	}
	if (p->nfilter)
		memcpy(p->filter, take(buf, len, &off, (size_t)p->nfilter * 8), (size_t)p->nfilter * 8);
	p->path = str(buf, len, &off);
	p->cwd = str(buf, len, &off);
	for (i = 0; i < p->nrl + p->nas; i++)
		p->rl[i].name = str(buf, len, &off);
	for (i = 0; i < p->nargs; i++)
		p->argv[i] = (char *)str(buf, len, &off);
	for (i = 0; i < p->nenv; i++)
		p->envp[i] = (char *)str(buf, len, &off);
	if (off != len)
		fail("read init plan: %zu bytes left over", len - off);
}

static void set_rlimits(struct rlim *rl, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rlimit r = {.rlim_cur = rl[i].cur, .rlim_max = rl[i].max};
		if (setrlimit(rl[i].res, &r) < 0)
			fail("set %s to soft %llu hard %llu: %s", rl[i].name, (unsigned long long)rl[i].cur,
			     (unsigned long long)rl[i].max, errstr(errno));
	}
}

// limit_and_filter: the address-space rlimits, then the seccomp filter
// (which may deny setrlimit).
static void limit_and_filter(struct plan *p)
{
	set_rlimits(p->rl + p->nrl, p->nas);
	if (!(p->flags & PLAN_SECCOMP))
		return;
	struct sock_fprog prog = {.len = p->nfilter, .filter = p->filter};
	long r;
	if (p->sflags == 0)
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	else
		r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->sflags, &prog);
	if (r < 0) {
		int e = errno;
		if (e == EACCES)
			fail("load seccomp filter: load seccomp filter: %s (no_new_privs is not set and the "
			     "process lacks CAP_SYS_ADMIN)",
			     errstr(e));
		fail("load seccomp filter: load seccomp filter: %s", errstr(e));
	}
}

// fix_stdio_owner: the process's user owns its stdio (the pty above all),
// except /dev/null; EPERM, EROFS and EINVAL leave an fd as it is.
static void fix_stdio_owner(uid_t uid)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0) {
			if (errno == EBADF)
				continue;
			fail("fstat stdio fd %d: %s", fd, errstr(errno));
		}
		if (st.st_uid == uid || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
			continue;
		if (fchown(fd, uid, -1) < 0 && errno != EPERM && errno != EROFS && errno != EINVAL)
			fail("chown stdio fd %d to uid %u: %s", fd, uid, errstr(errno));
	}
}

static void set_user(struct plan *p)
{
	fix_stdio_owner(p->uid);
	if (setgroups(p->ngroups, p->groups) < 0 && !(p->ngroups == 0 && errno == EPERM)) {
		char list[512] = "[";
		size_t n = 1;
		for (uint32_t i = 0; i < p->ngroups && n < sizeof(list) - 12; i++)
			n += snprintf(list + n, sizeof(list) - n, i ? " %u" : "%u", p->groups[i]);
		snprintf(list + n, sizeof(list) - n, "]");
		fail("setgroups %s: %s", list, errstr(errno));
	}
	// The raw system calls: the C library's wrappers would signal other
	// threads to change theirs, and there are none.
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		fail("setgid %u: %s", p->gid, errstr(errno));
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		fail("setuid %u: %s", p->uid, errstr(errno));
}

static void apply_caps(struct plan *p)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {
	    {(uint32_t)p->effective, (uint32_t)p->permitted, (uint32_t)p->inheritable},
	    {(uint32_t)(p->effective >> 32), (uint32_t)(p->permitted >> 32), (uint32_t)(p->inheritable >> 32)},
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail("set capabilities: %s", errstr(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail("clear ambient capabilities: %s", errstr(errno));
	// As runc: a cap the config grants in ambient but not in permitted
	// and inheritable is skipped (the runtime warned).
	for (int c = 0; c < 64; c++)
		if (p->ambient & (1ULL << c))
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

static void drop(struct plan *p)
{
	char wd[4096];
	if (chdir(p->cwd) < 0)
		fail("chdir to cwd (\"%s\") set in config.json: %s", p->cwd, errstr(errno));
	// A cwd reached through a leaked fd would be outside the container's
	// root; getcwd then fails (CVE-2024-21626).
	if (!getcwd(wd, sizeof(wd)) || wd[0] != '/')
		fail("cwd \"%s\" is outside the container's root", p->cwd);
	if (!(p->flags & PLAN_NNP))
		limit_and_filter(p);
	if (p->flags & PLAN_CAPS) {
		for (uint32_t c = 0; c <= p->lastcap && c < 64; c++) {
			if (p->bounding & (1ULL << c))
				continue;
			if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
				fail("drop capability %u from the bounding set: %s", c, errstr(errno));
		}
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			fail("set keepcaps: %s", errstr(errno));
	}
	set_user(p);
	if (p->flags & PLAN_CAPS) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			fail("clear keepcaps: %s", errstr(errno));
		apply_caps(p);
	}
	umask(p->flags & PLAN_UMASK ? p->umask : 022);
	if (p->flags & PLAN_NNP) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail("set no_new_privs: %s", errstr(errno));
		limit_and_filter(p);
	}
}

// exec_process is the last step: execve. As runc's init, a failed execve
// is the process's own error, on its stderr, with status 255.
__attribute__((noreturn)) static void exec_process(struct plan *p)
{
	do
		execve(p->path, p->argv, p->envp);
	while (errno == EINTR);
	int e = errno;
	if (fail_mode == TO_FIFO)
		close(fifo_fd); // start has succeeded
	dprintf(2, "exec %s: %s\n", p->path, errstr(e));
	_exit(255);
}

static struct plan *read_plan(int plan_fd)
{
	static struct plan p;
	size_t len;
	char *buf = read_all(plan_fd, &len);
	close(plan_fd);
	parse(buf, len, &p);
	return &p;
}

void hull_run_plan(int fifo, int plan_fd)
{
	fail_mode = TO_FIFO;
	fifo_fd = fifo;
	// The write end must not reach the user's process.
	fcntl(fifo, F_SETFD, FD_CLOEXEC);
	struct plan *p = read_plan(plan_fd);
	set_rlimits(p->rl, p->nrl);
	drop(p);
	// Tell start the process is about to run: start takes an EOF with
	// nothing read for an init that died before execve.
	char mark = 0;
	ssize_t w;
	do
		w = write(fifo, &mark, 1);
	while (w < 0 && errno == EINTR);
	if (w != 1)
		_exit(127);
	exec_process(p);
}

// skip_frame reads one frame from fd and drops it: the config the parent
// sends, which the plan already holds. Exits if the parent is gone.
static void skip_frame(int fd)
{
	unsigned char hdr[4];
	char buf[4096];
	size_t n = 0, want = 4;
	while (n < want) {
		ssize_t r = read(fd, hdr + n, want - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(1);
		n += r;
	}
	size_t left = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	while (left > 0) {
		ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(1);
		left -= r;
	}
}

// cloexec_from marks every fd from first on close-on-exec.
static void cloexec_from(unsigned int first)
{
	if (syscall(SYS_close_range, first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		fail("list fds: %s", errstr(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd >= (int)first && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

// raise_hard raises the hard limits the address-space rlimits ask for,
// and nothing else: what can fail of them fails before ready (the Go
// init's raiseHardLimits).
static void raise_hard(struct rlim *rl, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rlimit cur;
		if (getrlimit(rl[i].res, &cur) < 0)
			fail("get %s: %s", rl[i].name, errstr(errno));
		if (rl[i].max <= cur.rlim_max)
			continue;
		struct rlimit r = {.rlim_cur = cur.rlim_cur, .rlim_max = rl[i].max};
		if (setrlimit(rl[i].res, &r) < 0)
			fail("set %s to soft %llu hard %llu: %s", rl[i].name, (unsigned long long)rl[i].cur,
			     (unsigned long long)rl[i].max, errstr(errno));
	}
}

void hull_exec_plan(int sync, int plan_fd)
{
	fail_mode = TO_PARENT;
	fifo_fd = sync;
	struct plan *p = read_plan(plan_fd);
	// The parent sends the config when the process is in its cgroup:
	// nothing of the user's may run before.
	skip_frame(sync);
	cloexec_from(3 + p->npreserve);
	// As the Go exec process: not pinned to hull's own CPUs.
	static unsigned char all[64 * 1024 / 8];
	memset(all, 0xff, sizeof(all));
	syscall(SYS_sched_setaffinity, 0, sizeof(all), all);
	set_rlimits(p->rl, p->nrl);
	raise_hard(p->rl + p->nrl, p->nas);
	static const char ready[] = "\0\0\0\020{\"type\":\"ready\"}";
	// A parent that a signal made give up has shut the socket: the
	// ready is refused (EPIPE, should SIGPIPE be ignored), and nothing
	// of the user's may run.
	if (write_all(sync, ready, sizeof(ready) - 1) < 0)
		_exit(1);
	fail_mode = TO_STDERR;
	drop(p);
	exec_process(p);
}
