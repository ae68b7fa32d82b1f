package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestIOPriority(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 has no process.ioPriority")
	}
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 0}
	}, "ionice")
	if !strings.Contains(out, "idle") {
		t.Errorf("ionice in the container: %q, want the idle class", out)
	}
}

func TestMemoryPolicy(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 has no linux.memoryPolicy")
	}
	e := newEnv(t)
	out := e.mustRun(func(s *specs.Spec) {
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}
	}, "sh", "-c", "grep -m1 -o 'bind:[0-9]*' /proc/self/numa_maps")
	if strings.TrimSpace(out) != "bind:0" {
		t.Errorf("numa_maps policy: %q, want bind:0", out)
	}
}

func TestExecCPUAffinity(t *testing.T) {
	if !isHull {
		t.Skip("runc 1.1.5 has no process.execCPUAffinity")
	}
	e := newEnv(t)
	bundle := e.newBundle(func(s *specs.Spec) {
		s.Process.Args = []string{"sleep", "100"}
		s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "0"}
	})
	id, pid := e.create(bundle)
	e.trackPid(pid)
	e.mustRT("start", id)
	r := e.mustRT("exec", id, "grep", "Cpus_allowed_list", "/proc/self/status")
	if f := strings.Fields(r.Stdout); len(f) != 2 || f[1] != "0" {
		t.Errorf("exec'd process affinity: %q, want 0", r.Stdout)
	}
	e.mustRT("delete", "--force", id)
}

// A new session keyring named after the container, unless
// --no-new-keyring. /proc/keys lists the keyrings the reader possesses.
func TestSessionKeyring(t *testing.T) {
	e := newEnv(t)
	unmaskKeys := func(s *specs.Spec) {
		var mp []string
		for _, p := range s.Linux.MaskedPaths {
			if p != "/proc/keys" {
				mp = append(mp, p)
			}
		}
		s.Linux.MaskedPaths = mp
	}
	lastID := func() string {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.ids[len(e.ids)-1]
	}
	r := e.run(all(unmaskKeys, withShell("cat /proc/keys")))
	if id := lastID(); r.Code != 0 || !strings.Contains(r.Stdout, "_ses."+id+":") {
		t.Errorf("no session keyring named after container %s: %v", id, r)
	}
	r = e.run(all(unmaskKeys, withShell("cat /proc/keys")), "--no-new-keyring")
	if id := lastID(); r.Code != 0 || strings.Contains(r.Stdout, "_ses."+id+":") {
		t.Errorf("--no-new-keyring still made keyring _ses.%s: %v", id, r)
	}
}
