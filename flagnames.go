package main

import "github.com/urfave/cli/v2"

// urfave/cli asks a flag for its names over and over while it parses one
// command line: for every flag of the command and of the app, and for
// every flag not given, again for each flag before it (runFlagActions
// calls IsSet, whose lookupFlag walks the flags asking each for its
// names). Its flag types answer with FlagNames, a regexp replacement per
// name (it strips a v1-style ", alias" suffix, which no flag of hull's
// has: TestStoredFlagNames). A `create` made 187 such calls, `start` 105
// (a perf probe on FlagNames), 0.67 µs and 4 allocations each in a warm
// benchmark, plus the backtracker's state (36 KB of a create's 350 KB of
// heap, each KB of it fresh pages: the commands end before any garbage
// collection).
//
// The wrappers below answer with the names computed once. Only Names is
// theirs; everything else is the urfave/cli flag's, so parsing, help and
// the man pages are unchanged. Their own Apply still calls FlagNames (once
// per flag and parse). A hidden bool flag stays unwrapped: urfave/cli's
// completion leaves out hidden flags only when they are *cli.BoolFlag.

// stored holds a wrapper's names; a flag without aliases keeps its one
// name in the wrapper itself (one allocation per wrapper).
type stored struct {
	names []string
	one   [1]string
}

// set is FlagNames for names without a ", ..." suffix.
func (s *stored) set(name string, aliases []string) {
	if len(aliases) == 0 {
		s.one[0] = name
		s.names = s.one[:]
		return
	}
	s.names = append([]string{name}, aliases...)
}

// Each wrapper needs its own Names: the flag's and stored's would be
// equally deep, and neither would be promoted.
type namedBool struct {
	*cli.BoolFlag
	stored
}
type namedString struct {
	*cli.StringFlag
	stored
}
type namedStringSlice struct {
	*cli.StringSliceFlag
	stored
}
type namedInt struct {
	*cli.IntFlag
	stored
}
type namedDuration struct {
	*cli.DurationFlag
	stored
}

func (f *namedBool) Names() []string        { return f.names }
func (f *namedString) Names() []string      { return f.names }
func (f *namedStringSlice) Names() []string { return f.names }
func (f *namedInt) Names() []string         { return f.names }
func (f *namedDuration) Names() []string    { return f.names }

// GetDefaultText: the help leaves out the default of a *cli.BoolFlag with
// DisableDefaultText (urfave/cli's own --help and --version), and only of
// that type; a wrapped one leaves it out by saying it has none.
func (f *namedBool) GetDefaultText() string {
	if f.DisableDefaultText {
		return ""
	}
	return f.BoolFlag.GetDefaultText()
}

// storeFlagNames wraps the flags of app and of its commands, and urfave/cli's
// help and version flags, which it adds to them.
func storeFlagNames(app *cli.App) {
	app.Flags = withStoredNames(app.Flags)
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.Flags = withStoredNames(c.Flags)
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	if f := withStoredNames([]cli.Flag{cli.HelpFlag, cli.VersionFlag}); len(f) == 2 {
		cli.HelpFlag, cli.VersionFlag = f[0], f[1]
	}
}

// withStoredNames returns flags with every flag of the types above
// wrapped, in place.
func withStoredNames(flags []cli.Flag) []cli.Flag {
	for i, f := range flags {
		var w interface {
			cli.Flag
			set(string, []string)
		}
		var name string
		var aliases []string
		switch f := f.(type) {
		case *cli.BoolFlag:
			if f.Hidden {
				continue
			}
			w, name, aliases = &namedBool{BoolFlag: f}, f.Name, f.Aliases
		case *cli.StringFlag:
			w, name, aliases = &namedString{StringFlag: f}, f.Name, f.Aliases
		case *cli.StringSliceFlag:
			w, name, aliases = &namedStringSlice{StringSliceFlag: f}, f.Name, f.Aliases
		case *cli.IntFlag:
			w, name, aliases = &namedInt{IntFlag: f}, f.Name, f.Aliases
		case *cli.DurationFlag:
			w, name, aliases = &namedDuration{DurationFlag: f}, f.Name, f.Aliases
		default:
			continue
		}
		w.set(name, aliases)
		flags[i] = w
	}
	return flags
}

// namesOf is f.Names() without urfave/cli's regexp for the flags left
// unwrapped (hidden bool flags).
func namesOf(f cli.Flag) []string {
	if b, ok := f.(*cli.BoolFlag); ok {
		return append([]string{b.Name}, b.Aliases...)
	}
	return f.Names()
}

// hasValue: the flag has a value ("--root DIR"), unlike a bool flag.
func hasValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}
