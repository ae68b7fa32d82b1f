package libcontainer

import "errors"

// Callers of runc match these strings literally, so their text must not change.
var (
	ErrNotExist   = errors.New("does not exist")
	ErrExist      = errors.New("container with given ID already exists")
	ErrNotRunning = errors.New("container not running")
	ErrNoProcess  = errors.New("no such process")
	ErrPaused     = errors.New("container is paused")
)
