package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container",
	ArgsUsage: "<container-id>",
	Flags: append(createFlags(),
		// hull-shim's create for `run --detach`: its errors are run's
		// ("hull run failed: ..."), as runc run -d says them.
		&cli.BoolFlag{Name: "as-run", Hidden: true},
	),
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		c, err := runtimeOf(ctx).Create(createOpts(ctx, id))
		if err != nil {
			// runc's wording: "runc create failed: ...".
			if ctx.Bool("as-run") {
				return fmt.Errorf("hull run failed: %w", err)
			}
			return fmt.Errorf("hull create failed: %w", err)
		}
		c.Close()
		return nil
	},
}
