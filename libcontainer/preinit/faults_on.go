//go:build hullfaults

package preinit

// In a test build, HULL_FAULT=cgjoin-fails makes the tasks writes of
// preinit.c fail, to reach the error path no real cgroup takes for root.

// #cgo CFLAGS: -DHULL_FAULTS
import "C"
