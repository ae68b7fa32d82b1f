//go:build gendocs

// Man pages and shell completions, generated from the command definitions
// so that they cannot drift from the CLI. Only a docs build has this:
//
//	go run -tags 'gendocs osusergo netgo' . gendocs OUTDIR
//
// writes OUTDIR/man/man8/hull.8 and hull-<command>.8, and
// OUTDIR/completions/{bash/hull,zsh/_hull,fish/hull.fish}.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

func init() {
	extraCommands = append(extraCommands, &cli.Command{
		Name:      "gendocs",
		Usage:     "write man pages and shell completions into a directory",
		ArgsUsage: "<outdir>",
		Hidden:    true,
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() != 1 {
				return fmt.Errorf("gendocs needs one output directory")
			}
			return genDocs(newApp(), ctx.Args().First())
		},
	})
}

func genDocs(app *cli.App, out string) error {
	files := map[string]string{
		"man/man8/hull.8":            manPage(app, nil),
		"completions/bash/hull":      bashCompletion(app),
		"completions/zsh/_hull":      zshCompletion(),
		"completions/fish/hull.fish": "",
	}
	fish, err := app.ToFishCompletion()
	if err != nil {
		return fmt.Errorf("fish completion: %w", err)
	}
	files["completions/fish/hull.fish"] = fish
	for _, c := range visible(app.Commands) {
		files["man/man8/hull-"+c.Name+".8"] = manPage(app, c)
	}
	for name, text := range files {
		p := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func visible(cs []*cli.Command) []*cli.Command {
	var v []*cli.Command
	for _, c := range cs {
		if !c.Hidden {
			v = append(v, c)
		}
	}
	sort.Slice(v, func(i, j int) bool { return v[i].Name < v[j].Name })
	return v
}

// roff escapes text for a man page line.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// flagNames returns a flag's spellings as --name, -n.
func flagNames(f cli.Flag) []string {
	var ns []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			ns = append(ns, "-"+n)
		} else {
			ns = append(ns, "--"+n)
		}
	}
	return ns
}

func visibleFlags(fs []cli.Flag) []cli.Flag {
	var v []cli.Flag
	for _, f := range fs {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
			continue
		}
		v = append(v, f)
	}
	return v
}

func manFlags(b *strings.Builder, fs []cli.Flag) {
	for _, f := range visibleFlags(fs) {
		b.WriteString(".TP\n")
		var names []string
		for _, n := range flagNames(f) {
			names = append(names, `\fB`+roff(n)+`\fR`)
		}
		line := strings.Join(names, ", ")
		if df, ok := f.(cli.DocGenerationFlag); ok && df.TakesValue() {
			line += ` \fIvalue\fR`
		}
		b.WriteString(line + "\n")
		usage := ""
		if df, ok := f.(cli.DocGenerationFlag); ok {
			usage = df.GetUsage()
			if d := df.GetDefaultText(); d != "" && d != "false" {
				usage += " (default: " + d + ")"
			} else if v := df.GetValue(); v != "" && df.TakesValue() {
				usage += " (default: " + v + ")"
			}
		}
		b.WriteString(roff(usage) + "\n")
	}
}

