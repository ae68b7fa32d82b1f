package shim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hullrt/hull/internal/idlemem"
	"github.com/hullrt/hull/internal/proc"
	"github.com/hullrt/hull/internal/unixsock"
	"github.com/hullrt/hull/libcontainer/store"
	"golang.org/x/sys/unix"
)

// drainGrace bounds how long the output may keep flowing after the init
// exited (processes left in a container without its own pid namespace can
// hold the pipes forever).
const drainGrace = 2 * time.Second

type shim struct {
	o    *options
	logf func(format string, args ...any)
	sigs chan os.Signal
	tmp  string // private dir: console socket, create's log, pid file

	pid       int    // the container's init
	startTime uint64 // of the init, as state.json has it
	pidfd     int

	out    *output
	stdin  *os.File // the container's stdin pipe or pty master, if ours
	pty    *os.File
	attach *attachServer
	lockFd int // shim.lock, flocked
	oom    *oomWatch
}

func daemon(o *options) int {
	status := os.NewFile(statusFd, "status")
	for fd := statusFd; fd < firstFreeFd; fd++ {
		unix.CloseOnExec(fd)
	}
	s := &shim{o: o, pidfd: -1, lockFd: -1}
	s.logf = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s hull-shim[%d] %s: %s\n", time.Now().Format(time.RFC3339Nano), os.Getpid(), o.id, fmt.Sprintf(format, args...))
	}
	report := func(msg string) {
		if _, err := status.WriteString(msg); err != nil {
			s.logf("report to the caller: %v", err) // it may be gone: no matter
		}
		status.Close()
	}
	os.Chdir("/")
	// Signals are ours from now on: none meant for the container may kill
	// the shim, and each is forwarded once the container runs.
	s.sigs = make(chan os.Signal, 64)
	signal.Notify(s.sigs)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		report("error\nbecome child subreaper: " + err.Error())
		return 1
	}
	if o.shimPidFile != "" {
		if err := store.WriteFileAtomic(o.shimPidFile, []byte(strconv.Itoa(os.Getpid()))); err != nil {
			report("error\n--shim-pid-file: " + err.Error())
			return 1
		}
	}
	if err := s.createAndStart(); err != nil {
		if o.shimPidFile != "" {
			os.Remove(o.shimPidFile)
		}
		s.logf("%v", err)
		var shown *shownError
		if errors.As(err, &shown) {
			report("error-shown\n" + err.Error())
		} else {
			report("error\n" + err.Error())
		}
		return 1
	}
	report("ok " + strconv.Itoa(s.pid) + "\n")
	// No debug.FreeOSMemory here, although create and start left garbage:
	// it is small (~140 kB allocated in all), and a GC costs the idle shim
	// more than it frees: its mark bits and work buffers stay (~340 kB of
	// a Go process that ran one), and once one GC ran the runtime forces
	// another every 2 minutes, which runs through code and metadata the
	// idle shim would not touch (measured: 2.7 MB RSS after 1 s, 4.2 MB
	// after 130 s with it; 2.4 MB at both without, 2.1 MB since
	// internal/idlemem reads smaps as a stream).
	ws := s.waitInit()
	s.finish(ws)
	return 0
}

// hull runs the runtime with the global flags before args.
func (s *shim) hull(args ...string) *exec.Cmd {
	all := []string{"--root", s.o.root, "--log", filepath.Join(s.tmp, "hull.log"), "--log-format", "json"}
	all = append(all, s.o.runtimeArgs...)
	return exec.Command(s.o.runtime, append(all, args...)...)
}

