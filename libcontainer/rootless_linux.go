package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/userns"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

// validateRootless applies runc's checks of a config run by a user (euid
// not 0), with runc's words: a user namespace with both mappings (a user
// can make no other container), and no uid=/gid= mount option naming an id
// the container does not map (the kernel would refuse the mount later,
// less clearly).
func validateRootless(s *specs.Spec, euid int) error {
	if euid == 0 {
		return nil
	}
	if err := validateRootlessProcess(s.Process, euid); err != nil {
		return err
	}
	if len(s.Linux.NetDevices) > 0 {
		return errors.New("network devices are not supported for rootless containers")
	}
	var user *specs.LinuxNamespace
	for i, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			user = &s.Linux.Namespaces[i]
		}
	}
	if user == nil {
		return errors.New("rootless container requires user namespaces")
	}
	if user.Path == "" {
		if len(s.Linux.UIDMappings) == 0 {
			return errors.New("rootless containers requires at least one UID mapping")
		}
		if len(s.Linux.GIDMappings) == 0 {
			return errors.New("rootless containers requires at least one GID mapping")
		}
	}
	uids, gids := s.Linux.UIDMappings, s.Linux.GIDMappings
	if user.Path != "" && len(uids) == 0 && len(gids) == 0 {
		// Joined by path: the namespace's own maps (runc reads them
		// too); unknown when no process of ours is in it, and then the
		// kernel has the last word on the mount.
		var ok bool
		if uids, gids, ok = nsMaps(user.Path); !ok {
			return nil
		}
	}
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			kind, maps := "", uids
			v, ok := strings.CutPrefix(o, "uid=")
			if ok {
				kind = "uid"
			} else if v, ok = strings.CutPrefix(o, "gid="); ok {
				kind, maps = "gid", gids
			} else {
				continue
			}
			id, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				continue
			}
			if len(maps) == 0 {
				return fmt.Errorf("cannot specify %s mount option for rootless container: user namespaces enabled, but no %s mappings found", o, kind)
			}
			if !mapped(maps, uint32(id)) {
				return fmt.Errorf("cannot specify %s mount option for rootless container: user namespaces enabled, but no mapping found for %s %d", o, kind, id)
			}
		}
	}
	return nil
}

// nsMaps reads the id maps of the user namespace at path (a
// /proc/PID/ns/user link, or a file a namespace is bound to) from a process
// in it: PID's, or one found in /proc with the same namespace.
func nsMaps(path string) (uids, gids []specs.LinuxIDMapping, ok bool) {
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return nil, nil, false
	}
	same := func(pid string) bool {
		var st unix.Stat_t
		return unix.Stat("/proc/"+pid+"/ns/user", &st) == nil && st.Dev == want.Dev && st.Ino == want.Ino
	}
	pid := ""
	if f := strings.Split(filepath.Clean(path), "/"); len(f) == 5 && f[1] == "proc" && f[3] == "ns" && same(f[2]) {
		pid = f[2]
	} else if ents, err := os.ReadDir("/proc"); err == nil {
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err == nil && same(e.Name()) {
				pid = e.Name()
				break
			}
		}
	}
	if pid == "" {
		return nil, nil, false
	}
	uids, err1 := readIDMap("/proc/" + pid + "/uid_map")
	gids, err2 := readIDMap("/proc/" + pid + "/gid_map")
	return uids, gids, err1 == nil && err2 == nil
}

// readIDMap parses a /proc/PID/uid_map or gid_map.
func readIDMap(p string) ([]specs.LinuxIDMapping, error) {
	b, err := sysfile.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var maps []specs.LinuxIDMapping
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.ParseUint(f[0], 10, 32)
		out, err2 := strconv.ParseUint(f[1], 10, 32)
		n, err3 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("%s: bad line %q", p, l)
		}
		maps = append(maps, specs.LinuxIDMapping{ContainerID: uint32(in), HostID: uint32(out), Size: uint32(n)})
	}
	return maps, nil
}

func mapped(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// validateRootlessProcess is runc's check of a process a user starts: no
// additional groups (setgroups is denied in a user namespace whose gid_map
// a user wrote, and runc refuses them for any user, whatever the mapping).
func validateRootlessProcess(p *specs.Process, euid int) error {
	if euid != 0 && p != nil && len(p.User.AdditionalGids) > 0 {
		return errors.New("cannot set any additional groups in a rootless container")
	}
	return nil
}
