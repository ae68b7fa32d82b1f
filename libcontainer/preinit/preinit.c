// preinit: the one piece of hull that must run before the Go runtime starts
// (it was named nsenter; it also joins cgroups and waits for start).
// A multithreaded process cannot setns(2) into a user or mount namespace,
// and unshare(CLONE_NEWPID/CLONE_NEWTIME) takes effect only for children, so
// when hull's init or exec process must join namespaces by path (or make a
// time namespace) this constructor does it while the process is still single
// threaded, then forks once if the pid or time namespace demands it.
//
// It also puts hull's init and exec processes in their v1 cgroups, since
// only a single-threaded process can do that cheaply: writing "0" (itself)
// to a hierarchy's tasks file skips the kernel's global threadgroup lock,
// which a write to cgroup.procs takes and whose first taking in a while
// waits for an RCU grace period (5-15 ms here).
//
// Input (environment, set by the parent, fds inherited):
//   _HULL_INIT=<sync fd>         the SOCK_STREAM socket to the parent
//   _HULL_EXEFD=<fd>             the binary we run from: made close-on-exec
//   _HULL_CGJOIN=<fd>,...        v1 tasks files to write "0" to, first thing
//   _HULL_NSENTER=<sync fd>      the same socket: join namespaces
//   _HULL_NSJOIN=<fd>:<flag>,... namespaces to join, CLONE_NEW* flag in hex
//   _HULL_NSNEW=<flags>          namespaces to create, hex
//   _HULL_TIMENS=<text>          written to /proc/self/timens_offsets
//   _HULL_WAIT=<fd>              a created init: wait for start (below)
//   _HULL_PLAN=<fd>              then carry out the plan in fd (plan.c)
//   _HULL_RFS=<plan>,<state dir>,<start plan>,<npreserve>
//                                a created init set up in C (rootfs.c),
//                                then waiting and starting as above
// Messages to and from the parent are the frames of internal/proto (a
// 4-byte big-endian length, then JSON) on a SOCK_STREAM socket:
//   {"type":"usermap","pid":N}  maps of the new user namespace of N wanted;
//                               the parent answers {"type":"usermap-done"}
//   {"type":"pid","pid":N}      N is the process that goes on into Go
//   {"type":"error","error":S,"errno":E}
//
// Order (runc's nsexec.c): namespaces given by path are joined first, the
// user namespace among them in the middle (see join_all), and only then
// are new namespaces made, a new user namespace first. A namespace the
// caller owns but a new user namespace does not (a host netns for CNI)
// can then still be joined. While it joins namespaces the process is
// non-dumpable, so that nothing already in them can ptrace it or open its
// /proc files (and its fds); it is made dumpable only for the moments the
// parent or it must write its /proc files as another user.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "plan.h"
#include "preinit.h"

static int sync_fd = -1;

