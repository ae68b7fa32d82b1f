package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// oomWatch tells whether the OOM killer killed a process in the
// container's memory cgroup: it reads the cgroup's oom_kill counter
// (memory.events on cgroup2, memory.oom_control on v1) when the container
// starts and again when it has exited. It works with whatever cgroup the
// runtime put the init in, from the kernel's own files; a container left in
// the shim's own cgroup (no cgroup of its own) is not watched, since the
// counter would also count others.
type oomWatch struct {
	file string
	base uint64
}

func watchOOM(pid int) *oomWatch {
	theirs := memoryCgroup("/proc/" + strconv.Itoa(pid) + "/cgroup")
	ours := memoryCgroup("/proc/self/cgroup")
	if theirs.path == "" || theirs == ours {
		return nil
	}
	dir := cgroupDir(theirs)
	if dir == "" {
		return nil
	}
	w := &oomWatch{file: filepath.Join(dir, "memory.oom_control")}
	if theirs.v2 {
		w.file = filepath.Join(dir, "memory.events")
	}
	n, ok := oomKills(w.file)
	if !ok {
		return nil
	}
	w.base = n
	return w
}

// killed reports whether the counter grew since the start.
func (w *oomWatch) killed() bool {
	if w == nil {
		return false
	}
	n, ok := oomKills(w.file)
	return ok && n > w.base
}

type cgroupRef struct {
	v2   bool
	path string
}

// memoryCgroup finds the memory cgroup in a /proc/<pid>/cgroup file: the v1
// memory hierarchy if there is one, else the cgroup2 path.
func memoryCgroup(file string) cgroupRef {
	b, err := os.ReadFile(file)
	if err != nil {
		return cgroupRef{}
	}
	var v2 cgroupRef
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			v2 = cgroupRef{v2: true, path: f[2]}
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "memory" {
				return cgroupRef{path: f[2]}
			}
		}
	}
	return v2
}

// cgroupDir is where cgroup c is in this mount namespace.
func cgroupDir(c cgroupRef) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		l := sc.Text()
		i := strings.Index(l, " - ")
		if i < 0 {
			continue
		}
		pre, post := strings.Fields(l[:i]), strings.Fields(l[i+3:])
		if len(pre) < 5 || len(post) < 3 {
			continue
		}
		root, mnt := unescape(pre[3]), unescape(pre[4])
		switch {
		case c.v2 && post[0] == "cgroup2":
		case !c.v2 && post[0] == "cgroup" && hasOpt(post[2], "memory"):
		default:
			continue
		}
		rel, err := filepath.Rel(root, c.path)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		return filepath.Join(mnt, rel)
	}
	return ""
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// unescape undoes mountinfo's octal escapes (\040 for a space, ...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// oomKills reads the "oom_kill N" line of file.
func oomKills(file string) (uint64, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "oom_kill "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
