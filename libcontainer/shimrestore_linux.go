package libcontainer

import (
	"errors"
	"os"

	"github.com/hullrt/hull/libcontainer/config"
)

// ShimRestoreOpts are the options of `restore --detach` through hull-shim.
type ShimRestoreOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	// GlobalArgs are hull's global flags for the restore the shim runs
	// (--log, --criu, ...; the shim gives --root).
	GlobalArgs []string
	// RestoreArgs are restore's other flags, paths made absolute (the
	// shim runs in /).
	RestoreArgs []string
}

// RestoreWithShim is `restore --detach` through hull-shim, as run -d: the
// shim runs `hull restore --detach` with the caller's stdio (the
// checkpoint's pipes are replaced by them), adopts the restored init when
// restore exits (criu made it restore's child; the shim is a subreaper),
// and records its exit status for `hull state` and `hull wait`. It returns
// errNoShim when no shim can be used, and an error for which IsReported
// is true when the restore failed (its error was printed already).
func (r *Runtime) RestoreWithShim(o ShimRestoreOpts) (int, error) {
	shim := shimBinary()
	if shim == "" {
		return 0, errNoShim
	}
	self, err := os.Executable()
	if err != nil {
		return 0, errNoShim
	}
	if spec, err := config.Load(o.Bundle); err != nil || spec.Process == nil || spec.Process.Terminal != (o.ConsoleSocket != "") {
		// Restore's own checks say what is wrong; the shim would hand a
		// terminal to a socket of its own.
		return 0, errNoShim
	}
	args := append(r.shimArgs(self, o.ID, o.Bundle, o.GlobalArgs, o.PidFile, o.ConsoleSocket), "--restore")
	// The restore the shim runs must not go through a shim again.
	args = append(args, "--create-arg", "--in-shim")
	for _, a := range o.RestoreArgs {
		args = append(args, "--create-arg", a)
	}
	return runShim(shim, args)
}

// IsNoShim tells that RestoreWithShim found no hull-shim to use.
func IsNoShim(err error) bool { return errors.Is(err, errNoShim) }
