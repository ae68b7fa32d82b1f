// Command hull-shim watches one container for its whole life, without a
// daemon: it creates and starts the container through hull, stays its
// parent (a child subreaper), holds its stdio, and records how it ended.
//
// # Command line
//
//	hull-shim --id ID --bundle DIR [--root DIR] [--runtime PATH]
//	          [--runtime-arg A]... [--create-arg A]...
//	          [--log-file F [--log-size-max BYTES]]
//	          [--stdin] [--stdin-fd N] [--stdout-fd N] [--stderr-fd N] [--direct-stdio]
//	          [--console-socket S]
//	          [--attach-socket PATH]
//	          [--exit-file F] [--exit-command CMD [--exit-command-arg A]...]
//	          [--pid-file F] [--shim-pid-file F] [--shim-log F] [--restore]
//
// The invocation returns once the container has started (exit 0), or with
// the error that stopped its create or start (the same text hull prints, on
// stderr, exit 1; nothing is left behind). The shim itself has detached
// before that: it runs in a new session, so the death of its caller does
// not touch it. --runtime defaults to "hull" next to the shim's executable,
// then to "hull" in $PATH; --runtime-arg adds global flags (before the
// command), --create-arg flags of create. With --restore the container
// comes from a checkpoint: the shim runs `hull restore --detach` (with the
// --create-arg flags) instead of create and start, and adopts the restored
// init, which criu made restore's child, when restore exits.
//
// # Output
//
// Without a terminal the container's stdout and stderr are pipes the shim
// reads. Each stream goes to the --log-file in the CRI format, one record a
// line:
//
//	2026-01-02T15:04:05.999999999+01:00 stdout F a complete line
//	2026-01-02T15:04:05.999999999+01:00 stderr P a line cut here (no newline yet)
//
// and, raw, to --stdout-fd/--stderr-fd when given. With --direct-stdio the
// container gets the --stdin-fd/--stdout-fd/--stderr-fd fds themselves
// (/dev/null for those not given), as runc run -d gives the caller's; the
// shim closes its copies once create has passed them on, and sees none of
// the container's output. With --log-size-max the
// log is rotated before it would grow past that many bytes: the current log
// becomes F.1 (replacing the previous F.1) and a new F is started. The
// container's stdin is /dev/null, a pipe fed by attach clients with --stdin,
// or the fd given by --stdin-fd.
//
// With "terminal": true in config.json the shim passes create a console
// socket of its own, receives the pty master, and logs what the terminal
// prints as stdout; attach clients type into the terminal. --console-socket
// instead hands the pty to the caller's socket (then the shim holds none).
//
// # Attach protocol
//
// --attach-socket PATH makes two unix stream sockets:
//
//   - PATH: each connection gets the container's output (stdout and stderr
//     interleaved, raw bytes) from the moment it connected on; what the
//     client writes goes to the container's stdin (the pty, or the --stdin
//     pipe; it is dropped otherwise). A client that does not keep up (about
//     256 reads behind) is disconnected rather than slowing the container.
//     At exit every client reads EOF once the output is drained.
//   - PATH.ctl: line commands, each answered by "ok\n" or "error TEXT\n":
//     "resize ROWS COLS" sets the pty's window size, "close-stdin" closes the
//     container's stdin pipe (the container reads EOF), "reopen-log" reopens
//     --log-file (after an outside rotation).
//
// # Signals
//
// Every signal the shim gets (SIGTERM, SIGINT, SIGHUP, SIGUSR1, ...) is
// forwarded to the container's init, except SIGCHLD, SIGPIPE and SIGURG,
// which are the shim's own. --shim-pid-file tells the shim's pid.
//
// # Exit
//
// When the init exits the shim reaps it (and every orphan), waits for the
// output to drain (at most 2s after the exit) and ends the attach clients,
// writes the code to --exit-file (atomically), and records the status under
// the container's lock in its state.json ("exit": code, 128+N for a death
// by signal N, whether the container's memory cgroup saw an OOM kill, the
// time), where `hull state` and `hull wait` read it. While it watches, it
// holds an exclusive flock on shim.lock in the state directory, released
// right after the record: `hull wait` sleeps on it, so when wait returns
// the log, the exit file and the record are all written. It then runs
// --exit-command (which may itself call `hull wait`), reaps what exited
// meanwhile, and exits. A second shim for the same id fails as create does
// ("already exists"). If the shim is killed the container goes on; `hull
// wait` then reports the exit status as unknown, `hull delete` works as
// ever.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// daemonEnv marks the detached re-execution of the shim; its value lists
// the environment variables the first invocation added for it.
const daemonEnv = "_HULL_SHIM_DAEMON"

