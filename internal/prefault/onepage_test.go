package prefault

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mapping is one of /proc/self/smaps' mappings of this executable.
type mapping struct {
	Start, End uintptr
	Perms      string
	UW         bool // VmFlags has uw: registered for userfaultfd write-protection
	Present    int  // pages present in the page tables (pagemap)
}

// onePageSeen is what a child reports of its own start.
type onePageSeen struct {
	State    int
	Fd       int
	Errno    int
	Ranges   [][2]uintptr
	FdLink   string // what the userfaultfd's fd points at
	CloExec  bool
	Stdin    string // what fd 0 points at
	Mappings []mapping
}

func exeMappings() ([]mapping, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []mapping
	var cur *mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			cur = nil
			if len(fields) < 6 || fields[5] != exe {
				continue
			}
			lo, hi, _ := strings.Cut(fields[0], "-")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			z, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("smaps line %q", sc.Text())
			}
			ms = append(ms, mapping{Start: uintptr(a), End: uintptr(z), Perms: fields[1]})
			cur = &ms[len(ms)-1]
			continue
		}
		if cur != nil && len(fields) > 0 && fields[0] == "VmFlags:" {
			for _, fl := range fields[1:] {
				cur.UW = cur.UW || fl == "uw"
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		return nil, err
	}
	defer pm.Close()
	pg := uintptr(os.Getpagesize())
	for i := range ms {
		n := int((ms[i].End - ms[i].Start) / pg)
		buf := make([]byte, 8*n)
		if _, err := pm.ReadAt(buf, int64(ms[i].Start/pg*8)); err != nil {
			return nil, fmt.Errorf("pagemap: %w", err)
		}
		for j := range n {
			if binary.LittleEndian.Uint64(buf[8*j:])&(1<<63) != 0 {
				ms[i].Present++
			}
		}
	}
	return ms, nil
}

// onePageChild is the child side of TestOnePage: it prints what it sees
// as JSON, before the tests' own work.
func onePageChild() error {
	s := onePageSeen{State: state(), Fd: onePageFd(), Errno: int(onePageErrno()), Ranges: onePageRanges()}
	var err error
	if s.Fd >= 0 {
		if s.FdLink, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(s.Fd)); err != nil {
			return err
		}
		fl, err := unix.FcntlInt(uintptr(s.Fd), unix.F_GETFD, 0)
		if err != nil {
			return err
		}
		s.CloExec = fl&unix.FD_CLOEXEC != 0
	}
	if s.Stdin, err = os.Readlink("/proc/self/fd/0"); err != nil {
		return err
	}
	if s.Mappings, err = exeMappings(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(s)
}

// onePage runs bin's child side with stdin closed (by the shell), the
// argument arg (which names the command: "run" is one the constructor
// registers for, "start" not) and childEnv(env...).
func onePage(t *testing.T, bin, arg string, env ...string) onePageSeen {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", `exec "$0" -test.run='^$' "$1" <&-`, bin, arg)
	cmd.Env = append(childEnv(env...), "PREFAULT_TEST_ONEPAGE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child %v: %v: %s", env, err, out)
	}
	var s onePageSeen
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("child %v: output %q: %v", env, out, err)
	}
	return s
}

// kernelAtLeast says whether uname's release is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var a, b int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &a, &b); err != nil {
		t.Fatalf("release %q: %v", u.Release[:], err)
	}
	return a > major || a == major && b >= minor
}

// Where faults are cheap, a command that stays (here "run") has the
// read-only segments registered with a userfaultfd, and the kernel maps
// them a page per fault: fewer pages of code in the page tables than
// without. The fd is not one of 0-2 even when the caller closed one, and
// is closed on exec.
func TestOnePage(t *testing.T) {
	bin := testCopy(t)
	s := onePage(t, bin, "run")
	if s.State != stateCheap {
		t.Skipf("state %d: faults are not cheap here, the binary was populated instead", s.State)
	}
	if len(s.Ranges) == 0 {
		switch errno := unix.Errno(s.Errno); {
		case errno == unix.ENOSYS || errno == unix.EPERM:
			t.Skipf("no userfaultfd for this process (a kernel without it, or a seccomp filter): %v", errno)
		case !kernelAtLeast(t, 6, 7):
			t.Skipf("no userfaultfd with asynchronous write-protection before Linux 6.7: %v", errno)
		default:
			t.Fatalf("nothing registered on Linux 6.7 or later: %v", errno)
		}
	}
	if s.Fd < 3 || s.FdLink != "anon_inode:[userfaultfd]" || !s.CloExec {
		t.Errorf("the userfaultfd is fd %d -> %q, close-on-exec %v; want 3 or above, a userfaultfd, close-on-exec", s.Fd, s.FdLink, s.CloExec)
	}
	if s.Stdin != "/dev/null" {
		t.Errorf("started with fd 0 closed, fd 0 is %q; want /dev/null (the Go runtime's)", s.Stdin)
	}

	// The ranges: every segment not writable.
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pg := uint64(os.Getpagesize())
	var want [][2]uintptr
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_W == 0 {
			want = append(want, [2]uintptr{uintptr(p.Vaddr &^ (pg - 1)), uintptr((p.Vaddr + p.Filesz + pg - 1) &^ (pg - 1))})
		}
	}
	if fmt.Sprint(s.Ranges) != fmt.Sprint(want) {
		t.Errorf("registered %#x, want %#x", s.Ranges, want)
	}
	in := func(m mapping) bool {
		for _, r := range s.Ranges {
			if r[0] <= m.Start && m.End <= r[1] {
				return true
			}
		}
		return false
	}
	text := -1
	for _, m := range s.Mappings {
		if m.UW != in(m) {
			t.Errorf("mapping %#x-%#x %s: uw %v, want %v", m.Start, m.End, m.Perms, m.UW, in(m))
		}
		if m.Perms == "r-xp" {
			text = m.Present
		}
	}

	// The kernel's default for comparison: fault-around.
	d := onePage(t, bin, "run", "HULL_NO_PREFAULT=1")
	if d.Fd != -1 || len(d.Ranges) != 0 {
		t.Errorf("HULL_NO_PREFAULT=1: fd %d, ranges %#x; want none", d.Fd, d.Ranges)
	}
	dtext := -1
	for _, m := range d.Mappings {
		if m.UW {
			t.Errorf("HULL_NO_PREFAULT=1: mapping %#x-%#x %s registered", m.Start, m.End, m.Perms)
		}
		if m.Perms == "r-xp" {
			dtext = m.Present
		}
	}
	t.Logf("code pages in the page tables: %d a page per fault, %d with fault-around", text, dtext)
	if text < 0 || dtext < 0 || text >= dtext {
		t.Errorf("code pages present: %d registered, %d not; want fewer registered", text, dtext)
	}

	// A process hull starts in a container is left alone.
	if c := onePage(t, bin, "run", "_HULL_INIT=3"); c.Fd != -1 || len(c.Ranges) != 0 {
		t.Errorf("_HULL_INIT=3: fd %d, ranges %#x; want none", c.Fd, c.Ranges)
	}
	// A command that ends within milliseconds is left to fault-around.
	if c := onePage(t, bin, "start"); c.Fd != -1 || len(c.Ranges) != 0 {
		t.Errorf("start: fd %d, ranges %#x; want none", c.Fd, c.Ranges)
	}
}
