package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "ps displays the processes running inside a container",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "select one of: table or json"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() < 1 {
			return fmt.Errorf("ps: requires at least 1 argument (the container id)")
		}
		c, err := runtimeOf(ctx).Load(ctx.Args().First(), false)
		if err != nil {
			return err
		}
		pids, err := c.Processes()
		if err != nil {
			return err
		}
		switch ctx.String("format") {
		case "json":
			// A stopped container's empty cgroup prints null, as runc's.
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
			out, err := psTable(pids, ctx.Args().Slice()[1:])
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(out)
			return err
		}
		return fmt.Errorf("invalid format option %q (want table or json)", ctx.String("format"))
	},
}
