// Package mainstack takes the main goroutine's stack to 16 KiB before
// other packages initialise, while the stack holds three frames.
//
// A goroutine starts with 2 KiB, and the runtime copies its stack to
// twice the size whenever a call would overflow it, walking every frame
// on it: for each, the function's entry in the binary's pc tables and
// its stack maps. hull's main goroutine reaches 16 KiB in create, start,
// run and exec, and its three copies came in internal/godebug's init,
// in the regexp urfave/cli's init compiles, and deep in the command
// (dozens of frames of urfave/cli, libcontainer and decoding code). Their
// table entries are spread over the binary's 2.8 MB of pc tables, and
// fault-around mapped 64 KiB around each: a `create` ended with 746 of
// the 955 pages of the read-only segment mapped.
//
// This package imports nothing, so the linker's init order (a package
// once its imports are, the smallest import path first) runs its init
// before internal/godebug's, from runtime.main: the runtime sizes the
// new stack for grow's frame at once, and its one copy walks three
// frames (a uprobe on runtime.copystack saw one copy, to 16 KiB). The
// commands that stay under 8 KiB (state, kill, delete, list) pay for
// zeroing 10 KiB of stack they do not need. main and hull-shim import it
// (blank import; where in the import list does not matter).
package mainstack

func init() { grow() }

// grow's frame does not fit in 8 KiB: its prologue makes the runtime
// grow the stack to 16 KiB before it runs.
//
//go:noinline
func grow() byte {
	var pad [10 << 10]byte
	pad[idx] = 1
	return pad[idx]
}

// idx is always 0: a variable, so that the compiler keeps grow's array
// whole.
var idx int
