package capabilities

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// WarnAmbient gives runc's warning for each ambient capability the
// process cannot raise: the kernel refuses (EPERM) one that is not in
// both the permitted and the inheritable sets. The process still runs,
// without it. runc's init logs this at the same moment, during create.
func WarnAmbient(c *specs.LinuxCapabilities) {
	if c == nil {
		return
	}
	s, err := Parse(c, "process.capabilities")
	if err != nil || s == nil {
		return
	}
	for _, n := range c.Ambient {
		v, ok := capNames[strings.ToUpper(n)]
		if !ok {
			continue
		}
		if bit := uint64(1) << uint(v); s.permitted&bit == 0 || s.inheritable&bit == 0 {
			slog.Warn(fmt.Sprintf("can't raise ambient capability %s: %v", strings.ToUpper(n), unix.EPERM))
		}
	}
}

// CheckAvailable refuses capabilities that hull itself does not have
// in its bounding set (a host that withholds CAP_SYS_RESOURCE, say): the
// container would silently get less than its config grants.
// It also warns of ambient capabilities that cannot be raised.
func CheckAvailable(c *specs.LinuxCapabilities, path string) error {
	if c == nil {
		return nil
	}
	sets := []struct {
		field string
		names []string
	}{
		{"bounding", c.Bounding}, {"effective", c.Effective}, {"permitted", c.Permitted},
		{"inheritable", c.Inheritable}, {"ambient", c.Ambient},
	}
	for _, s := range sets {
		for i, n := range s.names {
			v, ok := capNames[strings.ToUpper(n)]
			if !ok {
				continue
			}
			if have, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(v), 0, 0, 0); err == nil && have == 0 {
				return config.FieldErr(fmt.Sprintf("%s.%s[%d]", path, s.field, i), "%s is not in hull's own bounding set on this host, so the container cannot get it", n)
			}
		}
	}
	WarnAmbient(c)
	return nil
}
