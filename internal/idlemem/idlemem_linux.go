// Package idlemem lets a process that is about to wait for a long time
// give back the resident pages of its own executable's read-only mappings
// (code and constants). hull-shim uses it once the container runs: a Go
// program touches most of its binary while it starts, and the kernel's
// fault-around maps up to 16 neighbouring pages on each fault, so nearly
// the whole file stays resident in every idle shim, although the shim then
// runs only a few pages of it now and then. Those pages are clean copies
// of the file: after MADV_DONTNEED they come back from the page cache on
// their next use. Writable mappings and any page of a read-only one that
// was ever written (Anonymous in smaps) are left alone, since dropping a
// written private page would lose what was written. No cgo: the shim has
// none, so the mappings come from smaps; a created container's init does
// the same in C from its program headers (drop_ro in preinit.c), before
// any Go runs in it.
package idlemem

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Region is one mapping of smaps.
type Region struct {
	Start, End uint64
	Perms      string
	Dev        string // major:minor, hex, as smaps has it
	Inode      uint64
	Path       string
	Anonymous  uint64 // kB of written (anonymous) pages in it
	Rss        uint64 // kB resident
}

// DropExecutablePages drops the resident pages of the calling process's
// executable's read-only mappings with no written page, and returns how
// many kB were resident in them.
func DropExecutablePages() (droppedKB uint64, err error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return 0, fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	// Read as a stream: a process that will idle for long should not keep
	// a buffer the size of its smaps (tens of kB) as garbage.
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	regions, err := ParseSmaps(f)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("/proc/self/smaps: %w", err)
	}
	dev := fmt.Sprintf("%02x:%02x", unix.Major(st.Dev), unix.Minor(st.Dev))
	for _, r := range Droppable(regions, exe, dev, st.Ino) {
		// A raw syscall: the range is ours but not a Go slice.
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(r.Start), uintptr(r.End-r.Start), unix.MADV_DONTNEED); e != 0 {
			return droppedKB, fmt.Errorf("madvise %x-%x: %w", r.Start, r.End, e)
		}
		droppedKB += r.Rss
	}
	return droppedKB, nil
}

// Droppable returns the regions of the executable that are not writable
// and hold no written page. The executable's regions are those of the file
// dev:inode or, where smaps names the file by another device and inode
// than stat does (seen in the VM guests, whose binaries are in the
// initramfs), of the path exe.
func Droppable(regions []Region, exe, dev string, inode uint64) []Region {
	var out []Region
	for _, r := range regions {
		ours := (r.Inode == inode && r.Dev == dev) || (r.Inode != 0 && r.Path != "" && r.Path == exe)
		if !ours || len(r.Perms) < 2 || r.Perms[1] == 'w' || r.Anonymous != 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// ParseSmaps reads /proc/PID/smaps: each mapping's header line
//
//	00400000-005a8000 r-xp 00000000 fd:01 1234  /path
//
// and of its fields Rss and Anonymous.
func ParseSmaps(r io.Reader) ([]Region, error) {
	var out []Region
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), 64*1024)
	for sc.Scan() {
		line := sc.Bytes()
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f[0]) > 0 && f[0][len(f[0])-1] == ':' {
			// "Name:  value kB"; a few fields (VmFlags, THPeligible) are not kB
			if len(out) == 0 || len(f) < 2 {
				continue
			}
			r := &out[len(out)-1]
			switch string(f[0]) {
			case "Rss:":
				r.Rss, _ = strconv.ParseUint(string(f[1]), 10, 64)
			case "Anonymous:":
				v, err := strconv.ParseUint(string(f[1]), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("bad Anonymous line %q", line)
				}
				r.Anonymous = v
			}
			continue
		}
		if len(f) < 5 {
			return nil, fmt.Errorf("bad mapping line %q", line)
		}
		lo, hi, ok := bytes.Cut(f[0], []byte{'-'})
		if !ok {
			return nil, fmt.Errorf("bad address range in %q", line)
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		ino, err3 := strconv.ParseUint(string(f[4]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || end < start {
			return nil, fmt.Errorf("bad mapping line %q", line)
		}
		// Anonymous is unknown until its line: assume written, so that a
		// region whose smaps lacks the field is never dropped.
		out = append(out, Region{Start: start, End: end, Perms: string(f[1]), Dev: string(f[3]), Inode: ino,
			Path: afterFields(line, 5), Anonymous: ^uint64(0)})
	}
	return out, sc.Err()
}

// afterFields returns what follows the first n space-separated fields of
// line, trimmed: the path of a mapping line, which may hold spaces.
func afterFields(line []byte, n int) string {
	i := 0
	for ; n > 0; n-- {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		for i < len(line) && line[i] != ' ' {
			i++
		}
	}
	return string(bytes.TrimSpace(line[i:]))
}
