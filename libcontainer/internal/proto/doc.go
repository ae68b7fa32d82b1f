// Package libcontainer creates, starts, signals, execs into and destroys
// containers: hull's commands call it and print what it returns.
//
// # Bootstrap
//
// A container's init (and an exec'd process) is hull's own binary run as
// "hull init", started by procStart.start over a SOCK_STREAM socketpair
// (sync_linux.go) that carries JSON messages, each framed by its length
// (no size limit: the config can be megabytes):
//
//	parent (create/run/exec)             child
//	  ── clone: the cgroup2 cgroup by CLONE_INTO_CGROUP, new namespaces
//	     by Cloneflags, or none when preinit.c joins them ───────────
//	                                      preinit.c, before the Go runtime:
//	                                      "0" to each v1 tasks file, so
//	                                      the process is in its cgroups
//	  ── (nsenter only: namespaces joined by path, a time ns, exec) ──
//	                             ◀ usermap{pid}   new user ns made
//	  write uid_map/gid_map
//	  usermap-done ▶
//	                             ◀ pid{pid}       the process going on
//	  ── always ─────────────────────────────────────────────────────
//	  (Apply if the clone and preinit.c could not place it; resources)
//	  config{initConfig} ▶
//	                             ◀ hooks          (prestart hooks wanted)
//	  run prestart, createRuntime hooks
//	  hooks-done ▶
//	                             ◀ ready | error{error}
//
// Any step of the child may instead send error{error, errno} and exit; the
// parent reports that message. Every wait on either side ends when the
// other side dies (its end of the socket closes). TERM, INT or HUP to the
// parent before the process started kill the child: the command cleans up
// and ends as runc's (see abortCatch). After ready, a created init waits on exec.fifo for
// start (in a fresh, C-only image: see waitInC); errors from then on reach
// start through the fifo.
package proto
