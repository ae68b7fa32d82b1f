package cgroups

// The systemd driver's D-Bus side: one connection per process to the
// system's systemd (root) or to the user's own instance (rootless, as
// runc: the session bus), the retry when systemd re-executed under it,
// and the waits on its jobs, each bounded by sdTimeout.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// bus is which systemd a connection is to.
type bus int

const (
	systemBus bus = iota // the system's systemd (PID 1)
	userBus              // the user's systemd instance (rootless)
)

func busOf(user bool) bus {
	if user {
		return userBus
	}
	return systemBus
}

var (
	sdMu   sync.Mutex
	sdC    [2]*sd.Conn
	sdVerN = [2]int{-2, -2}
)

// sdConn is the process's connection to systemd: for the system's, the
// system bus, or systemd's private socket when there is no bus (as
// root); for the user's, the session bus (userBusAddress).
func sdConn(b bus) (*sd.Conn, error) {
	sdMu.Lock()
	defer sdMu.Unlock()
	if c := sdC[b]; c != nil && c.Connected() {
		return c, nil
	}
	where := "system bus, /run/systemd/private"
	dial := func() (*sd.Conn, error) { return sd.NewWithContext(context.Background()) }
	if b == userBus {
		addr, err := userBusAddress()
		if err != nil {
			return nil, fmt.Errorf("systemd cgroup driver: %w", err)
		}
		uid, err := busUID()
		if err != nil {
			return nil, fmt.Errorf("systemd cgroup driver: %w", err)
		}
		where = "user bus " + addr
		dial = func() (*sd.Conn, error) { return dialUserBus(addr, uid) }
	}
	// The context given to the dial stays the connection's (godbus
	// closes the connection when it ends): the dial's own bound is a
	// timer here.
	type dialed struct {
		c   *sd.Conn
		err error
	}
	ch := make(chan dialed, 1)
	go func() {
		c, err := dial()
		ch <- dialed{c, err}
	}()
	t := time.NewTimer(sdTimeout)
	defer t.Stop()
	var d dialed
	select {
	case d = <-ch:
	case <-t.C:
		d.err = fmt.Errorf("no answer in %s", sdTimeout)
	}
	if d.err != nil {
		return nil, fmt.Errorf("systemd cgroup driver: connect to systemd over D-Bus (%s): %w", where, d.err)
	}
	sdC[b] = d.c
	return d.c, nil
}

// userBusAddress is runc's: $DBUS_SESSION_BUS_ADDRESS, else
// $XDG_RUNTIME_DIR/bus if it exists.
func userBusAddress() (string, error) {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a, nil
	}
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		p := filepath.Join(x, "bus")
		if _, err := os.Stat(p); err == nil {
			return "unix:path=" + dbus.EscapeBusAddressValue(p), nil
		}
	}
	return "", errors.New("could not detect DBUS_SESSION_BUS_ADDRESS from the environment; make sure you have installed the dbus-user-session or dbus-daemon package; note you may need to re-login")
}

// busUID is the uid the bus sees us as, which the EXTERNAL
// authentication must name: ours, or in a user namespace (rootless
// podman's) the one our uid maps to outside it (/proc/self/uid_map; runc
// asks `busctl --user status` instead).
func busUID() (int, error) {
	uid := os.Getuid()
	f, err := os.Open("/proc/self/uid_map")
	if err != nil {
		return uid, nil
	}
	defer f.Close()
	out, ok, err := mapID(f, uid)
	if err != nil {
		return -1, fmt.Errorf("/proc/self/uid_map: %w", err)
	}
	if !ok {
		return -1, fmt.Errorf("uid %d is not mapped in /proc/self/uid_map", uid)
	}
	return out, nil
}

// mapID maps id through the lines "inside outside count" of an id map.
func mapID(r interface{ Read([]byte) (int, error) }, id int) (int, bool, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		var n [3]int64
		for i := range f {
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return -1, false, fmt.Errorf("bad line %q", sc.Text())
			}
			n[i] = v
		}
		if int64(id) >= n[0] && int64(id)-n[0] < n[2] {
			return int(n[1] + int64(id) - n[0]), true, nil
		}
	}
	return -1, false, sc.Err()
}

// dialUserBus connects to the session bus at addr as uid.
func dialUserBus(addr string, uid int) (*sd.Conn, error) {
	return sd.NewConnection(func() (*dbus.Conn, error) {
		c, err := dbus.Dial(addr)
		if err != nil {
			return nil, fmt.Errorf("error while dialing %q: %w", addr, err)
		}
		if err := c.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(uid))}); err != nil {
			c.Close()
			return nil, fmt.Errorf("error while authenticating connection (address=%q, UID=%d): %w", addr, uid, err)
		}
		if err := c.Hello(); err != nil {
			c.Close()
			return nil, fmt.Errorf("error while sending Hello message (address=%q, UID=%d): %w", addr, uid, err)
		}
		return c, nil
	})
}

// sdDo runs op on the connection, once more on a new connection if the
// old one was closed under it (systemd re-executed, dbus restarted).
func sdDo(b bus, op func(ctx context.Context, c *sd.Conn) error) error {
	for try := 0; ; try++ {
		c, err := sdConn(b)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), sdTimeout)
		err = op(ctx, c)
		cancel()
		if err != nil && try == 0 && (errors.Is(err, dbus.ErrClosed) || !c.Connected()) {
			sdMu.Lock()
			if sdC[b] == c {
				c.Close()
				sdC[b] = nil
			}
			sdMu.Unlock()
			continue
		}
		return err
	}
}

// managerString is a string property of the systemd manager itself.
func managerString(b bus, name string) (string, error) {
	var v string
	err := sdDo(b, func(_ context.Context, c *sd.Conn) error {
		s, err := c.GetManagerProperty(name)
		if err != nil {
			return err
		}
		if v, err = strconv.Unquote(s); err != nil {
			v = s
		}
		return nil
	})
	return v, err
}

// sdVersion is systemd's version number, -1 if unknown (then only the
// properties every version takes are sent).
func sdVersion(b bus) int {
	sdMu.Lock()
	v := sdVerN[b]
	sdMu.Unlock()
	if v != -2 {
		return v
	}
	v = -1
	if s, err := managerString(b, "Version"); err == nil {
		s = strings.TrimLeft(s, `"v`)
		if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			s = s[:i]
		}
		if n, err := strconv.Atoi(s); err == nil {
			v = n
		}
	}
	sdMu.Lock()
	sdVerN[b] = v
	sdMu.Unlock()
	return v
}

func isDbusError(err error, name string) bool {
	var de dbus.Error
	return errors.As(err, &de) && strings.Contains(de.Name, name)
}

// waitJob waits for a job's result on ch.
func waitJob(ch <-chan string, what string) (string, error) {
	t := time.NewTimer(sdTimeout)
	defer t.Stop()
	select {
	case s := <-ch:
		return s, nil
	case <-t.C:
		return "", fmt.Errorf("timed out after %s waiting for systemd to %s", sdTimeout, what)
	}
}

func resetFailed(b bus, unit string) error {
	return sdDo(b, func(ctx context.Context, c *sd.Conn) error { return c.ResetFailedUnitContext(ctx, unit) })
}
