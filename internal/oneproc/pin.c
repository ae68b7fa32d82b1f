//go:build pinstart

// The Go runtime counts the CPUs it may use (sched_getaffinity) once, as
// it starts, and makes that many Ps. This constructor runs before that
// and restricts the process to the CPU it runs on, so that the runtime
// starts with one P; the first pthread_create, the runtime starting
// sysmon after it has counted, puts the mask back first, so every thread
// and every child has the caller's mask. No policy: oneproc.go says why
// and when. Built only with the pinstart tag, which the Makefile sets
// together with the linker's --wrap=pthread_create.

#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int slack_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

static cpu_set_t oneproc_saved;
static int oneproc_pinned;

__attribute__((constructor)) static void oneproc_pin(void)
{
	cpu_set_t one;
	int cpu;

	if (getenv("GOMAXPROCS"))
		return;
	// A container's init and a process entering a container (hull's
	// _HULL_ variables) keep their mask untouched.
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "_HULL_", 6) == 0)
			return;
	if (sched_getaffinity(0, sizeof(oneproc_saved), &oneproc_saved) < 0 || CPU_COUNT(&oneproc_saved) < 2)
		return;
	cpu = sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &oneproc_saved))
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		oneproc_pinned = 1;
}

// oneproc_unpin gives the calling thread (the main thread, the only one
// there is while pinned) the saved mask back. Should the cpuset have
// changed meanwhile so that the saved mask is refused, every CPU the
// cpuset allows.
void oneproc_unpin(void)
{
	if (!oneproc_pinned)
		return;
	oneproc_pinned = 0;
	if (sched_setaffinity(0, sizeof(oneproc_saved), &oneproc_saved) < 0) {
		cpu_set_t all;
		memset(&all, 0xff, sizeof(all));
		sched_setaffinity(0, sizeof(all), &all);
	}
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	oneproc_unpin();
	return slack_pthread_create(t, a, fn, arg); // slack.c
}
