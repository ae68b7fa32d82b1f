// Package nsenter holds hull's only C: a constructor that joins cgroups
// and joins or creates namespaces before the Go runtime starts threads.
// Importing the package links it in; it does nothing unless hull started
// the process as an init (_HULL_INIT, _HULL_CGJOIN, _HULL_NSENTER,
// _HULL_WAIT). See nsenter.c.
package nsenter

// #cgo CFLAGS: -Wall -O2
import "C"
