package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hullrt/hull/internal/sysfile"
	"github.com/hullrt/hull/libcontainer/capabilities"
	"github.com/hullrt/hull/libcontainer/internal/faults"
	"github.com/hullrt/hull/libcontainer/internal/plan"
	"github.com/hullrt/hull/libcontainer/internal/procenv"
	"github.com/hullrt/hull/libcontainer/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// openInitRoot opens the root directory of the container's init, through
// which execPlan looks up the exec'd process's executable and HOME: the
// exec'd process gets the same root when it joins the init's mount
// namespace (only then: the caller passes nil otherwise). The caller
// checks afterwards that the pid is still the init.
func openInitRoot(pid int) *os.File {
	f, err := sysfile.Open(fmt.Sprintf("/proc/%d/root", pid), os.O_RDONLY)
	if err != nil {
		return nil
	}
	return f
}

// execPlan decides the exec'd process's last steps here, as its Go side
// would in the container (initproc's prepareFinisher and drop), and
// returns them as a plan that preinit's C carries out without starting
// the Go runtime (internal/plan; issue 18). nil means the process does
// them in Go: the caller says a step needs it (needsGo: a terminal, a
// seccomp agent), or one of these does (LSM labels,
// scheduler, I/O priority, oom_score_adj, personality, memory policy, CPU
// affinity), or something would fail, where Go says why in its words.
func execPlan(spec *specs.Spec, root *os.File, preserve int, needsGo bool) []byte {
	p := spec.Process
	l := spec.Linux
	if root == nil || needsGo || len(faults.Env()) > 0 || p == nil || l == nil || len(p.Args) == 0 {
		return nil
	}
	if p.ApparmorProfile != "" || p.SelinuxLabel != "" || p.Scheduler != nil || p.IOPriority != nil ||
		p.OOMScoreAdj != nil || p.ExecCPUAffinity != nil || l.Personality != nil || l.MemoryPolicy != nil {
		return nil
	}
	r := procenv.InRoot(root)
	env, err := procenv.PrepareEnv(p.Env, int(p.User.UID), r)
	if err != nil {
		return nil
	}
	// A relative name or PATH entry would resolve against the process's
	// cwd in the container, not the root.
	if strings.Contains(p.Args[0], "/") && !filepath.IsAbs(p.Args[0]) {
		return nil
	}
	if !strings.Contains(p.Args[0], "/") {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				for _, dir := range filepath.SplitList(v) {
					if !filepath.IsAbs(dir) {
						return nil
					}
				}
			}
		}
	}
	path, err := procenv.LookPath(p.Args[0], env, r)
	if err != nil {
		return nil
	}
	if !filepath.IsAbs(p.Cwd) {
		return nil
	}
	if fi, err := r.Stat(p.Cwd); err == nil && !fi.IsDir() {
		return nil
	}
	caps, err := capabilities.Parse(p.Capabilities, "process.capabilities")
	if err != nil {
		return nil
	}
	pl := &plan.Plan{Path: path, Cwd: p.Cwd, Args: p.Args, Env: env, User: p.User,
		Caps: caps, NoNewPrivs: p.NoNewPrivileges, Preserve: preserve}
	if l.Seccomp != nil {
		prog, err := seccomp.Compile(l.Seccomp)
		if err != nil || prog == nil {
			return nil
		}
		pl.Filter, pl.SeccompFlags = prog.Filter()
		if len(pl.Filter) == 0 {
			return nil
		}
	}
	pl.Rlimits, pl.AddrSpace = plan.SplitRlimits(p.Rlimits)
	return pl.Encode()
}
