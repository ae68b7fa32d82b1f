// Package libcontainer creates, starts, signals, execs into and destroys
// containers: hull's commands call it and print what it returns.
//
// # Bootstrap
//
// A container's init (and an exec'd process) is hull's own binary run as
// "hull init", started by procStart.start over a SOCK_SEQPACKET socketpair
// (sync_linux.go) that carries JSON messages:
//
//	parent (create/run/exec)             child
//	  ── clone: the cgroup2 cgroup by CLONE_INTO_CGROUP, new namespaces
//	     by Cloneflags, or none when nsenter.c joins them ───────────
//	                                      nsenter.c, before the Go runtime:
//	                                      "0" to each v1 tasks file, so
//	                                      the process is in its cgroups
//	  ── (nsenter only: namespaces joined by path, a time ns, exec) ──
//	                             ◀ usermap{pid}   new user ns made
//	  write uid_map/gid_map
//	  usermap-done ▶
//	                             ◀ pid{pid}       the process going on
//	  ── always ─────────────────────────────────────────────────────
//	  (Apply if the clone and nsenter.c could not place it; resources)
//	  config{initConfig} ▶
//	                             ◀ hooks          (prestart hooks wanted)
//	  run prestart, createRuntime hooks
//	  hooks-done ▶
//	                             ◀ ready | error{error}
//
// Any step of the child may instead send error{error} and exit; the parent
// reports that message. After ready, a created init waits on exec.fifo for
// start (in a fresh, C-only image: see waitInC); errors from then on reach
// start through the fifo.
package libcontainer
