package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
)

var updateFlags = []cli.Flag{
	&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "path to the file containing the resources to update or '-' to read from the standard input"},
	&cli.StringFlag{Name: "blkio-weight", Usage: "specifies per cgroup weight, range is from 10 to 1000"},
	&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"},
	&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"},
	&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period"},
	&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares (relative weight vs. other containers)"},
	&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"},
	&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"},
	&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPU(s) to use"},
	&cli.StringFlag{Name: "cpuset-mems", Usage: "memory node(s) to use"},
	&cli.StringFlag{Name: "kernel-memory", Usage: "(obsoleted; do not use)", Hidden: true},
	&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "(obsoleted; do not use)", Hidden: true},
	&cli.StringFlag{Name: "memory", Usage: "memory limit (in bytes)"},
	&cli.StringFlag{Name: "cpu-idle", Usage: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE"},
	&cli.StringFlag{Name: "memory-reservation", Usage: "memory reservation or soft_limit (in bytes)"},
	&cli.StringFlag{Name: "memory-swap", Usage: "total memory usage (memory + swap); set '-1' to enable unlimited swap"},
	&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of pids allowed in the container"},
	&cli.StringFlag{Name: "l3-cache-schema", Usage: "the string of Intel RDT/CAT L3 cache schema"},
	&cli.StringFlag{Name: "mem-bw-schema", Usage: "the string of Intel RDT/MBA memory bandwidth schema"},
}

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "update container resource constraints",
	ArgsUsage: "<container-id>",
	Flags:     updateFlags,
	Action: func(ctx *cli.Context) error {
		id, opt, err := updateOptions(ctx)
		if err != nil {
			return err
		}
		for _, name := range []string{"l3-cache-schema", "mem-bw-schema"} {
			if v := opt(name); v != nil && *v != "" {
				return fmt.Errorf("--%s: hull has no Intel RDT support", name)
			}
		}
		var r *specs.LinuxResources
		if f := opt("resources"); f != nil && *f != "" {
			in := os.Stdin
			if *f != "-" {
				if in, err = os.Open(*f); err != nil {
					return err
				}
				defer in.Close()
			}
			if r, err = readResources(in, *f); err != nil {
				return err
			}
		} else {
			u := updateValues{
				BlkioWeight: opt("blkio-weight"), CPUPeriod: opt("cpu-period"), CPUQuota: opt("cpu-quota"),
				CPUBurst: opt("cpu-burst"), CPUShares: opt("cpu-share"), CPURtPeriod: opt("cpu-rt-period"),
				CPURtRuntime: opt("cpu-rt-runtime"), CPUIdle: opt("cpu-idle"),
				CpusetCpus: opt("cpuset-cpus"), CpusetMems: opt("cpuset-mems"), Memory: opt("memory"),
				MemoryReservation: opt("memory-reservation"), MemorySwap: opt("memory-swap"),
				KernelMemory: opt("kernel-memory"), KernelMemoryTCP: opt("kernel-memory-tcp"),
				PidsLimit: opt("pids-limit"),
			}
			if r, err = u.Resources(); err != nil {
				return err
			}
		}
		if m := r.Memory; m != nil && (m.Kernel != nil || m.KernelTCP != nil) { //nolint:staticcheck // runc's warning for the obsolete fields
			slog.Warn("Kernel memory settings are ignored and will be removed")
		}
		c, err := runtimeOf(ctx).Load(id, true)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Update(r)
	},
}

// updateOptions returns the container id and the lookup of update's
// flags, wherever they were given: runc (urfave/cli v1) moves the flags
// that follow the container id in front of it, so `update ID --memory 1M`
// works there; urfave/cli v2 stops at the id and leaves the rest as
// arguments, which are parsed here with the same flags.
func updateOptions(ctx *cli.Context) (string, func(string) *string, error) {
	args := ctx.Args().Slice()
	set := flag.NewFlagSet(ctx.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range ctx.Command.Flags {
		if err := f.Apply(set); err != nil {
			return "", nil, err
		}
	}
	var positional []string
	if len(args) > 0 {
		positional = args[:1]
		for rest := args[1:]; len(rest) > 0; {
			if err := set.Parse(rest); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return "", nil, cli.ShowSubcommandHelp(ctx)
				}
				return "", nil, err
			}
			// An argument between flags: runc would move it aside
			// and count it.
			if rest = set.Args(); len(rest) > 0 {
				positional = append(positional, rest[0])
				rest = rest[1:]
			}
		}
	}
	if len(positional) != 1 {
		return "", nil, fmt.Errorf("%s: %s requires exactly 1 argument (the container id), got %d", ctx.Command.Name, ctx.Command.Name, len(positional))
	}
	given := map[string]bool{}
	set.Visit(func(f *flag.Flag) { given[f.Name] = true })
	byName := map[string]cli.Flag{}
	for _, f := range ctx.Command.Flags {
		for _, n := range namesOf(f) {
			byName[n] = f
		}
	}
	return positional[0], func(name string) *string {
		f := byName[name]
		if f == nil {
			return nil
		}
		// A flag after the id wins, as the later of two does in runc.
		for _, n := range namesOf(f) {
			if given[n] {
				v := set.Lookup(n).Value.String()
				return &v
			}
		}
		if !ctx.IsSet(name) {
			return nil
		}
		v := ctx.String(name)
		return &v
	}, nil
}
