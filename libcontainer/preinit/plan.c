// plan: the last steps of a created container's init, after `start`,
// without the Go runtime (issue 18: a Go start-up here was half of
// `start`'s time). The Go init decided everything before ready (the
// executable, the environment, the capability masks, the seccomp filter
// compiled to BPF, the rlimits) and wrote it as a plan into a pipe; this
// file only carries it out, in the order of the Go finisher
// (libcontainer/initproc/finish_linux.go, drop and finish), and reports a
// failure on exec.fifo as text, as that code does. The Go init writes no
// plan when there is something only Go does (startContainer hooks, a
// seccomp agent, LSM labels): the Go runtime then starts and finishes.
//
// The plan's layout is planLayout in libcontainer/initproc/plan_linux.go.
#define _GNU_SOURCE
#include <ctype.h>
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
#define PLAN_HDR 96

struct rlim {
	uint32_t res;
	uint64_t cur, max;
	const char *name;
};

struct plan {
	uint32_t flags, uid, gid, umask, ngroups, nrl, nas, nfilter, sflags, nargs, nenv, lastcap;
	uint64_t bounding, effective, permitted, inheritable, ambient;
	gid_t *groups;
	struct rlim *rl; // nrl others, then nas address-space limits
	struct sock_filter *filter;
	const char *path, *cwd;
	char **argv, **envp;
};

static int fifo_fd = -1;

// errstr is Go's text for an errno: the C library's with a lower-case
// first letter ("no such file or directory").
static const char *errstr(int e)
{
	static char buf[128];
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	buf[0] = tolower((unsigned char)buf[0]);
	return buf;
}

// fail reports why on the fifo, for `start` to print, and exits 127 (the
// Go finisher's status for a failure before execve).
__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	if (n > 0) {
		ssize_t w;
		do
			w = write(fifo_fd, msg, n);
		while (w < 0 && errno == EINTR);
	}
	_exit(127);
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
	p->flags = u32(buf, len, &off);
	p->uid = u32(buf, len, &off);
	p->gid = u32(buf, len, &off);
	p->umask = u32(buf, len, &off);
	p->ngroups = u32(buf, len, &off);
	p->nrl = u32(buf, len, &off);
	p->nas = u32(buf, len, &off);
	p->nfilter = u32(buf, len, &off);
	p->sflags = u32(buf, len, &off);
	p->nargs = u32(buf, len, &off);
	p->nenv = u32(buf, len, &off);
	p->lastcap = u32(buf, len, &off);
	p->bounding = u64(buf, len, &off);
	p->effective = u64(buf, len, &off);
	p->permitted = u64(buf, len, &off);
	p->inheritable = u64(buf, len, &off);
	p->ambient = u64(buf, len, &off);
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

void hull_run_plan(int fifo, int plan_fd)
{
	struct plan p = {0};
	size_t len;
	fifo_fd = fifo;
	// The write end must not reach the user's process.
	fcntl(fifo, F_SETFD, FD_CLOEXEC);
	char *buf = read_all(plan_fd, &len);
	close(plan_fd);
	parse(buf, len, &p);
	set_rlimits(p.rl, p.nrl);
	drop(&p);
	// Tell start the process is about to run: start takes an EOF with
	// nothing read for an init that died before execve.
	char mark = 0;
	ssize_t w;
	do
		w = write(fifo, &mark, 1);
	while (w < 0 && errno == EINTR);
	if (w != 1)
		_exit(127);
	do
		execve(p.path, p.argv, p.envp);
	while (errno == EINTR);
	// As runc's init: the failed execve is the process's own error, on
	// its stderr, with status 255; start has succeeded.
	int e = errno;
	close(fifo);
	dprintf(2, "exec %s: %s\n", p.path, errstr(e));
	_exit(255);
}
