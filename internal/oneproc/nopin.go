//go:build !pinstart

package oneproc

const pinnedStart = false

func unpin() {}