// createAndStart runs `hull create` with the container's stdio and `hull
// start`. On error nothing of the container is left.
func (s *shim) createAndStart() (err error) {
	o := s.o
	if s.tmp, err = os.MkdirTemp("", "hull-shim-"); err != nil {
		return err
	}
	defer os.RemoveAll(s.tmp)
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	pidFile := filepath.Join(s.tmp, "init.pid")
	args := []string{"create"}
	if o.restore {
		args = []string{"restore", "--detach"}
	}
	args = append(args, "--bundle", o.bundle, "--pid-file", pidFile)
	var consoleL *listener
	ptyc := make(chan ptyResult, 1)
	switch {
	case o.consoleSocket != "":
		args = append(args, "--console-socket", o.consoleSocket)
	case wantsTerminal(o.bundle):
		sock := filepath.Join(s.tmp, "console.sock")
		if consoleL, err = listenUnix(sock); err != nil {
			return fmt.Errorf("console socket: %w", err)
		}
		defer consoleL.close()
		go func() { f, err := receivePty(consoleL); ptyc <- ptyResult{f, err} }()
		args = append(args, "--console-socket", sock)
	}
	args = append(append(args, o.createArgs...), o.id)
	cmd := s.hull(args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	var streams []stream
	var childEnds []*os.File
	closeChildEnds := func() {
		for _, f := range childEnds {
			f.Close()
		}
		childEnds = nil
	}
	defer closeChildEnds()
	// Whether create writes on the caller's own stderr: then its error
	// need not be repeated.
	callerStderr := consoleL == nil && o.consoleSocket == "" && o.directStdio && o.stderrFd >= 0
	if consoleL == nil && o.consoleSocket == "" && o.directStdio {
		// The caller's fds themselves, as runc run -d passes them;
		// ours are closed as soon as create has passed them on.
		for i, fd := range []int{o.stdinFd, o.stdoutFd, o.stderrFd} {
			f := null
			if fd >= 0 {
				f = os.NewFile(uintptr(stdinPassFd+i), []string{"stdin", "stdout", "stderr"}[i])
				childEnds = append(childEnds, f)
			}
			switch i {
			case 0:
				cmd.Stdin = f
			case 1:
				cmd.Stdout = f
			default:
				cmd.Stderr = f
			}
		}
	} else if consoleL == nil && o.consoleSocket == "" {
		switch {
		case o.stdinFd >= 0:
			cmd.Stdin = os.NewFile(stdinPassFd, "stdin")
			childEnds = append(childEnds, cmd.Stdin.(*os.File))
		case o.stdin:
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			cmd.Stdin, s.stdin = r, w
			childEnds = append(childEnds, r)
		}
		for i, name := range []string{"stdout", "stderr"} {
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			childEnds = append(childEnds, w)
			st := stream{name: name, r: r}
			if fd := []int{o.stdoutFd, o.stderrFd}[i]; fd >= 0 {
				st.raw = os.NewFile(uintptr(stdoutPassFd+i), name)
			}
			streams = append(streams, st)
			if i == 0 {
				cmd.Stdout = w
			} else {
				cmd.Stderr = w
			}
		}
	}
	defer func() {
		if err != nil {
			for _, st := range streams {
				st.r.Close()
			}
			if s.stdin != nil {
				s.stdin.Close()
			}
		}
	}()
	runErr := cmd.Run()
	closeChildEnds()
	if runErr != nil {
		err := s.hullError(runErr, streams)
		if callerStderr {
			// create's stderr was the caller's: it said why already.
			// (With a console socket it was not: the error comes from
			// create's log and is reported.)
			err = &shownError{err}
		}
		return err
	}
	// From here on a failure must delete the container.
	defer func() {
		if err != nil {
			s.abort()
		}
	}()
	if s.pid, err = readPid(pidFile); err != nil {
		return fmt.Errorf("container %s: the pid file of create: %w", o.id, err)
	}
	if consoleL != nil {
		select {
		case r := <-ptyc:
			if r.err != nil {
				return fmt.Errorf("container %s: console socket: %w", o.id, r.err)
			}
			s.pty, s.stdin = r.f, r.f
			streams = append(streams, stream{name: "stdout", r: r.f, pty: true})
		case <-time.After(10 * time.Second):
			return fmt.Errorf("container %s: no pty master came over the console socket", o.id)
		}
		consoleL.close()
	}
	var ppid int
	if s.startTime, ppid, err = proc.StatParent(s.pid); err != nil {
		return fmt.Errorf("container %s: init %d: %w", o.id, s.pid, err)
	}
	if ppid != os.Getpid() {
		return fmt.Errorf("container %s: init %d is not the shim's child (parent %d)", o.id, s.pid, ppid)
	}
	if s.pidfd, err = unix.PidfdOpen(s.pid, 0); err != nil {
		return fmt.Errorf("container %s: pidfd of init %d: %w", o.id, s.pid, err)
	}
	if err := s.takeShimLock(); err != nil {
		return err
	}
	s.oom = s.watchOOM()
	if s.oom == nil {
		s.logf("no memory cgroup of its own for container %s: OOM kills are not detected", o.id)
	}
	if o.pidFile != "" {
		if err := store.WriteFileAtomic(o.pidFile, []byte(strconv.Itoa(s.pid))); err != nil {
			return fmt.Errorf("--pid-file: %w", err)
		}
	}
	var log *criLog
	if o.logFile != "" {
		if log, err = openCRILog(o.logFile, o.logSizeMax); err != nil {
			return fmt.Errorf("--log-file: %w", err)
		}
	}
	s.out = newOutput(log, s.logf)
	if o.attachSocket != "" {
		if s.attach, err = listenAttach(o.attachSocket, s); err != nil {
			return err
		}
	}
	for _, st := range streams {
		s.out.pump(st)
	}
	streams = nil // owned by the pumps now
	if o.restore {
		return nil // restored processes run already
	}
	start := s.hull("start", o.id)
	start.Stdin, start.Stdout, start.Stderr = null, null, null
	if err := start.Run(); err != nil {
		return s.hullError(err, nil)
	}
	return nil
}

type ptyResult struct {
	f   *os.File
	err error
}

// shownError is an error that hull already printed on the caller's stderr
// (create with --direct-stdio): the foreground shim does not repeat it.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

// hullError is the error hull reported: the last error line of its JSON
// log, else what it wrote on the container's stderr, else its status.
func (s *shim) hullError(runErr error, streams []stream) error {
	if b, err := os.ReadFile(filepath.Join(s.tmp, "hull.log")); err == nil {
		var last string
		for _, l := range bytes.Split(b, []byte("\n")) {
			var rec struct{ Level, Msg string }
			if json.Unmarshal(l, &rec) == nil && rec.Level == "error" {
				last = rec.Msg
			}
		}
		if last != "" {
			return errors.New(last)
		}
	}
	for _, st := range streams {
		if st.name != "stderr" {
			continue
		}
		// Every writer is gone (nothing of the container is left): this
		// reads to EOF.
		st.r.SetReadDeadline(time.Now().Add(time.Second))
		b, _ := io.ReadAll(io.LimitReader(st.r, 64<<10))
		if t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), "hull: ")); t != "" {
			return errors.New(t)
		}
	}
	return fmt.Errorf("%s: %v", filepath.Base(s.o.runtime), runErr)
}

