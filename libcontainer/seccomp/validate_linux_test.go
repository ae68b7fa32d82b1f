package seccomp

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func dockerLikeProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/docker-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestValidateDockerLikeProfile(t *testing.T) {
	prof := dockerLikeProfile(t)
	skipped, err := Validate(prof)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	// The profile lists one made-up name; everything else is known to
	// libseccomp on some architecture (x86 names like socketcall too).
	var names []string
	for _, s := range skipped {
		names = append(names, s.Name)
		if !strings.HasPrefix(s.Path, "linux.seccomp.syscalls[0].names[") {
			t.Errorf("skipped %q at unexpected path %s", s.Name, s.Path)
		}
	}
	if len(names) != 1 || names[0] != "hull_not_a_syscall" {
		t.Errorf("skipped = %v, want [hull_not_a_syscall]", skipped)
	}
	if want := `unknown syscall "hull_not_a_syscall" skipped`; len(skipped) == 1 && !strings.HasSuffix(skipped[0].String(), want) {
		t.Errorf("String() = %q, want suffix %q", skipped[0].String(), want)
	}
}

func TestValidateNil(t *testing.T) {
	if skipped, err := Validate(nil); err != nil || skipped != nil {
		t.Fatalf("Validate(nil) = %v, %v", skipped, err)
	}
}

func TestValidateAcceptsEveryActionAndOperator(t *testing.T) {
	prof := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock"}
	names := []string{"getpid", "getppid", "getuid", "getgid", "geteuid", "getegid", "gettid", "getpgrp", "getsid"}
	for i, a := range knownActions {
		if a == specs.ActAllow {
			continue // same as the default: allowed, but skipped
		}
		prof.Syscalls = append(prof.Syscalls, specs.LinuxSyscall{Names: []string{names[i]}, Action: a})
	}
	for _, op := range knownOperators {
		prof.Syscalls = append(prof.Syscalls, specs.LinuxSyscall{
			Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uintp(1),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, ValueTwo: 1, Op: op}},
		})
	}
	if _, err := Validate(prof); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateRedundantRuleIsSkipped(t *testing.T) {
	prof := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uintp(1),
		Syscalls: []specs.LinuxSyscall{
			// EPERM is 1: this is the default action again, which
			// libseccomp would refuse as a rule.
			{Names: []string{"mkdir"}, Action: specs.ActErrno},
			{Names: []string{"getpid"}, Action: specs.ActAllow},
		},
	}
	if _, err := Validate(prof); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	ok := func() *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "write"}, Action: specs.ActAllow},
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0, Op: specs.OpEqualTo}}},
				{Names: []string{"socket"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}}},
				{Names: []string{"getppid"}, Action: specs.ActKillProcess},
			},
		}
	}
	if _, err := Validate(ok()); err != nil {
		t.Fatalf("base profile: %v", err)
	}
	tests := []struct {
		name   string
		change func(s *specs.LinuxSeccomp)
		path   string
		msg    string
	}{
		{"missing default action", func(s *specs.LinuxSeccomp) { s.DefaultAction = "" },
			"linux.seccomp.defaultAction", "an action is required"},
		{"unknown default action", func(s *specs.LinuxSeccomp) { s.DefaultAction = "SCMP_ACT_NOPE" },
			"linux.seccomp.defaultAction", `unknown action "SCMP_ACT_NOPE"`},
		{"notify as default", func(s *specs.LinuxSeccomp) { s.DefaultAction = specs.ActNotify; s.ListenerPath = "/a" },
			"linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action"},
		{"default errno on allow", func(s *specs.LinuxSeccomp) { s.DefaultAction = specs.ActAllow; s.DefaultErrnoRet = uintp(1) },
			"linux.seccomp.defaultErrnoRet", "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW"},
		{"default errno too big", func(s *specs.LinuxSeccomp) { s.DefaultErrnoRet = uintp(70000) },
			"linux.seccomp.defaultErrnoRet", "70000 is out of range"},
		{"unknown arch", func(s *specs.LinuxSeccomp) { s.Architectures = []specs.Arch{specs.ArchX86, "SCMP_ARCH_VAX"} },
			"linux.seccomp.architectures[1]", `unknown architecture "SCMP_ARCH_VAX"`},
		{"lowercase arch", func(s *specs.LinuxSeccomp) { s.Architectures = []specs.Arch{"x86_64"} },
			"linux.seccomp.architectures[0]", `unknown architecture "x86_64"`},
		{"unknown flag", func(s *specs.LinuxSeccomp) {
			s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_NOPE"}
		},
			"linux.seccomp.flags[1]", `unknown flag "SECCOMP_FILTER_FLAG_NOPE"`},
		{"unknown rule action", func(s *specs.LinuxSeccomp) { s.Syscalls[3].Action = "SCMP_ACT_FOO" },
			"linux.seccomp.syscalls[3].action", `unknown action "SCMP_ACT_FOO"`},
		{"missing rule action", func(s *specs.LinuxSeccomp) { s.Syscalls[1].Action = "" },
			"linux.seccomp.syscalls[1].action", "an action is required"},
		{"errnoRet on kill", func(s *specs.LinuxSeccomp) { s.Syscalls[3].ErrnoRet = uintp(38) },
			"linux.seccomp.syscalls[3].errnoRet", "not SCMP_ACT_KILL_PROCESS"},
		{"errnoRet too big", func(s *specs.LinuxSeccomp) {
			s.Syscalls[0].Action = specs.ActErrno
			s.Syscalls[0].ErrnoRet = uintp(1 << 16)
		},
			"linux.seccomp.syscalls[0].errnoRet", "65536 is out of range (0 to 65535)"},
		{"unknown operator", func(s *specs.LinuxSeccomp) { s.Syscalls[2].Args[0].Op = "SCMP_CMP_SORTOF" },
			"linux.seccomp.syscalls[2].args[0].op", `unknown operator "SCMP_CMP_SORTOF"`},
		{"missing operator", func(s *specs.LinuxSeccomp) { s.Syscalls[1].Args[0].Op = "" },
			"linux.seccomp.syscalls[1].args[0].op", `unknown operator ""`},
		{"arg index out of range", func(s *specs.LinuxSeccomp) {
			s.Syscalls[2].Args = append(s.Syscalls[2].Args, specs.LinuxSeccompArg{Index: 6, Op: specs.OpEqualTo})
		}, "linux.seccomp.syscalls[2].args[1].index", "6 is out of range: seccomp sees arguments 0 to 5"},
		{"no names", func(s *specs.LinuxSeccomp) { s.Syscalls[1].Names = nil },
			"linux.seccomp.syscalls[1].names", "at least one syscall name is required"},
		{"empty name", func(s *specs.LinuxSeccomp) { s.Syscalls[0].Names[1] = "" },
			"linux.seccomp.syscalls[0].names[1]", "empty syscall name"},
		{"notify without listenerPath", func(s *specs.LinuxSeccomp) { s.Syscalls[3].Action = specs.ActNotify },
			"linux.seccomp.listenerPath", "required because linux.seccomp.syscalls[3].action is SCMP_ACT_NOTIFY"},
		{"relative listenerPath", func(s *specs.LinuxSeccomp) { s.Syscalls[3].Action = specs.ActNotify; s.ListenerPath = "run/agent.sock" },
			"linux.seccomp.listenerPath", `must be an absolute path, got "run/agent.sock"`},
		{"listenerPath too long", func(s *specs.LinuxSeccomp) {
			s.Syscalls[3].Action = specs.ActNotify
			s.ListenerPath = "/" + strings.Repeat("a", 107)
		}, "linux.seccomp.listenerPath", "too long for a unix socket address (108 bytes, at most 107)"},
		{"metadata without listenerPath", func(s *specs.LinuxSeccomp) { s.ListenerMetadata = "x" },
			"linux.seccomp.listenerMetadata", "set without listenerPath"},
		{"notify on write", func(s *specs.LinuxSeccomp) {
			s.Syscalls[0] = specs.LinuxSyscall{Names: []string{"read", "write"}, Action: specs.ActNotify}
			s.ListenerPath = "/run/agent.sock"
		}, "linux.seccomp.syscalls[0].names[1]", `SCMP_ACT_NOTIFY cannot be used for the write syscall`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.change(s)
			_, err := Validate(s)
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			want := tc.path + ": "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q\nwant prefix %q containing %q", err, want, tc.msg)
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Path != tc.path {
				t.Fatalf("error %q is not a *PathError for %s", err, tc.path)
			}
			if errors.Is(err, ErrUnsupported) {
				t.Errorf("malformed config reported as unsupported: %v", err)
			}
			// Load must refuse it as well (before touching the kernel).
			if _, lerr := Load(s); lerr == nil || lerr.Error() != err.Error() {
				t.Errorf("Load error %v, want %v", lerr, err)
			}
		})
	}
}

