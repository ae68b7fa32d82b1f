// The constructor of package prefault: maps hull's own segments into its
// page tables with one madvise each, before the Go runtime starts: code
// and read-only data for reading, the writable data and bss (past RELRO,
// which the C start-up has made read-only by now) for writing; but only
// where a page fault is expensive, which it finds out by timing two;
// where it is cheap, it has the read-only segments mapped a page per fault
// (onepage.c). prefault.go says why and when.

#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "prefault.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

extern char **environ;

int hull_prefault_state = HULL_PREFAULT_SKIPPED;
long hull_prefault_fault_ns = -1;

void hull_onepage(const ElfW(Phdr) *ph, unsigned long n, long pg);

static int hull_prefault_skip(void)
{
	if (getenv("HULL_NO_PREFAULT"))
		return 1;
	// A process hull started as a container's init, or to enter one,
	// has _HULL_ variables: it stays as small as it is.
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "_HULL_", 6) == 0)
			return 1;
	return 0;
}

// fault_ns times write faults on two fresh anonymous pages and returns
// the cheaper (an interrupt may land in one), -1 if it cannot. The first
// touch of the mapping may also allocate a page table; the second not.
static long fault_ns(long pg)
{
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	long best = -1;
	for (int i = 0; i < 2; i++) {
		struct timespec a, b;
		if (clock_gettime(CLOCK_MONOTONIC, &a) != 0)
			break;
		((volatile char *)p)[i * pg] = 1;
		if (clock_gettime(CLOCK_MONOTONIC, &b) != 0)
			break;
		long d = (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
		if (best < 0 || d < best)
			best = d;
	}
	munmap(p, 2 * pg);
	return best;
}

__attribute__((constructor)) static void hull_prefault(void)
{
	if (hull_prefault_skip())
		return;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	long pg = sysconf(_SC_PAGESIZE);
	if (!ph || pg <= 0)
		return;
	// Where a fault is cheap (a VM whose faults stay in the guest, bare
	// metal), populating costs what the faults would, and more for the
	// pages the command never touches; there the read-only segments are
	// mapped a page per fault instead (onepage.c). HULL_PREFAULT=1
	// populates anyway.
	hull_prefault_fault_ns = fault_ns(pg);
	if (!getenv("HULL_PREFAULT") && hull_prefault_fault_ns >= 0 &&
	    hull_prefault_fault_ns < HULL_PREFAULT_FAULT_NS) {
		hull_prefault_state = HULL_PREFAULT_CHEAP;
		hull_onepage(ph, n, pg); // onepage.c
		return;
	}
	hull_prefault_state = HULL_PREFAULT_DONE;
	// hull is static and not position-independent: p_vaddr is the
	// address.
	uintptr_t relro_end = 0;
	for (unsigned long i = 0; i < n; i++)
		if (ph[i].p_type == PT_GNU_RELRO)
			relro_end = (ph[i].p_vaddr + ph[i].p_memsz + pg - 1) & ~(uintptr_t)(pg - 1);
	for (unsigned long i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uintptr_t start = ph[i].p_vaddr & ~(uintptr_t)(pg - 1);
		uintptr_t end = (ph[i].p_vaddr + ph[i].p_memsz + pg - 1) & ~(uintptr_t)(pg - 1);
		int advice = MADV_POPULATE_READ;
		if (ph[i].p_flags & PF_W) {
			// POPULATE_WRITE refuses (EINVAL) a range with any
			// page not writable.
			if (start < relro_end)
				start = relro_end;
			// hull's data and bss are under 0.5 MiB; a larger bss
			// is some package's buffer, better faulted in as used.
			if (end > start + HULL_PREFAULT_DATA_MAX)
				end = start + HULL_PREFAULT_DATA_MAX;
			advice = MADV_POPULATE_WRITE;
		}
		// Best effort: a kernel before 5.14 says EINVAL, and the
		// pages then come one fault at a time, as without this.
		if (start < end)
			madvise((void *)start, end - start, advice);
	}
}