// abort deletes a container whose start did not happen and reaps its init.
func (s *shim) abort() {
	if s.attach != nil {
		s.attach.close()
	}
	del := s.hull("delete", "--force", s.o.id)
	if out, err := del.CombinedOutput(); err != nil {
		s.logf("delete --force after a failed start: %v: %s", err, out)
	}
	if s.pid > 0 {
		var ws unix.WaitStatus
		unix.Wait4(s.pid, &ws, 0, nil)
	}
	if s.lockFd >= 0 {
		unix.Close(s.lockFd)
	}
}

// takeShimLock makes shim.lock in the state directory and holds its flock
// until the exit is recorded. The container's own lock is held meanwhile,
// so the directory cannot be deleted under us.
func (s *shim) takeShimLock() error {
	st := store.Store{Root: s.o.root}
	h, err := st.Lock(s.o.id)
	if err != nil {
		return fmt.Errorf("container %s: %w", s.o.id, err)
	}
	defer h.Close()
	fd, err := unix.Openat(h.DirFd(), store.ShimLockFile, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("container %s: %s: %w", s.o.id, store.ShimLockFile, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		return fmt.Errorf("container %s: another hull-shim watches it", s.o.id)
	}
	unix.Ftruncate(fd, 0)
	unix.Write(fd, []byte(strconv.Itoa(os.Getpid())+"\n"))
	s.lockFd = fd
	return nil
}

// waitInit forwards signals to the init and reaps children until the init
// has exited.
func (s *shim) waitInit() unix.WaitStatus {
	// The shim is set up, and from here on it sleeps but for signals and
	// output. Most of its binary, resident since the start-up ran through
	// it, goes back to the page cache (internal/idlemem says why it may).
	if _, err := idlemem.DropExecutablePages(); err != nil {
		s.logf("give back the binary's pages: %v", err)
	}
	for {
		if ws, done := s.reap(); done {
			return ws
		}
		sig := (<-s.sigs).(unix.Signal)
		switch sig {
		case unix.SIGCHLD, unix.SIGPIPE, unix.SIGURG:
		default:
			if err := unix.PidfdSendSignal(s.pidfd, sig, nil, 0); err != nil && err != unix.ESRCH {
				s.logf("forward %v: %v", sig, err)
			}
		}
	}
}

// reap reaps every exited child without blocking; done once the init was
// among them.
func (s *shim) reap() (unix.WaitStatus, bool) {
	var initWs unix.WaitStatus
	done := false
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return initWs, done
		}
		if pid == s.pid {
			initWs, done = ws, true
		}
	}
}

