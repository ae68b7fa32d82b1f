// The signal handler of package sigcatch: async-signal-safe, no policy.
// It writes the signal's number to a pipe the package's goroutine reads.

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sigcatch.h"

static int sc_fd = -1;
static pid_t sc_pid;
static struct sigaction sc_old[SC_NSIG];

static void sc_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	// A child between Go's vfork and its execve shares our memory and
	// may still have this handler: its signals are not ours to relay.
	if (getpid() == sc_pid)
		(void)!write(sc_fd, &b, 1);
	errno = saved;
}

void sc_setup(int fd)
{
	sc_fd = fd;
	sc_pid = getpid();
}

// sc_install puts the handler on n signals, keeping each one's previous
// action for sc_restore; *done counts those it installed. SA_ONSTACK
// because it runs on Go's threads, whose stacks are small (os/signal's
// rules for non-Go handlers).
int sc_install(const int *sigs, int n, int *done)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sc_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	*done = 0;
	for (int i = 0; i < n; i++) {
		if (sigs[i] <= 0 || sigs[i] >= SC_NSIG)
			return -EINVAL;
		if (sigaction(sigs[i], &sa, &sc_old[sigs[i]]) < 0)
			return -errno;
		(*done)++;
	}
	return 0;
}

// sc_restore gives sig back its action from before sc_install: the Go
// runtime's handler, which then treats it as if it was never caught.
int sc_restore(int sig)
{
	if (sig <= 0 || sig >= SC_NSIG)
		return -EINVAL;
	if (sigaction(sig, &sc_old[sig], NULL) < 0)
		return -errno;
	return 0;
}

// sc_rtmin is the C library's SIGRTMIN: the signals from 32 below it are
// the library's own (glibc's 32 and 33, musl's 32 to 34), and its
// sigaction refuses them.
int sc_rtmin(void)
{
	return SIGRTMIN;
}
