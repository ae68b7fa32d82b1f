package prefault

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mappingEnd is the end of the mapping that holds addr.
func mappingEnd(addr uintptr) (uintptr, error) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		lo, rest, ok := strings.Cut(l, "-")
		if !ok {
			continue
		}
		hi, _, _ := strings.Cut(rest, " ")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && uintptr(a) <= addr && addr < uintptr(z) {
			return uintptr(z), nil
		}
	}
	return 0, fmt.Errorf("%#x is in no mapping", addr)
}

// heapResident is the share of the populated range's pages resident now
// (the range clipped to the heap's mapping); -1 if nothing was populated.
func heapResident() (float64, error) {
	if heapStart == 0 {
		return -1, nil
	}
	end, err := mappingEnd(heapStart)
	if err != nil {
		return 0, err
	}
	n := min(uintptr(heapAhead), end-heapStart)
	pg := uintptr(os.Getpagesize())
	vec := make([]byte, n/pg)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, heapStart, n, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return 0, fmt.Errorf("mincore: %w", e)
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec)), nil
}

// textResident is Rss/Size of this executable's code mapping.
func textResident() (float64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	size := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && strings.Contains(fields[0], "-") {
			in = fields[1] == "r-xp" && fields[5] == exe
			continue
		}
		if !in || len(fields) < 2 {
			continue
		}
		v, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Size:":
			size = v
		case "Rss:":
			if size == 0 {
				return 0, fmt.Errorf("no Size before Rss")
			}
			return float64(v) / float64(size), nil
		}
	}
	return 0, fmt.Errorf("no r-xp mapping of %s in /proc/self/smaps", exe)
}

// dataRange is the part of the executable's writable segment the
// constructor populates: past RELRO, at most C.HULL_PREFAULT_DATA_MAX.
func dataRange() (start, end uintptr, err error) {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	pg := uint64(os.Getpagesize())
	up := func(v uint64) uint64 { return (v + pg - 1) &^ (pg - 1) }
	var relroEnd, lo, hi uint64
	for _, p := range f.Progs {
		switch {
		case p.Type == elf.PT_GNU_RELRO:
			relroEnd = up(p.Vaddr + p.Memsz)
		case p.Type == elf.PT_LOAD && p.Flags&elf.PF_W != 0:
			lo, hi = p.Vaddr&^(pg-1), up(p.Vaddr+p.Memsz)
		}
	}
	lo = max(lo, relroEnd)
	hi = min(hi, lo+dataMax)
	if lo >= hi {
		return 0, 0, fmt.Errorf("no writable segment past RELRO in /proc/self/exe")
	}
	return uintptr(lo), uintptr(hi), nil
}

// dataResident is the share of dataRange's pages that are this process's
// own by now (present in /proc/self/pagemap and not a file page: written,
// or populated for writing); a page only read is still the page cache's.
func dataResident() (float64, error) {
	start, end, err := dataRange()
	if err != nil {
		return 0, err
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return 0, err
	}
	defer pm.Close()
	pg := uintptr(os.Getpagesize())
	n := int((end - start) / pg)
	buf := make([]byte, 8*n)
	if _, err := pm.ReadAt(buf, int64(start/pg*8)); err != nil {
		return 0, fmt.Errorf("pagemap: %w", err)
	}
	own := 0
	for i := range n {
		e := binary.LittleEndian.Uint64(buf[8*i:])
		if e&(1<<63) != 0 && e&(1<<61) == 0 {
			own++
		}
	}
	return float64(own) / float64(n), nil
}

// The child side of TestPrefault prints the code's and the heap range's
// resident shares, before the tests' own work; TestOnePage's its own.
func TestMain(m *testing.M) {
	if os.Getenv("PREFAULT_TEST_ONEPAGE") != "" {
		if err := onePageChild(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("PREFAULT_TEST_CHILD") != "" {
		text, err := textResident()
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		heap, err := heapResident()
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		data, err := dataResident()
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Printf("%.3f %.3f %.3f %d %d\n", text, heap, data, state(), faultNs())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testCopy is this test binary copied with write(2): the linker's own
// output sits in the page cache in large folios, which fault-around maps
// whole, so its code is all resident with or without prefault.
func testCopy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "prefault.test")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// result is what a child process saw of its own start.
type result struct {
	text, heap, data float64 // resident shares; heap -1: not populated
	state            int     // the constructor's decision
	faultNs          int64   // the fault time it measured
}

// childEnv is this process's environment with env added, less
// HULL_PREFAULT and HULL_NO_PREFAULT: the caller's own would decide for
// every case.
func childEnv(env ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HULL_PREFAULT=") && !strings.HasPrefix(e, "HULL_NO_PREFAULT=") {
			out = append(out, e)
		}
	}
	return append(out, env...)
}

func child(t *testing.T, bin string, env ...string) result {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(childEnv(env...), "PREFAULT_TEST_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %v: %v: %s", env, err, out)
	}
	var r result
	if _, err := fmt.Sscanf(string(out), "%f %f %f %d %d", &r.text, &r.heap, &r.data, &r.state, &r.faultNs); err != nil {
		t.Fatalf("child %v: output %q: %v", env, out, err)
	}
	return r
}

