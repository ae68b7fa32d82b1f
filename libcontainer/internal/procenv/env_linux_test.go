package procenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestPasswdHome(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	data := "root:x:0:0:root:/root:/bin/sh\n#x:x:5:5::/no:/bin/sh\nbad line\ntempuser:x:2000:2000:tempuser:/home/tempuser:/bin/sh\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for uid, want := range map[int]string{0: "/root", 2000: "/home/tempuser", 5: "/", 1000: "/"} {
		if got := passwdHome(Host, p, uid); got != want {
			t.Errorf("passwdHome(%d) = %q, want %q", uid, got, want)
		}
	}
	if got := passwdHome(Host, filepath.Join(t.TempDir(), "none"), 0); got != "/" {
		t.Errorf("passwdHome of a missing file = %q, want /", got)
	}
}

func TestPrepareEnv(t *testing.T) {
	// The container's root: a directory with etc/passwd, looked up in
	// it as exec does from outside.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := openRoot(t, dir)
	// uid 4242 has no entry: HOME defaults to "/".
	const uid = 4242
	if got, _ := PrepareEnv([]string{"A=1"}, 0, root); !slices.Equal(got, []string{"A=1", "HOME=/root"}) {
		t.Errorf("prepareEnv for uid 0 = %q, want HOME=/root", got)
	}
	for _, tc := range []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"HOME=/override"}, []string{"HOME=/override"}},
		{[]string{"HOME="}, []string{"HOME=/"}},
		{[]string{"HOME=/override", "HOME="}, []string{"HOME=/"}},
		{[]string{"ONE=two", "ONE=", "PATH=/bin"}, []string{"ONE=", "PATH=/bin", "HOME=/"}},
		{[]string{"ONE=two", "ONE=three"}, []string{"ONE=three", "HOME=/"}},
		{[]string{"A=1", "B=2", "A=3"}, []string{"B=2", "A=3", "HOME=/"}},
	} {
		got, err := PrepareEnv(tc.in, uid, root)
		if err != nil {
			t.Fatalf("PrepareEnv(%q): %v", tc.in, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("PrepareEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range [][]string{{"NOEQUALS"}, {"=v"}, {"A=x\x00y"}} {
		if _, err := PrepareEnv(bad, uid, root); err == nil {
			t.Errorf("PrepareEnv(%q): no error", bad)
		}
	}
}

// TestLookPathInRoot: the PATH search and its errors through a root
// looked up from outside, as through the process's own root; a symlink
// cannot lead out of the root.
func TestLookPathInRoot(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"bin", "sbin", "noexec", "link"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/tool", 0o755)
	write("noexec/tool", 0o644)
	write("noexec/only", 0o644)
	// An absolute link to the host's /bin/sh resolves inside the root.
	if err := os.Symlink("/bin/sh", filepath.Join(dir, "link", "sh")); err != nil {
		t.Fatal(err)
	}
	root := openRoot(t, dir)
	env := []string{"PATH=/noexec:/sbin:/bin"}
	for _, tc := range []struct{ file, want, err string }{
		{"tool", "/bin/tool", ""},
		{"/bin/tool", "/bin/tool", ""},
		{"only", "", `exec: "only": permission denied`},
		{"missing", "", `exec: "missing": executable file not found in $PATH`},
		{"/bin/missing", "", `exec: "/bin/missing": stat /bin/missing: no such file or directory`},
		{"/link/sh", "", `exec: "/link/sh": stat /link/sh: no such file or directory`},
		{"/bin", "", `exec: "/bin": /bin is a directory: permission denied`},
	} {
		got, err := LookPath(tc.file, env, root)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("LookPath(%q) = %q, %v; want error %q", tc.file, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("LookPath(%q) = %q, %v; want %q", tc.file, got, err, tc.want)
		}
	}
}

// openRoot is dir as a container's root, looked up from outside.
func openRoot(t *testing.T, dir string) Root {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return InRoot(d)
}
