package main

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/hullrt/hull/internal/oneproc"
	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "execute new process inside the container",
	ArgsUsage: "<container-id> <command> [command options]  || -p process.json <container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive the pty master"},
		&cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "UID (format: <uid>[:<gid>])"},
		&cli.StringSliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gids"},
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to the process.json"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.StringFlag{Name: "pid-file", Usage: "specify the file to write the process id to"},
		&cli.StringFlag{Name: "process-label", Usage: "set the asm process label for the process commonly used with selinux"},
		&cli.StringFlag{Name: "apparmor", Usage: "set the apparmor profile for the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set the no new privileges value for the process"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability to the bounding set for the process"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an (existing) sub-cgroup(s)"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process"},
	},
	SkipFlagParsing: false,
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() < 1 {
			return cliError("exec: requires at least 1 argument (the container id)")
		}
		id := ctx.Args().First()
		var gids []uint32
		for _, g := range ctx.StringSlice("additional-gids") {
			n, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return cliError("exec: --additional-gids %q is not a number", g)
			}
			gids = append(gids, uint32(n))
		}
		slog.Debug("exec: starting a process in the container", "id", id, "detach", ctx.Bool("detach"), "tty", ctx.Bool("tty"))
		if !ctx.Bool("detach") {
			oneproc.Foreground()
		}
		code, err := runtimeOf(ctx).Exec(id, libcontainer.ExecOpts{
			ProcessFile:   ctx.String("process"),
			Args:          ctx.Args().Slice()[1:],
			Tty:           ctx.Bool("tty"),
			ConsoleSocket: ctx.String("console-socket"),
			Cwd:           ctx.String("cwd"),
			Env:           ctx.StringSlice("env"),
			User:          ctx.String("user"),
			AdditionalGid: gids,
			ProcessLabel:  ctx.String("process-label"),
			AppArmor:      ctx.String("apparmor"),
			NoNewPrivs:    ctx.Bool("no-new-privs"),
			Caps:          ctx.StringSlice("cap"),
			PreserveFds:   ctx.Int("preserve-fds"),
			PidFile:       ctx.String("pid-file"),
			PidfdSocket:   ctx.String("pidfd-socket"),
			Detach:        ctx.Bool("detach"),
			IgnorePaused:  ctx.Bool("ignore-paused"),
			Cgroups:       ctx.StringSlice("cgroup"),
		})
		if err != nil {
			// runc: whatever keeps exec from giving the process's own
			// exit status (no such container, a stopped or paused one, a
			// missing binary, a pid file it cannot write) exits 255, so
			// that callers tell it from the process's exit codes.
			return &codeError{fmt.Errorf("exec failed: %w", err), 255}
		}
		if ctx.Bool("detach") {
			slog.Debug("exec: the process runs, detached", "id", id)
		} else {
			slog.Debug("exec: the process ended", "id", id, "status", code)
		}
		if code != 0 {
			return cli.Exit("", code)
		}
		return nil
	},
}
