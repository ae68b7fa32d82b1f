// Package criu drives CRIU (criu(8)) for hull's checkpoint and restore: the
// RPC of `criu swrk` (go-criu's protobuf messages over a SOCK_SEQPACKET
// socketpair, as runc and go-criu do), the version and feature checks, the
// option mapping of runc's flags, and the reading of criu's log for the
// reason of a failure. It knows nothing of containers: libcontainer fills
// the request (mounts, namespaces, cgroups) and handles the notifications.
package criu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	rpc "github.com/checkpoint-restore/go-criu/v8/rpc"
	"golang.org/x/sys/unix"
)

// MinVersion is the oldest criu hull drives, as runc: 3.0.0, the first
// with the VERSION request.
const MinVersion = 30000

// Versions needed by particular features (runc's numbers).
const (
	VersionExtNetNS   = 31100 // external network namespace
	VersionCgroup2Frz = 31400 // cgroup v2 freezer; time namespace
	VersionExtPidNS   = 31500 // external pid namespace; lazy-pages status notification
	VersionLSM        = 31600 // --lsm-profile, --lsm-mount-context
)

// DescriptorsFile is written to the image directory at checkpoint: the
// targets of the init's fds 0, 1 and 2, so that restore can give the
// restored init the caller's pipes in their place.
const DescriptorsFile = "descriptors.json"

// PageServer is --page-server ADDRESS:PORT.
type PageServer struct {
	Address string
	Port    int32
}

// Opts are runc's checkpoint and restore flags.
type Opts struct {
	ImagesDirectory         string
	WorkDirectory           string
	ParentImage             string
	LeaveRunning            bool
	TCPEstablished          bool
	TCPSkipInFlight         bool
	LinkRemap               bool
	ExternalUnixConnections bool
	ShellJob                bool
	FileLocks               bool
	PreDump                 bool
	PageServer              PageServer
	EmptyNs                 uint32
	AutoDedup               bool
	LazyPages               bool
	StatusFd                int
	LsmProfile              string
	LsmMountContext         string
	// ManageCgroupsMode is soft, full, strict, ignore or "" (criu's
	// default, soft).
	ManageCgroupsMode string
}

// CgMode maps --manage-cgroups-mode to criu's enum.
func CgMode(mode string) (rpc.CriuCgMode, error) {
	switch mode {
	case "":
		return rpc.CriuCgMode_DEFAULT, nil
	case "soft":
		return rpc.CriuCgMode_SOFT, nil
	case "full":
		return rpc.CriuCgMode_FULL, nil
	case "strict":
		return rpc.CriuCgMode_STRICT, nil
	case "ignore":
		return rpc.CriuCgMode_IGNORE, nil
	}
	// runc's words.
	return 0, fmt.Errorf("invalid manage-cgroups-mode value %q (soft, full, strict or ignore)", mode)
}

// FormatVersion writes criu's version number (major*10000 + minor*100 +
// sublevel) as criu --version does: 31701 is 3.17.1.
func FormatVersion(v int) string {
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

// Client runs one criu binary.
type Client struct {
	// Path is the criu binary (hull's hidden --criu flag; "criu" by
	// default, looked up in $PATH).
	Path    string
	version int
}

// Version asks criu for its version (once).
func (c *Client) Version() (int, error) {
	if c.version != 0 {
		return c.version, nil
	}
	t := rpc.CriuReqType_VERSION
	resp, err := c.Run(&Call{Req: &rpc.CriuReq{Type: &t}})
	if err != nil {
		return 0, err
	}
	v := resp.GetVersion()
	if v == nil {
		return 0, errors.New("criu sent no version")
	}
	c.version = int(v.GetMajorNumber())*10000 + int(v.GetMinorNumber())*100 + int(v.GetSublevel())
	return c.version, nil
}

// Check fails unless criu is there and at least version min; the error
// names the version needed and what was found.
func (c *Client) Check(min int, what string) error {
	v, err := c.Version()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("CRIU version check failed: %s needs criu %s or newer, and there is none (%s): %w", what, FormatVersion(min), c.path(), err)
		}
		return fmt.Errorf("CRIU version check failed: %w", err)
	}
	if v < min {
		// runc's words, with the versions written out.
		return fmt.Errorf("CRIU version %d must be %d or higher: %s needs criu %s or newer, %s is %s", v, min, what, FormatVersion(min), c.path(), FormatVersion(v))
	}
	return nil
}