// The heap check can fail only where the range reaches beyond what the
// process would touch anyway; the code check can (without prefault, 86%
// of the copy's code was resident at that point here).
func TestPrefault(t *testing.T) {
	bin := testCopy(t)
	r := child(t, bin, "HULL_PREFAULT=1")
	t.Logf("HULL_PREFAULT=1: resident: code %.1f%%, heap range %.1f%%, writable data %.1f%%", r.text*100, r.heap*100, r.data*100)
	if r.state != stateDone {
		t.Errorf("HULL_PREFAULT=1: state %d, want %d (populated)", r.state, stateDone)
	}
	if r.text < 0.999 {
		t.Errorf("code mapping %.1f%% resident at start, want all of it", r.text*100)
	}
	if r.data < 0.999 {
		t.Errorf("writable data %.1f%% populated, want all of it", r.data*100)
	}
	if r.heap < 0.95 {
		t.Errorf("heap range %.0f%% resident, want all of it", r.heap*100)
	}
	// Left alone: a process hull starts in a container, and on request,
	// even with HULL_PREFAULT set. The init follows the constructor's
	// decision (the heap check).
	for _, env := range [][]string{{"_HULL_INIT=3"}, {"HULL_NO_PREFAULT=1"}, {"_HULL_INIT=3", "HULL_PREFAULT=1"}, {"HULL_NO_PREFAULT=1", "HULL_PREFAULT=1"}} {
		r := child(t, bin, env...)
		if r.state != stateSkipped || r.faultNs != -1 {
			t.Errorf("with %s: state %d, fault timed %d ns; want %d, not timed", env, r.state, r.faultNs, stateSkipped)
		}
		if r.heap != -1 {
			t.Errorf("with %s: the heap was populated", env)
		}
		if r.data > 0.99 {
			t.Errorf("with %s: writable data %.1f%% populated, want what the process touched", env, r.data*100)
		}
	}
}

// Without HULL_PREFAULT the constructor decides by the fault it timed:
// populate from HULL_PREFAULT_FAULT_NS up, not below. Which of the two a
// machine gets is its own; the decision must match the time either way.
func TestPrefaultDecides(t *testing.T) {
	bin := testCopy(t)
	for range 3 {
		r := child(t, bin)
		t.Logf("a fault took %d ns (threshold %d): state %d; resident: code %.1f%%, heap range %.1f%%, writable data %.1f%%",
			r.faultNs, thresholdNs, r.state, r.text*100, r.heap*100, r.data*100)
		if r.faultNs <= 0 {
			t.Fatalf("fault time %d ns: the constructor timed nothing", r.faultNs)
		}
		want := stateDone
		if r.faultNs < thresholdNs {
			want = stateCheap
		}
		if r.state != want {
			t.Errorf("fault %d ns, threshold %d: state %d, want %d", r.faultNs, thresholdNs, r.state, want)
		}
		if r.state == stateCheap && (r.heap != -1 || r.data > 0.99) {
			t.Errorf("not populating, yet heap %.0f%%, data %.1f%%", r.heap*100, r.data*100)
		}
		if r.state == stateDone && (r.heap < 0.95 || r.data < 0.999) {
			t.Errorf("populating, yet heap %.0f%%, data %.1f%%", r.heap*100, r.data*100)
		}
	}
}

// Threads that malloc, each its first time, share the one arena: without
// M_ARENA_MAX each would get an arena of its own.
func TestOneArena(t *testing.T) {
	const n = 6
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)
	release := make(chan struct{})
	for range n {
		go func() {
			defer done.Done()
			// Locked, and all blocked at once: six threads, the
			// ones made for them new.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			mallocFree()
			ready.Done()
			<-release
		}()
	}
	ready.Wait()
	got := arenas()
	close(release)
	done.Wait()
	if got != 1 {
		t.Errorf("%d malloc arenas after %d threads malloc'd, want 1", got, n)
	}
}
