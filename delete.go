package main

import (
	"errors"

	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete any resources held by the container often used with detached container",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "forcibly deletes the container if it is still running (uses SIGKILL)"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		r := runtimeOf(ctx)
		if ctx.Bool("force") {
			// A create killed before its directory was renamed into
			// place leaves ".new-<id>-*", which only this removes.
			if err := r.RemoveStale(id); err != nil {
				return err
			}
		}
		c, err := r.LoadForDelete(id, ctx.Bool("force"))
		if err != nil {
			// runc: a forced delete of a missing container succeeds.
			if ctx.Bool("force") && errors.Is(err, libcontainer.ErrNotExist) {
				return nil
			}
			return err
		}
		defer c.Close()
		return c.Destroy(ctx.Bool("force"))
	},
}
