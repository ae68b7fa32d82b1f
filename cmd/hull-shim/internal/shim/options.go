// Package shim is hull-shim's work: it runs on the host, outside any
// container, as the parent (a child subreaper) of one container's init,
// which it starts through hull create and start. It holds the container's
// stdio (CRI log, attach sockets, the pty master), forwards signals, and
// records the exit in state.json (store) under shim.lock, with the OOM
// kill count from the container's cgroup (cgroups). The command's doc
// (cmd/hull-shim) describes its command line and protocols. It is built
// without cgo and links none of libcontainer's container code.
package shim

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

func (m *multiFlag) String() string { return strings.Join(*m, " ") }

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

// Main is hull-shim's command: the first invocation (foreground) or the
// detached shim it starts (daemon). It returns the exit status.
func Main(args []string) int {
	o, err := parse(args)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(os.Stderr, "hull-shim:", err)
		return 2
	}
	if v, ok := os.LookupEnv(daemonEnv); ok {
		os.Unsetenv(daemonEnv)
		for _, name := range strings.Split(v, ",") {
			if name != "" {
				os.Unsetenv(name)
			}
		}
		return daemon(o)
	}
	return foreground(o)
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
	// A small process: one P, a GC that keeps the heap near its live size,
	// and no transparent huge pages for the heap: where THP is "always"
	// (the kernel's default on some distributions; our VM guests), the
	// first touch of the heap arena made a 2 MB page, and an idle shim
	// held 3.4 MB instead of 2.1 MB. The detached shim takes these out of
	// its environment again: hull and the exit command do not get them.
	env := os.Environ()
	var added []string
	for _, kv := range [][2]string{{"GOMAXPROCS", "1"}, {"GOGC", "50"}, {"GODEBUG", "disablethp=1"}} {
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
