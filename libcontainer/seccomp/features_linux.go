package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Features returns the linux.seccomp part of `hull features`.
//
// Actions and Archs list only what this libseccomp and kernel can use, so
// that a caller such as a container engine does not generate a profile
// that Validate would then reject: Archs leaves out architectures this
// libseccomp was built without and those of the other byte order, which
// libseccomp cannot put in one filter with the native one. Operators are
// all supported by every libseccomp hull can link. KnownFlags is every flag Validate accepts as
// a name, SupportedFlags those the host can set.
func Features() *features.Seccomp {
	enabled := true
	f := &features.Seccomp{Enabled: &enabled}
	for _, a := range knownActions {
		if actionSupported(a) == nil {
			f.Actions = append(f.Actions, string(a))
		}
	}
	for _, op := range knownOperators {
		f.Operators = append(f.Operators, string(op))
	}
	for _, a := range knownArchs {
		if archSupported(a) == nil {
			f.Archs = append(f.Archs, string(a))
		}
	}
	for _, fl := range knownFlags {
		f.KnownFlags = append(f.KnownFlags, string(fl))
		if FlagSupported(fl) == nil {
			f.SupportedFlags = append(f.SupportedFlags, string(fl))
		}
	}
	return f
}

// Version is the libseccomp version hull runs with, e.g. "2.5.4", for the
// features annotations (runc reports it as
// io.github.seccomp.libseccomp.version).
func Version() string {
	maj, mnr, mic := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", maj, mnr, mic)
}

// FlagSupported says whether a flag is known and can be set with this
// libseccomp and kernel; nil means yes. The error explains what is
// missing.
func FlagSupported(flag specs.LinuxSeccompFlag) error {
	if !contains(knownFlags, flag) {
		return fmt.Errorf("unknown flag %q", flag)
	}
	// A throwaway filter: the setters only record the attribute after
	// libseccomp has checked the library version and probed the kernel.
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return fmt.Errorf("create probe filter: %w", err)
	}
	defer f.Release()
	if err := setFlag(f, flag); err != nil {
		return fmt.Errorf("flag %s is %w: %w", flag, ErrUnsupported, err)
	}
	return nil
}

// archSupported says whether a profile can list the architecture on this
// host: known to this libseccomp and of the native byte order.
func archSupported(a specs.Arch) error {
	if _, ok := archMap[a]; !ok {
		return fmt.Errorf("unknown architecture %q", a)
	}
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return fmt.Errorf("create probe filter: %w", err)
	}
	defer f.Release()
	return addArch(f, a)
}
