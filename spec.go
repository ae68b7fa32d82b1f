package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hullrt/hull/libcontainer/config"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// cgroup2Unified reports whether /sys/fs/cgroup is the cgroup2 hierarchy
// (a pure cgroup v2 host), as runc's spec checks it.
func cgroup2Unified() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "create a new specification file",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the root of the bundle directory"},
		&cli.BoolFlag{Name: "rootless", Usage: "generate a configuration for a rootless container"},
	},
	Action: func(ctx *cli.Context) error {
		s := config.Default()
		if !cgroup2Unified() {
			// runc spec: a cgroup namespace only on a cgroup v2 host.
			// Configs written for runc add one themselves ("+= cgroup"),
			// which would be a duplicate here.
			ns := s.Linux.Namespaces[:0]
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.CgroupNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces = ns
		}
		if ctx.Bool("rootless") {
			config.ToRootless(s)
		}
		path := filepath.Join(ctx.String("bundle"), config.ConfigName)
		data, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("file %s exists: remove it first", path)
			}
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	},
}
