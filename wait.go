package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

var waitCommand = &cli.Command{
	Name:  "wait",
	Usage: "wait until the container has exited; print its exit code and exit with it",
	Description: `The exit status is the one hull-shim recorded (128+N for a death by
signal N). wait works from any process, not only the container's parent.
Without a shim that recorded the exit, wait fails once the container's init
is gone: "exit status unknown".`,
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		id, err := oneID(ctx, 0)
		if err != nil {
			return err
		}
		ex, err := runtimeOf(ctx).Wait(id)
		if err != nil {
			return err
		}
		fmt.Println(ex.Code)
		if ex.Code != 0 {
			return cli.Exit("", ex.Code)
		}
		return nil
	},
}
