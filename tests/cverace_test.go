package tests

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The two tests here replay the shape of two runc vulnerabilities in which
// one container, sharing a volume with another, swaps a directory of the
// volume for a symlink while the runtime sets up the other container's
// mounts:
//
//   - CVE-2021-30465: the runtime resolved a mount destination inside the
//     rootfs, then called mount(2) on the path; the kernel followed the
//     symlink swapped in meanwhile, and the mount landed outside the rootfs.
//   - CVE-2024-45310: the runtime created missing mount points with a plain
//     mkdir -p / create on a resolved path; a component swapped for a symlink
//     in between made it create directories and files on the host.
//
// The symlinks point at the absolute host path of a sentinel directory of
// the test (or climb to it with ../..). Resolved inside the rootfs, as the
// runtime must, that path is a harmless directory of the container's own
// rootfs; followed on the host, it is the sentinel. So after every round:
// the sentinel has gained nothing, the host has no new mount, and every
// bind mount of the victim is in the victim's own mount table at a place
// inside its root (a mount made on a host path in the victim's namespace
// before pivot_root vanishes with the old root, so a missing mount is an
// escape too). The victim may fail to be created: a refusal is safe.

// swapperSource is the attacker, built static at test time so that it runs
// in the busybox rootfs. For each argument "x:NAME" it flips NAME and
// NAME.lnk with renameat2(RENAME_EXCHANGE), so NAME is always either the
// directory or the symlink. For "m:NAME" it moves them in turn (NAME to
// NAME.dir, NAME.lnk to NAME, NAME to NAME.lnk, NAME.dir to NAME), so NAME
// is at times missing and the runtime has to create it. Every rename is
// RENAME_NOREPLACE or RENAME_EXCHANGE: the attacker never renames over a
// directory, which would silently detach a mount that the victim has on it
// (a mount point removed in another namespace is unmounted there); a
// directory the runtime made while NAME was missing is moved aside to
// NAME.hN instead. It writes the number of successful renames to its
// first argument now and then (proof that the race runs). Upper-case "X:"
// and "M:" do the same at a slower pace (one rename per 64 rounds of the
// loop, a few every millisecond), which a runtime sometimes gets through.
const swapperSource = `package main

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

const (
	sysRenameat2    = %d
	renameNoreplace = 1
	renameExchange  = 2
)

func rename(from, to string, flags uintptr) syscall.Errno {
	a, _ := syscall.BytePtrFromString(from)
	b, _ := syscall.BytePtrFromString(to)
	cwd := -100 // AT_FDCWD
	_, _, e := syscall.Syscall6(sysRenameat2, uintptr(cwd), uintptr(unsafe.Pointer(a)),
		uintptr(cwd), uintptr(unsafe.Pointer(b)), flags, 0)
	return e
}

type entry struct {
	name               string
	move               bool
	every, step, aside int
}

func main() {
	count := os.Args[1]
	var es []*entry
	for _, a := range os.Args[2:] {
		e := &entry{name: a[2:], move: a[0] == 'm' || a[0] == 'M', every: 1}
		if a[0] == 'X' || a[0] == 'M' {
			e.every = 64
		}
		es = append(es, e)
	}
	var ok uint64
	for iter := uint64(1); ; iter++ {
		for _, e := range es {
			if iter%%uint64(e.every) != 0 {
				continue
			}
			if !e.move {
				if rename(e.name, e.name+".lnk", renameExchange) == 0 {
					ok++
				}
				continue
			}
			from, to := e.name, e.name+".dir"
			switch e.step {
			case 1:
				from, to = e.name+".lnk", e.name
			case 2:
				from, to = e.name, e.name+".lnk"
			case 3:
				from, to = e.name+".dir", e.name
			}
			switch rename(from, to, renameNoreplace) {
			case 0:
				ok++
				e.step = (e.step + 1) %% 4
			case syscall.EEXIST:
				e.aside++
				rename(e.name, e.name+".h"+strconv.Itoa(e.aside), renameNoreplace)
			}
		}
		if iter%%2048 == 1 {
			_ = os.WriteFile(count+".tmp", []byte(strconv.FormatUint(ok, 10)), 0o644)
			_ = os.Rename(count+".tmp", count)
		}
	}
}
`

