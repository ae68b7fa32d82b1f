package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// A lazy checkpoint waits for a restore side that may never come (runc's
// checkpoint.bats: the test fails, its teardown deletes the container).
// Meanwhile the container is not locked against the other commands: delete
// --force kills it at once, and the checkpoint then ends with criu's error
// instead of waiting forever (before, delete waited on the container's lock
// that checkpoint held, and the suite hung until its timeout).
func TestCheckpointLazyDeleteDuring(t *testing.T) {
	needCriuWorks(t)
	if out, err := exec.Command("criu", "check", "--feature", "uffd-noncoop").CombinedOutput(); err != nil {
		t.Skipf("criu check --feature uffd-noncoop: %v: %s (lazy pages need userfaultfd with non-cooperative events in this kernel)", err, bytes.TrimSpace(out))
	}
	e := newEnv(t)
	vol := e.mkdir("vol")
	bundle := counterBundle(e, vol)
	id := e.newID()
	p := newPipes(t)
	if code := e.rtPipes(p, "run", "-d", "--bundle", bundle, id); code != 0 {
		t.Fatalf("run -d: exit %d: %s", code, p.stderr())
	}
	waitCount(t, vol, 2)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	img := e.mkdir("image")
	sr, sw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*cmdTimeout)
	defer cancel()
	var ckOut bytes.Buffer
	ck := exec.CommandContext(ctx, runtimeBin, "--root", e.root, "checkpoint", "--lazy-pages",
		"--page-server", fmt.Sprintf("127.0.0.1:%d", port), "--status-fd", "3", "--manage-cgroups-mode", "ignore",
		"--image-path", img, id)
	ck.ExtraFiles = []*os.File{sw}
	ck.Stdout, ck.Stderr = &ckOut, &ckOut
	if err := ck.Start(); err != nil {
		t.Fatal(err)
	}
	sw.Close()
	ckDone := make(chan error, 1)
	go func() { ckDone <- ck.Wait() }()
	ready := make(chan []byte, 1)
	go func() {
		b := make([]byte, 1)
		n, _ := sr.Read(b)
		ready <- b[:n]
	}()
	select {
	case b := <-ready:
		if len(b) != 1 || b[0] != 0 {
			<-ckDone
			criuLog(t, img)
			t.Fatalf("--status-fd: read %q, want a \\0 (checkpoint: %s)", b, ckOut.String())
		}
	case err := <-ckDone:
		criuLog(t, img)
		t.Fatalf("checkpoint --lazy-pages ended before it was ready: %v: %s", err, ckOut.String())
	case <-time.After(cmdTimeout):
		t.Fatalf("no status from checkpoint --lazy-pages after %v", cmdTimeout)
	}
	// No lazy-pages daemon, no restore: delete --force must not wait for
	// the checkpoint (execRuntime fails the test at cmdTimeout).
	start := time.Now()
	if r := e.rt("delete", "--force", id); r.Code != 0 {
		t.Errorf("delete --force during a lazy checkpoint: %v", r)
	}
	if d := time.Since(start); d > cmdTimeout/2 {
		t.Errorf("delete --force during a lazy checkpoint took %v", d)
	}
	select {
	case err := <-ckDone:
		if err == nil {
			t.Errorf("checkpoint --lazy-pages succeeded although its container was deleted: %s", ckOut.String())
		}
	case <-time.After(cmdTimeout):
		t.Errorf("checkpoint --lazy-pages still runs %v after its container was deleted", cmdTimeout)
		cancel()
		<-ckDone
	}
	e.assertNotExist(id)
}
