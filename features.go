package main

import (
	"encoding/json"
	"os"

	"github.com/hullrt/hull/libcontainer"
	"github.com/urfave/cli/v2"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "show the enabled features",
	Action: func(ctx *cli.Context) error {
		b, err := json.MarshalIndent(libcontainer.Features(), "", "    ")
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	},
}
