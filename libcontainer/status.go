package libcontainer

import "fmt"

// Status is the lifecycle state of a container as the runtime spec names it.
type Status string

const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// Operation is something a command wants to do to a container.
type Operation string

const (
	OpStart  Operation = "start"
	OpKill   Operation = "kill"
	OpDelete Operation = "delete"
	OpExec   Operation = "exec"
	OpPause  Operation = "pause"
	OpResume Operation = "resume"
)

// allowed says, for each status, which operations make sense. Delete of a
// running or created container is allowed only with force; that is checked by
// the caller, which knows about --force.
var allowed = map[Status]map[Operation]bool{
	Creating: {OpDelete: true},
	Created:  {OpStart: true, OpKill: true, OpDelete: true, OpExec: true},
	Running:  {OpKill: true, OpDelete: true, OpExec: true, OpPause: true},
	Paused:   {OpKill: true, OpDelete: true, OpResume: true, OpExec: true},
	Stopped:  {OpDelete: true},
}

// Can reports whether op is allowed in status s.
func (s Status) Can(op Operation) bool { return allowed[s][op] }

// check returns the error a caller sees when op is not allowed. The wording
// follows runc, because callers (containerd, podman) match on it.
func (s Status) check(id string, op Operation) error {
	if s.Can(op) {
		return nil
	}
	switch {
	case s == Stopped && (op == OpKill || op == OpExec || op == OpPause):
		return fmt.Errorf("container %s: %w", id, ErrNotRunning)
	case s == Paused && op == OpExec:
		return fmt.Errorf("container %s is paused: %w", id, ErrPaused)
	case op == OpStart:
		return fmt.Errorf("cannot start container %s: container is %s, not created", id, s)
	}
	return fmt.Errorf("cannot %s container %s: container is %s", op, id, s)
}
