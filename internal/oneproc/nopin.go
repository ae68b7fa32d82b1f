//go:build !pinstart

package oneproc

// unpin: without the pinstart tag (pin.c) nothing narrowed the mask.
func unpin() {}
