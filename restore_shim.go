package main

import (
	"path/filepath"

	"github.com/hullrt/hull/libcontainer"
	"github.com/hullrt/hull/libcontainer/criu"
	"github.com/urfave/cli/v2"
)

// restoreWithShim is restore -d through hull-shim (as run -d), so that the
// restored container's exit is recorded for `hull wait` and `hull state`.
// The shim runs `hull restore --detach --in-shim` with this restore's
// flags; the paths among them are made absolute (the shim runs in /).
func restoreWithShim(ctx *cli.Context, id, bundle string, opts *criu.Opts) (int, error) {
	abs := func(p string) (string, error) {
		if p == "" {
			return "", nil
		}
		return filepath.Abs(p)
	}
	var err error
	o := libcontainer.ShimRestoreOpts{ID: id, GlobalArgs: globalArgs(ctx)}
	if ctx.IsSet("criu") {
		o.GlobalArgs = append(o.GlobalArgs, "--criu="+ctx.String("criu"))
	}
	if ctx.Bool("systemd-cgroup") {
		o.GlobalArgs = append(o.GlobalArgs, "--systemd-cgroup")
	}
	for _, p := range []struct {
		dst *string
		src string
	}{{&o.Bundle, bundle}, {&o.PidFile, ctx.String("pid-file")}, {&o.ConsoleSocket, ctx.String("console-socket")}} {
		if *p.dst, err = abs(p.src); err != nil {
			return 0, err
		}
	}
	image, err := abs(opts.ImagesDirectory)
	if err != nil {
		return 0, err
	}
	o.RestoreArgs = append(o.RestoreArgs, "--image-path="+image)
	if opts.WorkDirectory != "" {
		work, err := abs(opts.WorkDirectory)
		if err != nil {
			return 0, err
		}
		o.RestoreArgs = append(o.RestoreArgs, "--work-path="+work)
	}
	for _, name := range []string{"tcp-established", "ext-unix-sk", "shell-job", "file-locks", "no-subreaper", "no-pivot", "auto-dedup", "lazy-pages"} {
		if ctx.Bool(name) {
			o.RestoreArgs = append(o.RestoreArgs, "--"+name)
		}
	}
	for _, name := range []string{"manage-cgroups-mode", "lsm-profile", "lsm-mount-context"} {
		if ctx.IsSet(name) {
			o.RestoreArgs = append(o.RestoreArgs, "--"+name+"="+ctx.String(name))
		}
	}
	for _, v := range ctx.StringSlice("empty-ns") {
		o.RestoreArgs = append(o.RestoreArgs, "--empty-ns="+v)
	}
	return runtimeOf(ctx).RestoreWithShim(o)
}
