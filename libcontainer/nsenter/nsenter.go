// Package nsenter holds hull's only C: a constructor that joins or creates
// namespaces before the Go runtime starts threads. Importing the package
// links it in; it does nothing unless _HULL_NSENTER is set. See nsenter.c.
package nsenter

// #cgo CFLAGS: -Wall -O2
import "C"
