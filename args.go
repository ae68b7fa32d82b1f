package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// runc parses its command line with urfave/cli v1, which, for every
// command but exec and ps, moves the command's flags that follow the
// positional arguments in front of them before parsing ("runc delete ID
// --force" deletes with force). urfave/cli v2 stops at the first
// positional argument, so reorderArgs does v1's moving first, the same way
// v1 does it, quirks included: a value-less flag also takes the argument
// after it along ("kill ID --all KILL" becomes "kill --all KILL ID"), and
// nothing after "--" moves.

// noReorder are the commands whose arguments runc leaves in place: the
// process's own arguments follow the container id.
var noReorder = map[string]bool{"exec": true, "ps": true}

// reorderArgs returns argv (os.Args) with the flags of its command moved in
// front of the command's positional arguments. The global flags before the
// command stay where they are.
func reorderArgs(app *cli.App, argv []string) []string {
	if len(argv) < 2 {
		return argv
	}
	i := commandIndex(app.Flags, argv)
	if i < 0 {
		return argv
	}
	cmd := app.Command(argv[i])
	if cmd == nil || cmd.SkipFlagParsing || noReorder[cmd.Name] || len(cmd.Subcommands) > 0 {
		return argv
	}
	names := flagNameSet(cmd.Flags)
	names["help"], names["h"] = true, true // every command's --help
	out := append([]string{}, argv[:i+1]...)
	args := reorder(names, argv[i+1:])
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--h" || a == "-help" || a == "--help" {
			// v1 prints the command's help whatever else is there;
			// v2 would take a positional argument for a help topic.
			return append(out, "--help")
		}
	}
	return append(out, args...)
}

// commandIndex is the index in argv of the command name: the first
// argument that is neither a global flag nor a global flag's value.
func commandIndex(global []cli.Flag, argv []string) int {
	takesValue := map[string]bool{}
	for _, f := range global {
		if !hasValue(f) {
			continue
		}
		for _, n := range namesOf(f) {
			takesValue[n] = true
		}
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return -1
		case a == "-" || !strings.HasPrefix(a, "-"):
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if takesValue[name] && !hasValue {
			i++
		}
	}
	return -1
}

// flagNameSet is the set of every name (and alias) of flags.
func flagNameSet(flags []cli.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		for _, n := range namesOf(f) {
			m[n] = true
		}
	}
	return m
}

// reorder is urfave/cli v1's reorderArgs: the command's flags (and the
// argument after each flag given without "=", unless that is a flag too)
// first, in their order, then the rest; from "--" on nothing moves, and
// "--" goes in front of the rest.
func reorder(names map[string]bool, args []string) []string {
	var flags, rest []string
	valueNext := false
	for i, a := range args {
		switch {
		case valueNext && !isFlag(names, a):
			valueNext = false
			flags = append(flags, a)
		case a == "--":
			rest = append([]string{"--"}, rest...)
			rest = append(rest, args[i+1:]...)
			return append(flags, rest...)
		case isFlag(names, a):
			flags = append(flags, a)
			valueNext = !strings.Contains(a, "=")
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

// isFlag reports whether a names one of the command's flags ("-x", "--x",
// "--x=v").
func isFlag(names map[string]bool, a string) bool {
	if a == "-" || a == "--" || !strings.HasPrefix(a, "-") {
		return false
	}
	a = strings.TrimPrefix(strings.TrimPrefix(a, "--"), "-")
	name, _, _ := strings.Cut(a, "=")
	return names[name]
}
