//go:build gendocs

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocs generates the man pages and completions and checks that every
// command has its page and every flag is in its page and in the bash
// completion, so a new flag cannot go undocumented; the pages must render
// without groff warnings where groff is installed.
func TestDocs(t *testing.T) {
	out := t.TempDir()
	app := newApp()
	if err := genDocs(app, out); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(out, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	bash := read("completions/bash/hull")
	top := read("man/man8/hull.8")
	for _, f := range visibleFlags(app.Flags) {
		for _, n := range flagNames(f) {
			if !strings.Contains(top, roff(n)) || !strings.Contains(bash, n) {
				t.Errorf("global flag %s missing from hull.8 or the bash completion", n)
			}
		}
	}
	cmds := visible(app.Commands)
	if len(cmds) < 16 {
		t.Fatalf("only %d visible commands", len(cmds))
	}
	for _, c := range cmds {
		page := read("man/man8/hull-" + c.Name + ".8")
		if !strings.Contains(top, `\fB`+roff(c.Name)+`\fR`) {
			t.Errorf("hull.8 does not list command %s", c.Name)
		}
		if !strings.Contains(bash, "\t"+c.Name+")") {
			t.Errorf("bash completion has no case for %s", c.Name)
		}
		for _, f := range visibleFlags(c.Flags) {
			for _, n := range flagNames(f) {
				if !strings.Contains(page, `\fB`+roff(n)+`\fR`) {
					t.Errorf("hull-%s.8 lacks flag %s", c.Name, n)
				}
				if !strings.Contains(bash, n) {
					t.Errorf("bash completion lacks %s %s", c.Name, n)
				}
			}
		}
		if groff, err := exec.LookPath("groff"); err == nil {
			cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", filepath.Join(out, "man/man8/hull-"+c.Name+".8"))
			if o, err := cmd.CombinedOutput(); err != nil || len(o) > 0 {
				t.Errorf("groff on hull-%s.8: %v: %s", c.Name, err, o)
			}
		} else {
			t.Logf("groff not installed: man pages not rendered (%v)", err)
		}
	}
	if fish := read("completions/fish/hull.fish"); !strings.Contains(fish, "complete -c hull") {
		t.Errorf("fish completion: %.200s", fish)
	}
	if b, err := exec.Command("bash", "-n", filepath.Join(out, "completions/bash/hull")).CombinedOutput(); err != nil {
		t.Errorf("bash -n on the completion: %v: %s", err, b)
	}
}
