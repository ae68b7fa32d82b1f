package seccomp

// libc.c supplies what Debian's libseccomp.a needs of glibc when hull is
// linked with musl (the Makefile's build).

// #cgo CFLAGS: -Wall -O2
import "C"
