package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/hullrt/hull/libcontainer/criu"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// runc v1.5.1's checkpoint flags: names, defaults and help.
var checkpointCommand = &cli.Command{
	Name:  "checkpoint",
	Usage: "checkpoint a running container",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.`,
	Description: `The checkpoint command saves the state of the container instance.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "image-path", Usage: "path for saving criu image files"},
		&cli.StringFlag{Name: "work-path", Usage: "path for saving work files and logs"},
		&cli.StringFlag{Name: "parent-path", Usage: "path for previous criu image files in pre-dump"},
		&cli.BoolFlag{Name: "leave-running", Usage: "leave the process running after checkpointing"},
		&cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
		&cli.BoolFlag{Name: "tcp-skip-in-flight", Usage: "skip in-flight tcp connections"},
		&cli.BoolFlag{Name: "link-remap", Usage: "allow one to link unlinked files back when possible"},
		&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
		&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
		&cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
		&cli.IntFlag{Name: "status-fd", Value: -1, Usage: "criu writes \\0 to this FD once lazy-pages is ready"},
		&cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of the page server"},
		&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
		&cli.BoolFlag{Name: "pre-dump", Usage: "dump container's memory information only, leave the container running after this"},
		&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
		&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties"},
		&cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		warnRootless()
		c, err := runtimeOf(ctx).Load(id, true)
		if err != nil {
			return err
		}
		defer c.Close()
		opts, err := criuOptions(ctx, true)
		if err != nil {
			return err
		}
		if err := c.Checkpoint(criuClient(ctx), opts); err != nil {
			return err
		}
		if !opts.LeaveRunning && !opts.PreDump {
			// criu ended the processes: the container goes, as with runc.
			if err := c.Destroy(true); err != nil {
				slog.Warn(err.Error())
			}
		}
		return nil
	},
}

func warnRootless() {
	if os.Geteuid() != 0 {
		// runc's words.
		slog.Warn("runc checkpoint is untested with rootless containers")
	}
}

func criuClient(ctx *cli.Context) *criu.Client {
	return &criu.Client{Path: ctx.String("criu")}
}

// imagePaths is runc's: --image-path defaults to ./checkpoint (made for a
// checkpoint); --parent-path is relative to it and must be a directory.
func imagePaths(ctx *cli.Context, checkpoint bool) (string, string, error) {
	image := ctx.String("image-path")
	if image == "" {
		cwd, err := os.Getwd()
		if err != nil {
			return "", "", err
		}
		image = filepath.Join(cwd, "checkpoint")
	}
	if checkpoint {
		if err := os.MkdirAll(image, 0o700); err != nil {
			return "", "", fmt.Errorf("image path %s: %w", image, err)
		}
	}
	parent := ctx.String("parent-path")
	if parent == "" {
		return image, "", nil
	}
	if filepath.IsAbs(parent) {
		return "", "", errors.New("--parent-path must be relative")
	}
	real := filepath.Join(image, parent)
	fi, err := os.Stat(real)
	if err == nil && !fi.IsDir() {
		err = &os.PathError{Op: "stat", Path: real, Err: unix.ENOTDIR}
	}
	if err != nil {
		return "", "", fmt.Errorf("invalid --parent-path: %w", err)
	}
	return image, parent, nil
}

// criuOptions maps the flags of checkpoint (and of restore, which has a
// subset: the others are then zero) to criu's options.
func criuOptions(ctx *cli.Context, checkpoint bool) (*criu.Opts, error) {
	image, parent, err := imagePaths(ctx, checkpoint)
	if err != nil {
		return nil, err
	}
	o := &criu.Opts{
		ImagesDirectory:         image,
		WorkDirectory:           ctx.String("work-path"),
		ParentImage:             parent,
		LeaveRunning:            ctx.Bool("leave-running"),
		TCPEstablished:          ctx.Bool("tcp-established"),
		TCPSkipInFlight:         ctx.Bool("tcp-skip-in-flight"),
		LinkRemap:               ctx.Bool("link-remap"),
		ExternalUnixConnections: ctx.Bool("ext-unix-sk"),
		ShellJob:                ctx.Bool("shell-job"),
		FileLocks:               ctx.Bool("file-locks"),
		PreDump:                 ctx.Bool("pre-dump"),
		AutoDedup:               ctx.Bool("auto-dedup"),
		LazyPages:               ctx.Bool("lazy-pages"),
		StatusFd:                -1,
		LsmProfile:              ctx.String("lsm-profile"),
		LsmMountContext:         ctx.String("lsm-mount-context"),
		ManageCgroupsMode:       ctx.String("manage-cgroups-mode"),
	}
	if checkpoint {
		o.StatusFd = ctx.Int("status-fd")
	}
	if _, err := criu.CgMode(o.ManageCgroupsMode); err != nil {
		return nil, err
	}
	if ps := ctx.String("page-server"); ps != "" {
		addr, port, err := net.SplitHostPort(ps)
		if err != nil || addr == "" || port == "" {
			// runc's words, lowercased.
			return nil, errors.New("use --page-server ADDRESS:PORT to specify page server")
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("invalid port number %q in --page-server", port)
		}
		o.PageServer = criu.PageServer{Address: addr, Port: int32(n)}
	}
	// hull, like runc, does not manage network devices: criu keeps the
	// network namespace's properties out of the image.
	mask := uint32(unix.CLONE_NEWNET)
	for _, ns := range ctx.StringSlice("empty-ns") {
		if ns != "network" {
			return nil, fmt.Errorf("namespace %q is not supported", ns)
		}
		mask |= unix.CLONE_NEWNET
	}
	o.EmptyNs = mask
	return o, nil
}

// restoreCode is the exit code of a foreground restore: the container's.
func restoreCode(code int) error {
	if code != 0 {
		return cli.Exit("", code)
	}
	return nil
}