// Fds of the detached shim: the status pipe to the first invocation, then
// the stdio fds passed through (absent ones are closed).
const (
	statusFd      = 3
	stdinPassFd   = 4
	stdoutPassFd  = 5
	stderrPassFd  = 6
	firstFreeFd   = 7
	defaultRoot   = "/run/hull"
	defaultMaxLog = 0
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	id, bundle, root, runtime string
	runtimeArgs, createArgs   multiFlag
	logFile                   string
	logSizeMax                int64
	stdin                     bool
	stdinFd, stdoutFd         int
	stderrFd                  int
	directStdio               bool
	consoleSocket             string
	attachSocket              string
	exitFile                  string
	exitCommand               string
	exitCommandArgs           multiFlag
	pidFile, shimPidFile      string
	shimLog                   string
	restore                   bool
}

func parse(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("hull-shim", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(&o.id, "id", "", "container id (required)")
	fs.StringVar(&o.bundle, "bundle", "", "bundle directory (required)")
	fs.StringVar(&o.root, "root", defaultRoot, "hull's --root")
	fs.StringVar(&o.runtime, "runtime", "", "the hull binary (default: hull next to hull-shim, then $PATH)")
	fs.Var(&o.runtimeArgs, "runtime-arg", "a global flag for hull (repeatable)")
	fs.Var(&o.createArgs, "create-arg", "a flag for hull create (repeatable)")
	fs.StringVar(&o.logFile, "log-file", "", "log the container's output here in the CRI format")
	fs.Int64Var(&o.logSizeMax, "log-size-max", defaultMaxLog, "rotate the log before it exceeds this many bytes (0: never)")
	fs.BoolVar(&o.stdin, "stdin", false, "keep the container's stdin open as a pipe fed by attach clients")
	fs.IntVar(&o.stdinFd, "stdin-fd", -1, "give the container this fd as its stdin")
	fs.IntVar(&o.stdoutFd, "stdout-fd", -1, "copy the container's stdout to this fd")
	fs.IntVar(&o.stderrFd, "stderr-fd", -1, "copy the container's stderr to this fd")
	fs.BoolVar(&o.directStdio, "direct-stdio", false, "give the container the --stdin-fd, --stdout-fd and --stderr-fd fds themselves (/dev/null for those not given), as runc run -d does: nothing is copied or logged")
	fs.StringVar(&o.consoleSocket, "console-socket", "", "pass this console socket to create (the shim then holds no pty)")
	fs.StringVar(&o.attachSocket, "attach-socket", "", "listen for attach clients here (and on PATH.ctl)")
	fs.StringVar(&o.exitFile, "exit-file", "", "write the exit code here")
	fs.StringVar(&o.exitCommand, "exit-command", "", "run this after the container exited")
	fs.Var(&o.exitCommandArgs, "exit-command-arg", "an argument of --exit-command (repeatable)")
	fs.StringVar(&o.pidFile, "pid-file", "", "write the container's init pid here")
	fs.StringVar(&o.shimPidFile, "shim-pid-file", "", "write the shim's pid here")
	fs.StringVar(&o.shimLog, "shim-log", "", "the shim's own diagnostics after it detached (default: none)")
	fs.BoolVar(&o.restore, "restore", false, "restore the container from a checkpoint (hull restore --detach with the --create-arg flags) instead of create and start")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.id == "" || o.bundle == "" {
		return nil, fmt.Errorf("--id and --bundle are required")
	}
	if strings.ContainsAny(o.id, "/\x00") || o.id == "." || o.id == ".." {
		return nil, fmt.Errorf("invalid container id %q", o.id)
	}
	if o.logSizeMax < 0 {
		return nil, fmt.Errorf("--log-size-max must not be negative")
	}
	if o.stdin && o.stdinFd >= 0 {
		return nil, fmt.Errorf("--stdin and --stdin-fd exclude each other")
	}
	if o.directStdio && (o.stdin || o.logFile != "" || o.attachSocket != "") {
		return nil, fmt.Errorf("--direct-stdio excludes --stdin, --log-file and --attach-socket (the shim sees none of the container's stdio)")
	}
	if o.exitCommand == "" && len(o.exitCommandArgs) > 0 {
		return nil, fmt.Errorf("--exit-command-arg needs --exit-command")
	}
	for _, p := range []*string{&o.bundle, &o.root, &o.logFile, &o.consoleSocket, &o.attachSocket, &o.exitFile, &o.pidFile, &o.shimPidFile, &o.shimLog} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	if o.runtime == "" {
		o.runtime = defaultRuntime()
	} else if strings.Contains(o.runtime, "/") {
		abs, err := filepath.Abs(o.runtime)
		if err != nil {
			return nil, err
		}
		o.runtime = abs
	} else if p, err := exec.LookPath(o.runtime); err == nil {
		o.runtime = p
	}
	return o, nil
}

func defaultRuntime() string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "hull")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("hull"); err == nil {
		return p
	}
	return "hull"
}

