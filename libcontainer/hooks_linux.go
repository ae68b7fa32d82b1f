package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hook kinds, named as in config.json.
const (
	hookPrestart        = "prestart"
	hookCreateRuntime   = "createRuntime"
	hookCreateContainer = "createContainer"
	hookStartContainer  = "startContainer"
	hookPoststart       = "poststart"
	hookPoststop        = "poststop"
)

func hooksOf(h *specs.Hooks, kind string) []specs.Hook {
	if h == nil {
		return nil
	}
	switch kind {
	case hookPrestart:
		return h.Prestart //nolint:staticcheck // deprecated in the spec, still run
	case hookCreateRuntime:
		return h.CreateRuntime
	case hookCreateContainer:
		return h.CreateContainer
	case hookStartContainer:
		return h.StartContainer
	case hookPoststart:
		return h.Poststart
	case hookPoststop:
		return h.Poststop
	}
	return nil
}

// runHooks runs the hooks of one kind in order, each with the container's
// state on stdin, and stops at the first failure.
// The error is runc's "error running KIND hook #N: ...", which callers
// and runc's tests match.
func runHooks(h *specs.Hooks, kind string, st *specs.State) error {
	return runHooksEnv(h, kind, st, nil)
}

// runHooksEnv is runHooks where a hook without an env of its own gets
// defEnv (a startContainer hook gets the process's environment, as runc's).
func runHooksEnv(h *specs.Hooks, kind string, st *specs.State, defEnv []string) error {
	for i, hook := range hooksOf(h, kind) {
		if len(hook.Env) == 0 && defEnv != nil {
			hook.Env = defEnv
		}
		if err := runHook(hook, st, hookDir(kind, st)); err != nil {
			return fmt.Errorf("error running %s hook #%d: %w", kind, i, err)
		}
	}
	return nil
}

// hookDir is the working directory a hook runs in, runc's: the bundle for
// the hooks create and run run in the runtime's namespaces (runc chdirs
// there), the process's current directory (the rootfs, prepared by the
// init) for createContainer and startContainer, the caller's otherwise.
func hookDir(kind string, st *specs.State) string {
	switch kind {
	case hookPrestart, hookCreateRuntime:
		return st.Bundle
	}
	return ""
}

// runHooksWarn is for poststart and poststop: a failure is logged as a
// warning and the remaining hooks still run (runtime spec).
func runHooksWarn(h *specs.Hooks, kind string, st *specs.State) {
	for i, hook := range hooksOf(h, kind) {
		if err := runHook(hook, st, hookDir(kind, st)); err != nil {
			slog.Warn(fmt.Sprintf("error running %s hook #%d: %v", kind, i, err), "id", st.ID)
		}
	}
}

func runHook(h specs.Hook, st *specs.State, dir string) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = args
	cmd.Env = h.Env
	cmd.Dir = dir
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(data)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := bytes.TrimSpace(out.Bytes()); len(msg) > 0 {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// validateHooks checks paths and timeouts. Paths that resolve in the
// runtime's namespace must exist and be executable now; startContainer
// paths resolve inside the container and are checked when they run.
func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, kind := range []string{hookPrestart, hookCreateRuntime, hookCreateContainer, hookStartContainer, hookPoststart, hookPoststop} {
		for i, hook := range hooksOf(h, kind) {
			p := fmt.Sprintf("hooks.%s[%d]", kind, i)
			if !filepath.IsAbs(hook.Path) {
				return fieldErr(p+".path", "%q is not absolute", hook.Path)
			}
			if hook.Timeout != nil && *hook.Timeout <= 0 {
				return fieldErr(p+".timeout", "must be positive, got %d", *hook.Timeout)
			}
			if kind == hookStartContainer {
				continue
			}
			fi, err := os.Stat(hook.Path)
			if err != nil {
				return fieldErr(p+".path", "%v", err)
			}
			if fi.IsDir() || fi.Mode()&0o111 == 0 {
				return fieldErr(p+".path", "%s is not executable", hook.Path)
			}
		}
	}
	return nil
}

// hookState is the state a hook reads on stdin.
func hookState(id string, status Status, pid int, bundle string, spec *specs.Spec) *specs.State {
	return &specs.State{
		Version: specs.Version, ID: id, Status: specs.ContainerState(status),
		Pid: pid, Bundle: bundle, Annotations: spec.Annotations,
	}
}
