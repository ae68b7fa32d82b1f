// Package prefault decides how hull's own pages come into its page tables.
// Where a page fault is expensive, it fills them at start in a few madvise
// calls instead of hundreds of page faults: its C constructor times two
// faults on fresh pages and, if the cheaper took 5 µs or more, maps the
// binary's read-only segments (MADV_POPULATE_READ) and its writable data
// and bss (MADV_POPULATE_WRITE, at most 1 MiB) before the Go runtime
// starts; its init then writes in the first MiB of the Go heap above the
// first objects (MADV_POPULATE_WRITE), where the command's allocations go
// next.
//
// Why: on a Firecracker VM under PVM, where this project ran for a long
// time, a page fault costs 11-14 µs and a populated page 0.7 µs. A `hull
// run` took about 580 faults in its own process, 200 of them in the heap
// (60-90% of each 64 KiB of the first 1.2 MiB), most of the rest in code
// and read-only data that fault-around maps 64 KiB at a time. With both:
// 370 faults, 1.3 ms less per run, 0.6 ms less per --version (medians of
// interleaved runs, issue 18). The Go runtime writes all over its data and
// bss as it starts (44 faults for --version); populating them (0.45 MiB)
// took a further 0.8 ms off --version's wall time and 1.2 ms off its CPU
// time. The price is resident memory: about 1.5 MiB more at the peak of a
// short-lived command (pages of code it would not have touched, and heap
// it does not fill).
//
// Where faults stay in the guest (a KVM VM with nested paging) a fault
// costs 1.7 µs here, about what populating a page costs, so populating
// is only the pages the command never touches: --version 0.65 ms, `run`
// 0.45 ms and 10 parallel create+start 5% slower with it. Timing two
// faults costs a few µs; a fault slowed by an interrupt can only make it
// populate, as it always did.
//
// Where a fault is cheap the constructor does the opposite (onepage.c):
// it has the kernel map the binary's read-only segments one page per
// fault. On its own, the kernel maps a file page's neighbours too: 16
// pages around each fault, or the whole large folio the page cache holds
// it in (Linux 6.18). A `create` touches about half of hull's code pages
// and a fifth of its pc tables' (those of the functions on the stacks the
// runtime walks), yet ended up with nearly all of the binary in its page
// tables: 6.1-6.2 MB at its peak, 1.9x crun's 3.25 MB, where issue 18 asks
// for 1.25x. The kernel does not fault around in a range a userfaultfd
// watches for write-protection, and since Linux 6.7 such a watch
// (UFFD_FEATURE_WP_ASYNC) is allowed on any mapping, a file's included,
// and resolves any write fault by itself. Nothing is written there and no
// fault is ever reported: the fd only has to stay open. Peak RSS (six runs
// each, /usr/bin/time): `create` 6.23 -> 3.80 MB, `run` of `true` 6.35 ->
// 3.93 MB (crun's 3.34), `delete` 5.84 -> 3.29, --version 5.41 -> 2.91.
// The price: about 380 more page faults per command, --version 2.10 ->
// 2.68 ms of CPU (medians of 400 alternated runs). By part: the code
// saved 1.4 MB for about 200 faults, the pc tables 0.8 MB for 45, the
// types and strings, which a command uses nearly all of, 0.2 MB for 140
// (without them `run` stayed at 4.13 MB, 1.24x crun's). The writable data
// is left to fault-around. So only the commands whose peak counts do it
// (onepage.c, wanted: create, run, exec, events, restore); with every
// command doing it, two `make bench` runs had parallel create+start at 10,
// 25 and 50 containers at 1.00, 1.06, 0.91x and 0.98, 0.86, 1.01x of
// crun's, where they had been 0.84-0.90x: `start` paid too. Before 6.7,
// or where userfaultfd is refused (a seccomp filter), pages come as they
// always did.
//
// Its other constructor (arena.c) keeps glibc's malloc to one arena. Go
// allocates from its own heap; C code (libseccomp) mallocs little. But
// every thread the Go runtime starts with cgo frees its start argument
// in the new thread, and glibc then gives that thread an arena of its own:
// a 64 MiB reservation (mmap, two munmap, mprotect) and its first page
// faulted in, four times per --version. With one arena, on the KVM guest:
// --version 2.83 -> 2.27 ms, create 6.9 -> 6.0 ms of CPU (medians of 300
// and 80 interleaved runs).
//
// A container's init and a process entering a container (any _HULL_
// variable in the environment) are left alone, HULL_NO_PREFAULT=1 turns
// both off (the kernel's own fault-around) and HULL_PREFAULT=1 populates
// whatever a fault costs.
//
// Its init runs early, before most of hull's packages allocate: Go
// initialises packages in import-path order once their dependencies are,
// and this one depends only on syscall and runtime/cgo.
package prefault

