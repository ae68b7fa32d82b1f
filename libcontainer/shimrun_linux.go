package libcontainer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// shimBinary is hull-shim next to this hull binary, or "" if there is none.
func shimBinary() string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(self), "hull-shim")
	if unix.Access(p, unix.X_OK) != nil {
		return ""
	}
	return p
}

// runWithShim is `run --detach` through hull-shim: the container's exit
// status is then recorded (hull state, hull wait) although hull itself
// returns at once. The container's stdio is the caller's fds themselves,
// as with runc (the shim closes its copies once create has them). It
// returns errNoShim when no shim can be used.
func (r *Runtime) runWithShim(o RunOpts) (int, error) {
	shim := shimBinary()
	if shim == "" || o.PreserveFds > 0 {
		return 0, errNoShim
	}
	self, err := os.Executable()
	if err != nil {
		return 0, errNoShim
	}
	args := r.shimArgs(self, o.ID, o.Bundle, o.GlobalArgs, o.PidFile, o.ConsoleSocket)
	// create's errors are then run's, as runc run -d says them.
	args = append(args, "--create-arg", "--as-run")
	if o.NoPivot {
		args = append(args, "--create-arg", "--no-pivot")
	}
	if o.PidfdSocket != "" {
		// The shim runs hull create elsewhere than our cwd.
		abs, err := filepath.Abs(o.PidfdSocket)
		if err != nil {
			return 0, err
		}
		args = append(args, "--create-arg", "--pidfd-socket="+abs)
	}
	if o.NoNewKeyring {
		args = append(args, "--create-arg", "--no-new-keyring")
	}
	return runShim(shim, args)
}

// shimArgs are hull-shim's flags for a container whose stdio is the
// caller's fds themselves.
func (r *Runtime) shimArgs(self, id, bundle string, global []string, pidFile, consoleSocket string) []string {
	args := []string{"--id", id, "--bundle", bundle, "--root", r.store.Root, "--runtime", self,
		"--stdin-fd", "0", "--stdout-fd", "1", "--stderr-fd", "2", "--direct-stdio"}
	for _, a := range global {
		args = append(args, "--runtime-arg", a)
	}
	if pidFile != "" {
		args = append(args, "--pid-file", pidFile)
	}
	if consoleSocket != "" {
		args = append(args, "--console-socket", consoleSocket)
	}
	return args
}

// runShim runs hull-shim in the foreground until the container runs (or
// failed: the shim printed hull's error already, and its exit code is
// returned with errShimFailed).
func runShim(shim string, args []string) (int, error) {
	cmd := exec.Command(shim, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), errShimFailed
	}
	if err != nil {
		return 0, errNoShim
	}
	return 0, nil
}

var (
	errNoShim     = errors.New("no hull-shim")
	errShimFailed = errors.New("hull-shim failed")
)

// IsReported tells main that err was already printed (by hull-shim).
func IsReported(err error) bool { return errors.Is(err, errShimFailed) }