// AtLeast tells whether criu is there and at least version min.
func (c *Client) AtLeast(min int) bool {
	v, err := c.Version()
	return err == nil && v >= min
}

// Features asks criu which of want it has, and fails naming those it
// lacks (runc's words: criu is missing features).
func (c *Client) Features(want *rpc.CriuFeatures) error {
	t := rpc.CriuReqType_FEATURE_CHECK
	resp, err := c.Run(&Call{Req: &rpc.CriuReq{Type: &t, Features: want}})
	if err != nil {
		return fmt.Errorf("CRIU feature check failed: %w", err)
	}
	got := resp.GetFeatures()
	var missing []string
	if want.GetMemTrack() && !got.GetMemTrack() {
		missing = append(missing, "MemTrack")
	}
	if want.GetLazyPages() && !got.GetLazyPages() {
		missing = append(missing, "LazyPages")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %v", ErrMissingFeatures, missing)
	}
	return nil
}

// ErrMissingFeatures is runc's error for a criu without a needed feature.
var ErrMissingFeatures = errors.New("criu is missing features")

func (c *Client) path() string {
	if c.Path == "" {
		return "criu"
	}
	return c.Path
}

// Call is one swrk session: a request, the notifications criu sends while
// it works, and its final answer.
type Call struct {
	Req *rpc.CriuReq
	// Stdio of criu (and so of the tasks it restores); nil: /dev/null.
	Stdio [3]*os.File
	// Extra files become criu's fds 4, 5, ... (3 is the RPC socket).
	Extra []*os.File
	// Started, if set, runs once criu runs, before the request is sent
	// (restore puts criu into the container's cgroups here).
	Started func(pid int) error
	// Notify handles each notification (with NotifyScripts); fds are
	// those the message carried, closed after Notify returns.
	Notify func(n *rpc.CriuNotify, fds []*os.File) error
}

// Run starts `criu swrk 3`, sends the request and serves the
// notifications until the answer. It never hangs on a dead criu: our copy
// of criu's socket end is closed once criu has it, so its death is EOF. A
// failed answer is an error of type *Failed.
func (c *Client) Run(call *Call) (*rpc.CriuResp, error) {
	fds, err := unix.Socketpair(unix.AF_LOCAL, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu socketpair: %w", err)
	}
	client := os.NewFile(uintptr(fds[0]), "criu-client")
	server := os.NewFile(uintptr(fds[1]), "criu-server")
	conn, err := net.FileConn(client)
	client.Close()
	if err != nil {
		server.Close()
		return nil, err
	}
	uc := conn.(*net.UnixConn)
	defer uc.Close()

	cmd := exec.Command(c.path(), "swrk", "3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = call.Stdio[0], call.Stdio[1], call.Stdio[2]
	cmd.ExtraFiles = append([]*os.File{server}, call.Extra...)
	err = cmd.Start()
	server.Close()
	if err != nil {
		return nil, err
	}
	proc := cmd.Process
	waited := false
	defer func() {
		if !waited {
			uc.Close()
			proc.Wait()
		}
	}()
	if call.Started != nil {
		if err := call.Started(proc.Pid); err != nil {
			return nil, err
		}
	}
	req := call.Req
	data, err := req.MarshalVT()
	if err != nil {
		return nil, err
	}
	if _, err := uc.Write(data); err != nil {
		return nil, fmt.Errorf("send the request to criu: %w", err)
	}
	buf := make([]byte, 10*4096)
	oob := make([]byte, 4096)
	var resp *rpc.CriuResp
	for {
		n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read criu's answer: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("criu (pid %d) ended without an answer: %s", proc.Pid, c.exitOf(proc, &waited))
		}
		if n == len(buf) {
			return nil, errors.New("criu's answer is too large")
		}
		r := new(rpc.CriuResp)
		if err := r.UnmarshalVT(buf[:n]); err != nil {
			return nil, fmt.Errorf("criu's answer: %w", err)
		}
		files := oobFiles(oob[:oobn])
		if !r.GetSuccess() {
			closeAll(files)
			return r, &Failed{Type: r.GetType(), Errno: int(r.GetCrErrno()), Msg: r.GetCrErrmsg()}
		}
		if r.GetType() != rpc.CriuReqType_NOTIFY {
			closeAll(files)
			if r.GetType() != req.GetType() {
				return nil, fmt.Errorf("unexpected answer from criu: %s", r.GetType())
			}
			resp = r
			break
		}
		if call.Notify != nil {
			err = call.Notify(r.GetNotify(), files)
		}
		closeAll(files)
		if err != nil {
			return nil, err
		}
		t := rpc.CriuReqType_NOTIFY
		ok := true
		ack, err := (&rpc.CriuReq{Type: &t, NotifySuccess: &ok}).MarshalVT()
		if err != nil {
			return nil, err
		}
		if _, err := uc.Write(ack); err != nil {
			return nil, fmt.Errorf("answer criu's notification: %w", err)
		}
	}
	// A pre-dump criu waits for more requests: closing our end ends it.
	uc.CloseWrite()
	st, err := proc.Wait()
	waited = true
	if err != nil {
		return nil, err
	}
	if !st.Success() && req.GetType() != rpc.CriuReqType_PRE_DUMP {
		return nil, fmt.Errorf("criu failed: %s", st)
	}
	return resp, nil
}

