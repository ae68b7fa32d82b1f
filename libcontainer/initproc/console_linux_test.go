package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// bindDevConsole's decisions, through the fake kernel: the pty slave is
// bound onto /dev/console (made if missing) only if that is a file or a
// device outside procfs and sysfs (CVE-2025-52565), and only a pts slave.

// consoleRoot is a rootfs in a temporary directory (its real path and an
// O_PATH fd) and a "slave" fd the fake reports as /dev/pts/3.
func consoleRoot(t *testing.T, f *fakeKernel) (string, int, int) {
	t.Helper()
	path, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(path, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(root) })
	slave, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(slave) })
	f.stat[slave] = unix.Stat_t{Mode: unix.S_IFCHR | 0o620, Rdev: unix.Mkdev(136, 3)}
	return path, root, slave
}

func TestBindDevConsole(t *testing.T) {
	bind := func(path string) string {
		return fmt.Sprintf("mount %s %s \"\" %#x \"\"", os.DevNull, filepath.Join(path, "dev/console"), unix.MS_BIND)
	}
	t.Run("missing: made, then bound", func(t *testing.T) {
		f := useFake(t)
		path, root, slave := consoleRoot(t, f)
		if err := bindDevConsoleIn(root, slave); err != nil {
			t.Fatal(err)
		}
		f.expect(t, bind(path))
		if fi, err := os.Lstat(filepath.Join(path, "dev/console")); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("/dev/console not made a file: %v", err)
		}
	})
	t.Run("an existing file", func(t *testing.T) {
		f := useFake(t)
		path, root, slave := consoleRoot(t, f)
		if err := os.WriteFile(filepath.Join(path, "dev/console"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := bindDevConsoleIn(root, slave); err != nil {
			t.Fatal(err)
		}
		f.expect(t, bind(path))
	})
	refused := func(t *testing.T, f *fakeKernel, root, slave int, want string) {
		t.Helper()
		err := bindDevConsoleIn(root, slave)
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
		f.expect(t)
	}
	t.Run("a symlink", func(t *testing.T) {
		f := useFake(t)
		path, root, slave := consoleRoot(t, f)
		if err := os.Symlink("/proc/self/attr/current", filepath.Join(path, "dev/console")); err != nil {
			t.Fatal(err)
		}
		refused(t, f, root, slave, "/dev/console is not a file or device: refusing to mount over it")
	})
	t.Run("a directory", func(t *testing.T) {
		f := useFake(t)
		path, root, slave := consoleRoot(t, f)
		if err := os.Mkdir(filepath.Join(path, "dev/console"), 0o755); err != nil {
			t.Fatal(err)
		}
		refused(t, f, root, slave, "/dev/console is not a file or device: refusing to mount over it")
	})
	t.Run("on procfs", func(t *testing.T) {
		f := useFake(t)
		_, root, slave := consoleRoot(t, f)
		f.fsType = unix.PROC_SUPER_MAGIC
		refused(t, f, root, slave, "/dev/console is on procfs or sysfs: refusing to mount over it")
	})
	t.Run("not a pts slave", func(t *testing.T) {
		f := useFake(t)
		_, root, slave := consoleRoot(t, f)
		f.stat[slave] = unix.Stat_t{Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(4, 1)} // a vt
		refused(t, f, root, slave, "pty slave is not a pts device")
	})
	t.Run("the mount fails", func(t *testing.T) {
		f := useFake(t)
		_, root, slave := consoleRoot(t, f)
		f.fail["mount"] = unix.EACCES
		err := bindDevConsoleIn(root, slave)
		if !errors.Is(err, unix.EACCES) || err.Error() != "bind pty onto /dev/console: permission denied" {
			t.Errorf("err = %v", err)
		}
	})
}