// #cgo CFLAGS: -Wall -O2
// #include "prefault.h"
// void hull_malloc_free(void);
// int hull_arenas(void);
import "C"

import (
	"syscall"
	"unsafe"
)

// heapAhead is how much of the heap is populated above a fresh object.
const heapAhead = 1 << 20

// first keeps the object whose address places the populated range;
// heapStart is that range's start (0: nothing populated), for the tests.
var (
	first     *[64]byte
	heapStart uintptr
)

func init() {
	if C.hull_prefault_state != C.HULL_PREFAULT_DONE {
		return
	}
	first = new([64]byte)
	heapStart = uintptr(unsafe.Pointer(first)) &^ (64<<10 - 1)
	// MADV_POPULATE_WRITE (Linux 5.14). Errors change nothing: an older
	// kernel says EINVAL; ENOMEM says the range ran past the heap's
	// mapping, populated up to its end (the heap's base is randomised, so
	// the first object is sometimes near a mapping's end).
	syscall.Syscall(syscall.SYS_MADVISE, heapStart, heapAhead, 23)
}

// Release closes the userfaultfd of onepage.c if its number lies in [lo,
// hi). A command passes fds to a container's process by number
// (--preserve-fds, LISTEN_FDS): those must be the caller's, and this one
// would hand the container a handle on hull's own address space (it can
// register ranges of it and fill them). Where the caller did not open the
// fds it asks to pass, the lowest free number is the one the constructor
// took. Closing it unregisters the ranges: later faults map around again.
// lo is at least 3: -1 (none) is never in range.
func Release(lo, hi int) {
	if fd := int(C.hull_onepage_fd); fd >= lo && fd < hi {
		syscall.Close(fd)
		C.hull_onepage_fd = -1
	}
}

// For the tests (cgo is not allowed in test files): the constructor's
// constants, its decision and the fault time it measured.
const (
	dataMax      = C.HULL_PREFAULT_DATA_MAX
	thresholdNs  = C.HULL_PREFAULT_FAULT_NS
	stateSkipped = C.HULL_PREFAULT_SKIPPED
	stateDone    = C.HULL_PREFAULT_DONE
	stateCheap   = C.HULL_PREFAULT_CHEAP
)

func state() int     { return int(C.hull_prefault_state) }
func onePageFd() int { return int(C.hull_onepage_fd) }

// onePageErrno is why no range was registered (0: some were, or nothing
// was tried).
func onePageErrno() syscall.Errno { return syscall.Errno(C.hull_onepage_errno) }

// onePageRanges are the ranges registered, [start, end) each.
func onePageRanges() [][2]uintptr {
	var r [][2]uintptr
	for _, x := range C.hull_onepage_ranges {
		if x[1] > x[0] {
			r = append(r, [2]uintptr{uintptr(x[0]), uintptr(x[1])})
		}
	}
	return r
}
func mallocFree()    { C.hull_malloc_free() }
func arenas() int    { return int(C.hull_arenas()) }
func faultNs() int64 { return int64(C.hull_prefault_fault_ns) }
