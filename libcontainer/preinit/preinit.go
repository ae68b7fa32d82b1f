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
import "C"
