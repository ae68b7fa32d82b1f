package libcontainer

import (
	"fmt"
	"os"

	"github.com/hullrt/hull/libcontainer/userns"
)

// SetRootless applies the global --rootless flag (auto, true or false) as
// runc does: true makes the cgroup manager ignore permission errors where
// the cgroup was not delegated (cgroups.Manager of a rootless container);
// auto means true for a non-root user and for root in a user namespace
// other than the initial one (with the cgroupfs driver runc cannot tell
// whether root there owns the cgroups either).
func (r *Runtime) SetRootless(mode string) error {
	b, err := RootlessCgroups(mode, os.Geteuid(), userns.RunningInUserNS())
	if err != nil {
		return err
	}
	r.rootlessCgroups = b
	return nil
}

// RootlessCgroups is --rootless's value for a process with effective uid
// euid, in a user namespace or not.
func RootlessCgroups(mode string, euid int, inUserNS bool) (bool, error) {
	switch mode {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "", "auto":
		return euid != 0 || inUserNS, nil
	}
	return false, fmt.Errorf("invalid --rootless value %q (want true, false or auto)", mode)
}
