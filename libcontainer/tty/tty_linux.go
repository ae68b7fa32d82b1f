package tty

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/hullrt/hull/libcontainer/internal/sigcatch"
	"golang.org/x/sys/unix"
)

// ConsolePair is used by a foreground run (and exec) with a terminal but no
// --console-socket: the init sends the pty master to our end, and hull
// relays between its own stdio and the pty.
func ConsolePair() (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("console socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console-ours"), os.NewFile(uintptr(fds[1]), "console-theirs"), nil
}

// Relay copies between hull's stdio and the pty master. If stdin is a
// terminal it is put in raw mode (restored by stop) and its window size
// follows SIGWINCH.
type Relay struct {
	master   *os.File
	saved    *unix.Termios
	winch    chan os.Signal
	outDone  chan struct{}
	stopOnce sync.Once
}

func StartRelay(master *os.File) *Relay {
	r := &Relay{master: master, outDone: make(chan struct{})}
	// The container's output reaches hull's stdout as it was written:
	// no "\r" added before each "\n" (runc clears ONLCR on the pty it
	// receives too). Failing that, the output only gets the "\r"s.
	clearONLCR(int(master.Fd()))
	in := int(os.Stdin.Fd())
	if t, err := unix.IoctlGetTermios(in, unix.TCGETS); err == nil {
		saved := *t
		r.saved = &saved
		raw := *t
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(in, unix.TCSETS, &raw)
		r.resize()
		r.winch = make(chan os.Signal, 4)
		// Through sigcatch, which run's and exec's forwarding uses too
		// (os/signal's Notify has no effect on a signal it holds).
		sigcatch.Notify(r.winch, unix.SIGWINCH)
		go func() {
			for range r.winch {
				r.resize()
			}
		}()
	}
	go io.Copy(master, os.Stdin)
	go func() {
		io.Copy(os.Stdout, master)
		close(r.outDone)
	}()
	return r
}

func (r *Relay) resize() {
	if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// stop waits for the output to drain (the pty reports EIO once every
// slave is closed), then restores the terminal.
func (r *Relay) Stop() {
	r.stopOnce.Do(func() {
		<-r.outDone
		if r.winch != nil {
			sigcatch.Stop(r.winch)
			close(r.winch)
		}
		if r.saved != nil {
			unix.IoctlSetTermios(int(os.Stdin.Fd()), unix.TCSETS, r.saved)
		}
		r.master.Close()
	})
}

// clearONLCR turns off the output translation of "\n" into "\r\n" of the
// pty fd belongs to (the termios is shared by the pair).
func clearONLCR(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("get pty termios: %w", err)
	}
	t.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("clear ONLCR on the pty: %w", err)
	}
	return nil
}
