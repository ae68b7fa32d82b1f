//go:build pinstart

package oneproc

// void oneproc_unpin(void);
import "C"

// pinnedStart: the process started restricted to one CPU (pin.c).
const pinnedStart = true

// unpin gives the main thread its mask back, should no thread have been
// started yet (pin.c does it at the first one).
func unpin() { C.oneproc_unpin() }