func (c *Client) exitOf(p *os.Process, waited *bool) string {
	st, err := p.Wait()
	*waited = true
	if err != nil {
		return err.Error()
	}
	return st.String()
}

func oobFiles(oob []byte) []*os.File {
	if len(oob) == 0 {
		return nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var files []*os.File
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			files = append(files, os.NewFile(uintptr(fd), "criu-fd"))
		}
	}
	return files
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// Failed is criu's answer to a request it could not do. Reason, when set
// by the caller from criu's log (LogReason), is what criu wrote.
type Failed struct {
	Type   rpc.CriuReqType
	Errno  int
	Msg    string
	Log    string
	Reason string
}

func (e *Failed) Error() string {
	// runc's words first ("criu failed: type DUMP errno 0"), then why.
	s := fmt.Sprintf("criu failed: type %s errno %d", e.Type, e.Errno)
	if e.Msg != "" && !strings.Contains(e.Reason, strings.TrimSpace(e.Msg)) {
		s += ": " + strings.TrimSpace(e.Msg)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Log != "" {
		s += " (log: " + e.Log + ")"
	}
	return s
}

// WithLog adds to a *Failed err the first error criu logged in dir/file,
// and quotes criu's errors (with the lines before each) as warnings, as
// runc does. Other errors are returned as they are.
func WithLog(err error, dir, file string) error {
	var f *Failed
	if !errors.As(err, &f) {
		return err
	}
	log := filepath.Join(dir, file)
	f.Log = log
	first, quoted := LogErrors(log)
	f.Reason = first
	if len(quoted) > 0 {
		slog.Warn("--- quoting " + log)
		for _, l := range quoted {
			slog.Warn(l)
		}
		slog.Warn("---")
	}
	return err
}

// LogErrors reads criu's log: the first line that says "Error", without
// its time stamp, and every such line with the five lines before it
// (numbered, "..." for a gap).
func LogErrors(path string) (first string, quoted []string) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil
	}
	defer f.Close()
	const before = 5
	var ring [before + 1]string
	var lineNo, printed int
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		lineNo++
		line := s.Text()
		ring[lineNo%len(ring)] = line
		if !bytes.Contains(s.Bytes(), []byte("Error")) {
			continue
		}
		if first == "" {
			first = stripStamp(line)
		}
		if printed != 0 && lineNo-len(ring) > printed {
			quoted = append(quoted, "...")
		}
		for n := max(lineNo-before, printed+1, 1); n <= lineNo; n++ {
			quoted = append(quoted, fmt.Sprintf("%d:%s", n, ring[n%len(ring)]))
		}
		printed = lineNo
	}
	return first, quoted
}

// stripStamp drops criu's "(00.012345) " prefix and pid prefix noise.
func stripStamp(l string) string {
	l = strings.TrimSpace(l)
	if strings.HasPrefix(l, "(") {
		if i := strings.Index(l, ") "); i > 0 {
			l = strings.TrimSpace(l[i+2:])
		}
	}
	return l
}
