package main

import "github.com/urfave/cli/v2"

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "executes the user defined process in a created container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		c, err := runtimeOf(ctx).Load(id, true)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Start()
	},
}
