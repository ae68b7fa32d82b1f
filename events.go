package main

import (
	"fmt"
	"os"

	"github.com/hullrt/hull/internal/oneproc"
	"github.com/urfave/cli/v2"
)

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "display container events such as OOM notifications and cpu, memory, and IO usage statistics",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5e9, Usage: "set the stats collection interval"},
		&cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		if ctx.Duration("interval") <= 0 {
			return fmt.Errorf("events: --interval must be positive")
		}
		oneproc.Foreground()
		c, err := runtimeOf(ctx).Load(id, false)
		if err != nil {
			return err
		}
		return c.Events(os.Stdout, ctx.Bool("stats"), ctx.Duration("interval"))
	},
}
