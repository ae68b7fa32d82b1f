package shim

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

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
// On cgroup2 it also reads the count whenever memory.events or
// cgroup.events changes, while the cgroup is still there: under the
// systemd driver the scope, with its cgroup, goes as soon as its last
// process is gone, before the shim has reaped the OOM-killed init. The
// highest count seen that way stands in for a read that finds no cgroup.
//
// That read can still lose the race with systemd's removal of the scope
// (conmon's and containerd's shims lose it too: containerd's CI skips the
// OOMKilled test under systemd). So when the count cannot be read after
// the exit and none was seen, the kernel's log decides: the OOM killer
// logs "...out of memory: Killed process PID (COMM)" for every victim,
// unthrottled, as it kills; the shim reads /dev/kmsg from where it was
// when the watch began (root may; a user where dmesg_restrict is 0) and
// looks for the init's pid.
type oomWatch struct {
	cg   cgroups.Manager
	base uint64

	mu   sync.Mutex
	seen uint64 // the highest count read since the start

	stopFd     int // eventfd that ends the watch; -1 without one
	done, stop chan struct{}

	// kmsg is /dev/kmsg, opened at its end when the watch began (-1:
	// none); pid the init's pid, as the kernel logs it.
	kmsg, pid int
}

// watchOOM starts a watch on the container's cgroup; nil if its state
// names none or the count cannot be read.
func (s *shim) watchOOM() *oomWatch {
	st, err := store.Store{Root: s.o.root}.Load(s.o.id)
	if err != nil || st.Cgroup == nil {
		return nil
	}
	w := newOOMWatch(cgroups.Load(st.Cgroup))
	if w != nil {
		w.kmsg, w.pid = openKmsg(), s.pid
	}
	return w
}

func newOOMWatch(cg cgroups.Manager) *oomWatch {
	w := &oomWatch{cg: cg, stopFd: -1, kmsg: -1}
	// The watch first: a change between the first read and the watch
	// would otherwise go unseen.
	if d := cg.Path(""); d != "" {
		w.watchEvents(d)
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

// watchEvents reads the oom_kill count of dir's memory.events whenever
// the kernel says memory.events or cgroup.events changed, until the
// cgroup is gone or close.
//
// The files are polled (epoll, EPOLLPRI): a cgroup file's poll wakes as
// the change happens, while inotify, which systemd watches cgroup.events
// with, is told from a workqueue afterwards. So the count is read when
// the last process leaves (cgroup.events: populated 0) before systemd
// knows the scope is empty. Where the files cannot be polled (not a
// cgroup file system) inotify stands in.
//
// The kernel tells a change of a file at most every 20 ms (one within 20
// ms of the last is told when that time is up), and memory.events
// changes often right before an OOM kill (max, oom): after each wake the
// count is read every 2 ms for 25 ms, so that an oom_kill counted
// meanwhile is read at once.
func (w *oomWatch) watchEvents(dir string) {
	events := filepath.Join(dir, "memory.events")
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return
	}
	fds := []int{ep}
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	add := func(fd int, ev uint32) bool {
		return unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)}) == nil
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil || !add(stop, unix.EPOLLIN) {
		if err == nil {
			unix.Close(stop)
		}
		closeAll()
		return
	}
	var polled []int // kernfs files, read again to rearm their poll
	for _, name := range []string{"memory.events", "cgroup.events"} {
		fd, err := unix.Open(filepath.Join(dir, name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		fds = append(fds, fd)
		if add(fd, unix.EPOLLPRI) {
			polled = append(polled, fd)
		}
	}
	inFd := -1
	if len(polled) == 0 {
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		if err == nil {
			fds = append(fds, fd)
			if _, err := unix.InotifyAddWatch(fd, events, unix.IN_MODIFY); err == nil && add(fd, unix.EPOLLIN) {
				inFd = fd
			}
		}
		if inFd < 0 {
			unix.Close(stop)
			closeAll()
			return
		}
	}
	w.stopFd, w.done, w.stop = stop, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.done)
		defer closeAll()
		evs := make([]unix.EpollEvent, 8)
		buf := make([]byte, 4096)
		for {
			n, err := unix.EpollWait(ep, evs, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			for _, ev := range evs[:n] {
				if int(ev.Fd) == stop {
					return
				}
			}
			// Reading a polled file rearms its poll; a removed
			// cgroup's files fail (ENODEV).
			for _, fd := range polled {
				if _, err := unix.Pread(fd, buf, 0); err != nil {
					return
				}
			}
			if inFd >= 0 {
				for {
					if _, err := unix.Read(inFd, buf); err != nil {
						break
					}
				}
			}
			for end := time.Now().Add(25 * time.Millisecond); ; {
				c, ok, err := readOOMKill(events)
				if err != nil {
					return // the cgroup is gone
				}
				if ok {
					w.note(c)
				}
				if time.Now().After(end) {
					break
				}
				select {
				case <-w.stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
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

// close ends the watch and waits for it.
func (w *oomWatch) close() {
	if w.stopFd < 0 {
		return
	}
	close(w.stop)
	unix.Write(w.stopFd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	<-w.done
	unix.Close(w.stopFd)
	w.stopFd = -1
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
	if w.kmsg >= 0 {
		defer unix.Close(w.kmsg)
	}
	if err != nil && logf != nil {
		logf("OOM kill count after the exit: %v; %d at the start, %d read from memory.events since", err, w.base, w.seen)
	}
	if err != nil && w.seen <= w.base && w.kmsg >= 0 && kmsgOOMKilled(w.kmsg, w.pid) {
		if logf != nil {
			logf("the kernel's log says the OOM killer killed the init (pid %d)", w.pid)
		}
		return true
	}
	return w.seen > w.base
}

// openKmsg opens the kernel's log at its end; -1 if it cannot (a user
// where dmesg_restrict is set).
func openKmsg() int {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return -1
	}
	return fd
}

// kmsgOOMKilled reads the records of the kernel's log fd has not read yet
// (/dev/kmsg gives one "PRIO,SEQ,USEC,FLAGS;MESSAGE" record a read) and
// tells whether one says the OOM killer killed pid: the memory cgroup's
// ("Memory cgroup out of memory: Killed process PID (COMM) ...") or the
// system's ("Out of memory: ...").
func kmsgOOMKilled(fd, pid int) bool {
	want := "ut of memory: Killed process " + strconv.Itoa(pid) + " ("
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case err == unix.EINTR, err == unix.EPIPE:
			// EPIPE: records were overwritten before they were
			// read; the read goes on with the oldest left.
			continue
		case err != nil || n <= 0:
			return false // EAGAIN: no more records
		}
		for _, rec := range strings.Split(string(buf[:n]), "\n") {
			if i := strings.IndexByte(rec, ';'); i >= 0 && strings.Contains(rec[i+1:], want) {
				return true
			}
		}
	}
}
