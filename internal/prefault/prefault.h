#ifndef HULL_PREFAULT_H
#define HULL_PREFAULT_H

#include <stdint.h>

// At most this much of the writable data and bss is populated.
#define HULL_PREFAULT_DATA_MAX (1UL << 20)

// Populate only where a page fault costs more than this (nanoseconds).
#define HULL_PREFAULT_FAULT_NS 5000L

// What the constructor decided, for the Go side and the tests.
enum {
	HULL_PREFAULT_SKIPPED = 0, // a container's process, or HULL_NO_PREFAULT
	HULL_PREFAULT_DONE = 1,    // populated
	HULL_PREFAULT_CHEAP = 2,   // not: a fault costs less than the threshold
};

extern int hull_prefault_state;
// The cheaper of two timed page faults, in nanoseconds (-1: not timed).
extern long hull_prefault_fault_ns;

// Where a fault is cheap: the userfaultfd that keeps the kernel from
// faulting around in hull's read-only segments (-1: none; onepage.c), the
// errno of the step that failed, and the ranges registered (start, end).
#define HULL_ONEPAGE_RANGES 4
extern int hull_onepage_fd;
extern int hull_onepage_errno;
extern uintptr_t hull_onepage_ranges[HULL_ONEPAGE_RANGES][2];

#endif
