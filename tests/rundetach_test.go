package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hull run -d goes through hull-shim (next to hull): the exit status of the
// detached container is recorded, and hull wait and hull state report it.
func TestRunDetachExitRecorded(t *testing.T) {
	if !isHull {
		t.Skip("hull wait and the recorded exit status are hull's")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		t.Skipf("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	for _, tc := range []struct {
		name   string
		script string
		kill   string
		want   string
	}{
		{"exit0", "exit 0", "", "0"},
		{"exit7", "exit 7", "", "7"},
		{"sigkill", "sleep 100", "KILL", "137"},
		// Without a pid namespace: a pid namespace's init ignores a
		// SIGTERM it has no handler for.
		{"sigterm-nopidns", "sleep 100", "TERM", "143"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			mutate := withShell(tc.script)
			if strings.HasSuffix(tc.name, "nopidns") {
				mutate = all(mutate, withoutNamespace(specs.PIDNamespace))
			}
			bundle := e.newBundle(mutate)
			id := e.newID()
			e.mustRT("run", "-d", "--bundle", bundle, id)
			if tc.kill != "" {
				e.mustRT("kill", id, tc.kill)
			}
			r := e.rt("wait", id)
			if strings.TrimSpace(r.Stdout) != tc.want || r.Code != atoi(tc.want) {
				t.Errorf("hull wait: %v, want %s", r, tc.want)
			}
			st := e.mustRT("state", id).Stdout
			if !strings.Contains(st, `"exitStatus": `+tc.want) {
				t.Errorf("state has no exitStatus %s: %s", tc.want, st)
			}
			e.mustRT("delete", id)
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
