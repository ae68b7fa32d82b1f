package main

import (
	"fmt"

	"github.com/hullrt/hull/internal/oneproc"
	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

// runc v1.5.1's restore flags: names, defaults and help.
var restoreCommand = &cli.Command{
	Name:  "restore",
	Usage: "restore a container from a previous checkpoint",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.`,
	Description: `Restores the saved state of the container instance that was previously saved
using the runc checkpoint command.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		&cli.StringFlag{Name: "image-path", Usage: "path to criu image files for restoring"},
		&cli.StringFlag{Name: "work-path", Usage: "path for saving work files and logs"},
		&cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
		&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
		&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
		&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
		&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk"},
		&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties"},
		&cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
		&cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
		&cli.StringFlag{Name: "lsm-profile", Usage: "Specify an LSM profile to be used during restore in the form of TYPE:NAME."},
		&cli.StringFlag{Name: "lsm-mount-context", Usage: "Specify an LSM mount context to be used during restore."},
		// The restore hull-shim runs for restore -d (not through a shim again).
		&cli.BoolFlag{Name: "in-shim", Hidden: true},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		// criu's RPC and the restored process's relay run beside the wait.
		oneproc.Foreground()
		warnRootless()
		opts, err := criuOptions(ctx, false)
		if err != nil {
			return err
		}
		bundle := ctx.String("bundle")
		if bundle == "" {
			bundle = "."
		}
		if ctx.Bool("detach") && !ctx.Bool("in-shim") {
			code, err := restoreWithShim(ctx, id, bundle, opts)
			if libcontainer.IsReported(err) {
				return cli.Exit("", code)
			}
			if !libcontainer.IsNoShim(err) {
				if err != nil {
					return fmt.Errorf("hull restore failed: %w", err)
				}
				return restoreCode(code)
			}
		}
		code, err := runtimeOf(ctx).Restore(libcontainer.RestoreOpts{
			ID: id, Bundle: bundle, PidFile: ctx.String("pid-file"),
			ConsoleSocket: ctx.String("console-socket"), NoPivot: ctx.Bool("no-pivot"),
			NoSubreaper: ctx.Bool("no-subreaper"), Detach: ctx.Bool("detach"),
			Criu: opts, Client: criuClient(ctx),
		})
		if err != nil {
			// As runc's restore, which reports through its run path.
			return fmt.Errorf("hull restore failed: %w", err)
		}
		return restoreCode(code)
	},
}
