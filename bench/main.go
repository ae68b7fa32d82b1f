// Command bench compares hull with runc and crun on one busybox bundle.
//
// It is run by `make bench` (bench/run.sh builds it into a temporary
// directory and runs it as `hullbench -hull bin/hull -out bin/bench`); what
// it writes is build output, not part of the source. It must
// run as root. Everything it makes lives under names that carry its pid:
//
//	/tmp/hullbench-PID/          rootfs and one bundle per container
//	/dev/shm/hullbench-PID/      the runtimes' --root state dirs (tmpfs, as /run is)
//	<cgroup>/hullbench-PID/<id>  the cgroups runc and crun make (relative cgroupsPath)
//
// and all of it is removed at the end, also after a failure or a signal.
//
// The scenarios (see scenarios.go) run the runtimes interleaved, the order
// rotating every round (A B C D, B C D A, …), so that drift on the machine
// falls on all of them alike. crun refuses hybrid cgroup hosts, so crun runs
// in a private mount namespace (nshelper.go) where /sys/fs/cgroup/unified is
// covered by a tmpfs; crun is started from an OS thread that joined that
// namespace, so it costs no extra exec.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type config struct {
	hull, runc, crun string
	hullFrom         string // what hull is a copy of, for the report
	repo             string
	out              string
	runs             int
	cycles           int
	execs            int
	par              []int
	parReps          int
	memReps          int
	shimIdle         time.Duration
	profile          bool
	quick            bool
}

// The main goroutine keeps the main thread: a goroutine that joins crun's
// mount namespace (nsHelper.on) must never run on it, since Go does not
// end a locked main thread but keeps it, and /proc/self (the main thread's
// view) would then show crun's namespace to the rest of the bench.
func init() { runtime.LockOSThread() }

func main() {
	var cfg config
	var par string
	flag.StringVar(&cfg.hull, "hull", "bin/hull", "hull binary")
	flag.StringVar(&cfg.hullFrom, "hull-from", "", "the binary -hull was installed from (shown in the report)")
	flag.StringVar(&cfg.runc, "runc", "/usr/sbin/runc", "runc binary")
	flag.StringVar(&cfg.crun, "crun", "/usr/bin/crun", "crun binary")
	flag.StringVar(&cfg.repo, "repo", ".", "hull's source tree (for cmd/hull-shim and the revision)")
	flag.StringVar(&cfg.out, "out", "bin/bench", "directory for results.md, results.svg and profile.md (made if missing)")
	flag.IntVar(&cfg.runs, "runs", 100, "scenario 1: sequential `run true` per runtime")
	flag.IntVar(&cfg.cycles, "cycles", 50, "scenario 2: create/start/delete cycles per runtime")
	flag.IntVar(&cfg.execs, "execs", 100, "scenario 3: execs per runtime")
	flag.StringVar(&par, "par", "10,25,50,100", "scenario 4: parallel container counts (issue 18 asks for no failure at any of these)")
	flag.IntVar(&cfg.parReps, "par-reps", 9, "scenario 4: repetitions per count (wall times vary by 10-30% from run to run on a 2-CPU guest)")
	flag.IntVar(&cfg.memReps, "mem-reps", 5, "scenario 5: repetitions")
	flag.DurationVar(&cfg.shimIdle, "shim-idle", 130*time.Second, "scenario 5: idle shims are measured again this long after their container started (past the Go runtime's periodic GC, forced every 2 minutes); 0: only after 500 ms")
	flag.BoolVar(&cfg.profile, "profile", true, "write profile.md (strace, perf, hyperfine)")
	flag.BoolVar(&cfg.quick, "quick", false, "few repetitions, for trying the bench out")
	flag.Parse()
	for _, s := range strings.Split(par, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad -par %q\n", par)
			os.Exit(2)
		}
		cfg.par = append(cfg.par, n)
	}
	if cfg.quick {
		cfg.runs, cfg.cycles, cfg.execs, cfg.parReps, cfg.memReps = 10, 5, 10, 1, 1
		cfg.shimIdle = 0
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root")
		os.Exit(2)
	}
	for _, p := range []*string{&cfg.hull, &cfg.out, &cfg.repo} {
		if a, err := filepath.Abs(*p); err == nil {
			*p = a
		}
	}
	os.Exit(run(cfg))
}

func run(cfg config) int {
	b, err := newBench(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: setup:", err)
		if b != nil {
			b.cleanup()
		}
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "bench: %v: stopping after the current step, then cleaning up\n", s)
		b.stop.Store(true)
	}()

	start := time.Now()
	b.loadBefore = loadavg()
	steps := []struct {
		name string
		f    func()
	}{
		{"1/5 run `true`, sequential", b.scenRun},
		{"2/5 create + start + delete cycles", b.scenCycle},
		{"3/5 exec `true` into a running container", b.scenExec},
		{"4/5 containers created and started in parallel", b.scenParallel},
		{"5/5 memory", b.scenMemory},
	}
	for _, s := range steps {
		if b.stop.Load() {
			break
		}
		t := time.Now()
		fmt.Printf("== %s\n", s.name)
		s.f()
		b.checkNoLeftovers(s.name)
		fmt.Printf("   (%.1fs)\n", time.Since(t).Seconds())
	}
	b.loadAfter = loadavg()
	b.elapsed = time.Since(start)
	var prof *profile
	if cfg.profile && !b.stop.Load() {
		fmt.Println("== profile: strace, perf stat, hyperfine, startup floor")
		t := time.Now()
		prof = b.profile()
		b.checkNoLeftovers("profile")
		fmt.Printf("   (%.1fs)\n", time.Since(t).Seconds())
	}
	b.cleanup()
	must(os.MkdirAll(cfg.out, 0o755))
	md := b.resultsMarkdown()
	must(os.WriteFile(filepath.Join(cfg.out, "results.md"), []byte(md), 0o644))
	must(os.WriteFile(filepath.Join(cfg.out, "results.svg"), []byte(b.svg()), 0o644))
	if prof != nil {
		must(os.WriteFile(filepath.Join(cfg.out, "profile.md"), []byte(prof.markdown(b)), 0o644))
	}
	fmt.Println()
	fmt.Print(md)
	fmt.Printf("\nwrote %s/results.md, results.svg", cfg.out)
	if prof != nil {
		fmt.Print(", profile.md")
	}
	fmt.Println()
	if len(b.problems) > 0 {
		fmt.Fprintf(os.Stderr, "\nbench: %d problem(s):\n", len(b.problems))
		for _, p := range b.problems {
			fmt.Fprintln(os.Stderr, "  -", p)
		}
		return 1
	}
	if b.stop.Load() {
		return 1
	}
	return 0
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// reapStray reaps exited children nobody waits for (orphans reparented to
// us as the child subreaper), without blocking.
func reapStray() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
	}
}
