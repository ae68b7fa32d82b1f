package initproc

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
		if got := passwdHome(p, uid); got != want {
			t.Errorf("passwdHome(%d) = %q, want %q", uid, got, want)
		}
	}
	if got := passwdHome(filepath.Join(t.TempDir(), "none"), 0); got != "/" {
		t.Errorf("passwdHome of a missing file = %q, want /", got)
	}
}

func TestPrepareEnv(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(p, []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := etcPasswd
	etcPasswd = p
	defer func() { etcPasswd = old }()
	// uid 4242 has no entry: HOME defaults to "/".
	const uid = 4242
	if got, _ := prepareEnv([]string{"A=1"}, 0); !slices.Equal(got, []string{"A=1", "HOME=/root"}) {
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
		got, err := prepareEnv(tc.in, uid)
		if err != nil {
			t.Fatalf("prepareEnv(%q): %v", tc.in, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("prepareEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range [][]string{{"NOEQUALS"}, {"=v"}, {"A=x\x00y"}} {
		if _, err := prepareEnv(bad, uid); err == nil {
			t.Errorf("prepareEnv(%q): no error", bad)
		}
	}
}
