// Where a page fault is cheap, package prefault's constructor asks the
// kernel to map hull's code and its pc tables one page per fault: a
// userfaultfd registered for write-protection, asynchronous (Linux 6.7),
// over those ranges. No fault is ever reported to it (nothing there is
// written or write-protected); what counts is that the kernel does not
// fault around in a range a userfaultfd watches. prefault.go says why and
// what it costs. Best effort: where the kernel or a seccomp filter says
// no, the pages come as they always did.

#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/userfaultfd.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prefault.h"

// The build's kernel headers may predate these (Debian 12's are 6.1).
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

int hull_onepage_fd = -1;
int hull_onepage_errno;
uintptr_t hull_onepage_ranges[HULL_ONEPAGE_RANGES][2];

// The most section headers read; hull has 26.
#define MAX_SECTIONS 64

// pclntab_page is the page where the Go linker's .gopclntab starts,
// read from the section headers of hull's own file (they are not
// mapped); 0 if it cannot tell.
static uintptr_t pclntab_page(long pg)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	uintptr_t at = 0;
	ElfW(Ehdr) eh;
	ElfW(Shdr) sh[MAX_SECTIONS];
	char names[1024];
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 ||
	    eh.e_shnum > MAX_SECTIONS || eh.e_shstrndx >= eh.e_shnum)
		goto out;
	ssize_t want = (ssize_t)(eh.e_shnum * sizeof(ElfW(Shdr)));
	if (pread(fd, sh, want, eh.e_shoff) != want)
		goto out;
	const ElfW(Shdr) *strs = &sh[eh.e_shstrndx];
	size_t len = strs->sh_size < sizeof(names) - 1 ? strs->sh_size : sizeof(names) - 1;
	ssize_t got = pread(fd, names, len, strs->sh_offset);
	if (got <= 0)
		goto out;
	names[got] = 0;
	for (int i = 0; i < eh.e_shnum; i++)
		if (sh[i].sh_name < (size_t)got && strcmp(names + sh[i].sh_name, ".gopclntab") == 0) {
			at = sh[i].sh_addr & ~(uintptr_t)(pg - 1);
			break;
		}
out:
	close(fd);
	return at;
}

void hull_onepage(const ElfW(Phdr) *ph, unsigned long n, long pg)
{
	// UFFD_USER_MODE_ONLY: what Linux lets a process without
	// CAP_SYS_PTRACE have when vm.unprivileged_userfaultfd is 0 (a
	// rootless hull); faults in the kernel's own accesses do not matter
	// here.
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		hull_onepage_errno = errno;
		return;
	}
	// The Go runtime has not checked fds 0-2 yet: if the caller closed
	// one, this would take its place, and be the container's stdin.
	if (fd < 3) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (hi < 0)
			hull_onepage_errno = errno;
		close(fd);
		if (hi < 0)
			return;
		fd = hi;
	}
	struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC};
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		hull_onepage_errno = errno; // EINVAL: before 6.7
		close(fd);
		return;
	}
	// The code (read-execute) from its start, the read-only data from
	// the pc tables on: a command touches about half of its code pages
	// and a fifth of the pc tables' (those of the functions on a stack
	// the runtime walks). The data before the pc tables (types, strings,
	// the runtime's tables) is used densely; faulting around it costs
	// few pages and saves faults.
	uintptr_t pcl = pclntab_page(pg);
	int k = 0;
	for (unsigned long i = 0; i < n && k < HULL_ONEPAGE_RANGES; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W))
			continue;
		uintptr_t start = ph[i].p_vaddr & ~(uintptr_t)(pg - 1);
		uintptr_t end = (ph[i].p_vaddr + ph[i].p_filesz + pg - 1) & ~(uintptr_t)(pg - 1);
		if (!(ph[i].p_flags & PF_X)) {
			if (pcl < start || pcl >= end)
				continue;
			start = pcl;
		}
		struct uffdio_register reg = {
			.range = {.start = start, .len = end - start},
			.mode = UFFDIO_REGISTER_MODE_WP,
		};
		if (ioctl(fd, UFFDIO_REGISTER, &reg) != 0) {
			hull_onepage_errno = errno;
			continue;
		}
		hull_onepage_ranges[k][0] = start;
		hull_onepage_ranges[k][1] = end;
		k++;
	}
	if (k == 0) {
		close(fd);
		return;
	}
	// Kept open for the process's life: closing the last reference
	// unregisters the ranges. Close-on-exec; a child forked without
	// CLONE_VM gets the ranges unregistered (no UFFD_FEATURE_EVENT_FORK).
	hull_onepage_fd = fd;
	hull_onepage_errno = 0;
}
