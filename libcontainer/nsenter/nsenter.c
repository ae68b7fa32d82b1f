// nsenter: the one piece of hull that must run before the Go runtime starts.
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
//   _HULL_INIT=<sync fd>         the SOCK_SEQPACKET socket to the parent
//   _HULL_EXEFD=<fd>             the binary we run from: made close-on-exec
//   _HULL_CGJOIN=<fd>,...        v1 tasks files to write "0" to, first thing
//   _HULL_NSENTER=<sync fd>      the same socket: join namespaces
//   _HULL_NSJOIN=<fd>:<flag>,... namespaces to join, CLONE_NEW* flag in hex
//   _HULL_NSNEW=<flags>          namespaces to create, hex
//   _HULL_TIMENS=<text>          written to /proc/self/timens_offsets
// Messages to the parent are the JSON messages of sync_linux.go:
//   {"type":"usermap","pid":N}  maps of the new user namespace of N wanted;
//                               the parent answers {"type":"usermap-done"}
//   {"type":"pid","pid":N}      N is the process that goes on into Go
//   {"type":"error","error":S}
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int sync_fd = -1;

static void say(const char *type, int pid)
{
	char buf[96];
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"pid\":%d}", type, pid);
	if (send(sync_fd, buf, n, 0) != n)
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
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"error\":\"nsenter: %s: %s\"}", what, errstr());
	send(sync_fd, buf, n, 0);
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
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"error\":\"%s %s: %s\"}", what, esc, errstr());
	send(sync_fd, buf, n, 0);
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

static void join(const char *list, int want_user)
{
	const char *p = list;
	while (p && *p) {
		char *end;
		int fd = strtol(p, &end, 10);
		int flag = strtol(end + 1, &end, 16);
		if ((flag == CLONE_NEWUSER) == want_user && setns(fd, flag) < 0) {
			char what[64];
			snprintf(what, sizeof(what), "setns(%#x)", flag);
			fail(what);
		}
		p = *end == ',' ? end + 1 : NULL;
	}
}

// A created container's init waits for `start` here, in a fresh image of
// hull, before the Go runtime starts: about a megabyte and one thread for
// an idle container. _HULL_WAIT names the state directory's fd; the write
// end of exec.fifo takes that fd number, and the Go runtime then starts and
// finishes the init (see waitInC in init_linux.go).
static void die(int sig)
{
	// What Go's runtime does with these signals: the process ends.
	_exit(128 + sig);
}

static const int fatal_signals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
				    SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF, SIGPWR, SIGXCPU, SIGXFSZ};

static void wait_for_start(const char *w)
{
	int dirfd = atoi(w), fd;
	struct sigaction sa = {.sa_handler = die};
	size_t i;
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	do
		fd = openat(dirfd, "exec.fifo", O_WRONLY);
	while (fd < 0 && errno == EINTR);
	if (fd < 0 || dup2(fd, dirfd) < 0)
		_exit(1);
	close(fd);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
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
		wait_for_start(w);
		return;
	}
	const char *cg = getenv("_HULL_CGJOIN"), *in = getenv("_HULL_INIT");
	if (cg && in) {
		sync_fd = atoi(in);
		join_cgroups(cg);
	}
	const char *s = getenv("_HULL_NSENTER");
	if (!s)
		return;
	sync_fd = atoi(s);
	const char *joins = getenv("_HULL_NSJOIN");
	const char *nw = getenv("_HULL_NSNEW");
	const char *timens = getenv("_HULL_TIMENS");
	int flags = nw ? (int)strtol(nw, NULL, 16) : 0;
	int joined_pid = joins && strstr(joins, ":20000000") != NULL; // CLONE_NEWPID

	// The user namespace first: it decides what we may do in the others.
	join(joins, 1);
	if (flags & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			fail("unshare user namespace");
		say("usermap", getpid());
		char buf[64];
		if (recv(sync_fd, buf, sizeof(buf), 0) <= 0)
			_exit(1);
	}
	if ((joins && strstr(joins, ":10000000")) || (flags & CLONE_NEWUSER)) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			fail("become root in the user namespace");
		// Changing ids made us non-dumpable, which makes /proc/self
		// root-owned and unwritable (timens_offsets, oom_score_adj).
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	}
	join(joins, 0);
	if (unshare(flags & ~CLONE_NEWUSER) < 0)
		fail("unshare");
	if ((flags & CLONE_NEWTIME) && timens && *timens) {
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, timens, strlen(timens)) < 0)
			fail("write /proc/self/timens_offsets");
		close(fd);
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
		return;
	}
	setsid();
	say("pid", getpid());
}
