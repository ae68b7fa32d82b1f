package main

import (
	"os"

	"github.com/hullrt/hull/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "update container resource constraints",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "path to the file containing the resources to update or '-' to read from the standard input"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "specifies per cgroup weight, range is from 10 to 1000"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
		&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares (relative weight vs. other containers)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period to be used for hardcapping (in usecs)"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime hardcap limit (in usecs)"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPU(s) to use"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory node(s) to use"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (in bytes)"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory reservation or soft_limit (in bytes)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "total memory usage (memory + swap); set '-1' to enable unlimited swap"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of pids allowed in the container"},
	},
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
		var r *specs.LinuxResources
		if f := ctx.String("resources"); f != "" {
			in := os.Stdin
			if f != "-" {
				if in, err = os.Open(f); err != nil {
					return err
				}
				defer in.Close()
			}
			if r, err = libcontainer.ReadResources(in, f); err != nil {
				return err
			}
		} else {
			r = c.Resources()
			opt := func(name string) *string {
				if !ctx.IsSet(name) {
					return nil
				}
				v := ctx.String(name)
				return &v
			}
			u := libcontainer.UpdateValues{
				BlkioWeight: opt("blkio-weight"), CPUPeriod: opt("cpu-period"), CPUQuota: opt("cpu-quota"),
				CPUShares: opt("cpu-share"), CPURtPeriod: opt("cpu-rt-period"), CPURtRuntime: opt("cpu-rt-runtime"),
				CpusetCpus: opt("cpuset-cpus"), CpusetMems: opt("cpuset-mems"), Memory: opt("memory"),
				MemoryReservation: opt("memory-reservation"), MemorySwap: opt("memory-swap"), PidsLimit: opt("pids-limit"),
			}
			if err := u.Apply(r); err != nil {
				return err
			}
		}
		return c.Update(r)
	},
}
