// Package process is the parent's side of starting a container process
// (an init for create and run, a process for exec): the clone of hull's
// own binary, run from a read-only detached mount so that a container
// cannot overwrite it (selfexe_linux.go); its fds, socket activation and
// the namespaces it joins; its part of the exchange of internal/proto
// (Bootstrap.Start, then Child.Setup), the mount sources it opens for the
// init; the TERM, INT and HUP that abort a start; the pidfd socket and
// the seccomp agent's connection. It runs in hull, on the host, before
// and while the child sets itself up.
package process