// send_frame writes one frame (length, then the n bytes of buf) whole.
static int send_frame(const char *buf, int n)
{
	unsigned char hdr[4] = {(n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff};
	struct iovec iov[2] = {{hdr, 4}, {(void *)buf, n}};
	size_t left = 4 + (size_t)n;
	while (left > 0) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		ssize_t w = sendmsg(sync_fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		left -= w;
		for (int i = 0; i < 2 && w > 0; i++) {
			size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			w -= k;
		}
	}
	return 0;
}

static int read_full(void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(sync_fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1; // an error, or the parent is gone
		p += r;
		n -= r;
	}
	return 0;
}

// recv_frame reads one frame into buf (NUL-terminated); -1 when the
// parent is gone or the frame is larger than buf.
static int recv_frame(char *buf, size_t cap)
{
	unsigned char hdr[4];
	if (read_full(hdr, 4) < 0)
		return -1;
	size_t n = ((size_t)hdr[0] << 24) | (hdr[1] << 16) | (hdr[2] << 8) | hdr[3];
	if (n >= cap || read_full(buf, n) < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

int hull_sync_fd(void) { return sync_fd; }

int hull_send_frame(const char *json) { return send_frame(json, strlen(json)); }

int hull_recv_frame(char *buf, size_t cap) { return recv_frame(buf, cap) < 0 ? -1 : 0; }

static void say(const char *type, int pid)
{
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"pid\":%d}", type, pid);
	if (send_frame(buf, n) < 0)
		_exit(1);
}

// errstr is strerror(errno) as Go spells errors: lowercase.
static const char *errstr(void)
{
	static char s[128];
	snprintf(s, sizeof(s), "%s", strerror(errno));
	if (s[0] >= 'A' && s[0] <= 'Z')
		s[0] += 'a' - 'A';
	return s;
}

static void fail(const char *what)
{
	char buf[512];
	int e = errno;
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"error\":\"nsenter: %s: %s\",\"errno\":%d}", what, errstr(), e);
	send_frame(buf, n);
	_exit(1);
}

// fail_path reports errno for path (JSON-escaped) and exits.
static void fail_path(const char *what, const char *path)
{
	char esc[256], buf[512];
	size_t j = 0;
	for (const char *c = path; *c && j < sizeof(esc) - 7; c++) {
		if (*c == '"' || *c == '\\')
			esc[j++] = '\\';
		if ((unsigned char)*c < 0x20)
			j += snprintf(esc + j, sizeof(esc) - j, "\\u%04x", *c);
		else
			esc[j++] = *c;
	}
	esc[j] = 0;
	int e = errno;
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"error\":\"%s %s: %s\",\"errno\":%d}", what, esc, errstr(), e);
	send_frame(buf, n);
	_exit(1);
}

// join_cgroups writes "0" to each tasks fd of list, then closes it.
static void join_cgroups(const char *list)
{
	const char *p = list;
#ifdef HULL_FAULTS
	const char *fault = getenv("HULL_FAULT");
	int fake = fault && strcmp(fault, "cgjoin-fails") == 0;
#endif
	while (p && *p) {
		char *end;
		int fd = strtol(p, &end, 10);
		ssize_t n;
#ifdef HULL_FAULTS
		if (fake) {
			errno = EACCES;
			n = -1;
		} else
#endif
			n = write(fd, "0", 1);
		if (n != 1) {
			int e = errno;
			char link[64], path[200] = "?";
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			n = readlink(link, path, sizeof(path) - 1);
			if (n > 0)
				path[n] = 0;
			errno = e;
			fail_path("join cgroup", path);
		}
		close(fd);
		p = *end == ',' ? end + 1 : NULL;
	}
}

// become_root makes the process root (uid and gid 0) in the user
// namespace it just joined or made.
static void become_root(void)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		fail("become root in the user namespace");
}

// join_pass joins the namespaces of list whose flag is in allow and that
// are not in *joined yet. EPERM is not fatal here: the namespace is tried
// again in a later pass (after the user namespace is joined, the process
// may have the rights it lacked). Returns the flags joined.
static int join_pass(const char *list, int allow, int *joined)
{
	const char *p = list;
	int got = 0;
	while (p && *p) {
		char *end;
		int fd = strtol(p, &end, 10);
		int flag = strtol(end + 1, &end, 16);
		p = *end == ',' ? end + 1 : NULL;
		if (!(flag & allow) || (flag & *joined))
			continue;
		if (setns(fd, flag) < 0) {
			if (errno == EPERM)
				continue;
			char what[64];
			snprintf(what, sizeof(what), "setns(%#x)", flag);
			fail(what);
		}
		got |= flag;
		*joined |= flag;
		if (flag == CLONE_NEWUSER)
			become_root();
	}
	return got;
}

// join_all joins every namespace of list, as runc's join_namespaces does:
// first all but the user namespace (rights the caller has over a namespace
// a joined user namespace does not own, such as a host-owned netns, would
// be lost once in it), then the user namespace, then whatever failed with
// EPERM before (a rootless caller gets its rights only in the user
// namespace). Any namespace left unjoined is an error.
static void join_all(const char *list)
{
	int want = 0, joined = 0;
	const char *p = list;
	while (p && *p) {
		char *end;
		strtol(p, &end, 10);
		want |= (int)strtol(end + 1, &end, 16);
		p = *end == ',' ? end + 1 : NULL;
	}
	join_pass(list, want & ~CLONE_NEWUSER, &joined);
	join_pass(list, want & CLONE_NEWUSER, &joined);
	join_pass(list, want & ~CLONE_NEWUSER, &joined);
	if (want & ~joined) {
		char what[64];
		snprintf(what, sizeof(what), "setns(%#x)", want & ~joined);
		errno = EPERM;
		fail(what);
	}
}

