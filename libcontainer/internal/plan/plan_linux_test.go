package plan

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func fixture(t *testing.T) *Plan {
	t.Helper()
	mask := uint32(0o027)
	caps, err := capabilities.Parse(&specs.LinuxCapabilities{
		Bounding: []string{"CAP_KILL", "CAP_CHOWN"}, Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"},
	}, "process.capabilities")
	if err != nil {
		t.Fatal(err)
	}
	return &Plan{Path: "/bin/sh", Args: []string{"sh", "-c", "true"},
		Env: []string{"PATH=/bin", "HOME=/root"}, Cwd: "/work",
		User: specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{5, 7}, Umask: &mask},
		Caps: caps, NoNewPrivs: true,
		Filter:    []unix.SockFilter{{Code: 6, Jt: 1, Jf: 2, K: 0x7fff0000}},
		Rlimits:   []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}},
		AddrSpace: []specs.POSIXRlimit{{Type: "RLIMIT_STACK", Soft: 8 << 20, Hard: 16 << 20}},
		Preserve:  2}
}

// TestEncodeLayout decodes a plan as plan.c does, field by field.
func TestEncodeLayout(t *testing.T) {
	p := fixture(t)
	b := p.Encode()
	if b == nil {
		t.Fatal("no plan for a config C can carry out")
	}
	r := bytes.NewReader(b)
	magic := make([]byte, 8)
	r.Read(magic)
	if string(magic) != Magic {
		t.Fatalf("magic %q", magic)
	}
	var hdr [14]uint32
	var masks [5]uint64
	binary.Read(r, binary.NativeEndian, &hdr)
	binary.Read(r, binary.NativeEndian, &masks)
	if off := len(b) - r.Len(); off != HeaderSize {
		t.Fatalf("header is %d bytes, plan.c reads %d", off, HeaderSize)
	}
	want := [14]uint32{Caps | NNP | Seccomp | Umask, 1000, 1001, 0o027, 2, 1, 1, 1, 0, 3, 2, uint32(capabilities.LastCap()), 2, 0}
	if hdr != want {
		t.Fatalf("header %v, want %v", hdr, want)
	}
	bnd, eff, prm, inh, amb := p.Caps.Masks()
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
	var ins unix.SockFilter
	binary.Read(r, binary.NativeEndian, &ins)
	if ins != p.Filter[0] {
		t.Fatalf("filter %+v", ins)
	}
	rest := make([]byte, r.Len())
	r.Read(rest)
	wantStr := "/bin/sh\x00/work\x00RLIMIT_NOFILE\x00RLIMIT_STACK\x00sh\x00-c\x00true\x00PATH=/bin\x00HOME=/root\x00"
	if string(rest) != wantStr {
		t.Fatalf("strings %q, want %q", rest, wantStr)
	}
}

// TestEncodeRefuses: no plan for what C cannot carry out.
func TestEncodeRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*Plan){
		"NUL in env":      func(p *Plan) { p.Env = append(p.Env, "A=\x00") },
		"NUL in an arg":   func(p *Plan) { p.Args[1] = "-\x00" },
		"no args":         func(p *Plan) { p.Args = nil },
		"seccomp agent":   func(p *Plan) { p.SeccompFlags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER },
		"filter too long": func(p *Plan) { p.Filter = make([]unix.SockFilter, 0x10000) },
	} {
		p := fixture(t)
		mutate(p)
		if b := p.Encode(); b != nil {
			t.Errorf("%s: got a plan, want none", name)
		}
	}
}
