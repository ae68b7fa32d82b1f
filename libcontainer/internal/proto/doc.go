// Package proto is the protocol between the two sides of the clone: the
// parent (hull create, run or exec; package process) and the process it
// starts (preinit.c before the Go runtime, then package initproc). It
// holds the messages, the InitConfig the parent sends, and the
// environment names both sides (and preinit.c) read.
//
// The messages go over a SOCK_STREAM socketpair, each a frame: its length
// as 4 bytes (big endian), then that many bytes of JSON. A stream has no
// size limit per message (a datagram has about 208 KiB here), so a config
// of any size (thousands of env vars, a large seccomp profile) gets
// through. A child's error crosses as {"type":"error","error":S,"errno":E}
// and becomes a *ChildError on the parent's side, which unwraps to the
// errno: errors.Is(err, unix.EPERM) holds there as in the child.
//
// The exchange; on the left the parent's named steps
// (process.Bootstrap.Start, the caller's placement, Child.Setup):
//
//	parent (process)                      child
//	clone: the cgroup2 cgroup by CLONE_INTO_CGROUP, new namespaces
//	  by Go's Cloneflags, or none when preinit.c makes or joins them
//	                                      preinit.c, before the Go runtime:
//	                                      "0" to each v1 tasks file, so
//	                                      the process is in its cgroups
//	enterNamespaces (preinit.c only: namespaces joined by path, a time ns)
//	                             ◀ usermap{pid}   new user ns made
//	  write uid_map/gid_map
//	  usermap-done ▶
//	                             ◀ pid{pid}       the process going on
//	placeInit / placeExec (libcontainer): the pid recorded, cgroups
//	  Apply if the clone could not place it, resources set
//	sendConfig
//	  config{InitConfig} ▶
//	                                      initproc: namespaces, mounts
//	serveUntilReady
//	                             ◀ mount-source{mount}  (a source the
//	                                      init cannot open: id-mapped)
//	  mount-source-fd, the fd attached ▶
//	                             ◀ hooks          (prestart, createRuntime
//	                                      or createContainer hooks)
//	  run prestart, createRuntime hooks
//	  hooks-done ▶
//	                             ◀ ready | error{error, errno}
//
// Any step of the child may instead send error{error, errno} and exit;
// the parent reports that message. Every wait on either side ends when
// the other side dies (its end of the socket closes). TERM, INT or HUP to
// the parent before the process started kill the child: the command
// cleans up and ends as runc's (process.AbortCatch). An exec'd process
// runs its program right after its ready, before the parent may have read
// it: there the signal shuts the parent's end of the socket instead, so
// that a ready sent before still counts (the process started, the signal
// is forwarded to it) and none can be sent after (the parent sees the
// end, kills the child and aborts). After ready, a
// created init waits on exec.fifo for start (in a fresh, C-only image:
// initproc's waitInC); errors from then on reach start through the fifo.
//
// With a plan (EnvPlan: the process's last steps decided by Go, see
// internal/plan), the child's side after the namespaces is preinit's
// plan.c instead of initproc: an exec'd process reads the config frame
// only as the signal that it is in its cgroup (the parent sends it
// without the InitConfig then), answers ready or error itself, and
// execs; a created init carries its plan out after start.
//
// With a setup plan (EnvRootfs: rootfs.CPlan, for a config whose setup
// is only mounts, devices, the root switch and the like), a created init
// is set up by preinit's rootfs.c and never starts the Go runtime; in
// place of sendConfig and serveUntilReady:
//
//	rootfs-go ▶
//	                                    rootfs.c: mounts, devices,
//	                                    pivot_root, hostname, sysctls,
//	                                    read-only and masked paths
//	                           ◀ rootfs-done
//	the process's plan decided through
//	/proc/PID/root, into the start plan pipe
//	plan-written ▶ (or rootfs-undo ▶)
//	                           ◀ ready
//
// Instead of rootfs-done or ready the init may send
// rootfs-fallback{error}: a step failed (or the parent answered
// rootfs-undo), the init is back in the mount namespace it was cloned in
// as it was, and its Go runtime starts; the parent then sends the config
// and the exchange goes on as above, from sendConfig.
package proto
