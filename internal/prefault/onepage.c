// Where a page fault is cheap, package prefault's constructor asks the
// kernel to map hull's read-only segments (code, types and strings, pc
// tables) one page per fault, in the commands whose peak RSS counts: a
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

// wanted says whether this command is one whose peak RSS counts: the
// ones that stay beside their container in the foreground (run, exec,
// events, restore) and create, whose peak issue 18 measures. The others
// (start, delete, kill, state, ...) end within milliseconds, where the
// faults cost more than the pages would: `start` is the half of a
// parallel create+start that would pay for them twice. Any argument
// equal to one of those names counts (a container called "run" makes its
// `start` take the slower path, nothing else); without /proc, yes.
static int wanted(void)
{
	static const char *const cmds[] = {"create", "run", "exec", "events", "restore"};
	char buf[4096];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	// argv[0] first, then each argument after its NUL.
	for (char *a = buf + strlen(buf) + 1; a < buf + n; a += strlen(a) + 1)
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(a, cmds[i]) == 0)
				return 1;
	return 0;
}

void hull_onepage(const ElfW(Phdr) *ph, unsigned long n, long pg)
{
	if (!wanted())
		return;
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
	// Every segment not writable: the code, the types and strings, the
	// pc tables. A `create` touches about half of the code's pages, nine
	// in ten of the types and strings' and a fifth of the pc tables'
	// (those of the functions on the stacks the runtime walks).
	int k = 0;
	for (unsigned long i = 0; i < n && k < HULL_ONEPAGE_RANGES; i++) {
		if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W))
			continue;
		uintptr_t start = ph[i].p_vaddr & ~(uintptr_t)(pg - 1);
		uintptr_t end = (ph[i].p_vaddr + ph[i].p_filesz + pg - 1) & ~(uintptr_t)(pg - 1);
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
