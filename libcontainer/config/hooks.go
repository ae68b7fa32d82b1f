package config

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hullrt/hull/libcontainer/hooks"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// validateHooks checks paths and timeouts. Paths that resolve in the
// runtime's namespace must exist and be executable now; startContainer
// paths resolve inside the container and are checked when they run.
func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, kind := range []string{hooks.Prestart, hooks.CreateRuntime, hooks.CreateContainer, hooks.StartContainer, hooks.Poststart, hooks.Poststop} {
		for i, hook := range hooks.Of(h, kind) {
			p := fmt.Sprintf("hooks.%s[%d]", kind, i)
			if !filepath.IsAbs(hook.Path) {
				return FieldErr(p+".path", "%q is not absolute", hook.Path)
			}
			if hook.Timeout != nil && *hook.Timeout <= 0 {
				return FieldErr(p+".timeout", "must be positive, got %d", *hook.Timeout)
			}
			if kind == hooks.StartContainer {
				continue
			}
			fi, err := os.Stat(hook.Path)
			if err != nil {
				return FieldErr(p+".path", "%v", err)
			}
			if fi.IsDir() || fi.Mode()&0o111 == 0 {
				return FieldErr(p+".path", "%s is not executable", hook.Path)
			}
		}
	}
	return nil
}