// buildSwapper compiles swapperSource into a static binary under e.base.
func buildSwapper(t *testing.T, e *env) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go toolchain to build the attacker (renameat2 loop): %v", err)
	}
	dir := e.mkdir("swapper")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(fmt.Sprintf(swapperSource, unix.SYS_RENAMEAT2)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "build", "-o", "cveswap", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local", "GO111MODULE=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the attacker (renameat2 loop) failed: %v: %s", err, out)
	}
	return filepath.Join(dir, "cveswap")
}

// raceEntry is a name in the shared volume that the attacker flips between
// a real directory and a symlink that points out of the volume.
type raceEntry struct {
	name   string // the path component the victim's mount destinations go through
	target string // the symlink's target: a sentinel path, absolute or ../../ relative
	move   bool   // flipped by moves (name at times missing) rather than RENAME_EXCHANGE
	slow   bool   // flipped a few times a millisecond rather than flat out
}

// relTarget is hostPath reached by climbing from anywhere with "..": on the
// host it leads to hostPath; inside a rootfs ".." stops at its root.
func relTarget(hostPath string) string {
	return strings.Repeat("../", 16) + strings.TrimPrefix(hostPath, "/")
}

// endNoRace checks the host after the round without a race and stops the
// test if that round failed: the race would tell nothing more.
func endNoRace(t *testing.T, host []*mountinfo.Info, sentinel string, keep []string) {
	t.Helper()
	checkHostMounts(t, "no race", host)
	checkSentinel(t, "no race", sentinel, keep)
	if t.Failed() {
		t.FailNow()
	}
}

// startRace makes the shared volume with entries and starts the attacker
// swapping them; before is its rename count at the start.
func startRace(t *testing.T, e *env, entries []raceEntry) (vol string, a *attacker, before uint64) {
	t.Helper()
	vol = e.mkdir("vol")
	setupRaceVolume(t, vol, entries)
	a = startAttacker(t, e, vol, entries)
	return vol, a, a.progress()
}

