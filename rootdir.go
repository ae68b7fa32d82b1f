package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hullrt/hull/libcontainer/userns"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// defaultRoot is the default of --root, by runc's rule: /run/hull, or
// $XDG_RUNTIME_DIR/hull for a user that is not root (or root in a user
// namespace whose $USER is not root). xdg tells which it is.
func defaultRoot() (root string, xdg bool) {
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" && honorXDGRuntimeDir() {
		return filepath.Join(dir, "hull"), true
	}
	return "/run/hull", false
}

func honorXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if !userns.RunningInUserNS() {
		// Real root keeps /run/hull even when $XDG_RUNTIME_DIR is set
		// (/run/user/0), as runc keeps /run/runc.
		return false
	}
	u, ok := os.LookupEnv("USER")
	return !ok || u != "root"
}

// rootCommands are the commands that use the state directory.
var rootCommands = map[string]bool{
	"create": true, "run": true, "start": true, "state": true, "list": true, "kill": true, "delete": true,
	"exec": true, "wait": true, "pause": true, "resume": true, "ps": true, "events": true, "update": true,
}

// setupRoot prepares the default --root of a user: $XDG_RUNTIME_DIR/hull is
// created 0700 (with the sticky bit, which keeps the XDG runtime dir's
// cleaner off it, as runc does). A user without $XDG_RUNTIME_DIR and
// without --root gets an error naming both instead of a permission error
// on /run/hull.
func setupRoot(ctx *cli.Context, xdg bool) error {
	if ctx.IsSet("root") || !rootCommands[ctx.Args().First()] {
		return nil
	}
	root := ctx.String("root")
	if xdg {
		if err := os.MkdirAll(root, 0o700); err != nil {
			return fmt.Errorf("--root defaults to $XDG_RUNTIME_DIR/hull, which the user must be able to create: %w", err)
		}
		if err := os.Chmod(root, 0o700|os.ModeSticky); err != nil {
			return fmt.Errorf("--root defaults to $XDG_RUNTIME_DIR/hull: check the permissions of $XDG_RUNTIME_DIR: %w", err)
		}
		return nil
	}
	if os.Geteuid() == 0 {
		return nil
	}
	// /run/hull exists and is the user's, or nothing can be done there.
	dir := root
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		dir = filepath.Dir(root)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("--root: %s is not usable by uid %d (%w) and $XDG_RUNTIME_DIR is not set: give --root a directory of the user's, or set $XDG_RUNTIME_DIR", root, os.Geteuid(), err)
	}
	return nil
}