func TestValidateUnsupportedByHost(t *testing.T) {
	// Architectures this libseccomp cannot put in a native filter and the
	// wait-killable flag on libseccomp < 2.6 are well-formed but not
	// possible here: the error must say so and wrap ErrUnsupported. What
	// is unsupported depends on the host, so the cases come from Features.
	feat := Features()
	checked := 0
	for i, a := range knownArchs {
		if contains(feat.Archs, string(a)) {
			continue
		}
		checked++
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{a}}
		_, err := Validate(s)
		if err == nil || !errors.Is(err, ErrUnsupported) || !strings.HasPrefix(err.Error(), "linux.seccomp.architectures[0]: architecture "+string(a)+" is not supported by this host") {
			t.Errorf("arch %d %s: error %v, want an ErrUnsupported naming it", i, a, err)
		}
	}
	for _, fl := range knownFlags {
		s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{fl}}
		_, err := Validate(s)
		if contains(feat.SupportedFlags, string(fl)) {
			if err != nil {
				t.Errorf("flag %s is listed as supported but Validate says %v", fl, err)
			}
			continue
		}
		checked++
		t.Logf("flag %s not supported here: %v", fl, err)
		if err == nil || !errors.Is(err, ErrUnsupported) || !strings.HasPrefix(err.Error(), "linux.seccomp.flags[0]: flag "+string(fl)+" is not supported by this host's libseccomp or kernel: ") {
			t.Errorf("flag %s: error %v, want an ErrUnsupported naming it", fl, err)
		}
	}
	if checked == 0 {
		t.Skip("this host supports every known architecture and flag: nothing to reject")
	}
}
