package proto

import (
	"github.com/opencontainers/runtime-spec/specs-go"
)

// InitConfig is what the parent sends the init (or an exec'd process) in
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

// The environment a started process reads, shared by the parent
// (process), the init (initproc) and preinit.c, which reads them before
// the Go runtime starts. Values that are fds are numbers in the child.
const (
	// EnvInit marks the process as hull's init: the fd of its end of the
	// sync socket, or "wait" in the image that waits for start in C.
	EnvInit = "_HULL_INIT"
	// EnvExeFd is the fd of the binary the process was executed from,
	// which preinit.c marks close-on-exec before anything else runs.
	EnvExeFd = "_HULL_EXEFD"
	// EnvCgJoin lists the v1 tasks files preinit.c writes "0" to.
	EnvCgJoin = "_HULL_CGJOIN"
	// EnvNsenter (the sync socket's fd), EnvNsJoin ("fd:flag,..."),
	// EnvNsNew (clone flags, hex) and EnvTimeNS (the time offsets) ask
	// preinit.c to enter the namespaces.
	EnvNsenter = "_HULL_NSENTER"
	EnvNsJoin  = "_HULL_NSJOIN"
	EnvNsNew   = "_HULL_NSNEW"
	EnvTimeNS  = "_HULL_TIMENS"
	// EnvWait is the O_PATH fd of exec.fifo; after the wait in C, its
	// write end.
	EnvWait = "_HULL_WAIT"
	// EnvResume is the read end of a pipe holding the InitConfig, for
	// the image that resumes after the wait in C.
	EnvResume = "_HULL_RESUME"
	// EnvPlan, instead of EnvResume, is the read end of a pipe holding
	// the init's last steps as a plan that preinit's C carries out
	// (initproc's plan_linux.go, preinit's plan.c): no Go runtime starts.
	EnvPlan = "_HULL_PLAN"
	// EnvNoDump: preinit.c makes the resumed image non-dumpable again.
	EnvNoDump = "_HULL_NODUMP"
	// EnvRootfs (<plan>,<state dir>,<start plan>,<npreserve>: fds and a
	// count) makes preinit's rootfs.c set up a created init from the plan
	// of rootfs.CPlan; the start plan pipe gets the process's last steps
	// from the parent once it is done.
	EnvRootfs = "_HULL_RFS"
)