// manPage is hull(8) for c == nil, else hull-<c>(8).
func manPage(app *cli.App, c *cli.Command) string {
	var b strings.Builder
	ver, _, _ := strings.Cut(app.Version, "\n")
	if c == nil {
		fmt.Fprintf(&b, ".TH HULL 8 \"\" \"hull %s\" \"hull manual\"\n", roff(ver))
		b.WriteString(".SH NAME\nhull \\- " + roff(app.Usage) + "\n")
		b.WriteString(".SH SYNOPSIS\n\\fBhull\\fR [\\fIglobal options\\fR] \\fIcommand\\fR [\\fIcommand options\\fR] [\\fIarguments\\fR...]\n")
		b.WriteString(".SH DESCRIPTION\nhull is a low\\-level container runtime for the Open Container Initiative runtime specification, with runc's command line: containerd, podman, CRI\\-O and Docker drive it as they drive runc.\n")
		b.WriteString(".SH COMMANDS\n")
		for _, sc := range visible(app.Commands) {
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s (see \\fBhull\\-%s\\fR(8))\n", roff(sc.Name), roff(sc.Usage), roff(sc.Name))
		}
		b.WriteString(".SH GLOBAL OPTIONS\n")
		manFlags(&b, app.Flags)
		b.WriteString(".SH SEE ALSO\n")
		var refs []string
		for _, sc := range visible(app.Commands) {
			refs = append(refs, `\fBhull\-`+roff(sc.Name)+`\fR(8)`)
		}
		b.WriteString(strings.Join(refs, ", ") + "\n")
		return b.String()
	}
	fmt.Fprintf(&b, ".TH HULL\\-%s 8 \"\" \"hull %s\" \"hull manual\"\n", roff(strings.ToUpper(c.Name)), roff(ver))
	fmt.Fprintf(&b, ".SH NAME\nhull\\-%s \\- %s\n", roff(c.Name), roff(c.Usage))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fBhull %s\\fR [\\fIoptions\\fR] %s\n", roff(c.Name), roff(c.ArgsUsage))
	if c.Description != "" {
		b.WriteString(".SH DESCRIPTION\n")
		for _, l := range strings.Split(strings.TrimSpace(c.Description), "\n") {
			if strings.TrimSpace(l) == "" {
				b.WriteString(".PP\n")
				continue
			}
			b.WriteString(roff(strings.TrimSpace(l)) + "\n")
		}
	}
	if fs := visibleFlags(c.Flags); len(fs) > 0 {
		b.WriteString(".SH OPTIONS\n")
		manFlags(&b, fs)
	}
	b.WriteString(".SH SEE ALSO\n\\fBhull\\fR(8)\n")
	return b.String()
}

// bashCompletion completes commands, then each command's flags, then
// container ids (from `hull list -q`) where the command takes one.
func bashCompletion(app *cli.App) string {
	var b strings.Builder
	b.WriteString("# bash completion for hull, generated from its command definitions\n")
	var cmds, global []string
	for _, c := range visible(app.Commands) {
		cmds = append(cmds, c.Name)
	}
	for _, f := range visibleFlags(app.Flags) {
		global = append(global, flagNames(f)...)
	}
	global = append(global, "--help", "--version")
	// Global flags that take a value: the word after one is not the command.
	var valued []string
	for _, f := range visibleFlags(app.Flags) {
		if df, ok := f.(cli.DocGenerationFlag); ok && df.TakesValue() {
			valued = append(valued, flagNames(f)...)
		}
	}
	b.WriteString("_hull() {\n\tlocal cur cmd i\n\tcur=${COMP_WORDS[COMP_CWORD]}\n\tcmd=\n")
	fmt.Fprintf(&b, "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n\t\tcase ${COMP_WORDS[i]} in\n\t\t%s) ((i++)) ;;\n\t\t-*) ;;\n\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n\t\tesac\n\tdone\n", strings.Join(valued, "|"))
	b.WriteString("\tcase $cmd in\n")
	fmt.Fprintf(&b, "\t\"\")\n\t\tCOMPREPLY=($(compgen -W %q -- \"$cur\")) ;;\n", strings.Join(append(cmds, global...), " "))
	for _, c := range visible(app.Commands) {
		var fl []string
		for _, f := range visibleFlags(c.Flags) {
			fl = append(fl, flagNames(f)...)
		}
		fl = append(fl, "--help")
		ids := ""
		if strings.Contains(c.ArgsUsage, "container-id") {
			ids = " $(hull list -q 2>/dev/null)"
		}
		fmt.Fprintf(&b, "\t%s)\n\t\tif [[ $cur == -* ]]; then COMPREPLY=($(compgen -W %q -- \"$cur\")); else COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); fi ;;\n",
			c.Name, strings.Join(fl, " "), strings.TrimSpace(ids))
	}
	b.WriteString("\tesac\n}\ncomplete -F _hull hull\n")
	return b.String()
}

// zshCompletion reuses the bash function through bashcompinit.
func zshCompletion() string {
	return "#compdef hull\n# zsh completion for hull: the generated bash completion, through bashcompinit\nautoload -U +X bashcompinit && bashcompinit\nfor f in ${^fpath}/../bash-completion/completions/hull(N) /usr/share/bash-completion/completions/hull(N) /usr/local/share/bash-completion/completions/hull(N); do source $f && break; done\n"
}
