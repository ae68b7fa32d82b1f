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
		f := libcontainer.Features()
		// As runc's: checkpoint/restore (through criu) is built in, and a
		// config may name its own criu configuration (org.criu.config).
		if f.Annotations == nil {
			f.Annotations = map[string]string{}
		}
		f.Annotations["org.opencontainers.runc.checkpoint.enabled"] = "true"
		f.PotentiallyUnsafeConfigAnnotations = append(f.PotentiallyUnsafeConfigAnnotations, "org.criu.config")
		b, err := json.MarshalIndent(f, "", "    ")
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	},
}
