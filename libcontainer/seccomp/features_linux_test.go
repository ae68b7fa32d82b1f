package seccomp

import (
	"errors"
	"regexp"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

func TestFeatures(t *testing.T) {
	f := Features()
	if f.Enabled == nil || !*f.Enabled {
		t.Error("enabled not true")
	}
	if len(f.Operators) != 7 {
		t.Errorf("operators = %v, want all 7", f.Operators)
	}
	for _, a := range []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE"} {
		if !contains(f.Actions, a) {
			t.Errorf("actions %v lack %s", f.Actions, a)
		}
	}
	// Every action listed must also pass Validate, and every one left out
	// must fail it as unsupported.
	for _, a := range knownActions {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/a.sock",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: a}}}
		if a == specs.ActAllow {
			s.DefaultAction = specs.ActErrno
		}
		_, err := Validate(s)
		if listed := contains(f.Actions, string(a)); listed != (err == nil) || (!listed && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("action %s: listed %v, Validate %v", a, listed, err)
		}
	}
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		t.Fatal(err)
	}
	var nativeName string
	for name, a := range archMap {
		if a == native {
			nativeName = string(name)
		}
	}
	if !contains(f.Archs, nativeName) {
		t.Errorf("archs %v lack the native %s", f.Archs, nativeName)
	}
	for _, a := range f.Archs {
		if _, err := Validate(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(a)}}); err != nil {
			t.Errorf("arch %s listed but Validate says %v", a, err)
		}
	}
	if len(f.KnownFlags) != 4 {
		t.Errorf("knownFlags = %v", f.KnownFlags)
	}
	for _, fl := range f.SupportedFlags {
		if !contains(f.KnownFlags, fl) {
			t.Errorf("supported flag %s not known", fl)
		}
	}
	// TSYNC is as old as seccomp(2) itself; any host running these tests
	// has it.
	if !contains(f.SupportedFlags, string(flagTsync)) {
		t.Errorf("supportedFlags %v lack TSYNC", f.SupportedFlags)
	}
	if err := FlagSupported("SECCOMP_FILTER_FLAG_NOPE"); err == nil {
		t.Error("unknown flag reported supported")
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version()) {
		t.Errorf("Version() = %q", Version())
	}
	t.Logf("libseccomp %s: actions %v archs %v supportedFlags %v", Version(), f.Actions, f.Archs, f.SupportedFlags)
}
