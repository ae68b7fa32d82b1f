package process

import (
	"os"
	"testing"

	"github.com/hullrt/hull/libcontainer/cgroups"
	"github.com/hullrt/hull/libcontainer/internal/proto"
	"github.com/hullrt/hull/libcontainer/userns"
	"golang.org/x/sys/unix"
)

// The clone's decisions, from the config alone: which of the two ways
// into the namespaces, and which ways into the cgroup.
func TestPlanClone(t *testing.T) {
	v2 := &cgroups.Join{FD: 5}
	v1 := &cgroups.Join{FD: -1, Tasks: []*os.File{os.Stdin}}
	hybrid := &cgroups.Join{FD: 5, Tasks: []*os.File{os.Stdin}}
	for _, c := range []struct {
		name  string
		flags uintptr
		joins int
		j     *cgroups.Join
		maps  userns.Plan
		want  clonePlan
		in    bool // in its cgroup after a clone that used CLONE_INTO_CGROUP
	}{
		{"new namespaces by Go's clone", unix.CLONE_NEWPID | unix.CLONE_NEWNS, 0, v2, userns.Plan{},
			clonePlan{cloneFlags: unix.CLONE_NEWPID | unix.CLONE_NEWNS, intoCgroup: true}, true},
		{"cgroup namespace made by the init", unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP, 0, nil, userns.Plan{},
			clonePlan{cloneFlags: unix.CLONE_NEWNS, newCgroupNS: true}, false},
		{"a joined namespace goes through preinit.c", unix.CLONE_NEWNS, 1, v1, userns.Plan{},
			clonePlan{nsenter: true, tasksInC: true}, true},
		{"a time namespace goes through preinit.c", unix.CLONE_NEWTIME, 0, hybrid, userns.Plan{},
			clonePlan{nsenter: true, tasksInC: true, intoCgroup: true}, true},
		{"v1 tasks not written in C by a process cloned into a new user ns", unix.CLONE_NEWUSER, 0, hybrid, userns.Plan{},
			clonePlan{cloneFlags: unix.CLONE_NEWUSER, newUser: true, intoCgroup: true}, false},
		{"a new user ns through preinit.c writes the tasks first", unix.CLONE_NEWUSER, 1, v1, userns.Plan{},
			clonePlan{nsenter: true, tasksInC: true}, true},
		{"a user's subordinate ids: maps by newuidmap, through preinit.c", unix.CLONE_NEWUSER, 0, nil, userns.Plan{UIDHelper: true},
			clonePlan{nsenter: true}, false},
		{"a user's own ids: Go's clone, setgroups denied", unix.CLONE_NEWUSER, 0, nil, userns.Plan{SetgroupsDeny: true},
			clonePlan{cloneFlags: unix.CLONE_NEWUSER, newUser: true, setgroupsDeny: true}, false},
	} {
		got := planClone(c.flags, c.joins, c.j, c.maps)
		if got != c.want {
			t.Errorf("%s: planClone = %+v, want %+v", c.name, got, c.want)
		}
		if in := got.inCgroup(c.j); in != c.in {
			t.Errorf("%s: inCgroup = %v, want %v", c.name, in, c.in)
		}
	}
	// A kernel without CLONE_INTO_CGROUP: the retry clones plainly, and
	// the caller must Apply.
	pl := planClone(0, 0, v2, userns.Plan{})
	pl.intoCgroup = false
	if pl.inCgroup(v2) {
		t.Error("inCgroup after a plain clone with a cgroup2 directory: true, want false")
	}
}

// The exchange with an init that rootfs.c sets up, the init's side
// played here over the socket: preinit.c's error (a v1 cgroup join that
// failed) is the init's error, as in serveUntilReady; a fallback goes on
// to the config; ready ends it.
func TestSetupInC(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   []*proto.Message
		wantDone bool
		wantErr  string
	}{
		{"preinit's error", []*proto.Message{{Type: proto.MsgError, Error: "join cgroup /sys/fs/cgroup/x/tasks: permission denied"}},
			false, "error during container init: join cgroup /sys/fs/cgroup/x/tasks: permission denied"},
		{"fallback", []*proto.Message{{Type: proto.MsgRootfsFallback, Error: "mount on /x: no such device"}}, false, ""},
		{"undone, then fallback", []*proto.Message{{Type: proto.MsgRootfsDone}, {Type: proto.MsgRootfsFallback}}, false, ""},
		{"ready", []*proto.Message{{Type: proto.MsgRootfsDone}, {Type: proto.MsgReady}}, true, ""},
	} {
		parent, child, err := proto.NewPair()
		if err != nil {
			t.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var plans int
		c := &Child{Pid: 1, sock: parent, conn: proto.Conn{FD: int(parent.Fd())}, startPlan: w,
			b: &Bootstrap{StartPlan: func(int) []byte {
				plans++
				if tc.wantDone {
					return []byte("plan")
				}
				return nil
			}}}
		go func() {
			cc := proto.Conn{FD: int(child.Fd())}
			if m, err := cc.Recv(); err != nil || m.Type != proto.MsgRootfsGo {
				t.Errorf("%s: first message %v, %v; want rootfs-go", tc.name, m, err)
			}
			for _, m := range tc.answer {
				cc.Send(m)
				if m.Type == proto.MsgRootfsDone {
					want := proto.MsgRootfsUndo
					if tc.wantDone {
						want = proto.MsgPlanWritten
					}
					if got, err := cc.Recv(); err != nil || got.Type != want {
						t.Errorf("%s: answer to rootfs-done %v, %v; want %s", tc.name, got, err, want)
					}
				}
			}
		}()
		done, err := c.setupInC()
		if done != tc.wantDone || (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
			t.Errorf("%s: setupInC = %v, %v; want %v, %q", tc.name, done, err, tc.wantDone, tc.wantErr)
		}
		if tc.wantDone {
			b := make([]byte, 16)
			if n, _ := r.Read(b); string(b[:n]) != "plan" {
				t.Errorf("%s: the start plan pipe holds %q", tc.name, b[:n])
			}
		}
		if c.startPlan != nil {
			t.Errorf("%s: the start plan pipe's write end is still held", tc.name)
		}
		parent.Close()
		child.Close()
		r.Close()
	}
}
