// The constructor of package prefault: maps hull's own segments into its
// page tables with one madvise each, before the Go runtime starts: code
// and read-only data for reading, the writable data and bss (past RELRO,
// which the C start-up has made read-only by now) for writing. No policy:
// prefault.go says why and when.

#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prefault.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

extern char **environ;

int hull_prefault_skip(void)
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

__attribute__((constructor)) static void hull_prefault(void)
{
	if (hull_prefault_skip())
		return;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	long pg = sysconf(_SC_PAGESIZE);
	if (!ph || pg <= 0)
		return;
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
