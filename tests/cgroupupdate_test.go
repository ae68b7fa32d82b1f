package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// update as runc's callers and the suite use it: flags after the
// container id (urfave/cli v1 moves them in front), --cpu-idle and
// --cpu-burst, and device rules left alone (runc's update skips them),
// with access letters runc ignores ("rwa").
func TestCgroupUpdateRuncForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bundle := e.newBundle(all(withArgs("sleep", "100"), func(s *specs.Spec) {
		r := cgResources(s)
		r.Pids = &specs.LinuxPids{Limit: cgI64(20)}
		r.Devices = []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: false, Type: "c", Major: cgI64(1), Minor: cgI64(11), Access: "rwa"},
		}
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11})
	}))
	id, pid := e.create(bundle)
	e.mustRT("start", id)
	cg := e.cgOf(bundle, pid)
	cg.expect("pids", "pids.max", "20")
	devList := func() string {
		if cg.v2 {
			return "" // an eBPF program: nothing to read back
		}
		return cg.read("devices", "devices.list")
	}
	before := devList()
	if !cg.v2 && (strings.Contains(before, "a *:*") || strings.Contains(before, "c 1:11")) {
		t.Errorf("devices.list %q allows all or /dev/kmsg", before)
	}

	if r := e.rt("update", id, "--pids-limit", "30"); r.Code != 0 {
		t.Errorf("update %s --pids-limit 30 (flag after the id): %v, want exit 0", id, r)
	}
	cg.expect("pids", "pids.max", "30")
	if r := e.rt("update", "--pids-limit", "31", id, "--memory", "64m"); r.Code != 0 {
		t.Errorf("update --pids-limit 31 %s --memory 64m: %v, want exit 0", id, r)
	}
	cg.expect("pids", "pids.max", "31")
	memFile := "memory.limit_in_bytes"
	if cg.v2 {
		memFile = "memory.max"
	}
	cg.expect("memory", memFile, "67108864")
	if r := e.rt("update", id, "extra", "--pids-limit", "5"); r.Code == 0 || !strings.Contains(r.Stderr, "exactly 1 argument") {
		t.Errorf("update %s extra --pids-limit 5: %v, want an error about the argument count", id, r)
	}
	if r := e.rt("update", id, "--no-such-flag", "1"); r.Code == 0 || !strings.Contains(r.Stderr, "flag provided but not defined: -no-such-flag") {
		t.Errorf("update %s --no-such-flag 1: %v, want \"flag provided but not defined\"", id, r)
	}
	cg.expect("pids", "pids.max", "31")
	if after := devList(); after != before {
		t.Errorf("updates changed devices.list: before %q, after %q", before, after)
	}

	if cg.exists("cpu", "cpu.idle") {
		e.mustRT("update", "--cpu-idle", "1", id)
		cg.expect("cpu", "cpu.idle", "1")
		e.mustRT("update", id, "--cpu-idle", "0")
		cg.expect("cpu", "cpu.idle", "0")
	} else {
		t.Logf("no cpu.idle in this kernel: --cpu-idle not checked")
	}
	burstFile := "cpu.cfs_burst_us"
	if cg.v2 {
		burstFile = "cpu.max.burst"
	}
	if cg.exists("cpu", burstFile) {
		e.mustRT("update", "--cpu-quota", "500000", "--cpu-period", "1000000", "--cpu-burst", "100000", id)
		cg.expect("cpu", burstFile, "100000")
	} else {
		t.Logf("no %s in this kernel: --cpu-burst not checked", burstFile)
	}
	if r := e.rt("update", "--cpu-idle", "x", id); r.Code == 0 || !strings.Contains(r.Stderr, "invalid value for cpu-idle") {
		t.Errorf("update --cpu-idle x: %v, want runc's \"invalid value for cpu-idle\"", r)
	}
	e.mustRT("delete", "--force", id)
}
