package main

import (
	"fmt"

	"github.com/hullrt/hull/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

func specVersion() string { return specs.Version }

func runtimeOf(ctx *cli.Context) *libcontainer.Runtime {
	r := libcontainer.New(ctx.String("root"))
	_ = r.SetRootless(ctx.String("rootless")) // checked by setup
	return r
}

// oneID checks that the command got exactly the container id (and at most
// extra more arguments) and returns it.
func oneID(ctx *cli.Context, extra int) (string, error) {
	n := ctx.NArg()
	if n < 1 || n > 1+extra {
		if extra == 0 {
			return "", fmt.Errorf("%s: %s requires exactly 1 argument (the container id), got %d", ctx.Command.Name, ctx.Command.Name, n)
		}
		return "", fmt.Errorf("%s: %s requires 1 to %d arguments, got %d", ctx.Command.Name, ctx.Command.Name, 1+extra, n)
	}
	return ctx.Args().First(), nil
}

func createFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the root of the bundle directory"},
		&cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive the pty master"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the process id to"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root to jail the process inside rootfs"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process"},
	}
}

func createOpts(ctx *cli.Context, id string) libcontainer.CreateOpts {
	return libcontainer.CreateOpts{
		ID:            id,
		Bundle:        ctx.String("bundle"),
		PidFile:       ctx.String("pid-file"),
		ConsoleSocket: ctx.String("console-socket"),
		NoPivot:       ctx.Bool("no-pivot"),
		NoNewKeyring:  ctx.Bool("no-new-keyring"),
		PreserveFds:   ctx.Int("preserve-fds"),
		PidfdSocket:   ctx.String("pidfd-socket"),
	}
}

func cliError(format string, args ...any) error { return fmt.Errorf(format, args...) }

// globalArgs are the global flags given to this hull, to pass on to a hull
// that hull-shim runs.
func globalArgs(ctx *cli.Context) []string {
	var a []string
	for _, name := range []string{"log", "log-format", "rootless"} {
		if ctx.IsSet(name) {
			a = append(a, "--"+name+"="+ctx.String(name))
		}
	}
	if ctx.Bool("debug") {
		a = append(a, "--debug")
	}
	if ctx.Bool("systemd-cgroup") {
		a = append(a, "--systemd-cgroup")
	}
	return a
}
