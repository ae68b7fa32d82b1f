package initproc

import (
	"testing"

	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func planFixture() (*proto.InitConfig, *finisher) {
	spec := &specs.Spec{Process: &specs.Process{
		Rlimits: []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
			{Type: "RLIMIT_STACK", Soft: 8 << 20, Hard: 16 << 20},
		},
	}}
	_, as := splitRlimits(spec.Process.Rlimits)
	fin := &finisher{lsm: spec.Process, path: "/bin/sh", args: []string{"sh"},
		env: []string{"PATH=/bin"}, cwd: "/", addrSpace: as}
	return &proto.InitConfig{Spec: spec, SeccompAgentFd: -1}, fin
}

// TestEncodePlanNeedsGo: the created init writes a plan unless a last
// step needs Go.
func TestEncodePlanNeedsGo(t *testing.T) {
	if cfg, fin := planFixture(); encodePlan(cfg, fin) == nil {
		t.Fatal("no plan for a config C can carry out")
	}
	for name, mutate := range map[string]func(*proto.InitConfig, *finisher){
		"startContainer hook": func(c *proto.InitConfig, _ *finisher) {
			c.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
		},
		"apparmor":      func(_ *proto.InitConfig, f *finisher) { f.lsm.ApparmorProfile = "p" },
		"selinux":       func(_ *proto.InitConfig, f *finisher) { f.lsm.SelinuxLabel = "l" },
		"seccomp agent": func(c *proto.InitConfig, _ *finisher) { c.SeccompAgentFd = 9 },
		"NUL in env":    func(_ *proto.InitConfig, f *finisher) { f.env = append(f.env, "A=\x00") },
	} {
		cfg, fin := planFixture()
		mutate(cfg, fin)
		if b := encodePlan(cfg, fin); b != nil {
			t.Errorf("%s: got a plan, want none", name)
		}
	}
}
