// Command hull-shim watches one container for its whole life, without a
// daemon: it creates and starts the container through hull, stays its
// parent (a child subreaper), holds its stdio, and records how it ended.
//
// # Command line
//
//	hull-shim --id ID --bundle DIR [--root DIR] [--runtime PATH]
//	          [--runtime-arg A]... [--create-arg A]...
//	          [--log-file F [--log-size-max BYTES]]
//	          [--stdin] [--stdin-fd N] [--stdout-fd N] [--stderr-fd N] [--direct-stdio]
//	          [--console-socket S]
//	          [--attach-socket PATH]
//	          [--exit-file F] [--exit-command CMD [--exit-command-arg A]...]
//	          [--pid-file F] [--shim-pid-file F] [--shim-log F] [--restore]
//
// The invocation returns once the container has started (exit 0), or with
// the error that stopped its create or start (the same text hull prints, on
// stderr, exit 1; nothing is left behind). The shim itself has detached
// before that: it runs in a new session, so the death of its caller does
// not touch it. --runtime defaults to "hull" next to the shim's executable,
// then to "hull" in $PATH; --runtime-arg adds global flags (before the
// command), --create-arg flags of create. With --restore the container
// comes from a checkpoint: the shim runs `hull restore --detach` (with the
// --create-arg flags) instead of create and start, and adopts the restored
// init, which criu made restore's child, when restore exits.
//
// # Output
//
// Without a terminal the container's stdout and stderr are pipes the shim
// reads. Each stream goes to the --log-file in the CRI format, one record a
// line:
//
//	2026-01-02T15:04:05.999999999+01:00 stdout F a complete line
//	2026-01-02T15:04:05.999999999+01:00 stderr P a line cut here (no newline yet)
//
// and, raw, to --stdout-fd/--stderr-fd when given. With --direct-stdio the
// container gets the --stdin-fd/--stdout-fd/--stderr-fd fds themselves
// (/dev/null for those not given), as runc run -d gives the caller's; the
// shim closes its copies once create has passed them on, and sees none of
// the container's output. With --log-size-max the
// log is rotated before it would grow past that many bytes: the current log
// becomes F.1 (replacing the previous F.1) and a new F is started. The
// container's stdin is /dev/null, a pipe fed by attach clients with --stdin,
// or the fd given by --stdin-fd.
//
// With "terminal": true in config.json the shim passes create a console
// socket of its own, receives the pty master, and logs what the terminal
// prints as stdout; attach clients type into the terminal. --console-socket
// instead hands the pty to the caller's socket (then the shim holds none).
//
// # Attach protocol
//
// --attach-socket PATH makes two unix stream sockets:
//
//   - PATH: each connection gets the container's output (stdout and stderr
//     interleaved, raw bytes) from the moment it connected on; what the
//     client writes goes to the container's stdin (the pty, or the --stdin
//     pipe; it is dropped otherwise). A client that does not keep up (about
//     256 reads behind) is disconnected rather than slowing the container.
//     At exit every client reads EOF once the output is drained.
//   - PATH.ctl: line commands, each answered by "ok\n" or "error TEXT\n":
//     "resize ROWS COLS" sets the pty's window size, "close-stdin" closes the
//     container's stdin pipe (the container reads EOF), "reopen-log" reopens
//     --log-file (after an outside rotation).
//
// # Signals
//
// Every signal the shim gets (SIGTERM, SIGINT, SIGHUP, SIGUSR1, ...) is
// forwarded to the container's init, except SIGCHLD, SIGPIPE and SIGURG,
// which are the shim's own. --shim-pid-file tells the shim's pid.
//
// # Exit
//
// When the init exits the shim reaps it (and every orphan), waits for the
// output to drain (at most 2s after the exit) and ends the attach clients,
// writes the code to --exit-file (atomically), and records the status under
// the container's lock in its state.json ("exit": code, 128+N for a death
// by signal N, whether the container's memory cgroup saw an OOM kill, the
// time), where `hull state` and `hull wait` read it. While it watches, it
// holds an exclusive flock on shim.lock in the state directory, released
// right after the record: `hull wait` sleeps on it, so when wait returns
// the log, the exit file and the record are all written. It then runs
// --exit-command (which may itself call `hull wait`), reaps what exited
// meanwhile, and exits. A second shim for the same id fails as create does
// ("already exists"). If the shim is killed the container goes on; `hull
// wait` then reports the exit status as unknown, `hull delete` works as
// ever.
package main

import (
	"os"

	"github.com/hullrt/hull/cmd/hull-shim/internal/shim"
	_ "github.com/hullrt/hull/internal/mainstack" // its init runs first: see its doc
)

func main() { os.Exit(shim.Main(os.Args[1:])) }
