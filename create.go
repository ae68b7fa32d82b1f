package main

import "github.com/urfave/cli/v2"

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container",
	ArgsUsage: "<container-id>",
	Flags:     createFlags(),
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		c, err := runtimeOf(ctx).Create(createOpts(ctx, id))
		if err != nil {
			return err
		}
		c.Close()
		return nil
	},
}