// setupRaceVolume lays out, for each entry, the directory NAME and the
// symlink NAME.lnk that the attacker swaps.
func setupRaceVolume(t *testing.T, vol string, entries []raceEntry) {
	t.Helper()
	for _, en := range entries {
		if err := os.Mkdir(filepath.Join(vol, en.name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(en.target, filepath.Join(vol, en.name+".lnk")); err != nil {
			t.Fatal(err)
		}
	}
}

// attacker is the container that flips the entries of the shared volume.
type attacker struct {
	id, vol string
}

// startAttacker starts container A with vol at /vol, running the swapper
// on the entries, and returns once it is making progress.
func startAttacker(t *testing.T, e *env, vol string, entries []raceEntry) *attacker {
	t.Helper()
	swapBin := buildSwapper(t, e)
	args := []string{"/bin/cveswap", "/vol/.swaps"}
	for _, en := range entries {
		mode := "x"
		if en.move {
			mode = "m"
		}
		if en.slow {
			mode = strings.ToUpper(mode)
		}
		args = append(args, mode+":"+en.name)
	}
	bundle := e.newBundle(all(
		withMount(volMount(vol)),
		withArgs(args...),
		func(s *specs.Spec) { s.Process.Cwd = "/vol" },
	))
	b, err := os.ReadFile(swapBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeExecutable(filepath.Join(bundle, "rootfs/bin/cveswap"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	a := &attacker{vol: vol}
	a.id, _ = e.create(bundle)
	e.mustRT("start", a.id)
	e.waitStatus(a.id, "running")
	for deadline := time.Now().Add(10 * time.Second); a.progress() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("attacker %s made no rename in 10s", a.id)
		}
	}
	return a
}

// progress returns the attacker's count of successful renames.
func (a *attacker) progress() uint64 {
	b, _ := os.ReadFile(filepath.Join(a.vol, ".swaps"))
	n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// stop checks that the attacker still ran (it raced the whole time) and
// force-deletes it.
func (a *attacker) stop(t *testing.T, e *env, before uint64) {
	t.Helper()
	n := a.progress()
	t.Logf("attacker: %d successful renames during the victim rounds", n-before)
	if n <= before {
		t.Errorf("the attacker made no rename during the victim rounds: the race did not run")
	}
	if st := e.state(a.id); st.Status != "running" {
		t.Errorf("attacker %s is %q, want running: the race stopped early", a.id, st.Status)
	}
	e.mustRT("delete", "--force", a.id)
}

// victimRound creates (does not start) a container from bundle: by then
// every mount of config.json is made. It returns the container's mount
// table as seen from its root and the host's mounts under e.base taken
// while it existed, then force-deletes it. ok is false if create failed.
func victimRound(t *testing.T, e *env, bundle string) (inside, host []*mountinfo.Info, r result, ok bool) {
	t.Helper()
	id := e.newID()
	pidFile := filepath.Join(e.base, id+".pid")
	r = e.rt("create", "--bundle", bundle, "--pid-file", pidFile, id)
	if r.Code != 0 {
		host = mountsUnder(e.base)
		e.rt("delete", "--force", id) // may well say it does not exist
		return nil, host, r, false
	}
	pid := e.readPidFile(pidFile)
	// /proc/PID/mountinfo shows mount points relative to PID's root and
	// leaves out mounts outside it.
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err == nil {
		inside, err = mountinfo.GetMountsFromReader(f, nil)
		f.Close()
	}
	if err != nil {
		t.Errorf("reading the mount table of container %s (pid %d): %v", id, pid, err)
	}
	host = mountsUnder(e.base)
	if d := e.rt("delete", "--force", id); d.Code != 0 {
		t.Errorf("delete --force %s: %v", id, d)
	}
	return inside, host, r, true
}

// mountsOf returns the mounts in ms whose source (root) is the host path
// src.
func mountsOf(ms []*mountinfo.Info, src string) []*mountinfo.Info {
	var found []*mountinfo.Info
	for _, m := range ms {
		// Root is relative to the source filesystem: src itself when it
		// lies on the root filesystem, a suffix of it otherwise.
		if m.Root == src || strings.HasSuffix(src, m.Root) && strings.HasSuffix(m.Root, "/"+filepath.Base(src)) {
			found = append(found, m)
		}
	}
	return found
}

// mountpointsOf returns where the mounts whose source (root) is the host
// path src are mounted in ms.
func mountpointsOf(ms []*mountinfo.Info, src string) []string {
	var mps []string
	for _, m := range mountsOf(ms, src) {
		mps = append(mps, m.Mountpoint)
	}
	return mps
}

// checkHostMounts fails the test for every host mount under e.base: the
// containers' mounts live in their own namespaces, so any such mount is a
// mount that escaped to the host.
func checkHostMounts(t *testing.T, when string, host []*mountinfo.Info) {
	t.Helper()
	for _, m := range host {
		t.Errorf("%s: a mount appeared on the host: %s (root %s, %s)", when, m.Mountpoint, m.Root, m.FSType)
	}
}

// checkSentinel fails the test for anything below the host sentinel dir
// except the directories it was given (keep, relative names), and reports
// whether it is clean. The symlinks point there: anything new was created
// by following a symlink on the host.
func checkSentinel(t *testing.T, when, sentinel string, keep []string) bool {
	t.Helper()
	allowed := map[string]bool{}
	for _, k := range keep {
		allowed[k] = true
	}
	var extra []string
	err := filepath.WalkDir(sentinel, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(sentinel, p); rel != "." && !(allowed[rel] && d.IsDir()) {
			extra = append(extra, p)
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s: walking the sentinel %s: %v", when, sentinel, err)
		return false
	}
	sort.Strings(extra)
	for _, p := range extra {
		t.Errorf("%s: host path %s was created through a symlink of the shared volume", when, p)
	}
	if mounted, err := mountinfo.Mounted(sentinel); err != nil || mounted {
		t.Errorf("%s: the host sentinel %s is a mount point (%v)", when, sentinel, err)
		return false
	}
	return len(extra) == 0
}

func volMount(vol string) specs.Mount {
	return specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "rw"}}
}

// TestCVE202130465MountSymlinkRace: container A has a volume V at /vol and
// flips V/dNN between a directory and a symlink to the host path of a
// sentinel directory sentinel/dNN (which exists on the host, so a mount
// through the symlink on the host would succeed). Container B has V at
// /vol too, and then binds host dirs on /vol/d00 ... /vol/d23. B is created
// round after round while A races. Each of B's binds must end up either on
// the volume's directory or, through the symlink resolved inside B's
// rootfs, on B's own <rootfs>/<sentinel>/dNN; never on the host.
func TestCVE202130465MountSymlinkRace(t *testing.T) {
	start := time.Now()
	e := newEnv(t)
	const n = 24
	sentinel := e.mkdir("sentinel")
	var entries []raceEntry
	var keep, srcs []string
	for k := 0; k < n; k++ {
		name := fmt.Sprintf("d%02d", k)
		hostTarget := filepath.Join(sentinel, name)
		if err := os.Mkdir(hostTarget, 0o755); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, name)
		target := hostTarget
		if k%2 == 1 {
			target = relTarget(hostTarget)
		}
		entries = append(entries, raceEntry{name: name, target: target, move: k%3 == 2})
		src := hostDir(t, e, fmt.Sprintf("cve30465-src-%02d", k))
		srcs = append(srcs, src)
	}
	victim := func(vol string) func(*specs.Spec) {
		return func(s *specs.Spec) {
			s.Process.Args = []string{"true"}
			s.Mounts = append(s.Mounts, volMount(vol))
			for k, en := range entries {
				opts := []string{"rbind"}
				switch k % 4 {
				case 2, 3:
					opts = append(opts, "rw") // sets the flags of the new mount
				case 1:
					// A read-only volume: the flag must reach this
					// mount, not wherever the destination points by
					// the time flags are set.
					opts = append(opts, "ro")
				}
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol/" + en.name, Type: "bind", Source: srcs[k], Options: opts})
			}
		}
	}

	// Without a race: every name is a symlink for good. The binds must be
	// made through the symlinks resolved in B's rootfs: at <sentinel>/dNN
	// as B sees it, which is a directory of B's rootfs.
	vol0 := e.mkdir("vol-static")
	for _, en := range entries {
		if err := os.Symlink(en.target, filepath.Join(vol0, en.name)); err != nil {
			t.Fatal(err)
		}
	}
	b0 := e.newBundle(victim(vol0))
	inside, host, r, ok := victimRound(t, e, b0)
	if !ok {
		t.Fatalf("create with the symlinks in place (no race) failed: %v", r)
	}
	for k, en := range entries {
		want := filepath.Join(sentinel, en.name)
		if mps := mountpointsOf(inside, srcs[k]); len(mps) != 1 || mps[0] != want {
			t.Errorf("no race: bind of %s on /vol/%s (symlink to %s) is mounted at %q in the container, want [%s] (inside its rootfs)",
				srcs[k], en.name, en.target, mps, want)
		}
		if _, err := os.Stat(filepath.Join(b0, "rootfs", want)); err != nil {
			t.Errorf("no race: the mount point was not made inside the rootfs: %v", err)
		}
	}
	endNoRace(t, host, sentinel, keep)

	// The race.
	vol, a, before := startRace(t, e, entries)
	bundle := e.newBundle(victim(vol))
	const rounds = 60
	var created, failed, viaDir, viaLink, missing int
	sentinelClean := true
	raceStart := time.Now()
	for round := 1; round <= rounds && time.Since(raceStart) < 12*time.Second; round++ {
		when := fmt.Sprintf("round %d", round)
		inside, host, r, ok := victimRound(t, e, bundle)
		checkHostMounts(t, when, host)
		if !ok {
			failed++
			if failed <= 3 {
				t.Logf("%s: create failed (allowed): %s", when, strings.TrimSpace(r.Stderr))
			}
		} else {
			created++
			for k, en := range entries {
				mps := mountpointsOf(inside, srcs[k])
				if len(mps) == 0 {
					missing++
					t.Errorf("%s: the bind of %s on /vol/%s is not in the container's mount table: it was mounted outside the container's root",
						when, srcs[k], en.name)
				}
				if k%4 == 1 {
					for _, mi := range mountsOf(inside, srcs[k]) {
						if !hasOpt(mi.Options, "ro") {
							t.Errorf("%s: the ro bind of %s on /vol/%s is mounted writable at %s (%s)", when, srcs[k], en.name, mi.Mountpoint, mi.Options)
						}
					}
				}
				for _, mp := range mps {
					switch {
					case mp == filepath.Join(sentinel, en.name):
						viaLink++
					case mp == "/vol/"+en.name || strings.HasPrefix(mp, "/vol/"+en.name+".") && !strings.Contains(mp[len("/vol/"):], "/"):
						// The volume's directory, possibly renamed by the
						// attacker (to NAME.lnk, NAME.dir, NAME.hN) after
						// it was resolved.
						viaDir++
					default:
						t.Errorf("%s: the bind of %s on /vol/%s is mounted at %s in the container", when, srcs[k], en.name, mp)
					}
				}
			}
		}
		if sentinelClean = checkSentinel(t, when, sentinel, keep); !sentinelClean {
			break // the escape is reported; later rounds would only repeat it
		}
	}
	a.stop(t, e, before)
	if sentinelClean {
		checkSentinel(t, "after the race", sentinel, keep)
	}
	checkHostMounts(t, "after the race", mountsUnder(e.base))
	t.Logf("%d rounds in %v: %d created, %d failed to create; binds resolved to the volume's dir %d times, through the symlink inside the rootfs %d times, missing %d times; test took %v",
		created+failed, time.Since(raceStart).Round(time.Millisecond), created, failed, viaDir, viaLink, missing, time.Since(start).Round(time.Millisecond))
}

// TestCVE202445310SharedVolumeRace: container A has a volume V at /vol and
// flips V/xN between a directory and a symlink to the host path of a
// sentinel directory sentinel/sN. Container B has V at /vol too, and
// bind-mounts a dir on /vol/xN/rR/a/b/newdir and a file on /vol/xN/rR-f,
// fresh names every round R, so the runtime must create the missing
// directories and the file each time. x0, x1, x3, x4 are exchanged, x2 and
// x5 moved (so xN is at times missing and gets created too); x3..x5 at a
// slower pace. Whatever A does, nothing may be created in the sentinel:
// every mount point the runtime makes is in the volume or in B's rootfs.
func TestCVE202445310SharedVolumeRace(t *testing.T) {
	start := time.Now()
	e := newEnv(t)
	const n = 6
	sentinel := e.mkdir("sentinel")
	var entries []raceEntry
	var keep, srcDirs, srcFiles []string
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("s%d", i)
		hostTarget := filepath.Join(sentinel, s)
		if err := os.Mkdir(hostTarget, 0o755); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, s)
		target := hostTarget
		if i%2 == 1 {
			target = relTarget(hostTarget)
		}
		entries = append(entries, raceEntry{name: fmt.Sprintf("x%d", i), target: target, move: i%3 == 2, slow: i >= n/2})
		srcDirs = append(srcDirs, hostDir(t, e, fmt.Sprintf("cve45310-srcdir-%d", i)))
		f := filepath.Join(e.base, fmt.Sprintf("cve45310-srcfile-%d", i))
		if err := os.WriteFile(f, []byte("file-from-host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		srcFiles = append(srcFiles, f)
	}
	// Even rounds go through every entry. Through so many racing names the
	// victim (rightly) fails almost always, so odd rounds go through one
	// entry only, giving the runtime a chance to get through the race.
	usesEntry := func(round, i int) bool { return round%2 == 0 || (round/2)%n == i }
	dirDst := func(x string, round int) string { return fmt.Sprintf("/vol/%s/r%d/a/b/newdir", x, round) }
	fileDst := func(x string, round int) string { return fmt.Sprintf("/vol/%s/r%d-f", x, round) }
	// victimSpec is B's config.json for round: V at /vol, then the binds
	// whose mount points do not exist yet.
	victimSpec := func(base *specs.Spec, vol string, round int) *specs.Spec {
		s := *base
		s.Mounts = append(append([]specs.Mount{}, base.Mounts...), volMount(vol))
		for i, en := range entries {
			if !usesEntry(round, i) {
				continue
			}
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: dirDst(en.name, round), Type: "bind", Source: srcDirs[i], Options: []string{"rbind"}},
				specs.Mount{Destination: fileDst(en.name, round), Type: "bind", Source: srcFiles[i], Options: []string{"bind"}})
		}
		return &s
	}
	// inRoot is where a destination through entry i lands when the symlink
	// is resolved inside B's rootfs: below <sentinel>/sN of B's rootfs.
	inRoot := func(i int, dst, x string) string {
		return filepath.Join(sentinel, keep[i], strings.TrimPrefix(dst, "/vol/"+x+"/"))
	}

	// Without a race: every xN is a symlink for good. Everything must be
	// created inside B's rootfs.
	vol0 := e.mkdir("vol-static")
	for _, en := range entries {
		if err := os.Symlink(en.target, filepath.Join(vol0, en.name)); err != nil {
			t.Fatal(err)
		}
	}
	b0 := e.newBundle(withArgs("true"))
	writeSpec(t, b0, victimSpec(loadSpec(t, b0), vol0, 0))
	inside, host, r, ok := victimRound(t, e, b0)
	if !ok {
		t.Fatalf("create with the symlinks in place (no race) failed: %v", r)
	}
	for i, en := range entries {
		for _, c := range []struct{ src, dst string }{{srcDirs[i], dirDst(en.name, 0)}, {srcFiles[i], fileDst(en.name, 0)}} {
			want := inRoot(i, c.dst, en.name)
			if mps := mountpointsOf(inside, c.src); len(mps) != 1 || mps[0] != want {
				t.Errorf("no race: bind of %s on %s (%s a symlink to %s) is mounted at %q in the container, want [%s] (inside its rootfs)",
					c.src, c.dst, en.name, en.target, mps, want)
			}
			if _, err := os.Stat(filepath.Join(b0, "rootfs", want)); err != nil {
				t.Errorf("no race: the mount point was not made inside the rootfs: %v", err)
			}
		}
	}
	endNoRace(t, host, sentinel, keep)

	// The race.
	vol, a, before := startRace(t, e, entries)
	bundle := e.newBundle(withArgs("true"))
	base := loadSpec(t, bundle)
	const rounds = 60
	var created, failed, viaDir, viaLink, mixed, missing int
	sentinelClean := true
	raceStart := time.Now()
	for round := 1; round <= rounds && time.Since(raceStart) < 12*time.Second; round++ {
		when := fmt.Sprintf("round %d", round)
		writeSpec(t, bundle, victimSpec(base, vol, round))
		inside, host, r, ok := victimRound(t, e, bundle)
		checkHostMounts(t, when, host)
		if !ok {
			failed++
			if failed <= 3 {
				t.Logf("%s: create failed (allowed): %s", when, strings.TrimSpace(r.Stderr))
			}
		} else {
			created++
			for i, en := range entries {
				if !usesEntry(round, i) {
					continue
				}
				for _, c := range []struct{ src, dst string }{{srcDirs[i], dirDst(en.name, round)}, {srcFiles[i], fileDst(en.name, round)}} {
					mps := mountpointsOf(inside, c.src)
					if len(mps) == 0 {
						missing++
						t.Errorf("%s: the bind of %s on %s is not in the container's mount table: it was mounted outside the container's root",
							when, c.src, c.dst)
					}
					rest := strings.TrimPrefix(c.dst, "/vol/"+en.name)
					for _, mp := range mps {
						switch mp {
						case inRoot(i, c.dst, en.name):
							viaLink++
						case c.dst, "/vol/" + en.name + ".lnk" + rest, "/vol/" + en.name + ".dir" + rest:
							viaDir++ // the volume's directory, renamed or not
						default:
							// A walk that went through the directory for some
							// components and through the symlink for others
							// still ends inside the volume or the rootfs copy
							// of the sentinel.
							if under(mp, "/vol") || under(mp, filepath.Join(sentinel, keep[i])) {
								mixed++
							} else {
								t.Errorf("%s: the bind of %s on %s is mounted at %s in the container", when, c.src, c.dst, mp)
							}
						}
					}
				}
			}
		}
		if sentinelClean = checkSentinel(t, when, sentinel, keep); !sentinelClean {
			break // the escape is reported; later rounds would only repeat it
		}
	}
	a.stop(t, e, before)
	if sentinelClean {
		checkSentinel(t, "after the race", sentinel, keep)
	}
	checkHostMounts(t, "after the race", mountsUnder(e.base))
	t.Logf("%d rounds in %v: %d created, %d failed to create; mount points in the volume %d times, through the symlink inside the rootfs %d times, partly each %d times, missing %d times; test took %v",
		created+failed, time.Since(raceStart).Round(time.Millisecond), created, failed, viaDir, viaLink, mixed, missing, time.Since(start).Round(time.Millisecond))
}
