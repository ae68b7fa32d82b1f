// Package unixsock connects to unix sockets and receives the fd sent over
// them (runc's console-socket protocol) with a few system calls instead of
// the net package. It runs on the host, in hull and in hull-shim, and
// needs no cgo.
package unixsock
