package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hull and hull-shim grow their main goroutine's stack in
// internal/mainstack's init, which must run before every other package's
// (after the runtime's own): only then are the stack copies shallow. The
// runtime's init trace (GODEBUG=inittrace=1) lists the inits in the order
// they ran.
func TestMainstackInitRunsFirst(t *testing.T) {
	if !isHull {
		t.Skip("hull's own start-up")
	}
	t.Parallel()
	const pkg = "github.com/hullrt/hull/internal/mainstack"
	bins := [][]string{{runtimeBin, "--version"}}
	if shim := filepath.Join(filepath.Dir(runtimeBin), "hull-shim"); fileExists(shim) {
		bins = append(bins, []string{shim, "--help"})
	} else {
		t.Logf("no hull-shim beside %s: only hull is checked", runtimeBin)
	}
	for _, b := range bins {
		r := execBinEnv(t, b[0], "", []string{"GODEBUG=inittrace=1"}, b[1])
		var order []string
		for _, l := range lines(r.Stderr) {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "init" {
				order = append(order, f[1])
			}
		}
		// The runtime's own init tasks (runtime_inittasks) come first.
		i := 0
		for i < len(order) && (order[i] == "runtime" || strings.HasPrefix(order[i], "internal/bytealg")) {
			i++
		}
		if i == len(order) {
			t.Errorf("%s: no init trace after the runtime's: %q", filepath.Base(b[0]), r.Stderr)
			continue
		}
		if order[i] != pkg {
			t.Errorf("%s: the first package init after the runtime's is %s, want %s (order: %v)", filepath.Base(b[0]), order[i], pkg, order)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
