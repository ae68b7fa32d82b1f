package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rpc "github.com/checkpoint-restore/go-criu/v8/rpc"
	"golang.org/x/sys/unix"
)

// fakeCriuEnv makes the test binary act as `criu swrk 3` (fakeCriuMain):
// a criu that answers the version and feature checks as criu 3.17.1 and,
// asked to dump, says its lazy-pages server is ready (status-ready) and
// then waits, as a --lazy-pages dump waits for its restore side. It
// checkpoints nothing: it lets the tests that need no real dump run
// where criu cannot dump (our hosts' kernels).
const fakeCriuEnv = "HULLTEST_FAKE_CRIU"

func fakeCriuMain() int {
	const sock = 3
	ptr := func(b bool) *bool { return &b }
	i32 := func(v int32) *int32 { return &v }
	send := func(r *rpc.CriuResp) error {
		b, err := r.MarshalVT()
		if err == nil {
			_, err = unix.Write(sock, b)
		}
		return err
	}
	buf := make([]byte, 1<<16)
	n, err := unix.Read(sock, buf)
	if err != nil || n == 0 {
		fmt.Fprintln(os.Stderr, "fake criu: no request:", err)
		return 1
	}
	req := new(rpc.CriuReq)
	if err := req.UnmarshalVT(buf[:n]); err != nil {
		fmt.Fprintln(os.Stderr, "fake criu:", err)
		return 1
	}
	t := req.GetType()
	switch t {
	case rpc.CriuReqType_VERSION:
		err = send(&rpc.CriuResp{Type: &t, Success: ptr(true), Version: &rpc.CriuVersion{MajorNumber: i32(3), MinorNumber: i32(17), Sublevel: i32(1)}})
	case rpc.CriuReqType_FEATURE_CHECK:
		err = send(&rpc.CriuResp{Type: &t, Success: ptr(true), Features: req.GetFeatures()})
	case rpc.CriuReqType_DUMP:
		nt := rpc.CriuReqType_NOTIFY
		script := "status-ready"
		if err = send(&rpc.CriuResp{Type: &nt, Success: ptr(true), Notify: &rpc.CriuNotify{Script: &script}}); err != nil {
			break
		}
		if _, err = unix.Read(sock, buf); err != nil { // the ack
			break
		}
		// The restore side never comes; never wait past a test's life.
		time.Sleep(3 * cmdTimeout)
		return 1
	default:
		err = fmt.Errorf("request %s", t)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake criu:", err)
		return 1
	}
	return 0
}

// fakeCriu writes a criu for --criu: the test binary as fakeCriuMain.
func fakeCriu(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "criu")
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %s \"$@\"\n", fakeCriuEnv, self)
	if err := writeExecutable(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckpointHangingCriuDelete: while a checkpoint waits on its criu
// (a --lazy-pages dump waiting for its restore side, here a fake criu that
// waits the same way), it holds the container's lock: delete fails at once
// as for a running container, and delete -f ends that criu, so that the
// checkpoint fails and lets go, and removes the container in bounded time.
// (The criu lane's TestCheckpointLazyDelete does it with criu's own lazy
// dump.)
func TestCheckpointHangingCriuDelete(t *testing.T) {
	if !isHull {
		t.Skip("hull's delete ends the criu of a checkpoint that holds the container; runc has no lock to wait for and leaves that criu")
	}
	lazyDelete(t, true, "--criu", fakeCriu(t))
}

// lazyDelete runs a counter, checkpoints it with --lazy-pages (global:
// the runtime's global flags) and, while the checkpoint waits on its criu,
// runs (with others) kill, then delete, then delete -f: each
// must return in bounded time, and nothing be left: criu, the checkpoint,
// the init, the state.
func lazyDelete(t *testing.T, others bool, global ...string) {
	t.Helper()
	e := newEnv(t)
	c := runCounter(t, e, nil)
	id, vol := c.id, c.vol
	initPid := e.state(id).Pid
	e.trackPid(initPid)
	initStart, _ := procStartTime(initPid)
	lz := startLazyCheckpoint(t, e, id, e.mkdir("image"), e.mkdir("work"), global...)
	var criuPids []procRef
	for _, pid := range childrenOf(lz.cmd.Process.Pid) {
		st, _ := procStartTime(pid)
		criuPids = append(criuPids, procRef{pid, st})
	}
	if len(criuPids) != 1 {
		t.Fatalf("checkpoint --lazy-pages (pid %d) is ready with children %v, want its criu", lz.cmd.Process.Pid, criuPids)
	}
	if others {
		// Commands that take the lock give up after 10 s, naming criu.
		for _, args := range [][]string{{"kill", id, "KILL"}} {
			start := time.Now()
			r := e.rt(args...)
			if r.Code == 0 || !strings.Contains(r.Stderr, "is being checkpointed") || !strings.Contains(r.Stderr, "criu (pid ") {
				t.Errorf("%s during checkpoint --lazy-pages: %v, want a failure naming the checkpoint's criu", strings.Join(args, " "), r)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("%s during checkpoint --lazy-pages took %v", strings.Join(args, " "), d)
			}
		}
	}
	start := time.Now()
	r := e.rt("delete", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "that is not stopped") {
		t.Errorf("delete during checkpoint --lazy-pages: want an error as for a running container, got %v", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("delete during checkpoint --lazy-pages took %v", d)
	}
	start = time.Now()
	r = e.rt("delete", "-f", id)
	if r.Code != 0 {
		t.Fatalf("delete -f during checkpoint --lazy-pages: %v", r)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("delete -f during checkpoint --lazy-pages took %v", d)
	}
	select {
	case err := <-lz.done:
		if err == nil {
			t.Errorf("checkpoint --lazy-pages whose criu delete -f ended exited 0: %s", lz.out.String())
		} else if !strings.Contains(lz.out.String(), "ended without an answer: signal: killed") {
			t.Errorf("checkpoint --lazy-pages: %v, want criu's end (killed) in its error: %s", err, lz.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("checkpoint --lazy-pages still runs 10s after delete -f returned")
	}
	e.assertNotExist(id)
	for _, c := range criuPids {
		if err := waitProcGone(c, 2*time.Second); err != nil {
			t.Errorf("criu after delete -f: %v", err)
		}
	}
	if err := waitProcGone(procRef{initPid, initStart}, 2*time.Second); err != nil {
		t.Errorf("the container's init after delete -f: %v", err)
	}
	at := readCount(t, vol)
	time.Sleep(300 * time.Millisecond)
	if c := readCount(t, vol); c != at {
		t.Errorf("the counter went on after delete -f: %d then %d", at, c)
	}
}
