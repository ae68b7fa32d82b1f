//go:build pinstart

// sysmon's timer slack. The Go runtime's sysmon thread wakes every 20 µs
// while the process is busy (backing off to 10 ms when it finds nothing to
// do) to take Ps back from system calls and preempt long runners. A hull
// command lasts a few milliseconds, mostly in system calls, so sysmon
// keeps waking and taking the P back (and starting threads for it): on a
// 2-CPU KVM guest, 50 or 100 containers created and started in parallel
// spent 9-12% of their CPU on it. This gives sysmon's thread, and only
// it, a timer slack of SLACK_SYSMON_NS, so that its sleeps end within
// 5 ms instead of 20-70 µs: sysmon then wakes a few times in a command
// instead of dozens, and a P blocked in a system call is taken back after
// at most about that long (sysmon's own back-off already reaches 10 ms).
//
// Timer slack is inherited: by a thread from the thread that creates it,
// by a child from the thread that forks it. sysmon itself never forks, but
// it starts threads (an M for a P it took back): those get the process's
// slack back before they exist, so no other thread, hook or container
// process has sysmon's. No policy: oneproc.go says why and when.

#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>

#define SLACK_SYSMON_NS 5000000UL

extern char **environ;

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

static unsigned long slack_saved; // the process's slack as it started
static int slack_on;              // give sysmon SLACK_SYSMON_NS
static int slack_started;         // the first thread (sysmon) is started
static __thread int slack_in_sysmon;
static void *(*slack_fn)(void *);
static void *slack_arg;

__attribute__((constructor)) static void slack_init(void)
{
	int s;

	// A container's init and a process entering a container (hull's
	// _HULL_ variables) are left alone, as pin.c leaves them.
	// Nor is a process asked for a scheduler trace, which sysmon prints
	// on its own clock (GODEBUG=schedtrace=N).
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "_HULL_", 6) == 0 || (strncmp(*e, "GODEBUG=", 8) == 0 && strstr(*e, "schedtrace")))
			return;
	s = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (s < 0 || (unsigned long)s >= SLACK_SYSMON_NS)
		return;
	slack_saved = s;
	slack_on = 1;
}

static void *slack_sysmon(void *unused)
{
	(void)unused;
	slack_in_sysmon = 1;
	prctl(PR_SET_TIMERSLACK, SLACK_SYSMON_NS, 0, 0, 0);
	return slack_fn(slack_arg);
}

// slack_pthread_create is pthread_create for pin.c's wrapper. The runtime's
// first thread is sysmon's (runtime.main starts it before anything else,
// while the main thread is the only one: no race on the statics).
int slack_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	int r;

	if (!slack_on)
		return __real_pthread_create(t, a, fn, arg);
	if (!slack_started) {
		slack_started = 1;
		slack_fn = fn;
		slack_arg = arg;
		return __real_pthread_create(t, a, slack_sysmon, NULL);
	}
	if (!slack_in_sysmon)
		return __real_pthread_create(t, a, fn, arg);
	prctl(PR_SET_TIMERSLACK, slack_saved, 0, 0, 0);
	r = __real_pthread_create(t, a, fn, arg);
	prctl(PR_SET_TIMERSLACK, SLACK_SYSMON_NS, 0, 0, 0);
	return r;
}