// set_dumpable sets the dumpable flag, or fails.
static void set_dumpable(int on)
{
	if (prctl(PR_SET_DUMPABLE, on, 0, 0, 0) < 0)
		fail(on ? "set dumpable" : "set non-dumpable");
}

// A created container's init waits for `start` here, in a fresh image of
// hull, before the Go runtime starts: about half a megabyte (drop_ro) and
// one thread for an idle container. _HULL_WAIT names an O_PATH fd of exec.fifo, reopened
// for writing through /proc/self/fd (the idle init holds nothing else of
// the state directory); the write end takes that fd number, and the Go
// runtime then starts and finishes the init (see waitInC in libcontainer/initproc).
static void die(int sig)
{
	// What Go's runtime does with these signals: the process ends.
	_exit(128 + sig);
}

static const int fatal_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
				    SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGPWR, SIGXCPU, SIGXFSZ};

// catch_fatal makes fatal_signals end the process, as they end runc's
// init (a Go process until its execve). The init of a new pid namespace
// drops a signal sent from outside while its action is SIG_DFL: without
// a handler, a caller's TERM right after create would be lost and the
// container stay created.
static void catch_fatal(void)
{
	struct sigaction sa = {.sa_handler = die};
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
}

// hull_block_fatal blocks (block != 0) or unblocks fatal_signals on the
// calling thread. The Go init blocks them before it execs the image that
// waits (waitInC): the exec resets every handler to SIG_DFL, and a
// blocked signal stays pending through it, where one that arrived
// unblocked would be dropped; wait_for_start unblocks them once it
// catches them.
void hull_block_fatal(int block)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaddset(&set, fatal_signals[i]);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

// drop_ro takes the pages of the binary's read-only segments (its code
// and constants: clean copies of the file, never written) out of this
// process's page tables. An idle init holds them only because it ran
// through them (each fault maps up to 16 neighbouring pages): about
// 1.1 MB of its 1.2 MB. What runs after start comes back from the page
// cache. The writable segment (data, relocations) is left alone.
static int drop_ro(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	uintptr_t pg = (uintptr_t)getpagesize();
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(pg - 1);
		uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + pg - 1) & ~(pg - 1);
		madvise((void *)start, end - start, MADV_DONTNEED);
	}
	return 1; // the executable, listed first, only
}

static void wait_for_start(const char *w)
{
	int pathfd = atoi(w), fd;
	char path[64];
	struct sigaction sa = {.sa_handler = SIG_DFL};
	size_t i;
	catch_fatal();
	// A TERM that came while they were blocked (during the exec) ends
	// the process here.
	hull_block_fatal(0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pathfd);
	dl_iterate_phdr(drop_ro, NULL);
	do
		fd = open(path, O_WRONLY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0 || dup2(fd, pathfd) < 0)
		_exit(1);
	close(fd);
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
}

// exec_plan: an exec'd process whose last steps the parent wrote as a
// plan carries them out here and never starts the Go runtime (plan.c).
static void exec_plan(void)
{
	const char *plan = getenv("_HULL_PLAN");
	if (plan)
		hull_exec_plan(sync_fd, atoi(plan));
}

