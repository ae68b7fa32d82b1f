package main

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"
)

// unwrapped is the urfave/cli flag inside one of flagnames.go's wrappers
// (nil if f is none).
func unwrapped(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *namedBool:
		return f.BoolFlag
	case *namedString:
		return f.StringFlag
	case *namedStringSlice:
		return f.StringSliceFlag
	case *namedInt:
		return f.IntFlag
	case *namedDuration:
		return f.DurationFlag
	}
	return nil
}

// TestStoredFlagNames: every flag of hull's (global, per command, and
// urfave/cli's help and version flags) is wrapped, but for hidden bool
// flags; each wrapper gives the names urfave/cli's own Names gives (its
// regexp included) and the same line of help.
func TestStoredFlagNames(t *testing.T) {
	app := newApp()
	flags := append([]cli.Flag{cli.HelpFlag, cli.VersionFlag}, app.Flags...)
	for _, c := range app.Commands {
		flags = append(flags, c.Flags...)
	}
	if len(flags) < 50 {
		t.Fatalf("only %d flags: the test looks at too little", len(flags))
	}
	wrapped := 0
	for _, f := range flags {
		inner := unwrapped(f)
		if inner == nil {
			if b, ok := f.(*cli.BoolFlag); ok && b.Hidden {
				if got, want := namesOf(f), f.Names(); !reflect.DeepEqual(got, want) {
					t.Errorf("namesOf(%s) = %q, Names() = %q", f.Names()[0], got, want)
				}
				continue
			}
			t.Errorf("flag %q (%T) is not wrapped: urfave/cli would run a regexp for its names on every lookup", f.Names()[0], f)
			continue
		}
		wrapped++
		if got, want := f.Names(), inner.Names(); !reflect.DeepEqual(got, want) {
			t.Errorf("stored names %q, urfave/cli's %q", got, want)
		}
		if got, want := cli.FlagStringer(f), cli.FlagStringer(inner); got != want {
			t.Errorf("help line %q, urfave/cli's %q", got, want)
		}
		if got, want := hasValue(f), inner.(cli.DocGenerationFlag).TakesValue(); got != want {
			t.Errorf("%s: hasValue %v, TakesValue %v", f.Names()[0], got, want)
		}
	}
	if wrapped < 50 {
		t.Errorf("only %d flags wrapped", wrapped)
	}
	// newApp twice (as the tests do) wraps the help flag once.
	newApp()
	if unwrapped(unwrapped(cli.HelpFlag)) != nil || unwrapped(cli.HelpFlag) == nil {
		t.Errorf("help flag %T", cli.HelpFlag)
	}
}
