// Package preinit holds hull's only C: a constructor that runs in the
// child, after the clone and before the Go runtime starts threads. It
// joins the v1 cgroups, joins or creates namespaces a multithreaded
// process cannot (and forks when the pid or time namespace demands it),
// and, in the image a created init re-executes, waits for start on
// exec.fifo with one thread and no Go runtime. It was named nsenter, as
// runc's; it does more than enter namespaces. Importing the package links
// it in; it does nothing unless hull started the process as an init (the
// environment names of internal/proto). See preinit.c.
package preinit

// #cgo CFLAGS: -Wall -O2
// #include "preinit.h"
import "C"

// BlockWaitSignals blocks, on the calling thread, the signals that end a
// created init while it waits for start (preinit.c's fatal_signals), or
// unblocks them. The Go init blocks them around the exec into the image
// that waits, so that one sent meanwhile stays pending (an init of a pid
// namespace drops it while its action is SIG_DFL, as it is right after
// an exec) and ends the process once that image catches them.
func BlockWaitSignals(block bool) {
	b := C.int(0)
	if block {
		b = 1
	}
	C.hull_block_fatal(b)
}
