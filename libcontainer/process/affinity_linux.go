package process

import (
	"fmt"
	"runtime"

	"github.com/hullrt/hull/libcontainer/internal/affinity"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WithInitialAffinity runs start on a thread of its own whose affinity is
// process.execCPUAffinity.initial, so that the process it clones starts
// with that mask, before it joins the container's cgroup (runc's
// semantics). The thread is not reused afterwards: the goroutine ends
// locked to it, and Go ends the thread with it.
func WithInitialAffinity[T any](p *specs.Process, start func() (T, error)) (T, error) {
	a := p.ExecCPUAffinity
	if a == nil || a.Initial == "" {
		return start()
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := affinity.Set(a.Initial); err != nil {
			var zero T
			ch <- result{zero, fmt.Errorf("process.execCPUAffinity.initial: %w", err)}
			return
		}
		v, err := start()
		ch <- result{v, err}
	}()
	r := <-ch
	return r.v, r.err
}
