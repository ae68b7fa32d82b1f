package rootfs

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

type decodedOp struct {
	op   uint32
	a, b uint64
	c, d int64
	strs []string
}

// decodeCPlan reads a plan back as rootfs.c does, failing on anything
// rootfs.c would refuse.
func decodeCPlan(t *testing.T, b []byte) []decodedOp {
	t.Helper()
	if !strings.HasPrefix(string(b), CPlanMagic) {
		t.Fatalf("plan starts %q", b[:8])
	}
	b = b[len(CPlanMagic):]
	var ops []decodedOp
	for {
		if len(b) < 40 {
			t.Fatalf("plan truncated after %d ops", len(ops))
		}
		o := decodedOp{op: binary.NativeEndian.Uint32(b), a: binary.NativeEndian.Uint64(b[8:]),
			b: binary.NativeEndian.Uint64(b[16:]), c: int64(binary.NativeEndian.Uint64(b[24:])), d: int64(binary.NativeEndian.Uint64(b[32:]))}
		n := int(binary.NativeEndian.Uint32(b[4:]))
		if n > 4 {
			t.Fatalf("op %d has %d strings", o.op, n)
		}
		b = b[40:]
		for i := 0; i < n; i++ {
			j := strings.IndexByte(string(b), 0)
			if j < 0 {
				t.Fatalf("op %d: string %d not terminated", o.op, i)
			}
			o.strs = append(o.strs, string(b[:j]))
			b = b[j+1:]
		}
		ops = append(ops, o)
		if o.op == opEnd {
			if len(b) != 0 {
				t.Fatalf("%d bytes after the end", len(b))
			}
			return ops
		}
	}
}

func cplanSpec() *specs.Spec {
	s := config.Default()
	s.Root = &specs.Root{Path: "rootfs", Readonly: true}
	s.Process.Terminal = false
	s.Hostname = "h"
	var mounts []specs.Mount
	for _, m := range s.Mounts {
		if m.Type != "cgroup" {
			mounts = append(mounts, m)
		}
	}
	s.Mounts = append(mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: "vol", Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "nosuid"}})
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192"}
	return s
}

func TestCPlanOrder(t *testing.T) {
	s := cplanSpec()
	b := CPlan(CPlanInput{ID: "c1", Rootfs: "/b/rootfs", Bundle: "/b", Spec: s,
		NewFlags: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP})
	if b == nil {
		t.Fatal("no plan for a plain config")
	}
	ops := decodeCPlan(t, b)
	var seq []uint32
	idx := map[uint32]int{}
	for i, o := range ops {
		seq = append(seq, o.op)
		if _, ok := idx[o.op]; !ok {
			idx[o.op] = i
		}
	}
	// The Go init's order: the cgroup namespace (a cgroup2 mount shows
	// its root), affinity, lo up, propagation, the rootfs bound, the
	// mounts, cwd, devices, pivot, /dev/null, hostname, sysctls,
	// read-only, masked, late remounts, root read-only, keyring.
	order := []uint32{opUnshare, opAffinity, opLoopback, opPropagate, opBindRoot, opMount, opBind, opMkdir, opUmask, opDevice, opSymlink,
		opPtmx, opPivot, opDevNull, opHostname, opWrite, opReadonly, opMask, opRemount, opKeyring, opEnd}
	for i := 1; i < len(order); i++ {
		if idx[order[i-1]] >= idx[order[i]] {
			t.Errorf("op %d first at %d, not before op %d (at %d); ops %v", order[i-1], idx[order[i-1]], order[i], idx[order[i]], seq)
		}
	}
	for _, o := range ops {
		switch {
		case o.op == opBind:
			if o.strs[0] != "/b/vol" || o.strs[1] != "/data" || o.a != 1 || o.b&unix.MS_RDONLY == 0 || o.b&unix.MS_REMOUNT == 0 {
				t.Errorf("bind op %+v: want /b/vol on /data, recursive, remounted read-only", o)
			}
		case o.op == opMount && o.strs[1] == "/scratch":
			if o.a&unix.MS_RDONLY != 0 || o.b != cpTmpfsMode {
				t.Errorf("tmpfs op %+v: want mounted writable, with the directory's mode", o)
			}
		case o.op == opRemount && o.strs[0] == "/scratch":
			if o.a&unix.MS_RDONLY == 0 || o.a&unix.MS_NOSUID == 0 {
				t.Errorf("late remount %+v: want ro,nosuid", o)
			}
		case o.op == opWrite:
			if !strings.HasPrefix(o.strs[0], "/proc/sys/") {
				t.Errorf("sysctl op %+v", o)
			}
		case o.op == opKeyring && o.strs[0] != "_ses.c1":
			t.Errorf("keyring %q", o.strs[0])
		}
	}
	if ops[len(ops)-3].op != opRemount || ops[len(ops)-3].strs[0] != "/" {
		t.Errorf("root.readonly: want the remount of / before the keyring, got %+v", ops[len(ops)-3])
	}
	// sysctls in a fixed order (a map's is random)
	var sys []string
	for _, o := range ops {
		if o.op == opWrite {
			sys = append(sys, o.strs[0])
		}
	}
	if len(sys) != 2 || sys[0] != "/proc/sys/kernel/msgmax" {
		t.Errorf("sysctls %v: want both, sorted", sys)
	}
}

