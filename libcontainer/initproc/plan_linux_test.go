package initproc

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/config"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func planFixture(t *testing.T) (*proto.InitConfig, *finisher) {
	t.Helper()
	mask := uint32(0o027)
	spec := &specs.Spec{Process: &specs.Process{
		Rlimits: []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
			{Type: "RLIMIT_STACK", Soft: 8 << 20, Hard: 16 << 20},
		},
	}}
	caps, err := capabilities.Parse(&specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL", "CAP_CHOWN"}, Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
	}, "process.capabilities")
	if err != nil {
		t.Fatal(err)
	}
	_, as := splitRlimits(spec.Process.Rlimits)
	fin := &finisher{lsm: spec.Process, path: "/bin/sh", args: []string{"sh", "-c", "true"},
		env: []string{"PATH=/bin", "HOME=/root"}, cwd: "/work",
		user: specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{5, 7}, Umask: &mask},
		caps: caps, noNewPriv: true, addrSpace: as}
	return &proto.InitConfig{Spec: spec, SeccompAgentFd: -1}, fin
}

// TestEncodePlanLayout decodes a plan as plan.c does, field by field.
func TestEncodePlanLayout(t *testing.T) {
	cfg, fin := planFixture(t)
	b := encodePlan(cfg, fin)
	if b == nil {
		t.Fatal("no plan for a config C can carry out")
	}
	r := bytes.NewReader(b)
	magic := make([]byte, 8)
	r.Read(magic)
	if string(magic) != planMagic {
		t.Fatalf("magic %q", magic)
	}
	var hdr [12]uint32
	var masks [5]uint64
	binary.Read(r, binary.NativeEndian, &hdr)
	binary.Read(r, binary.NativeEndian, &masks)
	if off := len(b) - r.Len(); off != 96 {
		t.Fatalf("header is %d bytes, plan.c reads 96", off)
	}
	flags, uid, gid, umask, ngroups, nrl, nas, nfilter, sflags, nargs, nenv := hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6], hdr[7], hdr[8], hdr[9], hdr[10]
	if flags != planCaps|planNNP|planUmask || uid != 1000 || gid != 1001 || umask != 0o027 ||
		ngroups != 2 || nrl != 1 || nas != 1 || nfilter != 0 || sflags != 0 || nargs != 3 || nenv != 2 {
		t.Fatalf("header %v", hdr)
	}
	bnd, eff, prm, inh, amb := fin.caps.Masks()
	if masks != [5]uint64{bnd, eff, prm, inh, amb} || bnd != 1<<5|1<<0 || amb != 1<<5 {
		t.Fatalf("masks %x", masks)
	}
	var groups [2]uint32
	binary.Read(r, binary.NativeEndian, &groups)
	if groups != [2]uint32{5, 7} {
		t.Fatalf("groups %v", groups)
	}
	type rl struct {
		Res, Pad uint32
		Cur, Max uint64
	}
	var rls [2]rl
	binary.Read(r, binary.NativeEndian, &rls)
	if rls[0] != (rl{uint32(config.RlimitNames["RLIMIT_NOFILE"]), 0, 1024, 4096}) ||
		rls[1] != (rl{uint32(config.RlimitNames["RLIMIT_STACK"]), 0, 8 << 20, 16 << 20}) {
		t.Fatalf("rlimits %+v: the others first, then the address-space ones", rls)
	}
	rest := make([]byte, r.Len())
	r.Read(rest)
	want := "/bin/sh\x00/work\x00RLIMIT_NOFILE\x00RLIMIT_STACK\x00sh\x00-c\x00true\x00PATH=/bin\x00HOME=/root\x00"
	if string(rest) != want {
		t.Fatalf("strings %q, want %q", rest, want)
	}
}

// TestEncodePlanNeedsGo: no plan where a last step needs Go.
func TestEncodePlanNeedsGo(t *testing.T) {
	for name, mutate := range map[string]func(*proto.InitConfig, *finisher){
		"startContainer hook": func(c *proto.InitConfig, _ *finisher) {
			c.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
		},
		"apparmor":      func(_ *proto.InitConfig, f *finisher) { f.lsm.ApparmorProfile = "p" },
		"selinux":       func(_ *proto.InitConfig, f *finisher) { f.lsm.SelinuxLabel = "l" },
		"seccomp agent": func(c *proto.InitConfig, _ *finisher) { c.SeccompAgentFd = 9 },
		"NUL in env":    func(_ *proto.InitConfig, f *finisher) { f.env = append(f.env, "A=\x00") },
	} {
		cfg, fin := planFixture(t)
		mutate(cfg, fin)
		if b := encodePlan(cfg, fin); b != nil {
			t.Errorf("%s: got a plan (%q...), want none", name, strings.ToValidUTF8(string(b[:8]), "?"))
		}
	}
}
