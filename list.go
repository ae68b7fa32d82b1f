package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "lists containers started by hull with the given root",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "select one of: table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "display only container IDs"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() != 0 {
			return fmt.Errorf("list: takes no arguments, got %d", ctx.NArg())
		}
		if ctx.IsSet("root") {
			// runc: a missing default root means no container yet, a
			// missing --root given by the caller is an error.
			f, err := os.Open(ctx.String("root"))
			if err != nil {
				return err
			}
			f.Close()
		}
		cs, err := runtimeOf(ctx).List()
		if err != nil {
			return err
		}
		states := make([]libcontainer.StateJSON, 0, len(cs))
		for _, c := range cs {
			s := c.State()
			s.Owner = libcontainer.OwnerName(ctx.String("root"), c.ID())
			states = append(states, s)
		}
		if ctx.Bool("quiet") {
			for _, s := range states {
				fmt.Println(s.ID)
			}
			return nil
		}
		switch ctx.String("format") {
		case "table":
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		case "json":
			if len(states) == 0 {
				// runc prints null for no containers; callers expect it.
				states = nil
			}
			return json.NewEncoder(os.Stdout).Encode(states)
		}
		return fmt.Errorf("invalid format option %q (want table or json)", ctx.String("format"))
	},
}
