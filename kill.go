package main

import (
	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

var killCommand = &cli.Command{
	Name:      "kill",
	Usage:     "kill sends the specified signal (default: SIGTERM) to the container's init process",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "send the specified signal to all processes inside the container"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 1)
		if err != nil {
			return err
		}
		name := "SIGTERM"
		if ctx.NArg() == 2 {
			name = ctx.Args().Get(1)
		}
		sig, err := libcontainer.ParseSignal(name)
		if err != nil {
			return err
		}
		c, err := runtimeOf(ctx).Load(id, true)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Signal(sig, ctx.Bool("all"))
	},
}