func TestCPlanDeclines(t *testing.T) {
	for name, mutate := range map[string]func(*CPlanInput){
		"user namespace": func(in *CPlanInput) {
			in.Spec.Linux.Namespaces = append(in.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		},
		"joined namespace": func(in *CPlanInput) {
			in.Spec.Linux.Namespaces[0].Path = "/proc/1/ns/pid"
		},
		"createContainer hook": func(in *CPlanInput) {
			in.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true"}}}
		},
		"terminal":  func(in *CPlanInput) { in.Terminal = true },
		"no pivot":  func(in *CPlanInput) { in.NoPivot = true },
		"apparmor":  func(in *CPlanInput) { in.Spec.Process.ApparmorProfile = "p" },
		"oom score": func(in *CPlanInput) { v := 1; in.Spec.Process.OOMScoreAdj = &v },
		"bind /dev": func(in *CPlanInput) {
			in.Spec.Mounts = append(in.Spec.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}})
		},
		"overlay": func(in *CPlanInput) {
			in.Spec.Mounts = append(in.Spec.Mounts, specs.Mount{Destination: "/o", Type: "overlay", Source: "overlay"})
		},
		"idmap": func(in *CPlanInput) {
			in.Spec.Mounts = append(in.Spec.Mounts, specs.Mount{Destination: "/i", Type: "bind", Source: "/tmp", Options: []string{"bind", "idmap"}})
		},
		"recursive attribute": func(in *CPlanInput) {
			in.Spec.Mounts = append(in.Spec.Mounts, specs.Mount{Destination: "/r", Type: "bind", Source: "/tmp", Options: []string{"rbind", "rro"}})
		},
		"NUL in hostname": func(in *CPlanInput) { in.Spec.Hostname = "a\x00b" },
		"no mount namespace": func(in *CPlanInput) {
			var ns []specs.LinuxNamespace
			for _, n := range in.Spec.Linux.Namespaces {
				if n.Type != specs.MountNamespace {
					ns = append(ns, n)
				}
			}
			in.Spec.Linux.Namespaces = ns
		},
	} {
		in := CPlanInput{ID: "c", Rootfs: "/b/rootfs", Bundle: "/b", Spec: cplanSpec(), NewFlags: unix.CLONE_NEWNS}
		if CPlan(in) == nil {
			t.Fatalf("%s: the base config got no plan", name)
		}
		mutate(&in)
		if b := CPlan(in); b != nil {
			t.Errorf("%s: got a plan (%d bytes), want the Go init", name, len(b))
		}
	}
}
