package idlemem

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// A piece of a real smaps (hull-shim, kernel 6.18), with a path holding a
// space and a text page written by a debugger's breakpoint added.
const sampleSmaps = `00400000-005aa000 r-xp 00000000 fe:00 1832       /usr/local/sbin/hull-shim
Size:               1704 kB
Rss:                1000 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
005aa000-007a8000 r--p 001aa000 fe:00 1832       /usr/local/sbin/hull-shim
Size:               2040 kB
Rss:                 320 kB
Anonymous:             0 kB
THPeligible:    0
VmFlags: rd mr mw me
007a8000-007b9000 rw-p 003a8000 fe:00 1832       /usr/local/sbin/hull-shim
Size:                 68 kB
Rss:                  68 kB
Anonymous:            32 kB
007b9000-007f0000 rw-p 00000000 00:00 0 
Size:                220 kB
Rss:                  92 kB
Anonymous:            92 kB
7f0000000000-7f0000010000 r-xp 00000000 fe:00 1832       /usr/local/sbin/hull-shim
Rss:                  64 kB
Anonymous:             4 kB
7f0000010000-7f0000020000 r--p 00000000 fe:00 99         /opt/a dir/lib.so
Rss:                  16 kB
Anonymous:             0 kB
7f0000020000-7f0000030000 r--p 00000000 00:2f 77         /usr/local/sbin/hull-shim
Rss:                   8 kB
Anonymous:             0 kB
7f0000030000-7f0000040000 r--p 00000000 fe:00 1832       /usr/local/sbin/hull-shim
Rss:                   8 kB
7ffc6f9fb000-7ffc6fa1c000 rw-p 00000000 00:00 0                          [stack]
Rss:                  20 kB
Anonymous:            20 kB
`

func TestParseSmaps(t *testing.T) {
	rs, err := ParseSmaps(strings.NewReader(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 9 {
		t.Fatalf("got %d regions, want 9: %+v", len(rs), rs)
	}
	want := Region{Start: 0x400000, End: 0x5aa000, Perms: "r-xp", Dev: "fe:00", Inode: 1832, Path: "/usr/local/sbin/hull-shim", Anonymous: 0, Rss: 1000}
	if rs[0] != want {
		t.Errorf("first region %+v, want %+v", rs[0], want)
	}
	if rs[5].Path != "/opt/a dir/lib.so" {
		t.Errorf("path with a space: %q", rs[5].Path)
	}
	if rs[3].Path != "" || rs[8].Path != "[stack]" {
		t.Errorf("anonymous paths %q and %q, want \"\" and [stack]", rs[3].Path, rs[8].Path)
	}
	if rs[7].Anonymous != ^uint64(0) {
		t.Errorf("a region without an Anonymous line has Anonymous %d, want the all-ones \"unknown\"", rs[7].Anonymous)
	}
}

func TestDroppable(t *testing.T) {
	rs, err := ParseSmaps(strings.NewReader(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	got := Droppable(rs, "/usr/local/sbin/hull-shim", "fe:00", 1832)
	// text, rodata, and the same path on another device (as the VM
	// guests' initramfs shows it); not: the writable data, the text page a debugger
	// wrote, another file, the region whose Anonymous is unknown.
	var starts []string
	for _, r := range got {
		starts = append(starts, strconv.FormatUint(r.Start, 16))
	}
	if strings.Join(starts, " ") != "400000 5aa000 7f0000020000" {
		t.Errorf("droppable regions start at %v, want 400000 5aa000 7f0000020000", starts)
	}
}

func TestParseSmapsErrors(t *testing.T) {
	for _, in := range []string{
		"00400000 r-xp 00000000 fe:00 1832 /x\n",          // no range
		"zz-005aa000 r-xp 00000000 fe:00 1832 /x\n",       // bad hex
		"005aa000-00400000 r-xp 00000000 fe:00 1832 /x\n", // end before start
		"00400000-005aa000 r-xp 00000000 fe:00\n",         // no inode
		"00400000-005aa000 r-xp 00000000 fe:00 1 /x\nAnonymous: many kB\n",
	} {
		if _, err := ParseSmaps(strings.NewReader(in)); err == nil {
			t.Errorf("ParseSmaps(%q) succeeded, want an error", in)
		}
	}
}

// The test binary drops its own pages: its file-backed RSS falls, and it
// goes on running (the pages come back from the page cache as it does).
func TestDropExecutablePages(t *testing.T) {
	before := rssFile(t)
	kb, err := DropExecutablePages()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if kb == 0 {
		t.Fatalf("nothing dropped (RssFile %d kB before)", before)
	}
	// What runs between the drop and the read faults some back in; most
	// stays out.
	if after > before/2 {
		t.Errorf("RssFile %d kB before, %d kB after dropping %d kB: want at most half", before, after, kb)
	}
	t.Logf("RssFile %d kB -> %d kB (%d kB dropped)", before, after, kb)
}

func rssFile(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
