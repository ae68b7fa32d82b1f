package cgroups

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

// Rootless makes m the manager of a rootless container (--rootless, or a
// user that is not root), with runc's rules:
//   - no devices cgroup: a user can neither make nor program one (a v2
//     device filter is a BPF program, which takes CAP_SYS_ADMIN), so the
//     device rules of linux.resources are not applied;
//   - when the config names no cgroupsPath (pathSet false), a hierarchy
//     where the container's directory cannot be made for lack of
//     permission is left out instead of failing the create; a limit that
//     needs it fails Set then ("cannot set … limit"). A delegated
//     hierarchy (a directory the user owns, v2 cgroup.subtree_control or
//     v1 chown'd dirs) is used as root's would be. With a cgroupsPath,
//     every error stays an error, as runc has it.
//
// With the systemd driver the unit is the user's instance's and its cgroup
// delegated to the user (NewSystemd with user): every error stays an error
// there, and no device rule goes to systemd either (a user's systemd cannot
// program a device filter).
func Rootless(mg Manager, pathSet bool) {
	if sm, ok := mg.(*sdManager); ok {
		mg, pathSet = sm.manager, true
	}
	m, ok := mg.(*manager)
	if !ok {
		return
	}
	m.rootless, m.pathSet = true, pathSet
	delete(m.v1, "devices")
	delete(m.v1roots, "devices")
	delete(m.v2ctl, "devices")
}

// ignorable is runc's isIgnorableError: what a user gets where a cgroup is
// not its own.
func ignorable(err error) bool {
	if errors.Is(err, os.ErrPermission) {
		return true
	}
	var errno unix.Errno
	return errors.As(err, &errno) && (errno == unix.EROFS || errno == unix.EPERM || errno == unix.EACCES)
}

// leaveOut drops the hierarchy of controller c ("" for cgroup2) after err
// when a rootless manager may do without it, and tells whether it did.
func (m *manager) leaveOut(c string, err error) bool {
	if !m.rootless || m.pathSet || !ignorable(err) {
		return false
	}
	if m.lost == nil {
		m.lost = map[string]bool{}
	}
	if c == "" {
		m.lost[""] = true
		m.unified = ""
		slog.Debug("rootless: no cgroup2 cgroup for the container", "error", err)
		return true
	}
	m.lost[c] = true
	delete(m.v1, c)
	delete(m.v1roots, c)
	slog.Debug("rootless: no cgroup for the container", "controller", c, "error", err)
	return true
}

// errLost is runc's error for a limit on a hierarchy a rootless container
// could not join.
func (m *manager) errLost(v1, v2 string) error {
	switch {
	case v1 != "" && m.lost[v1]:
		return fmt.Errorf("cannot set %s limit: container could not join or create cgroup", v1)
	case v2 != "" && m.lost[""] && (m.mode == Unified || !m.hasV1(v1)):
		return fmt.Errorf("cannot set %s limit: container could not join or create cgroup", v2)
	}
	return nil
}

func (m *manager) hasV1(c string) bool { _, ok := m.v1[c]; return ok }

// devicesIgnored: the device rules of linux.resources are not applied.
func (m *manager) devicesIgnored() bool { return m.rootless }

// LostAny tells whether a rootless Create left out a hierarchy it could
// not make the container's cgroup in (runc's cgroups.ErrRootless).
func LostAny(mg Manager) bool {
	m, ok := mg.(*manager)
	return ok && len(m.lost) > 0
}