func main() {
	o, err := parse(os.Args[1:])
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "hull-shim:", err)
		os.Exit(2)
	}
	if v, ok := os.LookupEnv(daemonEnv); ok {
		os.Unsetenv(daemonEnv)
		for _, name := range strings.Split(v, ",") {
			if name != "" {
				os.Unsetenv(name)
			}
		}
		os.Exit(daemon(o))
	}
	os.Exit(foreground(o))
}

// foreground starts the detached shim and waits for its word: the
// container started, or why not.
func foreground(o *options) int {
	if _, err := os.Stat(o.runtime); err != nil {
		fmt.Fprintf(os.Stderr, "hull-shim: runtime %s: %v\n", o.runtime, err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hull-shim:", err)
		return 1
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hull-shim:", err)
		return 1
	}
	out := null
	if o.shimLog != "" {
		if out, err = os.OpenFile(o.shimLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640); err != nil {
			fmt.Fprintln(os.Stderr, "hull-shim: --shim-log:", err)
			return 1
		}
	}
	pass := func(fd int) *os.File {
		if fd < 0 {
			return nil
		}
		return os.NewFile(uintptr(fd), "fd"+strconv.Itoa(fd))
	}
	// A small process: one P, and a GC that keeps the heap near its live size.
	env := os.Environ()
	var added []string
	for _, kv := range [][2]string{{"GOMAXPROCS", "1"}, {"GOGC", "50"}} {
		if _, ok := os.LookupEnv(kv[0]); !ok {
			env = append(env, kv[0]+"="+kv[1])
			added = append(added, kv[0])
		}
	}
	env = append(env, daemonEnv+"="+strings.Join(added, ","))
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	// The detached shim outlives this invocation: it must hold none of
	// the caller's fds unless it forwards the container's stdio through
	// them. With a terminal the container's stdio is the pty, so a caller
	// reading our output (out=$(hull run -d …)) gets EOF when we return,
	// as with runc.
	stdio := []*os.File{pass(o.stdinFd), pass(o.stdoutFd), pass(o.stderrFd)}
	if o.consoleSocket != "" || wantsTerminal(o.bundle) {
		stdio = []*os.File{nil, nil, nil}
	}
	// Nor any other fd this invocation inherited (its caller's, e.g. a
	// pipe a script waits on for EOF): only what ExtraFiles names goes on.
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) != nil { // before 5.11
		if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
			for _, e := range ents {
				if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
					unix.CloseOnExec(fd)
				}
			}
		}
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        os.Args,
		Env:         env,
		Stdin:       null,
		Stdout:      out,
		Stderr:      out,
		ExtraFiles:  append([]*os.File{w}, stdio...),
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "hull-shim: start the shim:", err)
		return 1
	}
	w.Close()
	msg := make([]byte, 0, 512)
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		msg = append(msg, buf[:n]...)
		if err != nil {
			break
		}
	}
	s := string(msg)
	if strings.HasPrefix(s, "ok ") {
		return 0 // the shim goes on without us
	}
	werr := cmd.Wait() // the shim leaves after a failure report
	if _, ok := strings.CutPrefix(s, "error-shown\n"); ok {
		return 1 // hull create printed it on the caller's stderr
	}
	if text, ok := strings.CutPrefix(s, "error\n"); ok {
		text = strings.TrimRight(text, "\n")
		if !strings.HasPrefix(text, "hull ") {
			// hull's run errors name hull already ("hull run failed: …").
			text = "hull-shim: " + text
		}
		fmt.Fprintln(os.Stderr, text)
		return 1
	}
	fmt.Fprintf(os.Stderr, "hull-shim: the shim ended before the container started (%v)\n", werr)
	return 1
}
