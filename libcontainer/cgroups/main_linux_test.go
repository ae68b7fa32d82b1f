package cgroups

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain checks, after all tests, that no cgroup directory the tests
// made is left anywhere under /sys/fs/cgroup; any that is gets removed
// and the run fails.
func TestMain(m *testing.M) {
	code := m.Run()
	if left := leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: test cgroups left behind:\n  %s\n", strings.Join(left, "\n  "))
		// Destroy thaws and kills what is inside (only the tests'
		// children can be), then removes the directories.
		for _, name := range leftNames(left) {
			if mg, err := New(name, ""); err == nil {
				_ = mg.Destroy()
			}
		}
		for i := len(left) - 1; i >= 0; i-- {
			_ = removeCgroup(left[i])
		}
		code = 1
	}
	os.Exit(code)
}

func leftovers() []string {
	var left []string
	_ = filepath.WalkDir(cgroupRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), testPrefix) {
			left = append(left, p)
			return filepath.SkipDir
		}
		return nil
	})
	return left
}

// leftNames are the distinct test cgroup names, each relative to the
// test process's own cgroups, as the tests created them.
func leftNames(left []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range left {
		if n := filepath.Base(p); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