// finish records the exit and leaves.
func (s *shim) finish(ws unix.WaitStatus) {
	at := time.Now().UTC()
	code := 255
	switch {
	case ws.Exited():
		code = ws.ExitStatus()
	case ws.Signaled():
		code = 128 + int(ws.Signal())
	}
	oom := s.oom.killed(s.logf)
	unix.Close(s.pidfd)
	if !s.out.wait(drainGrace) {
		s.logf("output still open %v after the init exited; not waiting for it", drainGrace)
	}
	if s.attach != nil {
		s.attach.close()
	}
	s.out.closeClients()
	// The exit file first: once `hull wait` returns (it may see the state
	// record before the lock goes), everything is written.
	if s.o.exitFile != "" {
		if err := store.WriteFileAtomic(s.o.exitFile, []byte(strconv.Itoa(code))); err != nil {
			s.logf("--exit-file: %v", err)
		}
	}
	ex := store.ExitStatus{Code: code, OOMKill: oom, ExitedAt: at}
	if err := recordExit(s.o.root, s.o.id, s.pid, s.startTime, ex); err != nil {
		s.logf("exit %d not recorded: %v", code, err)
	}
	unix.Close(s.lockFd) // `hull wait` goes on
	s.out.closeLog()
	if s.o.exitCommand != "" {
		cmd := exec.Command(s.o.exitCommand, s.o.exitCommandArgs...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			s.logf("--exit-command: %v", err)
		}
	}
	reapOrphans(200 * time.Millisecond)
}

// reapOrphans reaps the children left (orphans of a container without a
// pid namespace of its own), giving those that are exiting a moment to
// finish; the ones still running after that go to the shim's reaper.
func reapOrphans(patience time.Duration) {
	deadline := time.Now().Add(patience)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case err == unix.EINTR || pid > 0:
			continue
		case err != nil: // ECHILD: none left
			return
		case time.Now().After(deadline):
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordExit stores ex in the state of container id, under its lock, if the
// state still names the init that exited.
func recordExit(root, id string, pid int, start uint64, ex store.ExitStatus) error {
	st := store.Store{Root: root}
	h, err := st.Lock(id)
	if err != nil {
		return err
	}
	defer h.Close()
	state, err := st.Load(id)
	if err != nil {
		return err
	}
	if state.Pid != pid || state.StartTime != start {
		return fmt.Errorf("the state names init %d, not %d", state.Pid, pid)
	}
	state.Exit = &ex
	return h.Save(state)
}

// wantsTerminal reads process.terminal from the bundle's config.json (an
// unreadable config is create's to report).
func wantsTerminal(bundle string) bool {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return false
	}
	var c struct {
		Process *struct {
			Terminal bool `json:"terminal"`
		} `json:"process"`
	}
	return json.Unmarshal(b, &c) == nil && c.Process != nil && c.Process.Terminal
}

// receivePty accepts one connection and receives the pty master sent over
// it.
func receivePty(l *listener) (*os.File, error) {
	conn, err := l.accept()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	fd, err := unixsock.RecvFd(conn)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so that Go's poller serves it.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "pty-master"), nil
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%q is not a pid", b)
	}
	return pid, nil
}

// lines reads newline-terminated commands (used by the control socket).
func lines(r io.Reader, f func(string) string, w io.Writer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256), 4096)
	for sc.Scan() {
		if _, err := io.WriteString(w, f(strings.TrimSpace(sc.Text()))); err != nil {
			return
		}
	}
}
