package capabilities

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var capNames = map[string]int{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// Names lists the capabilities hull knows, for `features`.
func Names() []string {
	names := make([]string, len(capNames))
	for n, v := range capNames {
		names[v] = n
	}
	return names
}

// lastCap is the highest capability the running kernel knows, read once
// per process.
var lastCap = sync.OnceValue(func() int {
	b, err := sysfile.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return n
})

// Sets is the five sets as bit masks.
type Sets struct {
	bounding, effective, permitted, inheritable, ambient uint64
}

// Bounding is the mask of the bounding set.
func (s *Sets) Bounding() uint64 { return s.bounding }

// Masks returns the five sets, for a caller that applies them without
// this package (the init's plan, carried out in C).
func (s *Sets) Masks() (bounding, effective, permitted, inheritable, ambient uint64) {
	return s.bounding, s.effective, s.permitted, s.inheritable, s.ambient
}

// LastCap is the highest capability number the kernel knows.
func LastCap() int { return lastCap() }

// Parse turns config names into masks. Names hull does not know are
// skipped with a warning (a newer spec may name newer capabilities); names
// the kernel does not have are an error, since the container would silently
// get less than asked.
func Parse(c *specs.LinuxCapabilities, path string) (*Sets, error) {
	if c == nil {
		return nil, nil
	}
	last := lastCap()
	conv := func(names []string, field string) (uint64, error) {
		var m uint64
		for i, n := range names {
			v, ok := capNames[strings.ToUpper(n)]
			if !ok {
				slog.Warn("ignoring unknown capability", "capability", n, "field", fmt.Sprintf("%s.%s[%d]", path, field, i))
				continue
			}
			if v > last {
				return 0, config.FieldErr(fmt.Sprintf("%s.%s[%d]", path, field, i), "capability %s is not supported by this kernel", n)
			}
			m |= 1 << uint(v)
		}
		return m, nil
	}
	var s Sets
	var err error
	for _, f := range []struct {
		dst   *uint64
		names []string
		field string
	}{
		{&s.bounding, c.Bounding, "bounding"}, {&s.effective, c.Effective, "effective"},
		{&s.permitted, c.Permitted, "permitted"}, {&s.inheritable, c.Inheritable, "inheritable"},
		{&s.ambient, c.Ambient, "ambient"},
	} {
		if *f.dst, err = conv(f.names, f.field); err != nil {
			return nil, err
		}
	}
	return &s, nil
}
