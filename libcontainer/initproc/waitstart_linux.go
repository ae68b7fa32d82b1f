package initproc

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/preinit"
	"github.com/hullrt/hull/libcontainer/store"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// pidsLimited tells whether the config limits the container's pids: the
// resumed image's Go runtime must then not start, as it needs threads
// that the limit, written at ready (splitPids), may refuse; the init
// waits where it is, its threads already counted, as runc's.
func pidsLimited(spec *specs.Spec) bool {
	if spec == nil || spec.Linux == nil || spec.Linux.Resources == nil {
		return false
	}
	p := spec.Linux.Resources.Pids
	return p != nil && p.Limit != nil && *p.Limit >= 0
}

// waitsInC tells whether a created init will wait for start in a fresh
// image of hull (waitInC) rather than in this process.
func waitsInC(cfg *proto.InitConfig) bool {
	return !cfg.Exec && !cfg.StartSoon && !pidsLimited(cfg.Spec)
}

// waitInC re-executes hull to wait for start in its C constructor. The
// new image holds no more than runc's idle init does (create.bats checks
// its fds): the plan (or the config) in a pipe, exec.fifo as an O_PATH
// fd that the constructor reopens through /proc/self/fd, the seccomp agent's socket.
//
// The caller checked staticBinary first: a dynamically linked hull would
// load the container's own dynamic loader and libc into this still
// privileged process.
func waitInC(cfg *proto.InitConfig, fin *finisher, fifo int) {
	// The last steps as a plan for C when they can be (plan_linux.go),
	// else the config, for the Go runtime to resume with.
	envData := proto.EnvPlan
	data := encodePlan(cfg, fin)
	if data == nil {
		envData = proto.EnvResume
		var err error
		if data, err = json.Marshal(cfg); err != nil {
			return
		}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return
	}
	rfd, wfd := p[0], p[1]
	defer unix.Close(wfd)
	if !proto.FillPipe(wfd, data) {
		unix.Close(rfd)
		return
	}
	if fifo < 0 {
		return // no /proc to reopen it through: wait in Go
	}
	ffd := fifo
	keep := []int{ffd, rfd}
	if cfg.SeccompAgentFd >= 0 {
		keep = append(keep, cfg.SeccompAgentFd)
	}
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			unix.Close(rfd)
			unix.CloseOnExec(ffd)
			return
		}
	}
	env := []string{
		proto.EnvInit + "=wait",
		proto.EnvWait + "=" + strconv.Itoa(ffd),
		envData + "=" + strconv.Itoa(rfd),
	}
	env = append(env, faults.Env()...)
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err == nil && d == 0 {
		// The exec makes us dumpable again: preinit.c undoes that.
		env = append(env, proto.EnvNoDump+"=1")
	}
	// A signal that comes during the exec stays pending until the new
	// image catches it (preinit's wait_for_start). This thread execs;
	// another of the runtime's may still take one before, and Go's
	// handler then ends the process, as it would have before.
	preinit.BlockWaitSignals(true)
	// Exec returns only when it failed: then put things back as they
	// were, and the caller waits here.
	_ = unix.Exec("/proc/self/exe", []string{"hull", "init"}, env)
	preinit.BlockWaitSignals(false)
	unix.Close(rfd)
	unix.CloseOnExec(ffd)
}

// fifoPath opens exec.fifo as an O_PATH fd and closes the state directory,
// if the fifo can be reopened through /proc/self/fd; otherwise -1, and the
// state directory stays open for the wait.
func fifoPath(cfg *proto.InitConfig) int {
	f, err := unix.Openat(cfg.StateDirFd, store.FifoName, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if err := unix.Access("/proc/self/fd/"+strconv.Itoa(f), unix.F_OK); err != nil {
		unix.Close(f)
		return -1
	}
	unix.Close(cfg.StateDirFd)
	cfg.StateDirFd = -1
	return f
}

// staticBinary reports whether hull's binary has no ELF interpreter: the
// kernel then passes AT_BASE (where it loaded the interpreter) as 0. This
// reads a few hundred bytes of /proc/self/auxv instead of parsing the
// binary, and keeps an ELF parser out of hull. Without /proc, false.
func staticBinary() bool {
	b, err := readSelfProc("auxv")
	if err != nil {
		return false
	}
	const atBase = 7 // AT_BASE, <linux/auxvec.h>
	base, ok := auxv(b, atBase)
	return ok && base == 0
}

// auxv finds tag in an auxiliary vector: pairs of native words.
func auxv(b []byte, tag uint64) (uint64, bool) {
	const w = int(unsafe.Sizeof(uintptr(0)))
	word := func(p []byte) uint64 {
		if w == 4 {
			return uint64(binary.NativeEndian.Uint32(p))
		}
		return binary.NativeEndian.Uint64(p)
	}
	for i := 0; i+2*w <= len(b); i += 2 * w {
		switch t := word(b[i:]); t {
		case tag:
			return word(b[i+w:]), true
		case 0: // AT_NULL ends the vector
			return 0, false
		}
	}
	return 0, false
}

// resume is the init after the wait in C: `start` has opened the fifo,
// whose write end is now fd _HULL_WAIT.
func resume() {
	fifoFd, err1 := strconv.Atoi(os.Getenv(proto.EnvWait))
	mfd, err2 := strconv.Atoi(os.Getenv(proto.EnvResume))
	if err1 != nil || err2 != nil {
		os.Exit(1)
	}
	fifo := os.NewFile(uintptr(fifoFd), store.FifoName)
	unix.CloseOnExec(fifoFd)
	fail := func(err error) {
		fmt.Fprintf(fifo, "%v", err)
		os.Exit(127)
	}
	data, err := readPipe(mfd)
	unix.Close(mfd)
	if err != nil {
		fail(fmt.Errorf("read init config: %w", err))
	}
	cfg := new(proto.InitConfig)
	if err := json.Unmarshal(data, cfg); err != nil {
		fail(fmt.Errorf("read init config: %w", err))
	}
	for _, k := range []string{proto.EnvInit, proto.EnvWait, proto.EnvResume, proto.EnvNoDump} {
		os.Unsetenv(k)
	}
	if cfg.SeccompAgentFd >= 0 {
		unix.CloseOnExec(cfg.SeccompAgentFd)
	}
	// The seccomp filter is compiled (prepareFinisher) before the
	// process's rlimits limit what libseccomp may allocate.
	fin, err := prepareFinisher(cfg)
	if err != nil {
		fail(err)
	}
	if others, _ := splitRlimits(cfg.Spec.Process.Rlimits); len(others) > 0 {
		if err := setRlimits(others); err != nil {
			fail(err)
		}
	}
	finish(cfg, fin, fifo)
}

// readPipe reads fd to its end.
func readPipe(fd int) ([]byte, error) {
	var data []byte
	buf := make([]byte, 1<<16)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, err
		case n == 0:
			return data, nil
		}
		data = append(data, buf[:n]...)
	}
}
