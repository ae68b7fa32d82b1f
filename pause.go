package main

import "github.com/urfave/cli/v2"

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "pause suspends all processes inside the container",
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
		return c.Pause()
	},
}
