package proto

import (
	"github.com/opencontainers/runtime-spec/specs-go"
)

// initConfig is what the parent sends the init (or an exec'd process) in
// its msgConfig message. Fd fields are numbers in the child.
type InitConfig struct {
	ID           string      `json:"id"`
	Spec         *specs.Spec `json:"spec"`
	Rootfs       string      `json:"rootfs"`
	Bundle       string      `json:"bundle"`
	NoPivot      bool        `json:"noPivot,omitempty"`
	NoNewKeyring bool        `json:"noNewKeyring,omitempty"`
	PreserveFds  int         `json:"preserveFds,omitempty"`
	StateDirFd   int         `json:"stateDirFd"`
	ConsoleFd    int         `json:"consoleFd"` // -1: no terminal
	// CgroupDirs maps a hierarchy's mount point to the container's
	// directory in it, for bind-mounting into the container.
	CgroupDirs map[string]string `json:"cgroupDirs,omitempty"`
	// NewCgroupNS: unshare the cgroup namespace first thing.
	NewCgroupNS bool `json:"newCgroupNS,omitempty"`
	// SeccompAgentFd is a connection to the seccomp notify agent, -1 if
	// none.
	SeccompAgentFd int `json:"seccompAgentFd"`
	// HostPid is this process's pid in the runtime's pid namespace, for
	// the state hooks read.
	HostPid int `json:"hostPid"`
	// Exec is set for `hull exec`: namespaces are joined, nothing is set up
	// but the process, and it runs at once instead of waiting for start.
	Exec bool `json:"exec,omitempty"`
	// StartSoon is set by `run`: start follows within milliseconds, so
	// waiting in a fresh C image would save no memory worth the exec and
	// the Go runtime start-up it costs.
	StartSoon bool `json:"startSoon,omitempty"`
}

const EnvInit = "_HULL_INIT"

const (
	EnvWait   = "_HULL_WAIT"   // O_PATH fd of exec.fifo; after the wait, its write end
	EnvResume = "_HULL_RESUME" // read end of a pipe holding the initConfig
)