__attribute__((constructor)) static void hull_nsenter(void)
{
	// The fd we were executed through (the read-only binary) must not
	// reach the container's process.
	const char *exefd = getenv("_HULL_EXEFD");
	if (exefd)
		fcntl(atoi(exefd), F_SETFD, FD_CLOEXEC);
	// The init is executed through /proc/self/fd/N, which would make its
	// name "N": name it so ps and leftover checks can tell it.
	if (getenv("_HULL_INIT"))
		prctl(PR_SET_NAME, "hull:init", 0, 0, 0);
	const char *w = getenv("_HULL_WAIT");
	if (w) {
		// An init that joined namespaces stays non-dumpable while it
		// waits, as it was before this image (the exec reset that).
		if (getenv("_HULL_NODUMP"))
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#ifdef HULL_FAULTS
		// The window between the exec and wait_for_start, widened: a
		// signal sent in it must still end the init.
		const char *fault = getenv("HULL_FAULT");
		if (fault && strcmp(fault, "wait-late") == 0) {
			static const char msg[] = "hull-fault: reached wait-late\n";
			struct timespec ts = {0, 500 * 1000 * 1000};
			(void)!write(2, msg, sizeof(msg) - 1);
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
#endif
		wait_for_start(w);
		const char *plan = getenv("_HULL_PLAN");
		if (plan)
			hull_run_plan(atoi(w), atoi(plan));
		return;
	}
	const char *cg = getenv("_HULL_CGJOIN"), *in = getenv("_HULL_INIT");
	if (cg && in) {
		sync_fd = atoi(in);
		join_cgroups(cg);
	}
	const char *s = getenv("_HULL_NSENTER");
	const char *rfs = getenv("_HULL_RFS");
	if (!s && rfs && in) {
		// A created init whose setup Go planned for C (rootfs.c): if
		// it is done, wait for start and run the process's plan here;
		// else the Go init does it all.
		int plan = -1, dir = -1, start = -1, npreserve = 0, fifo = -1;
		sync_fd = atoi(in);
		// Caught before ready is sent, not only once waiting: create
		// returns on ready, and its caller may signal the init at once.
		// Should the Go init take over, its runtime catches them.
		catch_fatal();
		if (sscanf(rfs, "%d,%d,%d,%d", &plan, &dir, &start, &npreserve) == 4 &&
		    hull_rootfs(plan, dir, start, npreserve, &fifo) == 0) {
			char w[16];
			snprintf(w, sizeof(w), "%d", fifo);
			wait_for_start(w);
			hull_run_plan(fifo, start);
		}
		return;
	}
	if (!s)
		return;
	sync_fd = atoi(s);
	const char *joins = getenv("_HULL_NSJOIN");
	const char *nw = getenv("_HULL_NSNEW");
	const char *timens = getenv("_HULL_TIMENS");
	int flags = nw ? (int)strtol(nw, NULL, 16) : 0;
	int joined_pid = joins && strstr(joins, ":20000000") != NULL; // CLONE_NEWPID
	int joining = joins && *joins;

	// Non-dumpable while joining: a process already in those namespaces
	// must not ptrace this one or open its /proc files and fds.
	if (joining)
		set_dumpable(0);
	join_all(joins);
	if (flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			fail("unshare user namespace");
		// The parent writes our id maps: they must be writable by it.
		if (joining)
			set_dumpable(1);
		say("usermap", getpid());
		char buf[256];
		if (recv_frame(buf, sizeof(buf)) < 0)
			_exit(1);
		if (joining)
			set_dumpable(0);
		become_root();
	}
	if (!joining && (flags & CLONE_NEWUSER)) {
		// Changing ids made us non-dumpable, which makes /proc/self
		// owned by host root and unwritable (timens_offsets,
		// oom_score_adj) for root in the new user namespace.
		set_dumpable(1);
	}
	if (unshare(flags & ~CLONE_NEWUSER) < 0)
		fail("unshare");
	if ((flags & CLONE_NEWTIME) && timens && *timens) {
		// Written as root of our user namespace, which must own the
		// file for that: dumpable for the moment.
		if (joining)
			set_dumpable(1);
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, timens, strlen(timens)) < 0)
			fail("write /proc/self/timens_offsets");
		close(fd);
		if (joining)
			set_dumpable(0);
	}
	if (joined_pid || (flags & (CLONE_NEWPID | CLONE_NEWTIME))) {
		pid_t pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid > 0) {
			say("pid", pid);
			_exit(0);
		}
		setsid();
		exec_plan();
		return;
	}
	setsid();
	say("pid", getpid());
	exec_plan();
}
