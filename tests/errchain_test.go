package tests

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestMountErrorChainAsRunc: a mount that fails in the init is reported
// with runc's error chain, word for word but for the program's name
// (runc's mounts_sshfs.bats matches it): "hull run failed: unable to start
// container process: error during container init: error mounting "SRC" to
// rootfs at "DST": ..." with the flags named as runc names them, printed
// alone on stderr (no "hull: " before it); create says "hull create
// failed: ..." and leaves nothing.
func TestMountErrorChainAsRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := e.mkdir("src")
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", src).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", src).Run() })
	// Per-mount flags: in a user namespace they are locked.
	if out, err := exec.Command("mount", "--bind", "-o", "remount,ro,nodiratime", src).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	if err := os.Chmod(e.base, 0o755); err != nil {
		t.Fatal(err)
	}
	bind := func(opts ...string) func(*specs.Spec) {
		return withMount(specs.Mount{Source: src, Destination: "/mnt", Type: "bind", Options: append([]string{"bind"}, opts...)})
	}
	chain := func(cmd string) string {
		return `^hull ` + cmd + ` failed: unable to start container process: error during container init: error mounting "` +
			regexp.QuoteMeta(src) + `" to rootfs at "/mnt": failed to set user-requested vfs flags on bind-mount: `
	}
	cases := []struct {
		name, cmd string
		opts      []string
		want      string
	}{
		{"clear-ro", "run", []string{"rw", "nosuid"},
			`cannot clear locked flags MS_RDONLY: mount dst=/mnt, dstFd=/proc/thread-self/fd/\d+, flags=MS_NOSUID\|MS_REMOUNT\|MS_BIND: operation not permitted\n$`},
		{"clear-ro-create", "create", []string{"rw"},
			`cannot clear locked flags MS_RDONLY: mount dst=/mnt, dstFd=/proc/thread-self/fd/\d+, flags=MS_REMOUNT\|MS_BIND: operation not permitted\n$`},
		{"atime", "run", []string{"strictatime"},
			`cannot change locked atime flags MS_NODIRATIME\|MS_RELATIME: mount dst=/mnt, dstFd=/proc/thread-self/fd/\d+, flags=MS_REMOUNT\|MS_BIND\|MS_STRICTATIME: operation not permitted\n$`},
	}
	for _, c := range cases {
		bundle := userNSBundle(t, e, all(bind(c.opts...), withArgs("true")))
		id := e.newID()
		r := e.rt(c.cmd, "--bundle", bundle, id)
		re := regexp.MustCompile(chain(c.cmd) + c.want)
		if r.Code != 1 || !re.MatchString(r.Stderr) {
			t.Errorf("%s: %s of bind,%s: %v, want exit 1 and stderr matching %s", c.name, c.cmd, strings.Join(c.opts, ","), r, re)
		}
		e.assertNotExist(id)
	}
}

// TestRunDetachConsoleSocketError: run -d with a console socket goes
// through hull-shim, whose create has no stderr of the caller's: its error
// was lost (exit 1, nothing said; runc's mask.bats "prohibit symlink
// /proc"). It is printed now, as run's: "hull run failed: ...".
func TestRunDetachConsoleSocketError(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(filepath.Join(filepath.Dir(runtimeBin), "hull-shim")); err != nil {
		t.Skipf("no hull-shim next to %s (make build puts both in bin/): %v", runtimeBin, err)
	}
	e := newEnv(t)
	sock := filepath.Join(e.base, "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bundle := e.newBundle(all(withArgs("true"), func(s *specs.Spec) { s.Process.Terminal = true }))
	proc := filepath.Join(bundle, "rootfs", "proc")
	if err := os.RemoveAll(proc); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/symlink", proc); err != nil {
		t.Fatal(err)
	}
	id := e.newID()
	r := e.rt("run", "-d", "--console-socket", sock, "--bundle", bundle, id)
	want := `hull run failed: unable to start container process: error during container init: error mounting "proc" to rootfs at "/proc": filesystem "proc" must be mounted on ordinary directory`
	if r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Errorf("run -d --console-socket with /proc a symlink: %v, want exit 1 and %q", r, want)
	}
	e.assertNotExist(id)
}
