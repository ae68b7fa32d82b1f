package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hook kinds, named as in config.json.
const (
	Prestart        = "prestart"
	CreateRuntime   = "createRuntime"
	CreateContainer = "createContainer"
	StartContainer  = "startContainer"
	Poststart       = "poststart"
	Poststop        = "poststop"
)

func Of(h *specs.Hooks, kind string) []specs.Hook {
	if h == nil {
		return nil
	}
	switch kind {
	case Prestart:
		return h.Prestart //nolint:staticcheck // deprecated in the spec, still run
	case CreateRuntime:
		return h.CreateRuntime
	case CreateContainer:
		return h.CreateContainer
	case StartContainer:
		return h.StartContainer
	case Poststart:
		return h.Poststart
	case Poststop:
		return h.Poststop
	}
	return nil
}

// Run runs the hooks of one kind in order, each with the container's
// state on stdin, and stops at the first failure.
// The error is runc's "error running KIND hook #N: ...", which callers
// and runc's tests match.
func Run(h *specs.Hooks, kind string, st *specs.State) error {
	return RunEnv(h, kind, st, nil)
}

// RunEnv is runHooks where a hook without an env of its own gets
// defEnv (a startContainer hook gets the process's environment, as runc's).
func RunEnv(h *specs.Hooks, kind string, st *specs.State, defEnv []string) error {
	for i, hook := range Of(h, kind) {
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
	case Prestart, CreateRuntime:
		return st.Bundle
	}
	return ""
}

// RunWarn is for poststart and poststop: a failure is logged as a
// warning and the remaining hooks still run (runtime spec).
func RunWarn(h *specs.Hooks, kind string, st *specs.State) {
	for i, hook := range Of(h, kind) {
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

// State is the state a hook reads on stdin.
func State(id string, status specs.ContainerState, pid int, bundle string, spec *specs.Spec) *specs.State {
	return &specs.State{
		Version: specs.Version, ID: id, Status: status,
		Pid: pid, Bundle: bundle, Annotations: spec.Annotations,
	}
}
