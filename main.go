// Command hull is an OCI container runtime with runc's command line.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	_ "github.com/hullrt/hull/internal/mainstack" // its init runs first: see its doc
	_ "github.com/hullrt/hull/internal/oneproc"
	_ "github.com/hullrt/hull/internal/prefault"
	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/initproc"
	_ "github.com/hullrt/hull/libcontainer/preinit"
	"github.com/urfave/cli/v2"
)

// Set by the Makefile.
var (
	version = "0.1.0-dev"
	commit  = ""
)

func main() {
	if initproc.IsInit() {
		// Re-executed as a container's init: no CLI, no logging set-up.
		initproc.Init()
	}
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		var ec cli.ExitCoder
		if errors.As(err, &ec) && ec.Error() == "" {
			os.Exit(ec.ExitCode())
		}
		var ce *codeError
		if errors.As(err, &ce) {
			fatalWithCode(ce.err, ce.code)
		}
		fatal(err)
	}
}

// codeError is an error that makes hull exit with code instead of 1.
type codeError struct {
	err  error
	code int
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// fatal reports err the way runc does: in the log (callers such as
// containerd read the last error line of --log) and on stderr.
func fatal(err error) { fatalWithCode(err, 1) }

func fatalWithCode(err error, code int) {
	slog.Error(err.Error())
	if logToFile {
		fmt.Fprintln(os.Stderr, errorLine(err.Error()))
	}
	os.Exit(code)
}

var logToFile bool

func newApp() *cli.App {
	v := version
	if commit != "" {
		v += "\ncommit: " + commit
	}
	v += "\nspec: " + specVersion()
	root, xdgRoot := defaultRoot()
	app := &cli.App{
		// As runc's CLI: a repeated flag gives one value per use, never
		// split on commas (exec --env A=1,2; --cgroup cpu,cpuacct:sub).
		DisableSliceFlagSeparator: true,
		Name:                      "hull",
		Usage:                     "Open Container Initiative runtime",
		Version:                   v,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
			&cli.StringFlag{Name: "log", Usage: "set the log file to write hull logs to (default is stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "set the log format ('text' (default), or 'json')"},
			&cli.StringFlag{Name: "root", Value: root, Usage: "root directory for storage of container state (this should be located in tmpfs)"},
			&cli.StringFlag{Name: "criu", Value: "criu", Usage: "path to the criu binary used for checkpoint and restore", Hidden: true},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\""},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false', or 'auto')"},
		},
		Before: func(ctx *cli.Context) error {
			if err := setup(ctx); err != nil {
				return err
			}
			return setupRoot(ctx, xdgRoot)
		},
		Commands:             commands(),
		EnableBashCompletion: true,
		// Errors are printed by fatal, once.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	storeFlagNames(app)
	return app
}

// extraCommands are added by other builds (docs_gen.go, -tags gendocs).
var extraCommands []*cli.Command

func commands() []*cli.Command {
	return append([]*cli.Command{
		specCommand, createCommand, startCommand, runCommand, stateCommand,
		listCommand, killCommand, deleteCommand, execCommand, featuresCommand,
		waitCommand, pauseCommand, resumeCommand, psCommand, eventsCommand, updateCommand,
		checkpointCommand, restoreCommand,
	}, extraCommands...)
}

func setup(ctx *cli.Context) error {
	level := slog.LevelWarn
	if ctx.Bool("debug") {
		level = slog.LevelDebug
	}
	var w io.Writer = os.Stderr
	if p := ctx.String("log"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file %s: %w", p, err)
		}
		w = f
		logToFile = true
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: logAttr}
	switch ctx.String("log-format") {
	case "text":
		slog.SetDefault(slog.New(&prefixHandler{slog.NewTextHandler(w, opts), !logToFile}))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(w, opts)))
	default:
		return fmt.Errorf("unknown log-format %q (want text or json)", ctx.String("log-format"))
	}
	if ctx.Args().Present() {
		slog.Debug("hull "+ctx.Args().First(), "version", version, "root", ctx.String("root"), "pid", os.Getpid())
	}
	cgroups.UseSystemd(ctx.Bool("systemd-cgroup"))
	switch ctx.String("rootless") {
	case "auto", "true", "false":
	default:
		return fmt.Errorf("invalid --rootless value %q (want true, false or auto)", ctx.String("rootless"))
	}
	return nil
}

// logAttr gives log lines runc's shape: {"level":"error","msg":…,"time":…}
// with a lowercase level and an RFC 3339 time.
func logAttr(groups []string, a slog.Attr) slog.Attr {
	switch a.Key {
	case slog.LevelKey:
		l := strings.ToLower(a.Value.String())
		if l == "warn" {
			l = "warning" // logrus's word, which runc's callers know
		}
		return slog.String(slog.LevelKey, l)
	case slog.TimeKey:
		return slog.String(slog.TimeKey, a.Value.Time().Format(time.RFC3339Nano))
	}
	return a
}
