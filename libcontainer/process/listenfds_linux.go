package process

import (
	"os"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/prefault"
)

// SocketActivation handles systemd socket activation as runc does: when
// hull itself was given sockets (LISTEN_FDS=n, fds 3..3+n-1), they are
// passed on to the container's process at the same numbers, ahead of the
// --preserve-fds ones, and its environment says LISTEN_FDS=n LISTEN_PID=1
// (the process is pid 1 of its namespace). It returns the number of fds
// to pass in all and the environment to use.
func SocketActivation(preserve int, env []string) (int, []string) {
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n <= 0 {
		return preserve, env
	}
	// LISTEN_PID names the process the sockets are meant for: hull.
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return preserve, env
	}
	env = MergeEnv(env, []string{"LISTEN_FDS=" + strconv.Itoa(n), "LISTEN_PID=1"})
	return preserve + n, env
}

// Preserved is fds 3..3+n-1, to become the same fds of a container's
// process. They are the caller's; where the caller did not open one, the
// number may be hull's own userfaultfd (internal/prefault), which is
// closed first, never passed on.
func Preserved(n int) []*os.File {
	prefault.Release(3, 3+n)
	var fs []*os.File
	for i := 0; i < n; i++ {
		fs = append(fs, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	return fs
}

// MergeEnv returns base with each KEY=VALUE of extra replacing the entry
// of the same key, or appended.
func MergeEnv(base, extra []string) []string {
	out := append([]string{}, base...)
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if ok, _, _ := strings.Cut(old, "="); ok == k {
				out[i], replaced = kv, true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
