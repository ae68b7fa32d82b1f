package main

import (
	"fmt"

	"github.com/hullrt/hull/internal/oneproc"
	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and run a container",
	ArgsUsage: "<container-id>",
	Flags: append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detach from the container's process"},
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
	),
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		if !ctx.Bool("detach") {
			oneproc.Foreground()
		}
		code, err := runtimeOf(ctx).Run(libcontainer.RunOpts{
			CreateOpts: createOpts(ctx, id),
			Detach:     ctx.Bool("detach"),
			Keep:       ctx.Bool("keep"),
			GlobalArgs: globalArgs(ctx),
		})
		if libcontainer.IsReported(err) {
			return cli.Exit("", code)
		}
		if err != nil {
			// runc's wording: "runc run failed: ...".
			return fmt.Errorf("hull run failed: %w", err)
		}
		if code != 0 {
			return cli.Exit("", code)
		}
		return nil
	},
}
