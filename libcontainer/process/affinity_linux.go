package process

import (
	"fmt"
	"runtime"

	"github.com/hullrt/hull/libcontainer/internal/affinity"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// withInitialAffinity runs start on a thread of its own whose affinity is
// process.execCPUAffinity.initial, so that the process it clones starts
// with that mask, before it joins the container's cgroup (runc's
// semantics). The thread is not reused afterwards: the goroutine ends
// locked to it, and Go ends the thread with it.
func WithInitialAffinity(p *specs.Process, start func() (int, error)) (int, error) {
	a := p.ExecCPUAffinity
	if a == nil || a.Initial == "" {
		return start()
	}
	type result struct {
		pid int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := affinity.Set(a.Initial); err != nil {
			ch <- result{-1, fmt.Errorf("process.execCPUAffinity.initial: %w", err)}
			return
		}
		pid, err := start()
		ch <- result{pid, err}
	}()
	r := <-ch
	return r.pid, r.err
}
