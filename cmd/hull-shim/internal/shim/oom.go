package shim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/store"
	"golang.org/x/sys/unix"
)

// oomWatch tells whether the OOM killer killed a process in the
// container's memory cgroup: it reads the cgroup's OOM kill count
// (cgroups.Manager.OOMKillCount: memory.events on cgroup2,
// memory.oom_control on v1) when the container starts and again when it
// has exited. The cgroup is the one hull recorded in state.json.
//
// On cgroup2 it also reads the count each time memory.events changes
// (inotify), while the cgroup is still there: under the systemd driver
// the scope, with its cgroup, goes as soon as its last process is gone,
// which is before the shim has reaped the OOM-killed init. The last
// count seen that way stands in for a read that finds no cgroup.
type oomWatch struct {
	cg   cgroups.Manager
	base uint64

	mu         sync.Mutex
	seen       uint64 // the highest count read since the start
	events     *os.File
	done, stop chan struct{}
}

// watchOOM starts a watch on the container's cgroup; nil if its state
// names none or the count cannot be read.
func (s *shim) watchOOM() *oomWatch {
	st, err := store.Store{Root: s.o.root}.Load(s.o.id)
	if err != nil || st.Cgroup == nil {
		return nil
	}
	return newOOMWatch(cgroups.Load(st.Cgroup))
}

func newOOMWatch(cg cgroups.Manager) *oomWatch {
	w := &oomWatch{cg: cg}
	// The inotify watch first: a change between the first read and the
	// watch would otherwise go unseen.
	if d := cg.Path(""); d != "" {
		w.watchEvents(filepath.Join(d, "memory.events"))
	}
	n, err := cg.OOMKillCount()
	if err != nil {
		w.close()
		return nil
	}
	w.base = n
	w.note(n)
	return w
}

// watchEvents reads the count in path each time the kernel says it
// changed, until the watch ends (the cgroup is removed: IN_IGNORED) or
// close. The kernel tells at most every 20 ms (a change within 20 ms of
// the last one is told when that time is up), and memory.events changes
// often right before an OOM kill (max, oom): after each change the file
// is read every 2 ms for 25 ms, so that an oom_kill counted meanwhile is
// read at once, not when the cgroup may be gone already.
func (w *oomWatch) watchEvents(path string) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return
	}
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return
	}
	// Non-blocking and through os.File: the runtime's poller waits, and
	// Close wakes the reader.
	w.events, w.done, w.stop = os.NewFile(uintptr(fd), "inotify "+path), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.done)
		buf := make([]byte, 4096)
		for {
			n, err := w.events.Read(buf)
			if err != nil {
				return
			}
			gone := false
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				if ev.Mask&unix.IN_IGNORED != 0 {
					gone = true
				}
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
			for end := time.Now().Add(25 * time.Millisecond); ; {
				c, ok, err := readOOMKill(path)
				if err != nil {
					return // the cgroup is gone
				}
				if ok {
					w.note(c)
				}
				if gone || time.Now().After(end) {
					break
				}
				select {
				case <-w.stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
			if gone {
				return
			}
		}
	}()
}

// readOOMKill reads the oom_kill count of a cgroup2 memory.events file;
// ok is false if the file has none. err: the file cannot be read.
func readOOMKill(path string) (n uint64, ok bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(l, "oom_kill "); found {
			n, perr := strconv.ParseUint(v, 10, 64)
			return n, perr == nil, nil
		}
	}
	return 0, false, nil
}

func (w *oomWatch) note(n uint64) {
	w.mu.Lock()
	if n > w.seen {
		w.seen = n
	}
	w.mu.Unlock()
}

func (w *oomWatch) close() {
	if w.events != nil {
		close(w.stop)
		w.events.Close()
		<-w.done
		w.events = nil
	}
}

// killed reports whether the count grew since the start, and ends the
// watch. logf is told when the count could not be read after the exit.
func (w *oomWatch) killed(logf func(string, ...any)) bool {
	if w == nil {
		return false
	}
	n, err := w.cg.OOMKillCount()
	if err == nil {
		w.note(n)
	}
	w.close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil && logf != nil {
		logf("OOM kill count after the exit: %v; %d at the start, %d read from memory.events since", err, w.base, w.seen)
	}
	return w.seen > w.base
}
