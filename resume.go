package main

import "github.com/urfave/cli/v2"

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "resumes all processes that have been previously paused",
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
		return c.Resume()
	},
}
