// The constructor of package prefault: maps hull's own read-only segments
// (code, read-only data) into its page tables with one madvise each,
// before the Go runtime starts. No policy: prefault.go says why and when.

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
	for (unsigned long i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W))
			continue;
		// hull is static and not position-independent: p_vaddr is
		// the address.
		uintptr_t start = ph[i].p_vaddr & ~(uintptr_t)(pg - 1);
		uintptr_t end = (ph[i].p_vaddr + ph[i].p_memsz + pg - 1) & ~(uintptr_t)(pg - 1);
		// Best effort: a kernel before 5.14 says EINVAL, and the
		// pages then come one fault at a time, as without this.
		madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
}
