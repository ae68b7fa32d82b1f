// Package userns writes the id maps of a new user namespace, with or
// without privileges, and tells whether hull itself runs in a user
// namespace.
//
// Root (uid 0 with CAP_SETUID and CAP_SETGID over its user namespace)
// writes /proc/PID/uid_map and gid_map directly, any mapping. An
// unprivileged user may write directly only the mapping of its own
// effective id (one id, any container id), and the gid map only after
// "deny" is in /proc/PID/setgroups; every other mapping (the ranges of
// /etc/subuid and /etc/subgid) goes through the setuid helpers newuidmap
// and newgidmap (Debian's package uidmap), as runc, podman and crun do.
package userns

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/hullrt/hull/internal/sysfile"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Plan is how the maps of a new user namespace get written.
type Plan struct {
	// UIDHelper, GIDHelper: through newuidmap / newgidmap instead of a
	// direct write of /proc/PID/uid_map / gid_map.
	UIDHelper, GIDHelper bool
	// SetgroupsDeny: "deny" goes to /proc/PID/setgroups before gid_map
	// (an unprivileged direct write of gid_map needs it; the container
	// cannot call setgroups(2) then).
	SetgroupsDeny bool
}

// NeedsHelper tells whether a helper program writes a map: the maps are
// then written by hull's parent process, not by Go's clone.
func (p Plan) NeedsHelper() bool { return p.UIDHelper || p.GIDHelper }

// Decide chooses how the maps get written for a caller with effective ids
// euid and egid. Root writes everything directly and leaves setgroups
// allowed.
func Decide(euid, egid int, uids, gids []specs.LinuxIDMapping) Plan {
	if euid == 0 {
		return Plan{}
	}
	p := Plan{UIDHelper: len(uids) > 0 && !ownID(uids, euid), GIDHelper: len(gids) > 0 && !ownID(gids, egid)}
	p.SetgroupsDeny = len(gids) > 0 && !p.GIDHelper
	return p
}

// ownID: m maps exactly one id, the caller's own id.
func ownID(m []specs.LinuxIDMapping, id int) bool {
	return len(m) == 1 && m[0].Size == 1 && int64(m[0].HostID) == int64(id)
}

// Lookup finds the helpers; a test replaces it.
var Lookup = exec.LookPath

// WriteMaps writes the maps of the user namespace of process pid as Decide
// says for this process's effective ids.
func WriteMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	return write(pid, Decide(os.Geteuid(), os.Getegid(), uids, gids), uids, gids)
}

func write(pid int, p Plan, uids, gids []specs.LinuxIDMapping) error {
	if len(uids) > 0 {
		if err := writeMap(pid, "uid_map", "newuidmap", p.UIDHelper, uids); err != nil {
			return err
		}
	}
	if p.SetgroupsDeny {
		f := fmt.Sprintf("/proc/%d/setgroups", pid)
		if err := sysfile.WriteFile(f, []byte("deny")); err != nil {
			return fmt.Errorf("write %s: %w", f, err)
		}
	}
	if len(gids) > 0 {
		return writeMap(pid, "gid_map", "newgidmap", p.GIDHelper, gids)
	}
	return nil
}

func writeMap(pid int, file, helper string, useHelper bool, m []specs.LinuxIDMapping) error {
	if !useHelper {
		f := fmt.Sprintf("/proc/%d/%s", pid, file)
		if err := sysfile.WriteFile(f, []byte(MapText(m))); err != nil {
			return fmt.Errorf("write %s: %w", f, err)
		}
		return nil
	}
	path, err := Lookup(helper)
	if err != nil {
		return fmt.Errorf("%s %s for an unprivileged user needs %s (package uidmap): %w", file, strings.TrimSpace(strings.ReplaceAll(MapText(m), "\n", ", ")), helper, err)
	}
	args := HelperArgs(pid, m)
	cmd := exec.Command(path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The helper inherits nothing of ours but its stdio.
	cmd.Env = []string{}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg != "" {
			return fmt.Errorf("%s %s: %w: %s", helper, strings.Join(args, " "), err, msg)
		}
		return fmt.Errorf("%s %s: %w", helper, strings.Join(args, " "), err)
	}
	return nil
}

// MapText is m in the format of /proc/PID/uid_map.
func MapText(m []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	return b.String()
}

// HelperArgs are the arguments of newuidmap / newgidmap for m: the pid,
// then container id, host id and count of each range.
func HelperArgs(pid int, m []specs.LinuxIDMapping) []string {
	args := []string{strconv.Itoa(pid)}
	for _, e := range m {
		args = append(args, strconv.FormatUint(uint64(e.ContainerID), 10), strconv.FormatUint(uint64(e.HostID), 10), strconv.FormatUint(uint64(e.Size), 10))
	}
	return args
}

var inUserNS = sync.OnceValue(func() bool {
	b, err := sysfile.ReadFile("/proc/self/uid_map")
	if err != nil {
		// No /proc/self/uid_map: a kernel without user namespaces.
		return false
	}
	return !IsInitialMap(string(b))
})

// RunningInUserNS tells whether this process runs in a user namespace
// other than the initial one.
func RunningInUserNS() bool { return inUserNS() }

// IsInitialMap: the uid_map text is the initial user namespace's, the
// identity over all 2^32-1 ids.
func IsInitialMap(text string) bool {
	f := strings.Fields(text)
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}
