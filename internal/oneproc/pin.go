//go:build pinstart

package oneproc

// void oneproc_unpin(void);
import "C"

// unpin gives the main thread its mask back, should no thread have been
// started yet (pin.c does it at the first one).
func unpin() { C.oneproc_unpin() }
