package main

import (
	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
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
		// runc loads the container before it parses the signal: a
		// missing container is the error even with a bad signal.
		c, err := runtimeOf(ctx).Load(id, true)
		if err != nil {
			return err
		}
		defer c.Close()
		name := "SIGTERM"
		if ctx.NArg() == 2 {
			name = ctx.Args().Get(1)
		}
		sig, err := parseKillSignal(name)
		if err != nil {
			return err
		}
		return c.Signal(sig, ctx.Bool("all"))
	},
}

// parseKillSignal is libcontainer.ParseSignal plus signal 0, which sends
// nothing and only checks that the process is there (kill(2)): `kill ID 0`
// fails with "container not running" once the container has stopped.
func parseKillSignal(s string) (unix.Signal, error) {
	if s == "0" {
		return 0, nil
	}
	return libcontainer.ParseSignal(s)
}
